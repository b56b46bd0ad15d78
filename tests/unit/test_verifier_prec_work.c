/* test_verifier_prec_work.c — precision backtracking does bounded work (entries walked per instruction) on loops and slow fuzz inputs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../fuzz/verifier_gen.h"
#include "t.h"
#include "verifier/verifier.h"

/*
 * Each case runs until the budget of processed instructions is spent (a
 * loop that does not end soon enough: -E2BIG) or is verified; what is
 * bounded is the count of history entries the precision and stack-liveness
 * walks went through (vresult.prec_steps), per processed instruction. Before
 * the walks remembered where they went, a loop at the cap of states per
 * instruction walked its whole history (up to 512 entries) for each mark:
 * 100 to 350 entries per instruction on these programs.
 */
#define BUDGET 100000
#define STEPS_PER_INSN 8

/* fuzz_verifier's maps: map 0 an array of one 16-byte value, map 1 a ring buffer */
static const struct vmap fuzz_maps[2] = {
	{ .type = 2, .key_size = 4, .value_size = 16, .max_entries = 1 },
	{ .type = 27, .max_entries = 4096 },
};

static void bounded(const char *name, const struct bpfrt_insn *insns, size_t n,
		    enum bpfrt_prog_type type, int want)
{
	struct vinput in = { .insns = insns, .n = n, .maps = fuzz_maps, .nmaps = 2, .type = type,
			     .ctx_size = CTX_SIZE, .max_processed = BUDGET };
	struct vresult res = { 0 };
	struct bpfrt_error err = { 0 };
	int ret = verify(&in, &res, &err);

	printf("verifier_prec_work: %-34s %8llu entries walked back, %7llu instructions, %4llu states\n",
	       name, (unsigned long long)res.prec_steps, (unsigned long long)res.insns_processed,
	       (unsigned long long)res.states);
	CHECK(ret == want, "%s: verify gave %d (%s), want %d", name, ret, err.msg, want);
	CHECK(res.insns_processed > 1000, "%s: only %llu instructions processed", name,
	      (unsigned long long)res.insns_processed);
	CHECK(res.prec_steps <= STEPS_PER_INSN * res.insns_processed, "%s: %llu history entries "
	      "walked back for %llu instructions processed", name,
	      (unsigned long long)res.prec_steps, (unsigned long long)res.insns_processed);
}

/* r0, r9 = numbers; r7 = r10; the stack's first slots written: 10 insns */
#define PROLOGUE INS(0xb7, 0, 0, 0, 0), INS(0xb7, 9, 0, 0, 15), INS(0xb7, 4, 0, 0, 6), \
	INS(0xbf, 7, 10, 0, 0), INS(0x7a, 10, 0, -8, 1), INS(0x7a, 10, 0, -16, 2), \
	INS(0x7a, 10, 0, -24, 3), INS(0x7a, 10, 0, -32, 4), INS(0xb7, 2, 0, 0, 0), \
	INS(0xb7, 3, 0, 0, 0)

TEST(verifier_prec_work_constructed)
{
	/* a jump always taken on a known number, each iteration a new state (w9 changes) */
	const struct bpfrt_insn jump[] = {
		PROLOGUE,
		INS(0x14, 9, 0, 0, 63),		/* w9 -= 63 */
		INS(0x1d, 0, 0, -2, 0),		/* if r0 == r0 goto -2 */
		INS(0x95, 0, 0, 0, 0),
	};
	/* a number compared with a pointer: both ways, each decided on r4 */
	const struct bpfrt_insn mixed[] = {
		PROLOGUE,
		INS(0x04, 2, 0, 0, 2),		/* w2 += 2 */
		INS(0x5d, 7, 4, -2, 0),		/* if r7 != r4 goto -2 */
		INS(0xb7, 0, 0, 0, 0),
		INS(0x95, 0, 0, 0, 0),
	};
	/* a counter kept in a stack slot, filled, counted, spilled and decided on */
	const struct bpfrt_insn spill[] = {
		PROLOGUE,
		INS(0x79, 1, 10, -8, 0),	/* r1 = *(u64 *)(r10 - 8) */
		INS(0x07, 1, 0, 0, 1),		/* r1 += 1 */
		INS(0x7b, 10, 1, -8, 0),	/* *(u64 *)(r10 - 8) = r1 */
		INS(0x7b, 10, 9, -40, 0),	/* *(u64 *)(r10 - 40) = r9 */
		INS(0x14, 9, 0, 0, 63),		/* w9 -= 63 */
		INS(0x55, 1, 0, -6, 0),		/* if r1 != 0 goto -6 */
		INS(0xb7, 0, 0, 0, 0),
		INS(0x95, 0, 0, 0, 0),
	};
	/* the same as a bpf_loop callback: marks in frame 1, the caller's slots relied on */
	const struct bpfrt_insn callback[] = {
		PROLOGUE,
		INS(0xb7, 1, 0, 0, 4),		/* r1 = 4 iterations */
		INS(0x18, 2, 4, 0, 6),		/* r2 = the callback */
		INS(0, 0, 0, 0, 0),
		INS(0xb7, 3, 0, 0, 0),
		INS(0xb7, 4, 0, 0, 0),
		INS(0x85, 0, 0, 0, 181),	/* bpf_loop */
		INS(0xb7, 0, 0, 0, 0),
		INS(0x95, 0, 0, 0, 0),
		INS(0xb7, 4, 0, 0, 6),		/* callback: r4 = 6, r7 = r10 */
		INS(0xbf, 7, 10, 0, 0),
		INS(0x04, 2, 0, 0, 2),		/* w2 += 2 */
		INS(0x5d, 7, 4, -2, 0),		/* if r7 != r4 goto -2 */
		INS(0xb7, 0, 0, 0, 0),
		INS(0x95, 0, 0, 0, 0),
	};

	bounded("jump", jump, sizeof(jump) / sizeof(jump[0]), BPFRT_PROG_UNSPEC, -E2BIG);
	bounded("mixed", mixed, sizeof(mixed) / sizeof(mixed[0]), BPFRT_PROG_UNSPEC, -E2BIG);
	bounded("spill", spill, sizeof(spill) / sizeof(spill[0]), BPFRT_PROG_UNSPEC, -E2BIG);
	bounded("callback", callback, sizeof(callback) / sizeof(callback[0]), BPFRT_PROG_UNSPEC,
		-E2BIG);
}

/* fuzz_verifier's slow inputs as it builds them (tests/fuzz-regressions/verifier-slow-*) */
TEST(verifier_prec_work_fuzz_inputs)
{
	static const char *const inputs[] = {
		"verifier-slow-precision-jump",		/* the jump case above: a libFuzzer timeout */
		"verifier-slow-precision-callback",	/* the mixed case, in main and a callback */
		"verifier-slow-precision-ctx",		/* the same on the context pointer */
	};

	for (size_t k = 0; k < sizeof(inputs) / sizeof(inputs[0]); k++) {
		char path[512];
		uint8_t data[4096];
		struct bpfrt_insn insns[MAXN];
		enum bpfrt_prog_type type;
		FILE *f;

		snprintf(path, sizeof(path), "%s/fuzz-regressions/%s", t_datadir(), inputs[k]);
		f = fopen(path, "rb");
		if (!CHECK(f, "%s is missing", path))
			continue;
		size_t size = fread(data, 1, sizeof(data), f);
		fclose(f);
		size_t n = build_ext(data, size, insns, &type);
		bounded(inputs[k], insns, n, type, -E2BIG);
	}
}
