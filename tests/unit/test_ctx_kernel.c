/* test_ctx_kernel.c — XDP, tc and socket filter test runs against the kernel's BPF_PROG_TEST_RUN, result for result. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpfrt.h"
#include "t.h"

/* CASE() below gives defaults, then overrides some of them. */
#pragma GCC diagnostic ignored "-Woverride-init"

/*
 * The same object is loaded by libbpf into the kernel and by bpfrt four
 * times (interpreter and JIT, checked and unchecked: the kernel verified
 * these programs). Each input runs on all five; retval, the error code,
 * data_out (bytes and size), ctx_out and the "out" map must agree.
 */
#define NCFG 4
#define OUT_MAX 48
#define DATA_CAP 8192

struct side {
	struct bpf_object *kobj;
	struct bpfrt_obj *obj[NCFG];
};

struct input {
	const void *data;
	uint32_t dlen;
	const void *ctx;
	uint32_t clen;
	uint32_t dcap, ccap;	/* data_size_out, ctx_size_out given */
	bool want_ctx_out;
	uint32_t flags, repeat;
};

struct result {
	int ret;
	uint32_t retval;
	uint32_t dsize, csize;
	uint8_t data[DATA_CAP];
	uint8_t ctx[256];
	uint64_t out[OUT_MAX];
	uint32_t nout;
};

static const struct { enum bpfrt_engine engine; bool checked; const char *name; } cfgs[NCFG] = {
	{ BPFRT_ENGINE_INTERP, true, "interp/checked" },
	{ BPFRT_ENGINE_INTERP, false, "interp/unchecked" },
	{ BPFRT_ENGINE_JIT, true, "jit/checked" },
	{ BPFRT_ENGINE_JIT, false, "jit/unchecked" },
};

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* ---- Opening both sides ------------------------------------------------------ */

static bool side_open(struct side *s, const char *name, const char **skip)
{
	struct bpfrt_error err;
	char path[512];
	int ret;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "%s/tests/bpf/%s.o", t_builddir(), name);
	libbpf_set_print(quiet);
	s->kobj = bpf_object__open_file(path, NULL);
	if (!s->kobj || libbpf_get_error(s->kobj)) {
		s->kobj = NULL;
		*skip = "libbpf cannot open the object";
		return false;
	}
	ret = bpf_object__load(s->kobj);
	if (ret) {
		bpf_object__close(s->kobj);
		s->kobj = NULL;
		*skip = "the kernel refused to load the object (no bpf() or no privileges)";
		return false;
	}
	for (int c = 0; c < NCFG; c++) {
		ret = bpfrt_obj_open(path, NULL, &s->obj[c], &err);
		if (!CHECK(ret == 0, "bpfrt open %s: %s", path, err.msg))
			return false;
		ret = bpfrt_obj_load(s->obj[c], &err);
		if (!CHECK(ret == 0, "bpfrt load %s: %s", path, err.msg))
			return false;
		for (size_t i = 0; i < bpfrt_obj_prog_count(s->obj[c]); i++)
			bpfrt_prog_use_builtin_helpers(bpfrt_obj_prog_at(s->obj[c], i, NULL));
	}
	return true;
}

static void side_close(struct side *s)
{
	for (int c = 0; c < NCFG; c++)
		bpfrt_obj_close(s->obj[c]);
	if (s->kobj)
		bpf_object__close(s->kobj);
}

/* Set key -> value (u32 each) in map `name` on every side. */
static void side_map_set(struct side *s, const char *name, uint32_t key, uint32_t value)
{
	struct bpf_map *km = bpf_object__find_map_by_name(s->kobj, name);
	int ret = bpf_map_update_elem(bpf_map__fd(km), &key, &value, BPF_ANY);

	CHECK(ret == 0, "kernel: update %s[%u] = %u: %d", name, key, value, ret);
	for (int c = 0; c < NCFG; c++) {
		ret = bpfrt_map_update(bpfrt_obj_map_by_name(s->obj[c], name), &key, &value, 0);
		CHECK(ret == 0, "bpfrt: update %s[%u] = %u: %d", name, key, value, ret);
	}
}

/* ---- Running ------------------------------------------------------------------- */

static void out_reset(struct side *s, uint32_t n)
{
	struct bpf_map *km = bpf_object__find_map_by_name(s->kobj, "out");
	uint64_t zero = 0;

	for (uint32_t k = 0; k < n; k++) {
		bpf_map_update_elem(bpf_map__fd(km), &k, &zero, BPF_ANY);
		for (int c = 0; c < NCFG; c++)
			bpfrt_map_update(bpfrt_obj_map_by_name(s->obj[c], "out"), &k, &zero, 0);
	}
}

static void run_kernel(struct side *s, const char *prog, const struct input *in,
		       struct result *r)
{
	struct bpf_program *p = bpf_object__find_program_by_name(s->kobj, prog);
	struct bpf_map *km = bpf_object__find_map_by_name(s->kobj, "out");
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = in->data, .data_size_in = in->dlen,
		    .data_out = r->data, .data_size_out = in->dcap, .ctx_in = in->ctx,
		    .ctx_size_in = in->clen, .ctx_out = in->want_ctx_out ? r->ctx : NULL,
		    .ctx_size_out = in->ccap, .flags = in->flags, .repeat = in->repeat);

	memset(r, 0, sizeof(*r));
	r->ret = bpf_prog_test_run_opts(bpf_program__fd(p), &t);
	if (r->ret < 0 && errno && r->ret == -1)
		r->ret = -errno;
	r->retval = t.retval;
	r->dsize = t.data_size_out;
	r->csize = t.ctx_size_out;
	for (uint32_t k = 0; k < r->nout || k < OUT_MAX; k++)
		if (bpf_map_lookup_elem(bpf_map__fd(km), &k, &r->out[k]))
			break;
}

static void run_bpfrt(struct side *s, int c, const char *prog, const struct input *in,
		      struct result *r, struct bpfrt_error *err)
{
	struct bpfrt_prog *p = bpfrt_obj_prog_by_name(s->obj[c], prog);
	struct bpfrt_map *m = bpfrt_obj_map_by_name(s->obj[c], "out");
	BPFRT_OPTS(bpfrt_test_run_opts, t, .engine = cfgs[c].engine, .checked = cfgs[c].checked,
		   .data_in = in->data, .data_size_in = in->dlen, .data_out = r->data,
		   .data_size_out = in->dcap, .ctx_in = in->ctx, .ctx_size_in = in->clen,
		   .ctx_out = in->want_ctx_out ? r->ctx : NULL, .ctx_size_out = in->ccap,
		   .flags = in->flags, .repeat = in->repeat);

	memset(r, 0, sizeof(*r));
	r->ret = bpfrt_prog_test_run(p, &t, err);
	r->retval = t.retval;
	r->dsize = t.data_size_out;
	r->csize = t.ctx_size_out;
	for (uint32_t k = 0; k < OUT_MAX; k++)
		if (bpfrt_map_lookup(m, &k, &r->out[k]))
			break;
}

static void hex(const uint8_t *p, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 3 < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%02x", p[i]);
	buf[o] = '\0';
}

/* The first byte where a and b differ, or UINT32_MAX. */
static uint32_t first_diff(const void *a, const void *b, uint32_t n)
{
	const uint8_t *x = a, *y = b;

	for (uint32_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return i;
	return UINT32_MAX;
}

/* Compare; on the first difference say what and return false. One check per aspect. */
static bool same(const char *prog, const char *cfg, const struct input *in,
		 const struct result *k, const struct result *b, const struct bpfrt_error *err)
{
	char pk[200];

	hex(in->data, in->dlen < 64 ? in->dlen : 64, pk, sizeof(pk));
	if (!CHECK(k->ret == b->ret, "%s %s: kernel returned %d, bpfrt %d (%s); packet %s",
		   prog, cfg, k->ret, b->ret, err->msg, pk))
		return false;
	if (k->ret && k->ret != -ENOSPC)
		return true;
	if (!CHECK(k->retval == b->retval, "%s %s: retval kernel %u, bpfrt %u; packet %s",
		   prog, cfg, k->retval, b->retval, pk))
		return false;
	if (!CHECK(k->dsize == b->dsize, "%s %s: data_size_out kernel %u, bpfrt %u; packet %s",
		   prog, cfg, k->dsize, b->dsize, pk))
		return false;
	{
		uint32_t n = k->dsize, i = first_diff(k->data, b->data, n < in->dcap || !in->dcap
						      ? n : in->dcap);

		if (!CHECK(i == UINT32_MAX, "%s %s: data_out byte %u: kernel %#x, bpfrt %#x; "
			   "packet %s", prog, cfg, i, i < DATA_CAP ? k->data[i] : 0,
			   i < DATA_CAP ? b->data[i] : 0, pk))
			return false;
	}
	if (k->ret)
		return true;
	if (in->want_ctx_out) {
		if (!CHECK(k->csize == b->csize, "%s %s: ctx_size_out kernel %u, bpfrt %u",
			   prog, cfg, k->csize, b->csize))
			return false;
		{
			uint32_t i = first_diff(k->ctx, b->ctx, k->csize < in->ccap ? k->csize
								      : in->ccap);

			if (!CHECK(i == UINT32_MAX, "%s %s: ctx_out byte %u: kernel %#x, bpfrt "
				   "%#x; packet %s", prog, cfg, i, i < 256 ? k->ctx[i] : 0,
				   i < 256 ? b->ctx[i] : 0, pk))
				return false;
		}
	}
	{
		uint32_t d = first_diff(k->out, b->out, sizeof(k->out));
		uint32_t i = d == UINT32_MAX ? OUT_MAX : d / 8;

		return CHECK(i >= OUT_MAX, "%s %s: out[%u]: kernel %#llx, bpfrt %#llx; packet %s",
			     prog, cfg, i, i < OUT_MAX ? (unsigned long long)k->out[i] : 0,
			     i < OUT_MAX ? (unsigned long long)b->out[i] : 0, pk);
	}
}

/* Run in on prog everywhere and compare; false at the first difference. */
static bool compare(struct side *s, const char *prog, const struct input *in)
{
	static struct result k, b;
	struct bpfrt_error err;

	for (int c = 0; c < NCFG; c++) {
		out_reset(s, OUT_MAX);
		if (c == 0)
			run_kernel(s, prog, in, &k);
		out_reset(s, OUT_MAX);
		run_bpfrt(s, c, prog, in, &b, &err);
		if (!same(prog, cfgs[c].name, in, &k, &b, &err))
			return false;
	}
	return true;
}

/* ---- Packets ---------------------------------------------------------------- */

/* A random frame, shaped now and then like IPv4 (UDP, TCP), IPv6 or VLAN, else random bytes. */
static uint32_t random_packet(uint8_t *p, uint32_t max)
{
	uint32_t len = 14 + (uint32_t)(rnd() % (rnd() % 4 ? 200 : max - 14));
	uint32_t shape = (uint32_t)(rnd() % 8);

	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
	switch (rnd() % 4) {
	case 0:
		memset(p, 0, 6);	/* the loopback device's own address */
		break;
	case 1:
		memset(p, 0xff, 6);
		break;
	case 2:
		p[0] |= 1;
		break;
	}
	if (shape < 4) {
		p[12] = 0x08, p[13] = 0x00;
		if (len >= 34) {
			p[14] = 0x45 + (uint8_t)(rnd() % 2);
			p[23] = shape == 0 ? 6 : shape == 1 ? 17 : (uint8_t)rnd();
		}
	} else if (shape == 4) {
		p[12] = 0x86, p[13] = 0xdd;
	} else if (shape == 5) {
		p[12] = 0x81, p[13] = 0x00;
		if (len >= 18)
			p[16] = rnd() % 2 ? 0x81 : 0x08, p[17] = 0x00;
	} else if (shape == 6) {
		p[12] = 0x00, p[13] = (uint8_t)rnd();	/* an 802.3 length */
	}
	return len;
}

/* ---- XDP ------------------------------------------------------------------- */

static const char *const xdp_progs[] = {
	"xdp_fields", "xdp_adjust", "xdp_redir", "xdp_bytes", "xdp_parse",
};

static void xdp_maps(struct side *s)
{
	for (uint32_t k = 0; k < 4; k++)
		side_map_set(s, "devs", k, 1);
	side_map_set(s, "devhash", 1, 1);
	side_map_set(s, "devhash", 5, 1);
	side_map_set(s, "cpus", 0, 64);
}

TEST(ctx_kernel_xdp)
{
	static uint8_t pkt[4096];
	struct side s;
	const char *skip = NULL;
	unsigned runs = 0;

	if (!side_open(&s, "xdp_progs", &skip)) {
		if (skip)
			printf("  skip ctx_kernel_xdp: %s\n", skip);
		side_close(&s);
		return;
	}
	xdp_maps(&s);
	for (size_t p = 0; p < sizeof(xdp_progs) / sizeof(xdp_progs[0]); p++) {
		for (int i = 0; i < 400; i++) {
			struct xdp_md md = { 0 };
			struct input in = { .data = pkt, .dcap = DATA_CAP };

			in.dlen = random_packet(pkt, 1600);
			switch (rnd() % 4) {
			case 1:	/* metadata in front */
				md.data = (uint32_t)(rnd() % 9) * 4;
				if (md.data + 14 > in.dlen)
					md.data = 0;
				md.data_end = in.dlen;
				in.ctx = &md, in.clen = sizeof(md);
				in.want_ctx_out = true, in.ccap = sizeof(md);
				break;
			case 2:	/* arriving on loopback, queue 0 */
				md.data_end = in.dlen;
				md.ingress_ifindex = 1;
				in.ctx = &md, in.clen = sizeof(md);
				in.want_ctx_out = true, in.ccap = sizeof(md);
				break;
			}
			runs++;
			if (!compare(&s, xdp_progs[p], &in))
				break;
		}
	}
	/* The parser's counts, accumulated over all its packets. */
	{
		struct bpf_map *km = bpf_object__find_map_by_name(s.kobj, "counts");
		uint32_t key, nk = 0;
		uint64_t kv, bv;

		for (key = 0; key < 256; key++) {
			if (bpf_map_lookup_elem(bpf_map__fd(km), &key, &kv))
				continue;
			nk++;
			for (int c = 0; c < NCFG; c++) {
				int ret = bpfrt_map_lookup(bpfrt_obj_map_by_name(s.obj[c], "counts"),
							   &key, &bv);
				CHECK(ret == 0 && bv == kv, "xdp_parse %s: counts[%u]: kernel %llu, "
				      "bpfrt %d/%llu", cfgs[c].name, key, (unsigned long long)kv, ret,
				      (unsigned long long)bv);
			}
		}
		CHECK(nk > 3, "xdp_parse counted %u protocols only", nk);
	}
	CHECK(runs >= 2000, "%u XDP inputs compared", runs);
	side_close(&s);
}

/* Inputs the kernel refuses, refused the same way; outputs too small, filled the same way. */
TEST(ctx_kernel_xdp_errors)
{
	static uint8_t pkt[4096];
	struct side s;
	const char *skip = NULL;
	struct xdp_md md;
	uint8_t big[64] = { 0 };
	struct input in;

	if (!side_open(&s, "xdp_progs", &skip)) {
		if (skip)
			printf("  skip ctx_kernel_xdp_errors: %s\n", skip);
		side_close(&s);
		return;
	}
	for (int i = 0; i < 100; i++)
		pkt[i] = (uint8_t)rnd();
#define CASE(...) do { in = (struct input){ .data = pkt, .dlen = 100, .dcap = DATA_CAP, \
					     __VA_ARGS__ }; compare(&s, "xdp_fields", &in); } while (0)
	CASE(.dlen = 13);
	CASE(.dlen = 0, .data = NULL);
	CASE(.dlen = 3520);
	md = (struct xdp_md){ .data_end = 3520, .data = 8 };
	CASE(.dlen = 3520, .ctx = &md, .clen = sizeof(md));
	CASE(.flags = 1u << 5);
	CASE(.dcap = 50);		/* -ENOSPC: 50 bytes copied, the size says 100 */
	md = (struct xdp_md){ .data_end = 100, .data_meta = 4 };
	CASE(.ctx = &md, .clen = sizeof(md));
	md = (struct xdp_md){ .data_end = 101 };
	CASE(.ctx = &md, .clen = sizeof(md));
	md = (struct xdp_md){ .data_end = 100, .data = 216 };
	CASE(.ctx = &md, .clen = sizeof(md));
	md = (struct xdp_md){ .data_end = 100, .data = 64 };
	CASE(.ctx = &md, .clen = sizeof(md));
	md = (struct xdp_md){ .data_end = 100, .data = 6 };
	CASE(.ctx = &md, .clen = sizeof(md));
	md = (struct xdp_md){ .data_end = 100, .data = 36 };
	CASE(.ctx = &md, .clen = sizeof(md));
	md = (struct xdp_md){ .data_end = 100, .egress_ifindex = 1 };
	CASE(.ctx = &md, .clen = sizeof(md));
	md = (struct xdp_md){ .data_end = 100, .rx_queue_index = 1 };
	CASE(.ctx = &md, .clen = sizeof(md));
	md = (struct xdp_md){ .data_end = 100, .ingress_ifindex = 1, .rx_queue_index = 1000 };
	CASE(.ctx = &md, .clen = sizeof(md));
	md = (struct xdp_md){ .data_end = 100, .ingress_ifindex = 0x7ffffff0 };
	CASE(.ctx = &md, .clen = sizeof(md));
	md = (struct xdp_md){ .data_end = 100, .data = 8 };
	CASE(.ctx = &md, .clen = sizeof(md), .want_ctx_out = true, .ccap = 8);	/* ctx -ENOSPC */
	memcpy(big, &(struct xdp_md){ .data_end = 100 }, sizeof(md));
	CASE(.ctx = big, .clen = sizeof(big), .want_ctx_out = true, .ccap = sizeof(md));
	big[40] = 1;
	CASE(.ctx = big, .clen = sizeof(big));	/* -E2BIG */
	CASE(.repeat = 5);
#undef CASE
	side_close(&s);
}

/* ---- tc and socket filters --------------------------------------------------- */

static const char *const skb_progs[] = {
	"tc_fields", "sf_fields", "sf_load", "tc_csum", "tc_change", "tc_ldabs",
};

TEST(ctx_kernel_skb)
{
	static uint8_t pkt[4096];
	struct side s;
	const char *skip = NULL;
	unsigned runs = 0;

	if (!side_open(&s, "ctx_skb", &skip)) {
		if (skip)
			printf("  skip ctx_kernel_skb: %s\n", skip);
		side_close(&s);
		return;
	}
	for (size_t p = 0; p < sizeof(skb_progs) / sizeof(skb_progs[0]); p++) {
		for (int i = 0; i < 400; i++) {
			struct __sk_buff sk;
			struct input in = { .data = pkt, .dcap = DATA_CAP };

			memset(&sk, 0, sizeof(sk));
			in.dlen = random_packet(pkt, 1600);
			if (in.dlen == 14 && p == 1)
				in.dlen = 15;
			if (rnd() % 2) {
				sk.mark = (uint32_t)rnd();
				sk.priority = (uint32_t)rnd() % 8;
				sk.ingress_ifindex = (uint32_t)rnd() % 3;
				sk.ifindex = rnd() % 2;
				for (int j = 0; j < 5; j++)
					sk.cb[j] = (uint32_t)rnd();
				sk.tstamp = rnd() % 1000;
				sk.gso_segs = (uint32_t)rnd() % 4;
				sk.gso_size = (uint32_t)rnd() % 1500;
				sk.hwtstamp = rnd() % 100;
				sk.wire_len = rnd() % 2 ? 0 : in.dlen + 10;
				in.ctx = &sk, in.clen = sizeof(sk);
				in.want_ctx_out = true, in.ccap = sizeof(sk);
			}
			runs++;
			if (!compare(&s, skb_progs[p], &in))
				break;
		}
	}
	CHECK(runs >= 2000, "%u skb inputs compared", runs);
	side_close(&s);
}

TEST(ctx_kernel_skb_errors)
{
	static uint8_t pkt[4096];
	struct side s;
	const char *skip = NULL;
	struct __sk_buff sk;
	struct input in;

	if (!side_open(&s, "ctx_skb", &skip)) {
		if (skip)
			printf("  skip ctx_kernel_skb_errors: %s\n", skip);
		side_close(&s);
		return;
	}
	for (int i = 0; i < 100; i++)
		pkt[i] = (uint8_t)rnd();
	pkt[12] = 0x08, pkt[13] = 0;
#define CASE(prog, ...) do { in = (struct input){ .data = pkt, .dlen = 100, .dcap = DATA_CAP, \
					       __VA_ARGS__ }; compare(&s, prog, &in); } while (0)
	CASE("tc_fields", .dlen = 13);
	CASE("tc_fields", .dlen = 14);
	CASE("sf_fields", .dlen = 14);	/* nothing past the Ethernet header: -EINVAL */
	CASE("tc_fields", .dlen = 3712);
	CASE("tc_fields", .dlen = 3713);
	CASE("tc_fields", .flags = 2);
	CASE("tc_fields", .dcap = 20);
	CASE("sf_fields", .dcap = 20);
	memset(&sk, 0, sizeof(sk));
	sk.len = 5;
	CASE("tc_fields", .ctx = &sk, .clen = sizeof(sk));
	memset(&sk, 0, sizeof(sk));
	sk.tc_index = 1;
	CASE("tc_fields", .ctx = &sk, .clen = sizeof(sk));
	memset(&sk, 0, sizeof(sk));
	sk.wire_len = 50;
	CASE("tc_fields", .ctx = &sk, .clen = sizeof(sk));
	memset(&sk, 0, sizeof(sk));
	sk.wire_len = 70000;
	CASE("tc_fields", .ctx = &sk, .clen = sizeof(sk));
	memset(&sk, 0, sizeof(sk));
	sk.gso_segs = 70000;
	CASE("tc_fields", .ctx = &sk, .clen = sizeof(sk));
	memset(&sk, 0, sizeof(sk));
	sk.ifindex = 0x7ffffff0;
	CASE("tc_fields", .ctx = &sk, .clen = sizeof(sk));
	memset(&sk, 0, sizeof(sk));
	sk.mark = 7;
	CASE("tc_fields", .ctx = &sk, .clen = sizeof(sk), .want_ctx_out = true, .ccap = 16);
	CASE("tc_fields", .ctx = &sk, .clen = 12, .want_ctx_out = true, .ccap = sizeof(sk));
	CASE("sf_fields", .repeat = 3);
#undef CASE
	side_close(&s);
}

/* ---- Redirect maps' user-space face ------------------------------------------- */

/*
 * Random updates, lookups, deletes and key walks on devmap, devmap_hash and
 * cpumap, in the kernel and in bpfrt: every result and value identical.
 * Values are ifindex 0 or 1 (loopback: the kernel wants a real device) and
 * queue sizes around the kernel's limit.
 */
static void redirect_map_ops(enum bpfrt_map_type type, uint32_t vs, uint32_t max)
{
	struct bpfrt_map *m = NULL;
	struct bpfrt_error err;
	int kfd, ops = 0;
	BPFRT_OPTS(bpfrt_map_opts, o, .type = type, .key_size = 4, .value_size = vs,
		   .max_entries = max);

	kfd = bpf_map_create((enum bpf_map_type)type, NULL, 4, vs, max, NULL);
	if (kfd < 0) {
		printf("  skip redirect maps (type %u): the kernel cannot create them (%d)\n",
		       type, kfd);
		return;
	}
	if (!CHECK(bpfrt_map_create(&o, &m, &err) == 0, "create type %u: %s", type, err.msg)) {
		close(kfd);
		return;
	}
	for (int i = 0; i < 3000; i++) {
		uint32_t key = (uint32_t)(rnd() % (max + 2)), next_k = 0, next_b = 0;
		uint32_t val[2] = { 0, 0 }, vk[2] = { 0, 0 }, vb[2] = { 0, 0 };
		uint64_t flags = rnd() % 4;
		int kr, br, op = (int)(rnd() % 4);

		if (type == BPFRT_MAP_CPUMAP)
			val[0] = (uint32_t[]){ 0, 64, 16384, 16385 }[rnd() % 4];
		else
			val[0] = (uint32_t)(rnd() % 3 ? 1 : 0);
		switch (op) {
		case 0:
			kr = bpf_map_update_elem(kfd, &key, val, flags);
			br = bpfrt_map_update(m, &key, val, flags);
			break;
		case 1:
			kr = bpf_map_lookup_elem(kfd, &key, vk);
			br = bpfrt_map_lookup(m, &key, vb);
			break;
		case 2:
			kr = bpf_map_delete_elem(kfd, &key);
			br = bpfrt_map_delete(m, &key);
			break;
		default: {
			uint32_t *kp = rnd() % 4 ? &key : NULL;

			kr = bpf_map_get_next_key(kfd, kp, &next_k);
			br = bpfrt_map_get_next_key(m, kp, &next_b);
			if (type == BPFRT_MAP_DEVMAP_HASH)	/* hash orders differ */
				next_k = next_b = 0, kr = br = 0;
			break;
		}
		}
		kr = kr < 0 ? -errno : kr;
		ops++;
		if (!CHECK(kr == br && memcmp(vk, vb, sizeof(vk)) == 0 && next_k == next_b,
			   "type %u op %d key %u value %u flags %llu: kernel %d (%u %u, next %u), "
			   "bpfrt %d (%u %u, next %u)", type, op, key, val[0],
			   (unsigned long long)flags, kr, vk[0], vk[1], next_k, br, vb[0], vb[1],
			   next_b))
			break;
	}
	CHECK(ops >= 3000, "%d operations compared", ops);
	bpfrt_map_free(m);
	close(kfd);
}

TEST(ctx_kernel_redirect_maps)
{
	libbpf_set_print(quiet);
	redirect_map_ops(BPFRT_MAP_DEVMAP, 4, 8);
	redirect_map_ops(BPFRT_MAP_DEVMAP, 8, 8);
	redirect_map_ops(BPFRT_MAP_DEVMAP_HASH, 4, 8);
	redirect_map_ops(BPFRT_MAP_CPUMAP, 4, 4);
}
