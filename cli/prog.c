/* prog.c — `bpfrt prog`: the command table; each command lives in its own cli/prog_*.c file. */
#include "cli.h"

static int prog_help(int argc, char **argv);
int cmd_prog_verify(int argc, char **argv);	/* prog_verify.c */
int cmd_prog_load(int argc, char **argv);
int cmd_prog_pin(int argc, char **argv);
int cmd_prog_show(int argc, char **argv);
int cmd_prog_dump(int argc, char **argv);

static const struct cli_cmd prog_cmds[] = {
	{ "help", prog_help, "help                 this list\n"
	  "        PROG := pinned FILE | name NAME | id N  (programs in the state directory)" },
	{ "show", cmd_prog_show, "show [PROG]          list pinned programs (all, or PROG)" },
	{ "list", cmd_prog_show, "list [PROG]          the same as show" },
	{ "load", cmd_prog_load, "load OBJ PATH [type TYPE] [pinmaps DIR]\n"
	  "                                  load OBJ's first program, pin it at PATH, its maps\n"
	  "                                  in DIR (default PATH.maps)" },
	{ "dump", cmd_prog_dump, "dump xlated PROG [linum] [opcodes] | dump jited PROG\n"
	  "                                  print the instructions, or the JIT's x86-64 code" },
	{ "pin", cmd_prog_pin, "pin PROG FILE        pin PROG at FILE too" },
	{ "run", cmd_prog_run, "run OBJ [name PROG] [data_in FILE] [data_out FILE] [ctx_in FILE] "
	  "[ctx_out FILE]\n                           [repeat N] [checked|unchecked] "
	  "[--interpret|--jit] [--blind]\n                           run a program as BPF_PROG_TEST_RUN "
	  "does: verified, or\n                           with runtime checks instead if 'checked'" },
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
