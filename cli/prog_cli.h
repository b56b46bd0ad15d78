/* prog_cli.h — PROG arguments of the `bpfrt prog` commands: pinned FILE | name NAME | id N. */
#ifndef BPFRT_PROG_CLI_H
#define BPFRT_PROG_CLI_H

#include "cli.h"

struct cli_prog {
	struct bpfrt_prog_record rec;
	char path[4096];	/* the record's file */
};

/* Parse PROG at argv[*i] (two words) and read its record; 0 or an exit status. */
int cli_prog_find(int argc, char **argv, int *i, struct cli_prog *p);
/* The type named name (bpftool's names), or -1 after printing the list. */
int cli_prog_type_parse(const char *name);

#endif /* BPFRT_PROG_CLI_H */
