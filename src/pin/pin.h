/* pin.h — the pinned state (internal): the state directory, global ids, the registry, pinned-map trailers. */
#ifndef BPFRT_PIN_H
#define BPFRT_PIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfrt.h"

/*
 * A pinned map is a file: the map's block (docs/maps.md), then, at the
 * block's size (a page multiple), a trailer with what the block itself does
 * not say — the global id, who pinned it and when, and the BTF that
 * describes its key and value (if the map came from an object with BTF).
 *
 *	[block: b->size bytes][struct pin_trailer][BTF: btf_len bytes]
 *
 * The state directory (bpfrt_state_dir) holds:
 *	ids            two u32 counters (next map id, next prog id) under flock
 *	maps/ progs/   the registry: one symlink per pinned file, named after
 *	               the file's absolute path ('/' written as '%2f'), to it
 */
#define PIN_MAGIC   0x314e495054524642ull	/* "BFRTPIN1" */
#define PIN_VERSION 1u

struct pin_trailer {
	uint64_t magic;
	uint32_t version;
	uint32_t id;
	uint64_t created;		/* unix seconds */
	uint32_t uid;
	uint32_t btf_len;
	uint32_t key_type, value_type;	/* BTF type ids, 0 if unknown */
	uint32_t reserved[6];
};

/* What a map object knows about its pinned file (map->pin): the trailer and its BTF. */
struct pin_meta {
	struct pin_trailer t;
	uint8_t btf[];
};

enum pin_kind { PIN_MAP = 0, PIN_PROG = 1 };

/* state.c */
/* Create the state directory (0700) and its subdirectories if missing. */
int pin_state_prepare(struct bpfrt_error *err);
/* Take the next global id of kind (1, 2, ...). */
int pin_next_id(enum pin_kind kind, uint32_t *id, struct bpfrt_error *err);
/* Record path (absolute, existing) in the registry of kind. */
int pin_register(enum pin_kind kind, const char *path, struct bpfrt_error *err);
/* mkdir -p with mode for the missing parts. */
int pin_mkdirs(const char *dir, unsigned mode, struct bpfrt_error *err);

/* map_pin.c */
/* A pin_meta with BTF (may be NULL/0) for a map not pinned yet. */
struct pin_meta *pin_meta_new(const void *btf, uint32_t btf_len, uint32_t key_type,
			      uint32_t value_type);

#endif /* BPFRT_PIN_H */
