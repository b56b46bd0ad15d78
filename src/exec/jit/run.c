/* run.c — running JIT code: the run environment, the C paths the code calls, fault messages.
 *
 * jit_run sets up a struct jit_env (bounds of ctx and stack, the budget)
 * and a stack of RUN_STACK_SIZE bytes, then calls the generated entry. The
 * code leaves with an enum jit_exit; anything but JX_OK is turned here into
 * the interpreter's message for the same fault, with the same error code.
 */
#include <errno.h>
#include <string.h>

#include "isa/isa.h"
#include "jit.h"
#include "util/error.h"

static unsigned shape_of(const struct bpfrt_insn *in)
{
	return isa_forms[isa_decode(in)].shape;
}

static bool is_store(const struct bpfrt_insn *in)
{
	unsigned shape = shape_of(in);

	return shape == SH_ST || shape == SH_STX || shape == SH_ATOMIC;
}

/* ---- Bounds of checked accesses ----------------------------------------- */

/* Accesses of 1, 2, 4 and 8 bytes may start in [base, base + span[s]). */
static inline void set_spans(uintptr_t span[4], uintptr_t base, size_t len)
{
	for (unsigned s = 0; s < 4; s++) {
		size_t size = (size_t)1 << s;

		if (!base || len < size)
			span[s] = 0;
		else if (len - size >= UINTPTR_MAX - base)	/* as far as addresses go */
			span[s] = UINTPTR_MAX - base + 1;
		else
			span[s] = len - size + 1;
	}
}

/* The stack from init up is initialised (zeroed or written since). */
static void set_stack_init(struct jit_env *env, uintptr_t init)
{
	env->stack_init = init;
	set_spans(env->stack_span, init, env->stack_top - init);
}

/* ---- Called by the generated code --------------------------------------- */

/*
 * The slow path of a checked access: the whole stack, regions, or a fault
 * (recorded for jit_fault). Stack below the initialised mark is zeroed
 * before the program first touches it.
 */
bool jit_mem_slow(struct jit_env *env, uintptr_t addr, uint32_t idx)
{
	const struct bpfrt_insn *in = &env->run.prog->insns[idx];
	unsigned size = isa_size(in->code);
	uintptr_t lo = env->run.stack_lo;

	if (!run_mem_ok(&env->run, addr, size, is_store(in))) {
		env->fault_idx = idx;
		env->fault_addr = addr;
		return false;
	}
	if (addr < env->stack_init && addr - lo < RUN_STACK_SIZE)
		jit_zero_rest(env);
	return true;
}

void jit_zero_rest(struct jit_env *env)
{
	uintptr_t lo = env->run.stack_lo;

	memset((void *)lo, 0, env->stack_init - lo);
	set_stack_init(env, lo);
}

struct jit_pkt jit_ld_pkt(struct jit_env *env, int32_t off, uint32_t size)
{
	struct jit_pkt r = { 0, 0 };

	r.ok = run_ld_pkt(&env->run, off, size, &r.val);
	return r;
}

/* ---- Faults ------------------------------------------------------------ */

/* The instruction a budget stop names: `left` instructions into the segment. */
static size_t budget_stop(const struct bpfrt_prog *prog, size_t start, uint64_t left)
{
	size_t i = start;

	for (; left > 0; left--)
		i += shape_of(&prog->insns[i]) == SH_LDDW ? 2 : 1;
	return i;
}

/* Say why the run stopped, in the interpreter's words. */
static int jit_fault(struct jit_env *env, enum jit_exit how, uint64_t limit,
		     struct bpfrt_error *err)
{
	const struct bpfrt_prog *prog = env->run.prog;
	size_t idx = env->fault_idx;
	const struct bpfrt_insn *in = &prog->insns[idx];

	switch (how) {
	case JX_MEM:
		return run_mem_fault(&env->run, idx, env->fault_addr,
				     isa_size(in->code), is_store(in), err);
	case JX_MISALIGNED:
		return err_set(err, -EFAULT, (int)idx,
			       "insn %zu: atomic access of %u bytes at %#lx is misaligned",
			       idx, isa_size(in->code), (unsigned long)env->fault_addr);
	case JX_BUDGET:
		idx = budget_stop(prog, idx, env->budget);
		env->run.opts->insns = limit;
		return err_set(err, -ELOOP, (int)idx,
			       "insn %zu: stopped after %llu instructions, the budget of "
			       "this run", idx, (unsigned long long)limit);
	case JX_HELPER:
		return err_set(err, env->run.fail, (int)idx, "insn %zu: %s", idx,
			       env->run.fail_msg);
	case JX_NO_HELPER:
		return err_set(err, -ENOENT, (int)idx,
			       "insn %zu: callx to helper %llu, which is not available",
			       idx, (unsigned long long)env->fault_addr);
	default:
		return err_set(err, -E2BIG, (int)idx,
			       "insn %zu: call nesting exceeds %u frames", idx,
			       BPFRT_MAX_FRAMES);
	}
}

/* ---- Running ------------------------------------------------------------ */

/* The instruction limit of a checked run. */
static inline uint64_t run_limit(const struct bpfrt_run_opts *opts)
{
	return opts->budget ? opts->budget : (uint64_t)1 << 32;
}

/* What code of both modes reads: the run, the stack's bottom, where faults leave. */
static inline void env_init(struct jit_env *env, const struct jit_code *code,
			    const struct bpfrt_prog *prog, struct bpfrt_run_opts *opts,
			    uintptr_t lo)
{
	run_init(&env->run, prog, opts);
	env->run.stack_lo = lo;
	env->stack_min = lo + 2 * BPFRT_STACK_SIZE;
	env->exit_to = code->epilogue;
}

/* What only checked code reads: the bounds of ctx and stack, the budget. */
static void checked_init(struct jit_env *env, const struct bpfrt_run_opts *opts,
			 uintptr_t top)
{
	env->budget = run_limit(opts);
	env->ctx_lo = (uintptr_t)opts->ctx;
	set_spans(env->ctx_span, env->ctx_lo, opts->ctx_len);
	/* Unverified code never sees old data: each frame as it is entered. */
	env->stack_top = top;
	set_stack_init(env, top);
}

/*
 * Call the code and say how the run ended. Nothing but env lives across
 * the call (the run's opts come back from it), so the unchecked path,
 * where this is the only call, saves no registers of its own.
 */
static inline int enter(const struct jit_code *code, struct jit_env *env,
			uintptr_t top, struct bpfrt_error *err)
{
	struct bpfrt_run_opts *opts = env->run.opts;
	struct jit_ret ret = code->entry(opts->ctx, opts->ctx_len, env, top);

	opts = env->run.opts;
	if (unlikely((uint32_t)ret.how != JX_OK || env->run.nheld)) {
		int fault = 0;

		if ((uint32_t)ret.how != JX_OK)
			fault = jit_fault(env, (enum jit_exit)(uint32_t)ret.how,
					  run_limit(opts), err);
		run_release(&env->run);
		if (fault)
			return fault;
	}
	opts->retval = ret.r0;
	opts->insns = env->run.checked ? run_limit(opts) - env->budget : 0;
	return 0;
}

static __attribute__((noinline)) int run_checked(const struct jit_code *code,
						 const struct bpfrt_prog *prog,
						 struct bpfrt_run_opts *opts,
						 struct bpfrt_error *err)
{
	uint8_t stack[RUN_STACK_SIZE] __attribute__((aligned(16)));
	uintptr_t lo = (uintptr_t)stack, top = lo + RUN_STACK_SIZE;
	struct jit_env env;

	env_init(&env, code, prog, opts, lo);
	checked_init(&env, opts, top);
	return enter(code, &env, top, err);
}

/* The per-run cost of the JIT is mostly here: only what the code reads is set. */
static __attribute__((noinline)) int run_unchecked(const struct jit_code *code,
						   const struct bpfrt_prog *prog,
						   struct bpfrt_run_opts *opts,
						   struct bpfrt_error *err)
{
	uint8_t stack[RUN_STACK_SIZE] __attribute__((aligned(16)));
	uintptr_t lo = (uintptr_t)stack;
	struct jit_env env;

	env_init(&env, code, prog, opts, lo);
	return enter(code, &env, lo + RUN_STACK_SIZE, err);
}

/* Leaf code (no calls, no stack, unchecked) needs no run at all: a call. */
int jit_run(const struct jit_code *code, const struct bpfrt_prog *prog,
	    struct bpfrt_run_opts *opts, struct bpfrt_error *err)
{
	if (code->leaf) {
		opts->insns = 0;
		return code->leaf(opts->ctx, opts->ctx_len, opts);
	}
	if (code->checked)
		return run_checked(code, prog, opts, err);
	return run_unchecked(code, prog, opts, err);
}

/* ---- Tail calls and callbacks ------------------------------------------- */

const void *jit_start(const struct jit_code *code)
{
	return (const uint8_t *)(const void *)code->entry + code->offsets[0];
}

/*
 * The function runs on the run's stack, below the helper's caller; a fault
 * inside it leaves through this program's epilogue back to here (saved_rsp
 * and exit_to are the callback's while it runs), not past the helper.
 */
int jit_call(const struct jit_code *code, struct bpfrt_run *run, size_t idx,
	     const uint64_t args[5], unsigned depth, uint64_t *r0,
	     struct bpfrt_error *err)
{
	struct jit_env *env = (struct jit_env *)(void *)((uint8_t *)run -
							 offsetof(struct jit_env, run));
	uintptr_t saved_rsp = env->saved_rsp;
	const void *exit_to = env->exit_to;
	struct jit_cb cb = {
		.env = env,
		.frame = run->stack_lo + RUN_STACK_SIZE - (uintptr_t)depth * BPFRT_STACK_SIZE,
		.target = (const uint8_t *)(const void *)code->entry + code->offsets[idx],
	};
	struct jit_ret ret;

	if (!code->cb_entry)
		return err_set(err, -EINVAL, (int)idx, "insn %zu is not a function the "
			       "program names", idx);
	env->exit_to = code->epilogue;
	ret = code->cb_entry(args[0], args[1], args[2], args[3], args[4], &cb);
	env->saved_rsp = saved_rsp;
	env->exit_to = exit_to;
	if ((uint32_t)ret.how != JX_OK)
		return jit_fault(env, (enum jit_exit)(uint32_t)ret.how,
				 run_limit(run->opts), err);
	*r0 = ret.r0;
	return 0;
}
