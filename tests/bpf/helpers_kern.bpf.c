/* helpers_kern.bpf.c — helper tests that run in the kernel too: XDP programs whose input and output are a map value. */
#include "helpers_test.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * Each program NAME works on value 0 of the array map NAME_io: the test
 * writes the input there, runs the program (in the kernel through
 * BPF_PROG_TEST_RUN, in bpfrt on both engines), and compares the values.
 * Helpers may not take ctx pointers in the kernel, but map values they may.
 */
#define IO_MAP(name, vtype)						\
	struct {							\
		__uint(type, BPF_MAP_TYPE_ARRAY);			\
		__uint(max_entries, 1);					\
		__type(key, __u32);					\
		__type(value, vtype);					\
	} name##_io SEC(".maps")

#define IO_VALUE(name, c)						\
	__u32 zero_ = 0;						\
	c = bpf_map_lookup_elem(&name##_io, &zero_);			\
	(void)ctx;							\
	if (!c)								\
		return 1

/* ---- csum_diff ------------------------------------------------------------ */

struct csum_ctx {
	__u32 from_size, to_size, seed, pad;
	__u32 from[160], to[160];
	__s64 ret;
};

IO_MAP(csum, struct csum_ctx);

SEC("xdp") int csum(void *ctx)
{
	struct csum_ctx *c;
	__u32 fs, ts;
	IO_VALUE(csum, c);

	fs = c->from_size;
	ts = c->to_size;

	if (fs > 640)
		fs = 640;
	if (ts > 640)
		ts = 640;
	c->ret = bpf_csum_diff(c->from, fs, c->to, ts, c->seed);
	return 0;
}

/* ---- snprintf ------------------------------------------------------------- */

#define NFMT 24
struct snp_ctx {
	__u64 args[12];
	char str[32];
	__u8 ip[16];
	__u32 size;		/* of each output, at most 64 */
	__u32 pad;
	__s64 ret[NFMT];
	char out[NFMT][64];
};

#define SNP(i, fmt)								\
	do {									\
		static const char f##i[] = fmt;					\
		c->ret[i] = bpf_snprintf(c->out[i], size, f##i, args, sizeof(args)); \
	} while (0)

IO_MAP(snp, struct snp_ctx);

SEC("xdp") int snp(void *ctx)
{
	struct snp_ctx *c;
	__u64 args[12];
	__u32 size;
	IO_VALUE(snp, c);

	size = c->size;
	if (size > 64)
		size = 64;
	for (int i = 0; i < 12; i++)
		args[i] = c->args[i];
	SNP(0, "%d %i %u %x %X");
	SNP(1, "%ld %lld %lu %llu %lx %llx");
	SNP(2, "[%c%c%c] %% 100%%");
	SNP(3, "%05d|%-5d|%+d|% d|%5x|%-8X|");
	SNP(4, "%lld,%0+20lld,%-20llu|");
	SNP(5, "plain text, no conversions");
	SNP(6, "%-1d|%1d|%+5u|% 5x|");
	SNP(7, "%lli %li %ld %lu");
	SNP(8, "%d%d%d%d%d%d%d%d%d%d%d%d");
	SNP(9, "%%d %%%% %d");
	SNP(10, "%lu%d%llx%i%x%u%X%ld%li%lli%c%c");
	SNP(11, "%0-8d|%-08d|%  d|%++d|");
	SNP(12, "%X%X%X%x%x%x");
	SNP(13, "%20llx|%-20lX|%020llu|");
	SNP(14, "%d, %d. %d; %d! %d? %d");
	SNP(15, "tab\there\nnewline %d");
	SNP(16, "%010u|%08x|%-+5d|%+-5d|");
	/*
	 * Formats 17-21 take pointers. When the output is full, the kernel
	 * skips %pI4 & co. without moving on to the next argument, so that
	 * conversions after them read the wrong one: keep those last.
	 */
	args[0] = (__u64)(unsigned long)c->str;
	args[1] = 0;
	args[2] = (__u64)(unsigned long)c->ip;
	SNP(17, "%s|%s|%pI4|");
	SNP(18, "%12s|%-12s|%s.");
	SNP(19, "%s,%s.%s");
	SNP(20, "%pi4 %pI6 %pi6");
	SNP(21, "%pks|%20pI4|%-16pi4|");
	args[0] = c->args[0];
	args[1] = c->args[1];
	args[2] = c->args[2];
	SNP(22, "%c%c%c%c%c%c%c%c%c%c%c%c");
	SNP(23, "%5c|%-3c|");
	return 0;
}

/* ---- strncmp -------------------------------------------------------------- */

struct cmp_ctx {
	char s1[32];
	__u32 n;
	__u32 pad;
	__s64 ret[4];
};

IO_MAP(cmp, struct cmp_ctx);

SEC("xdp") int cmp(void *ctx)
{
	static const char a[] = "hello", b[] = "", d[] = "hello world, longer", e[] = "\x80\xff";
	struct cmp_ctx *c;
	__u32 n;
	IO_VALUE(cmp, c);

	n = (c->n & 31) + 1;	/* the kernel wants s1_sz > 0 */
	c->ret[0] = bpf_strncmp(c->s1, n, a);
	c->ret[1] = bpf_strncmp(c->s1, n, b);
	c->ret[2] = bpf_strncmp(c->s1, n, d);
	c->ret[3] = bpf_strncmp(c->s1, n, e);
	return 0;
}

/* ---- probe_read_kernel(_str) ---------------------------------------------- */

struct str_ctx {
	char src[64];
	__u32 size, off;
	char dst[64];
	char dst2[64];
	__s64 ret, ret2, ret3;
};

IO_MAP(pstr, struct str_ctx);

SEC("xdp") int pstr(void *ctx)
{
	struct str_ctx *c;
	__u32 size, off;
	IO_VALUE(pstr, c);

	size = c->size;
	off = c->off;
	if (size > 64)
		size = 64;
	if (off > 63)
		off = 63;
	c->ret = bpf_probe_read_kernel_str(c->dst, size, c->src + off);
	/* Unmapped in both: the kernel's guard hole, not a user address here. */
	c->ret2 = bpf_probe_read_kernel_str(c->dst2, size, (void *)0xffff800000001000ull);
	c->ret3 = bpf_probe_read_kernel(c->dst2, size, (void *)0xffff800000001000ull);
	return 0;
}

/* ---- The current task and user memory: a syscall program, run in the test's thread ---- */

struct sys_ctx {
	__u64 pid_tgid, uid_gid, cgid;
	__u64 src;		/* a user-space address of the test */
	__u32 comm_size, str_size, raw_size, pad;
	__s64 comm_ret, str_ret, raw_ret;
	char comm[16];
	char str[64];
	char raw[64];
};

/* (Cgroup arrays are not for sleepable programs, which syscall programs are.) */
SEC("syscall") int sys(struct sys_ctx *c)
{
	char comm[16], str[64], raw[64];
	__u32 cs = (c->comm_size & 15) + 1, ss = c->str_size & 63, rs = c->raw_size & 63;

	__builtin_memset(comm, 0xaa, sizeof(comm));
	__builtin_memset(str, 0xaa, sizeof(str));
	__builtin_memset(raw, 0xaa, sizeof(raw));
	c->pid_tgid = bpf_get_current_pid_tgid();
	c->uid_gid = bpf_get_current_uid_gid();
	c->cgid = bpf_get_current_cgroup_id();
	c->comm_ret = bpf_get_current_comm(comm, cs);
	c->str_ret = bpf_probe_read_user_str(str, ss, (void *)c->src);
	c->raw_ret = bpf_probe_read_user(raw, rs, (void *)c->src);
	__builtin_memcpy(c->comm, comm, sizeof(comm));
	__builtin_memcpy(c->str, str, sizeof(str));
	__builtin_memcpy(c->raw, raw, sizeof(raw));
	return 0;
}

/* ---- trace_printk, trace_vprintk: formats checked at run time, any format ---- */

struct tp_ctx {
	char fmt[128];
	__u32 fmt_size, data_len;
	__u64 data[12];
	__s64 ret_v, ret_p;
};

IO_MAP(tp, struct tp_ctx);

SEC("xdp") int tp(void *ctx)
{
	struct tp_ctx *c;
	__u32 fs, dl;
	IO_VALUE(tp, c);

	fs = c->fmt_size;
	if (fs < 1 || fs > 128)
		fs = 128;
	dl = c->data_len;
	if (dl > 96)
		dl = 96;
	c->ret_v = bpf_trace_vprintk(c->fmt, fs, c->data, dl);
	c->ret_p = bpf_trace_printk(c->fmt, fs, c->data[0], c->data[1], c->data[2]);
	return 0;
}

/* ---- Ring buffers: the same sequence of outputs, reservations and queries in both ---- */

struct rbk_ctx {
	__u32 out_size, mode;
	__u8 data[64];
	__s64 ret[3];
	__u64 q[5];
};

IO_MAP(rbk, struct rbk_ctx);

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rbk_rb SEC(".maps");

SEC("xdp") int rbk(void *ctx)
{
	struct rbk_ctx *c;
	__u64 *r;
	IO_VALUE(rbk, c);

	c->ret[0] = bpf_ringbuf_output(&rbk_rb, c->data, c->out_size & 63, c->mode & 2);
	r = bpf_ringbuf_reserve(&rbk_rb, 40, 0);
	c->ret[1] = r != 0;
	if (r) {
		for (int i = 0; i < 5; i++)
			r[i] = ((__u64 *)c->data)[i];
		if (c->mode & 1)
			bpf_ringbuf_discard(r, 0);
		else
			bpf_ringbuf_submit(r, 0);
	}
	r = bpf_ringbuf_reserve(&rbk_rb, 5000, 0);	/* bigger than the ring */
	c->ret[2] = r != 0;
	if (r)
		bpf_ringbuf_discard(r, 0);
	c->q[0] = bpf_ringbuf_query(&rbk_rb, HT_RB_AVAIL_DATA);
	c->q[1] = bpf_ringbuf_query(&rbk_rb, HT_RB_RING_SIZE);
	c->q[2] = bpf_ringbuf_query(&rbk_rb, HT_RB_CONS_POS);
	c->q[3] = bpf_ringbuf_query(&rbk_rb, HT_RB_PROD_POS);
	c->q[4] = bpf_ringbuf_query(&rbk_rb, 9);
	return 0;
}
