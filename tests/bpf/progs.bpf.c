/* progs.bpf.c — loader test: programs in every kind of section, several per section, subprograms across sections. */
#include "bpf_test.h"

char LICENSE[] SEC("license") = "GPL";

/* ---- Subprograms ---------------------------------------------------------------- */

/* Static, in .text: a subprogram only. */
static __noinline int add3(int x)
{
	return x + 3;
}

/* Global, in .text: a program of its own and a subprogram. */
__noinline int twice(int x)
{
	return 2 * x;
}

/* Global, in .text, calling another global of .text: run as a program in the tests. */
__noinline int scaled(int *p)
{
	return twice(*p) + 1;
}

/* Static, in a program section: a subprogram that programs of other sections call. */
static __noinline SEC("tc") int tc_sub(int x)
{
	return add3(x) - 10;
}

/* Global, in another program section: a program that other programs also call. */
__noinline SEC("tc") int tc_main(int *ctx)
{
	return tc_sub(*ctx) * 2;
}

/* ---- Several programs in one section --------------------------------------------- */

SEC("xdp") int xdp_a(int *ctx)
{
	return add3(twice(*ctx));
}

SEC("xdp") int xdp_b(int *ctx)
{
	/* add3 twice, tc_sub from section tc, tc_main (a program) too. */
	return add3(*ctx) + add3(1) + tc_sub(*ctx) + tc_main(ctx);
}

static int loop_cb(__u32 i, int *sum)
{
	*sum += i;
	return 0;
}

SEC("xdp") int xdp_loop(int *ctx)
{
	int sum = *ctx;

	bpf_loop(4, loop_cb, &sum, 0);
	return sum;
}

/* A program of its own section ("xdp.frags") with a .text subprogram. */
static __noinline int fact(int n)
{
	return n <= 1 ? 1 : n * fact(n - 1);
}

SEC("xdp.frags") int xdp_fact(int *ctx)
{
	return fact(*ctx & 7);
}

/* ---- One program per kind of section ---------------------------------------------- */

#define ONE(sec, name) SEC(sec) int name(int *ctx) { return *ctx + 1; }

ONE("socket", p_socket)
ONE("classifier", p_classifier)
ONE("tc/ingress", p_tc_ingress)
ONE("kprobe/do_sys_open", p_kprobe)
ONE("kretprobe/do_sys_open", p_kretprobe)
ONE("uprobe//bin/true:main", p_uprobe)
ONE("uretprobe//bin/true:main", p_uretprobe)
ONE("tracepoint/syscalls/sys_enter_openat", p_tracepoint)
ONE("tp/sched/sched_switch", p_tp)
ONE("raw_tracepoint/sched_switch", p_raw_tracepoint)
ONE("raw_tp/sched_wakeup", p_raw_tp)
ONE("perf_event", p_perf_event)
ONE("cgroup/skb", p_cgroup_skb)
ONE("cgroup/sock_create", p_cgroup_sock)
ONE("cgroup/connect4", p_cgroup_connect4)
ONE("cgroup/dev", p_cgroup_dev)
ONE("sockops", p_sockops)
ONE("lwt_in", p_lwt_in)
ONE("lwt_out", p_lwt_out)
ONE("lwt_xmit", p_lwt_xmit)
ONE("lwt_seg6local", p_lwt_seg6local)
ONE("syscall", p_syscall)
ONE("sk_skb/stream_parser", p_sk_skb)
ONE("flow_dissector", p_flow_dissector)
ONE("mystery", p_mystery)
