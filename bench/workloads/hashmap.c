/* hashmap.c — workload: hash-map lookups, adds in place, and inserts (and deletes) of the keys it misses. */
#include "hashmap.h"

/*
 * Input: u32 keys[len / 4] (1024, half of them in the map). A key found has
 * its value's payload summed and its counter (the high half) incremented in
 * place; a key missed is inserted with BPF_NOEXIST and deleted again, so
 * every run finds the map as it was (but for the counters, which the sum
 * does not read).
 */
WORKLOAD(hashmap)
{
	void *map = hm_map();
	u64 sum = 0, n = len / 4;

	for (u64 i = 0; i < n && i < 4096; i++) {
		u32 key = *(const u32 *)(mem + 4 * i);
		u64 *v = hm_lookup(map, &key);

		if (v) {
			sum += (u32)*v;
			*v += 1ull << 32;
		} else {
			u64 val = key;

			sum += key * 3ull + (u64)hm_update(map, &key, &val, 1 /* BPF_NOEXIST */);
			sum += (u64)hm_delete(map, &key);
		}
	}
	return sum;
}

#ifndef __bpf__
/* ---- The native build's table ------------------------------------------- */

struct hm_elem {
	struct hm_elem *next;
	u32 key;
	u64 value;
};

static struct hm_elem *hm_buckets[HM_MAX];
static struct hm_elem hm_pool[HM_MAX];
static struct hm_elem *hm_free;

static inline u32 hm_bucket(u32 key)
{
	__uint128_t r = (__uint128_t)(key ^ 0x9e3779b97f4a7c15ull) * 0xd6e8feb86659fd93ull;

	return (u32)((u64)r ^ (u64)(r >> 64)) & (HM_MAX - 1);
}

void *hm_lookup(void *map, const void *key)
{
	u32 k = *(const u32 *)key;

	(void)map;
	for (struct hm_elem *e = hm_buckets[hm_bucket(k)]; e; e = e->next)
		if (e->key == k)
			return &e->value;
	return 0;
}

long hm_update(void *map, const void *key, const void *value, u64 flags)
{
	u32 k = *(const u32 *)key;
	struct hm_elem *e, **b = &hm_buckets[hm_bucket(k)];

	(void)flags;	/* BPF_NOEXIST: the workload only inserts absent keys */
	if (hm_lookup(map, key))
		return -17;	/* -EEXIST */
	if (!(e = hm_free))
		return -7;	/* -E2BIG */
	hm_free = e->next;
	e->key = k;
	e->value = *(const u64 *)value;
	e->next = *b;
	*b = e;
	return 0;
}

long hm_delete(void *map, const void *key)
{
	u32 k = *(const u32 *)key;

	(void)map;
	for (struct hm_elem **p = &hm_buckets[hm_bucket(k)]; *p; p = &(*p)->next) {
		struct hm_elem *e = *p;

		if (e->key == k) {
			*p = e->next;
			e->next = hm_free;
			hm_free = e;
			return 0;
		}
	}
	return -2;	/* -ENOENT */
}

/* The table, filled with the initial entries on first use. */
void *hm_map(void)
{
	static int ready;

	if (!ready) {
		for (u32 i = HM_MAX; i-- > 0;) {
			hm_pool[i].next = hm_free;
			hm_free = &hm_pool[i];
		}
		for (u32 i = 0; i < HM_ENTRIES; i++) {
			u32 key = hm_key(i);
			u64 val = hm_value(i);

			hm_update(0, &key, &val, 1);
		}
		ready = 1;
	}
	return hm_buckets;
}
#endif
