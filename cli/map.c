/* map.c — `bpfrt map`: the command table; each command lives in its own cli/map_*.c file. */
#include "cli.h"

static int map_help(int argc, char **argv);

static const struct cli_cmd map_cmds[] = {
	{ "help", map_help, "help                 this list" },
};

static int map_help(int argc, char **argv)
{
	char *help[] = { "help" };

	(void)argc;
	(void)argv;
	return CLI_DISPATCH("map", map_cmds, 1, help);
}

int do_map(int argc, char **argv)
{
	return CLI_DISPATCH("map", map_cmds, argc, argv);
}
