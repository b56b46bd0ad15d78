/* may_goto.bpf.c — loops bounded by may_goto (the kernel's can_loop): ending on their own, nested, in functions, and running until the budget is spent. */
#include "bpf_test.h"

char LICENSE[] SEC("license") = "GPL";

/* result[k]: what the tests read back (and compare with the kernel's where it is deterministic). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 8);
} result SEC(".maps");

static __attribute__((always_inline)) void put(__u32 k, __u64 v)
{
	__u64 *p = bpf_map_lookup_elem(&result, &k);

	if (p)
		*p = v;
}

/* True until the frame's loop budget is spent (the kernel's can_loop). */
static __attribute__((always_inline)) int can_loop(void)
{
	asm volatile goto("may_goto %l[spent]" :::: spent);
	return 1;
spent:
	return 0;
}

/* ---- Loops that end before the budget is spent: every engine and Linux agree ---- */

SEC("xdp") int sum_below(void *ctx)
{
	__u64 s = 0;
	__u32 i;

	(void)ctx;
	for (i = 0; i < 1000 && can_loop(); i++)
		s += i;
	put(0, s);
	put(1, i);
	return 1;
}

SEC("xdp") int nested(void *ctx)
{
	__u64 c = 0;

	(void)ctx;
	for (__u32 i = 0; i < 30 && can_loop(); i++)
		for (__u32 j = 0; j < 40 && can_loop(); j++)
			c += i ^ j;
	put(0, c);
	return 2;
}

/* A function with its own loop: its frame has its own budget. */
static __noinline __u64 count_to(__u64 n)
{
	__u64 c = 0;

	while (c < n && can_loop())
		c++;
	return c;
}

SEC("xdp") int in_function(void *ctx)
{
	__u64 t = 0;

	(void)ctx;
	for (__u64 k = 0; k < 3 && can_loop(); k++)
		t += count_to(100 + k);
	put(0, t);
	return 3;
}

/* A bounded search through the stack: the index the loop leaves with is checked. */
SEC("xdp") int stack_search(void *ctx)
{
	__u8 buf[64];
	__u32 i;

	(void)ctx;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (__u8)(i * 7);
	for (i = 0; i < sizeof(buf) && can_loop(); i++)
		if (buf[i] == 91)
			break;
	put(0, i);
	return i < sizeof(buf) ? buf[i] : 0;
}

/* ---- Loops that run until the budget is spent ------------------------------------------ */

/* Linux counts by time on x86-64 (timed may_goto), bpfrt by iterations: only r0 agrees. */
SEC("xdp") int spent(void *ctx)
{
	__u64 n = 0;

	(void)ctx;
	while (can_loop())
		n++;
	put(0, n);
	return 1;
}

static __noinline __u64 spin(void)
{
	__u64 n = 0;

	while (can_loop())
		n++;
	return n;
}

/* Each call's frame gets a full budget; the caller's, which it spends after, is its own. */
SEC("xdp") int spent_frames(void *ctx)
{
	__u64 a, b, c = 0;

	(void)ctx;
	a = spin();
	b = spin();
	while (can_loop())
		c++;
	put(0, a);
	put(1, b);
	put(2, c);
	return 1;
}

struct cb_ctx {
	__u64 total;
};

static int spin_cb(__u32 i, void *arg)
{
	struct cb_ctx *c = arg;

	(void)i;
	c->total += spin();
	return 0;
}

/* bpf_loop's callback: a frame of its own per call, so a budget of its own per call. */
SEC("xdp") int spent_callback(void *ctx)
{
	struct cb_ctx c = { 0 };

	(void)ctx;
	bpf_loop(2, spin_cb, &c, 0);
	put(0, c.total);
	return 1;
}
