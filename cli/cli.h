/* cli.h — what the command files share: the command table entry and input helpers. */
#ifndef BPFRT_CLI_H
#define BPFRT_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "bpfrt.h"

struct cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

int cmd_asm(int argc, char **argv);
int cmd_disasm(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* Read a whole file ('-' = stdin); NULL with a message on failure. */
void *cli_read_file(const char *path, size_t *len);
/*
 * Load a program: assembly if the file ends in .s or .asm, else raw
 * little-endian instructions. Prints the problem and returns -1 on failure.
 */
int cli_load_insns(const char *path, struct bpfrt_insn **insns, size_t *n);
/* Print the program's JIT code (zydis), grouped by eBPF instruction. */
int cli_print_jited(struct bpfrt_prog *prog, bool checked);
/* Does word match keyword, or an unambiguous prefix of it? */
int cli_is_kw(const char *word, const char *keyword);

#endif /* BPFRT_CLI_H */
