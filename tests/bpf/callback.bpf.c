/* callback.bpf.c — bpf_loop and bpf_for_each_map_elem: early stop, no iterations, bad flags, arrays, hashes, deleting while iterating. */
#include "bpf_test.h"

char LICENSE[] SEC("license") = "GPL";

static long (*bpf_map_delete_elem_)(void *map, const void *key) = (void *)3;
static long (*bpf_for_each_map_elem)(void *map, void *callback_fn, void *callback_ctx,
				     __u64 flags) = (void *)164;

/* result[k]: results the tests read back (and compare with the kernel's). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 8);
} result SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 6);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 16);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 256);	/* room enough that Linux's per-CPU free lists never evict */
} lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 5);
} pcpu_arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 16);
} pcpu_hash SEC(".maps");

struct {
	__uint(type, 10);	/* BPF_MAP_TYPE_LRU_PERCPU_HASH */
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 256);
} pcpu_lru SEC(".maps");

static __attribute__((always_inline)) void put(__u32 k, __u64 v)
{
	__u64 *p = bpf_map_lookup_elem(&result, &k);

	if (p)
		*p = v;
}

/* ---- bpf_loop ---------------------------------------------------------------- */

struct loop_ctx {
	__u64 sum;
	__u64 calls;
	__u32 stop_at;
};

static int loop_cb(__u32 i, void *arg)
{
	struct loop_ctx *c = arg;

	c->sum += i * i;
	c->calls++;
	return i == c->stop_at;
}

static __attribute__((always_inline)) int do_loop(__u32 n, __u32 stop_at, __u64 flags)
{
	struct loop_ctx c = { .stop_at = stop_at };
	long r = bpf_loop(n, loop_cb, &c, flags);

	put(0, (__u64)r);
	put(1, c.sum);
	put(2, c.calls);
	return (int)r;
}

SEC("xdp") int loop_stop(void *ctx)
{
	(void)ctx;
	return do_loop(10, 5, 0);	/* stops after i = 5: 6 iterations */
}

SEC("xdp") int loop_all(void *ctx)
{
	(void)ctx;
	return do_loop(20, 1000, 0);
}

SEC("xdp") int loop_none(void *ctx)
{
	(void)ctx;
	return do_loop(0, 0, 0);
}

SEC("xdp") int loop_flags(void *ctx)
{
	volatile __u64 flags = 1;

	(void)ctx;
	return do_loop(3, 1000, flags) < 0 ? 1 : 2;
}

SEC("xdp") int loop_too_many(void *ctx)
{
	volatile __u32 n = (1u << 23) + 1;

	(void)ctx;
	return do_loop(n, 0, 0) < 0 ? 1 : 2;
}

/* A loop inside a callback. */
static int inner_cb(__u32 i, void *arg)
{
	*(__u64 *)arg += i + 1;
	return 0;
}

static int outer_cb(__u32 i, void *arg)
{
	__u64 part = 0;

	bpf_loop(i, inner_cb, &part, 0);
	*(__u64 *)arg += part;
	return 0;
}

SEC("xdp") int loop_nested(void *ctx)
{
	__u64 total = 0;

	(void)ctx;
	put(0, (__u64)bpf_loop(6, outer_cb, &total, 0));
	put(1, total);
	return (int)total;
}

/* ---- bpf_for_each_map_elem ---------------------------------------------------- */

struct each_ctx {
	__u64 sum;
	__u64 keys;
	__u32 stop_key;
};

static long sum_cb(void *map, __u32 *key, __u64 *value, struct each_ctx *c)
{
	(void)map;
	c->sum += *value;
	c->keys += *key;
	*value += 1;		/* values are the element's own: writable */
	return *key == c->stop_key;
}

static __attribute__((always_inline)) int each(void *map, __u32 stop_key)
{
	struct each_ctx c = { .stop_key = stop_key };
	long n = bpf_for_each_map_elem(map, sum_cb, &c, 0);

	put(0, (__u64)n);
	put(1, c.sum);
	put(2, c.keys);
	return (int)n;
}

SEC("xdp") int each_array(void *ctx)
{
	(void)ctx;
	return each(&arr, 1000);
}

SEC("xdp") int each_array_stop(void *ctx)
{
	(void)ctx;
	return each(&arr, 3);	/* keys 0..3: 4 elements */
}

SEC("xdp") int each_hash(void *ctx)
{
	(void)ctx;
	return each(&hash, 1000);
}

SEC("xdp") int each_lru(void *ctx)
{
	(void)ctx;
	return each(&lru, 1000);
}

/* Per-CPU maps: the callback sees this CPU's value (the same on every CPU here). */
SEC("xdp") int each_pcpu_array(void *ctx)
{
	(void)ctx;
	return each(&pcpu_arr, 1000);
}

SEC("xdp") int each_pcpu_hash(void *ctx)
{
	(void)ctx;
	return each(&pcpu_hash, 1000);
}

SEC("xdp") int each_pcpu_lru(void *ctx)
{
	(void)ctx;
	return each(&pcpu_lru, 1000);
}

SEC("xdp") int each_flags(void *ctx)
{
	struct each_ctx c = { .stop_key = 1000 };
	volatile __u64 flags = 1;

	(void)ctx;
	put(0, (__u64)bpf_for_each_map_elem(&arr, sum_cb, &c, flags));
	return 0;
}

/* Deleting the element being visited, which the kernel allows for hash maps. */
static long delete_cb(void *map, __u32 *key, __u64 *value, __u64 *n)
{
	(void)value;
	if (*key & 1) {
		bpf_map_delete_elem_(map, key);
		*n += 1;
	}
	return 0;
}

SEC("xdp") int each_delete(void *ctx)
{
	__u64 n = 0;

	(void)ctx;
	put(0, (__u64)bpf_for_each_map_elem(&hash, delete_cb, &n, 0));
	put(1, n);
	return (int)n;
}
