/* tailcall.bpf.c — bpf_tail_call: chains, an empty slot, an index out of range, the 33 limit, from a subprogram. */
#include "bpf_test.h"

char LICENSE[] SEC("license") = "GPL";

/* result[k]: what the programs did; the tests read it back (and the kernel's). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 8);
} result SEC(".maps");

int chain1(void *ctx);
int chain2(void *ctx);
int self(void *ctx);
int empty_then_self(void *ctx);

int looper(void *ctx);

enum { S_CHAIN1 = 1, S_CHAIN2 = 2, S_EMPTY = 3, S_SELF = 4, S_EMPTY_SELF = 5, S_LOOPER = 6 };

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, int (void *));
} jmp SEC(".maps") = {
	.values = {
		[S_CHAIN1] = (void *)&chain1,
		[S_CHAIN2] = (void *)&chain2,
		[S_SELF] = (void *)&self,
		[S_EMPTY_SELF] = (void *)&empty_then_self,
		[S_LOOPER] = (void *)&looper,
	},
};

static __attribute__((always_inline)) __u64 bump(__u32 k, __u64 by)
{
	__u64 *v = bpf_map_lookup_elem(&result, &k);

	if (!v)
		return 0;
	*v += by;
	return *v;
}

/* chain0 -> chain1 -> chain2: each adds its digit; only chain2 returns. */
SEC("xdp") int chain0(void *ctx)
{
	bump(0, 1);
	bpf_tail_call(ctx, &jmp, S_CHAIN1);
	return 100;
}

SEC("xdp") int chain1(void *ctx)
{
	bump(0, 10);
	bpf_tail_call(ctx, &jmp, S_CHAIN2);
	return 101;
}

SEC("xdp") int chain2(void *ctx)
{
	(void)ctx;
	bump(0, 100);
	return 42;
}

/* A slot inside the array but empty: the program goes on. */
SEC("xdp") int missing(void *ctx)
{
	bump(1, 1);
	bpf_tail_call(ctx, &jmp, S_EMPTY);
	return 7;
}

/* An index past max_entries: the program goes on too. */
SEC("xdp") int out_of_range(void *ctx)
{
	volatile __u32 idx = 1000;

	bump(1, 2);
	bpf_tail_call(ctx, &jmp, idx);
	return 8;
}

/* Tail-calls itself: the first run and 33 tail calls, then it falls through. */
SEC("xdp") int self(void *ctx)
{
	bump(2, 1);
	bpf_tail_call(ctx, &jmp, S_SELF);
	return (int)bump(2, 0);
}

/*
 * Two attempts a run, the first at an empty slot: Linux 6.x does not count
 * that one against the limit (older kernels did).
 */
SEC("xdp") int empty_then_self(void *ctx)
{
	bump(3, 1);
	bpf_tail_call(ctx, &jmp, S_EMPTY);
	bpf_tail_call(ctx, &jmp, S_EMPTY_SELF);
	return (int)bump(3, 0);
}

/* From a subprogram: the target replaces the subprogram's frame and returns to its caller. */
static __noinline int sub_tail(void *ctx, int x)
{
	bump(4, (__u64)x);
	bpf_tail_call(ctx, &jmp, S_CHAIN2);
	return (int)bump(6, 5);	/* not reached; from the map, so clang cannot fold it */
}

SEC("xdp") int from_sub(void *ctx)
{
	volatile int keep = 3;
	int r = sub_tail(ctx, 9);

	bump(5, (__u64)r);
	return r + keep;
}

/* Callbacks on both sides of a tail call: each program's own. */
static int add_one(__u32 i, void *arg)
{
	(void)i;
	*(__u64 *)arg += 1;
	return 0;
}

static int add_ten(__u32 i, void *arg)
{
	*(__u64 *)arg += 10 + i;
	return 0;
}

SEC("xdp") int looper(void *ctx)
{
	__u64 n = 0;

	(void)ctx;
	bpf_loop(3, add_ten, &n, 0);
	bump(6, n);
	return (int)bump(6, 0);
}

SEC("xdp") int loop_then_tail(void *ctx)
{
	__u64 n = 0;

	bpf_loop(4, add_one, &n, 0);
	bump(6, n);
	bpf_tail_call(ctx, &jmp, S_LOOPER);
	return 0;
}
