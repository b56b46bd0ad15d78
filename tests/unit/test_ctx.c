/* test_ctx.c — contexts and test runs bpfrt alone decides: frames, read-only ctx fields, non-packet types, errors. */
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"
#include "t.h"

static const struct { enum bpfrt_engine engine; bool checked; const char *name; } modes[] = {
	{ BPFRT_ENGINE_INTERP, true, "interp/checked" },
	{ BPFRT_ENGINE_INTERP, false, "interp/unchecked" },
	{ BPFRT_ENGINE_JIT, true, "jit/checked" },
	{ BPFRT_ENGINE_JIT, false, "jit/unchecked" },
};
#define NMODES (sizeof(modes) / sizeof(modes[0]))

/* A program of the given type from assembly, with bpfrt's helpers. */
static struct bpfrt_prog *prog_of(const char *text, enum bpfrt_prog_type type)
{
	struct bpfrt_insn *insns;
	struct bpfrt_prog *prog = NULL;
	struct bpfrt_error err;
	size_t n;

	if (!CHECK(bpfrt_asm(text, &insns, &n, &err) == 0, "asm: %s", err.msg))
		return NULL;
	BPFRT_OPTS(bpfrt_prog_opts, o, .type = type);
	CHECK(bpfrt_prog_new(insns, n, &o, &prog, &err) == 0, "prog_new: %s", err.msg);
	free(insns);
	if (prog)
		bpfrt_prog_use_builtin_helpers(prog);
	return prog;
}

static uint8_t pkt[1500];
#define DATA_OUT_CAP (256 * 1024)

static void fill_pkt(void)
{
	for (size_t i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)(i * 7 + 3);
	pkt[12] = 0x88, pkt[13] = 0xb5;	/* not IP: no minimum length past Ethernet */
}

/* ---- Program types ------------------------------------------------------- */

TEST(ctx_prog_type)
{
	struct bpfrt_prog *p = prog_of("mov %r0, 0\nexit\n", BPFRT_PROG_XDP);
	struct bpfrt_prog *q = prog_of("mov %r0, 0\nexit\n", BPFRT_PROG_UNSPEC);

	CHECK(p && bpfrt_prog_get_type(p) == BPFRT_PROG_XDP, "XDP type kept");
	CHECK(q && bpfrt_prog_get_type(q) == BPFRT_PROG_UNSPEC, "default type UNSPEC");
	bpfrt_prog_free(p);
	bpfrt_prog_free(q);
}

/* ---- XDP frames ---------------------------------------------------------- */

TEST(ctx_xdp_frame)
{
	/* r0 = data_end - data + 1000 * (data - data_meta) + ingress_ifindex << 20 */
	struct bpfrt_prog *p = prog_of(
		"ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nldxw %r4, [%r1+8]\nldxw %r5, [%r1+12]\n"
		"mov %r0, %r3\nsub %r0, %r2\nsub %r2, %r4\nmul %r2, 1000\nadd %r0, %r2\n"
		"lsh %r5, 20\nadd %r0, %r5\nexit\n", BPFRT_PROG_XDP);
	struct bpfrt_prog *big = prog_of("mov %r0, 9\nexit\n", BPFRT_PROG_XDP);
	struct bpfrt_prog *tc = prog_of("mov %r0, 2\nexit\n", BPFRT_PROG_SCHED_CLS);
	struct bpfrt_xdp_frame *f = NULL;
	struct bpfrt_error err;
	int ret;

	fill_pkt();
	ret = bpfrt_xdp_frame_alloc(&f, &err);
	if (!CHECK(ret == 0 && f, "frame_alloc: %s", err.msg))
		return;
	CHECK((uintptr_t)f->buf + BPFRT_XDP_FRAME_SIZE <= (1ull << 32),
	      "the frame lies below 4 GiB (%p)", (void *)f->buf);
	CHECK(bpfrt_xdp_frame_set(f, pkt, 13, &err) == -EINVAL, "13 bytes refused");
	CHECK(bpfrt_xdp_frame_set(f, pkt, BPFRT_XDP_MAX_DATA + 1, &err) == -EMSGSIZE,
	      "a packet past the frame refused: %s", err.msg);
	CHECK(bpfrt_xdp_frame_set(f, pkt, 100, &err) == 0, "frame_set: %s", err.msg);
	for (size_t m = 0; m < NMODES; m++) {
		BPFRT_OPTS(bpfrt_xdp_run_opts, o, .engine = modes[m].engine,
			   .checked = modes[m].checked);

		f->ingress_ifindex = 3;
		f->data_meta = f->data - 8;
		ret = bpfrt_xdp_run(p, f, &o, &err);
		CHECK(ret == BPFRT_XDP_ABORTED && f->retval == 100 + 8000 + (3u << 20),
		      "%s: the program sees the frame (ret %d, r0 %llu, %s)", modes[m].name, ret,
		      (unsigned long long)f->retval, err.msg);
		f->data_meta = f->data;
		ret = bpfrt_xdp_run(big, f, &o, &err);
		CHECK(ret == BPFRT_XDP_ABORTED && f->retval == 9,
		      "%s: action 9 counts as aborted (%d)", modes[m].name, ret);
	}
	CHECK(bpfrt_xdp_run(tc, f, NULL, &err) == -EINVAL, "a tc program is refused");
	f->data_end = BPFRT_XDP_FRAME_SIZE;
	CHECK(bpfrt_xdp_run(p, f, NULL, &err) == -EINVAL, "offsets past the tailroom refused");
	f->data_end = f->data + 100;
	f->data_meta = 10;
	CHECK(bpfrt_xdp_run(p, f, NULL, &err) == -EINVAL, "meta over the xdp_frame refused");
	bpfrt_xdp_frame_free(f);
	bpfrt_prog_free(p);
	bpfrt_prog_free(big);
	bpfrt_prog_free(tc);
}

/* adjust_head moves data and the metadata with it; the frame's offsets follow. */
TEST(ctx_xdp_frame_adjust)
{
	struct bpfrt_prog *p = prog_of(
		"mov %r6, %r1\nmov %r2, -8\ncall 54\njne %r0, 0, bad\n"	/* 8 bytes of meta */
		"ldxw %r2, [%r6+8]\nldxw %r3, [%r6+0]\nmov %r4, %r2\nadd %r4, 8\n"
		"jgt %r4, %r3, bad\nstdw [%r2+0], 0x1234\n"
		"mov %r1, %r6\nmov %r2, 20\ncall 44\njne %r0, 0, bad\n"	/* pull 20 bytes */
		"mov %r1, %r6\nmov %r2, -30\ncall 65\njne %r0, 0, bad\n"	/* cut 30 */
		"mov %r0, 3\nexit\nbad:\nmov %r0, 0\nexit\n", BPFRT_PROG_XDP);
	struct bpfrt_xdp_frame *f = NULL;
	struct bpfrt_error err;

	fill_pkt();
	if (!CHECK(bpfrt_xdp_frame_alloc(&f, &err) == 0, "alloc"))
		return;
	for (size_t m = 0; m < NMODES; m++) {
		BPFRT_OPTS(bpfrt_xdp_run_opts, o, .engine = modes[m].engine,
			   .checked = modes[m].checked);
		int ret;

		bpfrt_xdp_frame_set(f, pkt, 200, &err);
		ret = bpfrt_xdp_run(p, f, &o, &err);
		CHECK(ret == BPFRT_XDP_TX, "%s: ran (%d: %s)", modes[m].name, ret, err.msg);
		CHECK(f->data == BPFRT_XDP_HEADROOM + 20 && f->data_end == BPFRT_XDP_HEADROOM + 170 &&
		      f->data_meta == f->data - 8, "%s: offsets %u %u %u", modes[m].name,
		      f->data_meta, f->data, f->data_end);
		CHECK(f->buf[f->data_meta] == 0x34 && memcmp(f->buf + f->data, pkt + 20, 150) == 0,
		      "%s: metadata moved with data, packet intact", modes[m].name);
	}
	bpfrt_xdp_frame_free(f);
	bpfrt_prog_free(p);
}

/* ---- Checked runs: ctx fields the kernel makes read-only ---------------------- */

static int test_run(struct bpfrt_prog *p, size_t m, struct bpfrt_test_run_opts *o,
		    struct bpfrt_error *err)
{
	o->sz = sizeof(*o);
	o->engine = modes[m].engine;
	o->checked = modes[m].checked;
	return bpfrt_prog_test_run(p, o, err);
}

/*
 * One store into the ctx each, and what a checked run answers (either of two
 * codes); unchecked runs do not look, and return 0.
 */
static const struct {
	const char *what, *text;
	enum bpfrt_prog_type type;
	int checked_ret, checked_alt;
} ctx_writes[] = {
	{ "XDP write to ingress_ifindex", "mov %r2, 5\nstxw [%r1+12], %r2\nmov %r0, 2\nexit\n",
	  BPFRT_PROG_XDP, -EACCES, -EACCES },
	{ "tc writes mark", "mov %r2, 5\nstxw [%r1+8], %r2\nmov %r0, 0\nexit\n",
	  BPFRT_PROG_SCHED_CLS, 0, 0 },
	{ "tc write to len", "mov %r2, 5\nstxw [%r1+0], %r2\nmov %r0, 0\nexit\n",
	  BPFRT_PROG_SCHED_CLS, -EACCES, -EACCES },
	{ "socket filter write to mark", "mov %r2, 5\nstxw [%r1+8], %r2\nmov %r0, 0\nexit\n",
	  BPFRT_PROG_SOCKET_FILTER, -EACCES, -EACCES },
	{ "tc writes cb[3..4]", "mov %r2, 5\nstxdw [%r1+60], %r2\nmov %r0, 0\nexit\n",
	  BPFRT_PROG_SCHED_CLS, 0, 0 },
	{ "write across cb[4] and hash", "mov %r2, 5\nstxdw [%r1+64], %r2\nmov %r0, 0\nexit\n",
	  BPFRT_PROG_SCHED_CLS, -EACCES, -EFAULT },
};
#define NWRITES (sizeof(ctx_writes) / sizeof(ctx_writes[0]))

TEST(ctx_readonly_fields)
{
	struct bpfrt_prog *progs[NWRITES];
	struct bpfrt_error err = { 0 };

	for (size_t w = 0; w < NWRITES; w++)
		progs[w] = prog_of(ctx_writes[w].text, ctx_writes[w].type);
	fill_pkt();
	for (size_t m = 0; m < NMODES; m++) {
		for (size_t w = 0; w < NWRITES; w++) {
			struct bpfrt_test_run_opts o = { .data_in = pkt, .data_size_in = 60 };
			int ret = test_run(progs[w], m, &o, &err);
			bool ok = modes[m].checked ? ret == ctx_writes[w].checked_ret ||
						     ret == ctx_writes[w].checked_alt
						   : ret == 0;

			CHECK(ok, "%s: %s: %d %s", modes[m].name, ctx_writes[w].what, ret, err.msg);
		}
	}
	for (size_t w = 0; w < NWRITES; w++)
		bpfrt_prog_free(progs[w]);
}

/* Checked runs may touch the packet, and only the packet. */
TEST(ctx_packet_bounds)
{
	/* Read the byte at data + r (r from the first packet byte... fixed: 59, then 60). */
	struct bpfrt_prog *in = prog_of("ldxw %r2, [%r1+0]\nldxb %r0, [%r2+59]\nexit\n",
					BPFRT_PROG_XDP);
	struct bpfrt_prog *out = prog_of("ldxw %r2, [%r1+0]\nldxb %r0, [%r2+60]\nexit\n",
					 BPFRT_PROG_XDP);
	struct bpfrt_prog *sf = prog_of("ldxw %r2, [%r1+76]\nldxb %r0, [%r2+0]\nexit\n",
					BPFRT_PROG_SOCKET_FILTER);
	struct bpfrt_error err;

	fill_pkt();
	for (size_t m = 0; m < NMODES; m++) {
		struct bpfrt_test_run_opts o = { .data_in = pkt, .data_size_in = 60 };
		int ret;

		if (!modes[m].checked)
			continue;
		ret = test_run(in, m, &o, &err);
		CHECK(ret == 0 && o.retval == pkt[59], "%s: last byte read: %d %s", modes[m].name,
		      ret, err.msg);
		ret = test_run(out, m, &o, &err);
		CHECK(ret == -EFAULT, "%s: a byte past data_end faults: %d", modes[m].name, ret);
		ret = test_run(sf, m, &o, &err);
		CHECK(ret == -EFAULT, "%s: socket filters have no direct packet access: %d",
		      modes[m].name, ret);
	}
	bpfrt_prog_free(in);
	bpfrt_prog_free(out);
	bpfrt_prog_free(sf);
}

/* Packet helpers outside a hook, or with r1 not the ctx, fail the run. */
TEST(ctx_helpers_need_hook)
{
	struct bpfrt_prog *p = prog_of("mov %r2, 4\ncall 44\nexit\n", BPFRT_PROG_XDP);
	struct bpfrt_prog *q = prog_of("mov %r1, %r10\nadd %r1, -8\nmov %r2, 4\ncall 44\nexit\n",
				       BPFRT_PROG_XDP);
	struct bpfrt_prog *s = prog_of("mov %r2, 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 4\n"
				       "call 26\nexit\n", BPFRT_PROG_XDP);
	uint8_t buf[64] = { 0 };
	struct bpfrt_error err;
	BPFRT_OPTS(bpfrt_run_opts, r, .checked = true, .ctx = buf, .ctx_len = sizeof(buf));
	struct bpfrt_test_run_opts o = { .data_in = pkt, .data_size_in = 60 };

	fill_pkt();
	CHECK(bpfrt_prog_run(p, &r, &err) < 0 && strstr(err.msg, "xdp_adjust_head"),
	      "outside a hook: %s", err.msg);
	CHECK(test_run(q, 0, &o, &err) < 0 && strstr(err.msg, "not the program's ctx"),
	      "r1 not ctx: %s", err.msg);
	CHECK(test_run(s, 0, &o, &err) < 0 && strstr(err.msg, "not running on an skb"),
	      "an skb helper from XDP: %s", err.msg);
	bpfrt_prog_free(p);
	bpfrt_prog_free(q);
	bpfrt_prog_free(s);
}

/* ---- Types without a packet ---------------------------------------------------- */

TEST(ctx_syscall)
{
	/* ctx[0] += ctx[1]; return ctx[0] */
	struct bpfrt_prog *p = prog_of("ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nadd %r2, %r3\n"
				       "stxw [%r1+0], %r2\nmov %r0, %r2\nexit\n",
				       BPFRT_PROG_SYSCALL);
	uint32_t in[2] = { 40, 2 }, out[2] = { 0 };
	struct bpfrt_error err;

	for (size_t m = 0; m < NMODES; m++) {
		struct bpfrt_test_run_opts o = { .ctx_in = in, .ctx_size_in = 8, .ctx_out = out,
						 .ctx_size_out = 8 };
		int ret = test_run(p, m, &o, &err);

		CHECK(ret == 0 && o.retval == 42 && out[0] == 42 && out[1] == 2 &&
		      o.ctx_size_out == 8, "%s: syscall ctx: %d %s", modes[m].name, ret, err.msg);
		o = (struct bpfrt_test_run_opts){ .ctx_in = in, .ctx_size_in = 8, .repeat = 2 };
		CHECK(test_run(p, m, &o, &err) == -EINVAL, "%s: repeat refused", modes[m].name);
		o = (struct bpfrt_test_run_opts){ .ctx_in = in, .ctx_size_in = 8, .data_in = pkt,
						  .data_size_in = 20 };
		CHECK(test_run(p, m, &o, &err) == -EINVAL, "%s: data refused", modes[m].name);
		if (!modes[m].checked)
			continue;	/* an unchecked run of this would read past the context */
		o = (struct bpfrt_test_run_opts){ .ctx_in = in, .ctx_size_in = 4 };
		ret = test_run(p, m, &o, &err);
		CHECK(ret == -EFAULT, "%s: reading past a short ctx: %d", modes[m].name, ret);
	}
	bpfrt_prog_free(p);
}

TEST(ctx_raw_tp_kprobe_unspec)
{
	/* raw_tp: args[0] + args[2]; kprobe: regs->di (offset 112) ; unspec: r2 + data[0] */
	struct bpfrt_prog *rtp = prog_of("ldxdw %r2, [%r1+0]\nldxdw %r0, [%r1+16]\nadd %r0, %r2\n"
					 "exit\n", BPFRT_PROG_RAW_TRACEPOINT);
	struct bpfrt_prog *kp = prog_of("ldxdw %r0, [%r1+112]\nexit\n", BPFRT_PROG_KPROBE);
	struct bpfrt_prog *kpw = prog_of("stdw [%r1+112], 1\nmov %r0, 0\nexit\n", BPFRT_PROG_KPROBE);
	struct bpfrt_prog *un = prog_of("ldxb %r0, [%r1+0]\nadd %r0, %r2\nstb [%r1+1], 99\nexit\n",
					BPFRT_PROG_UNSPEC);
	struct bpfrt_prog *lk = prog_of("mov %r0, 0\nexit\n", BPFRT_PROG_SK_LOOKUP);
	uint64_t args[13] = { 5, 6, 7 }, regs[22] = { 0 };
	uint8_t data[4] = { 10, 20, 30, 40 }, dout[4];
	struct bpfrt_error err;
	int ret;

	regs[14] = 0xabcdef;
	for (size_t m = 0; m < NMODES; m++) {
		struct bpfrt_test_run_opts o = { .ctx_in = args, .ctx_size_in = 24 };

		ret = test_run(rtp, m, &o, &err);
		CHECK(ret == 0 && o.retval == 12, "%s: raw_tp: %d %s", modes[m].name, ret, err.msg);
		o = (struct bpfrt_test_run_opts){ .ctx_in = args, .ctx_size_in = 104 };
		CHECK(test_run(rtp, m, &o, &err) == -EINVAL, "%s: 13 args refused", modes[m].name);
		o = (struct bpfrt_test_run_opts){ .ctx_in = args, .ctx_size_in = 24, .ctx_out = regs,
						  .ctx_size_out = 8 };
		CHECK(test_run(rtp, m, &o, &err) == -EINVAL, "%s: raw_tp ctx_out refused",
		      modes[m].name);

		o = (struct bpfrt_test_run_opts){ .ctx_in = regs, .ctx_size_in = 168 };
		ret = test_run(kp, m, &o, &err);
		CHECK(ret == 0 && o.retval == 0xabcdef, "%s: kprobe di: %d %s", modes[m].name, ret,
		      err.msg);
		regs[21] = 1;
		o = (struct bpfrt_test_run_opts){ .ctx_in = regs, .ctx_size_in = 176 };
		CHECK(test_run(kp, m, &o, &err) == -E2BIG, "%s: a longer pt_regs with data past it",
		      modes[m].name);
		regs[21] = 0;
		o = (struct bpfrt_test_run_opts){ .ctx_in = regs, .ctx_size_in = 168 };
		ret = test_run(kpw, m, &o, &err);
		CHECK(modes[m].checked ? ret == -EACCES : ret == 0, "%s: pt_regs is read-only: %d",
		      modes[m].name, ret);

		o = (struct bpfrt_test_run_opts){ .data_in = data, .data_size_in = 4, .data_out = dout,
						  .data_size_out = 4 };
		ret = test_run(un, m, &o, &err);
		CHECK(ret == 0 && o.retval == 14 && dout[1] == 99 && dout[2] == 30,
		      "%s: unspec r1/r2 and data_out: %d %s", modes[m].name, ret, err.msg);
		o = (struct bpfrt_test_run_opts){ .ctx_in = data, .ctx_size_in = 4 };
		CHECK(test_run(un, m, &o, &err) == -EINVAL, "%s: unspec takes no ctx", modes[m].name);
		o = (struct bpfrt_test_run_opts){ .data_in = pkt, .data_size_in = 60 };
		CHECK(test_run(lk, m, &o, &err) == -ENOTSUP, "%s: sk_lookup not test-run",
		      modes[m].name);
	}
	bpfrt_prog_free(rtp);
	bpfrt_prog_free(kp);
	bpfrt_prog_free(kpw);
	bpfrt_prog_free(un);
	bpfrt_prog_free(lk);
}

/* What bpfrt refuses where the kernel would build fragments, and the options' size. */
TEST(ctx_test_run_limits)
{
	struct bpfrt_prog *p = prog_of("mov %r0, 2\nexit\n", BPFRT_PROG_XDP);
	struct xdp_md md = { .data_end = 50 };
	struct bpfrt_error err;
	struct bpfrt_test_run_opts o = { .data_in = pkt, .data_size_in = 60, .ctx_in = &md,
					 .ctx_size_in = sizeof(md) };

	CHECK(test_run(p, 0, &o, &err) == -EOPNOTSUPP && strstr(err.msg, "fragments"),
	      "a linear part shorter than the data: %s", err.msg);
	o = (struct bpfrt_test_run_opts){ .data_in = pkt, .data_size_in = 60, .sz = 8 };
	CHECK(bpfrt_prog_test_run(p, &o, &err) == -EINVAL, "an sz too small is refused");
	o = (struct bpfrt_test_run_opts){ .data_in = pkt, .data_size_in = 60, .cpu = 1 };
	CHECK(test_run(p, 0, &o, &err) == -EINVAL, "cpu must be 0");
	bpfrt_prog_free(p);
}

/* ---- XDP redirect maps, user-space face ----------------------------------------- */

TEST(ctx_redirect_maps)
{
	struct bpfrt_map *dev = NULL, *dh = NULL, *cpu = NULL, *xsk = NULL, *bad = NULL;
	struct bpfrt_error err;
	uint32_t k, v, v2[2];
	int ret;

	BPFRT_OPTS(bpfrt_map_opts, od, .type = BPFRT_MAP_DEVMAP, .key_size = 4, .value_size = 8,
		   .max_entries = 4);
	BPFRT_OPTS(bpfrt_map_opts, oh, .type = BPFRT_MAP_DEVMAP_HASH, .key_size = 4,
		   .value_size = 4, .max_entries = 2);
	BPFRT_OPTS(bpfrt_map_opts, oc, .type = BPFRT_MAP_CPUMAP, .key_size = 4, .value_size = 4,
		   .max_entries = 1);
	BPFRT_OPTS(bpfrt_map_opts, ox, .type = BPFRT_MAP_XSKMAP, .key_size = 4, .value_size = 4,
		   .max_entries = 2);
	BPFRT_OPTS(bpfrt_map_opts, ob, .type = BPFRT_MAP_DEVMAP, .key_size = 4, .value_size = 6,
		   .max_entries = 4);
	CHECK(bpfrt_map_create(&od, &dev, &err) == 0, "devmap: %s", err.msg);
	CHECK(bpfrt_map_create(&oh, &dh, &err) == 0, "devmap_hash: %s", err.msg);
	CHECK(bpfrt_map_create(&oc, &cpu, &err) == 0, "cpumap: %s", err.msg);
	CHECK(bpfrt_map_create(&ox, &xsk, &err) == 0, "xskmap: %s", err.msg);
	CHECK(bpfrt_map_create(&ob, &bad, &err) == -EINVAL, "devmap value 6 bytes refused");
	if (!dev || !dh || !cpu || !xsk)
		return;
	k = 1, v2[0] = 7, v2[1] = 0;
	CHECK(bpfrt_map_update(dev, &k, v2, 0) == 0, "devmap update");
	v2[0] = 0;
	CHECK(bpfrt_map_lookup(dev, &k, v2) == 0 && v2[0] == 7 && v2[1] == 0, "devmap lookup");
	CHECK(bpfrt_map_update(dev, &k, v2, BPFRT_NOEXIST) == -EEXIST, "devmap NOEXIST");
	k = 4;
	CHECK(bpfrt_map_update(dev, &k, v2, 0) == -E2BIG, "devmap out of range");
	CHECK(bpfrt_map_delete(dev, &k) == -EINVAL, "devmap delete out of range");
	k = 2;
	CHECK(bpfrt_map_delete(dev, &k) == 0, "devmap delete of an empty slot is 0");
	CHECK(bpfrt_map_lookup(dev, &k, v2) == -ENOENT, "devmap empty slot");
	v2[0] = 3, v2[1] = 5;
	CHECK(bpfrt_map_update(dev, &k, v2, 0) == -EOPNOTSUPP, "devmap programs not supported");

	k = 10, v = 3;
	CHECK(bpfrt_map_update(dh, &k, &v, BPFRT_EXIST) == 0, "devmap_hash EXIST inserts");
	k = 11;
	CHECK(bpfrt_map_update(dh, &k, &v, 0) == 0, "devmap_hash second");
	k = 12;
	CHECK(bpfrt_map_update(dh, &k, &v, 0) == -E2BIG, "devmap_hash full");
	v = 0;
	CHECK(bpfrt_map_update(dh, &k, &v, 0) == -EINVAL, "devmap_hash ifindex 0");
	CHECK(bpfrt_map_delete(dh, &k) == -ENOENT, "devmap_hash delete absent");

	k = 0, v = 20000;
	CHECK(bpfrt_map_update(cpu, &k, &v, 0) == -EOVERFLOW, "cpumap qsize too big");
	v = 64;
	CHECK(bpfrt_map_update(cpu, &k, &v, 0) == 0, "cpumap update");
	CHECK(bpfrt_map_lookup(cpu, &k, &v) == 0 && v == 64, "cpumap lookup");

	k = 0, v = 0;
	CHECK(bpfrt_map_update(xsk, &k, &v, 0) == -EBADF, "xskmap id 0");
	v = 9;
	CHECK(bpfrt_map_update(xsk, &k, &v, BPFRT_EXIST) == -ENOENT, "xskmap EXIST on empty");
	CHECK(bpfrt_map_update(xsk, &k, &v, 0) == 0, "xskmap update");
	ret = bpfrt_map_lookup(xsk, &k, &v);
	CHECK(ret == -EOPNOTSUPP, "xskmap lookup from user space: %d", ret);
	bpfrt_map_free(dev);
	bpfrt_map_free(dh);
	bpfrt_map_free(cpu);
	bpfrt_map_free(xsk);
}

/* ---- Robustness: random helper calls with random arguments, checked --------------- */

static uint64_t rs = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

/* An immediate that is often a plausible offset, length or delta, sometimes anything. */
static long rnd_arg(void)
{
	switch (rnd() % 5) {
	case 0:
		return (long)(rnd() % 80);
	case 1:
		return (long)(rnd() % 600) - 300;
	case 2:
		return (long)(rnd() % 4096);
	case 3:
		return (long)(rnd() % 8);
	default:
		return (long)(int32_t)rnd();
	}
}

/* Eight calls of the type's helpers, r1 = ctx (rarely not), a stack buffer where one is wanted. */
static char *random_prog(bool xdp)
{
	static const int xdp_ids[] = { 44, 54, 65, 23, 188, 189, 190 };
	static const int skb_ids[] = { 26, 9, 10, 11, 38, 39, 43, 18, 19, 34, 48, 13, 23 };
	size_t cap = 4096, len = 0;
	char *t = malloc(cap);

	len += (size_t)snprintf(t + len, cap - len, "mov %%r6, %%r1\n");
	for (int c = 0; c < 8; c++) {
		int id = xdp ? xdp_ids[rnd() % 7] : skb_ids[rnd() % 13];
		bool buf = id == 189 || id == 190 || id == 26 || id == 9;

		len += (size_t)snprintf(t + len, cap - len,
					"mov %%r1, %s\nmov %%r2, %ld\n%s\nmov %%r4, %ld\nmov %%r5, %ld\n"
					"call %d\n", rnd() % 50 ? "%r6" : "%r10", rnd_arg(),
					buf ? "mov %r3, %r10\nadd %r3, -64" : "mov %r3, 7",
					buf ? (long)(rnd() % 64) + 1 : rnd_arg(), rnd_arg(), id);
	}
	snprintf(t + len, cap - len, "mov %%r0, 2\nexit\n");
	return t;
}

TEST(ctx_random_helper_calls)
{
	static const enum bpfrt_prog_type types[] = {
		BPFRT_PROG_XDP, BPFRT_PROG_SCHED_CLS, BPFRT_PROG_SOCKET_FILTER,
	};
	static uint8_t out[DATA_OUT_CAP];
	unsigned ok = 0, failed = 0;
	struct bpfrt_error err;

	fill_pkt();
	for (int i = 0; i < 300; i++) {
		enum bpfrt_prog_type type = types[i % 3];
		char *text = random_prog(type == BPFRT_PROG_XDP);
		struct bpfrt_prog *p = prog_of(text, type);

		free(text);
		if (!p)
			continue;
		for (size_t m = 0; m < NMODES; m += 2) {	/* the checked modes */
			uint32_t n = 14 + (uint32_t)(rnd() % 400);
			struct bpfrt_test_run_opts o = { .data_in = pkt, .data_size_in = n,
							 .data_out = out, .data_size_out = sizeof(out),
							 .budget = 100000 };
			int ret;

			pkt[12] = (uint8_t)(rnd() % 2 ? 0x81 : 0x88), pkt[13] = 0;	/* VLAN or other */
			ret = test_run(p, m, &o, &err);
			if (ret == 0) {
				ok++;
				CHECK(o.data_size_out <= sizeof(out) && o.retval == 2,
				      "%s: %u bytes out, retval %u", modes[m].name, o.data_size_out,
				      o.retval);
			} else {
				failed++;
				CHECK(err.msg[0] != '\0', "%s: a failure says why (%d)", modes[m].name,
				      ret);
			}
		}
		bpfrt_prog_free(p);
	}
	CHECK(ok > 100 && failed > 10, "%u runs completed, %u failed", ok, failed);
}
