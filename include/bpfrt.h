/* bpfrt.h — the one public header of bpfrt, a user-space eBPF runtime. */
#ifndef BPFRT_H
#define BPFRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BPFRT_API __attribute__((visibility("default")))

/*
 * Conventions
 *
 * Names are bpfrt_<object>_<verb>. Every call that can fail returns 0 (or a
 * count) on success and a negative errno on failure; when the caller passes a
 * struct bpfrt_error, it also receives a message a person can act on, and the
 * instruction index or source line it concerns. Options structs begin with
 * their own size (`sz`), so they can grow without breaking callers: declare
 * them with BPFRT_OPTS(), which zeroes every field and sets `sz`.
 */
#define BPFRT_OPTS(type, name, ...) \
	struct type name = { .sz = sizeof(struct type), __VA_ARGS__ }

struct bpfrt_error {
	int code;	/* negative errno, as returned */
	int insn;	/* instruction index it concerns, or -1 */
	int line;	/* assembly source line (1-based), or -1 */
	char msg[256];	/* complete sentence, no trailing newline */
};

/* ---- Instructions ------------------------------------------------------ */

/* One eBPF instruction slot, as in RFC 9669 (little-endian host layout). */
struct bpfrt_insn {
	uint8_t code;
	uint8_t dst_reg : 4;
	uint8_t src_reg : 4;
	int16_t off;
	int32_t imm;
};

#define BPFRT_MAX_INSNS   1000000u	/* the kernel's limit for one program */
#define BPFRT_STACK_SIZE  512u		/* bytes of stack per call frame */
#define BPFRT_MAX_FRAMES  8u		/* call frames, main program included */

/*
 * Assemble text in the bpf_conformance syntax ("add32 %r0, 1",
 * "ldxw %r0, [%r1+4]", "lock fetch add [%r10-8], %r1", labels "name:",
 * "call local name", '#' comments). On success *insns is a malloc'ed array
 * of *n slots (lddw takes two) that the caller frees.
 */
BPFRT_API int bpfrt_asm(const char *text, struct bpfrt_insn **insns, size_t *n,
			struct bpfrt_error *err);

/*
 * Disassemble the instruction at slot i into buf in the style of
 * `bpftool prog dump xlated` ("r0 = 2", "if r1 > 0x2 goto pc+3"), without
 * the index and opcode prefix. Returns the number of slots it takes (1 or 2),
 * or a negative errno for an invalid instruction (buf then says why).
 */
BPFRT_API int bpfrt_disasm_insn(const struct bpfrt_insn *insns, size_t n,
				size_t i, char *buf, size_t len);

/* ---- Programs ---------------------------------------------------------- */

struct bpfrt_prog;
struct bpfrt_run;

/*
 * A helper: r1..r5 are the eBPF arguments, r0 the result. `run` identifies
 * the running invocation (see bpfrt_run_*); it is valid only during the call.
 */
typedef uint64_t (*bpfrt_helper_fn)(uint64_t r1, uint64_t r2, uint64_t r3,
				    uint64_t r4, uint64_t r5,
				    struct bpfrt_run *run);

struct bpfrt_prog_opts {
	size_t sz;
	unsigned int cpu;	/* newest ISA version accepted: 1..4; 0 = 4 */
};

/*
 * Create a program from instructions, which are copied. The instructions are
 * validated structurally (known opcodes, reserved fields, registers, jump
 * targets, lddw pairs, a final exit or jump in every function); that is not
 * verification. The program is freed with bpfrt_prog_free().
 */
BPFRT_API int bpfrt_prog_new(const struct bpfrt_insn *insns, size_t n,
			     const struct bpfrt_prog_opts *opts,
			     struct bpfrt_prog **prog, struct bpfrt_error *err);
BPFRT_API void bpfrt_prog_free(struct bpfrt_prog *prog);
BPFRT_API size_t bpfrt_prog_insn_cnt(const struct bpfrt_prog *prog);
/* Valid until the program is freed. */
BPFRT_API const struct bpfrt_insn *bpfrt_prog_insns(const struct bpfrt_prog *prog);

/*
 * Make helper `id` callable by the program. Must come before the first run;
 * afterwards it fails with -EBUSY. `name` is kept for messages.
 */
BPFRT_API int bpfrt_prog_set_helper(struct bpfrt_prog *prog, uint32_t id,
				    const char *name, bpfrt_helper_fn fn);

enum bpfrt_engine {
	BPFRT_ENGINE_INTERP = 0,	/* the threaded interpreter */
	BPFRT_ENGINE_JIT = 1,		/* native x86-64 code (elsewhere -ENOTSUP) */
};

/* Extra memory a checked run may touch, besides the stack and ctx. */
struct bpfrt_region {
	const void *base;
	size_t len;
	bool writable;
};

struct bpfrt_run_opts {
	size_t sz;
	enum bpfrt_engine engine;
	/*
	 * Checked mode bounds-checks every memory access against the stack,
	 * ctx and `regions`, and stops after `budget` instructions. It is for
	 * programs that were not verified. Unchecked mode trusts the program:
	 * use it only for programs the verifier accepted.
	 */
	bool checked;
	void *ctx;			/* r1 */
	size_t ctx_len;			/* r2; ctx is a writable region */
	const struct bpfrt_region *regions;
	size_t nregions;
	const void *pkt;		/* what LD_ABS / LD_IND read: the network */
	size_t pkt_len;			/* header onwards (also SKF_NET_OFF) */
	size_t pkt_ll_len;		/* link-layer bytes just before pkt (SKF_LL_OFF) */
	uint64_t budget;		/* checked: instruction limit; 0 = 2^32 */
	void *user;			/* handed to helpers by bpfrt_run_user() */
	/* Results. */
	uint64_t retval;		/* r0 at exit */
	uint64_t insns;			/* checked: instructions executed */
};

/*
 * Run the program once. The first run of each engine prepares the program
 * (decoding it, resolving helpers); after that, runs may proceed on many
 * threads at once. A run that faults (checked mode, a failing helper, call
 * depth, a helper id not registered) returns a negative errno and says where.
 */
BPFRT_API int bpfrt_prog_run(struct bpfrt_prog *prog, struct bpfrt_run_opts *opts,
			     struct bpfrt_error *err);

/*
 * The machine code the JIT made of the program for one safety mode,
 * translating it first if no run has (so it seals the helpers, like a run).
 * *code and *len describe the whole code, which begins with the entry
 * sequence. If offsets is not NULL, *offsets receives
 * bpfrt_prog_insn_cnt(prog) + 1 native offsets into the code: instruction
 * slot i begins at (*offsets)[i] (an lddw's second slot, and an instruction
 * fused into the one before it, begin where their code ends), and
 * (*offsets)[n] is the end of the program's body, after which only
 * out-of-line paths follow. Everything stays valid until the program is freed.
 */
BPFRT_API int bpfrt_prog_jited(struct bpfrt_prog *prog, bool checked,
			       const void **code, size_t *len,
			       const uint32_t **offsets, struct bpfrt_error *err);

/* ---- For helpers, during a run ----------------------------------------- */

BPFRT_API void *bpfrt_run_user(const struct bpfrt_run *run);
/* May the helper access [p, p+len)? Always true in unchecked runs. */
BPFRT_API bool bpfrt_run_mem_ok(const struct bpfrt_run *run, const void *p,
				size_t len, bool write);
/* Stop the run after this helper returns; bpfrt_prog_run returns `code`. */
BPFRT_API void bpfrt_run_fail(struct bpfrt_run *run, int code,
			      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif /* BPFRT_H */
