/* xdp_replay.bpf.c — programs `bpfrt xdp replay` tests run over captures. */
#include "ctx_test.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} protos SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

/*
 * A verdict per kind of packet: UDP is sent back with its MACs swapped,
 * TCP dropped, ARP passed with 4 bytes cut from its tail, IPv6 redirected,
 * anything else aborted. Packets are counted by IP protocol (256: not IP).
 */
SEC("xdp")
int xdp_sort(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u8 *eth = data, tmp[6];
	__u32 key = 255;
	__u64 *c;

	if (data + 14 > end)
		return XDP_ABORTED;
	if (eth[12] == 0x08 && eth[13] == 0x00 && data + 34 <= end)
		key = eth[23];
	c = bpf_map_lookup_elem(&protos, &key);
	if (c)
		__sync_fetch_and_add(c, 1);
	if (eth[12] == 0x86 && eth[13] == 0xdd)
		return bpf_redirect(7, 0);
	if (eth[12] == 0x08 && eth[13] == 0x06) {
		if (bpf_xdp_adjust_tail(ctx, -4))
			return XDP_ABORTED;
		return XDP_PASS;
	}
	if (key == 17) {
		__builtin_memcpy(tmp, eth, 6);
		__builtin_memcpy(eth, eth + 6, 6);
		__builtin_memcpy(eth + 6, tmp, 6);
		return XDP_TX;
	}
	if (key == 6)
		return XDP_DROP;
	return XDP_ABORTED;
}

/* Bytes 12..19 of every packet (type and what follows) to a ring buffer; UDP twice. */
SEC("xdp")
int xdp_rb(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;

	if (data + 24 > end)
		return XDP_ABORTED;
	bpf_ringbuf_output(&events, data + 12, 8, 0);
	if (((__u8 *)data)[23] == 17)
		bpf_ringbuf_output(&events, data + 23, 1, 0);
	return XDP_PASS;
}
