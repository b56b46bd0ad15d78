/* hashmap.c — kernel variant of workloads/hashmap.c: the same lookups, inserts and deletes, bounded for the verifier.
 *
 * Written for the verifier, which would otherwise walk the 1024 iterations
 * one by one, each through both outcomes of the lookup.
 */
#include "kernel.h"
#include "../hashmap.h"

/* Input: u32 keys[len / 4]; see workloads/hashmap.c. */
KWORKLOAD(hashmap)
{
	void *map = hm_map();
	u64 sum = zero, n = len / 4;

	for (u64 i = zero; i < n && i < 4096 && can_loop(); i++) {
		u32 key = *(const u32 *)(mem + 4 * opaque(i));
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
