/* interp.c — the threaded interpreter: pre-decoding and the two safety modes.
 *
 * A program is decoded once into an array of `struct xinsn`, one per slot,
 * each carrying the address of its handler, its operands in ready-to-use
 * form and, for jumps, a pointer to the target. The handlers live in one
 * function per safety mode (interp_body.h, included twice below), and each
 * ends by jumping straight to the next instruction's handler: there is no
 * central dispatch switch.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "isa/isa.h"
#include "idiom.h"
#include "isa/semantics.h"
#include "jit/switch.h"
#include "prog.h"
#include "util/error.h"

struct xinsn {
	const void *op;			/* handler label */
	union {
		const struct xinsn *target;	/* jumps and local calls */
		const void *sel;	/* ALU after a skip: its select handler */
	};
	uint64_t k;			/* immediate as used, or helper */
	uint8_t dst, src;
	int16_t off;
	int32_t imm;
};

/*
 * A compare tree read as a table (unchecked code; the analysis is the
 * JIT's, jit/switch.h): each value's way is its moves, then where it goes.
 */
enum { MV_CONST, MV_COPY64, MV_COPY32 };

struct iway {
	const struct xinsn *leaf;
	uint8_t nmov;
	uint8_t dst[JSW_MAX_MOVS], kind[JSW_MAX_MOVS];
	uint64_t val[JSW_MAX_MOVS];	/* MV_CONST */
};

struct iswitch {
	bool w64, sign, has_below, has_above;
	uint64_t lo;
	uint32_t count;
	uint32_t *entry;		/* count + 2: way of each value, below, above */
	struct iway *ways;
};

struct interp_code {
	bool checked;
	size_t n;
	struct iswitch *sw;
	size_t nsw;
	struct xinsn x[];
};

/*
 * Handler addresses, filled by each body on a first call with code == NULL:
 * one per form, then the superinstructions (see fuse()).
 */
enum {
	L_TRAP = ISA_NFORMS,
	L_MOVADD_REG,		/* mov a, b; add a, c          ->  a = b + c */
	L_MOVADD_IMM,		/* mov a, b; add a, k          ->  a = b + k */
	L_MOVADD_LDX,		/* ... ; ldx d, [a+off]: 4 sizes x (reg, imm) */
	L_ADDI64_JCOND = L_MOVADD_LDX + 8,	/* add a, k; if ... goto: per jcond form */
	L_ADDI32_JCOND = L_ADDI64_JCOND + ISA_NFORMS,
	L_SKIP = L_ADDI32_JCOND + ISA_NFORMS,	/* if ... goto +1: per jcond form */
	L_SELECT = L_SKIP + ISA_NFORMS,		/* ... over one ALU op: per ALU form */
	L_SWITCH = L_SELECT + ISA_NFORMS,	/* the root of a compare tree: a table */
	L_ROT,			/* a rotate (idiom.h): 32/64-bit x t shifted right/left */
	L_COUNT = L_ROT + 4,
};
typedef const void *label_table[L_COUNT];

/* A callback a helper runs: where it starts, r1..r5, its frame's depth; r0 out. */
struct interp_call {
	const struct xinsn *start;
	uint64_t args[5];
	unsigned depth;
	uint64_t r0;
};

static int interp_exec_fast(const struct xinsn *code, struct bpfrt_run *run,
			    struct interp_call *call, const void *const **labels,
			    struct bpfrt_error *err);
static int interp_exec_checked(const struct xinsn *code, struct bpfrt_run *run,
			       struct interp_call *call, const void *const **labels,
			       struct bpfrt_error *err);

/* ---- Memory access ----------------------------------------------------- */

/* eBPF allows unaligned plain loads and stores; memcpy of a constant size is one mov. */
static inline __attribute__((always_inline)) uint64_t mem_load(uintptr_t a, unsigned size)
{
	uint8_t b; uint16_t h; uint32_t w; uint64_t d;

	switch (size) {
	case 1: memcpy(&b, (const void *)a, 1); return b;
	case 2: memcpy(&h, (const void *)a, 2); return h;
	case 4: memcpy(&w, (const void *)a, 4); return w;
	default: memcpy(&d, (const void *)a, 8); return d;
	}
}

static inline __attribute__((always_inline)) void
mem_store(uintptr_t a, unsigned size, uint64_t v)
{
	uint8_t b = (uint8_t)v; uint16_t h = (uint16_t)v; uint32_t w = (uint32_t)v;

	switch (size) {
	case 1: memcpy((void *)a, &b, 1); break;
	case 2: memcpy((void *)a, &h, 2); break;
	case 4: memcpy((void *)a, &w, 4); break;
	default: memcpy((void *)a, &v, 8); break;
	}
}

/*
 * Atomic read-modify-write (sequentially consistent, as the kernel's are).
 * Fetching forms return the old value in src (32-bit: zero-extended);
 * cmpxchg compares with r0 and always returns the old value in r0.
 */
#define ATOMIC_RMW(T, a, aop, src, r0) do { \
		T *p_ = (T *)(a), v_ = (T)*(src), old_; \
		switch ((aop) & ~BPF_FETCH) { \
		case BPF_ADD: old_ = __atomic_fetch_add(p_, v_, __ATOMIC_SEQ_CST); break; \
		case BPF_OR:  old_ = __atomic_fetch_or(p_, v_, __ATOMIC_SEQ_CST); break; \
		case BPF_AND: old_ = __atomic_fetch_and(p_, v_, __ATOMIC_SEQ_CST); break; \
		case BPF_XOR: old_ = __atomic_fetch_xor(p_, v_, __ATOMIC_SEQ_CST); break; \
		case BPF_XCHG & ~BPF_FETCH: \
			old_ = __atomic_exchange_n(p_, v_, __ATOMIC_SEQ_CST); break; \
		default: /* BPF_CMPXCHG */ \
			old_ = (T)*(r0); \
			__atomic_compare_exchange_n(p_, &old_, v_, false, \
						    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
			*(r0) = old_; \
			return; \
		} \
		if ((aop) & BPF_FETCH) \
			*(src) = old_; \
	} while (0)

static inline __attribute__((always_inline)) void
mem_atomic(uintptr_t a, unsigned size, int32_t aop, uint64_t *src, uint64_t *r0)
{
	if (size == 4)
		ATOMIC_RMW(uint32_t, a, aop, src, r0);
	else
		ATOMIC_RMW(uint64_t, a, aop, src, r0);
}

/* ---- The two instantiations -------------------------------------------- */

#define INTERP_FN interp_exec_fast
#define CHECKED 0
#include "interp_body.h"
#undef INTERP_FN
#undef CHECKED

#define INTERP_FN interp_exec_checked
#define CHECKED 1
#include "interp_body.h"
#undef INTERP_FN
#undef CHECKED

/* ---- Preparation ------------------------------------------------------- */

/* ---- Superinstructions ------------------------------------------------- */

/* Slots control can reach other than by falling through from the slot before. */
static uint8_t *branch_targets(const struct bpfrt_prog *prog)
{
	uint8_t *t = calloc(prog->n + 1, 1);

	for (size_t i = 0; t && i < prog->n; i++) {
		enum isa_form_id id = isa_decode(&prog->insns[i]);

		switch (isa_forms[id].shape) {
		case SH_JA: case SH_JA32: case SH_JCOND_IMM: case SH_JCOND_REG:
		case SH_CALL_LOCAL: case SH_MAY_GOTO:
			t[isa_branch_target(prog->insns, i)] = 1;
			break;
		case SH_LDDW:
			if (id == ISA_LDDW_FUNC)
				t[isa_branch_target(prog->insns, i)] = 1;
			i++;
			break;
		default:
			break;
		}
	}
	return t;
}

static int ldx_index(enum isa_form_id id)
{
	switch (id) {
	case ISA_LDXB: return 0;
	case ISA_LDXH: return 1;
	case ISA_LDXW: return 2;
	case ISA_LDXDW: return 3;
	default: return -1;
	}
}

/*
 * A conditional jump over exactly one ALU instruction (clang's way to write
 * `if (c) x = y`), which mispredicts as often as the data is random: it
 * becomes a select that computes the ALU result and keeps one of the two.
 */
static bool skippable(const struct bpfrt_insn *in, enum isa_form_id a, enum isa_form_id b)
{
	unsigned sa, sb;

	if (a >= ISA_NFORMS || b >= ISA_NFORMS)	/* an lddw's second slot decodes to none */
		return false;
	sa = isa_forms[a].shape, sb = isa_forms[b].shape;

	return (sa == SH_JCOND_IMM || sa == SH_JCOND_REG) && in->off == 1 &&
	       (sb == SH_ALU_IMM || sb == SH_ALU_REG || sb == SH_NEG || sb == SH_END);
}

/*
 * Replace the handler of the first instruction of some common sequences
 * with one that does the whole sequence and then dispatches past it: clang's
 * address arithmetic (mov, add, load) and loop ends (add, compare and jump).
 * A sequence is fused only if no jump lands inside it. The other slots keep
 * their own handlers and operands, which the superinstruction reads. Only
 * unchecked code is fused: checked runs count and report every instruction.
 */
static void fuse(struct interp_code *code, const struct bpfrt_prog *prog,
		 const void *const *labels, const uint8_t *target, const uint8_t *root)
{
	const struct bpfrt_insn *in = prog->insns;
	size_t n = prog->n;

	for (size_t i = 0; i + 1 < n; i++) {
		enum isa_form_id a = isa_decode(&in[i]), b;
		struct idiom_rot rot;
		int ldx;

		if (target[i + 1] || root[i] || root[i + 1])	/* tables keep their slots */
			continue;
		if (isa_forms[a].shape == SH_LDDW) {	/* its second slot is no instruction */
			i++;
			continue;
		}
		b = isa_decode(&in[i + 1]);
		if (i + 4 <= n && !target[i + 2] && !target[i + 3] && !root[i + 2] &&
		    !root[i + 3] && idiom_rotate(&in[i], &rot)) {
			code->x[i].op = labels[L_ROT + 2 * rot.w64 + rot.t_right];
			code->x[i].k = rot.left;	/* t's shift is x[1].k */
			i += 3;
		} else if (a == ISA_MOV64_REG && (b == ISA_ADD64_REG || b == ISA_ADD64_IMM) &&
		    in[i + 1].dst_reg == in[i].dst_reg &&
		    (b == ISA_ADD64_IMM || in[i + 1].src_reg != in[i].dst_reg)) {
			bool reg = b == ISA_ADD64_REG;

			code->x[i].op = labels[reg ? L_MOVADD_REG : L_MOVADD_IMM];
			if (i + 2 < n && !target[i + 2] &&
			    (ldx = ldx_index(isa_decode(&in[i + 2]))) >= 0 &&
			    in[i + 2].src_reg == in[i].dst_reg)
				code->x[i].op = labels[L_MOVADD_LDX + 2 * ldx + !reg];
		} else if (skippable(&in[i], a, b)) {
			/*
			 * if cond goto +1; alu: a branchless select instead.
			 * The ALU slot keeps its own handler for jumps to it.
			 */
			code->x[i].op = labels[L_SKIP + a];
			code->x[i + 1].sel = labels[L_SELECT + b];
		} else if ((a == ISA_ADD64_IMM || a == ISA_ADD32_IMM) &&
			   (isa_forms[b].shape == SH_JCOND_IMM ||
			    isa_forms[b].shape == SH_JCOND_REG)) {
			code->x[i].op = labels[(a == ISA_ADD64_IMM ? L_ADDI64_JCOND
								  : L_ADDI32_JCOND) + b];
		}
	}
}

/* ---- Compare trees ------------------------------------------------------ */

static void free_switches(struct interp_code *code)
{
	for (size_t k = 0; k < code->nsw; k++) {
		free(code->sw[k].entry);
		free(code->sw[k].ways);
	}
	free(code->sw);
}

/* The way of a path: its moves as constants or copies of the tree's register. */
static void make_way(struct interp_code *code, const struct bpfrt_insn *insns,
		     const struct jsw_path *p, struct iway *w)
{
	w->leaf = &code->x[p->leaf];
	w->nmov = p->nmov;
	for (unsigned m = 0; m < p->nmov; m++) {
		const struct bpfrt_insn *in = &insns[p->mov[m]];
		enum isa_form_id id = isa_decode(in);

		w->dst[m] = in->dst_reg;
		w->kind[m] = id == ISA_MOV64_IMM || id == ISA_MOV32_IMM ? MV_CONST
			   : id == ISA_MOV32_REG ? MV_COPY32 : MV_COPY64;
		w->val[m] = id == ISA_MOV64_IMM ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm;
	}
}

/*
 * Unchecked code: every compare tree jswitch_find accepts becomes one
 * table lookup at its root; root[s] marks them, so fuse() leaves them be.
 * Out of memory: fewer tables, nothing else changes.
 */
static void find_switches(struct interp_code *code, const struct bpfrt_prog *prog,
			  const void *const *labels, uint8_t *root)
{
	uint8_t *node = calloc(prog->n, 1);
	size_t cap = 0;

	for (size_t i = 0; node && i < prog->n; i++) {
		enum isa_form_id id = isa_decode(&prog->insns[i]);
		struct jswitch js;
		struct iswitch *sw;

		if (id == ISA_INVALID || isa_forms[id].shape == SH_LDDW) {
			i += id != ISA_INVALID;
			continue;
		}
		if (node[i] || isa_forms[id].shape != SH_JCOND_IMM ||
		    !jswitch_find(prog->insns, prog->n, i, &js, node))
			continue;
		if (code->nsw == cap) {
			size_t ncap = cap ? 2 * cap : 4;
			struct iswitch *n2 = realloc(code->sw, ncap * sizeof(*n2));

			if (!n2) {
				jswitch_free(&js);
				break;
			}
			code->sw = n2;
			cap = ncap;
		}
		sw = &code->sw[code->nsw];
		*sw = (struct iswitch){ .w64 = js.w64, .sign = js.sign, .lo = js.lo,
					.count = js.count, .has_below = js.has_below,
					.has_above = js.has_above };
		sw->entry = malloc((js.count + 2) * sizeof(*sw->entry));
		sw->ways = malloc(js.npaths * sizeof(*sw->ways));
		if (!sw->entry || !sw->ways) {
			free(sw->entry);
			free(sw->ways);
			jswitch_free(&js);
			break;
		}
		memcpy(sw->entry, js.entry, (js.count + 2) * sizeof(*sw->entry));
		for (uint32_t k = 0; k < js.npaths; k++)
			make_way(code, prog->insns, &js.paths[k], &sw->ways[k]);
		code->nsw++;
		jswitch_free(&js);
		root[i] = 1;
	}
	/* pointers last: code->sw no longer moves */
	for (size_t k = 0, i = 0; k < code->nsw; i++)
		if (root[i]) {
			code->x[i].op = labels[L_SWITCH];
			code->x[i].k = (uintptr_t)&code->sw[k++];
		}
	free(node);
}

/* ---- Preparation ------------------------------------------------------- */

int interp_prepare(const struct bpfrt_prog *prog, bool checked,
		   struct interp_code **out, struct bpfrt_error *err)
{
	const void *const *labels;
	struct interp_code *code;
	size_t n = prog->n;

	if (checked)
		interp_exec_checked(NULL, NULL, NULL, &labels, NULL);
	else
		interp_exec_fast(NULL, NULL, NULL, &labels, NULL);
	code = calloc(1, sizeof(*code) + n * sizeof(struct xinsn));
	if (!code)
		return err_set(err, -ENOMEM, -1, "out of memory");
	code->checked = checked;
	code->n = n;
	for (size_t i = 0; i < n; i++) {
		const struct bpfrt_insn *in = &prog->insns[i];
		enum isa_form_id id = isa_decode(in);
		const struct isa_form *f = &isa_forms[id];
		struct xinsn *x = &code->x[i];

		x->op = labels[id];
		x->dst = in->dst_reg;
		x->src = in->src_reg;
		x->off = in->off;
		x->imm = in->imm;
		switch (f->shape) {
		case SH_ALU_IMM:
		case SH_JCOND_IMM:
			x->k = sem_imm(isa_is_alu32(in->code) || isa_is_jmp32(in->code),
				       in->imm);
			break;
		case SH_ST:
			x->k = (uint64_t)(int64_t)in->imm;
			break;
		case SH_LDDW:
			if (prog_lddw(prog, i, &x->k, err)) {
				free(code);
				return err ? err->code : -EINVAL;
			}
			code->x[++i].op = labels[L_TRAP];
			break;
		case SH_CALL:
			if (!prog_helper(prog, (uint32_t)in->imm)) {
				free(code);
				return err_set(err, -ENOENT, (int)i,
					       "insn %zu: call to helper %d, which "
					       "is not available", i, in->imm);
			}
			x->k = (uintptr_t)prog_helper(prog, (uint32_t)in->imm);
			break;
		default:
			break;
		}
		switch (f->shape) {
		case SH_JA: case SH_JA32: case SH_JCOND_IMM: case SH_JCOND_REG:
		case SH_CALL_LOCAL: case SH_MAY_GOTO:
			x->target = &code->x[isa_branch_target(prog->insns, i)];
			break;
		default:
			break;
		}
	}
	if (!checked) {
		uint8_t *target = branch_targets(prog), *root = calloc(n + 1, 1);

		if (!target || !root) {
			free(target);
			free(root);
			free(code);
			return err_set(err, -ENOMEM, -1, "out of memory");
		}
		find_switches(code, prog, labels, root);
		fuse(code, prog, labels, target, root);
		free(target);
		free(root);
	}
	*out = code;
	return 0;
}

void interp_free(struct interp_code *code)
{
	if (code)
		free_switches(code);
	free(code);
}

int interp_run(const struct interp_code *code, struct bpfrt_run *run,
	       struct bpfrt_error *err)
{
	uint8_t stack[RUN_STACK_SIZE] __attribute__((aligned(64)));

	run->stack_lo = (uintptr_t)stack;
	if (code->checked)
		return interp_exec_checked(code->x, run, NULL, NULL, err);
	return interp_exec_fast(code->x, run, NULL, NULL, err);
}

const void *interp_start(const struct interp_code *code)
{
	return code->x;
}

int interp_call(const struct interp_code *code, struct bpfrt_run *run, size_t idx,
		const uint64_t args[5], unsigned depth, uint64_t *r0,
		struct bpfrt_error *err)
{
	struct interp_call call = { .start = &code->x[idx], .depth = depth };
	int ret;

	memcpy(call.args, args, sizeof(call.args));
	if (code->checked)
		ret = interp_exec_checked(code->x, run, &call, NULL, err);
	else
		ret = interp_exec_fast(code->x, run, &call, NULL, err);
	*r0 = call.r0;
	return ret;
}
