/* hashmap.h — the hashmap workload's map: its shape, its initial entries, and the map operations of both builds.
 *
 * The eBPF build uses a BPF_MAP_TYPE_HASH through the kernel's helpers. The
 * map reaches the code as an lddw of HM_MAP_MAGIC, which the harness
 * rewrites before loading: into src 5 (the program's map 0) for bpfrt, into
 * src 1 with the map's fd for the kernel. The native build uses a chained
 * hash table of its own, built like the kernel's and bpfrt's (a power-of-two
 * bucket array, preallocated elements, a free list, a multiply-fold hash).
 */
#ifndef BENCH_HASHMAP_H
#define BENCH_HASHMAP_H

#include "workload.h"

#define HM_ENTRIES	10000u		/* prefilled */
#define HM_MAX		16384u		/* max_entries */
#define HM_KEYS		1024u		/* looked up per run */
#define HM_MAP_MAGIC	0x6d61705f6d616769ull	/* "map_magi": the lddw to rewrite */

/* Key of entry i: a bijection of u32, so entries i >= HM_ENTRIES are absent. */
static __always_inline u32 hm_key(u32 i)
{
	return i * 0x9e3779b1u;
}

/* Entry i's initial value: payload i in the low half, a counter (0) above. */
static __always_inline u64 hm_value(u32 i)
{
	return i;
}

#ifdef __bpf__
static void *(*const bpf_map_lookup_elem)(void *map, const void *key) = (void *)1;
static long (*const bpf_map_update_elem)(void *map, const void *key, const void *value,
					 u64 flags) = (void *)2;
static long (*const bpf_map_delete_elem)(void *map, const void *key) = (void *)3;

static __always_inline void *hm_map(void)
{
	void *map;

	asm volatile("%0 = 0x6d61705f6d616769 ll" : "=r"(map));
	return map;
}
#define hm_lookup	bpf_map_lookup_elem
#define hm_update	bpf_map_update_elem
#define hm_delete	bpf_map_delete_elem
#else
void *hm_map(void);
void *hm_lookup(void *map, const void *key);
long hm_update(void *map, const void *key, const void *value, u64 flags);
long hm_delete(void *map, const void *key);
#endif

#endif /* BENCH_HASHMAP_H */
