/* lb.bpf.c — XDP layer-4 load balancer: VIP:port → a backend chosen by a hash of the 5-tuple.
 *
 * lb_vips maps (VIP address, port, protocol) to a range of lb_backends. For a packet to a VIP
 * the program picks backend first + hash(5-tuple) % count, rewrites the destination MAC and IP
 * (the source MAC becomes the one the packet was sent to, ours), updates the IPv4 header
 * checksum and the TCP/UDP checksum incrementally (RFC 1624), counts the packet in
 * lb_stats[backend] and sends it back out: XDP_TX. Other traffic passes; VIP traffic without a
 * usable backend is dropped. The hash is FNV-1a over struct lb_tuple, so the same flow always
 * reaches the same backend.
 */
#include "../common/parse.h"

#define LB_MAX_BACKENDS 64

struct lb_vip {
	__u32 addr;		/* network order */
	__u16 port;		/* network order */
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad;		/* zero */
};

struct lb_service {
	__u32 first;		/* first backend index */
	__u32 count;		/* number of backends, from first on */
};

struct lb_backend {
	__u32 addr;		/* network order */
	__u8 mac[ETH_ALEN];
	__u16 pad;
};

struct lb_counter {
	__u64 packets;
	__u64 bytes;
};

/* What the backend choice hashes: addresses and ports as on the wire. */
struct lb_tuple {
	__u32 saddr, daddr;
	__u16 sport, dport;
	__u8 proto, pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct lb_vip);
	__type(value, struct lb_service);
} lb_vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct lb_backend);
} lb_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct lb_counter);
} lb_stats SEC(".maps");

static __always_inline __u32 fnv1a(const void *buf, __u32 len)
{
	const __u8 *b = buf;
	__u32 h = 2166136261u;

#pragma unroll
	for (__u32 i = 0; i < len; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

/* The checksum after a 32-bit word it covers changed from `from` to `to` (RFC 1624, eqn. 3). */
static __always_inline __u16 csum_replace4(__u16 check, __u32 from, __u32 to)
{
	__u32 sum = (__u16)~check;

	sum += (~from & 0xffff) + (~from >> 16);
	sum += (to & 0xffff) + (to >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int lb(struct xdp_md *ctx)
{
	struct lb_vip vip = {};
	struct lb_tuple t = {};
	struct lb_service *svc;
	struct lb_backend *be;
	struct lb_counter *c;
	struct pkt p;
	__u32 idx, old;

	if (parse_packet(ctx, &p) != PARSE_OK || !p.ip4 || !p.l4)
		return XDP_PASS;
	vip.addr = p.ip4->daddr;
	vip.port = bpf_htons(p.dport);
	vip.proto = p.proto;
	svc = bpf_map_lookup_elem(&lb_vips, &vip);
	if (!svc)
		return XDP_PASS;
	if (!svc->count)
		return XDP_DROP;

	t.saddr = p.ip4->saddr;
	t.daddr = p.ip4->daddr;
	t.sport = bpf_htons(p.sport);
	t.dport = bpf_htons(p.dport);
	t.proto = p.proto;
	idx = svc->first + fnv1a(&t, sizeof(t)) % svc->count;
	be = bpf_map_lookup_elem(&lb_backends, &idx);
	if (!be || !be->addr)
		return XDP_DROP;

	/* Ethernet: from us (where the packet was sent) to the backend. */
	__builtin_memcpy(p.eth->h_source, p.eth->h_dest, ETH_ALEN);
	__builtin_memcpy(p.eth->h_dest, be->mac, ETH_ALEN);

	/* IPv4 destination, its header checksum, and the L4 checksum over the pseudo-header. */
	old = p.ip4->daddr;
	p.ip4->daddr = be->addr;
	p.ip4->check = csum_replace4(p.ip4->check, old, be->addr);
	if (p.proto == IPPROTO_TCP) {
		struct tcphdr *tcp = p.l4;

		tcp->check = csum_replace4(tcp->check, old, be->addr);
	} else {
		struct udphdr *udp = p.l4;

		/* A zero UDP checksum means "none"; a computed zero is sent as 0xffff. */
		if (udp->check) {
			udp->check = csum_replace4(udp->check, old, be->addr);
			if (!udp->check)
				udp->check = 0xffff;
		}
	}

	c = bpf_map_lookup_elem(&lb_stats, &idx);
	if (c) {
		__sync_fetch_and_add(&c->packets, 1);
		__sync_fetch_and_add(&c->bytes, ctx->data_end - ctx->data);
	}
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
