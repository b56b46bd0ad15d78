/* maps.bpf.c — loader test: BTF-defined maps of several types, prog arrays and maps of maps with __array initial values. */
#include "bpf_test.h"

char LICENSE[] SEC("license") = "GPL";

/* ---- Plain maps ------------------------------------------------------------------ */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} counts SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 24);
	__uint(max_entries, 2);
} pcpu_def;
pcpu_def pcpu SEC(".maps");

struct pair {
	__u32 a, b;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct pair);
	__type(value, struct pair);
	__uint(max_entries, 32);
} lru SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 8);
} q SEC(".maps");

/* ---- Maps of maps ------------------------------------------------------------------ */

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} in_a SEC(".maps"), in_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} outer_arr SEC(".maps") = {
	.values = { [0] = &in_a, [3] = &in_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} outer_hash SEC(".maps") = {
	.values = { [1] = &in_b },
};

/* ---- A prog array ---------------------------------------------------------------------- */

int tail_a(void *ctx);
int tail_b(void *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, int (void *));
} jmp SEC(".maps") = {
	.values = { [2] = (void *)&tail_a, [5] = (void *)&tail_b },
};

SEC("tc") int tail_a(void *ctx)
{
	return ctx ? 10 : 11;
}

SEC("tc") int tail_b(void *ctx)
{
	return ctx ? 20 : 21;
}

/* ---- Programs ------------------------------------------------------------------------------ */

/* arr[key] += 1; counts[key] = 1; returns the new arr[key]. */
SEC("xdp") int count(__u32 *ctx)
{
	__u32 k = *ctx;
	__u64 one = 1, *v = bpf_map_lookup_elem(&arr, &k);

	if (!v)
		return -1;
	*v += 1;
	bpf_map_update_elem(&counts, &k, &one, BPF_ANY);
	return (int)*v;
}

/* The value of the inner map in slot *ctx of outer_arr, or -1. */
SEC("xdp") int via_outer(__u32 *ctx)
{
	__u32 k = *ctx, zero = 0, *v;
	void *inner = bpf_map_lookup_elem(&outer_arr, &k);

	if (!inner)
		return -1;
	v = bpf_map_lookup_elem(inner, &zero);
	return v ? (int)*v : -2;
}

SEC("xdp") int jumper(void *ctx)
{
	bpf_tail_call(ctx, &jmp, 2);
	return 1;
}

SEC("xdp") int others(__u32 *ctx)
{
	struct pair p = { *ctx, 2 };
	__u32 k = 0;
	__u8 *pc = bpf_map_lookup_elem(&pcpu, &k);

	bpf_map_update_elem(&lru, &p, &p, BPF_ANY);
	bpf_map_push_elem(&q, ctx, BPF_ANY);
	bpf_ringbuf_output(&rb, &p, sizeof(p), 0);
	bpf_map_lookup_elem(&outer_hash, &k);
	return pc ? pc[0] : 0;
}
