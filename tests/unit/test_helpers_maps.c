/* test_helpers_maps.c — the helpers' map types, stack_trace and cgroup_array: against the kernel, and stacks stored and read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bpfrt.h"
#include "maps/map.h"
#include "t.h"

#define ENOTSUPP_KERNEL 524

static int k_err(int ret)
{
	if (ret >= 0)
		return ret;
	return errno == ENOTSUPP_KERNEL ? -ENOTSUP : -errno;
}

/* Create the same map in both; both results (fd or error) come back. */
static int both_create(uint32_t type, uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags,
		       struct bpfrt_map **m, int *kfd)
{
	LIBBPF_OPTS(bpf_map_create_opts, ko, .map_flags = flags);
	BPFRT_OPTS(bpfrt_map_opts, o, .type = type, .key_size = ks, .value_size = vs,
		   .max_entries = max, .map_flags = flags);
	struct bpfrt_error err;

	*m = NULL;
	*kfd = k_err(bpf_map_create(type, NULL, ks, vs, max, &ko));
	return bpfrt_map_create(&o, m, &err);
}

TEST(helpers_maps_create_like_kernel)
{
	static const struct { uint32_t type, ks, vs, max, flags; } cases[] = {
		{ 7, 4, 8, 1, 0 }, { 7, 4, 16, 100, 0 }, { 7, 4, 127 * 8, 4, 0 },
		{ 7, 4, 128 * 8, 4, 0 }, { 7, 4, 12, 4, 0 }, { 7, 4, 0, 4, 0 }, { 7, 8, 8, 4, 0 },
		{ 7, 4, 8, 0, 0 }, { 7, 4, 8, 4, 1 }, { 7, 4, 8, 4, 1u << 3 }, { 7, 4, 8, 4, 1u << 7 },
		{ 7, 4, 8, 4, 1u << 2 }, { 7, 2, 8, 4, 0 },
		{ 8, 4, 4, 1, 0 }, { 8, 4, 4, 64, 0 }, { 8, 4, 8, 4, 0 }, { 8, 8, 4, 4, 0 },
		{ 8, 4, 4, 0, 0 }, { 8, 4, 4, 4, 1 }, { 8, 4, 4, 4, 1u << 3 }, { 8, 4, 4, 4, 1u << 7 },
		{ 8, 4, 4, 4, 1u << 8 }, { 8, 4, 4, 4, 1u << 2 },
	};
	unsigned compared = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bpfrt_map *m;
		int kfd, ret = both_create(cases[i].type, cases[i].ks, cases[i].vs, cases[i].max,
					   cases[i].flags, &m, &kfd);

		if (kfd == -EPERM || kfd == -ENOSYS) {
			printf("  helpers_maps_create_like_kernel: skipped: no bpf() here\n");
			bpfrt_map_free(m);
			return;
		}
		CHECK((ret == 0) == (kfd >= 0) && (ret == 0 || ret == kfd),
		      "type %u key %u value %u max %u flags %#x: bpfrt %d, the kernel %d",
		      cases[i].type, cases[i].ks, cases[i].vs, cases[i].max, cases[i].flags, ret, kfd);
		compared++;
		if (kfd >= 0)
			close(kfd);
		bpfrt_map_free(m);
	}
	CHECK(compared > 0, "nothing compared");
}

/* The user-space operations of an empty stack map and of a cgroup array, in both. */
TEST(helpers_maps_ops_like_kernel)
{
	struct bpfrt_map *m;
	uint64_t v[4];
	uint32_t key, next;
	int kfd, ret, cgfd = open("/sys/fs/cgroup/unified", O_RDONLY | O_DIRECTORY);
	int updated = 0;

	if (cgfd < 0)	/* cgroup2 alone, or hybrid with its v2 part in unified/ */
		cgfd = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY);

	ret = both_create(7, 4, 32, 16, 0, &m, &kfd);
	if (kfd < 0 || ret) {
		printf("  helpers_maps_ops_like_kernel: skipped: %d %d\n", kfd, ret);
		bpfrt_map_free(m);
		if (kfd >= 0)
			close(kfd);
		return;
	}
	for (key = 0; key < 20; key += 5) {
		CHECK(bpfrt_map_lookup(m, &key, v) == k_err(bpf_map_lookup_elem(kfd, &key, v)),
		      "stack map: lookup of empty id %u", key);
		CHECK(bpfrt_map_update(m, &key, v, 0) == k_err(bpf_map_update_elem(kfd, &key, v, 0)),
		      "stack map: update %u", key);
		CHECK(bpfrt_map_delete(m, &key) == k_err(bpf_map_delete_elem(kfd, &key)),
		      "stack map: delete of empty id %u: bpfrt %d", key, bpfrt_map_delete(m, &key));
	}
	CHECK(bpfrt_map_get_next_key(m, NULL, &next) == k_err(bpf_map_get_next_key(kfd, NULL, &next)),
	      "stack map: first key of an empty map");
	close(kfd);
	bpfrt_map_free(m);

	ret = both_create(8, 4, 4, 4, 0, &m, &kfd);
	if (CHECK(ret == 0 && kfd >= 0, "cgroup arrays: %d %d", ret, kfd)) {
		int tmp = open("/tmp", O_RDONLY | O_DIRECTORY), bad = -1;
		uint32_t val;

		for (key = 0; key < 6; key++) {
			int fd = key == 1 ? tmp : key == 2 ? bad : cgfd;
			int a = bpfrt_map_update(m, &key, &fd, 0);
			int b = k_err(bpf_map_update_elem(kfd, &key, &fd, 0));

			CHECK(a == b, "cgroup array: update %u with fd %d: bpfrt %d, the kernel %d",
			      key, fd, a, b);
			updated += a == 0;
			a = bpfrt_map_lookup(m, &key, &val);
			b = k_err(bpf_map_lookup_elem(kfd, &key, &val));
			CHECK(a == b, "cgroup array: lookup %u: bpfrt %d, the kernel %d", key, a, b);
		}
		for (key = 0; key < 6; key++) {
			int a = bpfrt_map_delete(m, &key), b = k_err(bpf_map_delete_elem(kfd, &key));

			CHECK(a == b, "cgroup array: delete %u: bpfrt %d, the kernel %d", key, a, b);
		}
		CHECK(updated == 2, "the cgroup v2 root went into slots 0 and 3 (%d)", updated);
		key = 2;
		CHECK(bpfrt_map_get_next_key(m, &key, &next) == 0 &&
		      k_err(bpf_map_get_next_key(kfd, &key, &val)) == 0 && next == val,
		      "cgroup array: next key after 2");
		close(tmp);
	}
	if (kfd >= 0)
		close(kfd);
	bpfrt_map_free(m);
	if (cgfd >= 0)
		close(cgfd);
}

/* Stacks put by bpf_get_stackid's code path, read by id, replaced, deleted, walked. */
TEST(helpers_maps_stack_trace)
{
	BPFRT_OPTS(bpfrt_map_opts, o, .type = BPFRT_MAP_STACK_TRACE, .key_size = 4,
		   .value_size = 4 * 8, .max_entries = 1);
	uint64_t a[6] = { 1, 2, 3, 4, 5, 6 }, b[2] = { 7, 8 }, got[4];
	struct bpfrt_map *m = NULL, *big = NULL;
	struct bpfrt_error err;
	uint32_t id = 0, next, count = 0;
	long ret;

	if (!CHECK(bpfrt_map_create(&o, &m, &err) == 0, "create: %s", err.msg))
		return;
	/* One bucket: the second stack collides. */
	CHECK(map_stack_trace_put(m, a, 6, 0) == 0, "a stack of 6 frames, kept 4");
	CHECK(map_stack_trace_put(m, a, 6, 0) == 0, "the same stack again: the same id");
	CHECK(map_stack_trace_put(m, b, 2, 0) == -EEXIST, "another stack in a taken bucket");
	CHECK(map_stack_trace_put(m, b, 0, 0) == -EFAULT, "no frames");
	CHECK(bpfrt_map_lookup(m, &id, got) == 0 && !memcmp(got, a, 32), "read back, truncated to 4");
	CHECK(map_stack_trace_put(m, b, 2, MAP_F_REUSE_STACKID) == 0, "BPF_F_REUSE_STACKID replaces");
	CHECK(bpfrt_map_lookup(m, &id, got) == 0 && got[0] == 7 && got[1] == 8 && !got[2] && !got[3],
	      "a shorter stack is zero-padded");
	CHECK(map_stack_trace_put(m, a, 4, MAP_F_FAST_STACK_CMP) == -EEXIST,
	      "BPF_F_FAST_STACK_CMP: a different hash is still another stack");
	CHECK(bpfrt_map_delete(m, &id) == 0 && bpfrt_map_lookup(m, &id, got) == -ENOENT,
	      "deleted");
	bpfrt_map_free(m);
	/* Many buckets: every stored id is walked once, in order. */
	o.max_entries = 100;	/* 128 buckets */
	if (!CHECK(bpfrt_map_create(&o, &big, &err) == 0, "create: %s", err.msg))
		return;
	for (uint64_t i = 0; i < 50; i++) {
		uint64_t s[3] = { i, i * 7, i * 13 };

		ret = map_stack_trace_put(big, s, 3, 0);
		CHECK(ret >= 0 || ret == -EEXIST, "put %llu: %ld", (unsigned long long)i, ret);
		CHECK(ret < 128, "ids are bucket numbers: %ld", ret);
	}
	for (int r = bpfrt_map_get_next_key(big, NULL, &next); r == 0;
	     r = bpfrt_map_get_next_key(big, &id, &next)) {
		CHECK(count == 0 || next > id, "ascending ids");
		id = next;
		count++;
	}
	CHECK(count > 30 && count <= 50, "%u stacks stored of 50", count);
	bpfrt_map_free(big);
}
