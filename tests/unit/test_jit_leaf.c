/* test_jit_leaf.c — JIT code that calls nothing runs without a run environment (its frame on the native stack): same results, callee-saved registers kept. */
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

/* A local call: not a leaf (it needs env for the call depth). */
static const struct bpfrt_insn with_call[] = {
	I(0x85, 0, 1, 0, 1),				/* call +1 */
	I(0x95, 0, 0, 0, 0),
	I(0xbf, 0, 2, 0, 0),				/* r0 = len */
	I(0x95, 0, 0, 0, 0),
};

/* Two exits, no registers to save: each exit stores r0 itself. */
static const struct bpfrt_insn two_exits[] = {
	I(0x25, 2, 0, 2, 10),				/* if len > 10 goto +2 */
	I(0xb7, 0, 0, 0, 1), I(0x95, 0, 0, 0, 0),	/* r0 = 1 */
	I(0xbf, 0, 2, 0, 0), I(0x27, 0, 0, 0, 3),	/* r0 = len * 3 */
	I(0x95, 0, 0, 0, 0),
};

/*
 * The whole 512-byte frame of a leaf, with r6..r9 in use: slot k (from
 * r10 - 512) = len + k, then r0 = sum of slot k * (k + 1), read backwards.
 */
static const struct bpfrt_insn full_frame[] = {
	I(0xbf, 6, 10, 0, 0), I(0x07, 6, 0, 0, -512),	/* r6 = r10 - 512 */
	I(0xb7, 7, 0, 0, 0),				/* r7 = k = 0 */
	I(0xbf, 8, 2, 0, 0), I(0x0f, 8, 7, 0, 0),	/* r8 = len + k */
	I(0x7b, 6, 8, 0, 0),				/* *(u64 *)r6 = r8 */
	I(0x07, 6, 0, 0, 8), I(0x07, 7, 0, 0, 1),	/* r6 += 8; k++ */
	I(0x55, 7, 0, -6, 64),				/* if k != 64 goto r8 = */
	I(0xb7, 0, 0, 0, 0), I(0xb7, 9, 0, 0, 64),	/* r0 = 0; r9 = 64 */
	I(0x07, 6, 0, 0, -8),				/* r6 -= 8 */
	I(0x79, 8, 6, 0, 0), I(0x2f, 8, 9, 0, 0),	/* r8 = *(u64 *)r6 * r9 */
	I(0x0f, 0, 8, 0, 0), I(0x07, 9, 0, 0, -1),	/* r0 += r8; r9-- */
	I(0x55, 9, 0, -6, 0),				/* if r9 != 0 goto r6 -= 8 */
	I(0x95, 0, 0, 0, 0),
};

static uint64_t expect_frame(uint64_t len)
{
	uint64_t r0 = 0;

	for (uint64_t k = 0; k < 64; k++)
		r0 += (len + k) * (k + 1);
	return r0;
}

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

static struct bpfrt_prog *new_prog(const struct bpfrt_insn *in, size_t n)
{
	struct bpfrt_prog *p = NULL;
	struct bpfrt_error err;

	CHECK(bpfrt_prog_new(in, n, NULL, &p, &err) == 0, "%s", err.msg);
	return p;
}

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NEW(a) new_prog(a, ARRAY_LEN(a))

/* Run p on both engines and modes; every run must return want(len). */
static void same_everywhere(struct bpfrt_prog *p, const char *name,
			    uint64_t (*want)(uint64_t len))
{
	uint8_t buf[64];
	struct bpfrt_error err;

	for (size_t len = 0; len <= sizeof(buf); len += 7)
		for (int e = 0; e < 2; e++)
			for (int c = 0; c < 2; c++) {
				BPFRT_OPTS(bpfrt_run_opts, o, .ctx = buf, .ctx_len = len,
					   .checked = c, .engine = e ? BPFRT_ENGINE_JIT
								 : BPFRT_ENGINE_INTERP);
				int ret = bpfrt_prog_run(p, &o, &err);

				CHECK(ret == 0 && o.retval == want(len) && o.insns == (c ? o.insns : 0),
				      "%s, engine %d checked %d len %zu: %llu, not %llu (%s)", name,
				      e, c, len, (unsigned long long)o.retval,
				      (unsigned long long)want(len), err.msg);
			}
}

static uint64_t ident(uint64_t len)
{
	return len;
}

static uint64_t expect_two(uint64_t len)
{
	return len > 10 ? len * 3 : 1;
}

TEST(jit_leaf_code)
{
	struct bpfrt_prog *p = NEW(uses_r6_r9), *q = NEW(with_stack), *c = NEW(with_call);
	struct bpfrt_prog *t = NEW(two_exits), *f = NEW(full_frame);

	if (!p || !q || !c || !t || !f)
		return;
	same_everywhere(p, "r6..r9", expect);
	same_everywhere(q, "stack", ident);
	same_everywhere(c, "call", ident);
	same_everywhere(t, "two exits", expect_two);
	same_everywhere(f, "full frame", expect_frame);
	CHECK(!saves_env(p), "code with no calls and no stack sets up env anyway");
	CHECK(!saves_env(q), "code with a stack but no calls sets up env anyway");
	CHECK(!saves_env(f), "code with a stack and r6..r9 sets up env anyway");
	CHECK(!saves_env(t), "code with two exits sets up env anyway");
	CHECK(saves_env(c), "code with a local call does not set up env");
	bpfrt_prog_free(p);
	bpfrt_prog_free(q);
	bpfrt_prog_free(c);
	bpfrt_prog_free(t);
	bpfrt_prog_free(f);
}

/*
 * Leaf code tail-called from code that is not: it runs in its caller's
 * frame and its exit must return r0 there, whether it saves registers and
 * has a frame or neither. Both engines, both modes, from ctx lengths 0..63.
 */
TEST(jit_leaf_tail_called)
{
	static const struct bpfrt_insn caller[] = {
		I(0xbf, 6, 2, 0, 0),			/* r6 = len (the target's r2 is the map) */
		I(0x18, 2, 5, 0, 0), I(0, 0, 0, 0, 0),	/* r2 = map 0, the prog array */
		I(0xb7, 3, 0, 0, 0),			/* r3 = 0 */
		I(0x85, 0, 0, 0, 12),			/* bpf_tail_call */
		I(0xb7, 0, 0, 0, 99),			/* not reached */
		I(0x95, 0, 0, 0, 0),
	};
	/* (not uses_r6_r9: its loop counts down from r2, here the map's address) */
	const struct bpfrt_insn *targets[] = { two_exits, full_frame, with_stack };
	size_t ntargets[] = { ARRAY_LEN(two_exits), ARRAY_LEN(full_frame), ARRAY_LEN(with_stack) };
	BPFRT_OPTS(bpfrt_map_opts, mo, .type = BPFRT_MAP_PROG_ARRAY, .key_size = 4,
		   .value_size = 4, .max_entries = 1);
	struct bpfrt_map *pa = NULL;
	struct bpfrt_error err;
	uint8_t buf[64] = { 0 };

	if (!CHECK(bpfrt_map_create(&mo, &pa, &err) == 0, "prog array: %s", err.msg))
		return;
	for (size_t t = 0; t < ARRAY_LEN(targets); t++) {
		BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &pa, .nmaps = 1);
		struct bpfrt_prog *c = NULL, *p = new_prog(targets[t], ntargets[t]);
		uint32_t key = 0;

		if (!p || !CHECK(bpfrt_prog_new(caller, ARRAY_LEN(caller), &po, &c, &err) == 0,
				 "caller: %s", err.msg)) {
			bpfrt_prog_free(p);
			continue;
		}
		bpfrt_prog_use_builtin_helpers(c);
		CHECK(bpfrt_map_update(pa, &key, &p, BPFRT_ANY) == 0, "slot 0");
		for (size_t len = 0; len < sizeof(buf); len += 9)
			for (int chk = 0; chk < 2; chk++) {
				uint64_t r0[2];
				int ret[2];

				for (int e = 0; e < 2; e++) {
					BPFRT_OPTS(bpfrt_run_opts, o, .ctx = buf, .ctx_len = len,
						   .checked = chk, .engine = e ? BPFRT_ENGINE_JIT
									   : BPFRT_ENGINE_INTERP);

					ret[e] = bpfrt_prog_run(c, &o, &err);
					r0[e] = o.retval;
				}
				CHECK(ret[0] == 0 && ret[1] == 0 && r0[0] == r0[1] && r0[0] != 99,
				      "target %zu, checked %d, len %zu: interp %d %#llx, jit %d %#llx",
				      t, chk, len, ret[0], (unsigned long long)r0[0], ret[1],
				      (unsigned long long)r0[1]);
			}
		bpfrt_map_delete(pa, &key);
		bpfrt_prog_free(c);
		bpfrt_prog_free(p);
	}
	bpfrt_map_free(pa);
}
