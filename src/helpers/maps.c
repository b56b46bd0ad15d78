/* maps.c — the map helpers: lookup, update, delete, push, pop, peek. */
#include <errno.h>

#include "exec/prog.h"
#include "helpers.h"
#include "maps/map.h"

static uint64_t map_lookup(uint64_t r1, uint64_t key, uint64_t r3, uint64_t r4,
			   uint64_t r5, struct bpfrt_run *run)
{
	struct bpfrt_map *m = helper_map_arg(run, "map_lookup_elem", r1);

	(void)r3; (void)r4; (void)r5;
	if (!m || !helper_mem_ok(run, "map_lookup_elem", 2, key, m->key_size, false))
		return 0;
	return (uintptr_t)map_lookup_elem(m, (const void *)(uintptr_t)key);
}

static uint64_t map_update(uint64_t r1, uint64_t key, uint64_t value, uint64_t flags,
			   uint64_t r5, struct bpfrt_run *run)
{
	struct bpfrt_map *m = helper_map_arg(run, "map_update_elem", r1);

	(void)r5;
	if (!m || !helper_mem_ok(run, "map_update_elem", 2, key, m->key_size, false) ||
	    !helper_mem_ok(run, "map_update_elem", 3, value, m->value_size, false))
		return (uint64_t)-EFAULT;
	return (uint64_t)map_update_elem(m, (const void *)(uintptr_t)key,
					 (const void *)(uintptr_t)value, flags);
}

static uint64_t map_delete(uint64_t r1, uint64_t key, uint64_t r3, uint64_t r4,
			   uint64_t r5, struct bpfrt_run *run)
{
	struct bpfrt_map *m = helper_map_arg(run, "map_delete_elem", r1);

	(void)r3; (void)r4; (void)r5;
	if (!m || !helper_mem_ok(run, "map_delete_elem", 2, key, m->key_size, false))
		return (uint64_t)-EFAULT;
	return (uint64_t)map_delete_elem(m, (const void *)(uintptr_t)key);
}

static uint64_t map_push(uint64_t r1, uint64_t value, uint64_t flags, uint64_t r4,
			 uint64_t r5, struct bpfrt_run *run)
{
	struct bpfrt_map *m = helper_map_arg(run, "map_push_elem", r1);

	(void)r4; (void)r5;
	if (!m || !helper_mem_ok(run, "map_push_elem", 2, value, m->value_size, false))
		return (uint64_t)-EFAULT;
	return (uint64_t)map_push_elem(m, (const void *)(uintptr_t)value, flags);
}

static uint64_t map_pop(uint64_t r1, uint64_t value, uint64_t r3, uint64_t r4,
			uint64_t r5, struct bpfrt_run *run)
{
	struct bpfrt_map *m = helper_map_arg(run, "map_pop_elem", r1);

	(void)r3; (void)r4; (void)r5;
	if (!m || !helper_mem_ok(run, "map_pop_elem", 2, value, m->value_size, true))
		return (uint64_t)-EFAULT;
	return (uint64_t)map_pop_elem(m, (void *)(uintptr_t)value);
}

static uint64_t map_peek(uint64_t r1, uint64_t value, uint64_t r3, uint64_t r4,
			 uint64_t r5, struct bpfrt_run *run)
{
	struct bpfrt_map *m = helper_map_arg(run, "map_peek_elem", r1);

	(void)r3; (void)r4; (void)r5;
	if (!m || !helper_mem_ok(run, "map_peek_elem", 2, value, m->value_size, true))
		return (uint64_t)-EFAULT;
	return (uint64_t)map_peek_elem(m, (void *)(uintptr_t)value);
}

const struct helper_def helper_map_defs[] = {
	{ HELPER_MAP_LOOKUP_ELEM, "map_lookup_elem", map_lookup },
	{ HELPER_MAP_UPDATE_ELEM, "map_update_elem", map_update },
	{ HELPER_MAP_DELETE_ELEM, "map_delete_elem", map_delete },
	{ HELPER_MAP_PUSH_ELEM, "map_push_elem", map_push },
	{ HELPER_MAP_POP_ELEM, "map_pop_elem", map_pop },
	{ HELPER_MAP_PEEK_ELEM, "map_peek_elem", map_peek },
};
const size_t helper_map_ndefs = HELPER_NDEFS(helper_map_defs);
