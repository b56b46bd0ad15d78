/* map_of_maps.c — array_of_maps and hash_of_maps: inner maps held by reference in a process-local side table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maps/htab.h"
#include "util/error.h"

/*
 * The block holds what can be shared: the template's geometry (the common
 * header's `inner`) and, for hash_of_maps, the hash table whose values are
 * the inner maps' ids. The references themselves are pointers, valid only in
 * this process: m->side[slot] (the array index, or the hash element number)
 * holds one reference to the inner map. User space passes and receives
 * `struct bpfrt_map *` values (pointer-sized), where the kernel takes a map
 * fd and returns a map id.
 */

/* ---- The template --------------------------------------------------------- */

static bool is_map_of_maps(uint32_t type)
{
	return type == BPFRT_MAP_ARRAY_OF_MAPS || type == BPFRT_MAP_HASH_OF_MAPS;
}

static int take_template(struct map_block *b, const struct bpfrt_map *inner,
			 struct bpfrt_error *err)
{
	if (!inner)
		return err_set(err, -EINVAL, -1, "maps of maps need a template inner map");
	if (is_map_of_maps(inner->type))
		return err_set(err, -EINVAL, -1, "an inner map cannot itself be a map of maps");
	if (inner->type == BPFRT_MAP_PROG_ARRAY)
		return err_set(err, -ENOTSUP, -1, "a prog array cannot be an inner map");
	b->inner = (struct map_meta){ inner->type, inner->key_size, inner->value_size,
				      inner->max_entries, inner->map_flags };
	return 0;
}

/* The kernel's rule: same type, sizes and flags; same max_entries unless BPF_F_INNER_MAP. */
static bool fits_template(const struct bpfrt_map *outer, const struct bpfrt_map *inner)
{
	const struct map_meta *t = &((const struct map_block *)outer->base)->inner;

	return inner->type == t->type && inner->key_size == t->key_size &&
	       inner->value_size == t->value_size && inner->map_flags == t->map_flags &&
	       ((t->map_flags & MAP_F_INNER_MAP) || inner->max_entries == t->max_entries);
}

static int inner_from_user(const struct bpfrt_map *m, const void *value,
			   struct bpfrt_map **inner)
{
	memcpy(inner, value, sizeof(*inner));
	if (!*inner)
		return -EBADF;
	return fits_template(m, *inner) ? 0 : -EINVAL;
}

static void side_release(struct bpfrt_map *m)
{
	for (uint32_t i = 0; m->side && i < m->max_entries; i++)
		map_put(atomic_load(&m->side[i]));
	free((void *)m->side);
	m->side = NULL;
}

/* ---- array_of_maps ---------------------------------------------------------- */

static int64_t aom_check(struct map_block *b, const struct bpfrt_map_opts *o,
			 struct bpfrt_error *err)
{
	int ret;

	if (b->key_size != 4 || b->value_size != 4 || !b->max_entries)
		return err_set(err, -EINVAL, -1,
			       "array_of_maps needs key_size 4, value_size 4 and max_entries > 0");
	ret = map_check_flags(b, MAP_F_NUMA_NODE | MAP_F_ACCESS_MASK, err);
	if (!ret)
		ret = take_template(b, o->inner, err);
	return ret ? ret : (int64_t)MAP_PAGE;
}

static void aom_init(struct bpfrt_map *m)
{
	(void)m;
}

static uint32_t index_of(const void *key)
{
	uint32_t i;

	memcpy(&i, key, sizeof(i));
	return i;
}

static void *aom_lookup(struct bpfrt_map *m, const void *key)
{
	uint32_t i = index_of(key);

	return i < m->max_entries ? atomic_load_explicit(&m->side[i], memory_order_acquire)
				  : NULL;
}

static int aom_sys_lookup(struct bpfrt_map *m, const void *key, void *value)
{
	struct bpfrt_map *inner = aom_lookup(m, key);

	if (!inner)
		return -ENOENT;
	memcpy(value, &inner, sizeof(inner));
	return 0;
}

static int aom_sys_update(struct bpfrt_map *m, const void *key, const void *value,
			  uint64_t flags)
{
	uint32_t i = index_of(key);
	struct bpfrt_map *inner;
	int ret;

	if (flags != BPFRT_ANY)
		return -EINVAL;
	if (i >= m->max_entries)
		return -E2BIG;
	ret = inner_from_user(m, value, &inner);
	if (ret)
		return ret;
	map_put(atomic_exchange(&m->side[i], map_get(inner)));
	return 0;
}

static long aom_delete(struct bpfrt_map *m, const void *key)
{
	uint32_t i = index_of(key);
	struct bpfrt_map *old;

	if (i >= m->max_entries)
		return -E2BIG;
	old = atomic_exchange(&m->side[i], NULL);
	if (!old)
		return -ENOENT;
	map_put(old);
	return 0;
}

const struct map_ops array_of_maps_ops = {
	.check = aom_check,
	.init = aom_init,
	.attach = map_side_alloc,
	.detach = side_release,
	.lookup = aom_lookup,
	.delete = aom_delete,
	.sys_lookup = aom_sys_lookup,
	.sys_update = aom_sys_update,
	.get_next_key = map_index_next_key,
};

/* ---- hash_of_maps ----------------------------------------------------------- */

static int64_t hom_check(struct map_block *b, const struct bpfrt_map_opts *o,
			 struct bpfrt_error *err)
{
	int ret;

	if (b->value_size != 4)
		return err_set(err, -EINVAL, -1, "hash_of_maps needs value_size 4");
	ret = take_template(b, o->inner, err);
	return ret ? ret : htab_check(b, false, false, err);
}

static int hom_attach(struct bpfrt_map *m)
{
	htab_attach(m);
	return map_side_alloc(m);
}

static void *hom_lookup(struct bpfrt_map *m, const void *key)
{
	int64_t i = htab_slot_of(m, key);

	return i < 0 ? NULL : atomic_load_explicit(&m->side[i], memory_order_acquire);
}

static int hom_sys_lookup(struct bpfrt_map *m, const void *key, void *value)
{
	struct bpfrt_map *inner = hom_lookup(m, key);

	if (!inner)
		return -ENOENT;
	memcpy(value, &inner, sizeof(inner));
	return 0;
}

struct hom_swap {
	struct bpfrt_map *in, *out;
};

/* Under the bucket lock: slot's reference becomes s->in; the old one is returned in s->out. */
static void hom_swap(struct bpfrt_map *m, uint32_t slot, bool fresh, void *arg)
{
	struct hom_swap *s = arg;
	uint32_t id = s->in ? s->in->id : 0;

	(void)fresh;
	memcpy(helem_value(m, slot, 0), &id, sizeof(id));
	s->out = atomic_exchange(&m->side[slot], s->in);
}

static int hom_sys_update(struct bpfrt_map *m, const void *key, const void *value,
			  uint64_t flags)
{
	struct hom_swap s = { NULL, NULL };
	long ret = inner_from_user(m, value, &s.in);

	if (ret)
		return (int)ret;
	map_get(s.in);
	ret = htab_update_slot(m, key, flags, hom_swap, &s);
	map_put(ret ? s.in : s.out);
	return (int)ret;
}

static long hom_delete(struct bpfrt_map *m, const void *key)
{
	struct hom_swap s = { NULL, NULL };
	long ret = htab_delete_slot(m, key, hom_swap, &s);

	map_put(s.out);
	return ret;
}

const struct map_ops hash_of_maps_ops = {
	.check = hom_check,
	.init = htab_init,
	.attach = hom_attach,
	.detach = side_release,
	.lookup = hom_lookup,
	.delete = hom_delete,
	.sys_lookup = hom_sys_lookup,
	.sys_update = hom_sys_update,
	.get_next_key = htab_get_next_key,
};
