/* skb.c — __sk_buff contexts: the packet as an skb, filled as the kernel's test run fills it. */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "exec/prog.h"
#include "hooks/hooks.h"
#include "util/error.h"

/*
 * The buffer: SKB_ROOM bytes below the mac header (bpf_skb_change_head may
 * push that much), the packet, and room after it for bpf_skb_change_tail:
 * every length up to the device's mtu + 14 fits without moving the packet.
 */
#define SKB_ROOM   (65536u + 4096u)
#define SKB_CAP    (2 * SKB_ROOM + 4096u)
#define SKB_MAX_IN (4096u - 64u - 320u)	/* a page less NET_SKB_PAD and skb_shared_info */

struct skb_run {
	struct hook_run h;
	struct skb_state s;
	struct __sk_buff sk;	/* what the program sees */
};

#define CTX_RANGE(field, n) \
	{ offsetof(struct __sk_buff, field), (n) }

struct ctx_range {
	uint32_t off, len;
};

/* Fields programs of each type may write (the kernel's *_is_valid_access), in ranges. */
static const struct ctx_range tc_writable[] = {
	{ offsetof(struct __sk_buff, mark), 8 },	/* mark, queue_mapping */
	CTX_RANGE(priority, 4),
	{ offsetof(struct __sk_buff, tc_index), 24 },	/* tc_index, cb[5] */
	CTX_RANGE(tc_classid, 4),
	CTX_RANGE(tstamp, 8),
};
static const struct ctx_range cb_writable[] = {
	CTX_RANGE(cb, 20),
};
static const struct ctx_range cg_writable[] = {
	CTX_RANGE(mark, 4),
	CTX_RANGE(priority, 4),
	CTX_RANGE(cb, 20),
	CTX_RANGE(tstamp, 8),
};
static const struct ctx_range lwt_writable[] = {
	CTX_RANGE(mark, 4),
	CTX_RANGE(priority, 4),
	CTX_RANGE(cb, 20),
};

static void set_writable(struct skb_run *r)
{
	const struct ctx_range *w;
	size_t n;

	switch (r->h.type) {
	case BPFRT_PROG_SCHED_CLS:
	case BPFRT_PROG_SCHED_ACT:
		w = tc_writable, n = ARRAY_SIZE(tc_writable);
		break;
	case BPFRT_PROG_CGROUP_SKB:
		w = cg_writable, n = ARRAY_SIZE(cg_writable);
		break;
	case BPFRT_PROG_LWT_IN:
	case BPFRT_PROG_LWT_OUT:
	case BPFRT_PROG_LWT_XMIT:
		w = lwt_writable, n = ARRAY_SIZE(lwt_writable);
		break;
	default:
		w = cb_writable, n = ARRAY_SIZE(cb_writable);
		break;
	}
	for (size_t i = 0; i < n; i++)
		r->h.regions[HR_CTX_RW0 + i] = (struct bpfrt_region){
			(uint8_t *)&r->sk + w[i].off, w[i].len, true };
}

/* Which types read the packet directly, and may they write it? */
static bool direct_access(enum bpfrt_prog_type t, bool *writable)
{
	*writable = t == BPFRT_PROG_SCHED_CLS || t == BPFRT_PROG_SCHED_ACT ||
		    t == BPFRT_PROG_LWT_XMIT;
	return *writable || t == BPFRT_PROG_LWT_IN || t == BPFRT_PROG_LWT_OUT ||
	       t == BPFRT_PROG_CGROUP_SKB;
}

void skb_sync(struct hook_run *h)
{
	struct skb_state *s = h->skb;
	struct __sk_buff *sk = h->ctx;
	bool w;

	sk->len = (uint32_t)(s->end - s->data);
	sk->protocol = s->protocol;
	sk->vlan_present = s->vlan_proto || s->vlan_tci;
	sk->vlan_tci = s->vlan_tci;
	sk->vlan_proto = s->vlan_proto;
	sk->hash = s->hash;
	if (direct_access(h->type, &w)) {
		sk->data = hook_u32(s->data);
		sk->data_end = hook_u32(s->end);
		sk->data_meta = hook_u32(s->data);
		h->regions[HR_PKT] = (struct bpfrt_region){ s->data, sk->len, w };
	}
	h->ro.pkt = s->data;
	h->ro.pkt_len = sk->len;
	h->ro.pkt_ll_len = s->mac < s->data ? (size_t)(s->data - s->mac) : 0;
	h->ro.pkt_net_off = s->net > s->data ? (size_t)(s->net - s->data) : 0;
}

/* ---- Devices: loopback unless ctx_in names another --------------------- */

struct dev_info {
	uint32_t ifindex;
	uint8_t addr[6], bcast[6];	/* loopback's are both zero */
	uint32_t mtu;
};

static int read_sysfs(const char *dev, const char *what, char *buf, size_t len)
{
	char path[96];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", dev, what);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static int dev_lookup(uint32_t ifindex, struct dev_info *d, struct bpfrt_error *err)
{
	char name[IF_NAMESIZE], buf[64];
	unsigned a[6];

	memset(d, 0, sizeof(*d));
	d->ifindex = ifindex;
	d->mtu = 65536;
	if (ifindex <= 1) {
		d->ifindex = 1;
		return 0;
	}
	if (!if_indextoname(ifindex, name))
		return err_set(err, -ENODEV, -1, "ctx_in: there is no device with ifindex %u",
			       ifindex);
	if (read_sysfs(name, "address", buf, sizeof(buf)) == 0 &&
	    sscanf(buf, "%x:%x:%x:%x:%x:%x", &a[0], &a[1], &a[2], &a[3], &a[4], &a[5]) == 6)
		for (int i = 0; i < 6; i++)
			d->addr[i] = (uint8_t)a[i];
	if (read_sysfs(name, "broadcast", buf, sizeof(buf)) == 0 &&
	    sscanf(buf, "%x:%x:%x:%x:%x:%x", &a[0], &a[1], &a[2], &a[3], &a[4], &a[5]) == 6)
		for (int i = 0; i < 6; i++)
			d->bcast[i] = (uint8_t)a[i];
	if (read_sysfs(name, "mtu", buf, sizeof(buf)) == 0)
		d->mtu = (uint32_t)strtoul(buf, NULL, 10);
	return 0;
}

/* eth_type_trans: the packet type from the destination, the protocol from the type field. */
static void eth_type_trans(struct skb_run *r, const struct dev_info *d)
{
	const uint8_t *eth = r->s.mac, *payload = eth + ETH_HLEN;
	uint16_t proto;

	r->sk.pkt_type = PACKET_HOST;
	if (memcmp(eth, d->addr, 6) != 0) {
		if (eth[0] & 1)
			r->sk.pkt_type = memcmp(eth, d->bcast, 6) ? PACKET_MULTICAST
							       : PACKET_BROADCAST;
		else
			r->sk.pkt_type = PACKET_OTHERHOST;
	}
	memcpy(&proto, eth + 12, 2);		/* network order */
	if (__builtin_bswap16(proto) >= ETH_P_802_3_MIN)
		r->s.protocol = proto;
	else if (r->s.end - payload >= 2 && payload[0] == 0xff && payload[1] == 0xff)
		r->s.protocol = __builtin_bswap16(ETH_P_802_3);
	else
		r->s.protocol = __builtin_bswap16(ETH_P_802_2);
}

/* The socket the kernel's test run attaches: its family and addresses from the IP header. */
static void fake_sock(struct skb_run *r)
{
	const uint8_t *ip = r->s.net;
	size_t len = (size_t)(r->s.end - r->s.net);

	if (r->s.protocol == __builtin_bswap16(ETH_P_IP)) {
		r->sk.family = AF_INET;
		if (len >= 20) {
			memcpy(&r->sk.local_ip4, ip + 12, 4);
			memcpy(&r->sk.remote_ip4, ip + 16, 4);
		}
	} else if (r->s.protocol == __builtin_bswap16(ETH_P_IPV6)) {
		r->sk.family = AF_INET6;
		if (len >= 40) {
			memcpy(r->sk.local_ip6, ip + 8, 16);
			memcpy(r->sk.remote_ip6, ip + 24, 16);
		}
	}
}

/* ---- ctx_in: the fields the kernel takes (convert___skb_to_skb) --------- */

static bool zero(const void *p, size_t from, size_t to)
{
	const uint8_t *b = p;

	for (size_t i = from; i < to; i++)
		if (b[i])
			return false;
	return true;
}

#define OFF(f)    offsetof(struct __sk_buff, f)
#define OFFEND(f) (offsetof(struct __sk_buff, f) + sizeof(((struct __sk_buff *)0)->f))

static int ctx_in_check(const struct __sk_buff *c, struct bpfrt_error *err)
{
	static const struct { size_t from, to; } holes[] = {
		{ 0, OFF(mark) }, { OFFEND(mark), OFF(priority) },
		{ OFFEND(ifindex), OFF(cb) }, { OFFEND(cb), OFF(tstamp) },
		{ OFFEND(gso_segs), OFF(gso_size) }, { OFFEND(gso_size), OFF(hwtstamp) },
		{ OFFEND(hwtstamp), sizeof(struct __sk_buff) },
	};

	for (size_t i = 0; i < ARRAY_SIZE(holes); i++)
		if (!zero(c, holes[i].from, holes[i].to))
			return err_set(err, -EINVAL, -1, "ctx_in: __sk_buff bytes %zu..%zu must "
				       "be zero (only mark, priority, ingress_ifindex, ifindex, "
				       "cb, tstamp, wire_len, gso_segs, gso_size and hwtstamp "
				       "may be set)", holes[i].from, holes[i].to - 1);
	return 0;
}

static int ctx_in_apply(struct skb_run *r, const struct __sk_buff *c, struct bpfrt_error *err)
{
	uint32_t len = r->sk.len;

	if (!c)
		return 0;	/* wire_len stays 0, as without ctx_in the kernel sets no length */
	r->sk.wire_len = len;
	r->sk.mark = c->mark;
	r->sk.priority = c->priority;
	r->sk.ingress_ifindex = c->ingress_ifindex;
	r->sk.tstamp = c->tstamp;
	memcpy(r->sk.cb, c->cb, sizeof(c->cb));
	if (c->wire_len) {
		if (c->wire_len < len || c->wire_len > 65536)
			return err_set(err, -EINVAL, -1, "ctx_in: wire_len %u must be at least "
				       "the packet's length (%u) and at most 65536", c->wire_len, len);
		r->sk.wire_len = c->wire_len;
	}
	if (c->gso_segs > 65535)
		return err_set(err, -EINVAL, -1, "ctx_in: gso_segs %u is more than 65535",
			       c->gso_segs);
	r->sk.gso_segs = c->gso_segs;
	r->sk.gso_size = c->gso_size;
	r->sk.hwtstamp = c->hwtstamp;
	return 0;
}

/* convert_skb_to___skb: what the kernel copies back into ctx_out. */
static void ctx_out_fill(const struct skb_run *r, struct __sk_buff *c)
{
	c->mark = r->sk.mark;
	c->priority = r->sk.priority;
	c->ingress_ifindex = r->sk.ingress_ifindex;
	c->ifindex = r->sk.ifindex;
	c->tstamp = r->sk.tstamp;
	memcpy(c->cb, r->sk.cb, sizeof(c->cb));
	c->wire_len = r->sk.wire_len;
	c->gso_segs = r->sk.gso_segs;
	c->hwtstamp = r->sk.hwtstamp;
}

/* ---- The test run --------------------------------------------------------- */

int skb_test_run(struct bpfrt_prog *prog, struct bpfrt_test_run_opts *o,
		 struct bpfrt_error *err)
{
	struct __sk_buff *ctx = NULL;
	uint32_t size = o->data_size_in;
	struct skb_run *r;
	struct dev_info dev;
	uint8_t *out;
	int ret;

	if (o->flags & ~(uint32_t)BPF_F_TEST_SKB_CHECKSUM_COMPLETE)
		return err_set(err, -EINVAL, -1, "flags %#x: skb test runs take only "
			       "BPF_F_TEST_SKB_CHECKSUM_COMPLETE", o->flags);
	if (size < ETH_HLEN || size > SKB_MAX_IN || !o->data_in)
		return err_set(err, -EINVAL, -1, "data_in has %u bytes; it must hold an "
			       "Ethernet frame of 14 to %u bytes", size, SKB_MAX_IN);
	ret = test_ctx_init(o, sizeof(*ctx), (void **)&ctx, err);
	if (ret)
		return ret;
	r = calloc(1, sizeof(*r));
	if (!r) {
		free(ctx);
		return err_set(err, -ENOMEM, -1, "out of memory for the skb");
	}
	r->s.buf = hook_lowmem_alloc(SKB_CAP);
	if (!r->s.buf) {
		ret = err_set(err, -ENOMEM, -1, "no memory below 4 GiB left for the packet");
		goto out;
	}
	r->s.cap = SKB_CAP;
	r->h.type = prog->type;
	r->h.ctx = &r->sk;
	r->h.ctx_size = sizeof(r->sk);
	r->h.skb = &r->s;
	r->s.l2 = prog->type == BPFRT_PROG_SCHED_CLS || prog->type == BPFRT_PROG_SCHED_ACT;
	r->s.mac = r->s.buf + SKB_ROOM;
	memcpy(r->s.mac, o->data_in, size);
	r->s.end = r->s.mac + size;
	r->s.net = r->s.mac + ETH_HLEN;

	ret = dev_lookup(ctx ? ctx->ifindex : 1, &dev, err);
	if (ret)
		goto out;
	r->s.max_len = dev.mtu + ETH_HLEN;
	r->sk.ifindex = dev.ifindex;
	eth_type_trans(r, &dev);
	if ((r->s.protocol == __builtin_bswap16(ETH_P_IP) && size < ETH_HLEN + 20) ||
	    (r->s.protocol == __builtin_bswap16(ETH_P_IPV6) && size < ETH_HLEN + 40)) {
		ret = err_set(err, -EINVAL, -1, "data_in is an IPv%s packet of %u bytes, too "
			      "short for its header", size >= ETH_HLEN && r->s.mac[12] == 0x86
			      ? "6" : "4", size - ETH_HLEN);
		goto out;
	}
	fake_sock(r);
	r->s.data = r->s.l2 ? r->s.mac : r->s.net;
	r->sk.len = (uint32_t)(r->s.end - r->s.data);
	if (ctx && (ret = ctx_in_check(ctx, err)))
		goto out;
	ret = ctx_in_apply(r, ctx, err);
	if (ret)
		goto out;
	set_writable(r);
	skb_sync(&r->h);

	ret = test_repeat(prog, &r->h, o, err);
	if (ret)
		goto out;
	out = r->s.data;
	if (!r->s.l2) {		/* the kernel puts back a zeroed Ethernet header */
		out -= ETH_HLEN;
		memset(out, 0, ETH_HLEN);
	}
	ret = test_data_finish(o, out, (uint32_t)(r->s.end - out), err);
	if (!ret && ctx) {
		ctx_out_fill(r, ctx);
		ret = test_ctx_finish(o, ctx, sizeof(*ctx), err);
	}
out:
	hook_lowmem_free(r->s.buf, SKB_CAP);
	free(r);
	free(ctx);
	return ret;
}
