/* xdp_maps.h — what devmap, cpumap and xskmap share: one 8-byte slot per index, 0 = empty. */
#ifndef BPFRT_MAPS_XDP_MAPS_H
#define BPFRT_MAPS_XDP_MAPS_H

#include <errno.h>
#include <string.h>

#include "maps/map.h"
#include "util/error.h"

/*
 * Block: [header page][max_entries slots of 8 bytes]. A slot holds the
 * entry's value (value_size bytes, zero-padded); its first u32 (ifindex,
 * queue size, socket id) is never 0 in a used slot. Slots are written
 * with one 64-bit atomic store, so programs and other processes see a
 * whole entry or none.
 */
static inline int64_t xslots_check(struct map_block *b, const char *what, bool v8,
				   uint32_t flags, struct bpfrt_error *err)
{
	int ret;

	if (b->key_size != 4 || !b->max_entries ||
	    !(b->value_size == 4 || (v8 && b->value_size == 8)))
		return err_set(err, -EINVAL, -1, "%s maps need key_size 4, value_size %s "
			       "and max_entries > 0", what, v8 ? "4 or 8" : "4");
	ret = map_check_flags(b, flags, err);
	if (ret)
		return ret;
	return (int64_t)(MAP_PAGE + map_align((uint64_t)b->max_entries * 8, MAP_PAGE));
}

static inline int xslots_attach(struct bpfrt_map *m)
{
	m->area = m->base + MAP_PAGE;
	return 0;
}

static inline void xslots_init(struct bpfrt_map *m)
{
	(void)m;
}

static inline _Atomic uint64_t *xslot(const struct bpfrt_map *m, uint32_t i)
{
	return (_Atomic uint64_t *)(void *)(m->area + (size_t)i * 8);
}

static inline uint32_t xslot_key(const void *key)
{
	uint32_t i;

	memcpy(&i, key, sizeof(i));
	return i;
}

/* The program face: the slot's value, or NULL if out of range or empty. */
static inline void *xslots_lookup(struct bpfrt_map *m, const void *key)
{
	uint32_t i = xslot_key(key);

	if (i >= m->max_entries || !atomic_load_explicit(xslot(m, i), memory_order_acquire))
		return NULL;
	return (void *)xslot(m, i);
}

static inline void xslots_store(struct bpfrt_map *m, uint32_t i, const void *value)
{
	uint64_t v = 0;

	if (value)
		memcpy(&v, value, m->value_size);
	atomic_store_explicit(xslot(m, i), v, memory_order_release);
}

static inline int xslots_sys_lookup(struct bpfrt_map *m, const void *key, void *value)
{
	uint32_t i = xslot_key(key);
	uint64_t v;

	if (i >= m->max_entries)
		return -ENOENT;
	v = atomic_load_explicit(xslot(m, i), memory_order_acquire);
	if (!v)
		return -ENOENT;
	memcpy(value, &v, m->value_size);
	return 0;
}

/* Delete as the kernel does for these maps: -EINVAL out of range, else 0 (empty or not). */
static inline long xslots_delete(struct bpfrt_map *m, const void *key)
{
	uint32_t i = xslot_key(key);

	if (i >= m->max_entries)
		return -EINVAL;
	xslots_store(m, i, NULL);
	return 0;
}

static inline bool xslots_region(struct bpfrt_map *m, void **base, size_t *len)
{
	*base = m->area;
	*len = (size_t)m->max_entries * 8;
	return true;
}

#endif /* BPFRT_MAPS_XDP_MAPS_H */
