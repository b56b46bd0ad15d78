/* test_fuzz_regressions.c — what the verifier fuzzers found (tests/fuzz-regressions/), one test each, on both engines and both modes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../fuzz/verifier_gen.h"
#include "bpfrt.h"
#include "t.h"
#include "vfuzz_kernel.h"

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
/*
 * verifier_corpus-direct-value-dead-code: the same in code the verifier
 * proves dead: the engines resolve every lddw before running, so it must be
 * refused there too (the kernel checks every lddw before verifying).
 */
TEST(fuzz_regression_direct_value_needs_array)
{
	const struct bpfrt_insn insns[] = {
		INS(0x18, 1, 6, 0, 0),		/* r1 = &map[0].value[0] */
		INS(0, 0, 0, 0, 0),
		INS(0x79, 0, 1, 0, 0),		/* r0 = *(u64 *)r1 */
		INS(0x95, 0, 0, 0, 0),
	};
	const struct bpfrt_insn dead[] = {
		INS(0xb7, 0, 0, 0, 0),
		INS(0x15, 0, 0, 2, 0),		/* if r0 == 0 goto exit: always */
		INS(0x18, 1, 6, 0, 0),		/* never runs */
		INS(0, 0, 0, 0, 0),
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
		if (CHECK(bpfrt_prog_new(dead, 5, &po, &prog, &err) == 0, "%s", err.msg)) {
			BPFRT_OPTS(bpfrt_verify_opts, vo, .type = BPFRT_PROG_UNSPEC, .ctx_size = 8);
			int v = bpfrt_prog_verify(prog, &vo, &err);

			CHECK(types[t] == BPFRT_MAP_ARRAY ? v == 0 : v == -EINVAL, "dead direct value "
			      "of a map of type %d: %d %s", types[t], v, err.msg);
			bpfrt_prog_free(prog);
		}
		bpfrt_map_free(map);
	}
}

/*
 * fuzz_verifier's inputs from before build_ext (its programs now come from
 * build_ext, so these bytes make other programs there): the programs
 * build() makes of them, verified, run on both engines in both modes.
 */
TEST(fuzz_regression_verifier_inputs)
{
	static const struct { const char *name; bool pointer_r0; } inputs[] = {
		{ "verifier-lddw-liveness", false },		/* liveness skips lddw's 2nd slot */
		{ "verifier-callback-helper-frame", false },	/* see above */
		{ "verifier-pointer-leak-r0", true },		/* r0 = r10: allowed, not a number */
	};
	struct bpfrt_map *map;
	struct bpfrt_error err;
	BPFRT_OPTS(bpfrt_map_opts, mo, .type = BPFRT_MAP_ARRAY, .key_size = 4, .value_size = 16,
		   .max_entries = 1);

	if (!CHECK(bpfrt_map_create(&mo, &map, &err) == 0, "map: %s", err.msg))
		return;
	for (size_t k = 0; k < sizeof(inputs) / sizeof(inputs[0]); k++) {
		char path[512];
		uint8_t data[4096];
		struct bpfrt_insn insns[MAXN];
		struct bpfrt_prog *prog;
		FILE *f;
		size_t size;

		snprintf(path, sizeof(path), "%s/fuzz-regressions/%s", t_datadir(), inputs[k].name);
		f = fopen(path, "rb");
		if (!CHECK(f, "%s is missing", path))
			continue;
		size = fread(data, 1, sizeof(data), f);
		fclose(f);
		size_t n = build(data, size, insns);
		BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &map, .nmaps = 1);
		if (!CHECK(bpfrt_prog_new(insns, n, &po, &prog, &err) == 0, "%s: %s", path, err.msg))
			continue;
		BPFRT_OPTS(bpfrt_verify_opts, vo, .type = BPFRT_PROG_UNSPEC, .ctx_size = CTX_SIZE);
		if (bpfrt_prog_verify(prog, &vo, &err) == 0) {
			bpfrt_prog_use_builtin_helpers(prog);
			for (int engine = 0; engine < 2; engine++) {
				uint64_t r0[2];

				for (int checked = 0; checked < 2; checked++) {
					uint8_t ctx[CTX_SIZE], zero[16] = { 0 };
					uint32_t key = 0;

					memset(ctx, 0x5a, sizeof(ctx));
					bpfrt_map_update(map, &key, zero, 0);
					BPFRT_OPTS(bpfrt_run_opts, ro, .engine = (enum bpfrt_engine)engine,
						   .checked = checked, .ctx = ctx, .ctx_len = sizeof(ctx),
						   .budget = 1000000);
					CHECK(bpfrt_prog_run(prog, &ro, &err) == 0, "%s: engine %d %s: %s",
					      inputs[k].name, engine, checked ? "checked" : "unchecked",
					      err.msg);
					r0[checked] = ro.retval;
				}
				CHECK(inputs[k].pointer_r0 || r0[0] == r0[1], "%s: engine %d: unchecked "
				      "%#llx, checked %#llx", inputs[k].name, engine,
				      (unsigned long long)r0[0], (unsigned long long)r0[1]);
			}
		}
		bpfrt_prog_free(prog);
	}
	bpfrt_map_free(map);
}

/*
 * verifier_corpus-skb-pointer-part (test_verifier_fuzz's kernel comparison,
 * an offset mutation of tcbpf1_kern.o): a 4-byte read at __sk_buff+148,
 * the upper half of flow_keys, was accepted as a number, as were reads of a
 * part of sk (168..175) and of data, data_end and data_meta: parts of
 * pointers. The kernel refuses any access inside those fields but the whole
 * one; so does bpfrt now. Each verdict is compared with the kernel's.
 */
TEST(fuzz_regression_skb_pointer_parts)
{
	static const struct { uint8_t code; int16_t off; bool ok; } reads[] = {
		{ 0x61, 148, false }, { 0x61, 172, false }, { 0x71, 145, false },
		{ 0x71, 77, false }, { 0x69, 82, false }, { 0x71, 143, false },
		{ 0x61, 76, true }, { 0x61, 80, true }, { 0x61, 140, true }, { 0x61, 8, true },
	};

	for (size_t k = 0; k < sizeof(reads) / sizeof(reads[0]); k++) {
		const struct bpfrt_insn insns[] = {
			INS(reads[k].code, 0, 1, reads[k].off, 0),	/* r0 = *(size *)(r1 + off) */
			INS(0xb7, 0, 0, 0, 0),
			INS(0x95, 0, 0, 0, 0),
		};
		struct bpfrt_prog *prog;
		struct bpfrt_error err;

		if (!CHECK(bpfrt_prog_new(insns, 3, NULL, &prog, &err) == 0, "%s", err.msg))
			continue;
		BPFRT_OPTS(bpfrt_verify_opts, vo, .type = BPFRT_PROG_SCHED_CLS);
		int v = bpfrt_prog_verify(prog, &vo, &err);
		CHECK((v == 0) == reads[k].ok, "sched_cls read of code %#x at %d: bpfrt says %d (%s)",
		      reads[k].code, reads[k].off, v, err.msg);
		int fd = vfk_prog_load(BPFRT_PROG_SCHED_CLS, insns, 3, NULL, NULL, 0);
		if (fd >= 0)
			close(fd);
		if (fd != -EPERM && fd != -ENOSYS)
			CHECK((fd >= 0) == reads[k].ok, "sched_cls read of code %#x at %d: the kernel "
			      "says %d", reads[k].code, reads[k].off, fd);
		bpfrt_prog_free(prog);
	}
}

/*
 * From test_verifier_fuzz's kernel comparison (a map mutation of
 * xdp_redirect_cpu_kern.o): bpf_map_lookup_elem of a cpumap was accepted;
 * the kernel allows a cpumap only to bpf_redirect_map, and no program may
 * update or delete in a cpumap, devmap or xskmap. Each case is compared with
 * the kernel.
 */
TEST(fuzz_regression_redirect_map_helpers)
{
	static const struct { enum bpfrt_map_type type; uint32_t value; int helper; bool ok; } cases[] = {
		{ BPFRT_MAP_CPUMAP, 4, 1, false }, { BPFRT_MAP_CPUMAP, 4, 2, false },
		{ BPFRT_MAP_CPUMAP, 4, 3, false }, { BPFRT_MAP_DEVMAP, 4, 2, false },
		{ BPFRT_MAP_DEVMAP, 4, 3, false }, { BPFRT_MAP_XSKMAP, 4, 3, false },
		{ BPFRT_MAP_DEVMAP, 4, 1, true }, { BPFRT_MAP_CPUMAP, 4, 51, true },
		{ BPFRT_MAP_ARRAY, 4, 2, true },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		/* fp-8 = 0 (key), fp-16 = 0 (value); call helper(map, fp-8, fp-16 | 0, 0) */
		const struct bpfrt_insn insns[] = {
			INS(0x7a, 10, 0, -8, 0),
			INS(0x7a, 10, 0, -16, 0),
			INS(0x18, 1, 5, 0, 0),
			INS(0, 0, 0, 0, 0),
			INS(0xbf, 2, 10, 0, 0),
			INS(0x07, 2, 0, 0, -8),
			INS(0xbf, 3, 10, 0, 0),
			INS(0x07, 3, 0, 0, -16),
			INS(0xb7, 4, 0, 0, 0),
			INS(0x85, 0, 0, 0, cases[k].helper),
			INS(0xb7, 0, 0, 0, 2),
			INS(0x95, 0, 0, 0, 0),
		};
		struct bpfrt_insn prog_insns[12];
		struct bpfrt_map *map;
		struct bpfrt_prog *prog;
		struct bpfrt_error err;

		memcpy(prog_insns, insns, sizeof(insns));
		if (cases[k].helper == 51) {	/* bpf_redirect_map(map, 0, 0) */
			prog_insns[4] = INS(0xb7, 2, 0, 0, 0);
			prog_insns[6] = INS(0xb7, 3, 0, 0, 0);
			prog_insns[7] = INS(0xb7, 3, 0, 0, 0);
		}
		BPFRT_OPTS(bpfrt_map_opts, mo, .type = cases[k].type, .key_size = 4,
			   .value_size = cases[k].value, .max_entries = 4);
		if (!CHECK(bpfrt_map_create(&mo, &map, &err) == 0, "map type %d: %s", cases[k].type,
			   err.msg))
			continue;
		BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &map, .nmaps = 1, .type = BPFRT_PROG_XDP);
		if (CHECK(bpfrt_prog_new(prog_insns, 12, &po, &prog, &err) == 0, "%s", err.msg)) {
			BPFRT_OPTS(bpfrt_verify_opts, vo, .type = BPFRT_PROG_XDP);
			int v = bpfrt_prog_verify(prog, &vo, &err);

			CHECK((v == 0) == cases[k].ok, "helper %d on map type %d: bpfrt says %d (%s)",
			      cases[k].helper, cases[k].type, v, err.msg);
			int mfd = vfk_map_create(cases[k].type, 4, cases[k].value, 4, 0);
			if (mfd >= 0) {
				int fd = vfk_prog_load(BPFRT_PROG_XDP, prog_insns, 12, &mfd, NULL, 0);

				if (fd >= 0)
					close(fd);
				CHECK((fd >= 0) == cases[k].ok, "helper %d on map type %d: the kernel "
				      "says %d", cases[k].helper, cases[k].type, fd);
				close(mfd);
			}
			bpfrt_prog_free(prog);
		}
		bpfrt_map_free(map);
	}
}

/*
 * verifier_corpus-csum-diff-null (fuzz_verifier_corpus, an immediate
 * mutation of xdp_adjust_tail_kern.o): bpf_csum_diff(NULL, 1, ...) was
 * accepted, as NULL was taken for any size; an unchecked run would read
 * address 0. NULL goes only with a size of 0, as in the kernel; each case
 * is compared with it.
 */
TEST(fuzz_regression_null_mem_needs_size_0)
{
	static const struct { int32_t from_size, to_size; bool ok; } cases[] = {
		{ 1, 0, false }, { 4, 0, false }, { 0, 4, false }, { 0, 0, true },
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct bpfrt_insn insns[] = {
			INS(0xb7, 1, 0, 0, 0),			/* from = NULL */
			INS(0xb7, 2, 0, 0, cases[k].from_size),
			INS(0xb7, 3, 0, 0, 0),			/* to = NULL */
			INS(0xb7, 4, 0, 0, cases[k].to_size),
			INS(0xb7, 5, 0, 0, 0),
			INS(0x85, 0, 0, 0, 28),			/* bpf_csum_diff */
			INS(0xb7, 0, 0, 0, 2),
			INS(0x95, 0, 0, 0, 0),
		};
		struct bpfrt_prog *prog;
		struct bpfrt_error err;
		BPFRT_OPTS(bpfrt_prog_opts, po, .type = BPFRT_PROG_XDP);

		if (!CHECK(bpfrt_prog_new(insns, 8, &po, &prog, &err) == 0, "%s", err.msg))
			continue;
		BPFRT_OPTS(bpfrt_verify_opts, vo, .type = BPFRT_PROG_XDP);
		int v = bpfrt_prog_verify(prog, &vo, &err);
		CHECK((v == 0) == cases[k].ok, "csum_diff(NULL, %d, NULL, %d): bpfrt says %d (%s)",
		      cases[k].from_size, cases[k].to_size, v, err.msg);
		int fd = vfk_prog_load(BPFRT_PROG_XDP, insns, 8, NULL, NULL, 0);
		if (fd >= 0)
			close(fd);
		if (fd != -EPERM && fd != -ENOSYS)
			CHECK((fd >= 0) == cases[k].ok, "csum_diff(NULL, %d, NULL, %d): the kernel "
			      "says %d", cases[k].from_size, cases[k].to_size, fd);
		bpfrt_prog_free(prog);
	}
}
