/* fuzz_jit.c — libFuzzer target: arbitrary bytecode through the checked interpreter and the
 * checked JIT, which must agree on the result, r0, instructions counted and ctx memory;
 * the JIT with constant blinding (jit_blind) too, checked and unchecked.
 *
 * Each engine runs twice, over host stack scribbled with zeros and with
 * 0xe7, and must answer the same both times: a checked run never shows old
 * stack data. One thing may legitimately differ between the engines: the
 * bits of a stack address (their stacks live at different addresses), so
 * programs whose values may depend on r10 other than as a memory base are
 * only run, not compared.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"
#include "fuzz_helper.h"
#include "helpers/helpers.h"
#include "isa/isa.h"

/*
 * ASan may move locals to "fake stack" frames that outlive the call, where
 * the interpreter's stack would keep data from earlier inputs instead of
 * the scribbled bytes: keep locals on the real stack.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_stack_use_after_return=0";
}

static void fail(const char *why)
{
	fprintf(stderr, "fuzz_jit: %s\n", why);
	abort();
}

/* ---- Programs that may see a stack address ----------------------------- */

/*
 * Registers that may hold r10 plus a constant (flow-insensitively): those
 * moved from r10 or from each other. Adding or subtracting a constant keeps
 * them such; any other use of one may expose its bits.
 */
static uint16_t frame_copies(const struct bpfrt_insn *in, size_t n)
{
	uint16_t p = 1u << R10, before;

	do {
		before = p;
		for (size_t i = 0; i < n; i++)
			if (isa_decode(&in[i]) == ISA_MOV64_REG && (p >> in[i].src_reg & 1))
				p |= (uint16_t)(1u << in[i].dst_reg);
	} while (p != before);
	return p;
}

static bool uses_address(const struct bpfrt_insn *x, enum isa_form_id id, uint16_t p)
{
	bool dst = p >> x->dst_reg & 1, src = p >> x->src_reg & 1;

	switch (isa_forms[id].shape) {
	case SH_ALU_IMM:
		return dst && id != ISA_ADD64_IMM && id != ISA_SUB64_IMM && id != ISA_MOV64_IMM &&
		       id != ISA_MOV32_IMM;
	case SH_ALU_REG:
		return id == ISA_MOV64_REG ? false : src || dst;
	case SH_NEG: case SH_END: case SH_CALLX:
		return dst;
	case SH_JCOND_IMM:
		return dst;
	case SH_JCOND_REG:
		return dst || src;
	case SH_STX: case SH_ATOMIC: case SH_LDIND:
		return src;
	case SH_EXIT:
		return p & 1;
	default:
		return false;
	}
}

static bool may_see_addresses(const struct bpfrt_insn *in, size_t n)
{
	uint16_t p = frame_copies(in, n);

	for (size_t i = 0; i < n; i++) {
		enum isa_form_id id = isa_decode(&in[i]);

		if (uses_address(&in[i], id, p))
			return true;
		if (isa_forms[id].shape == SH_LDDW)
			i++;
	}
	return false;
}

/* ---- Running ----------------------------------------------------------- */

struct outcome {
	int ret, insn;
	uint64_t r0, insns;
	uint8_t ctx[64];
};

static uint8_t ctx[64], pkt[32], ro[16];

/* Fill the stack a run below this call will use with v. */
static __attribute__((noinline)) void scribble(uint8_t v)
{
	uint8_t buf[64 * 1024];

	memset(buf, v, sizeof(buf));
	__asm__ volatile("" : : "r"(buf) : "memory");
}

static struct outcome run(struct bpfrt_prog *prog, enum bpfrt_engine engine, uint8_t v)
{
	struct bpfrt_region region = { ro, sizeof(ro), false };
	BPFRT_OPTS(bpfrt_run_opts, opts, .engine = engine, .checked = true, .ctx = ctx,
		   .ctx_len = sizeof(ctx), .regions = &region, .nregions = 1,
		   .pkt = pkt, .pkt_len = sizeof(pkt), .budget = 20000);
	struct bpfrt_error err;
	struct outcome o;

	memset(ctx, 0x5a, sizeof(ctx));
	scribble(v);
	o.ret = bpfrt_prog_run(prog, &opts, &err);
	if (o.ret != 0 && err.msg[0] == '\0')
		fail("a failure without a message");
	o.insn = err.insn;
	o.r0 = o.ret ? 0 : opts.retval;
	o.insns = opts.insns;
	memcpy(o.ctx, ctx, sizeof(ctx));
	for (size_t i = 0; i < sizeof(ro); i++)
		if (ro[i] != 0x11)
			fail("a read-only region was written");
	return o;
}

/*
 * Programs that can run unchecked whatever their bytes: registers only (no
 * memory, no calls) and jumps only forward, so they end. Unchecked code has
 * optimizations of its own (jump tables, cmovs), compared here too.
 */
static bool safe_unchecked(const struct bpfrt_insn *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		enum isa_form_id id = isa_decode(&in[i]);

		switch (isa_forms[id].shape) {
		case SH_ALU_IMM: case SH_ALU_REG: case SH_NEG: case SH_END: case SH_EXIT:
			break;
		case SH_JA: case SH_JA32: case SH_JCOND_IMM: case SH_JCOND_REG:
			if (isa_branch_target(in, i) <= (int64_t)i)
				return false;
			break;
		default:
			return false;
		}
	}
	return true;
}

static struct outcome run_unchecked(struct bpfrt_prog *prog, enum bpfrt_engine engine)
{
	BPFRT_OPTS(bpfrt_run_opts, opts, .engine = engine, .ctx = ctx, .ctx_len = sizeof(ctx));
	struct bpfrt_error err;
	struct outcome o = { 0 };

	o.ret = bpfrt_prog_run(prog, &opts, &err);
	o.r0 = o.ret ? 0 : opts.retval;
	return o;
}

static bool same(const struct outcome *a, const struct outcome *b)
{
	return a->ret == b->ret && a->insn == b->insn && a->r0 == b->r0 &&
	       a->insns == b->insns && !memcmp(a->ctx, b->ctx, sizeof(a->ctx));
}

static void give_helpers(struct bpfrt_prog *prog)
{
	bpfrt_prog_set_helper(prog, 1, "peek", peek_helper);
	/* callbacks: bpf_loop runs any function an lddw src 4 names */
	for (size_t k = 0; k < helper_callback_ndefs; k++)
		if (helper_callback_defs[k].id == HELPER_LOOP)
			bpfrt_prog_set_helper(prog, HELPER_LOOP, "loop", helper_callback_defs[k].fn);
}

/* The same program with its constants blinded (jit_blind): the same outcomes. */
static struct bpfrt_prog *blinded(const struct bpfrt_insn *insns, size_t n)
{
	BPFRT_OPTS(bpfrt_prog_opts, o, .jit_blind = true);
	struct bpfrt_prog *prog;
	struct bpfrt_error err;

	if (bpfrt_prog_new(insns, n, &o, &prog, &err))
		fail("a program valid unblinded is invalid blinded");
	give_helpers(prog);
	return prog;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpfrt_insn *insns;
	struct bpfrt_prog *prog, *bprog;
	struct bpfrt_error err;
	size_t n = size / sizeof(*insns);

	if (n == 0)
		return 0;
	insns = malloc(n * sizeof(*insns));
	memcpy(insns, data, n * sizeof(*insns));
	memset(pkt, 0xa5, sizeof(pkt));
	memset(ro, 0x11, sizeof(ro));
	if (bpfrt_prog_new(insns, n, NULL, &prog, &err) == 0) {
		struct outcome i0, i1, j0, j1, b0;

		give_helpers(prog);
		bprog = blinded(insns, n);
		run(prog, BPFRT_ENGINE_INTERP, 0x00);	/* prepare: it uses the stack too */
		i0 = run(prog, BPFRT_ENGINE_INTERP, 0x00);
		i1 = run(prog, BPFRT_ENGINE_INTERP, 0xe7);
		j0 = run(prog, BPFRT_ENGINE_JIT, 0x00);
		j1 = run(prog, BPFRT_ENGINE_JIT, 0xe7);
		b0 = run(bprog, BPFRT_ENGINE_JIT, 0xe7);
		if (!same(&i0, &i1))
			fail("the interpreter showed old stack data");
		if (!same(&j0, &j1))
			fail("the JIT showed old stack data");
		if (!may_see_addresses(insns, n) && !same(&i0, &j0)) {
			fprintf(stderr, "interp: %d insn %d r0 %#llx, %llu insns\n"
				"jit:    %d insn %d r0 %#llx, %llu insns%s\n", i0.ret, i0.insn,
				(unsigned long long)i0.r0, (unsigned long long)i0.insns,
				j0.ret, j0.insn, (unsigned long long)j0.r0,
				(unsigned long long)j0.insns,
				memcmp(i0.ctx, j0.ctx, sizeof(ctx)) ? ", ctx differs" : "");
			fail("the engines disagree");
		}
		if (!may_see_addresses(insns, n) && !same(&i0, &b0)) {
			fprintf(stderr, "interp:  %d insn %d r0 %#llx, %llu insns\n"
				"blinded: %d insn %d r0 %#llx, %llu insns%s\n", i0.ret, i0.insn,
				(unsigned long long)i0.r0, (unsigned long long)i0.insns,
				b0.ret, b0.insn, (unsigned long long)b0.r0,
				(unsigned long long)b0.insns,
				memcmp(i0.ctx, b0.ctx, sizeof(ctx)) ? ", ctx differs" : "");
			fail("the interpreter and the blinded JIT disagree");
		}
		if (safe_unchecked(insns, n) && !may_see_addresses(insns, n)) {
			struct outcome u = run_unchecked(prog, BPFRT_ENGINE_INTERP);
			struct outcome v = run_unchecked(prog, BPFRT_ENGINE_JIT);
			struct outcome w = run_unchecked(bprog, BPFRT_ENGINE_JIT);

			if (u.ret != w.ret || u.r0 != w.r0) {
				fprintf(stderr, "unchecked interp: %d r0 %#llx, blinded JIT: %d "
					"r0 %#llx\n", u.ret, (unsigned long long)u.r0, w.ret,
					(unsigned long long)w.r0);
				fail("the blinded JIT disagrees unchecked");
			}
			if (u.ret != v.ret || u.r0 != v.r0) {
				fprintf(stderr, "unchecked interp: %d r0 %#llx, JIT: %d r0 %#llx\n",
					u.ret, (unsigned long long)u.r0, v.ret,
					(unsigned long long)v.r0);
				fail("the engines disagree unchecked");
			}
		}
		bpfrt_prog_free(prog);
		bpfrt_prog_free(bprog);
	} else if (err.msg[0] == '\0') {
		fail("an invalid program without a message");
	}
	free(insns);
	return 0;
}
