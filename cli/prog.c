/* prog.c — `bpfrt prog`: the command table; each command lives in its own cli/prog_*.c file. */
#include "cli.h"

static int prog_help(int argc, char **argv);
int cmd_prog_verify(int argc, char **argv);	/* prog_verify.c */

static const struct cli_cmd prog_cmds[] = {
	{ "help", prog_help, "help                 this list" },
	{ "verify", cmd_prog_verify, "verify FILE [name PROG | section SEC] [type TYPE] [ctx_size N] [-v] [-j]\n"
	  "                           verify every program (or one) of an object or raw file" },
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
