/* test_maps_kernel.c — maps against the Linux kernel: the same random operations on both, every result compared. */
#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpfrt.h"
#include "t.h"

#define ENOTSUPP_KERNEL 524	/* the kernel's internal "not supported", bpfrt says ENOTSUP */

/* ---- The kernel side, through bpf() ---------------------------------------- */

static int sys_bpf(int cmd, union bpf_attr *a)
{
	long r = syscall(__NR_bpf, cmd, a, sizeof(*a));

	if (r >= 0)
		return (int)r;
	return errno == ENOTSUPP_KERNEL ? -ENOTSUP : -errno;
}

static int k_create(enum bpfrt_map_type type, uint32_t ks, uint32_t vs, uint32_t max,
		    uint32_t flags, uint64_t extra)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = ks;
	a.value_size = vs;
	a.max_entries = max;
	a.map_flags = flags;
	a.map_extra = extra;
	return sys_bpf(BPF_MAP_CREATE, &a);
}

static int k_elem(int cmd, int fd, const void *key, void *value, uint64_t flags)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uint64_t)(uintptr_t)key;
	if (cmd == BPF_MAP_GET_NEXT_KEY)
		a.next_key = (uint64_t)(uintptr_t)value;
	else
		a.value = (uint64_t)(uintptr_t)value;
	a.flags = flags;
	return sys_bpf(cmd, &a) < 0 ? (errno == ENOTSUPP_KERNEL ? -ENOTSUP : -errno) : 0;
}

/* ---- Random operations ------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

enum order { ORDER_SAME, ORDER_ANY };	/* does get_next_key follow the kernel's order? */

struct diff {
	const char *name;
	enum bpfrt_map_type type;
	uint32_t ks, vs, max, flags;
	uint64_t extra;
	uint32_t nkeys;		/* size of the key universe */
	enum order order;
	void (*make_key)(uint8_t *key, uint32_t ks, uint32_t i);
	/* run state */
	int kfd;
	struct bpfrt_map *m;
	int mismatches;
};

static void plain_key(uint8_t *key, uint32_t ks, uint32_t i)
{
	memset(key, 0, ks);
	memcpy(key, &i, ks < 4 ? ks : 4);
	if (ks >= 8)
		key[ks - 1] = (uint8_t)(i * 7);
}

/* LPM keys: prefixes of a few 10.x.y.z addresses, sometimes too long. */
static void lpm_key(uint8_t *key, uint32_t ks, uint32_t i)
{
	uint32_t plen = i % 34;

	memset(key, 0, ks);
	memcpy(key, &plen, 4);
	key[4] = 10;
	key[5] = (uint8_t)(i / 34 % 3);
	key[6] = (uint8_t)(i / 102 % 4 * 64);
	key[7] = (uint8_t)(i / 408);
}

static void mismatch(struct diff *d, int op, int kr, int br, const char *what)
{
	if (d->mismatches++ < 5)
		CHECK(0, "%s: op %d (%s): kernel %d, bpfrt %d", d->name, op, what, kr, br);
}

static void one_op(struct diff *d, int op)
{
	uint8_t key[64], kval[64] = { 0 }, bval[64] = { 0 }, knext[64] = { 0 }, bnext[64] = { 0 };
	bool keyless = d->ks == 0;
	const void *k = keyless ? NULL : key;
	static const uint64_t flag_set[] = { 0, 0, 0, 1, 2, 2, 3, 4 };
	uint64_t flags = flag_set[rnd() % 8];
	int kr, br, what = (int)(rnd() % 10);

	d->make_key(key, d->ks, (uint32_t)(rnd() % d->nkeys));
	for (uint32_t i = 0; i < d->vs; i++)
		kval[i] = bval[i] = (uint8_t)rnd();
	if (what < 4) {
		kr = k_elem(BPF_MAP_UPDATE_ELEM, d->kfd, k, kval, flags);
		br = bpfrt_map_update(d->m, k, bval, flags);
		if (kr != br)
			mismatch(d, op, kr, br, "update");
	} else if (what < 6) {
		kr = k_elem(BPF_MAP_LOOKUP_ELEM, d->kfd, k, kval, 0);
		br = bpfrt_map_lookup(d->m, k, bval);
		if (kr != br || (kr == 0 && memcmp(kval, bval, d->vs)))
			mismatch(d, op, kr, br, "lookup");
	} else if (what < 7) {
		kr = k_elem(BPF_MAP_DELETE_ELEM, d->kfd, k, NULL, 0);
		br = bpfrt_map_delete(d->m, k);
		if (kr != br)
			mismatch(d, op, kr, br, "delete");
	} else if (what < 8) {
		kr = k_elem(BPF_MAP_LOOKUP_AND_DELETE_ELEM, d->kfd, k, kval, 0);
		br = bpfrt_map_lookup_and_delete(d->m, k, bval);
		if (kr != br || (kr == 0 && memcmp(kval, bval, d->vs)))
			mismatch(d, op, kr, br, "lookup_and_delete");
	} else {
		const void *from = what == 8 || keyless ? NULL : key;

		kr = k_elem(BPF_MAP_GET_NEXT_KEY, d->kfd, from, knext, 0);
		br = bpfrt_map_get_next_key(d->m, from, bnext);
		if (d->order == ORDER_SAME || !from) {
			if (kr != br || (kr == 0 && d->order == ORDER_SAME && memcmp(knext, bnext, d->ks)))
				mismatch(d, op, kr, br, "get_next_key");
		} else if (br == 0 && bpfrt_map_lookup(d->m, bnext, bval) != 0) {
			mismatch(d, op, kr, br, "get_next_key gave a key not in the map");
		}
	}
}

/* Both maps' keys, in iteration order; for ORDER_ANY compare them as sets. */
static int cmp_keys(const void *a, const void *b)
{
	return memcmp(a, b, 64);
}

static size_t all_keys(struct diff *d, bool kernel, uint8_t (*keys)[64], size_t cap)
{
	uint8_t cur[64] = { 0 };
	size_t n = 0;
	int r = kernel ? k_elem(BPF_MAP_GET_NEXT_KEY, d->kfd, NULL, keys[0], 0)
		       : bpfrt_map_get_next_key(d->m, NULL, keys[0]);

	while (r == 0 && n + 1 < cap) {
		memcpy(cur, keys[n++], d->ks);
		memset(keys[n], 0, 64);
		r = kernel ? k_elem(BPF_MAP_GET_NEXT_KEY, d->kfd, cur, keys[n], 0)
			   : bpfrt_map_get_next_key(d->m, cur, keys[n]);
	}
	if (d->order == ORDER_ANY)
		qsort(keys, n, 64, cmp_keys);
	return n;
}

static void compare_contents(struct diff *d)
{
	enum { CAP = 4096 };
	uint8_t (*kk)[64] = calloc(CAP, 64), (*bk)[64] = calloc(CAP, 64);
	size_t kn = all_keys(d, true, kk, CAP), bn = all_keys(d, false, bk, CAP);

	CHECK(kn == bn && memcmp(kk, bk, kn * 64) == 0,
	      "%s: the same keys at the end (kernel %zu, bpfrt %zu)", d->name, kn, bn);
	free(kk);
	free(bk);
}

static void diff_run(struct diff *d, int nops)
{
	BPFRT_OPTS(bpfrt_map_opts, o, .type = d->type, .key_size = d->ks, .value_size = d->vs,
		   .max_entries = d->max, .map_flags = d->flags, .map_extra = d->extra);
	struct bpfrt_error err;

	d->kfd = k_create(d->type, d->ks, d->vs, d->max, d->flags, d->extra);
	if (d->kfd < 0) {
		printf("  skip %s: the kernel's bpf() is unavailable (%s)\n", d->name,
		       strerror(-d->kfd));
		return;
	}
	if (!CHECK(bpfrt_map_create(&o, &d->m, &err) == 0, "%s: %s", d->name, err.msg))
		goto out;
	rng_state = 0x9e3779b97f4a7c15ull ^ (uint64_t)d->type;
	for (int op = 0; op < nops; op++)
		one_op(d, op);
	CHECK(d->mismatches == 0, "%s: %d of %d operations differ", d->name, d->mismatches, nops);
	if (d->ks)
		compare_contents(d);
	bpfrt_map_free(d->m);
out:
	close(d->kfd);
}

/* ---- The maps ---------------------------------------------------------------- */

TEST(maps_kernel_hash)
{
	struct diff small = { "hash (fills up)", BPFRT_MAP_HASH, 4, 8, 32, 0, 0, 48, ORDER_ANY,
			      plain_key, 0, NULL, 0 };
	struct diff wide = { "hash (16-byte keys)", BPFRT_MAP_HASH, 16, 12, 1000, 0, 0, 700,
			     ORDER_ANY, plain_key, 0, NULL, 0 };
	struct diff odd = { "hash (5-byte keys)", BPFRT_MAP_HASH, 5, 3, 100, 1, 0, 150,
			    ORDER_ANY, plain_key, 0, NULL, 0 };

	/* Big enough for per-CPU caches of free elements (hash.c) on up to 4 CPUs; fills up. */
	struct diff big = { "hash (per-CPU caches, fills up)", BPFRT_MAP_HASH, 4, 8, 2048, 0, 0,
			    6000, ORDER_ANY, plain_key, 0, NULL, 0 };

	diff_run(&small, 20000);
	diff_run(&wide, 20000);
	diff_run(&odd, 20000);
	diff_run(&big, 30000);
}

TEST(maps_kernel_array)
{
	struct diff d = { "array", BPFRT_MAP_ARRAY, 4, 12, 40, 0, 0, 44, ORDER_SAME,
			  plain_key, 0, NULL, 0 };

	diff_run(&d, 20000);
}

TEST(maps_kernel_lru_hash)
{
	/* Room for every key in both: the kernel's LRU evicts early otherwise (its per-CPU lists). */
	struct diff d = { "lru_hash", BPFRT_MAP_LRU_HASH, 8, 8, 1024, 0, 0, 64, ORDER_ANY,
			  plain_key, 0, NULL, 0 };

	diff_run(&d, 20000);
}

TEST(maps_kernel_lpm_trie)
{
	struct diff d = { "lpm_trie", BPFRT_MAP_LPM_TRIE, 8, 4, 200, 1, 0, 34 * 3 * 4 * 2,
			  ORDER_SAME, lpm_key, 0, NULL, 0 };
	struct diff full = { "lpm_trie (fills up)", BPFRT_MAP_LPM_TRIE, 8, 4, 20, 1, 0,
			     34 * 3 * 4 * 2, ORDER_SAME, lpm_key, 0, NULL, 0 };

	diff_run(&d, 30000);
	diff_run(&full, 30000);
}

TEST(maps_kernel_queue_stack_bloom)
{
	struct diff q = { "queue", BPFRT_MAP_QUEUE, 0, 8, 16, 0, 0, 1, ORDER_SAME, plain_key,
			  0, NULL, 0 };
	struct diff s = { "stack", BPFRT_MAP_STACK, 0, 4, 16, 0, 0, 1, ORDER_SAME, plain_key,
			  0, NULL, 0 };
	struct diff b = { "bloom_filter", BPFRT_MAP_BLOOM_FILTER, 0, 1, 10000, 0, 3, 1,
			  ORDER_SAME, plain_key, 0, NULL, 0 };

	diff_run(&q, 20000);
	diff_run(&s, 20000);
	diff_run(&b, 2000);	/* 1-byte values: 256 of them, in a filter sized for 10000 */
}
