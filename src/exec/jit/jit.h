/* jit.h — the x86-64 JIT engine: its interface to the program object, and what its code shares with C.
 *
 * jit_prepare (jit.c) translates a validated program into machine code for
 * one safety mode; the code is immutable afterwards and any number of
 * threads may run it at once with jit_run (run.c). mcode_* (mcode.c) manage
 * the executable memory.
 */
#ifndef BPFRT_JIT_H
#define BPFRT_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfrt.h"
#include "exec/prog.h"

/* ---- For the program object -------------------------------------------- */

struct jit_code;

/* Translate prog (checked picks the safety mode); -ENOTSUP off x86-64. */
int jit_prepare(const struct bpfrt_prog *prog, bool checked, struct jit_code **code,
		struct bpfrt_error *err);
void jit_free(struct jit_code *code);

/* Run prepared code; fills opts->retval / opts->insns, or fails with err. */
int jit_run(const struct jit_code *code, const struct bpfrt_prog *prog,
	    struct bpfrt_run_opts *opts, struct bpfrt_error *err);

/* Where a tail call into this code jumps: the code of instruction 0. */
const void *jit_start(const struct jit_code *code);

/*
 * From a helper of a JIT run: run the function at slot idx of code (the
 * running program's) with r1..r5 = args, in a new frame at `depth`; a fault
 * inside it is said in err and the run goes on in the helper.
 */
int jit_call(const struct jit_code *code, struct bpfrt_run *run, size_t idx,
	     const uint64_t args[5], unsigned depth, uint64_t *r0,
	     struct bpfrt_error *err);

/*
 * The machine code: [code, code + len) starts with the entry sequence;
 * offsets[i] is where instruction slot i begins (n + 1 entries, offsets[n]
 * being the end of the program's body; out-of-line paths follow it). Cold
 * blocks (jit.c, mark_colds) sit after the other slots, before offsets[n].
 */
void jit_code_info(const struct jit_code *code, const void **mem, size_t *len,
		   const uint32_t **offsets);

/* Tests only: translate shifts without BMI2 even where the CPU has it. */
extern bool jit_no_bmi2;

/* ---- Between the generated code and C ----------------------------------- */

/*
 * One run, as the generated code sees it (r12 points here): the bounds of
 * checked accesses, the budget, how it ended. Fields it touches often come
 * first, so they are reached with 8-bit displacements.
 */
struct jit_env {
	uintptr_t ctx_lo;		/* first byte of ctx */
	uintptr_t ctx_span[4];		/* 1/2/4/8-byte accesses start in [lo, lo+span) */
	uintptr_t stack_init;		/* stack below this was never zeroed */
	uintptr_t stack_span[4];	/* as ctx_span, from stack_init */
	uintptr_t stack_min;		/* lowest r10 that may still call */
	uintptr_t stack_top;
	struct bpfrt_run run;		/* what helpers receive */
	uint64_t budget;		/* in at entry, out at exit */
	uintptr_t saved_rsp;		/* rsp after the entry pushes */
	const void *exit_to;		/* that entry's epilogue: where faults leave */
	uint64_t fault_addr;		/* address, or callx helper id */
	uint32_t fault_idx;		/* instruction (budget: segment start) */
	/*
	 * may_goto, per frame, at loops[(r10 / 512) % 8]: checked code's
	 * budget left, set when a frame is entered (the entry, a local call,
	 * a callback, a tail call); unchecked code's count of iterations used,
	 * parked here by a local call (the running frame's is in x86 r10).
	 * Outside the program's stack, so it cannot touch it.
	 */
	uint64_t loops[BPFRT_MAX_FRAMES];
};

/* How a run ended; jit_run turns it into the interpreter's message. */
enum jit_exit {
	JX_OK, JX_MEM, JX_MISALIGNED, JX_BUDGET, JX_HELPER, JX_NO_HELPER, JX_TOO_DEEP,
	JX_COUNT,
};

/* What the generated code returns, in rax and rdx: how it ended, and r0 if JX_OK. */
struct jit_ret {
	uint64_t how;			/* enum jit_exit */
	uint64_t r0;
};

/* The generated code's entry. */
typedef struct jit_ret (*jit_entry_fn)(void *ctx, uint64_t ctx_len, struct jit_env *env,
				       uintptr_t stack_top);

/*
 * The entry of code that calls nothing and has no stack (unchecked): no env,
 * no faults. It stores r0 in opts->retval itself and returns 0, so that
 * bpfrt_prog_run can jump to it (the caller sets opts->insns).
 */
typedef int (*jit_leaf_fn)(void *ctx, uint64_t ctx_len, struct bpfrt_run_opts *opts);

/* What the callback entry needs besides r1..r5. */
struct jit_cb {
	struct jit_env *env;
	uintptr_t frame;		/* r10 of the callback's frame */
	const void *target;		/* the function's code */
};

/* The callback entry: r1..r5 in the argument registers they live in anyway. */
typedef struct jit_ret (*jit_cb_fn)(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				    uint64_t r5, const struct jit_cb *cb);

struct jit_code {
	bool checked;
	jit_entry_fn entry;
	jit_leaf_fn leaf;		/* the same entry, where the code is a leaf */
	jit_cb_fn cb_entry;
	const void *epilogue, *cb_epilogue;	/* where each entry's faults leave */
	void *mem;
	size_t len;
	uint32_t *offsets;		/* n + 1 */
	bpfrt_helper_fn *callx;		/* the helper table, for callx */
	size_t ncallx;
};

/* Called by the generated code (checked mode): may the access at addr go on? */
bool jit_mem_slow(struct jit_env *env, uintptr_t addr, uint32_t idx);
/* Called before helpers run (checked mode): zero the stack not zeroed yet. */
void jit_zero_rest(struct jit_env *env);

/* LD_ABS / LD_IND: the value, and whether the packet had it (rax:rdx). */
struct jit_pkt {
	uint64_t val, ok;
};
struct jit_pkt jit_ld_pkt(struct jit_env *env, int32_t off, uint32_t size);

/* ---- Executable memory (mcode.c) ---------------------------------------- */

/* Writable, not executable memory for at least len bytes; NULL on failure. */
void *mcode_alloc(size_t len);
/* Make it executable and read-only; 0 or a negative errno. */
int mcode_seal(void *mem, size_t len);
void mcode_free(void *mem, size_t len);

#endif /* BPFRT_JIT_H */
