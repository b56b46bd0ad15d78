/* inline_hash.h — the JIT's hash-map fast paths (unchecked code): lookups inline, map operations called directly. */
#ifndef BPFRT_JIT_INLINE_HASH_H
#define BPFRT_JIT_INLINE_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "emit.h"
#include "exec/prog.h"

/*
 * For a call of helper `id` in unchecked code of prog: the address of a
 * function to call in the helper's place, with the helper's registers
 * (r1 = map, r2 = key, r3 = value, r4 = flags; r0 = the result), or NULL to
 * call the helper. `known` is the map r1 holds at the call if the
 * translation knows it (an lddw in the same block), else NULL.
 *
 * Unchecked, bpfrt's own map helpers do nothing but call the map's
 * operation, so the call goes there directly: to the map's own function
 * (for hash maps the copy specialised for its key size) when the map is
 * known, else to the dispatcher in map.c. Programs that replaced the helper
 * keep calling theirs.
 */
const void *jit_map_call_target(const struct bpfrt_prog *prog, int32_t id,
				const struct bpfrt_map *known);

/*
 * bpf_map_lookup_elem inline: for a BPF_MAP_TYPE_HASH with 4- or 8-byte
 * keys, the lookup hash.c does (the same hash, chain walk and restart),
 * emitted in place of the call; r0 = the value or NULL, every other eBPF
 * register kept, r9 and r11 (x86) clobbered.
 *
 * JIT_HASH_INLINE: the map was known; the lookup is all there is.
 * JIT_HASH_GUARDED: the map was not known, and the program has exactly one
 * such map: the code tests r1 against it, looks up inline if it is, and
 * otherwise jumps to what the caller emits next (the usual call), which
 * it ends with jit_hash_join.
 * JIT_HASH_NONE: nothing was emitted.
 */
enum jit_hash_kind { JIT_HASH_NONE, JIT_HASH_INLINE, JIT_HASH_GUARDED };

struct jit_hash_site {
	size_t done_fix;	/* end of the jump to patch at the join */
};

enum jit_hash_kind jit_hash_lookup(struct emit *e, const struct bpfrt_prog *prog, int32_t id,
				   const struct bpfrt_map *known, struct jit_hash_site *site);
void jit_hash_join(struct emit *e, const struct jit_hash_site *site);

#endif /* BPFRT_JIT_INLINE_HASH_H */
