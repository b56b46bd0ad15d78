/* legacy.bpf.c — loader test: legacy struct bpf_map_def maps in section "maps", a version section, no .maps. */
#include "bpf_test.h"

/* As the kernel's samples/bpf declared it: 28 bytes. */
struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
	unsigned int inner_map_idx;
	unsigned int numa_node;
};

struct bpf_map_def SEC("maps") port_a = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u32),
	.max_entries = 4,
};

struct bpf_map_def SEC("maps") hits = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 64,
	.map_flags = BPF_F_NO_PREALLOC,
};

struct bpf_map_def SEC("maps") a_of_port = {
	.type = BPF_MAP_TYPE_ARRAY_OF_MAPS,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u32),
	.max_entries = 2,
	.inner_map_idx = 0,	/* port_a is the template */
};

char _license[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x050a00;

/* port_a[*ctx & 3] + 1, stored back; hits[*ctx] = that. */
SEC("socket1") int legacy_prog(__u32 *ctx)
{
	__u32 k = *ctx & 3;
	__u32 *v = bpf_map_lookup_elem(&port_a, &k);
	__u64 n;

	if (!v)
		return -1;
	n = ++*v;
	bpf_map_update_elem(&hits, ctx, &n, BPF_ANY);
	return (int)n;
}

SEC("kprobe/sys_connect") int legacy_outer(__u32 *ctx)
{
	return bpf_map_lookup_elem(&a_of_port, ctx) != 0;
}
