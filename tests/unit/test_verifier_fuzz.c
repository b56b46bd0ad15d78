/* test_verifier_fuzz.c — the corpus soundness harness (fuzz/verifier_corpus.h) in `make test`: its oracles, and the corpus with a few seeded mutations per program. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../fuzz/verifier_corpus.h"
#include "t.h"

#define INS(c, d, s, o, i) (struct bpfrt_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), \
						.off = (int16_t)(o), .imm = (i) }

/* Judge an unverified program as if the verifier had accepted it: does the harness find it? */
static bool judged_bad(enum bpfrt_prog_type type, const struct bpfrt_insn *insns, size_t n,
		       struct vc_finding *f)
{
	static const uint8_t pkt[64] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd };
	struct vc_corpus c = { 0 };
	struct vc_prog vp = { .type = type, .obj = SIZE_MAX };
	struct bpfrt_prog *prog;
	struct bpfrt_error err;
	uint8_t in[2048] = { 0 };
	bool bad;

	memcpy(in, pkt, sizeof(pkt));
	BPFRT_OPTS(bpfrt_prog_opts, po, .type = type);
	f->text[0] = '\0';
	if (bpfrt_prog_new(insns, n, &po, &prog, &err))
		return false;
	uint32_t len = type == BPFRT_PROG_UNSPEC ? 64 : type == BPFRT_PROG_XDP ? 60 :
		       (uint32_t)vc_ctx_size(type);
	bad = vc_judge(&c, &vp, prog, in, len, 3, f);
	bpfrt_prog_free(prog);
	vc_free(&c);
	return bad;
}

/*
 * Under ASan with use-after-return detection, each call's frame comes from
 * a rotating pool: a run's stack is not the one painted before it.
 */
extern void *__asan_get_current_fake_stack(void) __attribute__((weak));
static bool fake_stack(void)
{
	return __asan_get_current_fake_stack && __asan_get_current_fake_stack();
}

/* Each oracle catches what it is for, and the harness takes what is allowed. */
TEST(verifier_fuzz_oracles)
{
	struct vc_finding f;
	const struct bpfrt_insn ok[] = { INS(0xb7, 0, 0, 0, 7), INS(0x95, 0, 0, 0, 0) };
	const struct bpfrt_insn leak[] = { INS(0xbf, 0, 10, 0, 0), INS(0x95, 0, 0, 0, 0) };
	const struct bpfrt_insn oob[] = { INS(0x79, 0, 1, 4096, 0), INS(0x95, 0, 0, 0, 0) };
	/* r0 = three stack slots never written, summed */
	const struct bpfrt_insn uninit[] = {
		INS(0x79, 0, 10, -8, 0), INS(0x79, 2, 10, -256, 0), INS(0x0f, 0, 2, 0, 0),
		INS(0x79, 2, 10, -504, 0), INS(0x0f, 0, 2, 0, 0), INS(0x95, 0, 0, 0, 0),
	};
	/* XDP: r0 = the byte 100 bytes into a 60-byte packet, unchecked against data_end */
	const struct bpfrt_insn pkt_oob[] = {
		INS(0x61, 2, 1, 0, 0), INS(0x71, 0, 2, 100, 0), INS(0x95, 0, 0, 0, 0),
	};
	/* kprobe: a read past pt_regs (168 bytes) */
	const struct bpfrt_insn ctx_oob[] = { INS(0x79, 0, 1, 168, 0), INS(0x95, 0, 0, 0, 0) };

	CHECK(!judged_bad(BPFRT_PROG_UNSPEC, ok, 2, &f), "r0 = 7 judged bad: %s", f.text);
	CHECK(!judged_bad(BPFRT_PROG_UNSPEC, leak, 2, &f), "r0 = r10 (a pointer, allowed) judged "
	      "bad: %s", f.text);
	CHECK(!judged_bad(BPFRT_PROG_XDP, ok, 2, &f), "XDP r0 = 7 judged bad: %s", f.text);
	CHECK(judged_bad(BPFRT_PROG_UNSPEC, oob, 2, &f) && strstr(f.text, "checked"),
	      "a read past the ctx not found: %s", f.text);
	if (fake_stack())
		printf("verifier_fuzz_oracles: the uninitialised-read oracle is not checked: ASan's "
		       "fake stack is on (the fuzzers turn it off)\n");
	else
		CHECK(judged_bad(BPFRT_PROG_UNSPEC, uninit, 6, &f) && strstr(f.text, "uninitialised"),
		      "a read of stack never written not found: %s", f.text);
	CHECK(judged_bad(BPFRT_PROG_XDP, pkt_oob, 3, &f) && strstr(f.text, "checked"),
	      "a read past XDP's data_end not found: %s", f.text);
	CHECK(judged_bad(BPFRT_PROG_KPROBE, ctx_oob, 2, &f) && strstr(f.text, "checked"),
	      "a read past pt_regs not found: %s", f.text);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Every corpus program unmutated, then VF_MUTANTS seeded mutants of each:
 * whatever the verifier accepts must pass every oracle. Regressions of the
 * verifier's soundness on real programs show here; the fuzzer goes further.
 */
#define VF_MUTANTS 20
#define VF_SEED 0x5eed0001ull

TEST(verifier_fuzz_corpus)
{
	const char *dir = getenv("BPFRT_CORPUS") ? getenv("BPFRT_CORPUS") : "../shared/corpus";
	static struct vc_finding f;
	struct vc_corpus c;
	uint64_t seed = VF_SEED;
	unsigned findings = 0;
	clock_t t0 = clock();

	if (vc_load(&c, dir)) {
		printf("verifier_fuzz_corpus: skipped: no corpus at %s (set BPFRT_CORPUS)\n", dir);
		return;
	}
	for (size_t k = 0; k < c.nprogs; k++) {
		for (int m = 0; m <= VF_MUTANTS; m++) {
			uint8_t in[64];
			size_t len = m ? sizeof(in) : 3;	/* 3 bytes: no mutation */

			for (size_t i = 0; i < sizeof(in); i++)
				in[i] = (uint8_t)xorshift(&seed);
			in[0] = (uint8_t)k;
			in[1] = (uint8_t)(k >> 8);
			if (vc_one(&c, in, len, &f) && findings++ < 5)
				CHECK(false, "verifier_fuzz_corpus: program %zu, mutant %d: %s", k, m,
				      f.text);
		}
	}
	CHECK(findings == 0, "%u findings", findings);
	CHECK(c.st.accepted >= c.nprogs * 9 / 10, "only %llu inputs accepted (of %zu unmutated "
	      "programs)", (unsigned long long)c.st.accepted, c.nprogs);
	printf("verifier_fuzz_corpus: %zu programs, %llu inputs: %llu invalid, %llu rejected, "
	       "%llu accepted, %llu run (%llu depend on addresses, %llu call a helper bpfrt "
	       "lacks, %llu inputs the test run refuses, %llu not runnable); %.1f s\n",
	       c.nprogs, (unsigned long long)c.st.inputs, (unsigned long long)c.st.invalid,
	       (unsigned long long)c.st.rejected, (unsigned long long)c.st.accepted,
	       (unsigned long long)c.st.runs, (unsigned long long)c.st.addr_dependent,
	       (unsigned long long)c.st.no_helper, (unsigned long long)c.st.bad_input,
	       (unsigned long long)c.st.not_runnable, (double)(clock() - t0) / CLOCKS_PER_SEC);
	vc_free(&c);
}
