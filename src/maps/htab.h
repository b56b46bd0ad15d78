/* htab.h — the hash maps' block layout, shared by hash.c and lru.c (internal to src/maps). */
#ifndef BPFRT_MAPS_HTAB_H
#define BPFRT_MAPS_HTAB_H

#include <stdalign.h>

#include "maps/map.h"
#include "maps/pcache.h"
#include "maps/sync.h"

/*
 * Block: [header page][buckets][elements][LRU nodes][per-CPU values][caches].
 *
 * A bucket is a lock word and the link to its first element. A link is
 * (element number << 1), or (bucket number << 1 | 1) at the end of a chain
 * (a "nulls" end: a lock-free reader that followed an element into another
 * chain while it was being reused notices it ended in the wrong bucket and
 * starts over). Elements come from a pool of max_entries: per-CPU caches
 * (sync.h: no locked instruction), a lock-free free list, and a bump counter
 * for those never used. An element is its header,
 * the key (rounded up to 8 bytes) and, except in per-CPU maps, the value.
 */
#define LINK_ELEM(i)   ((uint32_t)(i) << 1)
#define LINK_NULLS(b)  ((uint32_t)(b) << 1 | 1)
#define LRU_NONE       UINT32_MAX
#define HTAB_HASH4_FAST 1u

struct htab_hdr {
	uint64_t seed;
	uint64_t buckets_off, elems_off, lru_off, pcpu_off;
	uint32_t nbuckets, elem_size;
	uint32_t npcache;		/* per-CPU caches of free elements at pcache_off; */
	uint64_t pcache_off;		/* 0 in small maps (and in blocks of older builds) */
	alignas(64) _Atomic uint64_t free_head;	/* see flist_push */
	_Atomic uint32_t bump;			/* elements [0, bump) were handed out */
	/*
	 * HTAB_HASH4_FAST: 4-byte keys hash with map_hash4 (one multiply);
	 * 0 in blocks of older builds, whose 4-byte keys hash with map_hash.
	 */
	uint32_t hash4;
	/*
	 * Once the element count; no longer kept (two atomic adds per insert and
	 * delete for a number nothing read). The word stays so that the layout
	 * of blocks pinned by older builds is unchanged; htab_elems_in_use
	 * counts from the pool instead.
	 */
	alignas(64) uint32_t unused;
	alignas(64) plock_t lru_lock;		/* guards the LRU list */
	uint32_t lru_head, lru_tail;		/* most and least recently inserted */
};

struct htab_bucket {
	plock_t lock;
	_Atomic uint32_t head;
};

struct htab_elem {
	_Atomic uint32_t next;
	_Atomic uint32_t hash;
	seq_t seq;			/* bumped around every write of key or value */
	_Atomic uint32_t free_next;	/* link in the free list */
	uint8_t key[];
};

struct lru_node {
	uint32_t prev, next;		/* towards head, towards tail */
	_Atomic uint8_t ref;		/* looked up since it last reached the tail */
	uint8_t pad[3];
};

static inline struct htab_hdr *hhdr(const struct bpfrt_map *m)
{
	return (struct htab_hdr *)(m->base + MAP_FAMILY_OFF);
}

/* Does m hash its 4-byte keys with map_hash4 (hashfn.h)? */
static inline bool htab_hash4_fast(const struct bpfrt_map *m)
{
	return hhdr(m)->hash4 == HTAB_HASH4_FAST;
}

static inline struct htab_bucket *hbucket(const struct bpfrt_map *m, uint32_t b)
{
	return (struct htab_bucket *)m->area + b;
}

static inline struct htab_elem *helem(const struct bpfrt_map *m, uint32_t i)
{
	return (struct htab_elem *)(m->elems + (size_t)i * m->elem_size);
}

static inline struct lru_node *lnode(const struct bpfrt_map *m, uint32_t i)
{
	return (struct lru_node *)m->lru + i;
}

static inline uint32_t htab_key_room(const struct bpfrt_map *m)
{
	return (m->key_size + 7) & ~7u;
}

/* Element i's value, or its value for cpu in a per-CPU map. */
static inline uint8_t *helem_value(const struct bpfrt_map *m, uint32_t i, uint32_t cpu)
{
	if (m->pcpu)
		return map_pcpu_value(m, i, cpu);
	return helem(m, i)->key + htab_key_room(m);
}

static inline struct pool htab_pool(const struct bpfrt_map *m)
{
	return (struct pool){ m->elems, m->elem_size, offsetof(struct htab_elem, free_next) };
}

static inline struct pcache *htab_pcache(const struct bpfrt_map *m)
{
	return (struct pcache *)(m->base + hhdr(m)->pcache_off);
}

/* hash.c: the slow paths of the two below (the caches' retries, the free list, the bump, stealing). */
void htab_free_elem_slow(struct bpfrt_map *m, uint32_t i);
bool htab_alloc_elem_slow(struct bpfrt_map *m, uint32_t *i);

/* This CPU's cache (one try inline), else the free list. */
static inline void htab_free_elem(struct bpfrt_map *m, uint32_t i)
{
	struct htab_hdr *h = hhdr(m);
	struct pool p = htab_pool(m);

	if (__builtin_expect(!h->npcache || pcache_push_once(htab_pcache(m), h->npcache, &p, i), 0))
		htab_free_elem_slow(m, i);
}

/* This CPU's cache, the free list, the never used, then the other CPUs' caches. */
static inline bool htab_alloc_elem(struct bpfrt_map *m, uint32_t *i)
{
	struct htab_hdr *h = hhdr(m);
	struct pool p = htab_pool(m);

	if (__builtin_expect(h->npcache && !pcache_pop_once(htab_pcache(m), h->npcache, &p, i), 1))
		return true;
	return htab_alloc_elem_slow(m, i);
}

static inline bool htab_is_lru(const struct bpfrt_map *m)
{
	return m->lru != NULL;
}

/* hash.c: remove element i from bucket b's chain (bucket lock held). */
bool htab_unlink_locked(struct bpfrt_map *m, uint32_t b, uint32_t i);

/* hash.c: elements handed out and not free (walks the free list; for a map nobody changes meanwhile). */
uint32_t htab_elems_in_use(struct bpfrt_map *m);

/* lru.c */
uint32_t lru_alloc(struct bpfrt_map *m);		/* never fails: evicts */
void lru_push_head(struct bpfrt_map *m, uint32_t i);	/* element's bucket lock held */
void lru_remove(struct bpfrt_map *m, uint32_t i);	/* element's bucket lock held */

static inline void lru_touch(struct bpfrt_map *m, uint32_t i)
{
	struct lru_node *n = lnode(m, i);

	if (!atomic_load_explicit(&n->ref, memory_order_relaxed))
		atomic_store_explicit(&n->ref, 1, memory_order_relaxed);
}

#endif /* BPFRT_MAPS_HTAB_H */
