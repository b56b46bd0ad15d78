/* skb.c — the skb helpers: bytes, checksums, length and head changes, VLAN tags, hashes, redirects. */
#include <errno.h>
#include <limits.h>
#include <linux/bpf.h>
#include <string.h>

#include "exec/prog.h"
#include "helpers.h"
#include "hooks/hooks.h"
#include "maps/map.h"
#include "util/error.h"

/* The kernel's numbers. */
enum {
	ETH_HLEN = 14,
	VLAN_HLEN = 4,
	TC_ACT_SHOT = 2,
	TC_ACT_REDIRECT = 7,
	F_RECOMPUTE_CSUM = 1u << 0,
	F_INVALIDATE_HASH = 1u << 1,
	F_HDR_FIELD_MASK = 0xfu,
	F_PSEUDO_HDR = 1u << 4,
	F_MARK_MANGLED_0 = 1u << 5,
	F_MARK_ENFORCE = 1u << 6,
	F_IPV6 = 1u << 7,
	F_INGRESS = 1u << 0,
	SKB_MAX_ALLOC = 16384 - 320,	/* SKB_MAX_ORDER(0, 2): bpf_skb_change_head's limit */
};
#define P_8021Q  0x0081u	/* htons(ETH_P_8021Q), as skb->protocol holds it */
#define P_8021AD 0xa888u	/* htons(ETH_P_8021AD) */

/* The skb hook run of the caller, with r1 checked to be its ctx in checked runs. */
static struct hook_run *skb_hook(struct bpfrt_run *run, const char *name, uint64_t r1)
{
	struct hook_run *h = hook_of(run);

	if (unlikely(!h || !h->skb)) {
		bpfrt_run_fail(run, -EINVAL, "bpf_%s: the program is not running on an skb "
			       "(a tc, socket filter, cgroup skb or lwt test run)", name);
		return NULL;
	}
	return helper_ctx_ok(run, name, r1, h->ctx) ? h : NULL;
}

static inline uint32_t skb_len(const struct skb_state *s)
{
	return (uint32_t)(s->end - s->data);
}

/* ---- Bytes -------------------------------------------------------------- */

static uint64_t skb_load_bytes(uint64_t r1, uint64_t off, uint64_t to, uint64_t len,
			       uint64_t r5, struct bpfrt_run *run)
{
	struct hook_run *h = skb_hook(run, "skb_load_bytes", r1);
	uint32_t o = (uint32_t)off, n = (uint32_t)len;

	(void)r5;
	if (!h || !helper_mem_ok(run, "skb_load_bytes", 3, to, n, true))
		return (uint64_t)-EFAULT;
	if (o > 0xffff || (uint64_t)o + n > skb_len(h->skb)) {
		memset((void *)(uintptr_t)to, 0, n);
		return (uint64_t)-EFAULT;
	}
	memcpy((void *)(uintptr_t)to, h->skb->data + o, n);
	return 0;
}

static uint64_t skb_store_bytes(uint64_t r1, uint64_t off, uint64_t from, uint64_t len,
				uint64_t flags, struct bpfrt_run *run)
{
	struct hook_run *h = skb_hook(run, "skb_store_bytes", r1);
	uint32_t o = (uint32_t)off, n = (uint32_t)len;

	if (!h || !helper_mem_ok(run, "skb_store_bytes", 3, from, n, false))
		return (uint64_t)-EFAULT;
	if (flags & ~(uint64_t)(F_RECOMPUTE_CSUM | F_INVALIDATE_HASH))
		return (uint64_t)-EINVAL;
	if (o > INT_MAX || (uint64_t)o + n > skb_len(h->skb))
		return (uint64_t)-EFAULT;
	memmove(h->skb->data + o, (const void *)(uintptr_t)from, n);
	if (flags & F_INVALIDATE_HASH)
		h->skb->hash = 0, h->skb->hash_sw = false;
	skb_sync(h);
	return 0;
}

/* ---- Checksums, as the kernel's one's-complement arithmetic computes them ---- */

static inline uint32_t csum_add(uint32_t a, uint32_t b)
{
	a += b;
	return a + (a < b);
}

static inline uint16_t csum_fold(uint32_t c)
{
	c = (c & 0xffff) + (c >> 16);
	c = (c & 0xffff) + (c >> 16);
	return (uint16_t)~c;
}

static inline uint16_t csum16_add(uint16_t c, uint16_t a)
{
	uint16_t r = (uint16_t)(c + a);

	return (uint16_t)(r + (r < a));
}

static void csum_replace4(uint16_t *sum, uint32_t from, uint32_t to)
{
	uint32_t tmp = csum_add(~(uint32_t)*sum, ~from);

	*sum = csum_fold(csum_add(tmp, to));
}

static void csum_replace2(uint16_t *sum, uint16_t from, uint16_t to)
{
	*sum = (uint16_t)~csum16_add(csum16_add((uint16_t)~*sum, (uint16_t)~from), to);
}

static void csum_replace_by_diff(uint16_t *sum, uint32_t diff)
{
	*sum = csum_fold(csum_add(diff, ~(uint32_t)*sum));
}

/* Where a checksum helper writes: offset even, at most 0xffff, two bytes inside the packet. */
static uint16_t *csum_at(struct hook_run *h, uint64_t off, long *ret)
{
	uint32_t o = (uint32_t)off;

	if (o > 0xffff || (o & 1) || (uint64_t)o + 2 > skb_len(h->skb)) {
		*ret = -EFAULT;
		return NULL;
	}
	return (uint16_t *)(void *)(h->skb->data + o);
}

/*
 * The change the low flag bits ask for: 0, a difference (from must be 0);
 * 2 or 4, a field of that many bytes from FROM to TO. An L4 checksum takes
 * a 2-byte change through the 4-byte formula, as the kernel's
 * inet_proto_csum_replace2 does; the result differs from csum_replace2's
 * only in which of 0x0000 and 0xffff stands for zero.
 */
static long csum_update(uint16_t *v, uint64_t flags, uint64_t from, uint64_t to, bool l4)
{
	switch (flags & F_HDR_FIELD_MASK) {
	case 0:
		if (from)
			return -EINVAL;
		csum_replace_by_diff(v, (uint32_t)to);
		return 0;
	case 2:
		if (l4)
			csum_replace4(v, (uint16_t)from, (uint16_t)to);
		else
			csum_replace2(v, (uint16_t)from, (uint16_t)to);
		return 0;
	case 4:
		csum_replace4(v, (uint32_t)from, (uint32_t)to);
		return 0;
	default:
		return -EINVAL;
	}
}

static uint64_t l3_csum_replace(uint64_t r1, uint64_t off, uint64_t from, uint64_t to,
				uint64_t flags, struct bpfrt_run *run)
{
	struct hook_run *h = skb_hook(run, "l3_csum_replace", r1);
	long ret = 0;
	uint16_t *p, v;

	if (!h)
		return 0;
	if (flags & ~(uint64_t)F_HDR_FIELD_MASK)
		return (uint64_t)-EINVAL;
	if (!(p = csum_at(h, off, &ret)))
		return (uint64_t)ret;
	memcpy(&v, p, 2);
	if ((ret = csum_update(&v, flags, from, to, false)))
		return (uint64_t)ret;
	memcpy(p, &v, 2);
	return 0;
}

/*
 * The test run's skb is CHECKSUM_NONE, where the kernel updates an L4
 * checksum the same way with or without BPF_F_PSEUDO_HDR.
 */
static uint64_t l4_csum_replace(uint64_t r1, uint64_t off, uint64_t from, uint64_t to,
				uint64_t flags, struct bpfrt_run *run)
{
	struct hook_run *h = skb_hook(run, "l4_csum_replace", r1);
	bool mmzero = flags & F_MARK_MANGLED_0, mforce = flags & F_MARK_ENFORCE;
	long ret = 0;
	uint16_t *p, v;

	if (!h)
		return 0;
	if (flags & ~(uint64_t)(F_MARK_MANGLED_0 | F_MARK_ENFORCE | F_PSEUDO_HDR |
				F_HDR_FIELD_MASK | F_IPV6))
		return (uint64_t)-EINVAL;
	if (!(p = csum_at(h, off, &ret)))
		return (uint64_t)ret;
	memcpy(&v, p, 2);
	if (mmzero && !mforce && !v)
		return 0;
	if ((ret = csum_update(&v, flags, from, to, true)))
		return (uint64_t)ret;
	if (mmzero && !v)
		v = 0xffff;	/* CSUM_MANGLED_0 */
	memcpy(p, &v, 2);
	return 0;
}

/* ---- Length and head ---------------------------------------------------- */

static bool skb_is_gso(const struct hook_run *h)
{
	return ((const struct __sk_buff *)h->ctx)->gso_size != 0;
}

/* A GSO packet whose length changed is no longer one (skb_gso_reset). */
static void gso_reset(struct hook_run *h)
{
	struct __sk_buff *sk = h->ctx;

	sk->gso_size = sk->gso_segs = 0;
}

static uint64_t skb_change_tail(uint64_t r1, uint64_t new_len, uint64_t flags, uint64_t r4,
				uint64_t r5, struct bpfrt_run *run)
{
	struct hook_run *h = skb_hook(run, "skb_change_tail", r1);
	struct skb_state *s;
	uint32_t n = (uint32_t)new_len, len, min;

	(void)r4; (void)r5;
	if (!h)
		return 0;
	s = h->skb;
	len = skb_len(s);
	min = s->net > s->data ? (uint32_t)(s->net - s->data) : 0;
	if (flags || n > s->max_len || n < min)
		return (uint64_t)-EINVAL;
	if ((size_t)(s->data - s->buf) + n > s->cap)
		return (uint64_t)-ENOMEM;
	if (n > len)
		memset(s->end, 0, n - len);
	s->end = s->data + n;
	gso_reset(h);
	skb_sync(h);
	return 0;
}

static uint64_t skb_pull_data(uint64_t r1, uint64_t len, uint64_t r3, uint64_t r4,
			      uint64_t r5, struct bpfrt_run *run)
{
	struct hook_run *h = skb_hook(run, "skb_pull_data", r1);

	(void)r3; (void)r4; (void)r5;
	if (!h)
		return 0;
	/* Every byte is linear already; asking for more than there is fails. */
	return (uint32_t)len > skb_len(h->skb) ? (uint64_t)-ENOMEM : 0;
}

static uint64_t skb_change_head(uint64_t r1, uint64_t room, uint64_t flags, uint64_t r4,
				uint64_t r5, struct bpfrt_run *run)
{
	struct hook_run *h = skb_hook(run, "skb_change_head", r1);
	struct skb_state *s;
	uint32_t r = (uint32_t)room, len, nlen;

	(void)r4; (void)r5;
	if (!h)
		return 0;
	s = h->skb;
	len = skb_len(s);
	nlen = len + r;
	if (flags || (!skb_is_gso(h) && nlen > SKB_MAX_ALLOC) || nlen < len)
		return (uint64_t)-EINVAL;
	if ((size_t)(s->data - s->buf) < r)
		return (uint64_t)-ENOMEM;
	s->data -= r;
	memset(s->data, 0, r);
	s->mac = s->data;
	skb_sync(h);
	return 0;
}

/* ---- VLAN tags ---------------------------------------------------------- */

static bool eth_type_vlan(uint32_t proto)
{
	return proto == P_8021Q || proto == P_8021AD;
}

/* __skb_vlan_pop: take the tag after the addresses out of the packet. */
static long vlan_take(struct skb_state *s, uint16_t *tci)
{
	uint16_t inner;

	if (s->data != s->mac)
		return -EINVAL;
	if (skb_len(s) < ETH_HLEN + VLAN_HLEN)
		return -ENOMEM;
	memcpy(tci, s->data + ETH_HLEN, 2);
	*tci = __builtin_bswap16(*tci);
	memcpy(&inner, s->data + ETH_HLEN + 2, 2);
	memmove(s->data + VLAN_HLEN, s->data, 12);
	s->data += VLAN_HLEN;
	s->mac = s->data;
	if (s->net - s->data < ETH_HLEN)
		s->net = s->data + ETH_HLEN;
	if (__builtin_bswap16(inner) >= 0x600)
		s->protocol = inner;
	else if (skb_len(s) >= ETH_HLEN + 2 && s->data[ETH_HLEN] == 0xff &&
		 s->data[ETH_HLEN + 1] == 0xff)
		s->protocol = __builtin_bswap16(0x0001);	/* ETH_P_802_3 */
	else
		s->protocol = __builtin_bswap16(0x0004);	/* ETH_P_802_2 */
	return 0;
}

static uint64_t skb_vlan_push(uint64_t r1, uint64_t proto, uint64_t tci, uint64_t r4,
			      uint64_t r5, struct bpfrt_run *run)
{
	struct hook_run *h = skb_hook(run, "skb_vlan_push", r1);
	struct skb_state *s;
	uint16_t p = (uint16_t)proto, t;

	(void)r4; (void)r5;
	if (!h)
		return 0;
	s = h->skb;
	if (!eth_type_vlan(p))
		p = P_8021Q;
	if (s->vlan_proto || s->vlan_tci) {
		/* The offloaded tag goes into the packet, after the addresses. */
		if (s->data != s->mac)
			return (uint64_t)-EINVAL;
		if (s->data - s->buf < VLAN_HLEN)
			return (uint64_t)-ENOMEM;
		s->data -= VLAN_HLEN;
		memmove(s->data, s->data + VLAN_HLEN, 12);
		memcpy(s->data + 12, &s->vlan_proto, 2);
		t = __builtin_bswap16(s->vlan_tci);
		memcpy(s->data + 14, &t, 2);
		s->mac = s->data;
		s->protocol = s->vlan_proto;
	}
	s->vlan_proto = p;
	s->vlan_tci = (uint16_t)tci;
	skb_sync(h);
	return 0;
}

static uint64_t skb_vlan_pop(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			     uint64_t r5, struct bpfrt_run *run)
{
	struct hook_run *h = skb_hook(run, "skb_vlan_pop", r1);
	struct skb_state *s;
	uint16_t tci;
	uint32_t proto;
	long ret = 0;

	(void)r2; (void)r3; (void)r4; (void)r5;
	if (!h)
		return 0;
	s = h->skb;
	if (s->vlan_proto || s->vlan_tci) {
		s->vlan_proto = s->vlan_tci = 0;
	} else {
		if (!eth_type_vlan(s->protocol))
			goto out;
		if ((ret = vlan_take(s, &tci)))
			goto out;
	}
	/* The next tag in the packet, if any, becomes the offloaded one. */
	if (!eth_type_vlan(s->protocol))
		goto out;
	proto = s->protocol;
	if ((ret = vlan_take(s, &tci)))
		goto out;
	s->vlan_proto = (uint16_t)proto;
	s->vlan_tci = tci;
out:
	skb_sync(h);
	return (uint64_t)ret;
}

/* ---- Hashes ------------------------------------------------------------- */

/*
 * The kernel hashes the flow (addresses, ports, protocol) with a seed chosen
 * at boot, so its values cannot be reproduced; bpfrt hashes the same fields
 * with a fixed seed. Never 0, as in the kernel.
 */
static uint32_t flow_hash(const struct skb_state *s)
{
	const uint8_t *ip = s->net;
	size_t len = (size_t)(s->end - s->net), n = 0, off = 0;
	uint32_t hv = 0x9e3779b9u ^ s->protocol;

	if (s->net < s->data || s->net > s->end)
		len = 0;
	if (s->protocol == 0x0008 && len >= 20) {	/* IPv4: addresses, protocol, ports */
		off = 12, n = 8;
		hv ^= ip[9];
		if (ip[9] == 6 || ip[9] == 17) {
			size_t ihl = (size_t)(ip[0] & 15) * 4;

			if (ihl >= 20 && len >= ihl + 4)
				for (size_t i = 0; i < 4; i++)
					hv = (hv ^ ip[ihl + i]) * 0x01000193u;
		}
	} else if (s->protocol == 0xdd86 && len >= 40) {	/* IPv6 */
		off = 8, n = 32;
		hv ^= ip[6];
	}
	for (size_t i = 0; i < n; i++)
		hv = (hv ^ ip[off + i]) * 0x01000193u;
	hv ^= hv >> 16;
	return hv ? hv : 1;
}

static uint64_t get_hash_recalc(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct bpfrt_run *run)
{
	struct hook_run *h = skb_hook(run, "get_hash_recalc", r1);

	(void)r2; (void)r3; (void)r4; (void)r5;
	if (!h)
		return 0;
	if (!h->skb->hash_sw && !h->skb->hash) {
		h->skb->hash = flow_hash(h->skb);
		skb_sync(h);
	}
	return h->skb->hash;
}

static uint64_t set_hash(uint64_t r1, uint64_t hash, uint64_t r3, uint64_t r4,
			 uint64_t r5, struct bpfrt_run *run)
{
	struct hook_run *h = skb_hook(run, "set_hash", r1);

	(void)r3; (void)r4; (void)r5;
	if (!h)
		return 0;
	h->skb->hash = (uint32_t)hash;
	h->skb->hash_sw = true;
	skb_sync(h);
	return 0;
}

/* ---- Redirects and cgroups --------------------------------------------- */

uint64_t skb_redirect(struct hook_run *h, uint32_t ifindex, uint64_t flags)
{
	if (flags & ~(uint64_t)F_INGRESS)
		return TC_ACT_SHOT;
	h->skb->redirect_ifindex = ifindex;
	h->skb->redirect_flags = flags;
	return TC_ACT_REDIRECT;
}

/* bpfrt has no devices: any ifindex but 0 is taken, and the clone is counted, not sent. */
static uint64_t clone_redirect(uint64_t r1, uint64_t ifindex, uint64_t flags, uint64_t r4,
			       uint64_t r5, struct bpfrt_run *run)
{
	struct hook_run *h = skb_hook(run, "clone_redirect", r1);

	(void)r4; (void)r5;
	if (!h)
		return 0;
	if (flags & ~(uint64_t)F_INGRESS)
		return (uint64_t)-EINVAL;
	if (skb_is_gso(h))	/* GSO without a GSO type (all a test run can make) */
		return (uint64_t)-EBADMSG;
	if (!(uint32_t)ifindex)
		return (uint64_t)-EINVAL;
	h->skb->clone_redirects++;
	h->skb->clone_ifindex = (uint32_t)ifindex;
	return 0;
}

/* No cgroups in bpfrt: an index in range is "not under it" (0), as for a socket outside it. */
static uint64_t skb_under_cgroup(uint64_t r1, uint64_t map, uint64_t index, uint64_t r4,
				 uint64_t r5, struct bpfrt_run *run)
{
	struct hook_run *h = skb_hook(run, "skb_under_cgroup", r1);
	struct bpfrt_map *m = h ? helper_map_arg(run, "skb_under_cgroup", map) : NULL;

	(void)r4; (void)r5;
	if (!m)
		return 0;
	return (uint32_t)index >= m->max_entries ? (uint64_t)-E2BIG : 0;
}

const struct helper_def helper_skb_defs[] = {
	{ 9, "skb_store_bytes", skb_store_bytes },
	{ 10, "l3_csum_replace", l3_csum_replace },
	{ 11, "l4_csum_replace", l4_csum_replace },
	{ 13, "clone_redirect", clone_redirect },
	{ 18, "skb_vlan_push", skb_vlan_push },
	{ 19, "skb_vlan_pop", skb_vlan_pop },
	{ 26, "skb_load_bytes", skb_load_bytes },
	{ 33, "skb_under_cgroup", skb_under_cgroup },
	{ 34, "get_hash_recalc", get_hash_recalc },
	{ 38, "skb_change_tail", skb_change_tail },
	{ 39, "skb_pull_data", skb_pull_data },
	{ 43, "skb_change_head", skb_change_head },
	{ 48, "set_hash", set_hash },
};
const size_t helper_skb_ndefs = sizeof(helper_skb_defs) / sizeof(helper_skb_defs[0]);
