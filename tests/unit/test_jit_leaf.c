/* test_jit_leaf.c — JIT code that calls nothing and has no stack runs without a run environment: same results, callee-saved registers kept. */
#include <string.h>

#include "bpfrt.h"
#include "t.h"

#define I(c, d, s, o, i) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) }

/* r0 = ((len + 1) * (len + 2)) ^ (len + 3), plus len + 4, len + 3, ..., 1: in r6..r9. */
static const struct bpfrt_insn uses_r6_r9[] = {
	I(0xbf, 6, 2, 0, 0), I(0x07, 6, 0, 0, 1),	/* r6 = len + 1 */
	I(0xbf, 7, 2, 0, 0), I(0x07, 7, 0, 0, 2),	/* r7 = len + 2 */
	I(0xbf, 8, 2, 0, 0), I(0x07, 8, 0, 0, 3),	/* r8 = len + 3 */
	I(0xbf, 9, 2, 0, 0), I(0x07, 9, 0, 0, 4),	/* r9 = len + 4 */
	I(0xbf, 0, 6, 0, 0), I(0x2f, 0, 7, 0, 0),	/* r0 = r6 * r7 */
	I(0xaf, 0, 8, 0, 0), I(0x0f, 0, 9, 0, 0),	/* r0 ^= r8; r0 += r9 */
	I(0x07, 9, 0, 0, -1), I(0x55, 9, 0, -3, 0),	/* r9--, back to r0 += r9 until 0 */
	I(0x95, 0, 0, 0, 0),
};

/* A program with a stack: not a leaf. */
static const struct bpfrt_insn with_stack[] = {
	I(0x7b, 10, 2, -8, 0),				/* *(u64 *)(r10 - 8) = len */
	I(0x79, 0, 10, -8, 0),				/* r0 = *(u64 *)(r10 - 8) */
	I(0x95, 0, 0, 0, 0),
};

static uint64_t expect(uint64_t len)
{
	uint64_t r6 = len + 1, r7 = len + 2, r8 = len + 3, r9 = len + 4, r0 = r6 * r7 ^ r8;

	do {
		r0 += r9;
		r9--;
	} while (r9 != 0);
	return r0;
}

/* Does the entry save r12 (push r12: 41 54), as an entry that sets up env does? */
static bool saves_env(struct bpfrt_prog *p)
{
	const void *code;
	const uint32_t *offs;
	size_t len;
	struct bpfrt_error err;

	if (!CHECK(bpfrt_prog_jited(p, false, &code, &len, &offs, &err) == 0, "%s", err.msg))
		return false;
	for (size_t i = 0; i + 2 <= offs[0]; i++)
		if (!memcmp((const uint8_t *)code + i, "\x41\x54", 2))
			return true;
	return false;
}

TEST(jit_leaf_code)
{
	struct bpfrt_prog *p = NULL, *q = NULL;
	struct bpfrt_error err;
	uint8_t buf[64];

	CHECK(bpfrt_prog_new(uses_r6_r9, sizeof(uses_r6_r9) / sizeof(uses_r6_r9[0]), NULL, &p,
			     &err) == 0, "%s", err.msg);
	CHECK(bpfrt_prog_new(with_stack, sizeof(with_stack) / sizeof(with_stack[0]), NULL, &q,
			     &err) == 0, "%s", err.msg);
	if (!p || !q)
		return;
	for (size_t len = 0; len <= sizeof(buf); len += 7)
		for (int e = 0; e < 2; e++)
			for (int c = 0; c < 2; c++) {
				BPFRT_OPTS(bpfrt_run_opts, o, .ctx = buf, .ctx_len = len,
					   .checked = c, .engine = e ? BPFRT_ENGINE_JIT
								 : BPFRT_ENGINE_INTERP);

				int ret = bpfrt_prog_run(p, &o, &err);

				CHECK(ret == 0 && o.retval == expect(len),
				      "engine %d checked %d len %zu: %llu, not %llu (%s)", e, c,
				      len, (unsigned long long)o.retval,
				      (unsigned long long)expect(len), err.msg);
				ret = bpfrt_prog_run(q, &o, &err);
				CHECK(ret == 0 && o.retval == len,
				      "stack, engine %d checked %d len %zu: %llu (%s)", e, c, len,
				      (unsigned long long)o.retval, err.msg);
			}
	CHECK(!saves_env(p), "code with no calls and no stack sets up env anyway");
	CHECK(saves_env(q), "code with a stack does not set up env");
	bpfrt_prog_free(p);
	bpfrt_prog_free(q);
}
