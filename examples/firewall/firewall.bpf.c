/* firewall.bpf.c — XDP firewall: drops IPv4 traffic matching a prefix or exact rule, counts per rule.
 *
 * Rules live in two maps user space fills (see rules.txt):
 *   fw_prefixes  LPM trie: IPv4 source prefix → rule
 *   fw_exact     hash: exact IPv4 source address, or protocol + destination port → rule
 * Each rule carries an id; fw_stats[id] counts the packets and bytes it dropped.
 * fw_stats[FW_ID_PASSED] counts what no rule matched (passed), fw_stats[FW_ID_MALFORMED]
 * the truncated or malformed frames (dropped). IPv6 and non-IP traffic pass uncounted
 * by rules but counted as passed.
 */
#include "../common/parse.h"

#define FW_ID_PASSED 0
#define FW_ID_MALFORMED 63
#define FW_MAX_RULES 64

struct fw_prefix_key {
	__u32 prefixlen;	/* bits of addr that must match */
	__u32 addr;		/* IPv4 address, network order */
};

enum fw_exact_kind { FW_SRC_ADDR = 1, FW_DST_PORT = 2 };

struct fw_exact_key {
	__u8 kind;		/* enum fw_exact_kind */
	__u8 proto;		/* FW_DST_PORT: IPPROTO_TCP or IPPROTO_UDP; else 0 */
	__u16 port;		/* FW_DST_PORT: destination port, network order; else 0 */
	__u32 addr;		/* FW_SRC_ADDR: source address, network order; else 0 */
};

struct fw_rule {
	__u32 id;		/* 1..62: index into fw_stats */
};

struct fw_counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fw_prefix_key);
	__type(value, struct fw_rule);
} fw_prefixes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct fw_exact_key);
	__type(value, struct fw_rule);
} fw_exact SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_MAX_RULES);
	__type(key, __u32);
	__type(value, struct fw_counter);
} fw_stats SEC(".maps");

static __always_inline void count(__u32 id, __u64 bytes)
{
	struct fw_counter *c = bpf_map_lookup_elem(&fw_stats, &id);

	if (!c)
		return;
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, bytes);
}

/* The rule that blocks this IPv4 packet, or NULL. */
static __always_inline struct fw_rule *match(const struct pkt *p)
{
	struct fw_prefix_key pk = { .prefixlen = 32, .addr = p->ip4->saddr };
	struct fw_exact_key ek = { .kind = FW_SRC_ADDR, .addr = p->ip4->saddr };
	struct fw_rule *r;

	r = bpf_map_lookup_elem(&fw_exact, &ek);
	if (r)
		return r;
	if (p->l4) {
		ek.kind = FW_DST_PORT;
		ek.proto = p->proto;
		ek.port = bpf_htons(p->dport);
		ek.addr = 0;
		r = bpf_map_lookup_elem(&fw_exact, &ek);
		if (r)
			return r;
	}
	return bpf_map_lookup_elem(&fw_prefixes, &pk);
}

SEC("xdp")
int firewall(struct xdp_md *ctx)
{
	struct pkt p;
	struct fw_rule *r;
	__u64 bytes = ctx->data_end - ctx->data;
	int res = parse_packet(ctx, &p);

	if (res == PARSE_MALFORMED) {
		count(FW_ID_MALFORMED, bytes);
		return XDP_DROP;
	}
	if (res == PARSE_OK && p.ip4) {
		r = match(&p);
		if (r) {
			/* A rule whose id is outside 1..62 drops without counting. */
			if (r->id > FW_ID_PASSED && r->id < FW_ID_MALFORMED)
				count(r->id, bytes);
			return XDP_DROP;
		}
	}
	count(FW_ID_PASSED, bytes);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
