/* insn.c — commands on raw programs: asm, disasm, run. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_is_kw(const char *word, const char *keyword)
{
	size_t len = strlen(word);

	return len > 0 && !strncmp(word, keyword, len);
}

void *cli_read_file(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t cap = 65536, n = 0;
	char *buf;

	if (!f) {
		fprintf(stderr, "bpfrt: cannot open '%s': %s\n", path, strerror(errno));
		return NULL;
	}
	buf = malloc(cap + 1);
	while (buf) {
		size_t r = fread(buf + n, 1, cap - n, f);

		n += r;
		if (n < cap)
			break;
		char *b = realloc(buf, cap * 2 + 1);
		if (!b) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = b;
		cap *= 2;
	}
	if (buf && ferror(f)) {
		fprintf(stderr, "bpfrt: cannot read '%s': %s\n", path, strerror(errno));
		free(buf);
		buf = NULL;
	}
	if (f != stdin)
		fclose(f);
	if (!buf)
		return NULL;
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

int cli_load_insns(const char *path, struct bpfrt_insn **insns, size_t *n)
{
	struct bpfrt_error err;
	size_t len;
	char *data = cli_read_file(path, &len);

	if (!data)
		return -1;
	if (ends_with(path, ".s") || ends_with(path, ".asm")) {
		if (bpfrt_asm(data, insns, n, &err)) {
			fprintf(stderr, "bpfrt: %s:%d: %s\n", path, err.line,
				strchr(err.msg, ':') ? strchr(err.msg, ':') + 2 : err.msg);
			free(data);
			return -1;
		}
		free(data);
		return 0;
	}
	if (len == 0 || len % sizeof(struct bpfrt_insn)) {
		fprintf(stderr, "bpfrt: '%s' is %zu bytes, not a whole number of "
			"8-byte instructions\n", path, len);
		free(data);
		return -1;
	}
	*insns = (struct bpfrt_insn *)data;	/* malloc'ed: suitably aligned */
	*n = len / sizeof(struct bpfrt_insn);
	return 0;
}

int cmd_asm(int argc, char **argv)
{
	struct bpfrt_insn *insns;
	const char *out = NULL;
	size_t n;
	FILE *f;

	if (argc != 1 && !(argc == 3 && cli_is_kw(argv[1], "out"))) {
		fprintf(stderr, "usage: bpfrt asm FILE.s [out FILE]\n");
		return 2;
	}
	if (argc == 3)
		out = argv[2];
	if (!ends_with(argv[0], ".s") && !ends_with(argv[0], ".asm") && strcmp(argv[0], "-")) {
		fprintf(stderr, "bpfrt: asm expects an assembly file (.s or .asm)\n");
		return 2;
	}
	if (!strcmp(argv[0], "-")) {
		struct bpfrt_error err;
		size_t len;
		char *text = cli_read_file("-", &len);

		if (!text)
			return 1;
		if (bpfrt_asm(text, &insns, &n, &err)) {
			fprintf(stderr, "bpfrt: <stdin>: %s\n", err.msg);
			free(text);
			return 1;
		}
		free(text);
	} else if (cli_load_insns(argv[0], &insns, &n)) {
		return 1;
	}
	f = out ? fopen(out, "wb") : stdout;
	if (!f || fwrite(insns, sizeof(*insns), n, f) != n || (out && fclose(f))) {
		fprintf(stderr, "bpfrt: cannot write '%s': %s\n", out ? out : "<stdout>",
			strerror(errno));
		free(insns);
		return 1;
	}
	free(insns);
	return 0;
}

/* disasm FILE jited [checked] [blind]: the JIT's code (blind: its constants blinded). */
static int disasm_jited(struct bpfrt_insn *insns, size_t n, bool checked, bool blind,
			const char *path)
{
	BPFRT_OPTS(bpfrt_prog_opts, o, .jit_blind = blind);
	struct bpfrt_prog *prog;
	struct bpfrt_error err;
	int ret;

	if (bpfrt_prog_new(insns, n, &o, &prog, &err)) {
		fprintf(stderr, "bpfrt: %s: %s\n", path, err.msg);
		free(insns);
		return 1;
	}
	ret = cli_print_jited(prog, checked);
	bpfrt_prog_free(prog);
	free(insns);
	return ret;
}

int cmd_disasm(int argc, char **argv)
{
	struct bpfrt_insn *insns;
	bool opcodes = false, jited = false, checked = false, blind = false;
	int status = 0;
	size_t n;

	for (int i = 1; i < argc; i++) {
		if (cli_is_kw(argv[i], "opcodes"))
			opcodes = true;
		else if (cli_is_kw(argv[i], "jited"))
			jited = true;
		else if (jited && cli_is_kw(argv[i], "checked"))
			checked = true;
		else if (jited && cli_is_kw(argv[i], "blind"))
			blind = true;
		else
			argc = -1;
	}
	if (argc < 1 || (jited && opcodes)) {
		fprintf(stderr, "usage: bpfrt disasm FILE [opcodes | jited [checked] [blind]]\n");
		return 2;
	}
	if (cli_load_insns(argv[0], &insns, &n))
		return 1;
	if (jited)
		return disasm_jited(insns, n, checked, blind, argv[0]);
	for (size_t i = 0; i < n;) {
		char text[160];
		int slots = bpfrt_disasm_insn(insns, n, i, text, sizeof(text));

		printf("%4zu: (%02x) %s\n", i, insns[i].code, text);
		if (slots < 0) {
			status = 1;
			slots = 1;
		}
		if (opcodes) {
			const unsigned char *b = (const unsigned char *)&insns[i];

			printf("      ");
			for (int k = 0; k < 8 * slots; k++)
				printf(" %02x", b[k]);
			printf("\n");
		}
		i += (size_t)slots;
	}
	free(insns);
	return status;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int cmd_run(int argc, char **argv)
{
	BPFRT_OPTS(bpfrt_run_opts, opts);
	bool want_checked = false;
	const char *data_in = NULL, *data_out = NULL;
	struct bpfrt_insn *insns;
	struct bpfrt_prog *prog = NULL;
	struct bpfrt_error err;
	unsigned long long repeat = 1;
	char *data = NULL;
	size_t n, data_len = 0;
	bool json = cli.json;
	double t0, t1;
	int ret = 1;

	if (argc < 1)
		goto usage;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			json = true;
		} else if (cli_is_kw(argv[i], "checked")) {
			want_checked = true;
		} else if (cli_is_kw(argv[i], "unchecked")) {
			want_checked = false;
		} else if (i + 1 < argc && cli_is_kw(argv[i], "data_in")) {
			data_in = argv[++i];
		} else if (i + 1 < argc && cli_is_kw(argv[i], "data_out")) {
			data_out = argv[++i];
		} else if (i + 1 < argc && cli_is_kw(argv[i], "repeat")) {
			char *end;

			repeat = strtoull(argv[++i], &end, 10);
			if (*end || repeat == 0) {
				fprintf(stderr, "bpfrt: repeat needs a positive count, not '%s'\n",
					argv[i]);
				return 2;
			}
		} else {
			fprintf(stderr, "bpfrt: run: unexpected '%s'\n", argv[i]);
			goto usage;
		}
	}
	if (cli_load_insns(argv[0], &insns, &n))
		return 1;
	if (data_in && !(data = cli_read_file(data_in, &data_len)))
		goto out;
	if (bpfrt_prog_new(insns, n, NULL, &prog, &err)) {
		fprintf(stderr, "bpfrt: %s: %s\n", argv[0], err.msg);
		goto out;
	}
	/* r1 = the data, r2 = its length: bpfrt's raw program type. */
	if (cli_gate(NULL, prog, BPFRT_PROG_UNSPEC, (uint32_t)data_len, want_checked,
		     &opts.checked, argv[0]))
		goto out;
	opts.ctx = data;
	opts.ctx_len = data_len;
	t0 = now_ns();
	for (unsigned long long r = 0; r < repeat; r++) {
		if (bpfrt_prog_run(prog, &opts, &err)) {
			fprintf(stderr, "bpfrt: %s: %s\n", argv[0], err.msg);
			goto out;
		}
	}
	t1 = now_ns();
	if (json)
		printf("{\"retval\":%" PRIu64 ",\"duration\":%.0f,\"insns\":%" PRIu64 "}\n",
		       opts.retval, (t1 - t0) / (double)repeat, opts.insns);
	else
		printf("Return value: %" PRIu64 ", duration (average): %.0fns\n",
		       opts.retval, (t1 - t0) / (double)repeat);
	if (data_out) {
		FILE *f = fopen(data_out, "wb");

		if (!f || fwrite(data, 1, data_len, f) != data_len || fclose(f)) {
			fprintf(stderr, "bpfrt: cannot write '%s': %s\n", data_out,
				strerror(errno));
			goto out;
		}
	}
	ret = 0;
out:
	bpfrt_prog_free(prog);
	free(insns);
	free(data);
	return ret;
usage:
	fprintf(stderr, "usage: bpfrt run FILE [data_in FILE] [data_out FILE] [repeat N] "
		"[checked] [-j]\n");
	return 2;
}
