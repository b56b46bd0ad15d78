/* fuzz_verifier.c — libFuzzer target: programs built from the input; what the verifier accepts
 * must run in the checked interpreter and JIT without a fault (a fault is a verifier bug), and
 * unchecked to the same result. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"
#include "verifier_gen.h"

/* Processed instructions the verifier may spend on one input; instructions a checked run may execute. */
#define VERIFY_BUDGET 100000
#define RUN_BUDGET 1000000

static struct bpfrt_map *map;

static void fail(const struct bpfrt_insn *insns, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
static void fail(const struct bpfrt_insn *insns, size_t n, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "verifier bug: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	for (size_t i = 0; i < n; i++) {
		char buf[128];
		bpfrt_disasm_insn(insns, n, i, buf, sizeof(buf));
		fprintf(stderr, "%3zu: %s\n", i, buf);
	}
	abort();
}

/*
 * Run once, pad bytes deeper on the stack, from the same map contents; the
 * ctx is static, so only the stack's address differs between runs.
 */
static __attribute__((noinline)) int run_at(size_t pad, struct bpfrt_prog *prog, int engine,
					    bool checked, uint64_t *r0, struct bpfrt_error *err)
{
	static uint8_t ctx[CTX_SIZE];
	uint8_t zero[16] = { 0 };
	uint32_t key = 0;
	volatile uint8_t *p = __builtin_alloca(pad + 16);
	int ret;

	p[0] = 0;
	memset(ctx, 0x5a, sizeof(ctx));
	bpfrt_map_update(map, &key, zero, 0);	/* every run starts alike */
	BPFRT_OPTS(bpfrt_run_opts, ro, .engine = (enum bpfrt_engine)engine, .checked = checked,
		   .ctx = ctx, .ctx_len = sizeof(ctx), .budget = RUN_BUDGET);
	ret = bpfrt_prog_run(prog, &ro, err);
	*r0 = ro.retval;
	__asm__ volatile("" : : "r"(p) : "memory");
	return ret;
}

/* Stack addresses must move with the stack: ASan's fake stack would keep them apart. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_stack_use_after_return=0";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpfrt_insn insns[MAXN];
	struct bpfrt_prog *prog;
	struct bpfrt_error err;
	size_t n = build(data, size, insns);

	if (!map) {
		BPFRT_OPTS(bpfrt_map_opts, mo, .type = BPFRT_MAP_ARRAY, .key_size = 4,
			   .value_size = 16, .max_entries = 1);
		if (bpfrt_map_create(&mo, &map, &err))
			abort();
	}
	BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &map, .nmaps = 1);
	if (bpfrt_prog_new(insns, n, &po, &prog, &err))
		return 0;
	/*
	 * A budget far below the kernel's 1,000,000 processed instructions: a
	 * loop that runs out of it is refused in milliseconds instead of
	 * seconds (under ASan, near 1,000,000 an input outlived fuzz.sh's
	 * -timeout). Refusing more is sound; nothing accepted here needs more.
	 */
	BPFRT_OPTS(bpfrt_verify_opts, vo, .type = BPFRT_PROG_UNSPEC, .ctx_size = CTX_SIZE,
		   .max_insns = VERIFY_BUDGET);
	int v = bpfrt_prog_verify(prog, &vo, &err);
	if (v == 0) {
		uint64_t r0[2][3];	/* [engine][unchecked, checked, checked deeper] */
		bool addr[2];

		bpfrt_prog_use_builtin_helpers(prog);
		for (int engine = 0; engine < 2; engine++) {
			for (int k = 2; k >= 0; k--)
				if (run_at(k == 2 ? 1024 + 8 * (size % 64) : 0, prog, engine, k != 0,
					   &r0[engine][k], &err))
					fail(insns, n, "accepted, but a %s run on engine %d: %s",
					     k ? "checked" : "unchecked", engine, err.msg);
			/* a result that moves with the stack is a pointer, which r0 may be */
			addr[engine] = r0[engine][1] != r0[engine][2];
			if (!addr[engine] && r0[engine][0] != r0[engine][1])
				fail(insns, n, "engine %d: unchecked %#llx, checked %#llx", engine,
				     (unsigned long long)r0[engine][0],
				     (unsigned long long)r0[engine][1]);
		}
		if (!addr[0] && !addr[1] && r0[0][1] != r0[1][1])
			fail(insns, n, "interpreter %#llx, JIT %#llx", (unsigned long long)r0[0][1],
			     (unsigned long long)r0[1][1]);
	} else if (!err.msg[0]) {
		abort();	/* a rejection must say why */
	}
	bpfrt_prog_free(prog);
	return 0;
}
