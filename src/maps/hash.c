/* hash.c — hash, percpu_hash, lru_hash and lru_percpu_hash: buckets of chained elements from a pool. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "maps/hashfn.h"
#include "maps/htab.h"
#include "util/error.h"

/*
 * Locking (see htab.h for the layout):
 * - Writers (update, delete) hold the bucket's lock. They change chains only
 *   by single release-stores of a link, after the element is complete, so a
 *   chain is consistent after every store (a writer that dies leaks at most
 *   one element).
 * - Program lookups take no lock: they walk the chain with acquire loads and
 *   restart if it ends in another bucket's nulls (the element they stood on
 *   was reused meanwhile). The value pointer they return stays valid memory
 *   forever; if the element is deleted and reused, the program sees the new
 *   contents — as with the kernel's preallocated maps.
 * - User-space copies never tear: every write of an element's key or value
 *   happens between two bumps of its sequence count, and a copy-out retries
 *   until it copied between two equal even counts (then falls back to the
 *   bucket lock).
 * - An update of an existing key writes the value in place (the pool needs
 *   no spare element); a new key takes an element from the pool, -E2BIG if
 *   it is empty. LRU maps evict instead (lru.c).
 */
#define PERCPU_VALUE_MAX 32768u

static bool is_percpu_type(uint32_t type)
{
	return type == BPFRT_MAP_PERCPU_HASH || type == BPFRT_MAP_LRU_PERCPU_HASH;
}

static bool is_lru_type(uint32_t type)
{
	return type == BPFRT_MAP_LRU_HASH || type == BPFRT_MAP_LRU_PERCPU_HASH;
}

/* ---- Layout --------------------------------------------------------------- */

struct htab_layout {
	uint64_t buckets_off, elems_off, lru_off, pcpu_off, pcache_off, size;
	uint32_t nbuckets, elem_size, npcache;
};

/*
 * Per-CPU caches of free elements, one for each CPU the machine may have,
 * where they hold at most an eighth of the pool: a thread that cannot run
 * on another CPU (its affinity) can then not reach more than that (see
 * pcache.c). Smaller maps use the free list alone.
 */
static uint32_t pcache_count(uint32_t max_entries)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	if (n < 1 || n > 1024 || pcache_cpu() < 0)
		return 0;
	return (uint64_t)n * PCACHE_CAP * 8 <= max_entries ? (uint32_t)n : 0;
}

static uint32_t pow2_at_least(uint32_t n)
{
	return n <= 1 ? 1 : 1u << (32 - __builtin_clz(n - 1));
}

static bool htab_layout(const struct map_block *b, struct htab_layout *l)
{
	bool percpu = is_percpu_type(b->type), lru = is_lru_type(b->type);
	uint64_t size = MAP_PAGE;

	l->nbuckets = pow2_at_least(b->max_entries);
	l->elem_size = (uint32_t)(sizeof(struct htab_elem) + map_align(b->key_size, 8) +
				  (percpu ? 0 : map_align(b->value_size, 8)));
	l->buckets_off = size;
	if (!map_size_add(&size, l->nbuckets, sizeof(struct htab_bucket)))
		return false;
	l->elems_off = size = map_align(size, 64);
	if (!map_size_add(&size, b->max_entries, l->elem_size))
		return false;
	l->lru_off = size = map_align(size, 64);
	if (lru && !map_size_add(&size, b->max_entries, sizeof(struct lru_node)))
		return false;
	l->pcpu_off = size = map_align(size, 64);
	if (percpu && !map_size_add(&size, (uint64_t)b->max_entries * b->ncpus,
				    map_align(b->value_size, 8)))
		return false;
	l->npcache = pcache_count(b->max_entries);
	l->pcache_off = size = map_align(size, 64);
	if (!map_size_add(&size, l->npcache, sizeof(struct pcache)))
		return false;
	l->size = size;
	return true;
}

int64_t htab_check(struct map_block *b, bool percpu, bool lru, struct bpfrt_error *err)
{
	uint32_t allowed = MAP_F_NO_PREALLOC | MAP_F_NUMA_NODE | MAP_F_ACCESS_MASK |
			   MAP_F_ZERO_SEED | (lru ? MAP_F_NO_COMMON_LRU : 0);
	struct htab_layout l;
	int ret;

	if (!b->key_size || !b->value_size || !b->max_entries)
		return err_set(err, -EINVAL, -1,
			       "hash maps need key_size, value_size and max_entries > 0");
	ret = map_check_flags(b, allowed, err);
	if (ret)
		return ret;
	if (lru && (b->map_flags & MAP_F_NO_PREALLOC))
		return err_set(err, -ENOTSUP, -1, "LRU maps are always preallocated");
	if (percpu && b->value_size > PERCPU_VALUE_MAX)
		return err_set(err, -E2BIG, -1, "per-CPU values are at most %u bytes",
			       PERCPU_VALUE_MAX);
	if (b->max_entries > 1u << 31 || b->key_size > 1u << 16 || !htab_layout(b, &l))
		return err_set(err, -E2BIG, -1, "the hash map would be too big");
	return (int64_t)l.size;
}

static uint64_t new_seed(bool zero)
{
	uint64_t s = 0;
	struct timespec ts;

	if (zero)
		return 0;
	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) == (ssize_t)sizeof(s))
		return s;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return hash_fold((uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)&s, HASH_K0);
}

void htab_init(struct bpfrt_map *m)
{
	const struct map_block *b = (const struct map_block *)m->base;
	struct htab_hdr *h = hhdr(m);
	struct htab_layout l;

	htab_layout(b, &l);
	if (l.size > b->size)	/* the CPU count changed since htab_check */
		l.npcache = 0;
	h->seed = new_seed(b->map_flags & MAP_F_ZERO_SEED);
	h->buckets_off = l.buckets_off;
	h->elems_off = l.elems_off;
	h->lru_off = l.lru_off;
	h->pcpu_off = l.pcpu_off;
	h->nbuckets = l.nbuckets;
	h->elem_size = l.elem_size;
	h->npcache = l.npcache;
	h->pcache_off = l.npcache ? l.pcache_off : 0;
	h->lru_head = h->lru_tail = LRU_NONE;
	h->hash4 = HTAB_HASH4_FAST;
	for (uint32_t i = 0; i < l.nbuckets; i++)
		atomic_init(&((struct htab_bucket *)(m->base + l.buckets_off))[i].head,
			    LINK_NULLS(i));
}

int htab_attach(struct bpfrt_map *m)
{
	struct htab_hdr *h = hhdr(m);

	m->area = m->base + h->buckets_off;
	m->elems = m->base + h->elems_off;
	m->lru = is_lru_type(m->type) ? m->base + h->lru_off : NULL;
	m->pcpu = is_percpu_type(m->type) ? m->base + h->pcpu_off : NULL;
	m->mask = h->nbuckets - 1;
	m->elem_size = h->elem_size;
	m->seed = h->seed;
	return 0;
}

/* ---- Finding elements ----------------------------------------------------- */

/*
 * Every function below that takes `ks` is a template: ks is a constant at
 * each call, 4, 8 or 16 in the copies specialised for those key sizes (see
 * "The four types"), 0 in the generic copy, which reads m->key_size.
 */
#define HOT __attribute__((always_inline)) inline
#define KSZ(m, ks) ((ks) ? (uint32_t)(ks) : (m)->key_size)

/*
 * The writers are templates over the map's type too: `kind` is HK_HASH,
 * HK_LRU, HK_PCPU or HK_LRU | HK_PCPU in the copies of the program face,
 * where the type is known, and HK_ANY in the generic copy (user space,
 * callbacks), which asks the map. A plain hash map's update then has no
 * LRU or per-CPU code in it at all.
 */
enum { HK_HASH = 0, HK_LRU = 1, HK_PCPU = 2, HK_ANY = 4 };
#define K_LRU(m, kind) ((kind) & HK_ANY ? htab_is_lru(m) : ((kind) & HK_LRU) != 0)
#define K_PCPU(m, kind) ((kind) & HK_ANY ? (m)->pcpu != NULL : ((kind) & HK_PCPU) != 0)

static HOT uint32_t key_hash(const struct bpfrt_map *m, const void *key, uint32_t ks)
{
	if (ks == 4 || (!ks && m->key_size == 4))	/* devmap_hash and hash_of_maps: ks 0, size 4 */
		return __builtin_expect(htab_hash4_fast(m), 1) ? map_hash4(key, m->seed)
							       : map_hash(key, 4, m->seed);
	if (ks)
		return map_hash(key, ks, m->seed);
	switch (m->key_size) {
	case 8:
		return map_hash(key, 8, m->seed);
	default:
		return map_hash(key, m->key_size, m->seed);
	}
}

/* A key of 4 or 8 bytes is compared whole (one load); longer ones are screened by the hash first. */
static HOT bool elem_is(const struct bpfrt_map *m, const struct htab_elem *e,
			uint32_t hash, const void *key, uint32_t ks)
{
	if (ks == 4 || ks == 8)
		return map_key_eq(e->key, key, ks);
	return atomic_load_explicit(&e->hash, memory_order_relaxed) == hash &&
	       map_key_eq(e->key, key, KSZ(m, ks));
}

/* Lock-free: the element number holding key, or -1. */
static HOT int64_t find_rcu(const struct bpfrt_map *m, const void *key, uint32_t hash,
			    uint32_t ks)
{
	uint32_t b = hash & m->mask, link, steps;

again:
	steps = 0;
	link = atomic_load_explicit(&hbucket(m, b)->head, memory_order_acquire);
	while (!(link & 1)) {
		const struct htab_elem *e = helem(m, link >> 1);

		if (elem_is(m, e, hash, key, ks))
			return link >> 1;
		link = atomic_load_explicit(&e->next, memory_order_acquire);
		if (__builtin_expect(++steps > m->max_entries, 0))
			goto again;	/* only while chains change under us */
	}
	if (__builtin_expect((link >> 1) != b, 0))
		goto again;
	return -1;
}

/* Under bucket b's lock: the element holding key and the link that points to it. */
static HOT int64_t find_locked(const struct bpfrt_map *m, uint32_t b, const void *key,
			       uint32_t hash, _Atomic uint32_t **prev, uint32_t ks)
{
	_Atomic uint32_t *p = &hbucket(m, b)->head;
	uint32_t link;

	while (!((link = atomic_load_explicit(p, memory_order_relaxed)) & 1)) {
		struct htab_elem *e = helem(m, link >> 1);

		if (elem_is(m, e, hash, key, ks)) {
			*prev = p;
			return link >> 1;
		}
		p = &e->next;
	}
	return -1;
}

bool htab_unlink_locked(struct bpfrt_map *m, uint32_t b, uint32_t i)
{
	_Atomic uint32_t *p = &hbucket(m, b)->head;
	uint32_t link;

	while (!((link = atomic_load_explicit(p, memory_order_relaxed)) & 1)) {
		struct htab_elem *e = helem(m, link >> 1);

		if (link >> 1 == i) {
			atomic_store_explicit(p, atomic_load(&e->next), memory_order_release);
			return true;
		}
		p = &e->next;
	}
	return false;
}

int64_t htab_slot_of(struct bpfrt_map *m, const void *key)
{
	return find_rcu(m, key, key_hash(m, key, 0), 0);
}

uint32_t htab_elems_in_use(struct bpfrt_map *m)
{
	struct htab_hdr *h = hhdr(m);
	uint32_t used = atomic_load(&h->bump), link = (uint32_t)atomic_load(&h->free_head);

	for (uint32_t n = 0; link && n < m->max_entries; n++, used--)
		link = atomic_load(&helem(m, link - 1)->free_next);
	for (uint32_t c = 0; c < h->npcache; c++) {
		link = (uint32_t)atomic_load(&htab_pcache(m)[c].word);
		for (uint32_t n = 0; link && n < m->max_entries; n++, used--)
			link = atomic_load(&helem(m, link - 1)->free_next);
	}
	return used;
}

/* ---- Writing elements ----------------------------------------------------- */

void htab_free_elem_slow(struct bpfrt_map *m, uint32_t i)
{
	struct htab_hdr *h = hhdr(m);
	struct pool p = htab_pool(m);

	if (!h->npcache || !pcache_push(htab_pcache(m), h->npcache, &p, i))
		flist_push(&h->free_head, &p, i);
}

bool htab_alloc_elem_slow(struct bpfrt_map *m, uint32_t *i)
{
	struct htab_hdr *h = hhdr(m);
	struct pool p = htab_pool(m);

	if (h->npcache && pcache_pop(htab_pcache(m), h->npcache, &p, i))
		return true;
	return flist_pop(&h->free_head, &p, i) || pool_bump(&h->bump, m->max_entries, i) ||
	       (h->npcache && pcache_steal(htab_pcache(m), h->npcache, &p, i));
}


/* How an update writes the value: copied (this CPU's or all CPUs'), or by a callback. */
struct htab_write {
	const void *value;
	bool all_cpus;
	htab_swap_fn swap;
	void *arg;
};

/* memcpy, with the common value and key sizes as plain moves instead of a call. */
static HOT void copy_bytes(void *d, const void *s, uint32_t n)
{
	uint64_t a, b;

	switch (n) {
	case 4:
		memcpy(&a, s, 4), memcpy(d, &a, 4);
		break;
	case 8:
		memcpy(&a, s, 8), memcpy(d, &a, 8);
		break;
	case 16:
		memcpy(&a, s, 8), memcpy(&b, (const uint8_t *)s + 8, 8);
		memcpy(d, &a, 8), memcpy((uint8_t *)d + 8, &b, 8);
		break;
	default:
		memcpy(d, s, n);
	}
}

static HOT void write_value(struct bpfrt_map *m, uint32_t i, const struct htab_write *w,
			    bool fresh, unsigned kind)
{
	const uint8_t *v = w->value;
	uint32_t me;

	if ((kind & HK_ANY) && w->swap) {
		w->swap(m, i, fresh, w->arg);
		return;
	}
	if (!K_PCPU(m, kind)) {
		copy_bytes(helem_value(m, i, 0), v, m->value_size);
		return;
	}
	if (w->all_cpus) {
		for (uint32_t c = 0; c < m->ncpus; c++)
			memcpy(helem_value(m, i, c), v + (size_t)c * m->stride, m->stride);
		return;
	}
	me = map_this_cpu(m);
	for (uint32_t c = 0; fresh && c < m->ncpus; c++)
		if (c != me)
			memset(helem_value(m, i, c), 0, m->stride);
	memcpy(helem_value(m, i, me), v, m->value_size);
}

/* Fill element i with key and value and put it at the head of bucket b (lock held). */
static HOT void link_new(struct bpfrt_map *m, uint32_t b, uint32_t i, uint32_t hash,
			 const void *key, const struct htab_write *w, uint32_t ks, unsigned kind)
{
	struct htab_elem *e = helem(m, i);
	struct htab_bucket *bk = hbucket(m, b);

	seq_fix(&e->seq);	/* a writer that died mid-copy left it odd */
	seq_write_begin(&e->seq);
	atomic_store_explicit(&e->hash, hash, memory_order_relaxed);
	copy_bytes(e->key, key, KSZ(m, ks));
	write_value(m, i, w, true, kind);
	seq_write_end(&e->seq);
	atomic_store_explicit(&e->next, atomic_load_explicit(&bk->head, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(&bk->head, LINK_ELEM(i), memory_order_release);
}

static HOT void write_existing(struct bpfrt_map *m, uint32_t i, const struct htab_write *w,
				unsigned kind)
{
	seq_t *seq = &helem(m, i)->seq;

	seq_fix(seq);	/* a writer that died mid-copy left it odd */
	seq_write_begin(seq);
	write_value(m, i, w, false, kind);
	seq_write_end(seq);
}

/* The flags check and the decision, under bucket b's lock. */
static HOT long update_locked(struct bpfrt_map *m, uint32_t b, uint32_t hash, const void *key,
			      uint64_t flags, const struct htab_write *w, uint32_t *spare,
			      uint32_t ks, unsigned kind)
{
	_Atomic uint32_t *prev;
	int64_t old = find_locked(m, b, key, hash, &prev, ks);
	uint32_t i;

	if (old >= 0) {
		if (flags == BPFRT_NOEXIST)
			return -EEXIST;
		write_existing(m, (uint32_t)old, w, kind);
		if (K_LRU(m, kind))
			lru_touch(m, (uint32_t)old);
		return 0;
	}
	if (flags == BPFRT_EXIST)
		return -ENOENT;
	if (K_LRU(m, kind) && *spare != LRU_NONE)
		i = *spare, *spare = LRU_NONE;
	else if (!htab_alloc_elem(m, &i))
		return -E2BIG;
	link_new(m, b, i, hash, key, w, ks, kind);
	if (K_LRU(m, kind))
		lru_push_head(m, i);
	return 0;
}

static HOT long update_common(struct bpfrt_map *m, const void *key, uint64_t flags,
			      const struct htab_write *w, uint32_t ks, unsigned kind)
{
	uint32_t hash, b, spare = LRU_NONE;
	long ret;

	if (flags > BPFRT_EXIST)
		return -EINVAL;	/* BPF_F_LOCK too: values hold no bpf_spin_lock */
	/* LRU maps take their element first, evicting if need be, as the kernel does. */
	if (K_LRU(m, kind))
		spare = lru_alloc(m);
	hash = key_hash(m, key, ks);
	b = hash & m->mask;
	plock_lock(&hbucket(m, b)->lock);
	ret = update_locked(m, b, hash, key, flags, w, &spare, ks, kind);
	plock_unlock(&hbucket(m, b)->lock);
	if (K_LRU(m, kind) && __builtin_expect(spare != LRU_NONE, 0))
		htab_free_elem(m, spare);
	return ret;
}

/* Any key size, any way of writing: the copy the callbacks and user space use. */
static __attribute__((noinline)) long update_generic(struct bpfrt_map *m, const void *key,
						     uint64_t flags,
						     const struct htab_write *w)
{
	return update_common(m, key, flags, w, 0, HK_ANY);
}

long htab_update_slot(struct bpfrt_map *m, const void *key, uint64_t flags,
		      htab_swap_fn swap, void *arg)
{
	struct htab_write w = { .swap = swap, .arg = arg };

	return update_generic(m, key, flags, &w);
}

static HOT long delete_common(struct bpfrt_map *m, const void *key, htab_swap_fn swap,
			      void *arg, uint32_t ks, unsigned kind)
{
	uint32_t hash = key_hash(m, key, ks), b = hash & m->mask;
	_Atomic uint32_t *prev;
	int64_t i;

	plock_lock(&hbucket(m, b)->lock);
	i = find_locked(m, b, key, hash, &prev, ks);
	if (i < 0) {
		plock_unlock(&hbucket(m, b)->lock);
		return -ENOENT;
	}
	atomic_store_explicit(prev, atomic_load_explicit(&helem(m, (uint32_t)i)->next,
							 memory_order_relaxed),
			      memory_order_release);
	if (K_LRU(m, kind))
		lru_remove(m, (uint32_t)i);
	if ((kind & HK_ANY) && swap)
		swap(m, (uint32_t)i, false, arg);
	plock_unlock(&hbucket(m, b)->lock);
	htab_free_elem(m, (uint32_t)i);
	return 0;
}

long htab_delete_slot(struct bpfrt_map *m, const void *key, htab_swap_fn swap, void *arg)
{
	return delete_common(m, key, swap, arg, 0, HK_ANY);
}

/* ---- The program face ----------------------------------------------------- */

/* bpf_map_lookup_elem: the value (this CPU's in per-CPU maps); LRU maps mark the element used. */
static HOT void *lookup_common(struct bpfrt_map *m, const void *key, uint32_t ks,
			       bool lru, bool percpu)
{
	int64_t i = find_rcu(m, key, key_hash(m, key, ks), ks);

	if (i < 0)
		return NULL;
	if (lru)
		lru_touch(m, (uint32_t)i);
	if (percpu)
		return map_pcpu_value(m, (uint32_t)i, map_this_cpu(m));
	return helem(m, (uint32_t)i)->key + map_align(KSZ(m, ks), 8);
}

static void *htab_lookup_percpu_cpu(struct bpfrt_map *m, const void *key, uint32_t cpu)
{
	int64_t i = find_rcu(m, key, key_hash(m, key, 0), 0);

	if (i < 0)
		return NULL;
	if (htab_is_lru(m))
		lru_touch(m, (uint32_t)i);
	return helem_value(m, (uint32_t)i, cpu);
}

static long htab_for_each(struct bpfrt_map *m, callback_fn_t fn, void *ctx)
{
	uint32_t cpu = map_this_cpu(m);
	long n = 0;

	for (uint32_t b = 0; b <= m->mask; b++) {
		uint32_t link = atomic_load_explicit(&hbucket(m, b)->head, memory_order_acquire);

		while (!(link & 1)) {
			struct htab_elem *e = helem(m, link >> 1);

			n++;
			if (fn(m, e->key, helem_value(m, link >> 1, cpu), ctx))
				return n;
			link = atomic_load_explicit(&e->next, memory_order_acquire);
		}
	}
	return n;
}

static bool htab_region(struct bpfrt_map *m, void **base, size_t *len)
{
	if (m->pcpu) {
		*base = m->pcpu;
		*len = (size_t)m->max_entries * m->ncpus * m->stride;
	} else {
		*base = m->elems;
		*len = (size_t)m->max_entries * m->elem_size;
	}
	return true;
}

/* ---- The user-space face ---------------------------------------------------- */

static void copy_out(struct bpfrt_map *m, uint32_t i, void *value)
{
	if (!m->pcpu) {
		memcpy(value, helem_value(m, i, 0), m->value_size);
		return;
	}
	for (uint32_t c = 0; c < m->ncpus; c++)
		memcpy((uint8_t *)value + (size_t)c * m->stride, helem_value(m, i, c), m->stride);
}

/* Copy key's value out without tearing: lock-free retries, then the bucket lock. */
static int htab_sys_lookup(struct bpfrt_map *m, const void *key, void *value)
{
	uint32_t hash = key_hash(m, key, 0), b = hash & m->mask, v;
	_Atomic uint32_t *prev;
	int64_t i;

	for (int tries = 0; tries < SEQ_TRIES; tries++) {
		struct htab_elem *e;

		i = find_rcu(m, key, hash, 0);
		if (i < 0)
			return -ENOENT;
		e = helem(m, (uint32_t)i);
		if (!seq_read_begin(&e->seq, &v) || !elem_is(m, e, hash, key, 0))
			continue;
		copy_out(m, (uint32_t)i, value);
		if (seq_read_ok(&e->seq, v))
			return 0;
	}
	plock_lock(&hbucket(m, b)->lock);
	i = find_locked(m, b, key, hash, &prev, 0);
	if (i >= 0) {
		seq_fix(&helem(m, (uint32_t)i)->seq);
		copy_out(m, (uint32_t)i, value);
	}
	plock_unlock(&hbucket(m, b)->lock);
	return i < 0 ? -ENOENT : 0;
}

static int htab_sys_update(struct bpfrt_map *m, const void *key, const void *value,
			   uint64_t flags)
{
	struct htab_write w = { .value = value, .all_cpus = true };

	return (int)update_generic(m, key, flags, &w);
}

static void copy_out_swap(struct bpfrt_map *m, uint32_t i, bool fresh, void *value)
{
	(void)fresh;
	copy_out(m, i, value);
}

static int htab_sys_lookup_and_delete(struct bpfrt_map *m, const void *key, void *value)
{
	return (int)htab_delete_slot(m, key, copy_out_swap, value);
}

/* The first key of bucket b or a later one, copied under its lock. */
static int first_key_from(struct bpfrt_map *m, uint32_t b, void *next)
{
	for (; b <= m->mask; b++) {
		struct htab_bucket *bk = hbucket(m, b);
		uint32_t link;

		if (atomic_load_explicit(&bk->head, memory_order_relaxed) & 1)
			continue;
		plock_lock(&bk->lock);
		link = atomic_load_explicit(&bk->head, memory_order_relaxed);
		if (!(link & 1))
			memcpy(next, helem(m, link >> 1)->key, m->key_size);
		plock_unlock(&bk->lock);
		if (!(link & 1))
			return 0;
	}
	return -ENOENT;
}

/* Bucket order, chain order; a key not in the map restarts from the first (like the kernel). */
int htab_get_next_key(struct bpfrt_map *m, const void *key, void *next)
{
	uint32_t hash, b, link;
	_Atomic uint32_t *prev;
	int64_t i;

	if (!key)
		return first_key_from(m, 0, next);
	hash = key_hash(m, key, 0);
	b = hash & m->mask;
	plock_lock(&hbucket(m, b)->lock);
	i = find_locked(m, b, key, hash, &prev, 0);
	link = i < 0 ? 1 : atomic_load(&helem(m, (uint32_t)i)->next);
	if (!(link & 1))
		memcpy(next, helem(m, link >> 1)->key, m->key_size);
	plock_unlock(&hbucket(m, b)->lock);
	if (!(link & 1))
		return 0;
	return first_key_from(m, i < 0 ? 0 : b + 1, next);
}

/* ---- The four types ------------------------------------------------------- */

static int64_t hash_check(struct map_block *b, const struct bpfrt_map_opts *o,
			  struct bpfrt_error *err)
{
	(void)o;
	return htab_check(b, is_percpu_type(b->type), is_lru_type(b->type), err);
}

/*
 * The program face in copies specialised for 4-, 8- and 16-byte keys, and a
 * generic one (ks 0); attach points the map at the table of its key size, so
 * helpers, the interpreter and the JIT all reach the specialised code.
 */
#define HTAB_WRITE_FNS(kind, hk, ks) \
	static long kind##_update_##ks(struct bpfrt_map *m, const void *key, \
				       const void *value, uint64_t flags) \
	{ \
		struct htab_write w = { .value = value }; \
		return update_common(m, key, flags, &w, ks, hk); \
	} \
	static long kind##_delete_##ks(struct bpfrt_map *m, const void *key) \
	{ \
		return delete_common(m, key, NULL, NULL, ks, hk); \
	}
#define HTAB_KEY_FNS(ks) \
	HTAB_WRITE_FNS(hash, HK_HASH, ks) \
	HTAB_WRITE_FNS(lru, HK_LRU, ks) \
	HTAB_WRITE_FNS(percpu, HK_PCPU, ks) \
	HTAB_WRITE_FNS(lru_percpu, HK_LRU | HK_PCPU, ks) \
	static void *hash_lookup_##ks(struct bpfrt_map *m, const void *key) \
	{ \
		return lookup_common(m, key, ks, false, false); \
	} \
	static void *lru_lookup_##ks(struct bpfrt_map *m, const void *key) \
	{ \
		return lookup_common(m, key, ks, true, false); \
	} \
	static void *percpu_lookup_##ks(struct bpfrt_map *m, const void *key) \
	{ \
		return lookup_common(m, key, ks, false, true); \
	} \
	static void *lru_percpu_lookup_##ks(struct bpfrt_map *m, const void *key) \
	{ \
		return lookup_common(m, key, ks, true, true); \
	}
HTAB_KEY_FNS(4)
HTAB_KEY_FNS(8)
HTAB_KEY_FNS(16)
HTAB_KEY_FNS(0)

static int hash_attach(struct bpfrt_map *m);

#define HTAB_COMMON \
	.check = hash_check, \
	.init = htab_init, \
	.attach = hash_attach, \
	.for_each = htab_for_each, \
	.value_region = htab_region, \
	.sys_lookup = htab_sys_lookup, \
	.sys_update = htab_sys_update, \
	.sys_lookup_and_delete = htab_sys_lookup_and_delete, \
	.get_next_key = htab_get_next_key

#define HTAB_OPS(kind, ks, ...) \
	{ HTAB_COMMON, .lookup = kind##_lookup_##ks, .update = kind##_update_##ks, \
	  .delete = kind##_delete_##ks, __VA_ARGS__ }
#define HTAB_SIZES(kind, ...) { \
	HTAB_OPS(kind, 4, __VA_ARGS__), HTAB_OPS(kind, 8, __VA_ARGS__), \
	HTAB_OPS(kind, 16, __VA_ARGS__), HTAB_OPS(kind, 0, __VA_ARGS__) }

/* [type][4-, 8-, 16-byte keys, any other size] */
static const struct map_ops htab_ops_by_size[4][4] = {
	HTAB_SIZES(hash),
	HTAB_SIZES(lru),
	HTAB_SIZES(percpu, .lookup_percpu = htab_lookup_percpu_cpu),
	HTAB_SIZES(lru_percpu, .lookup_percpu = htab_lookup_percpu_cpu),
};

static int hash_attach(struct bpfrt_map *m)
{
	unsigned t = (is_lru_type(m->type) ? 1 : 0) + (is_percpu_type(m->type) ? 2 : 0);
	unsigned k = m->key_size == 4 ? 0 : m->key_size == 8 ? 1 : m->key_size == 16 ? 2 : 3;

	m->ops = &htab_ops_by_size[t][k];
	return htab_attach(m);
}

/* The tables map.c starts from (generic key size; attach specialises). */
const struct map_ops hash_ops = HTAB_OPS(hash, 0);
const struct map_ops lru_hash_ops = HTAB_OPS(lru, 0);
const struct map_ops percpu_hash_ops = HTAB_OPS(percpu, 0,
						.lookup_percpu = htab_lookup_percpu_cpu);
const struct map_ops lru_percpu_hash_ops = HTAB_OPS(lru_percpu, 0,
						    .lookup_percpu = htab_lookup_percpu_cpu);
