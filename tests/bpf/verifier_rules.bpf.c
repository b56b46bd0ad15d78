/* verifier_rules.bpf.c — constant strings, spin locks, __sk_buff->sk: programs the verifier must accept (ok_*) or reject (bad_*). */
#include "bpf_test.h"

/*
 * Each ok_* program returns a value test_verifier.c knows (it runs them on
 * both engines and in the kernel); each bad_* breaks one rule, and the
 * kernel must reject it too.
 */

struct __sk_buff {
	__u32 len, pkt_type, mark, queue_mapping, protocol, vlan_present, vlan_tci, vlan_proto;
	__u32 priority, ingress_ifindex, ifindex, tc_index, cb[5], hash, tc_classid, data;
	__u32 data_end, napi_id, family, remote_ip4, local_ip4, remote_ip6[4], local_ip6[4];
	__u32 remote_port, local_port, data_meta;
	__u64 flow_keys, tstamp;
	__u32 wire_len, gso_segs;
	__u64 sk;
	__u32 gso_size;
	__u8 tstamp_type, pad[3];
	__u64 hwtstamp;
};

struct bpf_sock {
	__u32 bound_dev_if, family, type, protocol, mark, priority, src_ip4, src_ip6[4];
	__u32 src_port, dst_port, dst_ip4, dst_ip6[4], state;
	__s32 rx_queue_mapping;
};

struct bpf_spin_lock {
	__u32 val;
};

static long (*bpf_snprintf)(char *str, __u32 str_size, const char *fmt, __u64 *data,
			    __u32 data_len) = (void *)165;
static long (*bpf_strncmp)(const char *s1, __u32 s1_sz, const char *s2) = (void *)182;
static long (*bpf_trace_printk)(const char *fmt, __u32 fmt_size, ...) = (void *)6;
static long (*bpf_spin_lock)(struct bpf_spin_lock *lock) = (void *)93;
static long (*bpf_spin_unlock)(struct bpf_spin_lock *lock) = (void *)94;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)5;

/* ---- Constant strings: bpf_snprintf's fmt, bpf_strncmp's s2 ------------------------------ */

static const char fmt2[] = "x=%d y=%u";
static const char target[8] = "bpfrt";
char writable_fmt[16] = "x=%d";			/* .data: programs may write it */
const char no_nul[4] SEC(".rodata.nonul") = { 'a', 'b', 'c', 'd' };

/* "x=7 y=9" and its NUL: 8 */
SEC("tc") int ok_snprintf(struct __sk_buff *skb)
{
	__u64 args[2] = { 7, 9 };
	char out[32];

	(void)skb;
	return bpf_snprintf(out, sizeof(out), fmt2, args, sizeof(args));
}

/* no output buffer at all: the length it would need (NULL, 0 is allowed) */
SEC("tc") int ok_snprintf_null_out(struct __sk_buff *skb)
{
	__u64 args[2] = { 123, 4 };

	(void)skb;
	return bpf_snprintf(0, 0, fmt2, args, sizeof(args));
}

SEC("tc") int bad_snprintf_stack_fmt(struct __sk_buff *skb)
{
	volatile char fmt[8] = "x=%d";
	__u64 args[1] = { skb->len };
	char out[16];

	return bpf_snprintf(out, sizeof(out), (const char *)fmt, args, sizeof(args));
}

SEC("tc") int bad_snprintf_writable_fmt(struct __sk_buff *skb)
{
	__u64 args[1] = { skb->len };
	char out[16];

	return bpf_snprintf(out, sizeof(out), writable_fmt, args, sizeof(args));
}

/* two conversions, one argument */
SEC("tc") int bad_snprintf_too_few_args(struct __sk_buff *skb)
{
	__u64 args[1] = { skb->len };
	char out[16];

	return bpf_snprintf(out, sizeof(out), fmt2, args, sizeof(args));
}

static const char fmt_bad[] = "%5.2f";

SEC("tc") int bad_snprintf_conversion(struct __sk_buff *skb)
{
	__u64 args[1] = { skb->len };
	char out[16];

	return bpf_snprintf(out, sizeof(out), fmt_bad, args, sizeof(args));
}

SEC("tc") int bad_snprintf_var_offset(struct __sk_buff *skb)
{
	__u64 args[2] = { 1, 2 };
	char out[16];

	return bpf_snprintf(out, sizeof(out), fmt2 + (skb->len & 3), args, sizeof(args));
}

SEC("tc") int bad_snprintf_no_nul(struct __sk_buff *skb)
{
	char out[16];

	(void)skb;
	return bpf_snprintf(out, sizeof(out), no_nul, 0, 0);
}

/* "bpfrt" against "bpfrt\0..": 0; then against "bpfrs": > 0 → 1 */
SEC("tc") int ok_strncmp(struct __sk_buff *skb)
{
	char s[8] = "bpfrt";
	char t[8] = "bpfru";

	(void)skb;
	return (bpf_strncmp(s, sizeof(s), target) == 0) + 2 * (bpf_strncmp(t, sizeof(t), target) > 0);
}

SEC("tc") int bad_strncmp_writable(struct __sk_buff *skb)
{
	char s[8] = "x=%d";

	(void)skb;
	return bpf_strncmp(s, sizeof(s), writable_fmt);
}

/* trace_printk's format is plain memory (Linux checks it when called): a stack one is fine */
SEC("tc") int ok_trace_printk_stack_fmt(struct __sk_buff *skb)
{
	char fmt[] = "len %u\n";

	bpf_trace_printk(fmt, sizeof(fmt), skb->len);
	return 0;
}

/* ---- Spin locks ------------------------------------------------------------------------------- */

struct counter {
	__u64 hits;
	struct bpf_spin_lock lock;
	__u32 last;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct counter);
} counters SEC(".maps");

struct plain {
	__u64 a, b;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct plain);
} plains SEC(".maps");

static struct counter *counter(__u32 k)
{
	return bpf_map_lookup_elem(&counters, &k);
}

/* one more hit, under the lock: at least 1 */
SEC("tc") int ok_lock(struct __sk_buff *skb)
{
	struct counter *c = counter(0);
	__u64 n;

	if (!c)
		return 0;
	bpf_spin_lock(&c->lock);
	n = ++c->hits;
	c->last = skb->len;
	bpf_spin_unlock(&c->lock);
	return n > 0;
}

/* taken and released on both branches */
SEC("tc") int ok_lock_branches(struct __sk_buff *skb)
{
	struct counter *c = counter(skb->len & 1);

	if (!c)
		return 0;
	bpf_spin_lock(&c->lock);
	if (skb->mark)
		c->hits += 2;
	else
		c->last = 5;
	bpf_spin_unlock(&c->lock);
	return 0;
}

SEC("tc") int bad_lock_twice(struct __sk_buff *skb)
{
	struct counter *a = counter(0), *b = counter(1);

	(void)skb;
	if (!a || !b)
		return 0;
	bpf_spin_lock(&a->lock);
	bpf_spin_lock(&b->lock);
	bpf_spin_unlock(&b->lock);
	bpf_spin_unlock(&a->lock);
	return 0;
}

SEC("tc") int bad_lock_exit_held(struct __sk_buff *skb)
{
	struct counter *c = counter(0);

	if (!c)
		return 0;
	bpf_spin_lock(&c->lock);
	if (skb->mark)
		return 1;	/* still held */
	bpf_spin_unlock(&c->lock);
	return 0;
}

SEC("tc") int bad_lock_helper_inside(struct __sk_buff *skb)
{
	struct counter *c = counter(0);

	(void)skb;
	if (!c)
		return 0;
	bpf_spin_lock(&c->lock);
	c->hits = bpf_ktime_get_ns();
	bpf_spin_unlock(&c->lock);
	return 0;
}

SEC("tc") int bad_lock_read_word(struct __sk_buff *skb)
{
	struct counter *c = counter(0);

	(void)skb;
	if (!c)
		return 0;
	return *(volatile __u32 *)&c->lock.val;
}

SEC("tc") int bad_unlock_other(struct __sk_buff *skb)
{
	struct counter *a = counter(0), *b = counter(1);

	(void)skb;
	if (!a || !b)
		return 0;
	bpf_spin_lock(&a->lock);
	bpf_spin_unlock(&b->lock);
	return 0;
}

SEC("tc") int bad_lock_wrong_offset(struct __sk_buff *skb)
{
	struct counter *c = counter(0);

	(void)skb;
	if (!c)
		return 0;
	bpf_spin_lock((struct bpf_spin_lock *)&c->last);
	bpf_spin_unlock((struct bpf_spin_lock *)&c->last);
	return 0;
}

SEC("tc") int bad_lock_no_lock_in_value(struct __sk_buff *skb)
{
	__u32 k = 0;
	struct plain *p = bpf_map_lookup_elem(&plains, &k);

	(void)skb;
	if (!p)
		return 0;
	bpf_spin_lock((struct bpf_spin_lock *)&p->b);
	bpf_spin_unlock((struct bpf_spin_lock *)&p->b);
	return 0;
}

/*
 * Taken on one path only: at the unlock the two paths differ only in the
 * lock held, so pruning must tell them apart (the lock is part of the state).
 */
SEC("tc") int bad_lock_one_path(struct __sk_buff *skb)
{
	struct counter *c = counter(0);

	if (!c)
		return 0;
	if (skb->mark)
		bpf_spin_lock(&c->lock);
	bpf_spin_unlock(&c->lock);
	return 0;
}

/* the lock taken through one value or another: pruning must keep which (the ids) */
SEC("tc") int bad_lock_which_value(struct __sk_buff *skb)
{
	struct counter *a = counter(0), *b = counter(1);

	if (!a || !b)
		return 0;
	if (skb->mark)
		bpf_spin_lock(&a->lock);
	else
		bpf_spin_lock(&b->lock);
	bpf_spin_unlock(&a->lock);
	return 0;
}

static __noinline int add_hit(struct counter *c)
{
	c->hits++;
	return 0;
}

/* a static function called while holding the lock (Linux 6.18 allows it) */
SEC("tc") int ok_lock_local_call(struct __sk_buff *skb)
{
	struct counter *c = counter(0);

	(void)skb;
	if (!c)
		return 0;
	bpf_spin_lock(&c->lock);
	add_hit(c);
	bpf_spin_unlock(&c->lock);
	return 1;
}

static __noinline void take(struct counter *c)
{
	bpf_spin_lock(&c->lock);
}

/* taken in a static function, released by its caller */
SEC("tc") int ok_lock_in_callee(struct __sk_buff *skb)
{
	struct counter *c = counter(1);

	(void)skb;
	if (!c)
		return 0;
	take(c);
	c->last = 3;
	bpf_spin_unlock(&c->lock);
	return 4;
}

static long loop_cb(__u32 i, void *ctx)
{
	(void)i;
	(void)ctx;
	return 0;
}

static long locked_cb(__u32 i, void *ctx)
{
	struct counter *c = counter(i & 1);

	(void)ctx;
	if (!c)
		return 1;
	bpf_spin_lock(&c->lock);
	c->last = i;
	bpf_spin_unlock(&c->lock);
	return 0;
}

/* a callback that takes and releases the lock */
SEC("tc") int ok_lock_in_loop_cb(struct __sk_buff *skb)
{
	(void)skb;
	return bpf_loop(3, locked_cb, 0, 0);
}

static long held_cb(__u32 i, void *ctx)
{
	struct counter *c = counter(0);

	(void)i;
	(void)ctx;
	if (!c)
		return 1;
	bpf_spin_lock(&c->lock);
	return 0;	/* still held */
}

SEC("tc") int bad_lock_held_by_cb(struct __sk_buff *skb)
{
	struct counter *c = counter(0);

	(void)skb;
	bpf_loop(1, held_cb, 0, 0);
	if (c)
		bpf_spin_unlock(&c->lock);
	return 0;
}

SEC("tc") int bad_lock_loop_inside(struct __sk_buff *skb)
{
	struct counter *c = counter(0);

	(void)skb;
	if (!c)
		return 0;
	bpf_spin_lock(&c->lock);
	bpf_loop(4, loop_cb, 0, 0);
	bpf_spin_unlock(&c->lock);
	return 0;
}

SEC("tc") int bad_unlock_without_lock(struct __sk_buff *skb)
{
	struct counter *c = counter(0);

	(void)skb;
	if (!c)
		return 0;
	bpf_spin_unlock(&c->lock);
	return 0;
}

/* a lock in global data (a section of its own, as libbpf's private() makes it) */
struct bpf_spin_lock glock SEC(".bss.glock") __attribute__((aligned(8)));
__u64 gcount SEC(".bss.glock") __attribute__((aligned(8)));

SEC("tc") int ok_global_lock(struct __sk_buff *skb)
{
	(void)skb;
	bpf_spin_lock(&glock);
	gcount++;
	bpf_spin_unlock(&glock);
	return 2;
}

SEC("tc") int bad_global_lock_touch(struct __sk_buff *skb)
{
	(void)skb;
	return *(volatile __u32 *)&glock.val;
}

/* socket filters may not use a map with a lock at all (Linux's rule) */
SEC("socket") int bad_lock_socket_filter(struct __sk_buff *skb)
{
	struct counter *c = counter(0);

	(void)skb;
	return c ? 1 : 0;
}

/* ---- __sk_buff->sk: NULL or a sock_common; flow_keys: flow dissectors only ----------------- */

/* bpfrt has no sockets (NULL: 7); the kernel's test run has none either */
SEC("tc") int ok_sk_family(struct __sk_buff *skb)
{
	struct bpf_sock *sk = (struct bpf_sock *)(long)skb->sk;

	if (!sk)
		return 7;
	return sk->family == 2 ? 1 : 2;
}

SEC("tc") int bad_sk_unchecked(struct __sk_buff *skb)
{
	struct bpf_sock *sk = (struct bpf_sock *)(long)skb->sk;

	return sk->family;
}

SEC("tc") int bad_sk_mark(struct __sk_buff *skb)
{
	struct bpf_sock *sk = (struct bpf_sock *)(long)skb->sk;

	if (!sk)
		return 0;
	return sk->mark;	/* not in a sock_common */
}

SEC("tc") int bad_flow_keys(struct __sk_buff *skb)
{
	return skb->flow_keys != 0;
}

char _license[] SEC("license") = "GPL";
