/* cli.h — what the command files share: command tables, global options, JSON output, input helpers. */
#ifndef BPFRT_CLI_H
#define BPFRT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bpfrt.h"

/*
 * The grammar is bpftool's: bpfrt [OPTIONS] OBJECT COMMAND [ARGS]. Every
 * object (prog, map, xdp, ...) is a table of commands; keywords may be
 * abbreviated to any unambiguous prefix. A command returns the process's
 * exit status: 0 success, 1 failure, 2 wrong arguments (with a usage line).
 */
struct cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);	/* argv[0] is the first argument */
	const char *help;			/* "ARGS   what it does" */
};

/* Options before OBJECT, for every command. */
struct cli_options {
	bool json;	/* -j, --json */
	bool pretty;	/* -p, --pretty (implies json) */
};
extern struct cli_options cli;

/*
 * Run the command of table cmds named by argv[0] (a prefix is enough);
 * "help", no command, or an unknown one print the table's usage.
 */
int cli_dispatch(const char *object, const struct cli_cmd *cmds, size_t n,
		 int argc, char **argv);
#define CLI_DISPATCH(object, cmds, argc, argv) \
	cli_dispatch(object, cmds, sizeof(cmds) / sizeof(cmds[0]), argc, argv)

/* Objects (one file each, or a family of files) and raw-program commands. */
int do_prog(int argc, char **argv);
int do_map(int argc, char **argv);
int do_xdp(int argc, char **argv);
int cmd_asm(int argc, char **argv);
int cmd_disasm(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_prog_run(int argc, char **argv);	/* prog_run.c */
int cmd_xdp_replay(int argc, char **argv);	/* xdp_replay.c */
/*
 * An object opened and loaded (its maps pinned in pindir, reusing those
 * already there, if pindir is not NULL), its programs given bpfrt's
 * helpers; NULL after a message.
 */
struct bpfrt_obj *cli_obj_load(const char *file, const char *pindir, bool jit_blind);
/* Its program called name, or its only one; NULL after a message listing them. */
struct bpfrt_prog *cli_obj_pick_prog(struct bpfrt_obj *obj, const char *file, const char *name);

/*
 * Decide how a program runs. Unless the user asked for checked mode
 * (want_checked), it must pass the verifier (as type, with ctx_size bytes
 * of context for UNSPEC and SYSCALL) and then runs unchecked; a rejection
 * prints the verifier's message, says how to run it checked, and returns 1.
 * obj, if not NULL, gives the verifier source lines.
 */
int cli_gate(const struct bpfrt_obj *obj, const struct bpfrt_prog *prog,
	     enum bpfrt_prog_type type, uint32_t ctx_size, bool want_checked,
	     bool *checked, const char *what);

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
/* Print "bpfrt: " and the message to stderr; returns 1 (or 2 for cli_usage_err). */
int cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- JSON output (json.c) ----------------------------------------------
 *
 * A streaming writer to stdout that places commas itself and indents when
 * cli.pretty is set. Inside an object every value is preceded by json_key().
 * Strings are escaped (control characters, quotes, backslashes, non-UTF-8
 * bytes as \u00XX).
 */
void json_begin_object(void);
void json_end_object(void);
void json_begin_array(void);
void json_end_array(void);
void json_key(const char *key);
void json_string(const char *s);
void json_u64(uint64_t v);
void json_i64(int64_t v);
void json_bool(bool v);
void json_null(void);
/* A byte array as bpftool prints keys and values: ["0x0a","0x00",...]. */
void json_hex_bytes(const void *p, size_t n);
/* End the document (a newline); the writer is ready for another. */
void json_finish(void);

/* ---- Listings of pinned objects (pinned.c) -------------------------------
 *
 * What `map show` and `prog show` list with no argument: an entry per pinned
 * file (or, for programs, per live record of a process), sorted by id and
 * then path, so that the entries of one object stand together.
 */
struct cli_pin_entry {
	uint32_t id;
	int32_t pid;		/* a live program record's process, else 0 */
	char *path;
};
struct cli_pin_list {
	struct cli_pin_entry *v;
	size_t n, cap;
};
/* Append an entry (path copied); 0, or -1 out of memory. */
int cli_pin_list_add(struct cli_pin_list *l, uint32_t id, int32_t pid, const char *path);
void cli_pin_list_sort(struct cli_pin_list *l);
void cli_pin_list_free(struct cli_pin_list *l);
/* The files an object is pinned at: a "pinned" array in JSON, else a line "\tpinned PATH" each. */
void cli_show_pinned(char *const *paths, size_t npaths);

#endif /* BPFRT_CLI_H */
