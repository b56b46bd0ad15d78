/* flowcount.bpf.c — XDP flow accounting: packets and bytes per 5-tuple (IPv4 and IPv6) in an LRU hash.
 *
 * fc_flows maps a struct flow_key to its counters; when it is full the least recently used
 * flow is evicted. fc_totals counts every frame by class: FC_COUNTED (a flow was updated),
 * FC_NOT_IP, FC_MALFORMED (truncated headers, IPv4 IHL < 5), FC_FULL (no room for a new flow).
 * Every frame passes.
 */
#include "../common/parse.h"

enum { FC_COUNTED, FC_NOT_IP, FC_MALFORMED, FC_FULL, FC_NR_TOTALS };

struct flow_key {
	__u32 saddr[4];		/* IPv4: saddr[0] only, the rest zero; network order */
	__u32 daddr[4];
	__u16 sport;		/* host order; 0 for protocols without ports */
	__u16 dport;
	__u8 proto;		/* IPPROTO_* */
	__u8 family;		/* 4 or 6 */
	__u16 pad;		/* always zero, so equal flows hash equally */
};

struct flow_counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow_key);
	__type(value, struct flow_counter);
} fc_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FC_NR_TOTALS);
	__type(key, __u32);
	__type(value, __u64);
} fc_totals SEC(".maps");

static __always_inline void total(__u32 which)
{
	__u64 *n = bpf_map_lookup_elem(&fc_totals, &which);

	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline void flow_key_of(const struct pkt *p, struct flow_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	if (p->ip4) {
		k->saddr[0] = p->ip4->saddr;
		k->daddr[0] = p->ip4->daddr;
		k->family = 4;
	} else {
		__builtin_memcpy(k->saddr, &p->ip6->saddr, sizeof(k->saddr));
		__builtin_memcpy(k->daddr, &p->ip6->daddr, sizeof(k->daddr));
		k->family = 6;
	}
	k->sport = p->sport;
	k->dport = p->dport;
	k->proto = p->proto;
}

SEC("xdp")
int flowcount(struct xdp_md *ctx)
{
	struct flow_counter one = { .packets = 1 }, *c;
	struct flow_key k;
	struct pkt p;
	__u64 bytes = ctx->data_end - ctx->data;
	int res = parse_packet(ctx, &p);

	if (res != PARSE_OK) {
		total(res == PARSE_NOT_IP ? FC_NOT_IP : FC_MALFORMED);
		return XDP_PASS;
	}
	flow_key_of(&p, &k);
	c = bpf_map_lookup_elem(&fc_flows, &k);
	if (c) {
		__sync_fetch_and_add(&c->packets, 1);
		__sync_fetch_and_add(&c->bytes, bytes);
	} else {
		one.bytes = bytes;
		/* BPF_NOEXIST: another CPU may have added the flow meanwhile; then add to it. */
		if (bpf_map_update_elem(&fc_flows, &k, &one, BPF_NOEXIST)) {
			c = bpf_map_lookup_elem(&fc_flows, &k);
			if (!c) {
				total(FC_FULL);
				return XDP_PASS;
			}
			__sync_fetch_and_add(&c->packets, 1);
			__sync_fetch_and_add(&c->bytes, bytes);
		}
	}
	total(FC_COUNTED);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
