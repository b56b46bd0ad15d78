/* verifier_progs.bpf.c — programs the verifier must accept (ok_*) or reject (bad_*), with source lines for its messages. */
#include "bpf_test.h"

struct xdp_md {
	__u32 data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)131;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;

/* Ethernet + IPv4 protocol byte, checked against data_end first. */
SEC("xdp") int ok_parse(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;

	if (data + 34 > end)
		return 1;
	return data[23] == 6 ? 2 : 1;
}

SEC("xdp") int bad_parse(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;

	if (data + 20 > end)
		return 1;
	return data[23] == 6 ? 2 : 1;	/* past the 20 bytes checked */
}

SEC("xdp") int ok_count(struct xdp_md *ctx)
{
	__u32 key = ctx->ingress_ifindex & 15;
	__u64 *v = bpf_map_lookup_elem(&counts, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
	return 2;
}

SEC("xdp") int bad_count(struct xdp_md *ctx)
{
	__u32 key = ctx->ingress_ifindex & 15;
	__u64 *v = bpf_map_lookup_elem(&counts, &key);

	*v += 1;	/* no NULL check */
	return 2;
}

SEC("xdp") int ok_loop(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	__u32 sum = 0;

	if (data + 16 > end)
		return 1;
	for (int i = 0; i < 16; i++)
		sum += data[i];
	return sum & 3;
}

SEC("xdp") int ok_event(struct xdp_md *ctx)
{
	__u32 *e = bpf_ringbuf_reserve(&events, 4, 0);

	if (!e)
		return 1;
	*e = ctx->ingress_ifindex;
	bpf_ringbuf_submit(e, 0);
	return 2;
}

SEC("xdp") int bad_event(struct xdp_md *ctx)
{
	__u32 *e = bpf_ringbuf_reserve(&events, 4, 0);

	if (!e)
		return 1;
	*e = ctx->ingress_ifindex;
	if (*e == 7)
		return 1;	/* leaks the reservation */
	bpf_ringbuf_submit(e, 0);
	return 2;
}

struct table {
	__u32 slot[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct table);
} tables SEC(".maps");

SEC("xdp") int ok_index(struct xdp_md *ctx)
{
	__u32 k = 0, i = ctx->rx_queue_index;
	struct table *t = bpf_map_lookup_elem(&tables, &k);

	if (!t)
		return 1;
	if (i < 16)
		return t->slot[i] & 3;
	return 2;
}

SEC("xdp") int bad_index(struct xdp_md *ctx)
{
	__u32 k = 0, i = ctx->rx_queue_index;
	struct table *t = bpf_map_lookup_elem(&tables, &k);

	if (!t)
		return 1;
	if (i <= 16)
		return t->slot[i] & 3;	/* slot[16] is one past the end */
	return 2;
}

static __noinline __u32 fill(__u32 *buf, __u32 x)
{
	buf[0] = x;
	buf[1] = x + 1;
	return buf[0] + buf[1];
}

SEC("xdp") int ok_call(struct xdp_md *ctx)
{
	__u32 buf[2];

	return fill(buf, ctx->rx_queue_index) & 3;
}

struct loop_ctx {
	__u32 sum, n;
};

static int add_index(__u32 i, void *data)
{
	struct loop_ctx *c = data;

	c->sum += i;
	c->n++;
	return c->n > 100;	/* 1 stops the loop */
}

SEC("xdp") int ok_bpf_loop(struct xdp_md *ctx)
{
	struct loop_ctx c = { ctx->rx_queue_index, 0 };

	bpf_loop(16, add_index, &c, 0);
	return c.sum & 3;
}

static int read_past(__u32 i, void *data)
{
	struct loop_ctx *c = data;

	c->sum += ((__u32 *)c)[i & 7];	/* past the 8 bytes of c */
	return 0;
}

SEC("xdp") int bad_bpf_loop(struct xdp_md *ctx)
{
	struct loop_ctx c = { ctx->rx_queue_index, 0 };

	bpf_loop(16, read_past, &c, 0);
	return c.sum & 3;
}

/* ---- bpf_for_each_map_elem: callback(map, key, value, ctx) ---------------------------------- */

static long (*bpf_for_each_map_elem)(void *map, void *callback_fn, void *callback_ctx,
				     __u64 flags) = (void *)164;

struct each_ctx {
	__u64 sum;
	__u32 keys;
};

static long sum_slots(void *map, __u32 *key, struct table *t, struct each_ctx *c)
{
	(void)map;
	c->keys += *key;
	c->sum += t->slot[15];	/* the last of the value's 64 bytes */
	t->slot[0]++;		/* the value is the element's own: writable */
	return 0;
}

SEC("xdp") int ok_for_each(struct xdp_md *ctx)
{
	struct each_ctx c = { ctx->rx_queue_index, 0 };

	bpf_for_each_map_elem(&tables, sum_slots, &c, 0);
	return (c.sum + c.keys) & 3;
}

static long write_key(void *map, __u32 *key, struct table *t, struct each_ctx *c)
{
	(void)map;
	(void)c;
	*(volatile __u32 *)key = t->slot[1];	/* the key is read-only */
	return 0;
}

SEC("xdp") int bad_for_each_key(struct xdp_md *ctx)
{
	struct each_ctx c = { ctx->rx_queue_index, 0 };

	bpf_for_each_map_elem(&tables, write_key, &c, 0);
	return c.sum & 3;
}

static long past_value(void *map, __u32 *key, struct table *t, struct each_ctx *c)
{
	(void)map;
	c->sum += t->slot[(c->keys & 15) + 1] + *key;	/* slot[16] is past the end */
	return 0;
}

SEC("xdp") int bad_for_each_value(struct xdp_md *ctx)
{
	struct each_ctx c = { ctx->rx_queue_index, ctx->ingress_ifindex };

	bpf_for_each_map_elem(&tables, past_value, &c, 0);
	return c.sum & 3;
}

static long ret_two(void *map, __u32 *key, struct table *t, struct each_ctx *c)
{
	(void)map;
	(void)t;
	(void)c;
	return *key + 2;	/* callbacks return 0 or 1 */
}

SEC("xdp") int bad_for_each_ret(struct xdp_md *ctx)
{
	struct each_ctx c = { ctx->rx_queue_index, 0 };

	bpf_for_each_map_elem(&tables, ret_two, &c, 0);
	return c.sum & 3;
}

SEC("xdp") int bad_for_each_ringbuf(struct xdp_md *ctx)
{
	struct each_ctx c = { ctx->rx_queue_index, 0 };

	bpf_for_each_map_elem(&events, sum_slots, &c, 0);	/* a ringbuf has no elements */
	return c.sum & 3;
}

/* ---- bpf_tail_call: the program goes on after a failed one ---------------------------------- */

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jumps SEC(".maps");

SEC("xdp") int ok_tail_call(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jumps, ctx->rx_queue_index);	/* any index: checked at run time */
	bpf_tail_call(ctx, &jumps, 2);
	return 2;	/* no program there */
}

static __noinline int tail_from_sub(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jumps, 1);
	return ctx->rx_queue_index & 1;
}

SEC("xdp") int ok_tail_call_sub(struct xdp_md *ctx)
{
	return tail_from_sub(ctx) + 1;
}

/* Linux 6.18 no longer limits the callers' stack of a subprogram that tail-calls to 256 bytes. */
SEC("xdp") int ok_tail_call_big_stack(struct xdp_md *ctx)
{
	volatile char buf[400];

	buf[0] = 1;
	buf[399] = 2;
	return tail_from_sub(ctx) + buf[0] + buf[399];
}

struct tail_ctx {
	struct xdp_md *ctx;
};

static int tail_cb(__u32 i, struct tail_ctx *c)
{
	bpf_tail_call(c->ctx, &jumps, i);	/* a tail call cannot leave a callback */
	return 0;
}

SEC("xdp") int bad_tail_call_in_callback(struct xdp_md *ctx)
{
	struct tail_ctx c = { ctx };

	bpf_loop(4, tail_cb, &c, 0);
	return 2;
}

char _license[] SEC("license") = "GPL";
