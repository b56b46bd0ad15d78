/* prog_array.c — prog_array: the programs tail calls jump to, one process-local pointer per slot. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exec/prog.h"
#include "maps/map.h"
#include "util/error.h"

/*
 * Declared like the kernel's (key_size 4, value_size 4), but user space
 * passes a `struct bpfrt_prog *` (pointer-sized) where the kernel takes a
 * program fd, and lookups return that pointer. Each slot holds a reference
 * on its program (a run holds one on each program it tail-called into), so
 * bpfrt_prog_free() may come any time after the update. A program whose
 * own map table holds the prog array it sits in makes a cycle: delete the
 * slot to break it (the object loader does for its programs).
 */

static int64_t prog_array_check(struct map_block *b, const struct bpfrt_map_opts *o,
				struct bpfrt_error *err)
{
	int ret;

	(void)o;
	if (b->key_size != 4 || b->value_size != 4 || !b->max_entries)
		return err_set(err, -EINVAL, -1,
			       "prog arrays need key_size 4, value_size 4 and max_entries > 0");
	ret = map_check_flags(b, MAP_F_NUMA_NODE | MAP_F_ACCESS_MASK, err);
	return ret ? ret : (int64_t)MAP_PAGE;
}

static void prog_array_init(struct bpfrt_map *m)
{
	(void)m;
}

static void prog_array_detach(struct bpfrt_map *m)
{
	for (uint32_t i = 0; m->side && i < m->max_entries; i++)
		prog_put(atomic_exchange(&m->side[i], NULL));
	free((void *)m->side);
	m->side = NULL;
}

static uint32_t index_of(const void *key)
{
	uint32_t i;

	memcpy(&i, key, sizeof(i));
	return i;
}

struct bpfrt_prog *map_prog_array_get(struct bpfrt_map *m, uint32_t index)
{
	if (m->type != BPFRT_MAP_PROG_ARRAY || index >= m->max_entries)
		return NULL;
	return atomic_load_explicit(&m->side[index], memory_order_acquire);
}

static int prog_array_sys_lookup(struct bpfrt_map *m, const void *key, void *value)
{
	struct bpfrt_prog *p = map_prog_array_get(m, index_of(key));

	if (!p)
		return -ENOENT;
	memcpy(value, &p, sizeof(p));
	return 0;
}

static int prog_array_sys_update(struct bpfrt_map *m, const void *key, const void *value,
				 uint64_t flags)
{
	uint32_t i = index_of(key);
	struct bpfrt_prog *p;

	if (flags != BPFRT_ANY)
		return -EINVAL;
	if (i >= m->max_entries)
		return -E2BIG;
	memcpy(&p, value, sizeof(p));
	if (!p)
		return -EBADF;
	prog_put(atomic_exchange_explicit(&m->side[i], prog_get(p), memory_order_acq_rel));
	return 0;
}

static long prog_array_delete(struct bpfrt_map *m, const void *key)
{
	uint32_t i = index_of(key);

	if (i >= m->max_entries)
		return -E2BIG;
	struct bpfrt_prog *old = atomic_exchange(&m->side[i], NULL);

	if (!old)
		return -ENOENT;
	prog_put(old);
	return 0;
}

const struct map_ops prog_array_ops = {
	.check = prog_array_check,
	.init = prog_array_init,
	.attach = map_side_alloc,
	.detach = prog_array_detach,
	.delete = prog_array_delete,
	.sys_lookup = prog_array_sys_lookup,
	.sys_update = prog_array_sys_update,
	.get_next_key = map_index_next_key,
};
