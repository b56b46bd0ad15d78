/* test_jit_layout.c — JIT code layout and peepholes: blocks that end the program placed after the body; both engines, both modes agree. */
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"
#include "t.h"

#define I(c, d, s, o, i) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) }
#define MAXI 256

struct rng {
	uint64_t s;
};

static uint32_t rnd(struct rng *r, uint32_t n)
{
	r->s = r->s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(r->s >> 33) % n;
}

struct gen {
	struct bpfrt_insn in[MAXI];
	size_t n;
	size_t cold_at[32];	/* slots inside cold blocks, for jumps into them */
	size_t ncold;
};

static void put(struct gen *g, struct bpfrt_insn in)
{
	if (g->n < MAXI)
		g->in[g->n++] = in;
}

/* One ALU instruction on r0, r3..r9, with a constant or a register. */
static void gen_alu(struct gen *g, struct rng *r)
{
	static const uint8_t ops[] = { 0x00, 0x10, 0x20, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0 };
	static const uint8_t regs[] = { 0, 3, 4, 5, 6, 7, 8, 9 };
	uint8_t op = ops[rnd(r, sizeof(ops))], cls = rnd(r, 3) ? 0x07 : 0x04;
	unsigned d = regs[rnd(r, sizeof(regs))], s = regs[rnd(r, sizeof(regs))];
	int32_t k = (int32_t)rnd(r, 64) - 8;

	if (op == 0x60 || op == 0x70 || op == 0xc0)
		k &= 31;
	if (rnd(r, 3) == 0 && op != 0x60 && op != 0x70 && op != 0xc0)
		put(g, (struct bpfrt_insn)I((uint8_t)(cls | op | 0x08), (uint8_t)d, (uint8_t)s, 0, 0));
	else
		put(g, (struct bpfrt_insn)I((uint8_t)(cls | op), (uint8_t)d, 0, 0, k));
}

/* A conditional jump on r0 or r2..r9 against a constant or a register. */
static struct bpfrt_insn gen_jcond(struct rng *r, int16_t off)
{
	static const uint8_t ops[] = { 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0,
				       0xc0, 0xd0 };
	static const uint8_t regs[] = { 0, 2, 3, 4, 5, 6, 7, 8, 9 };
	uint8_t cls = rnd(r, 3) ? 0x05 : 0x06;
	uint8_t op = ops[rnd(r, sizeof(ops))];
	unsigned d = regs[rnd(r, sizeof(regs))], s = regs[rnd(r, sizeof(regs))];

	if (rnd(r, 2))
		return (struct bpfrt_insn)I((uint8_t)(cls | op | 0x08), (uint8_t)d, (uint8_t)s,
					    off, 0);
	return (struct bpfrt_insn)I((uint8_t)(cls | op), (uint8_t)d, 0, off,
				    (int32_t)rnd(r, 80) - 10);
}

/*
 * r0 = 0; r3..r9 from len; four stack slots written; then units: ALU,
 * `if c goto +m; m - 1 instructions; exit` (a cold block), stack
 * traffic, a jump into an earlier cold block; exit.
 */
static void gen_prog(struct gen *g, struct rng *r)
{
	g->n = g->ncold = 0;
	put(g, (struct bpfrt_insn)I(0xb7, 0, 0, 0, 0));
	for (unsigned k = 3; k <= 9; k++) {
		put(g, (struct bpfrt_insn)I(0xbf, (uint8_t)k, 2, 0, 0));
		put(g, (struct bpfrt_insn)I(0x27, (uint8_t)k, 0, 0, (int32_t)(k * 7 + 1)));
	}
	for (int k = 1; k <= 4; k++)
		put(g, (struct bpfrt_insn)I(0x7b, 10, (uint8_t)(2 + k), (int16_t)(-8 * k), 0));
	for (unsigned u = rnd(r, 24) + 4; u-- > 0 && g->n + 12 < MAXI;) {
		unsigned kind = rnd(r, 8);

		if (kind < 3) {
			gen_alu(g, r);
		} else if (kind < 6) {
			unsigned m = rnd(r, 4);

			put(g, gen_jcond(r, (int16_t)(m + 1)));
			for (unsigned k = 0; k < m; k++) {
				if (g->ncold < 32)
					g->cold_at[g->ncold++] = g->n;
				if (rnd(r, 4) == 0)
					put(g, (struct bpfrt_insn)I(0x79, 0, 10,
								    (int16_t)(-8 * (1 + rnd(r, 4))), 0));
				else
					gen_alu(g, r);
			}
			if (g->ncold < 32)
				g->cold_at[g->ncold++] = g->n;
			put(g, (struct bpfrt_insn)I(0x95, 0, 0, 0, 0));
		} else if (kind == 6) {
			int16_t off = (int16_t)(-8 * (1 + rnd(r, 4)));

			if (rnd(r, 2))
				put(g, (struct bpfrt_insn)I(0x7b, 10, (uint8_t)(3 + rnd(r, 7)), off, 0));
			else
				put(g, (struct bpfrt_insn)I(0x79, (uint8_t)(3 + rnd(r, 7)), 10, off, 0));
		} else if (g->ncold) {
			size_t t = g->cold_at[rnd(r, (uint32_t)g->ncold)];

			put(g, gen_jcond(r, (int16_t)((int64_t)t - (int64_t)g->n - 1)));
		}
	}
	put(g, (struct bpfrt_insn)I(0x95, 0, 0, 0, 0));
}

struct outcome {
	int ret, insn;
	uint64_t r0, insns;
};

static struct outcome run(struct bpfrt_prog *p, enum bpfrt_engine e, bool checked,
			  uint64_t len, uint64_t budget)
{
	static uint8_t ctx[64];
	BPFRT_OPTS(bpfrt_run_opts, o, .engine = e, .checked = checked, .ctx = ctx,
		   .ctx_len = len, .budget = budget);
	struct bpfrt_error err;
	struct outcome out;

	out.ret = bpfrt_prog_run(p, &o, &err);
	out.insn = err.insn;
	out.r0 = o.retval;
	out.insns = o.insns;
	return out;
}

static bool same(struct outcome a, struct outcome b)
{
	return a.ret == b.ret && a.insn == b.insn && a.r0 == b.r0 && a.insns == b.insns;
}

/* Does slot i's code lie after slot `after`'s, past the body's straight line? */
static bool placed_after(struct bpfrt_prog *p, size_t i, size_t after)
{
	const uint32_t *off;
	const void *code;
	size_t len;
	struct bpfrt_error err;

	if (bpfrt_prog_jited(p, false, &code, &len, &off, &err))
		return false;
	return off[i] > off[after] && off[i] < off[bpfrt_prog_insn_cnt(p)];
}

TEST(jit_cold_blocks)
{
	/* r0 = 1; if len > 5 goto +2; r0 = 7; exit; r0 += len; exit */
	static const struct bpfrt_insn small[] = {
		I(0xb7, 0, 0, 0, 1), I(0x25, 2, 0, 2, 5), I(0xb7, 0, 0, 0, 7),
		I(0x95, 0, 0, 0, 0), I(0x0f, 0, 2, 0, 0), I(0x95, 0, 0, 0, 0),
	};
	struct bpfrt_prog *p = NULL;
	struct bpfrt_error err;
	struct rng r = { 12345 };
	struct gen g;
	unsigned progs = 0, runs = 0;

	if (!CHECK(bpfrt_prog_new(small, 6, NULL, &p, &err) == 0, "%s", err.msg))
		return;
	for (uint64_t len = 0; len < 10; len++)
		for (int c = 0; c < 2; c++) {
			struct outcome o = run(p, BPFRT_ENGINE_JIT, c, len, 0);

			CHECK(o.ret == 0 && o.r0 == (len > 5 ? 1 + len : 7),
			      "small, checked %d len %llu: %llu", c, (unsigned long long)len,
			      (unsigned long long)o.r0);
		}
	CHECK(placed_after(p, 2, 4), "the block that ends the program is not after the body");
	bpfrt_prog_free(p);

	for (unsigned t = 0; t < 600; t++) {
		gen_prog(&g, &r);
		if (!CHECK(bpfrt_prog_new(g.in, g.n, NULL, &p, &err) == 0, "%s", err.msg))
			continue;
		progs++;
		for (uint64_t len = 0; len < 64; len += 9)
			for (int c = 0; c < 2; c++) {
				struct outcome a = run(p, BPFRT_ENGINE_INTERP, c, len, 0);
				struct outcome b = run(p, BPFRT_ENGINE_JIT, c, len, 0);

				runs++;
				CHECK(same(a, b), "program %u, checked %d, len %llu: interp %d %#llx "
				      "%llu, jit %d %#llx %llu", t, c, (unsigned long long)len,
				      a.ret, (unsigned long long)a.r0, (unsigned long long)a.insns,
				      b.ret, (unsigned long long)b.r0, (unsigned long long)b.insns);
				/* checked: every budget up to what the run took stops alike */
				for (uint64_t bud = 1; c && bud <= a.insns && bud < 40; bud++) {
					struct outcome x = run(p, BPFRT_ENGINE_INTERP, true, len, bud);
					struct outcome y = run(p, BPFRT_ENGINE_JIT, true, len, bud);

					runs++;
					CHECK(same(x, y), "program %u, budget %llu, len %llu: insn "
					      "%d/%d ret %d/%d", t, (unsigned long long)bud,
					      (unsigned long long)len, x.insn, y.insn, x.ret, y.ret);
				}
			}
		bpfrt_prog_free(p);
	}
	printf("  %u random programs with cold blocks, %u runs compared\n", progs, runs);
}

/* ---- Rotates ------------------------------------------------------------ */

/* Does the unchecked code hold `rol ecx/rcx, k`? */
static bool has_rol_rcx(struct bpfrt_prog *p, bool w, unsigned k)
{
	const uint32_t *off;
	const void *code;
	size_t len;
	struct bpfrt_error err;
	const uint8_t *c;

	if (bpfrt_prog_jited(p, false, &code, &len, &off, &err))
		return false;
	c = code;
	for (size_t i = 0; i + 4 <= len; i++) {
		size_t at = i + (w ? 1 : 0);

		if (w && c[i] != 0x48)
			continue;
		if ((k == 1 && c[at] == 0xd1 && c[at + 1] == 0xc1) ||
		    (c[at] == 0xc1 && c[at + 1] == 0xc1 && c[at + 2] == k))
			return true;
	}
	return false;
}

/*
 * r4 = the u64 at ctx, r5 = the u64 at ctx + 8; t = r4 (mov64 or mov32);
 * t op1= a; r4 op2= b; r4 |= t; then r0 = r4 ^ (t live ? t : 0) ^ r5.
 */
static void rot_prog(struct bpfrt_insn *in, bool w, bool mov64, bool shr_first,
		     unsigned a, unsigned b, bool t_live)
{
	uint8_t cls = w ? 0x07 : 0x04;
	size_t n = 0;

	in[n++] = (struct bpfrt_insn)I(0x79, 4, 1, 0, 0);
	in[n++] = (struct bpfrt_insn)I(0x79, 5, 1, 8, 0);
	in[n++] = (struct bpfrt_insn)I(mov64 ? 0xbf : 0xbc, 3, 4, 0, 0);
	in[n++] = (struct bpfrt_insn)I((uint8_t)(cls | (shr_first ? 0x70 : 0x60)), 3, 0, 0,
				       (int32_t)a);
	in[n++] = (struct bpfrt_insn)I((uint8_t)(cls | (shr_first ? 0x60 : 0x70)), 4, 0, 0,
				       (int32_t)b);
	in[n++] = (struct bpfrt_insn)I((uint8_t)(cls | 0x48), 4, 3, 0, 0);
	if (!t_live)
		in[n++] = (struct bpfrt_insn)I(0xb7, 3, 0, 0, 0);
	in[n++] = (struct bpfrt_insn)I(0xbf, 0, 4, 0, 0);
	in[n++] = (struct bpfrt_insn)I(0xaf, 0, 3, 0, 0);
	in[n++] = (struct bpfrt_insn)I(0xaf, 0, 5, 0, 0);
	in[n++] = (struct bpfrt_insn)I(0x95, 0, 0, 0, 0);
}

static const uint64_t rot_xs[] = { 0, 1, 0x8000000000000000ull, 0xffffffffffffffffull,
				   0x0123456789abcdefull, 0xfedcba9876543210ull,
				   0x00000000ffffffffull, 0xffffffff00000000ull,
				   0x80000001ull, 0x7fffffff80000000ull };

#define NXS (sizeof(rot_xs) / sizeof(rot_xs[0]))

/* One rotate program on every x, both engines and modes; did it become a rol? */
static bool rot_case(bool w, bool mov64, bool shr_first, unsigned a, unsigned b, bool live)
{
	struct bpfrt_insn in[16];
	struct bpfrt_prog *p = NULL;
	struct bpfrt_error err;
	bool rol;

	rot_prog(in, w, mov64, shr_first, a, b, live);
	if (!CHECK(bpfrt_prog_new(in, live ? 10 : 11, NULL, &p, &err) == 0, "%s", err.msg))
		return false;
	/* the reference: the checked interpreter, which fuses nothing */
	for (size_t k = 0; k < NXS; k++) {
		uint64_t ctx[2] = { rot_xs[k], rot_xs[(k + 3) % NXS] };
		struct outcome r[4];

		for (int e = 0; e < 4; e++) {	/* interp checked, unchecked; jit both */
			BPFRT_OPTS(bpfrt_run_opts, o, .engine = e >= 2 ? BPFRT_ENGINE_JIT
								     : BPFRT_ENGINE_INTERP,
				   .checked = !(e & 1), .ctx = ctx, .ctx_len = sizeof(ctx));

			r[e].ret = bpfrt_prog_run(p, &o, &err);
			r[e].r0 = o.retval;
			r[e].insns = e & 1 ? r[0].insns : o.insns;	/* unchecked: 0 */
			r[e].insn = err.insn;
		}
		for (int e = 1; e < 4; e++)
			CHECK(same(r[0], r[e]), "rotate w%d mov64 %d shr_first %d a %u b %u live %d "
			      "x %#llx: checked interp %#llx, engine %d %#llx", w, mov64, shr_first,
			      a, b, live, (unsigned long long)rot_xs[k],
			      (unsigned long long)r[0].r0, e, (unsigned long long)r[e].r0);
	}
	rol = has_rol_rcx(p, w, shr_first ? b : a);
	bpfrt_prog_free(p);
	return rol;
}

TEST(jit_rotates)
{
	unsigned progs = 0, fused = 0;

	for (int w = 0; w < 2; w++)
		for (int mov64 = 0; mov64 < 2; mov64++)
			for (int shr = 0; shr < 2; shr++)
				for (unsigned a = 1; a < (w ? 64u : 32u); a++)
					for (int live = 0; live < 2; live++)
						for (int d = -1; d <= 1; d++) {
							unsigned bits = w ? 64 : 32;
							unsigned b = bits - a + (unsigned)d;
							bool want = d == 0 && (mov64 || !w);
							bool rol;

							if (b == 0 || b >= bits)
								continue;
							progs++;
							rol = rot_case(w, mov64, shr, a, b, live);
							fused += want;
							CHECK(!want || rol, "no rol for w%d a %u "
							      "b %u", w, a, b);
						}
	printf("  %u rotate programs, %u of them made one rol\n", progs, fused);
}
