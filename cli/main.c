/* main.c — the bpfrt command line: options, then a table of objects, each a table of commands. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct cli_options cli;

static const struct cli_cmd objects[] = {
	{ "prog", do_prog, "prog COMMAND ...          load, show, dump, run, verify programs" },
	{ "map", do_map, "map COMMAND ...           create, show, update, lookup, dump maps" },
	{ "xdp", do_xdp, "xdp COMMAND ...           run XDP programs over packets" },
	{ "asm", cmd_asm, "asm FILE.s [out FILE]     assemble to raw instructions" },
	{ "disasm", cmd_disasm, "disasm FILE [opcodes | jited [checked] [blind]]\n"
	  "                           print instructions as text, or the JIT's x86-64 code" },
	{ "run", cmd_run, "run FILE [data_in FILE] [data_out FILE] [repeat N] [checked] [-j]\n"
	  "                           run a raw program (r1 = data, r2 = its length); verified\n"
	  "                           first, unless 'checked' asks for runtime checks instead" },
};

static int vreport(const char *fmt, va_list ap)
{
	fputs("bpfrt: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	return 1;
}

int cli_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	return 1;
}

int cli_usage_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	return 2;
}

static int usage(const char *object, const struct cli_cmd *cmds, size_t n, FILE *f)
{
	if (object)
		fprintf(f, "usage: bpfrt [-j] [-p] %s COMMAND [ARGS]\n\ncommands:\n", object);
	else
		fprintf(f, "usage: bpfrt [-j|--json] [-p|--pretty] OBJECT COMMAND [ARGS]\n"
			"       bpfrt COMMAND [ARGS]\n\nobjects and commands:\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  bpfrt %s%s%s\n", object ? object : "", object ? " " : "",
			cmds[i].help);
	if (!object)
		fprintf(f, "\nFILE is assembly (.s) or raw little-endian instructions; "
			"'-' reads stdin.\nKeywords may be abbreviated: bpfrt p s = "
			"bpfrt prog show.\n");
	return f == stderr ? 2 : 0;
}

static bool is_help(const char *arg)
{
	return !strcmp(arg, "help") || !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

int cli_dispatch(const char *object, const struct cli_cmd *cmds, size_t n,
		 int argc, char **argv)
{
	const struct cli_cmd *match = NULL;
	size_t len;

	if (argc < 1)
		return usage(object, cmds, n, stderr);
	if (is_help(argv[0]))
		return usage(object, cmds, n, stdout);
	len = strlen(argv[0]);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(argv[0], cmds[i].name, len))
			continue;
		if (strlen(cmds[i].name) == len) {
			match = &cmds[i];
			break;
		}
		if (match) {
			fprintf(stderr, "bpfrt: '%s' is ambiguous: %s or %s?\n", argv[0],
				match->name, cmds[i].name);
			return 2;
		}
		match = &cmds[i];
	}
	if (!match) {
		fprintf(stderr, "bpfrt: unknown %s '%s'\n\n", object ? "command" : "object",
			argv[0]);
		return usage(object, cmds, n, stderr);
	}
	/* "bpfrt prog show help": the command's own usage, from the table. */
	if (argc > 1 && is_help(argv[argc - 1]) && object) {
		printf("usage: bpfrt %s %s\n", object, match->help);
		return 0;
	}
	return match->fn(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			cli.json = true;
		} else if (!strcmp(argv[i], "-p") || !strcmp(argv[i], "--pretty")) {
			cli.json = cli.pretty = true;
		} else if (is_help(argv[i])) {
			return usage(NULL, objects, sizeof(objects) / sizeof(objects[0]), stdout);
		} else {
			fprintf(stderr, "bpfrt: unknown option '%s'\n\n", argv[i]);
			return usage(NULL, objects, sizeof(objects) / sizeof(objects[0]), stderr);
		}
	}
	return cli_dispatch(NULL, objects, sizeof(objects) / sizeof(objects[0]),
			    argc - i, argv + i);
}
