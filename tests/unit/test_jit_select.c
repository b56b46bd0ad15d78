/* test_jit_select.c — `if (c) goto +1; x op= y` as a cmov (unchecked JIT): random selects against the interpreter, every condition and operation. */
#include <stdint.h>
#include <string.h>

#include "bpfrt.h"
#include "t.h"

#define I(c, d, s, o, i) \
	((struct bpfrt_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define NSEL 24

static uint32_t rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

static int32_t rnd32(uint32_t *seed)
{
	static const int32_t edges[] = { 0, 1, -1, 31, 32, 63, 64, INT32_MIN, INT32_MAX, 0xff };
	uint32_t r = rnd(seed);

	if (r % 4 == 0)
		return edges[r / 4 % (sizeof(edges) / sizeof(edges[0]))];
	return (int32_t)(rnd(seed) << 16 ^ rnd(seed));
}

/* Jump ops (op << 4), ALU ops a select takes (and two it does not: mul, lsh by register). */
static const uint8_t jops[] = { 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0,
				0xc0, 0xd0 };
static const uint8_t aops[] = { 0x00, 0x10, 0x40, 0x50, 0xa0, 0xb0, 0x60, 0x70, 0xc0,
				0x20, 0x60 | 0x08 };

/*
 * r1..r5 and r6..r9 from the input (ten u64), NSEL selects on them, then
 * r0 = the sum of every register rotated: any wrong one shows.
 */
static size_t make(uint32_t *seed, struct bpfrt_insn *in)
{
	size_t n = 0;

	in[n++] = I(0xbf, 9, 1, 0, 0);			/* r9 = ctx */
	for (unsigned r = 0; r <= 8; r++)
		in[n++] = I(0x79, (uint8_t)r, 9, (int16_t)(8 * r), 0);
	in[n++] = I(0x79, 9, 9, 72, 0);
	for (unsigned k = 0; k < NSEL; k++) {
		uint8_t jop = jops[rnd(seed) % sizeof(jops)], aop = aops[rnd(seed) % sizeof(aops)];
		bool jreg = rnd(seed) % 2, j32 = rnd(seed) % 2, areg = rnd(seed) % 2;
		bool a32 = rnd(seed) % 2;
		uint8_t d = (uint8_t)(rnd(seed) % 10), s = (uint8_t)(rnd(seed) % 10);

		if (aop == (0x60 | 0x08)) {		/* lsh by a register */
			aop = 0x60;
			areg = true;
		} else if (aop >= 0x60 && aop <= 0xc0 && aop != 0xa0 && aop != 0xb0) {
			areg = areg && aop != 0x60 && aop != 0x70 && aop != 0xc0;
		}
		/* every other one on the condition before: pairs that may share a compare */
		if (k > 0 && rnd(seed) % 2)
			in[n] = in[n - 2];
		else
			in[n] = I((uint8_t)(jop | (jreg ? 0x08 : 0) | (j32 ? 0x06 : 0x05)),
				  (uint8_t)(rnd(seed) % 10), jreg ? (uint8_t)(rnd(seed) % 10) : 0,
				  1, jreg ? 0 : rnd32(seed));
		n++;
		in[n++] = I((uint8_t)(aop | (areg ? 0x08 : 0) | (a32 ? 0x04 : 0x07)), d,
			    areg ? s : 0, 0, areg ? 0 : rnd32(seed));
	}
	for (unsigned r = 1; r <= 9; r++) {
		in[n++] = I(0x27, 0, 0, 0, 31);			/* r0 *= 31 */
		in[n++] = I(0x0f, 0, (uint8_t)r, 0, 0);		/* r0 += r */
	}
	in[n++] = I(0x95, 0, 0, 0, 0);
	return n;
}

static bool run1(struct bpfrt_prog *p, enum bpfrt_engine e, bool checked, uint64_t *ctx,
		 uint64_t *r0, struct bpfrt_error *err)
{
	BPFRT_OPTS(bpfrt_run_opts, o, .engine = e, .checked = checked, .ctx = ctx,
		   .ctx_len = 80);
	int ret = bpfrt_prog_run(p, &o, err);

	*r0 = o.retval;
	return ret == 0;
}

/* cmov r64, r64 in the unchecked code; *pairs: those right after another. */
static unsigned cmovs(struct bpfrt_prog *p, unsigned *pairs)
{
	const uint8_t *c;
	const void *code;
	const uint32_t *offs;
	size_t len;
	unsigned n = 0;
	struct bpfrt_error err;

	if (bpfrt_prog_jited(p, false, &code, &len, &offs, &err))
		return 0;
	c = code;
	for (size_t i = 0; i + 4 <= len; i++) {
		bool cmov = (c[i] & 0xf8) == 0x48 && c[i + 1] == 0x0f &&
			    (c[i + 2] & 0xf0) == 0x40 && c[i + 3] >= 0xc0;

		n += cmov;
		*pairs += cmov && i + 8 <= len && (c[i + 4] & 0xf8) == 0x48 && c[i + 5] == 0x0f &&
			  (c[i + 6] & 0xf0) == 0x40 && c[i + 7] >= 0xc0;
	}
	return n;
}

TEST(jit_select)
{
	static struct bpfrt_insn in[16 + 2 * NSEL + 32];
	uint32_t seed = 99;
	unsigned progs = 0, with = 0, fails = 0, pairs = 0;

	for (unsigned t = 0; t < 300 && fails < 10; t++) {
		size_t n = make(&seed, in);
		struct bpfrt_prog *p = NULL;
		struct bpfrt_error err;

		if (!CHECK(bpfrt_prog_new(in, n, NULL, &p, &err) == 0, "program %u: %s", t,
			   err.msg))
			continue;
		progs++;
		for (unsigned v = 0; v < 40; v++) {
			uint64_t ctx[10], want = 0, jit = 0, jitc = 0;

			for (unsigned r = 0; r < 10; r++)
				ctx[r] = rnd(&seed) % 3 ? (uint64_t)(int64_t)rnd32(&seed)
							: (uint64_t)rnd32(&seed) << 32 |
							  (uint32_t)rnd32(&seed);
			bool ok = run1(p, BPFRT_ENGINE_INTERP, false, ctx, &want, &err) &&
				  run1(p, BPFRT_ENGINE_JIT, false, ctx, &jit, &err) &&
				  run1(p, BPFRT_ENGINE_JIT, true, ctx, &jitc, &err);

			if (!CHECK(ok && jit == want && jitc == want,
				   "program %u input %u: interpreter %#llx, JIT %#llx, checked "
				   "JIT %#llx (%s)", t, v, (unsigned long long)want,
				   (unsigned long long)jit, (unsigned long long)jitc,
				   ok ? "" : err.msg)) {
				fails++;
				break;
			}
		}
		with += cmovs(p, &pairs) >= NSEL / 2;
		bpfrt_prog_free(p);
	}
	/* most ALU forms the generator picks are selectable */
	CHECK(with > progs / 2, "only %u of %u programs have cmovs for most selects", with,
	      progs);
	/* pairs on one condition, independent of each other, share the compare */
	CHECK(pairs > progs, "only %u cmov pairs in %u programs", pairs, progs);
	printf("  %u programs of %u selects, %u with cmovs for most, %u pairs of cmovs\n",
	       progs, NSEL, with, pairs);
}
