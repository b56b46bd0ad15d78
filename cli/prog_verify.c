/* prog_verify.c — `bpfrt prog verify`: the static verifier's verdict on each program of an object. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_prog_verify(int argc, char **argv);

#define VERIFY_USAGE "usage: bpfrt prog verify FILE [name PROG | section SEC] [type TYPE] " \
		     "[ctx_size N] [-v | -vv] [-j]"
#define LOG_SIZE (16u << 20)

struct vargs {
	const char *file, *name, *section, *type;
	uint32_t ctx_size;
	unsigned verbose;
};

static int type_of(const char *name, enum bpfrt_prog_type *t)
{
	for (int i = 0; i <= BPFRT_PROG_NETFILTER; i++)
		if (!strcmp(bpfrt_prog_type_name((enum bpfrt_prog_type)i), name) ||
		    (i == 0 && !strcmp(name, "raw"))) {
			*t = (enum bpfrt_prog_type)i;
			return 0;
		}
	return -1;
}

/* Print one verdict; returns whether the program was accepted. */
static bool report(const char *name, const char *section, enum bpfrt_prog_type type, int ret,
		   const struct bpfrt_verify_opts *o, const struct bpfrt_error *err, const char *log,
		   unsigned verbose)
{
	if (cli.json) {
		json_begin_object();
		json_key("name");
		json_string(name);
		json_key("section");
		json_string(section);
		json_key("type");
		json_string(bpfrt_prog_type_name(type));
		json_key("verdict");
		json_string(ret == 0 ? "accepted" : "rejected");
		if (ret) {
			json_key("error");
			json_string(err->msg);
			json_key("insn");
			json_i64(err->insn);
		}
		json_key("insns_processed");
		json_u64(o->insns_processed);
		json_key("states");
		json_u64(o->states);
		json_key("peak_states");
		json_u64(o->peak_states);
		json_key("time_ns");
		json_u64(o->time_ns);
		json_key("peak_mem_bytes");
		json_u64(o->peak_mem_bytes);
		if (verbose) {
			json_key("log");
			json_string(log);
		}
		json_end_object();
		return ret == 0;
	}
	if (verbose && log[0])
		fputs(log, stdout);
	printf("%s (%s, %s): %s: %llu insns processed, %llu states (peak %llu), %.3f ms, "
	       "%.1f KiB peak\n", name, section, bpfrt_prog_type_name(type),
	       ret == 0 ? "accepted" : "rejected", (unsigned long long)o->insns_processed,
	       (unsigned long long)o->states, (unsigned long long)o->peak_states,
	       o->time_ns / 1e6, o->peak_mem_bytes / 1024.0);
	if (ret)
		printf("  %s\n", err->msg);
	return ret == 0;
}

/* A raw program (.s or instructions): one program of the given type. */
static int verify_raw(const struct vargs *a, enum bpfrt_prog_type type, char *log)
{
	struct bpfrt_insn *insns;
	struct bpfrt_prog *prog;
	struct bpfrt_error err;
	size_t n;

	if (cli_load_insns(a->file, &insns, &n))
		return 1;
	int ret = bpfrt_prog_new(insns, n, NULL, &prog, &err);
	free(insns);
	if (ret)
		return cli_err("%s: %s", a->file, err.msg);
	BPFRT_OPTS(bpfrt_verify_opts, o, .type = type, .ctx_size = a->ctx_size,
		   .log_level = a->verbose, .log_buf = log, .log_size = LOG_SIZE);
	ret = bpfrt_prog_verify(prog, &o, &err);
	if (cli.json)
		json_begin_array();
	bool ok = report(a->file, "-", type, ret, &o, &err, log, a->verbose);
	if (cli.json) {
		json_end_array();
		json_finish();
	}
	bpfrt_prog_free(prog);
	return ok ? 0 : 1;
}

static int verify_obj(const struct vargs *a, bool have_type, enum bpfrt_prog_type type, char *log)
{
	struct bpfrt_obj *obj;
	struct bpfrt_error err;
	unsigned done = 0, failed = 0;

	if (bpfrt_obj_open(a->file, NULL, &obj, &err))
		return cli_err("%s", err.msg);
	if (cli.json)
		json_begin_array();
	for (size_t i = 0; i < bpfrt_obj_prog_count(obj); i++) {
		struct bpfrt_obj_prog_info info;

		bpfrt_obj_prog_at(obj, i, &info);
		if ((a->name && strcmp(a->name, info.name)) ||
		    (a->section && strcmp(a->section, info.section)))
			continue;
		enum bpfrt_prog_type t = have_type ? type : info.type;
		BPFRT_OPTS(bpfrt_verify_opts, o, .type = t, .obj = obj, .prog_index = i,
			   .ctx_size = a->ctx_size, .log_level = a->verbose, .log_buf = log,
			   .log_size = LOG_SIZE);
		memset(&err, 0, sizeof(err));
		int ret = bpfrt_prog_verify(NULL, &o, &err);
		done++;
		failed += !report(info.name, info.section, t, ret, &o, &err, log, a->verbose);
	}
	if (cli.json) {
		json_end_array();
		json_finish();
	}
	bpfrt_obj_close(obj);
	if (!done)
		return cli_err("%s: no program %s %s", a->file, a->name ? "named" : "in section",
			       a->name ? a->name : a->section ? a->section : "at all");
	if (!cli.json && done > 1)
		printf("%u of %u programs accepted\n", done - failed, done);
	return failed ? 1 : 0;
}

int cmd_prog_verify(int argc, char **argv)
{
	struct vargs a = { 0 };
	enum bpfrt_prog_type type = BPFRT_PROG_UNSPEC;

	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];
		if (!strcmp(w, "-j") || !strcmp(w, "--json")) {
			cli.json = true;
		} else if (!strcmp(w, "-p") || !strcmp(w, "--pretty")) {
			cli.json = cli.pretty = true;
		} else if (!strcmp(w, "-v")) {
			a.verbose = a.verbose < 1 ? 1 : a.verbose;
		} else if (!strcmp(w, "-vv")) {
			a.verbose = 2;
		} else if (i + 1 < argc && cli_is_kw(w, "name")) {
			a.name = argv[++i];
		} else if (i + 1 < argc && cli_is_kw(w, "section")) {
			a.section = argv[++i];
		} else if (i + 1 < argc && cli_is_kw(w, "type")) {
			a.type = argv[++i];
		} else if (i + 1 < argc && cli_is_kw(w, "ctx_size")) {
			char *end;
			unsigned long v = strtoul(argv[++i], &end, 0);
			if (*end || v > UINT32_MAX)
				return cli_usage_err("ctx_size %s is not a number\n" VERIFY_USAGE,
						     argv[i]);
			a.ctx_size = (uint32_t)v;
		} else if (!a.file) {
			a.file = w;
		} else {
			return cli_usage_err("unexpected \"%s\"\n" VERIFY_USAGE, w);
		}
	}
	if (!a.file)
		return cli_usage_err(VERIFY_USAGE);
	if (a.type && type_of(a.type, &type))
		return cli_usage_err("unknown program type \"%s\" (xdp, socket_filter, kprobe, "
				     "..., raw)", a.type);
	char *log = calloc(1, LOG_SIZE);
	if (!log)
		return cli_err("out of memory");
	size_t l = strlen(a.file);
	int ret = l > 2 && !strcmp(a.file + l - 2, ".o") ? verify_obj(&a, a.type, type, log)
							 : verify_raw(&a, type, log);
	free(log);
	return ret;
}
