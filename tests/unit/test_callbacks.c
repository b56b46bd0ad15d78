/* test_callbacks.c — bpf_loop and bpf_for_each_map_elem on both engines and modes, against the kernel. */
#include <errno.h>
#include <string.h>

#include "bpfrt.h"
#include "objrun.h"
#include "t.h"

/* arr[k] = 10k + 1 (6 entries); hash: keys 1..9, value 100k. */
static void fill(struct or_map (*lookup)(void *, const char *), void *side)
{
	struct or_map arr = lookup(side, "arr"), hash = lookup(side, "hash");

	for (uint32_t k = 0; k < 6; k++)
		or_update(arr, k, 10 * k + 1);
	for (uint32_t k = 0; k < 16; k++)
		or_delete(hash, k);
	for (uint32_t k = 1; k <= 9; k++)
		or_update(hash, k, 100 * k);
}

#define NEG(e) ((uint64_t)-(int64_t)(e))

TEST(callbacks_object)
{
	struct objrun o;

	if (!or_open(&o, "callback", fill))
		return;
	/* bpf_loop: result = { return, sum of i*i, callback calls } */
	or_expect(&o, "loop_stop", 6, (const uint64_t[]){ 6, 55, 6 }, 3);
	or_expect(&o, "loop_all", 20, (const uint64_t[]){ 20, 2470, 20 }, 3);
	or_expect(&o, "loop_none", 0, (const uint64_t[]){ 0, 0, 0 }, 3);
	or_expect(&o, "loop_flags", 1, (const uint64_t[]){ NEG(EINVAL), 0, 0 }, 3);
	/* Linux's inlined bpf_loop says -E2BIG in 32 bits (zero-extended) */
	or_expect(&o, "loop_too_many", 1, (const uint64_t[]){ (uint32_t)-E2BIG, 0, 0 }, 3);
	or_expect(&o, "loop_nested", 35, (const uint64_t[]){ 6, 35 }, 2);
	/* bpf_for_each_map_elem: result = { elements visited, sum of values, of keys } */
	or_expect(&o, "each_array", 6, (const uint64_t[]){ 6, 156, 15 }, 3);
	or_expect(&o, "each_array_stop", 4, (const uint64_t[]){ 4, 64, 6 }, 3);
	or_expect(&o, "each_hash", 9, (const uint64_t[]){ 9, 4500, 45 }, 3);
	or_expect(&o, "each_flags", 0, (const uint64_t[]){ NEG(EINVAL) }, 1);
	struct or_result r = or_expect(&o, "each_delete", 5, (const uint64_t[]){ 9, 5 }, 2);
	CHECK(r.hash_n == 4 && r.hash_keys == 20, "the even keys are left: %llu keys, sum %llu",
	      (unsigned long long)r.hash_n, (unsigned long long)r.hash_keys);
	or_close(&o);
}
