/* prog.c — `bpfrt prog`: the command table; each command lives in its own cli/prog_*.c file. */
#include "cli.h"

static int prog_help(int argc, char **argv);

static const struct cli_cmd prog_cmds[] = {
	{ "help", prog_help, "help                 this list" },
	{ "run", cmd_prog_run, "run OBJ [name PROG] [data_in FILE] [data_out FILE] [ctx_in FILE] "
	  "[ctx_out FILE]\n                           [repeat N] [checked|unchecked] "
	  "[--interpret|--jit]\n                           run a program as BPF_PROG_TEST_RUN "
	  "does (unchecked: for programs you trust)" },
};

static int prog_help(int argc, char **argv)
{
	char *help[] = { "help" };

	(void)argc;
	(void)argv;
	return CLI_DISPATCH("prog", prog_cmds, 1, help);
}

int do_prog(int argc, char **argv)
{
	return CLI_DISPATCH("prog", prog_cmds, argc, argv);
}
