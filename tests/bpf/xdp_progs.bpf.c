/* xdp_progs.bpf.c — XDP programs run in bpfrt and in the kernel on the same packets. */
#include "ctx_test.h"

OUT_MAP(32)

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} devs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} devhash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} cpus SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

/* Every field of xdp_md, as lengths and values. */
SEC("xdp")
int xdp_fields(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	void *meta = (void *)(long)ctx->data_meta;

	put(0, end - data);
	put(1, data - meta);
	put(2, ctx->ingress_ifindex);
	put(3, ctx->rx_queue_index);
	if (data + 1 <= end)
		put(5, *(__u8 *)data);
	if (meta + 4 <= data)
		put(6, *(__u32 *)meta);
	return XDP_PASS;
}

/* Meta, head and tail moved by amounts the packet's source MAC says; results and lengths out. */
SEC("xdp")
int xdp_adjust(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end, *meta;
	int dm, dh, dt;
	__u8 act;

	if (data + 14 > end)
		return XDP_ABORTED;
	dm = (int)(((__u8 *)data)[8] % 48) - 40;
	dh = (signed char)((__u8 *)data)[6] * 2;
	dt = (signed char)((__u8 *)data)[7] * 16;
	act = ((__u8 *)data)[9] & 3;
	put(0, bpf_xdp_adjust_meta(ctx, dm));
	put(1, bpf_xdp_adjust_head(ctx, dh));
	put(2, bpf_xdp_adjust_tail(ctx, dt));
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	meta = (void *)(long)ctx->data_meta;
	put(3, end - data);
	put(4, data - meta);
	if (meta + 4 <= data)
		*(__u32 *)meta = 0xdeadbeef;
	if (data + 2 <= end)
		((__u8 *)data)[1] ^= 0x5a;
	return act;
}

/* bpf_redirect and bpf_redirect_map with keys and flags from the packet. */
SEC("xdp")
int xdp_redir(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u8 *p = data;
	__u32 key;
	__u64 flags;

	if (data + 14 > end)
		return XDP_ABORTED;
	key = p[6] & 7;
	flags = p[7] & 0x3f;
	switch (p[8] & 7) {
	case 0:
		return bpf_redirect(p[9], flags & 1);
	case 1:
		return bpf_redirect_map(&devs, key, flags);
	case 2:
		return bpf_redirect_map(&devhash, key, flags);
	case 3:
		return bpf_redirect_map(&cpus, key & 3, flags & 7);
	case 4:
		return bpf_redirect_map(&xsks, key & 3, flags & 3);
	default:
		return bpf_redirect_map(&devs, key, flags & 3);
	}
}

/* xdp_load_bytes / xdp_store_bytes / xdp_get_buff_len at offsets from the packet. */
SEC("xdp")
int xdp_bytes(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u8 buf[64] = { 0 };
	__u32 off, off2, len;
	__u64 v = 0;

	if (data + 14 > end)
		return XDP_ABORTED;
	off = ((__u8 *)data)[6];
	off2 = ((__u8 *)data)[8];
	len = (((__u8 *)data)[7] & 63) + 1;
	put(0, bpf_xdp_load_bytes(ctx, off, buf, len));
	__builtin_memcpy(&v, buf, 8);
	put(1, v);
	buf[0] ^= 0xff;
	put(2, bpf_xdp_store_bytes(ctx, off2, buf, len));
	put(3, bpf_xdp_get_buff_len(ctx));
	return XDP_TX;
}

/* A parser: count by IP protocol, swap the MACs of UDP packets and send them back. */
SEC("xdp")
int xdp_parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u8 *eth = data, *ip = data + 14, tmp[6];
	__u32 key;
	__u64 one = 1, *c;

	if (data + 14 > end)
		return XDP_DROP;
	if (eth[12] != 0x08 || eth[13] != 0x00)
		return XDP_PASS;
	if ((void *)(ip + 20) > end)
		return XDP_DROP;
	key = ip[9];
	c = bpf_map_lookup_elem(&counts, &key);
	if (c)
		__sync_fetch_and_add(c, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
	if (ip[9] == 17) {
		__builtin_memcpy(tmp, eth, 6);
		__builtin_memcpy(eth, eth + 6, 6);
		__builtin_memcpy(eth + 6, tmp, 6);
		return XDP_TX;
	}
	if (ip[9] == 6)
		return XDP_DROP;
	return XDP_PASS;
}
