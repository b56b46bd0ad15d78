/* lru.c — the LRU hash maps' recency list and eviction (second chance over insertion order). */
#include <sched.h>

#include "maps/htab.h"

/*
 * The kernel's LRU is approximate; so is this one. Elements are put at the
 * head of one list when inserted; lookups by programs only set a reference
 * bit (no lock, no list change). When the pool is empty, eviction walks from
 * the tail: an element with its bit set loses it and moves to the head (a
 * second chance), the first one without is evicted — unless its bucket is
 * busy, then the next one is tried.
 *
 * Lock order: a bucket lock, then the LRU lock. Eviction holds the LRU lock
 * and only *tries* bucket locks, so it can never wait in a cycle. An element
 * is on the list exactly when it is in a chain: both change under its bucket
 * lock.
 */

static void list_unlink(struct bpfrt_map *m, uint32_t i)
{
	struct htab_hdr *h = hhdr(m);
	struct lru_node *n = lnode(m, i);

	if (n->prev != LRU_NONE)
		lnode(m, n->prev)->next = n->next;
	else
		h->lru_head = n->next;
	if (n->next != LRU_NONE)
		lnode(m, n->next)->prev = n->prev;
	else
		h->lru_tail = n->prev;
}

static void list_push_head(struct bpfrt_map *m, uint32_t i)
{
	struct htab_hdr *h = hhdr(m);
	struct lru_node *n = lnode(m, i);

	n->prev = LRU_NONE;
	n->next = h->lru_head;
	if (h->lru_head != LRU_NONE)
		lnode(m, h->lru_head)->prev = i;
	else
		h->lru_tail = i;
	h->lru_head = i;
}

void lru_push_head(struct bpfrt_map *m, uint32_t i)
{
	plock_lock(&hhdr(m)->lru_lock);
	atomic_store_explicit(&lnode(m, i)->ref, 0, memory_order_relaxed);
	list_push_head(m, i);
	plock_unlock(&hhdr(m)->lru_lock);
}

void lru_remove(struct bpfrt_map *m, uint32_t i)
{
	plock_lock(&hhdr(m)->lru_lock);
	list_unlink(m, i);
	plock_unlock(&hhdr(m)->lru_lock);
}

/* Take one element out of the map, least recently used first; LRU_NONE if none could be. */
static uint32_t evict_locked(struct bpfrt_map *m)
{
	struct htab_hdr *h = hhdr(m);
	uint64_t budget = 2ull * m->max_entries + 8;	/* bounded even if the list is damaged */
	uint32_t cur = h->lru_tail;

	while (cur != LRU_NONE && cur < m->max_entries && budget--) {
		struct lru_node *n = lnode(m, cur);
		uint32_t prev = n->prev, b;

		if (atomic_load_explicit(&n->ref, memory_order_relaxed)) {
			atomic_store_explicit(&n->ref, 0, memory_order_relaxed);
			list_unlink(m, cur);
			list_push_head(m, cur);
			cur = prev != LRU_NONE ? prev : h->lru_tail;
			continue;
		}
		b = atomic_load_explicit(&helem(m, cur)->hash, memory_order_relaxed) & m->mask;
		if (plock_trylock(&hbucket(m, b)->lock)) {
			/*
			 * Only an element found in its chain is the map's to take.
			 * One that is not is a stale entry of a list that a process
			 * killed mid-change left damaged (it may be free, or another
			 * writer's): skip it; lru_alloc rebuilds the list.
			 */
			bool linked = htab_unlink_locked(m, b, cur);

			if (linked)
				list_unlink(m, cur);
			plock_unlock(&hbucket(m, b)->lock);
			if (linked)
				return cur;
		}
		cur = prev;
	}
	return LRU_NONE;
}

/* Is element i in bucket b's chain? (bucket lock held) */
static bool in_chain(struct bpfrt_map *m, uint32_t b, uint32_t i)
{
	uint32_t link = atomic_load_explicit(&hbucket(m, b)->head, memory_order_relaxed);

	for (uint32_t n = 0; !(link & 1) && n <= m->max_entries; n++) {
		if (link >> 1 == i)
			return true;
		link = atomic_load_explicit(&helem(m, link >> 1)->next, memory_order_relaxed);
	}
	return false;
}

/*
 * Make the list again from the chains: every element in a chain, and no
 * other. For a list a dead process left damaged; it takes every bucket lock
 * (in order, so rebuilders cannot deadlock), then the LRU lock, which is the
 * documented lock order.
 */
static void lru_rebuild(struct bpfrt_map *m)
{
	struct htab_hdr *h = hhdr(m);
	uint32_t used = atomic_load(&h->bump);

	for (uint32_t b = 0; b < h->nbuckets; b++)
		plock_lock(&hbucket(m, b)->lock);
	plock_lock(&h->lru_lock);
	h->lru_head = h->lru_tail = LRU_NONE;
	for (uint32_t i = 0; i < used && i < m->max_entries; i++) {
		uint32_t b = atomic_load_explicit(&helem(m, i)->hash, memory_order_relaxed) &
			     m->mask;

		if (in_chain(m, b, i))
			list_push_head(m, i);
	}
	plock_unlock(&h->lru_lock);
	for (uint32_t b = 0; b < h->nbuckets; b++)
		plock_unlock(&hbucket(m, b)->lock);
}

uint32_t lru_alloc(struct bpfrt_map *m)
{
	uint32_t i;

	for (unsigned fails = 1;; fails++) {
		if (htab_alloc_elem(m, &i))
			return i;
		plock_lock(&hhdr(m)->lru_lock);
		i = evict_locked(m);
		plock_unlock(&hhdr(m)->lru_lock);
		if (i != LRU_NONE)
			return i;
		/* Every element is being inserted or deleted right now, or the list is damaged. */
		if (fails % 256 == 0)
			lru_rebuild(m);
		sched_yield();
	}
}
