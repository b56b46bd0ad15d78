/* ctx_skb.bpf.c — tc and socket filter programs run in bpfrt and in the kernel on the same packets. */
#include "ctx_test.h"

OUT_MAP(48)

/* Slots 0-12: the __sk_buff fields both tc and socket filters may read. */
static __attribute__((always_inline)) void put_shared_fields(struct __sk_buff *skb)
{
	put(0, skb->len);
	put(1, skb->pkt_type);
	put(2, skb->mark);
	put(3, skb->queue_mapping);
	put(4, skb->protocol);
	put(5, skb->vlan_present);
	put(6, skb->vlan_tci);
	put(7, skb->vlan_proto);
	put(8, skb->priority);
	put(9, skb->ingress_ifindex);
	put(10, skb->ifindex);
	put(11, skb->tc_index);
	put(12, skb->cb[0]);
}

/* Every __sk_buff field tc may read; then the writable ones changed. */
SEC("tc")
int tc_fields(struct __sk_buff *skb)
{
	put_shared_fields(skb);
	put(13, skb->cb[1]);
	put(14, skb->cb[2]);
	put(15, skb->cb[3]);
	put(16, skb->cb[4]);
	put(17, skb->hash);
	put(18, skb->tc_classid);
	put(19, skb->data_end - skb->data);
	put(20, skb->napi_id);
	put(21, skb->data - skb->data_meta);
	put(22, skb->tstamp);
	put(23, skb->wire_len);
	put(24, skb->gso_segs);
	put(25, skb->gso_size);
	put(26, skb->hwtstamp);
	skb->mark = skb->mark * 3 + 1;
	skb->priority = skb->len;
	skb->cb[0] += 1;
	skb->cb[4] = skb->protocol;
	skb->tc_index = 5;
	skb->tc_classid = 9;
	skb->tstamp = 12345;
	return TC_ACT_OK;
}

/* The fields a socket filter may read, and LD_ABS from the network header and the link layer. */
SEC("socket")
int sf_fields(struct __sk_buff *skb)
{
	put_shared_fields(skb);
	put(13, skb->cb[4]);
	put(14, skb->hash);
	put(15, skb->napi_id);
	put(16, skb->gso_segs);
	put(17, skb->gso_size);
	put(18, load_byte(skb, 0));
	put(19, load_half(skb, -0x200000 + 12));	/* SKF_LL_OFF: the Ethernet type */
	put(20, load_word(skb, -0x200000 + 0));
	skb->cb[1] = skb->len;
	return skb->len > 40 ? 40 : skb->len;
}

/* Socket filters through bpf_skb_load_bytes, at offsets from the packet. */
SEC("socket")
int sf_load(struct __sk_buff *skb)
{
	__u8 buf[16] = { 0 }, p[2];
	__u64 v = 0;

	if (bpf_skb_load_bytes(skb, 0, p, 2))
		return 0;
	put(0, bpf_skb_load_bytes(skb, p[0] & 63, buf, (p[1] & 15) + 1));
	__builtin_memcpy(&v, buf, 8);
	put(1, v);
	put(2, load_byte(skb, p[0] & 63));
	return skb->len;
}

/* Rewrite IPv4 addresses and TOS with the checksum helpers, as a NAT would. */
SEC("tc")
int tc_csum(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u8 *ip = data + 14;
	__u32 old, new, l4;
	__u16 otos, ntos;
	__u8 proto;

	if ((void *)(ip + 20) > end || ((__u8 *)data)[12] != 0x08 || ((__u8 *)data)[13])
		return TC_ACT_OK;
	if ((ip[0] & 0xf0) != 0x40)
		return TC_ACT_OK;
	proto = ip[9];
	__builtin_memcpy(&old, ip + 16, 4);
	new = old ^ bswap32(0x00ff00ffu);
	l4 = 14 + (ip[0] & 15) * 4;
	put(0, bpf_l3_csum_replace(skb, 14 + 10, old, new, 4));
	if (proto == 17)
		put(1, bpf_l4_csum_replace(skb, l4 + 6, old, new,
					   BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | 4));
	else if (proto == 6)
		put(1, bpf_l4_csum_replace(skb, l4 + 16, old, new, BPF_F_PSEUDO_HDR | 4));
	put(2, bpf_skb_store_bytes(skb, 14 + 16, &new, 4, 0));
	if (bpf_skb_load_bytes(skb, 14, &otos, 2))
		return TC_ACT_SHOT;
	ntos = otos ^ bswap16(0x00fc);
	put(3, bpf_l3_csum_replace(skb, 14 + 10, otos, ntos, 2));
	put(4, bpf_skb_store_bytes(skb, 14, &ntos, 2, 0));
	put(5, bpf_l3_csum_replace(skb, 14 + 10, 0, 0x1234, 0));
	put(6, bpf_l3_csum_replace(skb, 14 + 11, 0, 1, 4));	/* odd offset: -EFAULT */
	put(7, bpf_l3_csum_replace(skb, 14 + 10, 1, 2, 3));	/* bad size: -EINVAL */
	put(8, bpf_l4_csum_replace(skb, 2000, 1, 2, 4));	/* past the end: -EFAULT */
	return TC_ACT_OK;
}

static __attribute__((always_inline)) long change(struct __sk_buff *skb, __u8 op, __u8 a, __u8 b)
{
	__u8 buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	switch (op % 9) {
	case 0:
		return bpf_skb_change_tail(skb, skb->len + (signed char)a * 8, b & 1);
	case 1:
		return bpf_skb_change_head(skb, a * 4, (b & 3) == 3);
	case 2:
		return bpf_skb_vlan_push(skb, (b & 1) ? bswap16(0x88a8) : (b & 2) ? 0x1234
							: bswap16(0x8100), a | (b << 8));
	case 3:
		return bpf_skb_vlan_pop(skb);
	case 4:
		return bpf_skb_pull_data(skb, a * 4);
	case 5:
		return bpf_skb_store_bytes(skb, a, buf, (b & 7) + 1, b & 0x10 ? 2 : 0);
	case 6:
		return bpf_skb_load_bytes(skb, a * 2, buf, (b & 7) + 1);
	case 7:
		return bpf_set_hash(skb, a * 77777);
	default:
		return bpf_clone_redirect(skb, 0, b & 4);	/* no device 0: -EINVAL */
	}
}

/* Two length, head or VLAN changes from the packet's source MAC; the skb afterwards. */
SEC("tc")
int tc_change(struct __sk_buff *skb)
{
	__u8 p[6];

	if (bpf_skb_load_bytes(skb, 6, p, 6))
		return TC_ACT_SHOT;
	put(0, change(skb, p[0], p[1], p[2]));
	put(1, change(skb, p[3], p[4], p[5]));
	put(2, skb->len);
	put(3, skb->protocol);
	put(4, skb->vlan_present);
	put(5, skb->vlan_tci);
	put(6, skb->vlan_proto);
	put(7, skb->data_end - skb->data);
	/* The hash bpf_set_hash set; not one the kernel computes (its seed is random). */
	if (p[0] % 9 == 7 && !(p[3] % 9 == 5 && (p[5] & 0x10)))
		put(8, bpf_get_hash_recalc(skb));
	if ((p[5] & 0x60) == 0x60)
		return bpf_redirect(p[4], p[5] & 0x81);
	return TC_ACT_OK;
}

/* LD_ABS from the start, the network header and the link layer, in tc (data is the mac header). */
SEC("tc")
int tc_ldabs(struct __sk_buff *skb)
{
	put(0, load_byte(skb, 0));
	put(1, load_word(skb, -0x200000 + 6));
	put(2, load_half(skb, -0x100000 + 2));
	put(3, load_byte(skb, -0x100000 + 9));
	put(4, load_word(skb, -0x100000 + 16));
	return 1;
}
