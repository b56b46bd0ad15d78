/* test_jit_switch.c — compare trees as jump tables (unchecked JIT and interpreter): every value in and around the tree, against the checked interpreter. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"
#include "t.h"

#define I(c, d, s, o, i) \
	((struct bpfrt_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MAXI 4096

/* Jump opcodes: class JMP (0x05) or JMP32 (0x06), op, source K. */
enum { JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40, JNE = 0x50, JSGT = 0x60,
       JSGE = 0x70, JLT = 0xa0, JLE = 0xb0, JSLT = 0xc0, JSLE = 0xd0 };

struct gen {
	struct bpfrt_insn in[MAXI];
	size_t n;
	uint32_t seed;
	bool w32;		/* the tree's compares are jmp32 */
	bool sign;
	bool lookup;		/* every key sets r4 and r5, then goes to one leaf */
	size_t leaf_fix[MAXI];	/* jumps to leaf k, patched at the end */
	unsigned leaf_of[MAXI];
	size_t nfix;
	size_t default_fix[MAXI];
	size_t ndefault;
};

static uint32_t rnd(struct gen *g)
{
	g->seed = g->seed * 1103515245u + 12345u;
	return g->seed >> 8;
}

/* A constant of all 32 bits (rnd has 24). */
static int32_t rnd32(struct gen *g)
{
	return (int32_t)(rnd(g) << 16 ^ rnd(g));
}

static void put(struct gen *g, struct bpfrt_insn in)
{
	if (g->n < MAXI)
		g->in[g->n++] = in;
}

static uint8_t jcode(const struct gen *g, unsigned op)
{
	return (uint8_t)(op | (g->w32 ? 0x06 : 0x05));
}

/*
 * A binary search over keys[a..b) on r3, as clang writes a switch: an
 * inequality in the middle, equalities at the bottom, sometimes a constant
 * moved into r4 on the way (the trampolines), a jump to the default.
 */
static void tree(struct gen *g, const int32_t *keys, size_t a, size_t b)
{
	if (b - a <= 2) {
		for (size_t k = a; k < b; k++) {
			if (g->lookup || rnd(g) % 3 == 0)
				put(g, I(rnd(g) % 2 ? 0xb7 : 0xb4, 4, 0, 0, rnd32(g)));
			if (g->lookup)
				put(g, I(rnd(g) % 2 ? 0xb7 : 0xb4, 5, 0, 0, rnd32(g)));
			g->leaf_fix[g->nfix] = g->n;
			g->leaf_of[g->nfix++] = (unsigned)k;
			put(g, I(jcode(g, JEQ), 3, 0, 0, keys[k]));
		}
		if (g->lookup) {	/* the default: r4 = r3, r5 = k, the same leaf */
			put(g, I(rnd(g) % 2 ? 0xbf : 0xbc, 4, 3, 0, 0));
			put(g, I(0xb7, 5, 0, 0, rnd32(g)));
			g->leaf_fix[g->nfix] = g->n;
			g->leaf_of[g->nfix++] = 0;
		} else {
			g->default_fix[g->ndefault++] = g->n;
		}
		put(g, I(0x05, 0, 0, 0, 0));
		return;
	}
	size_t mid = (a + b) / 2, at = g->n;
	unsigned form = rnd(g) % 4;	/* the same split, four ways */
	int32_t k = keys[mid - 1];

	if (form == 0) {		/* v > k: right */
		put(g, I(jcode(g, g->sign ? JSGT : JGT), 3, 0, 0, k));
		tree(g, keys, a, mid);
		g->in[at].off = (int16_t)(g->n - at - 1);
		tree(g, keys, mid, b);
	} else if (form == 1) {		/* v >= keys[mid]: right */
		put(g, I(jcode(g, g->sign ? JSGE : JGE), 3, 0, 0, keys[mid]));
		tree(g, keys, a, mid);
		g->in[at].off = (int16_t)(g->n - at - 1);
		tree(g, keys, mid, b);
	} else if (form == 2) {		/* v < keys[mid]: left */
		put(g, I(jcode(g, g->sign ? JSLT : JLT), 3, 0, 0, keys[mid]));
		tree(g, keys, mid, b);
		g->in[at].off = (int16_t)(g->n - at - 1);
		tree(g, keys, a, mid);
	} else {			/* v <= k: left */
		put(g, I(jcode(g, g->sign ? JSLE : JLE), 3, 0, 0, k));
		tree(g, keys, mid, b);
		g->in[at].off = (int16_t)(g->n - at - 1);
		tree(g, keys, a, mid);
	}
}

static bool before(int32_t x, int32_t y, bool sign)
{
	return sign ? x < y : (uint32_t)x < (uint32_t)y;
}

/* Sorted in the tree's order (insertion sort: 64 keys at most). */
static void sort_keys(int32_t *keys, size_t n, bool sign)
{
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && before(keys[k], keys[k - 1], sign); k--) {
			int32_t t = keys[k];

			keys[k] = keys[k - 1];
			keys[k - 1] = t;
		}
}

/*
 * r3 = the u64 at ctx; r4 = 7; the tree; leaf k: r0 = r3 * (k + 3) + r4;
 * the default: r0 = r4 ^ r3. A lookup tree has one leaf for all keys.
 */
static void make(struct gen *g, const int32_t *keys, size_t nkeys)
{
	size_t leaf0;

	g->n = g->nfix = g->ndefault = 0;
	put(g, I(0x79, 3, 1, 0, 0));		/* r3 = *(u64 *)(r1 + 0) */
	put(g, I(0xb7, 4, 0, 0, 7));
	tree(g, keys, 0, nkeys);
	leaf0 = g->n;
	if (g->lookup) {		/* r0 = (r4 * 3 + r5) ^ r3 */
		put(g, I(0xbf, 0, 4, 0, 0));
		put(g, I(0x27, 0, 0, 0, 3));
		put(g, I(0x0f, 0, 5, 0, 0));
		put(g, I(0xaf, 0, 3, 0, 0));
		put(g, I(0x95, 0, 0, 0, 0));
	}
	for (size_t k = 0; k < nkeys && !g->lookup; k++) {
		put(g, I(0xbf, 0, 3, 0, 0));
		put(g, I(0x27, 0, 0, 0, (int32_t)k + 3));
		put(g, I(0x0f, 0, 4, 0, 0));
		put(g, I(0x95, 0, 0, 0, 0));
	}
	for (size_t f = 0; f < g->nfix; f++)
		g->in[g->leaf_fix[f]].off =
			(int16_t)(leaf0 + (g->lookup ? 0 : 4 * g->leaf_of[f]) - g->leaf_fix[f] - 1);
	for (size_t f = 0; f < g->ndefault; f++)
		g->in[g->default_fix[f]].off = (int16_t)(g->n - g->default_fix[f] - 1);
	put(g, I(0xbf, 0, 4, 0, 0));
	put(g, I(0xaf, 0, 3, 0, 0));
	put(g, I(0x95, 0, 0, 0, 0));
}

static bool run1(struct bpfrt_prog *p, enum bpfrt_engine e, bool checked, uint64_t v,
		 uint64_t *r0)
{
	uint64_t ctx = v;
	struct bpfrt_error err;
	BPFRT_OPTS(bpfrt_run_opts, o, .engine = e, .checked = checked, .ctx = &ctx,
		   .ctx_len = sizeof(ctx));

	if (!CHECK(bpfrt_prog_run(p, &o, &err) == 0, "run: %s", err.msg))
		return false;
	*r0 = o.retval;
	return true;
}

/*
 * The unchecked JIT code holds a table dispatch, movsxd r11, [r9 + r11 * 4]
 * (1), or a table of values, mov reg, [r9 + r11 * 8] (2); else 0.
 */
static int has_table(struct bpfrt_prog *p)
{
	static const uint8_t load[] = { 0x4f, 0x63, 0x1c, 0x99 };
	const uint8_t *c;
	const void *code;
	const uint32_t *offs;
	size_t len;

	struct bpfrt_error err;

	if (bpfrt_prog_jited(p, false, &code, &len, &offs, &err))
		return 0;
	c = code;
	for (size_t i = 0; i + sizeof(load) <= len; i++) {
		if (!memcmp(c + i, load, sizeof(load)))
			return 1;
		if ((c[i] & 0xfb) == 0x4b && c[i + 1] == 0x8b && (c[i + 2] & 0xc7) == 0x04 &&
		    c[i + 3] == 0xd9)
			return 2;
	}
	return 0;
}

/* Blinded code must hold none of the tree's moved constants (rnd32: of any size). */
static bool holds_constant(struct bpfrt_prog *p, const struct gen *g)
{
	const void *code;
	const uint32_t *offs;
	size_t len;
	struct bpfrt_error err;

	if (bpfrt_prog_jited(p, false, &code, &len, &offs, &err))
		return false;
	for (size_t i = 0; i < g->n; i++) {
		int32_t k = g->in[i].imm;

		if ((g->in[i].code == 0xb7 || g->in[i].code == 0xb4) &&
		    (k >= 0x100000 || k <= -0x100000) && memmem(code, len, &k, 4))
			return true;
	}
	return false;
}

/* Values in and around the keys, the ends of every range, high halves set (jmp32). */
static size_t values(struct gen *g, const int32_t *keys, size_t nkeys, uint64_t *v)
{
	static const uint64_t ends[] = {
		0, 1, 2, UINT64_MAX, (uint64_t)INT64_MIN, (uint64_t)INT64_MAX,
		(uint64_t)(int64_t)INT32_MIN, INT32_MAX, UINT32_MAX, 1ull << 32,
		(uint64_t)(int64_t)INT32_MIN - 1, (uint64_t)INT32_MAX + 1,
	};
	size_t m = 0;

	for (size_t k = 0; k < sizeof(ends) / sizeof(ends[0]); k++)
		v[m++] = ends[k];
	for (size_t k = 0; k < nkeys; k++)
		for (int d = -2; d <= 2; d++) {
			uint64_t s = (uint64_t)(int64_t)keys[k] + (uint64_t)(int64_t)d;
			uint64_t z = (uint64_t)(uint32_t)keys[k] + (uint64_t)(int64_t)d;

			v[m++] = s;
			v[m++] = z;
			v[m++] = (uint64_t)rnd(g) << 32 | (uint32_t)s;	/* low half only */
		}
	return m;
}

TEST(jit_switch_tables)
{
	static const int32_t bases[] = { 0, -5, INT32_MIN, INT32_MAX - 40, -40, 1000,
					 0x7fffff00, (int32_t)0x80000010 };
	static struct gen g;
	static uint64_t v[12 + 5 * 3 * 64];
	unsigned tables = 0, trees = 0, diffs = 0, lookups = 0, vtables = 0, btables = 0;

	g.seed = 12345;
	for (unsigned t = 0; t < 400; t++) {
		int32_t keys[64];
		size_t nkeys = 3 + rnd(&g) % 60, nv;
		int32_t base = bases[rnd(&g) % (sizeof(bases) / sizeof(bases[0]))];
		unsigned gap = 1 + (rnd(&g) % 4 == 0 ? rnd(&g) % 40 : 0);
		struct bpfrt_prog *p = NULL, *pb = NULL;
		struct bpfrt_error err;
		BPFRT_OPTS(bpfrt_prog_opts, blind, .jit_blind = true);

		g.w32 = rnd(&g) % 2;
		g.sign = rnd(&g) % 2;
		g.lookup = rnd(&g) % 3 == 0;
		lookups += g.lookup;
		for (size_t k = 0; k < nkeys; k++)	/* distinct: gap >= 1, wrapping */
			keys[k] = (int32_t)((uint32_t)base + (uint32_t)k * gap);
		sort_keys(keys, nkeys, g.sign);
		make(&g, keys, nkeys);
		if (!CHECK(g.n < MAXI && bpfrt_prog_new(g.in, g.n, NULL, &p, &err) == 0,
			   "tree %u: %s", t, err.msg))
			continue;
		trees++;
		if (!CHECK(bpfrt_prog_new(g.in, g.n, &blind, &pb, &err) == 0, "%s", err.msg))
			break;
		nv = values(&g, keys, nkeys, v);
		for (size_t k = 0; k < nv; k++) {
			uint64_t want, interp, jit, jitc, jitb;

			/* the reference: the checked interpreter, which has no tables */
			if (!run1(p, BPFRT_ENGINE_INTERP, true, v[k], &want) ||
			    !run1(p, BPFRT_ENGINE_INTERP, false, v[k], &interp) ||
			    !run1(p, BPFRT_ENGINE_JIT, false, v[k], &jit) ||
			    !run1(p, BPFRT_ENGINE_JIT, true, v[k], &jitc) ||
			    !run1(pb, BPFRT_ENGINE_JIT, false, v[k], &jitb))
				break;
			/* constant blinding keeps both kinds of table */
			CHECK(jitb == want, "tree %u, r3 = %#llx: blinded JIT %#llx, want %#llx",
			      t, (unsigned long long)v[k], (unsigned long long)jitb,
			      (unsigned long long)want);
			if (!CHECK(jit == want && jitc == want && interp == want,
				   "tree %u (%zu keys from %d, gap %u, %s %s), r3 = %#llx: checked "
				   "interpreter %#llx, interpreter %#llx, JIT %#llx, checked JIT "
				   "%#llx", t, nkeys, base, gap, g.w32 ? "jmp32" : "jmp",
				   g.sign ? "signed" : "unsigned", (unsigned long long)v[k],
				   (unsigned long long)want, (unsigned long long)interp,
				   (unsigned long long)jit, (unsigned long long)jitc) &&
			    ++diffs > 20)
				break;
		}
		switch (has_table(p)) {
		case 1: tables++; break;
		case 2: vtables++; break;
		}
		btables += has_table(pb) != 0;	/* tables of values: v ^ r, r */
		CHECK(!holds_constant(pb, &g), "tree %u: a constant in blinded code", t);
		bpfrt_prog_free(p);
		bpfrt_prog_free(pb);
	}
	CHECK(btables >= tables + vtables, "blinded: %u tables, unblinded %u", btables,
	      tables + vtables);
	/* most trees have enough compares and a dense enough range for a table */
	CHECK(tables > (trees - lookups) / 3, "only %u of %u trees became jump tables",
	      tables, trees - lookups);
	CHECK(vtables > lookups / 3, "only %u of %u lookup trees became tables of values",
	      vtables, lookups);
	printf("  %u trees, %u as jump tables; %u lookups, %u as tables of values\n",
	       trees - lookups, tables, lookups, vtables);
}
