/* test_maps.c — map semantics type by type: creation checks, errors, iteration, LPM, queues, bloom, rings, maps of maps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bpfrt.h"
#include "exec/prog.h"
#include "maps/map.h"
#include "t.h"

static struct bpfrt_map *mk_full(enum bpfrt_map_type type, uint32_t ks, uint32_t vs,
				 uint32_t max, uint32_t flags, uint64_t extra,
				 struct bpfrt_map *inner, unsigned ncpus)
{
	BPFRT_OPTS(bpfrt_map_opts, o, .type = type, .key_size = ks, .value_size = vs,
		   .max_entries = max, .map_flags = flags, .map_extra = extra,
		   .inner = inner, .ncpus = ncpus, .name = "test_map");
	struct bpfrt_error err;
	struct bpfrt_map *m;
	int ret = bpfrt_map_create(&o, &m, &err);

	CHECK(ret == 0, "create type %d: %d %s", type, ret, err.msg);
	return ret ? NULL : m;
}

static struct bpfrt_map *mk(enum bpfrt_map_type type, uint32_t ks, uint32_t vs, uint32_t max,
			    uint32_t flags)
{
	return mk_full(type, ks, vs, max, flags, 0, NULL, 0);
}

static int create_err(enum bpfrt_map_type type, uint32_t ks, uint32_t vs, uint32_t max,
		      uint32_t flags, uint64_t extra)
{
	BPFRT_OPTS(bpfrt_map_opts, o, .type = type, .key_size = ks, .value_size = vs,
		   .max_entries = max, .map_flags = flags, .map_extra = extra);
	struct bpfrt_error err;
	struct bpfrt_map *m = NULL;
	int ret = bpfrt_map_create(&o, &m, &err);

	if (ret == 0)
		bpfrt_map_free(m);
	else if (!err.msg[0])
		return -9999;	/* every failure must say why */
	return ret;
}

/* ---- Creation ------------------------------------------------------------ */

TEST(maps_create_checks)
{
	static const struct {
		enum bpfrt_map_type type;
		uint32_t ks, vs, max, flags;
		uint64_t extra;
		int want;
	} cases[] = {	/* expectations measured with the kernel (6.x) */
		{ BPFRT_MAP_ARRAY, 4, 4, 4, 0, 0, 0 },
		{ BPFRT_MAP_ARRAY, 8, 4, 4, 0, 0, -EINVAL },
		{ BPFRT_MAP_ARRAY, 4, 0, 4, 0, 0, -EINVAL },
		{ BPFRT_MAP_ARRAY, 4, 4, 0, 0, 0, -EINVAL },
		{ BPFRT_MAP_ARRAY, 4, 4, 4, 1 /* NO_PREALLOC */, 0, -EINVAL },
		{ BPFRT_MAP_ARRAY, 4, 4, 4, 0, 1, -EINVAL },
		{ BPFRT_MAP_ARRAY, 4, 4, 4, 64 /* ZERO_SEED */, 0, -EINVAL },
		{ BPFRT_MAP_PERCPU_ARRAY, 4, 4, 2, 1024 /* MMAPABLE */, 0, -EINVAL },
		{ BPFRT_MAP_PERCPU_ARRAY, 4, 32769, 2, 0, 0, -E2BIG },
		{ BPFRT_MAP_HASH, 0, 4, 2, 0, 0, -EINVAL },
		{ BPFRT_MAP_HASH, 4, 0, 2, 0, 0, -EINVAL },
		{ BPFRT_MAP_HASH, 4, 4, 0, 0, 0, -EINVAL },
		{ BPFRT_MAP_HASH, 4, 4, 2, 8 | 16 /* RDONLY|WRONLY */, 0, -EINVAL },
		{ BPFRT_MAP_HASH, 4, 4, 2, 128 | 256, 0, -EINVAL },
		{ BPFRT_MAP_HASH, 4, 4, 2, 2 /* NO_COMMON_LRU */, 0, -EINVAL },
		{ BPFRT_MAP_HASH, 4, 4, 2, 4096 /* INNER_MAP */, 0, -EINVAL },
		{ BPFRT_MAP_HASH, 4, 4, 2, 64, 0, 0 },
		{ BPFRT_MAP_HASH, 4, 4, 0xffffffff, 0, 0, -E2BIG },
		{ BPFRT_MAP_LRU_HASH, 4, 4, 2, 1, 0, -ENOTSUP },
		{ BPFRT_MAP_LRU_PERCPU_HASH, 4, 4, 2, 2, 0, 0 },
		{ BPFRT_MAP_QUEUE, 4, 4, 2, 0, 0, -EINVAL },
		{ BPFRT_MAP_QUEUE, 0, 4, 2, 1, 0, -EINVAL },
		{ BPFRT_MAP_STACK, 0, 4, 0, 0, 0, -EINVAL },
		{ BPFRT_MAP_BLOOM_FILTER, 0, 4, 100, 0, 16, -EINVAL },
		{ BPFRT_MAP_BLOOM_FILTER, 4, 4, 100, 0, 0, -EINVAL },
		{ BPFRT_MAP_BLOOM_FILTER, 0, 4, 100, 64, 3, 0 },
		{ BPFRT_MAP_RINGBUF, 0, 0, 4096, 0, 0, 0 },
		{ BPFRT_MAP_RINGBUF, 0, 0, 2048, 0, 0, -EINVAL },
		{ BPFRT_MAP_RINGBUF, 0, 0, 3 * 8192, 0, 0, -EINVAL },
		{ BPFRT_MAP_RINGBUF, 0, 0, 4096, 8, 0, -EINVAL },
		{ BPFRT_MAP_LPM_TRIE, 8, 4, 2, 0, 0, -EINVAL },
		{ BPFRT_MAP_LPM_TRIE, 4, 4, 2, 1, 0, -EINVAL },
		{ BPFRT_MAP_LPM_TRIE, 261, 4, 2, 1, 0, -EINVAL },
		{ BPFRT_MAP_LPM_TRIE, 8, 4, 2, 1 | 64, 0, -EINVAL },
		{ BPFRT_MAP_PROG_ARRAY, 4, 8, 4, 0, 0, -EINVAL },
		{ BPFRT_MAP_PROG_ARRAY, 4, 4, 4, 1, 0, -EINVAL },
		{ BPFRT_MAP_PERF_EVENT_ARRAY, 4, 4, 0, 0, 0, -EINVAL },
		{ BPFRT_MAP_PERF_EVENT_ARRAY, 4, 4, 2, 2048, 0, 0 },
		{ BPFRT_MAP_PERF_EVENT_ARRAY, 4, 4, 2, 0, 5000, -EINVAL },
		{ BPFRT_MAP_ARRAY_OF_MAPS, 4, 4, 4, 0, 0, -EINVAL },	/* no inner map */
		{ (enum bpfrt_map_type)99, 4, 4, 4, 0, 0, -EINVAL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = create_err(cases[i].type, cases[i].ks, cases[i].vs, cases[i].max,
				     cases[i].flags, cases[i].extra);

		CHECK(got == cases[i].want, "case %zu (type %d): got %d, want %d", i,
		      cases[i].type, got, cases[i].want);
	}
}

/* ---- Arrays -------------------------------------------------------------- */

TEST(maps_array)
{
	struct bpfrt_map *m = mk(BPFRT_MAP_ARRAY, 4, 12, 4, 0);
	uint8_t v[12], out[12];
	uint32_t k = 0, next;
	struct bpfrt_map_info info;

	if (!m)
		return;
	CHECK(bpfrt_map_lookup(m, &k, out) == 0 && out[0] == 0, "arrays start zeroed");
	memset(v, 7, sizeof(v));
	CHECK(bpfrt_map_update(m, &k, v, BPFRT_ANY) == 0, "update");
	CHECK(bpfrt_map_update(m, &k, v, BPFRT_NOEXIST) == -EEXIST, "NOEXIST");
	CHECK(bpfrt_map_update(m, &k, v, BPFRT_EXIST) == 0, "EXIST");
	CHECK(bpfrt_map_update(m, &k, v, 3) == -EINVAL, "flags 3");
	CHECK(bpfrt_map_update(m, &k, v, BPFRT_F_LOCK) == -EINVAL, "no spin lock");
	k = 4;
	CHECK(bpfrt_map_update(m, &k, v, 0) == -E2BIG, "index past the end");
	CHECK(bpfrt_map_lookup(m, &k, out) == -ENOENT, "lookup past the end");
	CHECK(bpfrt_map_delete(m, &k) == -EINVAL, "arrays cannot delete");
	CHECK(bpfrt_map_lookup_and_delete(m, &k, out) == -ENOTSUP, "nor lookup_and_delete");
	k = 0;
	CHECK(bpfrt_map_lookup(m, &k, out) == 0 && memcmp(out, v, 12) == 0, "value back");
	CHECK(memcmp(map_lookup_elem(m, &k), v, 12) == 0, "program lookup points at it");
	CHECK(bpfrt_map_get_next_key(m, NULL, &next) == 0 && next == 0, "first key");
	k = 2;
	CHECK(bpfrt_map_get_next_key(m, &k, &next) == 0 && next == 3, "next");
	k = 3;
	CHECK(bpfrt_map_get_next_key(m, &k, &next) == -ENOENT, "last");
	k = 77;
	CHECK(bpfrt_map_get_next_key(m, &k, &next) == 0 && next == 0, "past the end restarts");
	bpfrt_map_get_info(m, &info);
	CHECK(info.type == BPFRT_MAP_ARRAY && info.value_size == 12 && info.id > 0 &&
	      strcmp(info.name, "test_map") == 0, "info");
	bpfrt_map_free(m);
}

TEST(maps_percpu_array)
{
	struct bpfrt_map *m = mk_full(BPFRT_MAP_PERCPU_ARRAY, 4, 4, 3, 0, 0, NULL, 3);
	uint64_t vals[3] = { 11, 22, 33 }, out[3];
	uint32_t k = 1, v = 5, *p;

	if (!m)
		return;
	CHECK(bpfrt_map_update(m, &k, vals, 0) == 0, "update all CPUs");
	CHECK(bpfrt_map_lookup(m, &k, out) == 0 && out[0] == 11 && out[2] == 33,
	      "values per CPU, 8 bytes each");
	for (uint32_t c = 0; c < 3; c++) {
		p = map_lookup_percpu_elem(m, &k, c);
		CHECK(p && *p == vals[c], "CPU %u sees its own value", c);
	}
	CHECK(map_lookup_percpu_elem(m, &k, 3) == NULL, "no CPU 3");
	CHECK(map_update_elem(m, &k, &v, 0) == 0, "program update");
	p = map_lookup_elem(m, &k);
	CHECK(p && *p == 5 && p == map_lookup_percpu_elem(m, &k, map_this_cpu(m)),
	      "program writes this CPU's value");
	bpfrt_map_free(m);
}

/* ---- Hash maps ----------------------------------------------------------- */

TEST(maps_hash_basics)
{
	struct bpfrt_map *m = mk(BPFRT_MAP_HASH, 8, 16, 64, 0);
	uint64_t k, v[2], out[2];

	if (!m)
		return;
	k = 1;
	v[0] = 10, v[1] = 11;
	CHECK(bpfrt_map_update(m, &k, v, BPFRT_EXIST) == -ENOENT, "EXIST on a new key");
	CHECK(bpfrt_map_update(m, &k, v, BPFRT_NOEXIST) == 0, "NOEXIST on a new key");
	CHECK(bpfrt_map_update(m, &k, v, BPFRT_NOEXIST) == -EEXIST, "NOEXIST twice");
	CHECK(bpfrt_map_update(m, &k, v, 4) == -EINVAL, "BPF_F_LOCK");
	CHECK(bpfrt_map_lookup(m, &k, out) == 0 && out[1] == 11, "lookup");
	for (k = 2; k <= 64; k++)
		CHECK(bpfrt_map_update(m, &k, v, 0) == 0, "fill %llu", (unsigned long long)k);
	k = 65;
	CHECK(bpfrt_map_update(m, &k, v, 0) == -E2BIG, "full");
	k = 3;
	v[0] = 99;
	CHECK(bpfrt_map_update(m, &k, v, 0) == 0, "replace while full");
	CHECK(bpfrt_map_lookup(m, &k, out) == 0 && out[0] == 99, "replaced");
	CHECK(bpfrt_map_lookup_and_delete(m, &k, out) == 0 && out[0] == 99, "lookup_and_delete");
	CHECK(bpfrt_map_lookup(m, &k, out) == -ENOENT, "gone");
	CHECK(bpfrt_map_delete(m, &k) == -ENOENT, "delete twice");
	k = 65;
	CHECK(bpfrt_map_update(m, &k, v, 0) == 0, "room again");
	CHECK(bpfrt_map_lookup(m, NULL, out) == -EFAULT, "a key is needed");
	bpfrt_map_free(m);
}

static long count_cb(struct bpfrt_map *m, const void *key, void *value, void *ctx)
{
	(void)m, (void)key, (void)value;
	return ++*(int *)ctx == 1000;	/* stop at the 1000th */
}

TEST(maps_hash_iteration)
{
	enum { N = 3000 };
	struct bpfrt_map *m = mk(BPFRT_MAP_HASH, 12, 4, N, 0);
	static uint8_t seen[N];
	uint32_t key[3] = { 0 }, next[3], v = 0;
	int n = 0, dup = 0, calls = 0, ret;

	if (!m)
		return;
	for (uint32_t i = 0; i < N; i++) {
		key[0] = i, key[2] = ~i;
		bpfrt_map_update(m, key, &v, 0);
	}
	for (uint32_t i = 0; i < N; i += 3) {	/* delete a third */
		key[0] = i, key[2] = ~i;
		bpfrt_map_delete(m, key);
	}
	ret = bpfrt_map_get_next_key(m, NULL, next);
	while (ret == 0) {
		if (next[0] >= N || next[2] != ~next[0] || next[0] % 3 == 0 || seen[next[0]]++)
			dup++;
		n++;
		memcpy(key, next, sizeof(key));
		ret = bpfrt_map_get_next_key(m, key, next);
	}
	CHECK(ret == -ENOENT && n == N - N / 3 && dup == 0,
	      "every key exactly once: %d keys, %d wrong, ended %d", n, dup, ret);
	key[0] = 7777777;
	CHECK(bpfrt_map_get_next_key(m, key, next) == 0, "a missing key gives the first");
	CHECK(map_for_each_elem(m, count_cb, &calls, 0) == 1000 && calls == 1000,
	      "for_each stops when told");
	calls = -1000000;
	CHECK(map_for_each_elem(m, count_cb, &calls, 0) == N - N / 3, "for_each visits all");
	CHECK(map_for_each_elem(m, count_cb, &calls, 1) == -EINVAL, "for_each flags");
	bpfrt_map_free(m);
}

TEST(maps_percpu_hash)
{
	struct bpfrt_map *m = mk_full(BPFRT_MAP_PERCPU_HASH, 4, 8, 8, 0, 0, NULL, 4);
	uint64_t vals[4] = { 1, 2, 3, 4 }, out[4], v = 42, *p;
	uint32_t k = 9, me;

	if (!m)
		return;
	me = map_this_cpu(m);
	CHECK(map_update_elem(m, &k, &v, 0) == 0, "program insert");
	CHECK(bpfrt_map_lookup(m, &k, out) == 0, "lookup");
	for (uint32_t c = 0; c < 4; c++)
		CHECK(out[c] == (c == me ? 42 : 0), "CPU %u: %llu (only this CPU's is set)", c,
		      (unsigned long long)out[c]);
	CHECK(bpfrt_map_update(m, &k, vals, BPFRT_EXIST) == 0, "user update");
	p = map_lookup_percpu_elem(m, &k, 2);
	CHECK(p && *p == 3, "percpu lookup");
	p = map_lookup_elem(m, &k);
	CHECK(p && *p == vals[me], "this CPU's");
	bpfrt_map_free(m);
}

TEST(maps_lru_eviction)
{
	enum { MAX = 128 };
	struct bpfrt_map *m = mk(BPFRT_MAP_LRU_HASH, 4, 8, MAX, 0);
	uint64_t v = 1, out;
	uint32_t k, kept = 0, n = 0, next;
	int ret;

	if (!m)
		return;
	for (k = 0; k < MAX; k++)
		bpfrt_map_update(m, &k, &v, 0);
	for (k = 0; k < MAX / 2; k++)	/* programs use the first half */
		map_lookup_elem(m, &k);
	for (k = 1000; k < 1000 + MAX / 2; k++)
		CHECK(bpfrt_map_update(m, &k, &v, BPFRT_NOEXIST) == 0, "LRU never says E2BIG");
	for (k = 0; k < MAX / 2; k++)
		kept += bpfrt_map_lookup(m, &k, &out) == 0;
	CHECK(kept == MAX / 2, "the used half survived: %u of %u", kept, MAX / 2);
	for (ret = bpfrt_map_get_next_key(m, NULL, &next); ret == 0;
	     ret = bpfrt_map_get_next_key(m, &next, &next))
		n++;
	CHECK(n == MAX, "still full: %u", n);
	for (k = 5000; k < 5000 + 10 * MAX; k++)
		CHECK(bpfrt_map_update(m, &k, &v, 0) == 0, "churn %u", k);
	k = 5000 + 10 * MAX - 1;
	CHECK(bpfrt_map_lookup(m, &k, &out) == 0, "the newest is there");
	bpfrt_map_free(m);
}

/* ---- LPM tries ------------------------------------------------------------ */

struct ip4 {
	uint32_t prefixlen;
	uint8_t a[4];
};

static int lpm_put4(struct bpfrt_map *m, uint32_t plen, uint8_t a, uint8_t b, uint8_t c,
		    uint8_t d, uint32_t v)
{
	struct ip4 k = { plen, { a, b, c, d } };

	return bpfrt_map_update(m, &k, &v, 0);
}

static uint32_t lpm_get4(struct bpfrt_map *m, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct ip4 k = { 32, { a, b, c, d } };
	uint32_t v = 0, *p = map_lookup_elem(m, &k);

	if (bpfrt_map_lookup(m, &k, &v) != 0)
		return 0;
	return p && *p == v ? v : 9999;
}

TEST(maps_lpm_ipv4)
{
	struct bpfrt_map *m = mk(BPFRT_MAP_LPM_TRIE, 8, 4, 16, 1);
	struct ip4 k = { 0 }, prev;
	static const char *const order[] = {	/* the kernel's get_next_key order */
		"10.9.9.9/8", "192.168.0.0/24", "192.168.1.1/32", "192.168.1.0/24",
		"192.168.128.0/24", "192.168.0.0/16", "192.160.0.0/12", "1.2.3.4/0",
	};
	char buf[32];
	int i = 0, ret;

	if (!m)
		return;
	lpm_put4(m, 16, 192, 168, 0, 0, 16);
	lpm_put4(m, 24, 192, 168, 0, 0, 24);
	lpm_put4(m, 24, 192, 168, 1, 0, 241);
	lpm_put4(m, 24, 192, 168, 128, 0, 2428);
	lpm_put4(m, 8, 10, 9, 9, 9, 8);
	lpm_put4(m, 0, 1, 2, 3, 4, 1);
	lpm_put4(m, 32, 192, 168, 1, 1, 32);
	lpm_put4(m, 12, 192, 160, 0, 0, 12);
	CHECK(lpm_get4(m, 192, 168, 1, 1) == 32, "exact /32");
	CHECK(lpm_get4(m, 192, 168, 1, 2) == 241, "/24 beats /16");
	CHECK(lpm_get4(m, 192, 168, 7, 2) == 16, "/16");
	CHECK(lpm_get4(m, 192, 170, 7, 2) == 12, "/12");
	CHECK(lpm_get4(m, 10, 200, 0, 1) == 8, "/8 ignores the bits past the prefix");
	CHECK(lpm_get4(m, 11, 0, 0, 1) == 1, "the default route");
	for (ret = bpfrt_map_get_next_key(m, NULL, &k); ret == 0;
	     prev = k, ret = bpfrt_map_get_next_key(m, &prev, &k), i++) {
		snprintf(buf, sizeof(buf), "%u.%u.%u.%u/%u", k.a[0], k.a[1], k.a[2], k.a[3],
			 k.prefixlen);
		CHECK(i < 8 && strcmp(buf, order[i]) == 0, "key %d: %s", i, buf);
	}
	CHECK(ret == -ENOENT && i == 8, "8 keys, then ENOENT (%d)", ret);
	k = (struct ip4){ 20, { 192, 168, 0, 0 } };
	CHECK(bpfrt_map_get_next_key(m, &k, &k) == 0 && k.prefixlen == 8, "missing key: the first");
	k = (struct ip4){ 24, { 192, 168, 1, 0 } };
	CHECK(bpfrt_map_delete(m, &k) == 0 && lpm_get4(m, 192, 168, 1, 2) == 16, "delete /24");
	CHECK(bpfrt_map_delete(m, &k) == -ENOENT, "delete twice");
	k = (struct ip4){ 16, { 192, 168, 0, 0 } };
	CHECK(bpfrt_map_delete(m, &k) == 0 && lpm_get4(m, 192, 168, 7, 2) == 12,
	      "delete /16 (an inner node)");
	k.prefixlen = 33;
	CHECK(bpfrt_map_update(m, &k, &i, 0) == -EINVAL && bpfrt_map_delete(m, &k) == -EINVAL,
	      "prefix longer than the key");
	bpfrt_map_free(m);
}

TEST(maps_lpm_ipv6_and_full)
{
	struct {
		uint32_t plen;
		uint8_t a[16];
	} k = { 0 };
	struct bpfrt_map *m = mk(BPFRT_MAP_LPM_TRIE, 20, 8, 3, 1);
	uint64_t v = 1, out;

	if (!m)
		return;
	k.plen = 32;
	k.a[0] = 0x20, k.a[1] = 0x01, k.a[2] = 0x0d, k.a[3] = 0xb8;	/* 2001:db8::/32 */
	CHECK(bpfrt_map_update(m, &k, &v, 0) == 0, "/32");
	k.plen = 64, k.a[7] = 1, v = 2;
	CHECK(bpfrt_map_update(m, &k, &v, 0) == 0, "/64");
	k.plen = 128, k.a[15] = 0x55, v = 3;
	CHECK(bpfrt_map_update(m, &k, &v, BPFRT_NOEXIST) == 0, "/128");
	k.a[15] = 0x56, v = 4;
	CHECK(bpfrt_map_update(m, &k, &v, 0) == -ENOSPC, "full: ENOSPC like the kernel");
	CHECK(bpfrt_map_lookup(m, &k, &out) == 0 && out == 2, "longest match /64");
	k.a[7] = 2;
	CHECK(bpfrt_map_lookup(m, &k, &out) == 0 && out == 1, "longest match /32");
	k.a[0] = 0x30;
	CHECK(bpfrt_map_lookup(m, &k, &out) == -ENOENT, "no match");
	k.a[0] = 0x20, k.a[7] = 1, k.a[15] = 0x55, v = 5;
	CHECK(bpfrt_map_update(m, &k, &v, BPFRT_EXIST) == 0, "replace while full");
	CHECK(bpfrt_map_update(m, &k, &v, BPFRT_NOEXIST) == -EEXIST, "NOEXIST");
	CHECK(bpfrt_map_lookup(m, &k, &out) == 0 && out == 5, "replaced");
	bpfrt_map_free(m);
}

/* ---- Queues, stacks, bloom filters --------------------------------------- */

TEST(maps_queue_stack)
{
	struct bpfrt_map *q = mk(BPFRT_MAP_QUEUE, 0, 4, 3, 0);
	struct bpfrt_map *s = mk(BPFRT_MAP_STACK, 0, 4, 3, 0);
	uint32_t v, k = 0;

	if (!q || !s)
		return;
	CHECK(bpfrt_map_lookup(q, NULL, &v) == -ENOENT && map_pop_elem(s, &v) == -ENOENT, "empty");
	for (v = 1; v <= 3; v++) {
		bpfrt_map_update(q, NULL, &v, 0);
		map_push_elem(s, &v, 0);
	}
	CHECK(bpfrt_map_update(q, NULL, &v, 0) == -E2BIG && map_push_elem(s, &v, 0) == -E2BIG,
	      "full");
	CHECK(bpfrt_map_update(q, NULL, &v, BPFRT_NOEXIST) == -EINVAL, "NOEXIST is invalid");
	CHECK(bpfrt_map_update(q, &k, &v, 0) == -EINVAL, "queues take no key");
	v = 4;
	CHECK(bpfrt_map_update(q, NULL, &v, BPFRT_EXIST) == 0 &&
	      map_push_elem(s, &v, BPFRT_EXIST) == 0, "EXIST drops the oldest");
	CHECK(bpfrt_map_lookup(q, NULL, &v) == 0 && v == 2, "queue peek: oldest left is 2");
	CHECK(bpfrt_map_lookup(s, NULL, &v) == 0 && v == 4, "stack peek: 4");
	CHECK(bpfrt_map_lookup_and_delete(q, NULL, &v) == 0 && v == 2, "queue pops 2");
	CHECK(map_pop_elem(s, &v) == 0 && v == 4 && map_pop_elem(s, &v) == 0 && v == 3 &&
	      map_pop_elem(s, &v) == 0 && v == 2 && map_pop_elem(s, &v) == -ENOENT,
	      "stack pops 4 3 2 (1 was dropped)");
	CHECK(bpfrt_map_delete(q, NULL) == -EINVAL && bpfrt_map_get_next_key(q, NULL, &v) == -EINVAL,
	      "no delete, no iteration");
	bpfrt_map_free(q);
	bpfrt_map_free(s);
}

TEST(maps_bloom)
{
	struct bpfrt_map *m = mk_full(BPFRT_MAP_BLOOM_FILTER, 0, 8, 1000, 0, 3, NULL, 0);
	uint64_t v;
	int missing = 0, fp = 0;

	if (!m)
		return;
	for (v = 0; v < 1000; v++)
		bpfrt_map_update(m, NULL, &v, 0);
	for (v = 0; v < 1000; v++)
		missing += bpfrt_map_lookup(m, NULL, &v) != 0;
	for (v = 1000000; v < 1010000; v++)
		fp += map_peek_elem(m, &v) == 0;
	CHECK(missing == 0, "no false negatives: %d", missing);
	CHECK(fp < 1000, "false positives stay rare: %d of 10000", fp);
	CHECK(bpfrt_map_update(m, NULL, &v, BPFRT_NOEXIST) == -EINVAL, "only BPF_ANY");
	CHECK(bpfrt_map_delete(m, NULL) == -ENOTSUP && map_pop_elem(m, &v) == -ENOTSUP,
	      "no delete, no pop");
	CHECK(bpfrt_map_get_next_key(m, NULL, &v) == -ENOTSUP, "no iteration");
	bpfrt_map_free(m);
}

/* ---- Ring buffers ---------------------------------------------------------- */

struct seen {
	int n;
	uint32_t last;
	size_t bytes;
	int stop_at;
};

static int rb_cb(void *ctx, void *data, size_t size)
{
	struct seen *s = ctx;
	uint32_t v;

	memcpy(&v, data, sizeof(v));
	if (s->n && v != s->last + 1)
		s->last = 0xdead;	/* out of order */
	else
		s->last = v;
	s->n++;
	s->bytes += size;
	return s->n == s->stop_at;
}

TEST(maps_ringbuf_order_and_wrap)
{
	struct bpfrt_map *m = mk(BPFRT_MAP_RINGBUF, 0, 0, 4096, 0);
	struct seen s = { 0 };
	uint32_t i, total = 0;
	uint8_t rec[100] = { 0 };

	if (!m)
		return;
	CHECK(map_ringbuf_query(m, MAP_RB_RING_SIZE) == 4096, "size");
	for (i = 0; i < 200; i++) {	/* 200 records of 100 bytes: wraps five times */
		memcpy(rec, &i, 4);
		if (map_ringbuf_output(m, rec, sizeof(rec), 0) == -EAGAIN) {
			CHECK(map_ringbuf_query(m, MAP_RB_AVAIL_DATA) > 4096 - 120, "full means full");
			total += bpfrt_ringbuf_consume(m, rb_cb, &s);
			CHECK(map_ringbuf_output(m, rec, sizeof(rec), 0) == 0, "room after consuming");
		}
	}
	total += bpfrt_ringbuf_consume(m, rb_cb, &s);
	CHECK(total == 200 && s.n == 200 && s.last == 199 && s.bytes == 200 * 100,
	      "all 200 in order: %u %d %u", total, s.n, s.last);
	CHECK(map_ringbuf_query(m, MAP_RB_AVAIL_DATA) == 0 &&
	      map_ringbuf_query(m, MAP_RB_PROD_POS) == map_ringbuf_query(m, MAP_RB_CONS_POS),
	      "drained");
	CHECK(map_ringbuf_reserve(m, 4096, 0) == NULL, "a record as big as the ring");
	CHECK(map_ringbuf_reserve(m, 8, 1) == NULL, "reserve flags");
	CHECK(map_ringbuf_output(m, rec, 8, 4) == -EINVAL, "output flags");
	bpfrt_map_free(m);
}

TEST(maps_ringbuf_reserve_discard)
{
	struct bpfrt_map *m = mk(BPFRT_MAP_RINGBUF, 0, 0, 4096, 0);
	struct seen s = { 0 };
	uint32_t *a, *b, *c;

	if (!m)
		return;
	a = map_ringbuf_reserve(m, 4, 0);
	b = map_ringbuf_reserve(m, 4, 0);
	c = map_ringbuf_reserve(m, 4, 0);
	CHECK(a && b && c, "three reservations");
	*a = 1, *b = 99, *c = 2;
	map_ringbuf_submit(c, 0);
	CHECK(bpfrt_ringbuf_consume(m, rb_cb, &s) == 0, "nothing before the first is submitted");
	map_ringbuf_discard(b, 0);
	map_ringbuf_submit(a, 0);
	CHECK(bpfrt_ringbuf_consume(m, rb_cb, &s) == 2 && s.last == 2, "1 and 2; 99 discarded");
	s = (struct seen){ .stop_at = 2 };
	for (uint32_t i = 0; i < 5; i++)
		map_ringbuf_output(m, &i, 4, 0);
	CHECK(bpfrt_ringbuf_consume(m, rb_cb, &s) == 2, "stops when the callback says so");
	CHECK(bpfrt_ringbuf_consume(m, rb_cb, &s) == 3, "the rest later");
	CHECK(bpfrt_map_lookup(m, NULL, &s) == -EINVAL && bpfrt_map_get_next_key(m, NULL, &s) == -ENOTSUP,
	      "no user-space element access");
	bpfrt_map_free(m);
}

TEST(maps_ringbuf_epoll)
{
	struct bpfrt_map *m = mk(BPFRT_MAP_RINGBUF, 0, 0, 8192, 0);
	struct epoll_event ev = { .events = EPOLLIN }, got;
	struct seen s = { 0 };
	uint32_t v = 0;
	int ep;

	if (!m)
		return;
	ep = epoll_create1(0);
	epoll_ctl(ep, EPOLL_CTL_ADD, bpfrt_ringbuf_fd(m), &ev);
	CHECK(epoll_wait(ep, &got, 1, 0) == 0, "quiet at first");
	map_ringbuf_output(m, &v, 4, 0);
	CHECK(epoll_wait(ep, &got, 1, 1000) == 1, "a submit wakes the consumer up");
	v = 1;
	map_ringbuf_output(m, &v, 4, MAP_RB_NO_WAKEUP);
	CHECK(bpfrt_ringbuf_consume(m, rb_cb, &s) == 2, "both records");
	CHECK(epoll_wait(ep, &got, 1, 0) == 0, "consuming resets the fd");
	v = 2;
	map_ringbuf_output(m, &v, 4, MAP_RB_NO_WAKEUP);
	CHECK(epoll_wait(ep, &got, 1, 0) == 0, "BPF_RB_NO_WAKEUP");
	v = 3;
	map_ringbuf_output(m, &v, 4, MAP_RB_FORCE_WAKEUP);
	CHECK(epoll_wait(ep, &got, 1, 0) == 1, "BPF_RB_FORCE_WAKEUP");
	CHECK(bpfrt_ringbuf_poll(m, rb_cb, &s, 100) == 2 && s.last == 3, "poll");
	CHECK(bpfrt_ringbuf_poll(m, rb_cb, &s, 10) == 0, "poll times out");
	close(ep);
	bpfrt_map_free(m);
}

/* ---- Perf event arrays ------------------------------------------------------ */

struct perf_seen {
	int n[4];
	uint64_t lost[4];
};

static int perf_cb(void *ctx, unsigned cpu, void *data, size_t size)
{
	(void)data;
	((struct perf_seen *)ctx)->n[cpu] += size == 64;
	return 0;
}

static void perf_lost(void *ctx, unsigned cpu, uint64_t lost)
{
	((struct perf_seen *)ctx)->lost[cpu] += lost;
}

TEST(maps_perf_event_array)
{
	struct bpfrt_map *m = mk_full(BPFRT_MAP_PERF_EVENT_ARRAY, 4, 4, 4, 0, 4096, NULL, 4);
	struct perf_seen s = { { 0 }, { 0 } };
	uint8_t rec[64] = { 0 };
	uint32_t k = 1, fdv = 0;
	int ok = 0, full = 0;

	if (!m)
		return;
	CHECK(map_perf_event_output(m, 1, rec, 64) == -ENOENT, "closed slot");
	CHECK(map_perf_event_output(m, 4, rec, 64) == -E2BIG, "no slot 4");
	CHECK(map_perf_event_output(m, 1ull << 40, rec, 64) == -EINVAL, "flags");
	CHECK(bpfrt_map_update(m, &k, &fdv, 0) == 0, "open slot 1");
	CHECK(bpfrt_map_update(m, &k, &fdv, BPFRT_NOEXIST) == -EINVAL, "only BPF_ANY");
	for (int i = 0; i < 100; i++) {	/* 72 bytes a record: 56 fit in 4096 */
		long r = map_perf_event_output(m, 1, rec, 64);

		ok += r == 0;
		full += r == -ENOSPC;
	}
	CHECK(ok == 56 && full == 44, "%d fit, %d lost", ok, full);
	CHECK(bpfrt_perf_consume(m, perf_cb, perf_lost, &s) == 56 && s.n[1] == 56 &&
	      s.lost[1] == 44, "consumed %d, lost %llu", s.n[1], (unsigned long long)s.lost[1]);
	for (int i = 0; i < 100; i++)	/* wraps with padding */
		map_perf_event_output(m, 1, rec, 64), bpfrt_perf_consume(m, perf_cb, NULL, &s);
	CHECK(s.n[1] == 156, "after wrapping: %d", s.n[1]);
	CHECK(bpfrt_map_delete(m, &k) == 0 && bpfrt_map_delete(m, &k) == -ENOENT, "close");
	CHECK(bpfrt_map_lookup(m, &k, &fdv) == -ENOTSUP, "no lookup (the kernel's ENOTSUPP)");
	bpfrt_map_free(m);
}

/* ---- Prog arrays and maps of maps --------------------------------------- */

TEST(maps_prog_array)
{
	struct bpfrt_map *m = mk(BPFRT_MAP_PROG_ARRAY, 4, 4, 4, 0);
	struct bpfrt_prog *prog = NULL, *out = NULL, *none = NULL;
	struct bpfrt_insn exit_insn = { .code = 0x95 };
	uint32_t k = 2;

	if (!m)
		return;
	if (!CHECK(bpfrt_prog_new(&exit_insn, 1, NULL, &prog, NULL) == 0, "a program")) {
		bpfrt_map_free(m);
		return;
	}
	CHECK(map_prog_array_get(m, 2) == NULL && bpfrt_map_lookup(m, &k, &out) == -ENOENT, "empty");
	CHECK(bpfrt_map_update(m, &k, &prog, 0) == 0 && map_prog_array_get(m, 2) == prog, "set");
	CHECK(atomic_load(&prog->refcnt) == 2, "the slot holds a reference: %d",
	      atomic_load(&prog->refcnt));
	k = 3;
	CHECK(bpfrt_map_update(m, &k, &prog, 0) == 0 && atomic_load(&prog->refcnt) == 3,
	      "a reference per slot");
	CHECK(bpfrt_map_update(m, &k, &prog, 0) == 0 && atomic_load(&prog->refcnt) == 3,
	      "replacing drops the old one");
	k = 2;
	CHECK(bpfrt_map_lookup(m, &k, &out) == 0 && out == prog, "lookup gives the pointer");
	CHECK(bpfrt_map_update(m, &k, &prog, BPFRT_NOEXIST) == -EINVAL, "only BPF_ANY");
	CHECK(bpfrt_map_update(m, &k, &none, 0) == -EBADF, "NULL is no program");
	k = 4;
	CHECK(bpfrt_map_update(m, &k, &prog, 0) == -E2BIG && map_prog_array_get(m, 4) == NULL &&
	      bpfrt_map_delete(m, &k) == -E2BIG, "max_entries");
	k = 2;
	CHECK(bpfrt_map_delete(m, &k) == 0 && bpfrt_map_delete(m, &k) == -ENOENT, "delete");
	CHECK(atomic_load(&prog->refcnt) == 2, "delete drops the slot's reference");
	bpfrt_prog_free(prog);	/* slot 3 keeps it alive */
	k = 3;
	CHECK(bpfrt_map_lookup(m, &k, &out) == 0 && out == prog &&
	      atomic_load(&prog->refcnt) == 1, "alive in its slot");
	bpfrt_map_free(m);	/* and freed with the map (ASan would tell) */
}

TEST(maps_of_maps)
{
	struct bpfrt_map *tmpl = mk(BPFRT_MAP_ARRAY, 4, 8, 4, 0);
	struct bpfrt_map *inner = mk(BPFRT_MAP_ARRAY, 4, 8, 4, 0);
	struct bpfrt_map *other = mk(BPFRT_MAP_ARRAY, 4, 8, 5, 0);
	struct bpfrt_map *aom = mk_full(BPFRT_MAP_ARRAY_OF_MAPS, 4, 4, 2, 0, 0, tmpl, 0);
	struct bpfrt_map *hom = mk_full(BPFRT_MAP_HASH_OF_MAPS, 8, 4, 2, 0, 0, tmpl, 0);
	struct bpfrt_map *out = NULL, *none = NULL;
	uint64_t hk = 77, v = 5;
	uint32_t k = 1;

	if (!tmpl || !inner || !other || !aom || !hom)
		return;
	CHECK(bpfrt_map_update(aom, &k, &other, 0) == -EINVAL, "max_entries must match");
	CHECK(bpfrt_map_update(aom, &k, &none, 0) == -EBADF, "NULL is no map");
	CHECK(bpfrt_map_update(aom, &k, &inner, BPFRT_NOEXIST) == -EINVAL, "arrays: BPF_ANY only");
	CHECK(bpfrt_map_update(aom, &k, &inner, 0) == 0, "insert");
	CHECK(bpfrt_map_update(hom, &hk, &inner, BPFRT_EXIST) == -ENOENT, "hash flags");
	CHECK(bpfrt_map_update(hom, &hk, &inner, 0) == 0, "hash insert");
	bpfrt_map_free(inner);	/* the outer maps keep it alive */
	CHECK(map_of_maps_lookup(aom, &k) == inner && map_lookup_elem(hom, &hk) == inner,
	      "programs get the inner map");
	CHECK(bpfrt_map_lookup(hom, &hk, &out) == 0 && out == inner, "user space too");
	k = 0;
	CHECK(bpfrt_map_update(map_of_maps_lookup(aom, &(uint32_t){ 1 }), &k, &v, 0) == 0,
	      "the inner map works");
	CHECK(bpfrt_map_lookup(aom, &k, &out) == -ENOENT && map_of_maps_lookup(aom, &k) == NULL,
	      "empty slot");
	k = 2;
	CHECK(bpfrt_map_update(aom, &k, &inner, 0) == -E2BIG, "index");
	k = 1;
	CHECK(bpfrt_map_delete(aom, &k) == 0 && bpfrt_map_delete(aom, &k) == -ENOENT, "delete");
	CHECK(bpfrt_map_delete(hom, &hk) == 0 && map_lookup_elem(hom, &hk) == NULL,
	      "hash delete (drops the last reference)");
	CHECK(create_err(BPFRT_MAP_HASH_OF_MAPS, 4, 8, 2, 0, 0) == -EINVAL, "value_size 4");
	bpfrt_map_free(aom);
	bpfrt_map_free(hom);
	bpfrt_map_free(tmpl);
	bpfrt_map_free(other);
}

TEST(maps_access_flags_and_regions)
{
	struct bpfrt_map *ro = mk(BPFRT_MAP_HASH, 4, 4, 4, 8);
	struct bpfrt_map *wo = mk(BPFRT_MAP_HASH, 4, 4, 4, 16);
	struct bpfrt_map *a = mk(BPFRT_MAP_ARRAY, 4, 4, 10, 0);
	uint32_t k = 1, v = 2, next;
	void *base;
	size_t len;

	if (!ro || !wo || !a)
		return;
	CHECK(bpfrt_map_update(ro, &k, &v, 0) == -EPERM && bpfrt_map_delete(ro, &k) == -EPERM,
	      "BPF_F_RDONLY");
	CHECK(map_update_elem(ro, &k, &v, 0) == 0 && bpfrt_map_lookup(ro, &k, &v) == 0,
	      "programs may still write it");
	CHECK(bpfrt_map_update(wo, &k, &v, 0) == 0 && bpfrt_map_lookup(wo, &k, &v) == -EPERM &&
	      bpfrt_map_get_next_key(wo, NULL, &next) == -EPERM, "BPF_F_WRONLY");
	CHECK(map_value_region(a, &base, &len) && len == 80 &&
	      map_lookup_elem(a, &k) == (uint8_t *)base + 8, "array region (values padded to 8)");
	CHECK(map_value_region(ro, &base, &len) &&
	      (uint8_t *)map_lookup_elem(ro, &k) >= (uint8_t *)base &&
	      (uint8_t *)map_lookup_elem(ro, &k) + 4 <= (uint8_t *)base + len, "hash region");
	bpfrt_map_free(ro);
	bpfrt_map_free(wo);
	bpfrt_map_free(a);
}
