/* bpfrt_plugin.c — runs one program for the bpf_conformance suite, over its plugin protocol.
 *
 *	bpfrt_plugin [MEM] [--interpret|--jit] [--unchecked]
 *
 * MEM is the input memory in hex (whitespace between bytes is ignored); the
 * program arrives on stdin in the same form, ending with a newline. The
 * program runs with r1 = the memory (NULL when there is none), r2 = its
 * length and a 512-byte stack per frame, in checked mode unless told
 * --unchecked; helper 5 is available. On success r0 is printed in hex and
 * the exit status is 0; on failure a message goes to stderr and it is 1.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"

static void usage(void)
{
	fprintf(stderr, "usage: bpfrt_plugin [MEM] [--interpret|--jit] [--unchecked]\n"
		"  MEM: input memory as hex bytes; the program comes on stdin as hex\n");
}

/* Decode hex text into a malloc'ed buffer; -1 on a stray character. */
static int unhex(const char *s, unsigned char **out, size_t *len)
{
	size_t cap = strlen(s) / 2 + 1, n = 0;
	unsigned char *buf = malloc(cap);
	int hi = -1;

	if (!buf)
		return -1;
	for (; *s; s++) {
		int v;

		if (isspace((unsigned char)*s))
			continue;
		if (!isxdigit((unsigned char)*s)) {
			fprintf(stderr, "bpfrt_plugin: '%c' is not a hex digit\n", *s);
			free(buf);
			return -1;
		}
		v = isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10);
		if (hi < 0) {
			hi = v;
		} else {
			buf[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0) {
		fprintf(stderr, "bpfrt_plugin: odd number of hex digits\n");
		free(buf);
		return -1;
	}
	*out = buf;
	*len = n;
	return 0;
}

static char *read_stdin(void)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		size_t r = fread(buf + n, 1, cap - n - 1, stdin);

		n += r;
		if (r == 0)
			break;
		if (n + 1 == cap) {
			char *b = realloc(buf, cap * 2);

			if (!b) {
				free(buf);
				return NULL;
			}
			buf = b;
			cap *= 2;
		}
	}
	if (buf)
		buf[n] = '\0';
	return buf;
}

/* The conformance suite's helper 5: hands back its first argument. */
static uint64_t helper_5(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			 uint64_t r5, struct bpfrt_run *run)
{
	(void)r2; (void)r3; (void)r4; (void)r5; (void)run;
	return r1;
}

int main(int argc, char **argv)
{
	BPFRT_OPTS(bpfrt_run_opts, opts, .checked = true);
	unsigned char *mem = NULL, *code = NULL;
	size_t mem_len = 0, code_len = 0;
	struct bpfrt_prog *prog = NULL;
	struct bpfrt_error err;
	char *text;
	int ret = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--interpret")) {
			opts.engine = BPFRT_ENGINE_INTERP;
		} else if (!strcmp(argv[i], "--jit")) {
			opts.engine = BPFRT_ENGINE_JIT;
		} else if (!strcmp(argv[i], "--unchecked")) {
			opts.checked = false;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage();
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			fprintf(stderr, "bpfrt_plugin: unknown option '%s'\n", argv[i]);
			usage();
			return 1;
		} else if (mem) {
			fprintf(stderr, "bpfrt_plugin: more than one memory argument\n");
			return 1;
		} else if (unhex(argv[i], &mem, &mem_len)) {
			return 1;
		}
	}
	text = read_stdin();
	if (!text || unhex(text, &code, &code_len))
		goto out;
	if (code_len % sizeof(struct bpfrt_insn)) {
		fprintf(stderr, "bpfrt_plugin: program is %zu bytes, not a multiple of 8\n",
			code_len);
		goto out;
	}
	if (bpfrt_prog_new((struct bpfrt_insn *)code, code_len / 8, NULL, &prog, &err) ||
	    bpfrt_prog_set_helper(prog, 5, "conformance_helper", helper_5)) {
		fprintf(stderr, "bpfrt_plugin: %s\n", err.msg);
		goto out;
	}
	opts.ctx = mem_len ? mem : NULL;
	opts.ctx_len = mem_len;
	if (bpfrt_prog_run(prog, &opts, &err)) {
		fprintf(stderr, "bpfrt_plugin: %s\n", err.msg);
		goto out;
	}
	printf("%llx\n", (unsigned long long)opts.retval);
	ret = 0;
out:
	bpfrt_prog_free(prog);
	free(text);
	free(mem);
	free(code);
	return ret;
}
