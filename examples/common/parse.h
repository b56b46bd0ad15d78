/* parse.h — bounds-checked header parsing the XDP examples share: Ethernet, IPv4, IPv6, TCP/UDP ports. */
#ifndef EXAMPLES_PARSE_H
#define EXAMPLES_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/*
 * What parse_packet found. Every pointer it sets has been checked against
 * data_end for its whole header, so the program may read through it.
 */
struct pkt {
	void *data, *end;
	struct ethhdr *eth;
	struct iphdr *ip4;	/* IPv4 header (ihl checked), or NULL */
	struct ipv6hdr *ip6;	/* IPv6 header, or NULL */
	void *l4;		/* TCP or UDP header, complete, or NULL */
	__u8 proto;		/* IPPROTO_* of the L4 header (IPv6: next header) */
	__u16 sport, dport;	/* host order; 0 when there is no TCP/UDP header */
};

enum parse_result {
	PARSE_OK = 0,		/* an IP packet; l4 set when it is TCP/UDP and complete */
	PARSE_NOT_IP = 1,	/* a complete Ethernet header, but neither IPv4 nor IPv6 */
	PARSE_MALFORMED = 2,	/* truncated Ethernet/IP/TCP/UDP header, or IPv4 IHL < 5 */
};

/* An IPv4 packet that is not the first fragment carries no L4 header. */
static __always_inline int ip4_is_later_fragment(const struct iphdr *ip)
{
	return (ip->frag_off & bpf_htons(0x1fff)) != 0;
}

static __always_inline int parse_l4(struct pkt *p, void *l4)
{
	/* TCP and UDP both start with the source and destination ports. */
	struct udphdr *ports = l4;

	if (p->proto == IPPROTO_TCP) {
		if (l4 + sizeof(struct tcphdr) > p->end)
			return PARSE_MALFORMED;
	} else if (p->proto == IPPROTO_UDP) {
		if (l4 + sizeof(struct udphdr) > p->end)
			return PARSE_MALFORMED;
	} else {
		return PARSE_OK;
	}
	p->sport = bpf_ntohs(ports->source);
	p->dport = bpf_ntohs(ports->dest);
	p->l4 = l4;
	return PARSE_OK;
}

/* Parse the headers of ctx's packet into *p. IPv6 extension headers are not followed. */
static __always_inline int parse_packet(struct xdp_md *ctx, struct pkt *p)
{
	__u32 ihl;

	p->data = (void *)(long)ctx->data;
	p->end = (void *)(long)ctx->data_end;
	p->eth = p->data;
	p->ip4 = NULL;
	p->ip6 = NULL;
	p->l4 = NULL;
	p->proto = 0;
	p->sport = p->dport = 0;
	if (p->data + sizeof(struct ethhdr) > p->end)
		return PARSE_MALFORMED;
	if (p->eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = p->data + sizeof(struct ethhdr);

		if ((void *)(ip + 1) > p->end)
			return PARSE_MALFORMED;
		ihl = ip->ihl * 4;
		if (ihl < sizeof(*ip) || (void *)ip + ihl > p->end)
			return PARSE_MALFORMED;
		p->ip4 = ip;
		p->proto = ip->protocol;
		if (ip4_is_later_fragment(ip))
			return PARSE_OK;
		return parse_l4(p, (void *)ip + ihl);
	}
	if (p->eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = p->data + sizeof(struct ethhdr);

		if ((void *)(ip6 + 1) > p->end)
			return PARSE_MALFORMED;
		p->ip6 = ip6;
		p->proto = ip6->nexthdr;
		return parse_l4(p, ip6 + 1);
	}
	return PARSE_NOT_IP;
}

#endif /* EXAMPLES_PARSE_H */
