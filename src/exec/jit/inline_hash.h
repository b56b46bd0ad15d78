/* inline_hash.h — the JIT's direct calls of the map functions behind bpf_map_lookup/update/delete_elem (unchecked code). */
#ifndef BPFRT_JIT_INLINE_HASH_H
#define BPFRT_JIT_INLINE_HASH_H

#include <stdint.h>

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

#endif /* BPFRT_JIT_INLINE_HASH_H */
