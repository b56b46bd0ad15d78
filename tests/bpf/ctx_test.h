/* ctx_test.h — what the ctx/xdp test programs need beyond bpf_test.h: contexts, packet helpers by id. */
#ifndef CTX_TEST_H
#define CTX_TEST_H

#include "bpf_test.h"

/* The kernel's UAPI contexts. */
struct xdp_md {
	__u32 data, data_end, data_meta;
	__u32 ingress_ifindex, rx_queue_index, egress_ifindex;
};

struct __sk_buff {
	__u32 len, pkt_type, mark, queue_mapping, protocol, vlan_present, vlan_tci, vlan_proto;
	__u32 priority, ingress_ifindex, ifindex, tc_index, cb[5], hash, tc_classid;
	__u32 data, data_end, napi_id;
	__u32 family, remote_ip4, local_ip4, remote_ip6[4], local_ip6[4], remote_port, local_port;
	__u32 data_meta;
	__u64 flow_keys;
	__u64 tstamp;
	__u32 wire_len, gso_segs;
	__u64 sk;
	__u32 gso_size;
	__u8 tstamp_type;
	__u64 hwtstamp;
};

enum { XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT };
enum { TC_ACT_OK = 0, TC_ACT_SHOT = 2, TC_ACT_REDIRECT = 7 };
enum {
	BPF_MAP_TYPE_DEVMAP = 14, BPF_MAP_TYPE_CPUMAP = 16, BPF_MAP_TYPE_XSKMAP = 17,
	BPF_MAP_TYPE_DEVMAP_HASH = 25,
};
enum { BPF_F_PSEUDO_HDR = 1 << 4, BPF_F_MARK_MANGLED_0 = 1 << 5 };

#define bswap16(x) __builtin_bswap16(x)
#define bswap32(x) __builtin_bswap32(x)

/* Helpers, by the kernel's ids. */
static long (*bpf_skb_store_bytes)(void *skb, __u32 off, const void *from, __u32 len,
				   __u64 flags) = (void *)9;
static long (*bpf_l3_csum_replace)(void *skb, __u32 off, __u64 from, __u64 to,
				   __u64 size) = (void *)10;
static long (*bpf_l4_csum_replace)(void *skb, __u32 off, __u64 from, __u64 to,
				   __u64 flags) = (void *)11;
static long (*bpf_clone_redirect)(void *skb, __u32 ifindex, __u64 flags) = (void *)13;
static long (*bpf_skb_vlan_push)(void *skb, __u16 proto, __u16 tci) = (void *)18;
static long (*bpf_skb_vlan_pop)(void *skb) = (void *)19;
static long (*bpf_redirect)(__u32 ifindex, __u64 flags) = (void *)23;
static long (*bpf_skb_load_bytes)(const void *skb, __u32 off, void *to, __u32 len) = (void *)26;
static __u32 (*bpf_get_hash_recalc)(void *skb) = (void *)34;
static long (*bpf_skb_change_tail)(void *skb, __u32 len, __u64 flags) = (void *)38;
static long (*bpf_skb_pull_data)(void *skb, __u32 len) = (void *)39;
static long (*bpf_skb_change_head)(void *skb, __u32 len, __u64 flags) = (void *)43;
static long (*bpf_xdp_adjust_head)(struct xdp_md *ctx, int delta) = (void *)44;
static long (*bpf_set_hash)(void *skb, __u32 hash) = (void *)48;
static long (*bpf_redirect_map)(void *map, __u64 key, __u64 flags) = (void *)51;
static long (*bpf_xdp_adjust_meta)(struct xdp_md *ctx, int delta) = (void *)54;
static long (*bpf_xdp_adjust_tail)(struct xdp_md *ctx, int delta) = (void *)65;
static __u64 (*bpf_xdp_get_buff_len)(struct xdp_md *ctx) = (void *)188;
static long (*bpf_xdp_load_bytes)(struct xdp_md *ctx, __u32 off, void *buf, __u32 len) = (void *)189;
static long (*bpf_xdp_store_bytes)(struct xdp_md *ctx, __u32 off, void *buf, __u32 len) = (void *)190;

/* LD_ABS / LD_IND, as clang spells them. */
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

/* An array of u64 results every test program fills: out[k] = v. */
#define OUT_MAP(n) \
	struct { \
		__uint(type, BPF_MAP_TYPE_ARRAY); \
		__uint(max_entries, n); \
		__type(key, __u32); \
		__type(value, __u64); \
	} out SEC(".maps"); \
	static __attribute__((always_inline)) void put(__u32 k, __u64 v) \
	{ \
		__u64 *p = bpf_map_lookup_elem(&out, &k); \
		if (p) \
			*p = v; \
	}

char _license[] SEC("license") = "GPL";

#endif /* CTX_TEST_H */
