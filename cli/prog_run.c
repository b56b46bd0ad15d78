/* prog_run.c — `bpfrt prog run`: load an object and run one program as BPF_PROG_TEST_RUN would. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define RUN_DATA_OUT (256u * 1024)	/* room for what a program may grow data to */
#define RUN_CTX_OUT  (64u * 1024)

static const char prog_run_usage[] =
	"usage: bpfrt prog run OBJ [name PROG] [data_in FILE] [data_out FILE] [ctx_in FILE]\n"
	"                      [ctx_out FILE] [repeat N] [checked|unchecked] [--interpret|--jit]\n"
	"                      [--blind] [-j]\n"
	"  --blind: the JIT blinds the program's constants (for untrusted programs)\n";

static int write_file(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(p, 1, len, f) != len || fclose(f))
		return cli_err("cannot write '%s': %s", path, strerror(errno));
	return 0;
}

/*
 * The program called name, or the object's only program. Types come from
 * section names; a program of no type runs with r1 = data_in, r2 = length.
 */
struct bpfrt_prog *cli_obj_pick_prog(struct bpfrt_obj *obj, const char *file, const char *name)
{
	size_t n = bpfrt_obj_prog_count(obj);
	struct bpfrt_obj_prog_info info;
	struct bpfrt_prog *prog;

	if (name) {
		prog = bpfrt_obj_prog_by_name(obj, name);
		if (!prog) {
			cli_err("%s: no program named '%s'; it has:", file, name);
			for (size_t i = 0; i < n; i++) {
				bpfrt_obj_prog_at(obj, i, &info);
				fprintf(stderr, "  %s (section %s, %s)\n", info.name, info.section,
					bpfrt_prog_type_name(info.type));
			}
		}
		return prog;
	}
	if (n != 1) {
		cli_err("%s has %zu programs; say which with 'name PROG'", file, n);
		for (size_t i = 0; i < n; i++) {
			bpfrt_obj_prog_at(obj, i, &info);
			fprintf(stderr, "  %s (section %s, %s)\n", info.name, info.section,
				bpfrt_prog_type_name(info.type));
		}
		return NULL;
	}
	prog = bpfrt_obj_prog_at(obj, 0, &info);
	if (!prog)
		cli_err("%s: program '%s' did not load", file, info.name);
	return prog;
}

/*
 * Open and load an object (its maps pinned in pindir, if given), every
 * program given bpfrt's helpers and, if jit_blind, JIT code with its
 * constants blinded.
 */
struct bpfrt_obj *cli_obj_load(const char *file, const char *pindir, bool jit_blind)
{
	BPFRT_OPTS(bpfrt_obj_opts, o, .jit_blind = jit_blind);
	struct bpfrt_obj *obj = NULL;
	struct bpfrt_error err;

	if (bpfrt_obj_open(file, &o, &obj, &err)) {
		cli_err("%s: %s", file, err.msg);
		return NULL;
	}
	if (pindir && bpfrt_obj_pin_maps(obj, pindir, &err)) {
		cli_err("%s: %s", pindir, err.msg);
		bpfrt_obj_close(obj);
		return NULL;
	}
	if (bpfrt_obj_load(obj, &err)) {
		cli_err("%s: %s", file, err.msg);
		bpfrt_obj_close(obj);
		return NULL;
	}
	for (size_t i = 0; i < bpfrt_obj_prog_count(obj); i++) {
		struct bpfrt_prog *p = bpfrt_obj_prog_at(obj, i, NULL);

		if (p)
			bpfrt_prog_use_builtin_helpers(p);
	}
	return obj;
}

int cmd_prog_run(int argc, char **argv)
{
	BPFRT_OPTS(bpfrt_test_run_opts, t, .engine = BPFRT_ENGINE_JIT);
	bool want_checked = false, blind = false;
	const char *name = NULL, *data_in = NULL, *data_out = NULL, *ctx_in = NULL;
	const char *ctx_out = NULL;
	void *din = NULL, *cin = NULL, *dout = NULL, *cout = NULL;
	size_t dlen = 0, clen = 0;
	struct bpfrt_obj *obj = NULL;
	struct bpfrt_prog *prog;
	struct bpfrt_error err;
	bool json = cli.json;
	int ret = 1;

	if (argc < 1)
		goto usage;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--interpret")) {
			t.engine = BPFRT_ENGINE_INTERP;
		} else if (!strcmp(a, "--jit")) {
			t.engine = BPFRT_ENGINE_JIT;
		} else if (!strcmp(a, "--blind")) {
			blind = true;
		} else if (cli_is_kw(a, "checked")) {
			want_checked = true;	/* unverified: every access checked */
		} else if (cli_is_kw(a, "unchecked")) {
			want_checked = false;	/* the default: verified, then unchecked */
		} else if (i + 1 < argc && cli_is_kw(a, "name")) {
			name = argv[++i];
		} else if (i + 1 < argc && cli_is_kw(a, "data_in")) {
			data_in = argv[++i];
		} else if (i + 1 < argc && cli_is_kw(a, "data_out")) {
			data_out = argv[++i];
		} else if (i + 1 < argc && cli_is_kw(a, "ctx_in")) {
			ctx_in = argv[++i];
		} else if (i + 1 < argc && cli_is_kw(a, "ctx_out")) {
			ctx_out = argv[++i];
		} else if (i + 1 < argc && cli_is_kw(a, "repeat")) {
			char *end;
			unsigned long v = strtoul(argv[++i], &end, 10);

			if (*end || !*argv[i] || v > UINT32_MAX)
				return cli_usage_err("repeat needs a count up to 4294967295, not '%s'",
						     argv[i]);
			t.repeat = (uint32_t)v;
		} else {
			cli_usage_err("prog run: unexpected '%s'", a);
			goto usage;
		}
	}
	if (blind && t.engine != BPFRT_ENGINE_JIT)
		return cli_usage_err("prog run: --blind is for the JIT, not --interpret");
	if (data_in && !(din = cli_read_file(data_in, &dlen)))
		goto out;
	if (ctx_in && !(cin = cli_read_file(ctx_in, &clen)))
		goto out;
	if (dlen > UINT32_MAX || clen > UINT32_MAX) {
		cli_err("input files are limited to 4 GiB");
		goto out;
	}
	obj = cli_obj_load(argv[0], NULL, blind);
	if (!obj || !(prog = cli_obj_pick_prog(obj, argv[0], name)))
		goto out;
	if (cli_gate(obj, prog, bpfrt_prog_get_type(prog),
		     (uint32_t)(bpfrt_prog_get_type(prog) == BPFRT_PROG_UNSPEC ? dlen : clen),
		     want_checked, &t.checked, argv[0]))
		goto out;
	dout = data_out ? malloc(RUN_DATA_OUT) : NULL;
	cout = ctx_out ? malloc(RUN_CTX_OUT) : NULL;
	if ((data_out && !dout) || (ctx_out && !cout)) {
		cli_err("out of memory");
		goto out;
	}
	t.data_in = din;
	t.data_size_in = (uint32_t)dlen;
	t.data_out = dout;
	t.data_size_out = dout ? RUN_DATA_OUT : 0;
	t.ctx_in = cin;
	t.ctx_size_in = (uint32_t)clen;
	t.ctx_out = cout;
	t.ctx_size_out = cout ? RUN_CTX_OUT : 0;
	if (bpfrt_prog_test_run(prog, &t, &err)) {
		cli_err("%s: %s", argv[0], err.msg);
		goto out;
	}
	if (data_out && write_file(data_out, dout, t.data_size_out))
		goto out;
	if (ctx_out && write_file(ctx_out, cout, t.ctx_size_out))
		goto out;
	if (json) {
		json_begin_object();
		json_key("retval");
		json_u64(t.retval);
		json_key("duration");
		json_u64(t.duration_ns);
		json_end_object();
		json_finish();
	} else {
		printf("Return value: %" PRIu32 ", duration (average): %" PRIu64 "ns\n",
		       t.retval, t.duration_ns);
	}
	ret = 0;
out:
	bpfrt_obj_close(obj);
	free(din);
	free(cin);
	free(dout);
	free(cout);
	return ret;
usage:
	fputs(prog_run_usage, stderr);
	return 2;
}
