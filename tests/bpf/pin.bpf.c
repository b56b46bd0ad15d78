/* pin.bpf.c — pinning tests: a socket filter counting packets and bytes per length class in shared maps. */
#include "bpf_test.h"

char LICENSE[] SEC("license") = "GPL";

struct stats {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct stats);
	__uint(max_entries, 64);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} totals SEC(".maps");

/* r1 = data, r2 = length (the test runner's convention). */
SEC("socket")
int count(void *data, __u64 len)
{
	__u32 key = (__u32)(len / 64), zero = 0;
	struct stats *s, init = { 1, len };
	__u64 *t;

	(void)data;
	s = bpf_map_lookup_elem(&flows, &key);
	if (s) {
		__sync_fetch_and_add(&s->packets, 1);
		__sync_fetch_and_add(&s->bytes, len);
	} else {
		bpf_map_update_elem(&flows, &key, &init, BPF_ANY);
	}
	t = bpf_map_lookup_elem(&totals, &zero);
	if (t)
		__sync_fetch_and_add(t, 1);
	return 0;
}
