/* inline_hash.c — the JIT's direct calls of map operations in place of the map helpers (see inline_hash.h). */
#include "inline_hash.h"

#include "helpers/helpers.h"
#include "maps/map.h"

/* bpfrt's own helper for id, which a direct call may stand for; NULL if it has none. */
static bpfrt_helper_fn builtin_map_helper(int32_t id)
{
	for (size_t k = 0; k < helper_map_ndefs; k++)
		if ((int64_t)helper_map_defs[k].id == id)
			return helper_map_defs[k].fn;
	return NULL;
}

/* The hash families, whose operations hash.c specialises for the map's key size. */
static bool is_hash_family(uint32_t type)
{
	return type == BPFRT_MAP_HASH || type == BPFRT_MAP_PERCPU_HASH ||
	       type == BPFRT_MAP_LRU_HASH || type == BPFRT_MAP_LRU_PERCPU_HASH;
}

const void *jit_map_call_target(const struct bpfrt_prog *prog, int32_t id,
				const struct bpfrt_map *known)
{
	bool hash = known && is_hash_family(known->type);

	if (id != HELPER_MAP_LOOKUP_ELEM && id != HELPER_MAP_UPDATE_ELEM &&
	    id != HELPER_MAP_DELETE_ELEM)
		return NULL;
	if (prog_helper(prog, (uint64_t)id) != builtin_map_helper(id))
		return NULL;
	switch (id) {
	case HELPER_MAP_LOOKUP_ELEM:
		return hash ? (const void *)known->ops->lookup : (const void *)map_lookup_elem;
	case HELPER_MAP_UPDATE_ELEM:
		return hash ? (const void *)known->ops->update : (const void *)map_update_elem;
	default:
		return hash ? (const void *)known->ops->delete : (const void *)map_delete_elem;
	}
}
