/* helpers.h — bpfrt's built-in helpers: the kernel's numbers, names and semantics. */
#ifndef BPFRT_HELPERS_H
#define BPFRT_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfrt.h"

/* The kernel's helper ids (enum bpf_func_id) for what bpfrt implements. */
enum {
	HELPER_MAP_LOOKUP_ELEM = 1,
	HELPER_MAP_UPDATE_ELEM = 2,
	HELPER_MAP_DELETE_ELEM = 3,
	HELPER_MAP_PUSH_ELEM = 87,
	HELPER_MAP_POP_ELEM = 88,
	HELPER_MAP_PEEK_ELEM = 89,
};

struct helper_def {
	uint32_t id;
	const char *name;	/* without the bpf_ prefix, as bpftool prints it */
	bpfrt_helper_fn fn;
};

/*
 * For helpers taking pointers: may the run touch [p, p + len)? In checked
 * runs this fails the run with a message naming the helper and argument.
 */
bool helper_mem_ok(struct bpfrt_run *run, const char *helper, unsigned arg,
		   uint64_t p, size_t len, bool write);

/* The map argument of a map helper: a map of the program's table, checked. */
struct bpfrt_map *helper_map_arg(struct bpfrt_run *run, const char *helper, uint64_t r1);

/* Per-family tables, which bpfrt_prog_use_builtin_helpers (registry.c) registers. */
extern const struct helper_def helper_map_defs[];
extern const size_t helper_map_ndefs;
extern const struct helper_def helper_xdp_defs[];	/* xdp.c */
extern const size_t helper_xdp_ndefs;
extern const struct helper_def helper_skb_defs[];	/* skb.c */
extern const size_t helper_skb_ndefs;

#endif /* BPFRT_HELPERS_H */
