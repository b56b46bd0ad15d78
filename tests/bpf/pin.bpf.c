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

/* A map the program does not use, with types that test BTF-formatted output. */
enum color { RED = 1, GREEN = 2, BLUE = 7 };

struct rich_key {
	__u16 port;
	__u8 proto;
	__u8 pad;
};

struct inner {
	short lo, hi;
};

struct rich_value {
	enum color color;
	char name[8];
	__u32 flags : 3, level : 5, rest : 24;
	__s32 delta;
	struct inner range;
	__u64 hist[2];
	_Bool on;
	unsigned char tail[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct rich_key);
	__type(value, struct rich_value);
	__uint(max_entries, 8);
} rich SEC(".maps");

/* The start of the kernel's struct __sk_buff: the packet's length. */
struct __sk_buff {
	__u32 len;
};

/* Valid for the kernel's verifier too, so the tag can be compared with Linux's. */
SEC("socket")
int count(struct __sk_buff *skb)
{
	__u64 len = skb->len;
	__u32 key = (__u32)(len / 64), zero = 0;
	struct stats *s, init = { 1, len };
	__u64 *t;

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
