/* xdp.c — `bpfrt xdp`: the command table; each command lives in its own cli/xdp_*.c file. */
#include "cli.h"

static int xdp_help(int argc, char **argv);

static const struct cli_cmd xdp_cmds[] = {
	{ "help", xdp_help, "help                 this list" },
	{ "replay", cmd_xdp_replay, "replay OBJ IN.pcap [name PROG] [pass|tx|drop|redirect|aborted FILE]...\n"
	  "                           [pinmaps DIR] [ringbuf MAP] [verdicts] [checked|unchecked]\n"
	  "                           [--interpret|--jit] [--blind]\n"
	  "                           every packet of a capture through an XDP program" },
};

static int xdp_help(int argc, char **argv)
{
	char *help[] = { "help" };

	(void)argc;
	(void)argv;
	return CLI_DISPATCH("xdp", xdp_cmds, 1, help);
}

int do_xdp(int argc, char **argv)
{
	return CLI_DISPATCH("xdp", xdp_cmds, argc, argv);
}
