/* map.c — `bpfrt map`: the command table; each command lives in its own cli/map_*.c file. */
#include "cli.h"

static int map_help(int argc, char **argv);
int cmd_map_create(int argc, char **argv);
int cmd_map_show(int argc, char **argv);
int cmd_map_pin(int argc, char **argv);
int cmd_map_update(int argc, char **argv);
int cmd_map_lookup(int argc, char **argv);
int cmd_map_delete(int argc, char **argv);
int cmd_map_getnext(int argc, char **argv);
int cmd_map_dump(int argc, char **argv);
int cmd_map_push(int argc, char **argv);
int cmd_map_pop(int argc, char **argv);
int cmd_map_peek(int argc, char **argv);
int cmd_map_freeze(int argc, char **argv);

static const struct cli_cmd map_cmds[] = {
	{ "help", map_help, "help                 this list\n"
	  "       MAP  := pinned FILE | name NAME | id N  (maps in the state directory)\n"
	  "       DATA := BYTE... | hex BYTE...            (\"1 0 0 0\", \"hex 01 00 00 00\")" },
	{ "show", cmd_map_show, "show [MAP]           list pinned maps (all, or MAP)" },
	{ "list", cmd_map_show, "list [MAP]           the same as show" },
	{ "create", cmd_map_create, "create FILE type TYPE key KSZ value VSZ entries N name NAME [flags F]\n"
	  "                                 create a map pinned at FILE" },
	{ "update", cmd_map_update, "update MAP [key DATA] value DATA [any|exist|noexist]\n"
	  "                                 write an element" },
	{ "lookup", cmd_map_lookup, "lookup MAP key DATA  print an element" },
	{ "delete", cmd_map_delete, "delete MAP key DATA  delete an element" },
	{ "getnext", cmd_map_getnext, "getnext MAP [key DATA]\n"
	  "                                 the key after DATA (or the first)" },
	{ "dump", cmd_map_dump, "dump MAP             print every element" },
	{ "pin", cmd_map_pin, "pin MAP FILE         pin MAP at FILE too" },
	{ "push", cmd_map_push, "push MAP value DATA  push onto a queue or stack" },
	{ "enqueue", cmd_map_push, "enqueue MAP value DATA\n"
	  "                                 the same as push" },
	{ "pop", cmd_map_pop, "pop MAP              take the next value of a queue or stack" },
	{ "dequeue", cmd_map_pop, "dequeue MAP          the same as pop" },
	{ "peek", cmd_map_peek, "peek MAP             print the next value without taking it" },
	{ "freeze", cmd_map_freeze, "freeze MAP           no more writes from user space (programs still write)" },
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
