/* test_jit_copy.c — byte-copy loops copied 32 or 8 bytes at a time (unchecked JIT): every overlap, count and start, against the interpreter. */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "bpfrt.h"
#include "t.h"

#define I(c, d, s, o, i) \
	((struct bpfrt_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define BUF 512

static uint32_t rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

struct shape {
	unsigned a, b, c, s, v, i, n;
	int16_t o1, o2;
	bool src_first;
	int32_t soff, doff, i0, n0;
	bool counted;		/* may_goto before the body, the loop's head */
	int32_t leave;		/* counted: spend all of the budget but this first (-1: none) */
};

#define BUDGET (8 * 1024 * 1024)	/* may_goto's, per frame */

/*
 * b = ctx + doff, s = ctx + soff, i = i0, n = n0; the loop; then r0 = a
 * hash of a - ctx, c (- ctx unless it holds the byte), v and i.
 */
static size_t make(const struct shape *sh, struct bpfrt_insn *in)
{
	size_t n = 0;

	in[n++] = I(0xbf, 9, 1, 0, 0);				/* r9 = ctx */
	in[n++] = I(0xbf, (uint8_t)sh->b, 9, 0, 0);
	in[n++] = I(0x07, (uint8_t)sh->b, 0, 0, sh->doff);
	in[n++] = I(0xbf, (uint8_t)sh->s, 9, 0, 0);
	in[n++] = I(0x07, (uint8_t)sh->s, 0, 0, sh->soff);
	in[n++] = I(0xb7, (uint8_t)sh->i, 0, 0, sh->i0);
	in[n++] = I(0xb7, (uint8_t)sh->n, 0, 0, sh->n0);
	if (sh->counted) {	/* what a loop that never runs leaves: the bases, a byte */
		in[n++] = I(0xbf, (uint8_t)sh->a, (uint8_t)sh->b, 0, 0);
		in[n++] = I(0xbf, (uint8_t)sh->c, (uint8_t)sh->s, 0, 0);
		in[n++] = I(0xb7, (uint8_t)sh->v, 0, 0, 33);
	}
	if (sh->counted && sh->leave >= 0) {	/* r1 = BUDGET - leave may_gotos */
		in[n++] = I(0xb7, 1, 0, 0, BUDGET - sh->leave);
		in[n++] = I(0x15, 1, 0, 3, 0);			/* if r1 == 0 goto out */
		in[n++] = I(0xe5, 0, 0, 2, 0);			/* may_goto out */
		in[n++] = I(0x17, 1, 0, 0, 1);			/* r1 -= 1 */
		in[n++] = I(0x05, 0, 0, -4, 0);
	}
	in[n++] = I(0x05, 0, 0, 0, 0);				/* ja +0: the loop is a target */
	if (sh->counted)
		in[n++] = I(0xe5, 0, 0, 10, 0);			/* may_goto: to spent */
	for (unsigned k = 0; k < 2; k++) {
		bool src = (k == 0) == sh->src_first;
		unsigned d = src ? sh->c : sh->a, base = src ? sh->s : sh->b;

		in[n++] = I(0xbf, (uint8_t)d, (uint8_t)base, 0, 0);
		in[n++] = I(0x0f, (uint8_t)d, (uint8_t)sh->i, 0, 0);
	}
	in[n++] = I(0x71, (uint8_t)sh->v, (uint8_t)sh->c, sh->o1, 0);
	in[n++] = I(0x73, (uint8_t)sh->a, (uint8_t)sh->v, sh->o2, 0);
	in[n++] = I(0x07, (uint8_t)sh->i, 0, 0, 1);
	in[n++] = I(0xad, (uint8_t)sh->i, (uint8_t)sh->n, sh->counted ? -9 : -8, 0);
	if (sh->counted) {	/* r1 = 1 if the loop ended, 2 if its budget did */
		in[n++] = I(0xb7, 1, 0, 0, 1);
		in[n++] = I(0x05, 0, 0, 1, 0);
		in[n++] = I(0xb7, 1, 0, 0, 2);			/* spent: */
	}
	in[n++] = I(0x1f, (uint8_t)sh->a, 9, 0, 0);		/* a -= ctx */
	if (sh->c != sh->v)
		in[n++] = I(0x1f, (uint8_t)sh->c, 9, 0, 0);
	in[n++] = I(0xbf, 0, (uint8_t)sh->a, 0, 0);
	in[n++] = I(0x27, 0, 0, 0, 1000003);
	in[n++] = I(0x0f, 0, (uint8_t)sh->c, 0, 0);
	in[n++] = I(0x27, 0, 0, 0, 1000003);
	in[n++] = I(0x0f, 0, (uint8_t)sh->v, 0, 0);
	in[n++] = I(0x27, 0, 0, 0, 1000003);
	in[n++] = I(0x0f, 0, (uint8_t)sh->i, 0, 0);
	if (sh->counted) {
		in[n++] = I(0x27, 0, 0, 0, 1000003);
		in[n++] = I(0x0f, 0, 1, 0, 0);
	}
	in[n++] = I(0x95, 0, 0, 0, 0);
	return n;
}

static bool run1(struct bpfrt_prog *p, enum bpfrt_engine e, bool checked, uint8_t *buf,
		 uint64_t *r0, struct bpfrt_error *err)
{
	BPFRT_OPTS(bpfrt_run_opts, o, .engine = e, .checked = checked, .ctx = buf,
		   .ctx_len = BUF);
	int ret = bpfrt_prog_run(p, &o, err);

	*r0 = o.retval;
	return ret == 0;
}

/* The wide copy's 8-byte load from the source: mov r11, [reg]. */
static bool copies_wide(struct bpfrt_prog *p)
{
	const uint8_t *c;
	const void *code;
	const uint32_t *offs;
	size_t len;
	struct bpfrt_error err;

	if (bpfrt_prog_jited(p, false, &code, &len, &offs, &err))
		return false;
	c = code;
	for (size_t i = 0; i + 3 <= len; i++)
		if ((c[i] & 0xfe) == 0x4c && c[i + 1] == 0x8b && (c[i + 2] & 0xf8) == 0x18 &&
		    (c[i + 2] & 7) != 4 && (c[i + 2] & 7) != 5)
			return true;
	return false;
}

/* The 32-byte copy: movups xmm0, [reg] (0f 10 /r, mod 00). */
static bool copies_32(struct bpfrt_prog *p)
{
	const uint8_t *c;
	const void *code;
	const uint32_t *offs;
	size_t len;
	struct bpfrt_error err;

	if (bpfrt_prog_jited(p, false, &code, &len, &offs, &err))
		return false;
	c = code;
	for (size_t i = 0; i + 3 <= len; i++)
		if (c[i] == 0x0f && c[i + 1] == 0x10 && (c[i + 2] & 0xf8) == 0x00)
			return true;
	return false;
}

static void copy_loops(bool counted)
{
	static const unsigned tmp[][3] = {	/* a, c, v */
		{ 5, 0, 0 }, { 5, 0, 8 }, { 0, 5, 5 }, { 8, 2, 0 }, { 2, 8, 8 },
	};
	static uint8_t buf[3][BUF];
	struct bpfrt_insn in[48];
	uint32_t seed = 7;
	unsigned progs = 0, wide = 0, sse = 0, fails = 0;

	for (unsigned t = 0; t < (counted ? 600u : 1500u) && fails < 10; t++) {
		static const int32_t leaves[] = { 0, 1, 5, 40, 200, 100000 };
		const unsigned *r = tmp[rnd(&seed) % 5];
		struct shape sh = {
			.a = r[0], .c = r[1], .v = r[2], .b = 6, .s = 7, .i = 4, .n = 3,
			.o1 = (int16_t)(rnd(&seed) % 9) - 4, .o2 = (int16_t)(rnd(&seed) % 9) - 4,
			.src_first = rnd(&seed) % 2,
			.soff = 8 + (int32_t)(rnd(&seed) % 193),
			.i0 = (int32_t)(rnd(&seed) % 49), .n0 = (int32_t)(rnd(&seed) % 161),
			.counted = counted, .leave = counted && t < 6 ? leaves[t] : -1,
		};
		struct bpfrt_prog *p = NULL;
		struct bpfrt_error err;
		uint64_t r0[3] = { 0 };
		bool ok;

		/* destinations near the source: every overlap under 40, both ways */
		sh.doff = rnd(&seed) % 2 ? sh.soff + (int32_t)(rnd(&seed) % 81) - 40
					 : 8 + (int32_t)(rnd(&seed) % 193);
		if (sh.doff < 8)
			sh.doff = 8;
		if (sh.b == sh.s) {
			continue;
		}
		if (!CHECK(bpfrt_prog_new(in, make(&sh, in), NULL, &p, &err) == 0,
			   "program %u: %s", t, err.msg))
			continue;
		progs++;
		for (unsigned e = 0; e < 3; e++)
			for (unsigned k = 0; k < BUF; k++)
				buf[e][k] = (uint8_t)(k * 7 + t);
		ok = run1(p, BPFRT_ENGINE_INTERP, false, buf[0], &r0[0], &err) &&
		     run1(p, BPFRT_ENGINE_JIT, false, buf[1], &r0[1], &err) &&
		     run1(p, BPFRT_ENGINE_JIT, true, buf[2], &r0[2], &err);
		if (!CHECK(ok && r0[1] == r0[0] && r0[2] == r0[0] &&
			   !memcmp(buf[0], buf[1], BUF) && !memcmp(buf[0], buf[2], BUF),
			   "program %u (a r%u c r%u v r%u, src +%d%+d, dst +%d%+d, i %d, n %d): "
			   "r0 %#llx, JIT %#llx, checked %#llx; memory %s (%s)", t, sh.a, sh.c,
			   sh.v, sh.soff, sh.o1, sh.doff, sh.o2, sh.i0, sh.n0,
			   (unsigned long long)r0[0], (unsigned long long)r0[1],
			   (unsigned long long)r0[2],
			   !memcmp(buf[0], buf[1], BUF) && !memcmp(buf[0], buf[2], BUF) ? "same"
											  : "differs",
			   ok ? "" : err.msg))
			fails++;
		wide += copies_wide(p);
		sse += copies_32(p);
		bpfrt_prog_free(p);
	}
	CHECK(wide == progs && sse == progs, "%u of %u copy loops were not widened, %u have "
	      "no 32-byte copy", progs - wide, progs, progs - sse);
	printf("  %u copy loops%s, %u widened\n", progs, counted ? " with may_goto" : "", wide);
}

TEST(jit_copy_loops)
{
	copy_loops(false);
}

/* The same loops headed by may_goto, some with the frame's budget all but spent before. */
TEST(jit_copy_loops_counted)
{
	copy_loops(true);
}

/*
 * i wraps around to 0 after its first iteration, below n: the loop goes on,
 * and the copy with it (max(n - i, 1) once would stop after one byte).
 */
TEST(jit_copy_loops_wrap)
{
	static uint8_t buf[2][BUF];
	struct bpfrt_insn in[48];
	struct shape sh = { .a = 5, .c = 0, .v = 0, .b = 6, .s = 7, .i = 4, .n = 3,
			    .soff = 8, .doff = 200, .i0 = -1, .n0 = 100, .leave = -1 };

	for (int counted = 0; counted < 2; counted++) {
		struct bpfrt_prog *p = NULL;
		struct bpfrt_error err;
		uint64_t r0[2] = { 0 };

		sh.counted = counted;
		sh.soff = 8 + 1;	/* src[i] with i = 2^64 - 1 is ctx + 8 */
		if (!CHECK(bpfrt_prog_new(in, make(&sh, in), NULL, &p, &err) == 0, "%s", err.msg))
			continue;
		for (unsigned e = 0; e < 2; e++)
			for (unsigned k = 0; k < BUF; k++)
				buf[e][k] = (uint8_t)(k * 13 + 1);
		bool ok = run1(p, BPFRT_ENGINE_INTERP, false, buf[0], &r0[0], &err) &&
			  run1(p, BPFRT_ENGINE_JIT, false, buf[1], &r0[1], &err);

		CHECK(ok && r0[1] == r0[0] && !memcmp(buf[0], buf[1], BUF) && copies_wide(p),
		      "%s loop from i = -1: r0 %#llx, JIT %#llx; memory %s (%s)",
		      counted ? "counted" : "plain", (unsigned long long)r0[0],
		      (unsigned long long)r0[1], memcmp(buf[0], buf[1], BUF) ? "differs" : "same",
		      ok ? "" : err.msg);
		bpfrt_prog_free(p);
	}
}

/*
 * `a = b; a += c (or +k, -k); a = *(size *)(a + off)`, fused into one load
 * in unchecked code: random chains of them over ctx, against the interpreter.
 */
TEST(jit_fused_loads)
{
	static uint8_t buf[BUF];
	struct bpfrt_insn in[8 + 4 * 16 + 1];
	uint32_t seed = 3;
	unsigned fails = 0;

	for (unsigned k = 0; k < sizeof(buf); k++)
		buf[k] = (uint8_t)(k * 37 + 11);
	for (unsigned t = 0; t < 500 && fails < 10; t++) {
		struct bpfrt_prog *p = NULL;
		struct bpfrt_error err;
		uint64_t r0[3] = { 0 };
		size_t n = 0;
		bool ok;

		in[n++] = I(0xb7, 0, 0, 0, 0);
		for (unsigned r = 2; r <= 5; r++)	/* offsets 0..100 */
			in[n++] = I(0xb7, (uint8_t)r, 0, 0, (int32_t)(rnd(&seed) % 101));
		for (unsigned k = 0; k < 16; k++) {
			static const uint8_t ldx[] = { 0x71, 0x69, 0x61, 0x79 };
			uint8_t a = (uint8_t)(6 + rnd(&seed) % 4), c = (uint8_t)(2 + rnd(&seed) % 4);
			unsigned form = rnd(&seed) % 3;
			int16_t off = (int16_t)(rnd(&seed) % 40);
			int32_t kk = (int32_t)(rnd(&seed) % 100);

			in[n++] = I(0xbf, a, 1, 0, 0);
			in[n++] = form == 0 ? I(0x0f, a, c, 0, 0)
				: form == 1 ? I(0x07, a, 0, 0, kk)
					    : I(0x17, a, 0, 0, -kk);	/* sub -k: add k */
			in[n++] = I(ldx[rnd(&seed) % 4], a, a, off, 0);
			in[n++] = I(0xaf, 0, a, 0, 0);	/* r0 ^= a */
			in[n - 1] = rnd(&seed) % 2 ? in[n - 1] : I(0x0f, 0, a, 0, 0);
		}
		in[n++] = I(0x95, 0, 0, 0, 0);
		if (!CHECK(bpfrt_prog_new(in, n, NULL, &p, &err) == 0, "program %u: %s", t,
			   err.msg))
			continue;
		ok = run1(p, BPFRT_ENGINE_INTERP, false, buf, &r0[0], &err) &&
		     run1(p, BPFRT_ENGINE_JIT, false, buf, &r0[1], &err) &&
		     run1(p, BPFRT_ENGINE_JIT, true, buf, &r0[2], &err);
		if (!CHECK(ok && r0[1] == r0[0] && r0[2] == r0[0],
			   "program %u: interpreter %#llx, JIT %#llx, checked JIT %#llx (%s)", t,
			   (unsigned long long)r0[0], (unsigned long long)r0[1],
			   (unsigned long long)r0[2], ok ? "" : err.msg))
			fails++;
		bpfrt_prog_free(p);
	}
}

/* ---- Checked mode: the whole loop at once, or exactly as the interpreter ---- */

struct crun {
	int ret, insn;
	uint64_t r0, insns;
	char msg[256];
};

static struct crun crun1(struct bpfrt_prog *p, enum bpfrt_engine e, uint8_t *buf, size_t len,
			 uint64_t budget, const struct bpfrt_region *reg)
{
	BPFRT_OPTS(bpfrt_run_opts, o, .engine = e, .checked = true, .ctx = buf, .ctx_len = len,
		   .budget = budget, .regions = reg, .nregions = reg ? 1 : 0);
	struct bpfrt_error err;
	struct crun r;

	r.ret = bpfrt_prog_run(p, &o, &err);
	r.insn = err.insn;
	r.r0 = o.retval;
	r.insns = o.insns;
	memcpy(r.msg, err.msg, sizeof(r.msg));
	return r;
}

/* Messages alike but for addresses (0x...): the engines' stacks are elsewhere. */
static bool same_but_addresses(const char *a, const char *b)
{
	while (*a && *b) {
		if (a[0] == '0' && a[1] == 'x' && b[0] == '0' && b[1] == 'x') {
			a += 2, b += 2;
			while (isxdigit((unsigned char)*a))
				a++;
			while (isxdigit((unsigned char)*b))
				b++;
			continue;
		}
		if (*a++ != *b++)
			return false;
	}
	return *a == *b;
}

/*
 * Both engines, checked, from the same memory: the same result, r0, count,
 * fault (instruction and message) and memory after.
 */
static bool crun_agree(struct bpfrt_prog *p, uint8_t (*buf)[BUF], size_t len, uint64_t budget,
		       const struct bpfrt_region *reg, unsigned t)
{
	struct crun a, b;

	for (unsigned k = 0; k < BUF; k++)	/* both run on buf[0]: the region's memory */
		buf[0][k] = (uint8_t)(k * 13 + t);
	a = crun1(p, BPFRT_ENGINE_INTERP, buf[0], len, budget, reg);
	memcpy(buf[1], buf[0], BUF);
	for (unsigned k = 0; k < BUF; k++)
		buf[0][k] = (uint8_t)(k * 13 + t);
	b = crun1(p, BPFRT_ENGINE_JIT, buf[0], len, budget, reg);
	return CHECK(a.ret == b.ret && a.insn == b.insn && a.r0 == b.r0 && a.insns == b.insns &&
		     same_but_addresses(a.msg, b.msg) && !memcmp(buf[0], buf[1], BUF),
		     "program %u, ctx %zu bytes, budget %llu: interp %d insn %d r0 %#llx %llu "
		     "\"%s\" / jit %d insn %d r0 %#llx %llu \"%s\"%s", t, len,
		     (unsigned long long)budget, a.ret, a.insn, (unsigned long long)a.r0,
		     (unsigned long long)a.insns, a.msg, b.ret, b.insn, (unsigned long long)b.r0,
		     (unsigned long long)b.insns, b.msg,
		     memcmp(buf[0], buf[1], BUF) ? " (memory differs)" : "");
}

/*
 * The loop on the stack: r9 = r10 - 512 + k (the first frame, zeroed, or
 * below it, never zeroed), copied to or from ctx.
 */
static size_t make_stack(struct bpfrt_insn *in, int32_t ctx_off, int32_t stack_off,
			 bool to_stack, int32_t n0)
{
	struct shape sh = { .a = 5, .c = 0, .v = 0, .b = 6, .s = 7, .i = 4, .n = 3,
			    .src_first = true, .i0 = 0, .n0 = n0 };
	size_t n = 0, m;
	struct bpfrt_insn body[40];

	/* make() with r9 = ctx; then patch b or s to the stack */
	sh.soff = to_stack ? ctx_off : stack_off;
	sh.doff = to_stack ? stack_off : ctx_off;
	m = make(&sh, body);
	in[n++] = I(0xbf, 8, 10, 0, 0);			/* r8 = r10 */
	for (size_t k = 0; k < m; k++) {
		in[n] = body[k];
		if (k == (to_stack ? 1u : 3u))		/* b or s = r8 + off */
			in[n].src_reg = 8;
		if (k == 16 && to_stack)		/* a -= r8, not ctx */
			in[n].src_reg = 8;
		n++;
	}
	return n;
}

TEST(jit_copy_loops_checked)
{
	static uint8_t buf[2][BUF];
	struct bpfrt_insn in[48];
	uint32_t seed = 11;
	unsigned progs = 0, runs = 0;

	for (unsigned t = 0; t < 400; t++) {
		struct shape sh = {
			.a = 5, .c = 0, .v = rnd(&seed) % 2 ? 0 : 8, .b = 6, .s = 7, .i = 4, .n = 3,
			.o1 = (int16_t)(rnd(&seed) % 9) - 4, .o2 = (int16_t)(rnd(&seed) % 9) - 4,
			.src_first = rnd(&seed) % 2,
			.soff = 8 + (int32_t)(rnd(&seed) % 193),
			.i0 = (int32_t)(rnd(&seed) % 20), .n0 = (int32_t)(rnd(&seed) % 161),
		};
		struct bpfrt_prog *p = NULL;
		struct bpfrt_error err;
		struct bpfrt_region reg;
		size_t n, len;
		uint64_t total;

		sh.doff = rnd(&seed) % 2 ? sh.soff + (int32_t)(rnd(&seed) % 81) - 40
					 : 8 + (int32_t)(rnd(&seed) % 193);
		if (sh.doff < 8)
			sh.doff = 8;
		if (t % 4 == 3)		/* on the stack: in the zeroed frame or below it */
			n = make_stack(in, 8 + (int32_t)(rnd(&seed) % 100),
				       -512 + (int32_t)(rnd(&seed) % 700) - 100, rnd(&seed) % 2,
				       (int32_t)(rnd(&seed) % 161));
		else
			n = make(&sh, in);
		if (!CHECK(bpfrt_prog_new(in, n, NULL, &p, &err) == 0, "program %u: %s", t,
			   err.msg))
			continue;
		progs++;
		/* the whole ctx, then one that ends inside the copy: a fault */
		crun_agree(p, buf, BUF, 0, NULL, t);
		len = 8 + rnd(&seed) % (BUF - 8);
		crun_agree(p, buf, len, 0, NULL, t);
		/* ctx too short, the rest a region: every byte allowed, by the slow path */
		reg = (struct bpfrt_region){ .base = buf[0], .len = BUF, .writable = true };
		crun_agree(p, buf, 16, 0, &reg, t);
		runs += 3;
		/* budgets that stop before, inside and after the loop */
		total = crun1(p, BPFRT_ENGINE_INTERP, buf[0], BUF, 0, NULL).insns;
		for (unsigned k = 0; k < 6; k++, runs++)
			crun_agree(p, buf, BUF, 1 + rnd(&seed) % (total + 8), NULL, t);
		bpfrt_prog_free(p);
	}
	printf("  %u checked copy loops, %u runs compared\n", progs, runs);
}
