/* test_verifier_scalar.c — property tests: abstract ALU results and jump refinements contain the concrete ones. */
#include <stdio.h>
#include <string.h>

#include "isa/semantics.h"
#include "t.h"
#include "verifier/scalar.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Values that find bugs: edges of every interval, small numbers, random ones. */
static uint64_t pick(uint64_t near)
{
	static const uint64_t edges[] = {
		0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 63, 64, 255, 256, 0xffff, 0x10000,
		0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull, 0x7fffffffffffffffull,
		0x8000000000000000ull, ~0ull, ~0ull - 1, 0xffffffff80000000ull,
	};
	switch (rnd() % 8) {
	case 0: return edges[rnd() % (sizeof(edges) / sizeof(edges[0]))];
	case 1: return rnd() % 64;
	case 2: return (uint64_t)-(int64_t)(rnd() % 64);
	case 3: return (uint32_t)rnd();
	case 4: return near + rnd() % 16;
	case 5: return near - rnd() % 16;
	case 6: return near ^ (1ull << (rnd() % 64));
	default: return rnd();
	}
}

/* The smallest scalar holding the given values (each part computed directly). */
static struct scalar join(const uint64_t *v, unsigned n)
{
	struct scalar s;
	uint64_t and = ~0ull, or = 0;

	s.umin = s.umax = v[0];
	s.smin = s.smax = (int64_t)v[0];
	s.u32min = s.u32max = (uint32_t)v[0];
	s.s32min = s.s32max = (int32_t)v[0];
	for (unsigned i = 0; i < n; i++) {
		and &= v[i];
		or |= v[i];
		if (v[i] < s.umin) s.umin = v[i];
		if (v[i] > s.umax) s.umax = v[i];
		if ((int64_t)v[i] < s.smin) s.smin = (int64_t)v[i];
		if ((int64_t)v[i] > s.smax) s.smax = (int64_t)v[i];
		if ((uint32_t)v[i] < s.u32min) s.u32min = (uint32_t)v[i];
		if ((uint32_t)v[i] > s.u32max) s.u32max = (uint32_t)v[i];
		if ((int32_t)v[i] < s.s32min) s.s32min = (int32_t)v[i];
		if ((int32_t)v[i] > s.s32max) s.s32max = (int32_t)v[i];
	}
	s.t.v = and;
	s.t.m = or ^ and;
	return s;
}

#define NV 5

/* A random abstract value and concrete members of it. */
static struct scalar gen(uint64_t *v, unsigned *n)
{
	uint64_t base = pick(rnd());

	*n = 1 + (unsigned)(rnd() % NV);
	for (unsigned i = 0; i < *n; i++)
		v[i] = i == 0 ? base : (rnd() % 3 ? pick(base) : base + i);
	struct scalar s = join(v, *n);
	/* sometimes widen it, so not every part is tight */
	if (rnd() % 4 == 0) {
		s.umax = ~0ull;
		s.smin = INT64_MIN;
	}
	if (rnd() % 4 == 0) {
		s.t.m |= rnd() & rnd();
		s.t.v &= ~s.t.m;
	}
	return s;
}

static const unsigned alu_ops[] = {
	BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_NEG,
	BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH,
};

TEST(verifier_scalar_sync_keeps_members)
{
	unsigned bad = 0, runs = 20000;

	for (unsigned k = 0; k < runs; k++) {
		uint64_t v[NV];
		unsigned n;
		struct scalar s = gen(v, &n);
		bool ok = sc_sync(&s);
		for (unsigned i = 0; i < n && ok; i++)
			if (!sc_has(&s, v[i]) && bad++ < 5)
				CHECK(false, "sync lost %#llx", (unsigned long long)v[i]);
		if (!ok && bad++ < 5)
			CHECK(false, "sync found a non-empty scalar empty");
	}
	CHECK(bad == 0, "%u of %u synced scalars lost members", bad, runs);
}

TEST(verifier_scalar_alu_contains_concrete)
{
	unsigned bad = 0, checks = 0;

	for (unsigned k = 0; k < 60000; k++) {
		uint64_t x[NV], y[NV];
		unsigned nx, ny;
		struct scalar a = gen(x, &nx), b = gen(y, &ny);
		sc_sync(&a);
		sc_sync(&b);
		unsigned op = alu_ops[rnd() % (sizeof(alu_ops) / sizeof(alu_ops[0]))];
		bool is32 = rnd() & 1, sign = (op == BPF_DIV || op == BPF_MOD) && (rnd() & 1);
		unsigned sx = 0;
		if (op == BPF_MOV && rnd() % 2)
			sx = is32 ? (rnd() & 1 ? 8 : 16) : (8u << (rnd() % 3));
		struct scalar r = sc_alu(op, sign, is32, sx, &a, &b);
		for (unsigned i = 0; i < nx; i++)
			for (unsigned j = 0; j < ny; j++) {
				uint64_t c;
				if (op == BPF_MOV && sx)
					c = sem_movsx(is32, sx, y[j]);
				else
					c = is32 ? sem_alu32(op, sign, x[i], y[j])
						 : sem_alu64(op, sign, x[i], y[j]);
				checks++;
				if (!sc_has(&r, c) && bad++ < 8)
					CHECK(false, "op %#x%s%s sx%u: %#llx, %#llx gives %#llx, not in the "
					      "abstract result (umin %#llx umax %#llx t %#llx/%#llx)", op,
					      is32 ? " 32" : "", sign ? " signed" : "", sx,
					      (unsigned long long)x[i], (unsigned long long)y[j],
					      (unsigned long long)c, (unsigned long long)r.umin,
					      (unsigned long long)r.umax, (unsigned long long)r.t.v,
					      (unsigned long long)r.t.m);
			}
	}
	CHECK(bad == 0, "%u of %u concrete ALU results outside the abstract one", bad, checks);
}

TEST(verifier_scalar_end_and_loads)
{
	unsigned bad = 0;
	static const unsigned widths[] = { 16, 32, 64 };

	for (unsigned k = 0; k < 20000; k++) {
		uint64_t x[NV];
		unsigned nx;
		struct scalar a = gen(x, &nx);
		sc_sync(&a);
		bool swap = rnd() & 1;
		unsigned w = widths[rnd() % 3];
		struct scalar r = sc_end(swap, w, &a);
		for (unsigned i = 0; i < nx; i++)
			if (!sc_has(&r, sem_end(swap, w, x[i])) && bad++ < 5)
				CHECK(false, "end swap=%d %u of %#llx", swap, w, (unsigned long long)x[i]);
		unsigned size = 1u << (rnd() % 4);
		bool sxl = rnd() & 1;
		struct scalar l = sc_load(size, sxl);
		uint64_t raw = size == 8 ? x[0] : x[0] & ((1ull << (size * 8)) - 1);
		uint64_t val = sxl && size < 8 ? sem_sext(size, raw) : raw;
		if (!sc_has(&l, val) && bad++ < 5)
			CHECK(false, "load of %u bytes (sx %d): %#llx", size, sxl, (unsigned long long)val);
	}
	CHECK(bad == 0, "%u byte-swap/load results outside the abstract one", bad);
}

static const unsigned jmp_ops[] = {
	BPF_JEQ, BPF_JNE, BPF_JGT, BPF_JGE, BPF_JLT, BPF_JLE, BPF_JSET, BPF_JSGT, BPF_JSGE,
	BPF_JSLT, BPF_JSLE,
};

TEST(verifier_scalar_refine_keeps_solutions)
{
	unsigned bad = 0, checks = 0, pruned = 0;

	for (unsigned k = 0; k < 60000; k++) {
		uint64_t x[NV], y[NV];
		unsigned nx, ny;
		struct scalar a = gen(x, &nx), b = gen(y, &ny);
		sc_sync(&a);
		sc_sync(&b);
		if (rnd() % 3 == 0) {	/* against a constant, as with immediates */
			b = sc_const(y[0]);
			ny = 1;
		}
		unsigned op = jmp_ops[rnd() % (sizeof(jmp_ops) / sizeof(jmp_ops[0]))];
		bool jmp32 = rnd() & 1;
		for (int neg = 0; neg < 2; neg++) {
			struct scalar a2 = a, b2 = b;
			bool feasible = sc_refine(op, jmp32, neg, &a2, &b2);
			for (unsigned i = 0; i < nx; i++)
				for (unsigned j = 0; j < ny; j++) {
					bool holds = sem_jcond(op, jmp32, x[i], y[j]) != neg;
					if (!holds)
						continue;
					checks++;
					if ((!feasible || !sc_has(&a2, x[i]) || !sc_has(&b2, y[j])) &&
					    bad++ < 8)
						CHECK(false, "jmp op %#x%s%s: %#llx vs %#llx holds, but the "
						      "refinement %s", op, jmp32 ? "32" : "",
						      neg ? " (negated)" : "", (unsigned long long)x[i],
						      (unsigned long long)y[j],
						      feasible ? "drops it" : "says impossible");
				}
			pruned += !feasible;
		}
	}
	CHECK(bad == 0, "%u of %u true conditions lost by refinement", bad, checks);
	CHECK(pruned > 0, "no outcome was ever found impossible");
}

/* The known results the kernel documents: what precision must give. */
TEST(verifier_scalar_precision)
{
	struct scalar a = sc_unknown(), k = sc_const(0xff), r;

	r = sc_alu(BPF_AND, false, false, 0, &a, &k);
	CHECK(r.umax == 0xff && r.umin == 0 && r.smin == 0, "x & 0xff is 0..255");
	k = sc_const(4);
	struct scalar lo = sc_urange(15);
	r = sc_alu(BPF_LSH, false, false, 0, &lo, &k);
	CHECK(r.umax == 240 && (r.t.m & 0xf) == 0, "(0..15) << 4 is 0..240 with low bits 0");
	r = sc_alu(BPF_ADD, false, true, 0, &a, &k);
	CHECK(r.umax == 0xffffffffull, "a 32-bit add is zero-extended");
	struct scalar x = sc_unknown(), c = sc_const(10);
	CHECK(sc_refine(BPF_JGT, false, true, &x, &c) && x.umax == 10, "!(x > 10): x <= 10");
	x = sc_unknown();
	c = sc_const(10);
	CHECK(sc_refine(BPF_JLT, true, false, &x, &c) && x.u32max == 9,
	      "w < 10: the low half is below 10");
	struct scalar w = sc_urange(0xffffffff);
	c = sc_const(10);
	CHECK(sc_refine(BPF_JLT, true, false, &w, &c) && w.umax == 9,
	      "a zero-extended w < 10 bounds the whole register");
	struct scalar five = sc_const(5), six = sc_const(6);
	CHECK(!sc_refine(BPF_JEQ, false, false, &five, &six), "5 == 6 is impossible");
	struct scalar d = sc_unknown(), zero = sc_const(0);
	r = sc_alu(BPF_DIV, false, false, 0, &d, &zero);
	CHECK(sc_has(&r, 0), "x / 0 can be 0");
	r = sc_alu(BPF_MOD, false, true, 0, &d, &zero);
	CHECK(r.umax == 0xffffffffull, "x %% 0 in 32 bits is the low half of x");
}
