/* map_cli.h — what the `bpfrt map` and `bpfrt prog` command files share: MAP/PROG arguments, DATA bytes, printing. */
#ifndef BPFRT_MAP_CLI_H
#define BPFRT_MAP_CLI_H

#include "cli.h"

/* ---- Map types by bpftool's names ---------------------------------------- */

/* "hash", "array", ...; NULL for a number bpfrt has no name for. */
const char *cli_map_type_name(uint32_t type);
/* The type named name, or -1 (printing the list of types). */
int cli_map_type_parse(const char *name);

/* ---- MAP := pinned FILE | name NAME | id N --------------------------------- */

struct cli_map {
	struct bpfrt_map *map;
	struct bpfrt_map_info info;
	struct bpfrt_map_pin_info pin;
	char path[4096];		/* the file it was opened from */
};

/*
 * Parse a MAP at argv[*i] (two words) and open it; *i moves past it.
 * Returns 0, or an exit status (1: not found / cannot open, 2: usage).
 */
int cli_map_open(int argc, char **argv, int *i, struct cli_map *m);
void cli_map_close(struct cli_map *m);

/* ---- DATA := [hex] BYTE... ------------------------------------------------ */

/*
 * Parse the bytes after keyword `what` ("key", "value") at argv[*i]: decimal
 * (or 0x.., 0..) numbers, or hex digits after "hex" (bytes may be written
 * together: "hex 0a000000"). Exactly `size` bytes are needed. Returns 0 or an
 * exit status (2) after printing what is wrong.
 */
int cli_parse_data(int argc, char **argv, int *i, const char *what, const char *map_name,
		   uint8_t *out, size_t size);

/* ---- Printing ----------------------------------------------------------- */

/* bpftool's hex dump: "0a 00 00 00", two spaces after every 8 bytes, a new line every 16. */
void cli_print_hex(const uint8_t *p, size_t n);
/* One element as bpftool prints it, plain or JSON (value may be NULL: keyless maps). */
void cli_print_elem(const struct cli_map *m, const uint8_t *key, const uint8_t *value);
/* Does the map carry BTF for key and value (formatted output)? */
bool cli_map_has_btf(const struct cli_map *m);
/* Write the BTF-formatted data of type id as a JSON value; false if it cannot. */
bool cli_btf_json(const struct cli_map *m, uint32_t type_id, const uint8_t *data);

#endif /* BPFRT_MAP_CLI_H */
