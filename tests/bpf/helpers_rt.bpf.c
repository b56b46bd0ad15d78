/* helpers_rt.bpf.c — the generic helpers in bpfrt: values, errors, bounds (test_helpers_rt.c runs them). */
#include "helpers_test.h"
#include "helpers_rt.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16384);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} pe SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rt_locked);
} locked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} pc SEC(".maps");

struct {
	__uint(type, HT_MAP_STACK_TRACE);
	__uint(max_entries, 64);
	__type(key, __u32);
	__uint(value_size, 32 * 8);
} st SEC(".maps");

struct {
	__uint(type, HT_MAP_CGROUP_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} cg SEC(".maps");

SEC("syscall") int clocks(struct rt_ctx *c)
{
	c->out[0] = (__s64)bpf_ktime_get_ns();
	c->out[1] = (__s64)bpf_ktime_get_boot_ns();
	c->out[2] = (__s64)bpf_ktime_get_coarse_ns();
	c->out[3] = (__s64)bpf_ktime_get_tai_ns();
	c->out[4] = (__s64)bpf_jiffies64();
	c->out[5] = (__s64)bpf_ktime_get_ns();
	return 0;
}

SEC("syscall") int ids(struct rt_ctx *c)
{
	__u32 size = c->in[0] & 63;

	c->out[0] = (__s64)bpf_get_current_pid_tgid();
	c->out[1] = (__s64)bpf_get_current_uid_gid();
	c->out[2] = bpf_get_smp_processor_id();
	c->out[3] = bpf_get_numa_node_id();
	c->out[4] = bpf_get_current_comm(c->buf, size);
	c->out[5] = (__s64)bpf_get_current_task();
	c->out[6] = (__s64)bpf_get_current_cgroup_id();
	c->out[7] = bpf_get_prandom_u32();
	c->out[8] = bpf_get_prandom_u32();
	c->out[9] = bpf_probe_read_kernel(c->buf2, 8, (void *)bpf_get_current_task());
	return 0;
}

/* in: 0 source address, 1 size, 2 destination address for probe_write_user, 3 its size. */
SEC("syscall") int probes(struct rt_ctx *c)
{
	__u32 size = c->in[1] & 127, wsize = c->in[3] & 31;

	if (size > 64)
		size = 64;
	c->out[0] = bpf_probe_read_user(c->buf, size, (void *)c->in[0]);
	c->out[1] = bpf_probe_read_user_str(c->buf2, size, (void *)c->in[0]);
	c->out[2] = bpf_probe_write_user((void *)c->in[2], &c->in[4], wsize);
	c->out[3] = bpf_probe_read(c->buf, size, (void *)c->in[0]);
	c->out[4] = bpf_probe_read_str(c->buf2, size, (void *)c->in[0]);
	return 0;
}

/* A probe read into memory the program may not write: in checked runs the run fails. */
SEC("syscall") int probe_bad_dst(struct rt_ctx *c)
{
	return bpf_probe_read_user((void *)c->in[2], 8, (void *)c->in[0]);
}

SEC("syscall") int traces(struct rt_ctx *c)
{
	static const char f1[] = "hello %d from %s\n", f2[] = "%d %d %d %d",
			  f3[] = "%d-%d-%d-%d-%d", f4[] = "%p|%px|%pK|%p|%5s|",
			  f5[] = "no nul";
	__u32 size = c->in[1];

	if (size > 64)
		size = 64;
	c->out[0] = bpf_trace_printk(f1, sizeof(f1), (int)c->in[0], c->buf2);
	c->out[1] = bpf_trace_printk(f2, sizeof(f2), 1, 2, 3);
	c->out[2] = bpf_trace_vprintk(f3, sizeof(f3), c->in, 40);
	c->out[3] = bpf_snprintf(c->buf, size, f4, (__u64 *)c->in, 40);
	c->out[4] = bpf_trace_printk(f5, sizeof(f5) - 1);
	c->out[5] = bpf_trace_vprintk(f3, sizeof(f3), c->in, 12);
	c->out[6] = bpf_snprintf(0, 0, f3, (__u64 *)c->in, 40);
	return 0;
}

/* in: 0 output size. */
SEC("syscall") int rings(struct rt_ctx *c)
{
	__u64 *r;

	c->out[0] = bpf_ringbuf_output(&rb, c->buf, c->in[0] & 63, 0);
	r = bpf_ringbuf_reserve(&rb, 16, 0);
	if (r) {
		r[0] = c->in[1];
		r[1] = ~c->in[1];
		bpf_ringbuf_submit(r, 0);
		c->out[1] = 1;
	}
	r = bpf_ringbuf_reserve(&rb, 8, 0);
	if (r) {
		*r = 99;
		bpf_ringbuf_discard(r, 0);
		c->out[2] = 1;
	}
	c->out[3] = (__s64)bpf_ringbuf_query(&rb, HT_RB_AVAIL_DATA);
	c->out[4] = (__s64)bpf_ringbuf_query(&rb, HT_RB_RING_SIZE);
	c->out[5] = (__s64)bpf_ringbuf_query(&rb, HT_RB_CONS_POS);
	c->out[6] = (__s64)bpf_ringbuf_query(&rb, HT_RB_PROD_POS);
	c->out[7] = bpf_ringbuf_reserve(&rb, 8, 1) == 0;	/* flags must be 0 */
	c->out[8] = bpf_ringbuf_output(&rb, c->buf, 8, 4);	/* unknown flag */
	c->out[9] = bpf_ringbuf_reserve(&rb, 1 << 20, 0) == 0;	/* bigger than the ring */
	return 0;
}

/* One record of the concurrency test: reserve/submit on even seq, output on odd. */
SEC("syscall") int ring_produce(struct rt_ctx *c)
{
	struct rt_rec *r, rec = { c->in[0], c->in[1], (c->in[0] * 31 + c->in[1]) ^ RT_REC_MAGIC };

	if (c->in[1] & 1)
		return bpf_ringbuf_output(&rb, &rec, sizeof(rec), 0) ? 1 : 0;
	r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (!r)
		return 1;
	r->thread = rec.thread;
	r->seq = rec.seq;
	r->check = rec.check;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

/* Submitting what was not reserved (in[0]), or twice: checked runs fail. */
SEC("syscall") int ring_bad_submit(struct rt_ctx *c)
{
	__u64 *r;

	if (c->in[1]) {
		r = bpf_ringbuf_reserve(&rb, 8, 0);
		if (!r)
			return 1;
		bpf_ringbuf_submit(r, 0);
		bpf_ringbuf_submit(r, 0);
		return 0;
	}
	bpf_ringbuf_submit((void *)c->in[0], 0);
	return 0;
}

/* in: 0 slot (flags) for output and reads. */
SEC("syscall") int perfs(struct rt_ctx *c)
{
	c->out[0] = bpf_perf_event_output(c, &pe, HT_F_CURRENT_CPU, c->buf, 16);
	c->out[1] = bpf_perf_event_output(c, &pe, c->in[0], c->buf, 8);
	c->out[2] = (__s64)bpf_perf_event_read(&pe, c->in[0]);
	c->out[3] = bpf_perf_event_read_value(&pe, c->in[0], c->buf2, 24);
	c->out[4] = bpf_perf_event_read_value(&pe, c->in[0], c->buf2, 16);
	c->out[5] = bpf_perf_event_output(c, &pe, 1ull << 40, c->buf, 8);
	return 0;
}

/* Add 1 to a counter with a plain read-modify-write, under the lock. */
SEC("syscall") int lock_add(struct rt_ctx *c)
{
	__u32 zero = 0;
	struct rt_locked *v = bpf_map_lookup_elem(&locked, &zero);
	__u64 x;

	(void)c;
	if (!v)
		return 1;
	bpf_spin_lock(&v->lock);
	x = v->counter;
	for (int i = 0; i < 8; i++)	/* widen the window a lost update needs */
		x = x * 3 - x - x;
	v->counter = x + 1;
	bpf_spin_unlock(&v->lock);
	__sync_fetch_and_add(&v->runs, 1);
	return 0;
}

/* A lock that is not 4-byte aligned: checked runs fail. */
SEC("syscall") int lock_bad(struct rt_ctx *c)
{
	bpf_spin_lock((char *)c->buf + 1);
	return 0;
}

/* in: 0 the CPU whose value of pc[in[1]] to read. */
SEC("syscall") int percpu(struct rt_ctx *c)
{
	__u32 key = c->in[1] & 1;
	__u64 *v = bpf_map_lookup_percpu_elem(&pc, &key, (__u32)c->in[0]);

	c->out[0] = v ? (__s64)*v : -1;
	return 0;
}

SEC("syscall") int stacks(struct rt_ctx *c)
{
	c->out[0] = bpf_get_stackid(c, &st, 0);
	c->out[1] = bpf_get_stackid(c, &st, 0);
	c->out[2] = bpf_get_stack(c, c->buf, 64, 0);
	c->out[3] = bpf_get_stack(c, c->buf2, 64, 1);
	c->out[4] = bpf_get_stackid(c, &st, 1 << 12);
	c->out[5] = bpf_get_stack(c, c->buf, 12, 0);
	c->out[6] = bpf_get_stackid(c, &st, 255);	/* skipped every frame */
	return 0;
}

SEC("syscall") int cgroups(struct rt_ctx *c)
{
	c->out[0] = bpf_current_task_under_cgroup(&cg, 0);
	c->out[1] = bpf_current_task_under_cgroup(&cg, 1);
	c->out[2] = bpf_current_task_under_cgroup(&cg, 7);
	c->out[3] = bpf_current_task_under_cgroup(&cg, 2);
	return 0;
}

SEC("syscall") int signals(struct rt_ctx *c)
{
	c->out[0] = bpf_send_signal((__u32)c->in[0]);
	c->out[1] = bpf_send_signal_thread((__u32)c->in[1]);
	return 0;
}
