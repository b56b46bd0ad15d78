/* test_fuzz_regressions.c — what the verifier fuzzers found (tests/fuzz-regressions/), one test each, on both engines and both modes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bpfrt.h"
#include "t.h"

#define INS(c, d, s, o, i) (struct bpfrt_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), \
						.off = (int16_t)(o), .imm = (i) }

/* Verify insns as UNSPEC with ctx_size bytes, then run them checked and unchecked on both engines; each run must give want. */
static void verify_and_run(const char *name, const struct bpfrt_insn *insns, size_t n,
			   uint64_t want)
{
	struct bpfrt_prog *prog;
	struct bpfrt_error err;
	uint8_t ctx[64] = { 0 };

	if (!CHECK(bpfrt_prog_new(insns, n, NULL, &prog, &err) == 0, "%s: %s", name, err.msg))
		return;
	BPFRT_OPTS(bpfrt_verify_opts, vo, .type = BPFRT_PROG_UNSPEC, .ctx_size = sizeof(ctx));
	CHECK(bpfrt_prog_verify(prog, &vo, &err) == 0, "%s: the verifier refuses it: %s", name,
	      err.msg);
	bpfrt_prog_use_builtin_helpers(prog);
	for (int engine = 0; engine < 2; engine++)
		for (int checked = 0; checked < 2; checked++) {
			BPFRT_OPTS(bpfrt_run_opts, ro, .engine = (enum bpfrt_engine)engine,
				   .checked = checked, .ctx = ctx, .ctx_len = sizeof(ctx),
				   .budget = 100000);
			int ret = bpfrt_prog_run(prog, &ro, &err);

			CHECK(ret == 0 && ro.retval == want, "%s: engine %d %s: ret %d r0 %llu, want "
			      "%llu: %s", name, engine, checked ? "checked" : "unchecked", ret,
			      (unsigned long long)ro.retval, (unsigned long long)want,
			      ret ? err.msg : "");
		}
	bpfrt_prog_free(prog);
}

/*
 * verifier-callback-helper-frame: a bpf_loop callback that calls a helper.
 * The interpreter set run->frame for every helper, so the callback's own
 * call left it at the callback's frame, and each iteration was called one
 * frame deeper, until the 8th failed "call nesting exceeds 8 frames".
 */
TEST(fuzz_regression_callback_helper_frame)
{
	const struct bpfrt_insn insns[] = {
		INS(0xb7, 1, 0, 0, 20),		/* r1 = 20 iterations */
		INS(0x18, 2, 4, 0, 5),		/* r2 = the callback at 7 */
		INS(0, 0, 0, 0, 0),
		INS(0xb7, 3, 0, 0, 0),
		INS(0xb7, 4, 0, 0, 0),
		INS(0x85, 0, 0, 0, 181),	/* bpf_loop: r0 = 20 */
		INS(0x95, 0, 0, 0, 0),
		INS(0x85, 0, 0, 0, 7),		/* callback: bpf_get_prandom_u32() */
		INS(0xb7, 0, 0, 0, 0),
		INS(0x95, 0, 0, 0, 0),
	};

	verify_and_run("callback-helper-frame", insns, sizeof(insns) / sizeof(insns[0]), 20);
}

/*
 * verifier-direct-value-percpu (fuzz_verifier_corpus, a map mutation of
 * xdp_redirect_cpu_kern.o): lddw src 6 (a map value's address) of a
 * per-CPU array was accepted, as a pointer into its value; the engines (and
 * the kernel) have a direct value address only for arrays, so the run failed.
 */
TEST(fuzz_regression_direct_value_needs_array)
{
	const struct bpfrt_insn insns[] = {
		INS(0x18, 1, 6, 0, 0),		/* r1 = &map[0].value[0] */
		INS(0, 0, 0, 0, 0),
		INS(0x79, 0, 1, 0, 0),		/* r0 = *(u64 *)r1 */
		INS(0x95, 0, 0, 0, 0),
	};
	static const enum bpfrt_map_type types[] = { BPFRT_MAP_ARRAY, BPFRT_MAP_PERCPU_ARRAY,
						     BPFRT_MAP_HASH };

	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		struct bpfrt_map *map;
		struct bpfrt_prog *prog;
		struct bpfrt_error err;

		BPFRT_OPTS(bpfrt_map_opts, mo, .type = types[t], .key_size = 4, .value_size = 8,
			   .max_entries = 1);
		if (!CHECK(bpfrt_map_create(&mo, &map, &err) == 0, "map: %s", err.msg))
			continue;
		BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &map, .nmaps = 1);
		if (CHECK(bpfrt_prog_new(insns, 4, &po, &prog, &err) == 0, "%s", err.msg)) {
			BPFRT_OPTS(bpfrt_verify_opts, vo, .type = BPFRT_PROG_UNSPEC, .ctx_size = 8);
			int v = bpfrt_prog_verify(prog, &vo, &err);

			if (types[t] == BPFRT_MAP_ARRAY) {
				CHECK(v == 0, "direct value of an array refused: %s", err.msg);
				bpfrt_prog_use_builtin_helpers(prog);
				for (int engine = 0; engine < 2; engine++) {
					uint8_t ctx[8];
					BPFRT_OPTS(bpfrt_run_opts, ro, .engine = (enum bpfrt_engine)engine,
						   .checked = true, .ctx = ctx, .ctx_len = 8);
					CHECK(bpfrt_prog_run(prog, &ro, &err) == 0, "engine %d: %s",
					      engine, err.msg);
				}
			} else {
				CHECK(v == -EINVAL && strstr(err.msg, "array"), "direct value of a map "
				      "of type %d: %d %s", types[t], v, err.msg);
			}
			bpfrt_prog_free(prog);
		}
		bpfrt_map_free(map);
	}
}
