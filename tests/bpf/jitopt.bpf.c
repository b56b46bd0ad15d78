/* jitopt.bpf.c — code the unchecked JIT optimizes (switch tables, selects, a byte-copy loop), for comparing with Linux. */
#include "bpf_test.h"
#include "jitopt.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 8);
} result SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct jo_in);
	__uint(max_entries, 1);
} input SEC(".maps");

static void put(__u32 k, __u64 v)
{
	bpf_map_update_elem(&result, &k, &v, BPF_ANY);
}

/* result = { the switch of values, the jump table's, the selects' } */
SEC("xdp") int tables(void *ctx)
{
	__u32 k = 0;
	struct jo_in *in = bpf_map_lookup_elem(&input, &k);
	__u64 a, b, x;

	(void)ctx;
	if (!in)
		return 1;
	x = jo_mix(in, &a, &b);
	put(0, x);
	put(1, a);
	put(2, b);
	return 2;
}

/* result[0] = the hash of the buffer after copying n bytes from src to dst in it */
SEC("xdp") int copy(void *ctx)
{
	__u32 k = 0;
	struct jo_in *in = bpf_map_lookup_elem(&input, &k);
	__u64 src, dst, n;

	(void)ctx;
	if (!in)
		return 1;
	src = in->src;
	dst = in->dst;
	n = in->n;
	if (src > 128 || dst > 128 || n > 100)
		return 0;
	__u8 *s = in->buf + src, *d = in->buf + dst;

	for (__u64 i = 0; i < n; i++)
		d[i] = s[i];
	put(0, jo_hash(in->buf));
	return 2;
}
