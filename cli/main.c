/* main.c — the bpfrt command line: a table of commands, each in its own file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cli_cmd commands[] = {
	{ "asm", cmd_asm, "asm FILE.s [out FILE]     assemble to raw instructions" },
	{ "disasm", cmd_disasm, "disasm FILE [opcodes | jited [checked]]\n"
	  "                           print instructions as text, or the JIT's x86-64 code" },
	{ "run", cmd_run, "run FILE [data_in FILE] [repeat N] [checked|unchecked] [-j]\n"
	  "                           run a raw program (r1 = data, r2 = its length)" },
};

static int usage(FILE *f)
{
	fprintf(f, "usage: bpfrt COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  bpfrt %s\n", commands[i].help);
	fprintf(f, "\nFILE is assembly (.s) or raw little-endian instructions; "
		"'-' reads stdin.\n");
	return f == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
	const struct cli_cmd *match = NULL;
	size_t len;

	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return usage(stdout);
	/* Commands may be abbreviated to any unambiguous prefix, as in bpftool. */
	len = strlen(argv[1]);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strncmp(argv[1], commands[i].name, len))
			continue;
		if (strlen(commands[i].name) == len) {
			match = &commands[i];
			break;
		}
		if (match) {
			fprintf(stderr, "bpfrt: '%s' is ambiguous\n", argv[1]);
			return 2;
		}
		match = &commands[i];
	}
	if (!match) {
		fprintf(stderr, "bpfrt: unknown command '%s'\n\n", argv[1]);
		return usage(stderr);
	}
	return match->fn(argc - 2, argv + 2);
}
