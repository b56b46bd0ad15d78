/* jit.c — translation of eBPF into x86-64 machine code.
 *
 * Registers. eBPF registers live in x86 registers for the whole run:
 *
 *	r0  rax		r1..r5  rdi rsi rdx rcx r8 (the SysV argument registers)
 *	r6  rbx		r7..r9  r13 r14 r15 (callee-saved)
 *	r10 rbp		r12 = struct jit_env (the run; helpers get &env->run)
 *	r10 (x86) = the instruction budget in checked mode, the frame's may_goto
 *	count in unchecked code (leaf code: the run's opts); r9, r11 scratch
 *
 * so a helper call is `lea r9, [r12+run]; call fn`: the arguments are
 * already where the C ABI wants them and r0 comes back in rax (r1..r5 are
 * pushed around it: the interpreter keeps them, and it costs nothing).
 *
 * Frames. The entry sequence saves the callee-saved registers and calls the
 * program's first instruction; `exit` is a `ret`. A bpf-to-bpf call pushes
 * r6..r10, moves rbp down 512 bytes (zeroing the new frame in checked mode)
 * and `call`s its target, so the native stack mirrors the eBPF one and the
 * return predictor works. Faults jump to out-of-line stubs that record the
 * instruction index and leave through one exit that resets rsp from env:
 * the C side (run.c) then says what happened, in the interpreter's words.
 *
 * Checked mode. Every load, store and atomic is checked inline against ctx
 * or the initialised part of the stack (whichever the base register more
 * likely points to), out of line against the other, and against everything
 * else (the whole stack, regions) by a call to run_mem_ok. Accesses at a
 * constant offset inside r10's own frame, through r10 or a register known
 * to hold r10 plus a constant, need no check at all. The stack below the
 * deepest frame entered so far is zeroed on first touch, so a run never sees
 * old data. The budget is charged once per basic block. A block it cannot
 * pay for runs an out-of-line *careful* copy that charges per segment (pure
 * instructions ending with at most one that has an effect) and so stops
 * before the first effect the interpreter would not have reached, naming
 * the same instruction.
 *
 * Tail calls and callbacks (docs/engine-calls.md). A successful
 * bpf_tail_call leaves run->fail = RUN_TAIL_CALL, and the helper's failure
 * stub jumps to the target's instruction 0 in the same frame; faults leave
 * through env->exit_to, the epilogue of the entry the run came in by. Helpers
 * that call back enter the program's functions through a second entry
 * (cb_entry) that saves the same registers. Unchecked code inlines lookups
 * in array maps named by an lddw in the same block.
 *
 * Unchecked code (docs/design.md) also turns compare trees into tables
 * (switch.c), jumps over one ALU instruction into cmovs, clang's byte-copy
 * loop into a 32-byte copy, and mov/add/load into one load; code that calls
 * nothing is entered as a plain function (jit_leaf_fn), its frame if any on
 * the native stack. Both modes place blocks that end the program after the
 * body (mark_colds), make rotates one rol (idiom.h), and use liveness; checked
 * code tries a copy loop whole when its checks and budget allow.
 *
 * Blinding (bpfrt_prog_opts.jit_blind, docs/design.md): every immediate of
 * the program is emitted as k ^ r, r fresh per constant, XORed back into a
 * scratch register at run time; rewrites that would put a constant (or what
 * is derived from it) in the code as it is are not done, or blinded too.
 *
 * Layout. Jumps are emitted short (rel8) when they fit: passes repeat,
 * deciding each jump from the previous pass's positions, until the code
 * stops shrinking; the final pass writes the bytes into RW memory that is
 * then sealed RX. Loop heads are aligned to 32 bytes, so a small loop never
 * straddles a cache line (which halves the speed of some loops here).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "emit.h"
#include "exec/idiom.h"
#include "helpers/helpers.h"
#include "inline_hash.h"
#include "isa/isa.h"
#include "isa/semantics.h"
#include "jit.h"
#include "maps/map.h"
#include "switch.h"
#include "util/error.h"

bool jit_no_bmi2;

/* ---- Registers ---------------------------------------------------------- */

static const int8_t xreg[ISA_NREGS] = {
	[R0] = X_RAX, [R1] = X_RDI, [R2] = X_RSI, [R3] = X_RDX, [R4] = X_RCX,
	[R5] = X_R8, [R6] = X_RBX, [R7] = X_R13, [R8] = X_R14, [R9] = X_R15,
	[R10] = X_RBP,
};

enum {
	X_ENV = X_R12,		/* struct jit_env * */
	X_BUDGET = X_R10,	/* instructions left (checked mode) */
	X_TMP = X_R11,		/* scratch: addresses, divisors, call targets */
	X_TMP2 = X_R9,		/* scratch; the helpers' 6th argument */
	X_OPTS = X_R10,		/* leaf code: the run's opts, where r0 goes at exit */
	X_LOOPS = X_R10,	/* unchecked may_goto code: the frame's iterations used */
};

#define ENV(field) x86_mem(X_ENV, (int32_t)offsetof(struct jit_env, field))
#define ENV_RUN(field) \
	x86_mem(X_ENV, (int32_t)(offsetof(struct jit_env, run) + offsetof(struct bpfrt_run, field)))
#define ENV_RUN_FAIL ENV_RUN(fail)

/* ---- Translation state -------------------------------------------------- */

/* Per-slot facts found before translation. */
enum {
	F_TARGET = 1,	/* a jump or call lands here */
	F_HI = 2,	/* the second slot of an lddw */
	F_FUSED = 4,	/* fused into the instruction before */
	F_FUSE = 8,	/* fused with the next instruction */
	F_BLOCK = 16,	/* checked: a basic block starts here */
	F_LOOP = 32,	/* a backward jump lands here */
	F_SWITCH = 64,	/* unchecked: the first compare of a tree read as a table */
	F_SELECT = 128,	/* unchecked: a jump over one ALU instruction, made a cmov */
	F_COPY = 256,	/* unchecked: the head of a byte-copy loop, copied 8 bytes at a time */
	F_LOAD = 512,	/* unchecked: F_FUSE, and a load through the sum fused too */
	F_COLD = 1024,	/* in a block that ends the program, placed after the body */
	F_INVERT = 2048,	/* a jump over a cold block: jumps to it instead */
	F_ROT = 4096,	/* a rotate written as mov, two shifts and an or (3 fused) */
	F_CCOPY = 8192,	/* checked: a byte-copy loop tried whole before its own code */
	F_SELECT2 = 16384,	/* F_SELECT, and the next select shares its compare (fused) */
	F_MANY = 32768,	/* F_TARGET of more than one jump or call */
};

/*
 * Out-of-line paths that are not exits: zero the whole stack, end after a
 * packet miss, a helper that failed or asked for a tail call.
 */
enum { JS_ZERO_REST = JX_COUNT, JS_PKT_MISS, JS_TAIL };

/* An out-of-line path, emitted after the program's body. */
struct stub {
	uint8_t kind;		/* enum jit_exit or JS_*; JX_MEM, JS_ZERO_REST return */
	int8_t reg;		/* JX_NO_HELPER: x86 register holding the id */
	uint8_t size_log;	/* JX_MEM: log2 of the access size */
	bool ctx_second;	/* JX_MEM: ctx is checked out of line, not the stack */
	uint32_t idx;		/* instruction (JX_BUDGET: segment start) */
	uint32_t label;		/* the stub itself */
	uint32_t back;		/* JX_MEM, JS_ZERO_REST: where to continue */
	uint32_t charge;	/* JX_BUDGET: what the segment charged; JS_PKT_MISS:
				   what the block paid for after the load */
	struct x86_mem m;	/* JX_MEM: the access */
};

/* A block whose budget check failed runs this careful copy of it. */
struct careful {
	uint32_t start;		/* the block's first instruction */
	uint32_t label;
};

/* Registers known to hold r10 plus a constant, within a block. */
struct frame_track {
	uint16_t known;		/* bit per eBPF register */
	int32_t off[ISA_NREGS];
};

/*
 * A cold block: slots [lo, hi), entered by falling through from the jump
 * at lo - 1 (or by jumps), ending with `exit`. It is emitted after the
 * body with the jump's frame-pointer facts; the jump, inverted, goes to it.
 */
struct cold {
	uint32_t lo, hi;
	struct frame_track fp;
};

/*
 * Labels 0..n are instruction slots (n: end of body); the fixed ones
 * follow; the rest are made during a pass, in the same order every pass.
 */
enum {
	LF_EPILOGUE, LF_EXIT, LF_MEM_THUNK, LF_ZERO_FRAME, LF_ZERO_REST, LF_PKT_MISS,
	LF_FAULT_STORE, LF_TAIL, LF_CB_ENTRY, LF_RET,
	LF_FAULT,	/* + enum jit_exit */
	LF_COUNT = LF_FAULT + JX_COUNT,
};

struct jit {
	const struct bpfrt_prog *prog;
	const struct bpfrt_insn *insns;
	size_t n;
	bool checked;
	bool bmi2;		/* shlx/shrx/sarx */
	uint16_t used;		/* eBPF registers the program may read or write */
	bool frames;		/* it names r10 or calls a function: it has a stack */
	bool may_tail;		/* it calls bpf_tail_call (or callx, which may) */
	bool has_funcs;		/* helpers may call its functions back (lddw src 4) */
	bool calls;		/* it calls (helpers, callx, locally) or loads packets */
	bool may_goto;		/* it has may_goto: frames keep a budget in env->loops */
	bool leaf;		/* unchecked, no calls: needs no env (jit_leaf_fn) */
	bool leaf_exit;		/* leaf without stack that saves nothing: each exit
				   stores r0 in opts */
	bool blind;		/* constant blinding (bpfrt_prog_opts.jit_blind) */
	uint64_t rng;		/* blinding: the generator's state */
	uint16_t *flags;	/* F_* per slot */
	uint32_t *blk_charge;	/* checked: instructions in the block starting here */
	uint32_t *seg_charge;	/* checked: in the segment starting here */
	bpfrt_helper_fn *callx;
	size_t ncallx;

	struct emit e;
	unsigned pass;		/* labels bound this pass have stamp pass + 1 */
	unsigned pass0;		/* the first pass of this layout */
	bool final;		/* jump forms frozen, bytes written */
	bool align_loops;
	bool misjudged;		/* the final pass found a short jump out of range */
	bool oom;

	uint32_t *lpos, *lprev, *lstamp;
	size_t nlab, caplab, nfixed;

	uint8_t *jnear;		/* per jump site: short form (last pass) */
	uint32_t *jend;		/* its end (last pass) */
	size_t njmp, capjmp;

	struct stub *stubs;
	size_t nstubs, capstubs;
	struct stub spare;	/* stub_new's answer when out of memory */

	struct careful *carefuls;
	size_t ncarefuls, capcarefuls;
	struct jswitch *sw;	/* compare trees made jump tables, by root */
	size_t nsw;
	uint16_t *live;		/* per slot: eBPF registers live at its start (liveness) */
	struct cold *colds;	/* by lo */
	size_t ncolds, curcold;	/* curcold: the next jump over one, this pass */
	bool in_careful;	/* translating a careful copy */
	struct frame_track fp;
};

/* Resize an array from old to cap elements, zeroing the new ones. */
static bool resize(void **p, size_t old, size_t cap, size_t elem)
{
	void *np = realloc(*p, cap * elem);

	if (!np)
		return false;
	memset((char *)np + old * elem, 0, (cap - old) * elem);
	*p = np;
	return true;
}

static size_t next_cap(size_t cap)
{
	return cap ? 2 * cap : 256;
}

/* ---- Labels and jumps -------------------------------------------------- */

static uint32_t label_new(struct jit *j)
{
	if (j->nlab == j->caplab) {
		size_t cap = next_cap(j->caplab);

		if (!resize((void **)&j->lpos, j->caplab, cap, sizeof(uint32_t)) ||
		    !resize((void **)&j->lprev, j->caplab, cap, sizeof(uint32_t)) ||
		    !resize((void **)&j->lstamp, j->caplab, cap, sizeof(uint32_t))) {
			j->oom = true;
			return 0;
		}
		j->caplab = cap;
	}
	return (uint32_t)j->nlab++;
}

static void label_bind(struct jit *j, uint32_t l)
{
	j->lpos[l] = (uint32_t)j->e.pos;
	j->lstamp[l] = j->pass + 1;
}

static bool label_bound(const struct jit *j, uint32_t l)
{
	return j->lstamp[l] == j->pass + 1;
}

/* Where l is: exact if bound this pass, else where the last pass put it. */
static int64_t label_at(const struct jit *j, uint32_t l)
{
	return label_bound(j, l) ? j->lpos[l] : j->lprev[l];
}

static uint32_t fixed_label(const struct jit *j, unsigned lf)
{
	return (uint32_t)(j->n + 1 + lf);
}

/*
 * Jcc (or jmp) to label l. A backward target is known exactly; a forward
 * one is judged by the last pass, whose code was no smaller, so a jump made
 * short stays in range. The final pass keeps every decision as it was.
 */
static void jump(struct jit *j, enum x86_cc cc, uint32_t l)
{
	size_t site = j->njmp++;
	int64_t start = (int64_t)j->e.pos;
	bool near;

	if (site == j->capjmp) {
		size_t cap = next_cap(j->capjmp);

		if (!resize((void **)&j->jnear, j->capjmp, cap, 1) ||
		    !resize((void **)&j->jend, j->capjmp, cap, sizeof(uint32_t))) {
			j->oom = true;
			return;
		}
		j->capjmp = cap;
	}
	if (j->final)
		near = j->jnear[site];
	else if (label_bound(j, l))
		near = x86_is_s8(j->lpos[l] - (start + 2));
	else
		near = j->pass > j->pass0 &&
		       x86_is_s8((int64_t)j->lprev[l] - j->jend[site]);
	if (near) {
		int64_t rel = label_at(j, l) - (start + 2);

		if (!x86_is_s8(rel)) {		/* only forward, only while measuring */
			j->misjudged |= j->final;
			rel = 0;
		}
		emit_jcc8(&j->e, cc, (int32_t)rel);
	} else
		emit_jcc32(&j->e, cc, (int32_t)(label_at(j, l) -
					      (start + emit_jcc_size(cc, false))));
	j->jnear[site] = near;
	j->jend[site] = (uint32_t)j->e.pos;
}

static void call_label(struct jit *j, uint32_t l)
{
	emit_call_rel32(&j->e, (int32_t)(label_at(j, l) - ((int64_t)j->e.pos + 5)));
}

/*
 * A new out-of-line stub of this kind for instruction idx, for the caller to
 * fill in before the next one is made (out of memory: a spare, discarded).
 */
static struct stub *stub_new(struct jit *j, unsigned kind, size_t idx)
{
	struct stub *s = &j->spare;

	if (j->nstubs == j->capstubs) {
		size_t cap = next_cap(j->capstubs);

		if (!resize((void **)&j->stubs, j->capstubs, cap, sizeof(*s)))
			j->oom = true;
		else
			j->capstubs = cap;
	}
	if (!j->oom)
		s = &j->stubs[j->nstubs++];
	*s = (struct stub){ .kind = (uint8_t)kind, .idx = (uint32_t)idx,
			    .label = label_new(j) };
	return s;
}

static struct stub *jump_stub(struct jit *j, enum x86_cc cc, unsigned kind, size_t idx)
{
	struct stub *s = stub_new(j, kind, idx);

	jump(j, cc, s->label);
	return s;
}

/* ---- Analysis: targets, fusion, budget segments ------------------------ */

static unsigned shape_of(const struct bpfrt_insn *in)
{
	return isa_forms[isa_decode(in)].shape;
}

/* Can insns[i] and insns[i+1] become one x86 instruction (lea, movsxd...)? */
static bool fusable(const struct bpfrt_insn *in, size_t i, size_t n, const uint16_t *flags)
{
	enum isa_form_id a, b;

	if (i + 1 >= n || (flags[i + 1] & F_TARGET))
		return false;
	a = isa_decode(&in[i]);
	b = isa_decode(&in[i + 1]);
	if (in[i].dst_reg != in[i + 1].dst_reg)
		return false;
	if (a == ISA_MOV64_REG && in[i].src_reg != in[i].dst_reg)
		return b == ISA_ADD64_IMM || b == ISA_ADD64_REG ||
		       (b == ISA_SUB64_IMM && in[i + 1].imm != INT32_MIN);
	if (a == ISA_MOV32_REG && in[i].src_reg != in[i].dst_reg)
		return b == ISA_ADD32_IMM || b == ISA_ADD32_REG;
	if (a == ISA_LSH64_IMM && in[i].imm == 32)	/* (s64)(s32) and (u32) idioms */
		return (b == ISA_ARSH64_IMM || b == ISA_RSH64_IMM) && in[i + 1].imm == 32;
	return false;
}

/* Instructions a segment may hold before its last: no effect, no fault, no branch. */
static bool is_pure(unsigned shape)
{
	return shape == SH_ALU_IMM || shape == SH_ALU_REG || shape == SH_NEG ||
	       shape == SH_END || shape == SH_LDDW;
}

static void mark_targets(struct jit *j)
{
	j->flags[0] |= F_TARGET;
	j->used = 1u << R0 | 1u << R1 | 1u << R2 | 1u << R10;
	for (size_t i = 0; i < j->n; i++) {
		unsigned sh = shape_of(&j->insns[i]);

		/* fields a form does not use are 0, which names r0: always used */
		j->used |= (uint16_t)(1u << j->insns[i].dst_reg | 1u << j->insns[i].src_reg);
		j->frames |= j->insns[i].dst_reg == R10 || j->insns[i].src_reg == R10 ||
			     sh == SH_CALL_LOCAL;
		if (sh == SH_CALL || sh == SH_CALLX)
			j->used |= 1u << R3 | 1u << R4 | 1u << R5;	/* arguments */
		j->may_goto |= sh == SH_MAY_GOTO;
		if (isa_shape_jumps(sh) || sh == SH_CALL_LOCAL) {
			size_t t = (size_t)isa_branch_target(j->insns, i);

			j->flags[t] |= j->flags[t] & F_TARGET ? F_MANY : F_TARGET;
			if (t <= i && sh != SH_CALL_LOCAL)
				j->flags[t] |= F_LOOP;
		}
		if (sh == SH_CALLX || (sh == SH_CALL && j->insns[i].imm == HELPER_ID_TAIL_CALL))
			j->may_tail = true;
		j->calls |= sh == SH_CALL || sh == SH_CALLX || sh == SH_CALL_LOCAL ||
			    sh == SH_LDABS || sh == SH_LDIND;
		if (isa_decode(&j->insns[i]) == ISA_LDDW_FUNC) {
			j->flags[isa_branch_target(j->insns, i)] |= F_TARGET;
			j->has_funcs = true;
		}
		if (sh == SH_LDDW)
			j->flags[++i] |= F_HI;
	}
	/*
	 * A tail call's target uses registers of its own: the entry saves all
	 * the callee-saved ones, and zeroes them as the interpreter does.
	 */
	if (j->may_tail)
		j->used |= 1u << R3 | 1u << R4 | 1u << R5 | 1u << R6 | 1u << R7 |
			   1u << R8 | 1u << R9;
	/*
	 * Such code cannot fault (unchecked, nothing to call) and never reads
	 * env: jit_run calls it without setting up a run at all. Its one frame,
	 * if it names r10, is on the native stack.
	 */
	j->leaf = !j->checked && !j->calls && !j->has_funcs && !j->may_goto;
	j->leaf_exit = j->leaf && !j->frames &&
		       !(j->used & (1u << R6 | 1u << R7 | 1u << R8 | 1u << R9));
}

/*
 * Unchecked: compare trees become jump tables (switch.h). Where their ways
 * end becomes a jump target, and a compare inside a tree found is not tried
 * as the root of one of its own.
 */
static void mark_switches(struct jit *j)
{
	uint8_t *node = calloc(j->n, 1);
	size_t cap = 0;

	if (!node) {
		j->oom = true;
		return;
	}
	for (size_t i = 0; i < j->n && !j->oom; i++) {
		struct jswitch sw;

		if ((j->flags[i] & F_HI) || node[i] || shape_of(&j->insns[i]) != SH_JCOND_IMM ||
		    !jswitch_find(j->insns, j->n, i, &sw, node))
			continue;
		if (j->nsw == cap) {
			size_t ncap = cap ? 2 * cap : 4;

			if (!resize((void **)&j->sw, cap, ncap, sizeof(*j->sw))) {
				jswitch_free(&sw);
				j->oom = true;
				break;
			}
			cap = ncap;
		}
		j->sw[j->nsw++] = sw;
		j->flags[i] |= F_SWITCH;
		for (uint32_t k = 0; k < sw.npaths; k++)
			j->flags[sw.paths[k].leaf] |= F_TARGET;
	}
	free(node);
}

/*
 * The ALU instructions a select computes into a scratch register: moves and
 * the group-1 operations, with a constant or a register, and shifts by a
 * constant.
 */
static bool selectable(const struct bpfrt_insn *in)
{
	unsigned sh = shape_of(in), op = BPF_OP(in->code);

	if (sh != SH_ALU_IMM && sh != SH_ALU_REG)
		return false;
	switch (op) {
	case BPF_MOV:
		return in->off == 0;		/* not movsx */
	case BPF_ADD: case BPF_SUB: case BPF_OR: case BPF_AND: case BPF_XOR:
		return true;
	case BPF_LSH: case BPF_RSH: case BPF_ARSH:
		return sh == SH_ALU_IMM;
	default:
		return false;
	}
}

static bool reads_reg(const struct bpfrt_insn *in, unsigned r)
{
	unsigned sh = shape_of(in);

	return ((sh == SH_ALU_REG || sh == SH_JCOND_REG) && in->src_reg == r) ||
	       (in->dst_reg == r && !(BPF_OP(in->code) == BPF_MOV &&
				      (sh == SH_ALU_IMM || sh == SH_ALU_REG)));
}

/*
 * Two selects in a row on the same condition (clang's `if (c) { x op= k;
 * y op= l; }`), each jumping over its one instruction: one compare serves
 * both cmovs when the first instruction leaves the compare's registers
 * alone, the second does not depend on the first, and nothing but the
 * first jump lands on the second compare. Blinded code needs
 * r9 for its constants, the second's value goes there.
 */
static bool select_pair(const struct jit *j, size_t i)
{
	const struct bpfrt_insn *c1 = &j->insns[i], *a = c1 + 1, *c2 = c1 + 2, *b = c1 + 3;

	return !j->blind && (j->flags[i + 2] & F_SELECT) && !(j->flags[i + 2] & F_MANY) &&
	       c1->code == c2->code && c1->dst_reg == c2->dst_reg &&
	       c1->src_reg == c2->src_reg && c1->imm == c2->imm &&
	       !reads_reg(c1, a->dst_reg) && a->dst_reg != b->dst_reg &&
	       !reads_reg(b, a->dst_reg);
}

/*
 * Unchecked: `if (c) goto +1; x op= y` (clang's `if (!c) x op= y`) becomes
 * a cmov of the new value, so a data-dependent condition does not
 * mispredict. Checked code keeps the jump: the budget counts the ALU
 * instruction only when it runs.
 */
static void mark_selects(struct jit *j)
{
	for (size_t i = 0; i + 2 < j->n; i++) {
		unsigned sh, op;

		if (j->flags[i] & (F_HI | F_FUSED | F_SWITCH))
			continue;
		sh = shape_of(&j->insns[i]);
		if ((sh != SH_JCOND_IMM && sh != SH_JCOND_REG) || j->insns[i].off != 1 ||
		    (j->flags[i + 1] & (F_TARGET | F_FUSE | F_FUSED | F_HI)) ||
		    !selectable(&j->insns[i + 1]))
			continue;
		op = BPF_OP(j->insns[i + 1].code);
		if (j->blind && !j->bmi2 && (op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH))
			continue;	/* a blinded count needs shlx, r9 and r11 */
		j->flags[i] |= F_SELECT;
		j->flags[i + 1] |= F_FUSED;
	}
	for (size_t i = 0; i + 3 < j->n; i++)
		if ((j->flags[i] & F_SELECT) && select_pair(j, i)) {
			j->flags[i] |= F_SELECT2;
			j->flags[i + 2] = (uint16_t)((j->flags[i + 2] & ~F_SELECT) | F_FUSED);
		}
}

/*
 * A byte-copy loop as clang writes `for (...; i < n; i++) dst[i] = src[i]`,
 * at slots L..L+7, entered at L, the loop's only jump its last:
 *
 *	a = b; a += i; c = s; c += i	(either pair first)
 *	v = *(u8 *)(c + o1); *(u8 *)(a + o2) = v; i += 1; if i < n goto L
 *
 * with a, c, v written before they are read (dead at L), and b, s, n, i
 * read only. It runs max(n - i, 1) times (the test is at the end), and
 * again from L if i then wrapped around below n.
 *
 * Or, in unchecked code, the same eight after `M: may_goto T` at L - 1,
 * the last jumping back to M (clang's loop with can_loop()): each
 * iteration takes one of the frame's budget first, so it copies at most
 * what is left, and leaves to T once it is spent.
 */
struct copy_loop {
	unsigned a, b, c, s, v, i, n;
	int16_t o1, o2;
};

static bool copy_loop_at(const struct jit *j, size_t L, bool counted, struct copy_loop *cl)
{
	const struct bpfrt_insn *in = &j->insns[L];
	unsigned p = 0, q = 2;

	if (L + 8 > j->n || in[7].code != 0xad || in[7].off != (counted ? -9 : -8))	/* jlt reg */
		return false;
	for (unsigned k = !counted; k < 8; k++)
		if (j->flags[L + k] & (F_TARGET | F_HI))
			return false;
	if (in[4].code != 0x71 || in[5].code != 0x73 || in[6].code != 0x07 ||
	    in[6].imm != 1)		/* ldxb, stxb, add imm 1 */
		return false;
	if (in[0].code != 0xbf || in[1].code != 0x0f || in[2].code != 0xbf ||
	    in[3].code != 0x0f || in[0].dst_reg != in[1].dst_reg ||
	    in[2].dst_reg != in[3].dst_reg)	/* mov reg; add reg; twice */
		return false;
	if (in[0].dst_reg == in[4].src_reg) {	/* the source pair first */
		p = 2;
		q = 0;
	}
	cl->a = in[p].dst_reg;
	cl->b = in[p].src_reg;
	cl->c = in[q].dst_reg;
	cl->s = in[q].src_reg;
	cl->v = in[4].dst_reg;
	cl->i = in[6].dst_reg;
	cl->n = in[7].src_reg;
	cl->o1 = in[4].off;
	cl->o2 = in[5].off;
	if (in[7].dst_reg != cl->i || in[p + 1].src_reg != cl->i || in[q + 1].src_reg != cl->i ||
	    in[4].src_reg != cl->c || in[5].dst_reg != cl->a || in[5].src_reg != cl->v)
		return false;
	/* a, c, v written only by the loop; i, n, b, s never (but i += 1) */
	unsigned w = 1u << cl->a | 1u << cl->c | 1u << cl->v;
	unsigned r = 1u << cl->b | 1u << cl->s | 1u << cl->i | 1u << cl->n;

	if ((w & r) || cl->a == cl->c || cl->a == cl->v || cl->a == R10 || cl->c == R10 ||
	    cl->v == R10 || cl->i == R10 || cl->b == cl->i || cl->s == cl->i)
		return false;		/* (a base that is i moves with it) */
	/* c is read by the load before v may overwrite it, and the pair before
	   the other writes nothing the other reads: both are given as distinct */
	return true;
}

/*
 * Unchecked, the loop is replaced. Checked, its code stays, for runs that
 * would fault or run out of budget inside it; before it comes a copy of the
 * whole loop that runs only if every byte lies in ctx or in the stack
 * already zeroed and the budget pays for every iteration.
 */
static void mark_copies(struct jit *j)
{
	struct copy_loop cl;

	for (size_t L = 0; L < j->n; L++) {
		bool counted;

		if (!(j->flags[L] & F_LOOP) || (j->flags[L] & (F_HI | F_SWITCH)))
			continue;
		counted = shape_of(&j->insns[L]) == SH_MAY_GOTO;
		if ((counted && j->checked) || !copy_loop_at(j, L + counted, counted, &cl))
			continue;
		if (j->checked) {
			j->flags[L] |= F_CCOPY;
			continue;
		}
		j->flags[L] |= F_COPY;
		for (unsigned k = 1; k < 8u + counted; k++)
			j->flags[L + k] |= F_FUSED;
	}
}

/*
 * Unchecked: `a = b; a += c (or k); a = *(size *)(a + off)` (mark_fusion
 * fused the first two) is one load from [b + c + off]: a is written last.
 */
static bool load_fusable(const struct jit *j, size_t i)
{
	const struct bpfrt_insn *in = &j->insns[i];
	enum isa_form_id b;
	int64_t disp;

	if (j->checked || i + 2 >= j->n || (j->flags[i + 2] & F_TARGET) ||
	    isa_decode(&in[0]) != ISA_MOV64_REG || BPF_CLASS(in[2].code) != BPF_LDX ||
	    BPF_MODE(in[2].code) != BPF_MEM || in[2].src_reg != in[0].dst_reg ||
	    in[2].dst_reg != in[0].dst_reg)
		return false;
	b = isa_decode(&in[1]);
	disp = b == ISA_ADD64_IMM ? (int64_t)in[1].imm + in[2].off
	     : b == ISA_SUB64_IMM ? -(int64_t)in[1].imm + in[2].off : in[2].off;
	return (b == ISA_ADD64_REG || b == ISA_ADD64_IMM || b == ISA_SUB64_IMM) &&
	       x86_is_s32(disp);
}

static void mark_fusion(struct jit *j)
{
	for (size_t i = 0; i < j->n; i++) {
		if (j->flags[i] & (F_HI | F_COPY | F_FUSED))
			continue;
		enum isa_form_id b = i + 1 < j->n ? isa_decode(&j->insns[i + 1]) : ISA_MOV64_REG;

		/* blinding: no lea with the program's constant as displacement */
		if (fusable(j->insns, i, j->n, j->flags) &&
		    !(j->blind && (b == ISA_ADD64_IMM || b == ISA_SUB64_IMM || b == ISA_ADD32_IMM))) {
			j->flags[i] |= F_FUSE;
			j->flags[i + 1] |= F_FUSED;
			if (load_fusable(j, i)) {
				j->flags[i] |= F_LOAD;
				j->flags[i + 2] |= F_FUSED;
			}
			i++;
		}
	}
}

/* ---- Liveness ----------------------------------------------------------- */

#define ALL_REGS ((uint16_t)((1u << ISA_NREGS) - 1))
#define REG(r) ((uint16_t)(1u << (r)))

/*
 * What slot i reads and writes, erring towards reading more and writing
 * less. Calls read every register when the callee may see them: a local
 * call's callee (the engines keep r6..r9 for it), a tail call's target.
 */
static void use_def(const struct jit *j, size_t i, uint16_t *use, uint16_t *def)
{
	const struct bpfrt_insn *in = &j->insns[i];
	enum isa_form_id id = isa_decode(in);
	uint16_t d = REG(in->dst_reg), s = REG(in->src_reg);

	*def = 0;
	switch (isa_forms[id].shape) {
	case SH_ALU_IMM:
		*use = BPF_OP(in->code) == BPF_MOV ? 0 : d;
		*def = d;
		break;
	case SH_ALU_REG:
		*use = BPF_OP(in->code) == BPF_MOV ? s : (uint16_t)(d | s);
		*def = d;
		break;
	case SH_NEG: case SH_END:
		*use = *def = d;
		break;
	case SH_LDDW:
		*use = 0;
		*def = d;
		break;
	case SH_LDX:
		*use = s;
		*def = d;
		break;
	case SH_JA: case SH_JA32:
		*use = 0;
		break;
	case SH_EXIT:
		*use = REG(R0);
		break;
	case SH_CALL:
		*use = in->imm == HELPER_ID_TAIL_CALL ? ALL_REGS
		     : (uint16_t)(REG(R1) | REG(R2) | REG(R3) | REG(R4) | REG(R5));
		*def = REG(R0);
		break;
	case SH_CALL_LOCAL: case SH_CALLX:
		*use = ALL_REGS;
		*def = REG(R0);
		break;
	case SH_LDABS: case SH_LDIND:
		*use = (uint16_t)(s | REG(R6));
		*def = REG(R0);
		break;
	default:	/* stores, atomics, conditional jumps: read dst, src, r0 */
		*use = (uint16_t)(d | s | REG(R0));
		break;
	}
	*use |= REG(R10);
}

/*
 * j->live[i]: the registers whose value at slot i may still be read,
 * by the usual backward fixpoint (exit reads r0). Sweeps run from the end
 * to the start until nothing changes; sets only grow, so it ends.
 */
static bool compute_liveness(struct jit *j)
{
	bool changed = true;

	j->live = calloc(j->n + 1, sizeof(*j->live));
	if (!j->live)
		return false;
	while (changed) {
		changed = false;
		for (size_t i = j->n; i-- > 0;) {
			const struct bpfrt_insn *in = &j->insns[i];
			unsigned sh;
			uint16_t use, def, out = 0, live;

			if (j->flags[i] & F_HI)
				continue;
			sh = shape_of(in);
			use_def(j, i, &use, &def);
			if (sh != SH_EXIT && sh != SH_JA && sh != SH_JA32)
				out = j->live[i + (sh == SH_LDDW ? 2 : 1)];
			if (isa_shape_jumps(sh))
				out |= j->live[isa_branch_target(j->insns, i)];
			live = (uint16_t)(use | (out & ~def));
			if (live != j->live[i]) {
				j->live[i] = live;
				changed = true;
			}
		}
	}
	return true;
}

/* ---- Rotates (idiom.h) ------------------------------------------------- */

static bool rot_at(const struct jit *j, size_t i, struct idiom_rot *r)
{
	if (i + 4 > j->n)
		return false;
	for (unsigned k = 1; k < 4; k++)
		if (j->flags[i + k] & (F_TARGET | F_HI))
			return false;
	return idiom_rotate(&j->insns[i], r);
}

static void mark_rotates(struct jit *j)
{
	struct idiom_rot r;

	for (size_t i = 0; i + 3 < j->n; i++) {
		if ((j->flags[i] & (F_HI | F_FUSED | F_COPY | F_SWITCH)) || !rot_at(j, i, &r))
			continue;
		j->flags[i] |= F_ROT;
		for (unsigned k = 1; k < 4; k++)
			j->flags[i + k] |= F_FUSED;
		i += 3;
	}
}

#define COLD_MAX 64	/* slots a cold block may have */

/*
 * `if c goto L; ...; exit; L:` where the slots before L end the program:
 * they run at most once per run (or call), so they go after the body, the
 * jump inverted to reach them, and the hot path falls through to L (a loop
 * that tests its bound twice, as clang writes them, then takes one jump per
 * iteration, not two). Any code may move so: it cannot fall out of the
 * block, and a jump into it goes to its label wherever it is.
 */
static void mark_colds(struct jit *j)
{
	for (size_t i = 0; i < j->n && !j->oom; i++) {
		const struct bpfrt_insn *in = &j->insns[i];
		unsigned sh;
		size_t t;

		if (j->flags[i] & (F_HI | F_FUSED | F_SWITCH | F_SELECT | F_COPY))
			continue;
		sh = shape_of(in);
		if ((sh != SH_JCOND_IMM && sh != SH_JCOND_REG) || in->off <= 0 ||
		    (sh == SH_JCOND_IMM && BPF_OP(in->code) == BPF_JSET && in->imm == 0))
			continue;
		t = (size_t)isa_branch_target(j->insns, i);
		if (t - (i + 1) > COLD_MAX || (j->flags[t - 1] & F_HI) ||
		    shape_of(&j->insns[t - 1]) != SH_EXIT)
			continue;
		if (j->ncolds % 64 == 0 &&
		    !resize((void **)&j->colds, j->ncolds, j->ncolds + 64, sizeof(*j->colds))) {
			j->oom = true;
			return;
		}
		j->colds[j->ncolds++] = (struct cold){ .lo = (uint32_t)i + 1, .hi = (uint32_t)t };
		j->flags[i] |= F_INVERT;
		for (size_t k = i + 1; k < t; k++)
			j->flags[k] |= F_COLD;
		i = t - 1;
	}
}

/* Helpers that may run code of the program (or another) before they return. */
static bool calls_out(const struct bpfrt_insn *in)
{
	unsigned sh = shape_of(in);

	return sh == SH_CALLX || (sh == SH_CALL && (in->imm == HELPER_ID_TAIL_CALL ||
						    prog_helper_calls_back((uint32_t)in->imm)));
}

/*
 * Instructions after which control goes elsewhere, so a new block begins;
 * also calls of helpers that run program code (callbacks, tail calls),
 * which must not find the rest of the block paid for.
 */
static bool ends_block(const struct bpfrt_insn *in)
{
	unsigned shape = shape_of(in);

	return isa_shape_jumps(shape) || shape == SH_EXIT || shape == SH_CALL_LOCAL ||
	       calls_out(in);
}

/*
 * Checked mode: what each block and each segment charges (instructions,
 * lddw once). A local call ends its block: the callee pays for itself, so
 * the caller may not pay in advance for what follows the call.
 */
static void mark_budget(struct jit *j)
{
	size_t blk = 0, seg = 0;
	bool blk_ended = true, seg_ended = true;

	for (size_t i = 0; i < j->n; i++) {
		unsigned sh;

		if (j->flags[i] & F_HI)
			continue;
		if (blk_ended || (j->flags[i] & F_TARGET)) {
			blk = seg = i;
			j->flags[i] |= F_BLOCK;
		} else if (seg_ended) {
			seg = i;
		}
		j->blk_charge[blk]++;
		j->seg_charge[seg]++;
		sh = shape_of(&j->insns[i]);
		blk_ended = ends_block(&j->insns[i]);
		seg_ended = !is_pure(sh);
	}
}

/* ---- Frame pointer copies ------------------------------------------------ */

static void fp_reset(struct jit *j)
{
	j->fp.known = 1u << R10;
	j->fp.off[R10] = 0;
}

static bool fp_known(const struct jit *j, unsigned r, int64_t *k)
{
	if (!(j->fp.known >> r & 1))
		return false;
	*k = j->fp.off[r];
	return true;
}

static void fp_forget(struct jit *j, unsigned r)
{
	j->fp.known &= (uint16_t)~(1u << r);
}

static void fp_set(struct jit *j, unsigned r, int64_t k)
{
	if (k < -(1 << 20) || k > (1 << 20)) {
		fp_forget(j, r);
	} else {
		j->fp.known |= (uint16_t)(1u << r);
		j->fp.off[r] = (int32_t)k;
	}
}

/* Follow what instruction `in` does to registers that hold r10 + k. */
static void fp_update(struct jit *j, const struct bpfrt_insn *in)
{
	enum isa_form_id id = isa_decode(in);
	int64_t k;

	switch (isa_forms[id].shape) {
	case SH_ALU_IMM: case SH_ALU_REG: case SH_NEG: case SH_END: case SH_LDDW:
	case SH_LDX:
		if (id == ISA_MOV64_REG && fp_known(j, in->src_reg, &k))
			fp_set(j, in->dst_reg, k);
		else if (id == ISA_ADD64_IMM && fp_known(j, in->dst_reg, &k))
			fp_set(j, in->dst_reg, k + in->imm);
		else if (id == ISA_SUB64_IMM && fp_known(j, in->dst_reg, &k))
			fp_set(j, in->dst_reg, k - in->imm);
		else
			fp_forget(j, in->dst_reg);
		break;
	case SH_ATOMIC:
		fp_forget(j, isa_forms[id].dval == BPF_CMPXCHG ? R0 : in->src_reg);
		break;
	case SH_CALL: case SH_CALLX:
		fp_forget(j, R0);	/* helpers change only r0 */
		break;
	case SH_CALL_LOCAL:
		for (unsigned r = R0; r <= R5; r++)
			fp_forget(j, r);	/* r6..r9 survive calls */
		break;
	case SH_LDABS: case SH_LDIND:
		fp_forget(j, R0);
		break;
	default:
		break;
	}
}

/* ---- Checked memory access --------------------------------------------- */

static unsigned log2_size(unsigned size)
{
	return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
}

/*
 * One region's check: r9 = address - lo, below span for this size?
 * (Unsigned: an address below lo wraps around to a large value.)
 */
static void range_test(struct jit *j, struct x86_mem m, unsigned s, bool ctx)
{
	struct emit *e = &j->e;

	emit_lea(e, true, X_TMP2, m);
	emit_alu_rm(e, true, ALU_SUB, X_TMP2, ctx ? ENV(ctx_lo) : ENV(stack_init));
	emit_alu_rm(e, true, ALU_CMP, X_TMP2, ctx ? ENV(ctx_span[s]) : ENV(stack_span[s]));
}

/*
 * Is the access m of `size` bytes in the region it most likely is in? If
 * not, its stub tries the other one, then the slow path (run_mem_ok), and
 * comes back or faults.
 */
static void check_range(struct jit *j, size_t idx, struct x86_mem m, unsigned size,
			bool stack_first)
{
	unsigned s = log2_size(size);
	uint32_t back = label_new(j);
	struct stub *stub;

	range_test(j, m, s, !stack_first);
	stub = jump_stub(j, CC_AE, JX_MEM, idx);
	stub->back = back;
	stub->m = m;
	stub->size_log = (uint8_t)s;
	stub->ctx_second = stack_first;
	label_bind(j, back);
}

/* Is [r10 + k, r10 + k + size) inside r10's own frame? */
static bool in_frame(int64_t k, unsigned size)
{
	return k >= -(int64_t)BPFRT_STACK_SIZE && k + (int64_t)size <= 0;
}

/*
 * The memory operand of a load, store or atomic at [base + off]. Checked
 * mode first checks it, unless it lies in r10's own frame; atomics also
 * check alignment, and get their address in r11.
 */
static struct x86_mem mem_operand(struct jit *j, size_t idx, unsigned base, int16_t off,
				  unsigned size, bool atomic)
{
	struct emit *e = &j->e;
	struct x86_mem m = x86_mem(xreg[base], off);
	int64_t k;
	bool fp = j->checked && fp_known(j, base, &k);

	if (!j->checked)
		return m;
	if (fp && in_frame(k + off, size)) {
		if (!atomic || ((k + off) & (int64_t)(size - 1)) == 0)
			return m;		/* frames are 512-aligned */
		emit_lea(e, true, X_TMP, m);
		jump_stub(j, CC_ALWAYS, JX_MISALIGNED, idx);
		return x86_mem(X_TMP, 0);
	}
	if (atomic) {
		emit_lea(e, true, X_TMP, m);
		m = x86_mem(X_TMP, 0);
	}
	check_range(j, idx, m, size, fp);
	if (atomic) {
		emit_test_r8i(e, X_TMP, (uint8_t)(size - 1));
		jump_stub(j, CC_NE, JX_MISALIGNED, idx);
	}
	return m;
}

/* ---- Constant blinding ------------------------------------------------- */

/*
 * Under blinding (docs/design.md) no immediate the program chose reaches the
 * code as it is: each is emitted XORed with a fresh random value, which the
 * code XORs back into a register at run time. The forms are of fixed size,
 * so the layout does not depend on the values drawn (each pass draws anew).
 * The generator (splitmix64) is seeded from getrandom per translation.
 */
static void blind_seed(struct jit *j)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32 ^ (uintptr_t)j;
	}
	j->rng = seed;
}

static uint64_t blind_rand(struct jit *j)
{
	uint64_t z = (j->rng += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* reg = k, sign-extended to 64 bits if w, else zero-extended: (k ^ r) ^ r. */
static void blind_imm(struct jit *j, bool w, int reg, int32_t k)
{
	uint32_t r = (uint32_t)blind_rand(j);

	emit_mov_ri32(&j->e, w, reg, (int32_t)((uint32_t)k ^ r));
	emit_alu_ri32(&j->e, w, ALU_XOR, reg, (int32_t)r);
}

/* reg = v (a 64-bit constant), with X_TMP's help: (v ^ r) ^ r. */
static void blind_imm64(struct jit *j, int reg, uint64_t v)
{
	uint64_t r = blind_rand(j);

	emit_mov_ri64(&j->e, reg, v ^ r);
	emit_mov_ri64(&j->e, X_TMP, r);
	emit_alu_rr(&j->e, true, ALU_XOR, reg, X_TMP);
}

/* ---- ALU --------------------------------------------------------------- */

/* The upper half of a 32-bit result is zero: x86 32-bit operations do it. */
static void zext32(struct jit *j, int r)
{
	emit_mov_rr(&j->e, false, r, r);
}

/* dst = dst op imm for add/sub/or/and/xor, skipping what changes nothing. */
static void alu_imm(struct jit *j, bool w, enum x86_alu op, int d, int32_t imm)
{
	if (imm == 0 && op != ALU_AND) {
		if (!w)
			zext32(j, d);
	} else if (imm == 0) {
		emit_zero(&j->e, d);
	} else if (imm == -1 && op == ALU_AND) {
		if (!w)
			zext32(j, d);
	} else if (j->blind) {
		blind_imm(j, w, X_TMP, imm);
		emit_alu_rr(&j->e, w, op, d, X_TMP);
	} else {
		emit_alu_ri(&j->e, w, op, d, imm);
	}
}

static void alu_reg(struct jit *j, bool w, enum x86_alu op, int d, int s)
{
	if (d == s && (op == ALU_XOR || op == ALU_SUB))
		emit_zero(&j->e, d);
	else if (d == s && (op == ALU_AND || op == ALU_OR)) {
		if (!w)
			zext32(j, d);
	} else
		emit_alu_rr(&j->e, w, op, d, s);
}

static void mul_imm(struct jit *j, bool w, int d, int32_t imm)
{
	uint64_t c = w ? (uint64_t)(int64_t)imm : (uint32_t)imm;

	if (c == 0) {
		emit_zero(&j->e, d);
	} else if (c == 1) {
		if (!w)
			zext32(j, d);
	} else if (j->blind) {		/* no shift by a count derived from it either */
		blind_imm(j, w, X_TMP, imm);
		emit_imul_rr(&j->e, w, d, X_TMP);
	} else if ((c & (c - 1)) == 0) {
		emit_shift_ri(&j->e, w, SHIFT_SHL, d, (unsigned)__builtin_ctzll(c));
	} else {
		emit_imul_rri(&j->e, w, d, d, imm);
	}
}

static void shift_imm(struct jit *j, bool w, enum x86_shift op, int d, int32_t imm)
{
	unsigned k = (unsigned)imm & (w ? 63 : 31);

	if (k == 0) {
		if (!w)
			zext32(j, d);
	} else {
		emit_shift_ri(&j->e, w, op, d, k);
	}
}

/* Shift by a register: BMI2 masks the count itself; without it, cl must hold it. */
static void shift_reg(struct jit *j, bool w, enum x86_shift op, int d, int s)
{
	struct emit *e = &j->e;

	if (j->bmi2) {
		emit_shiftx(e, w, op, d, d, s);
	} else if (s == X_RCX) {
		emit_shift_cl(e, w, op, d);
	} else if (d == X_RCX) {
		emit_mov_rr(e, true, X_TMP, X_RCX);
		emit_mov_rr(e, true, X_RCX, s);
		emit_shift_cl(e, w, op, X_TMP);
		emit_mov_rr(e, true, X_RCX, X_TMP);
	} else {
		emit_mov_rr(e, true, X_TMP, X_RCX);
		emit_mov_rr(e, true, X_RCX, s);
		emit_shift_cl(e, w, op, d);
		emit_mov_rr(e, true, X_RCX, X_TMP);
	}
}

/* ---- Division ---------------------------------------------------------- */

/* d = d / r11 or d % r11, r11 neither 0 nor (signed) -1: rax and rdx are borrowed. */
static void divmod_core(struct jit *j, bool w, bool sign, bool mod, int d)
{
	struct emit *e = &j->e;
	int res = mod ? X_RDX : X_RAX;

	if (d != X_RAX)
		emit_mov_rr(e, true, X_TMP2, X_RAX);
	if (d != X_RDX)
		emit_push(e, X_RDX);
	if (d != X_RAX)
		emit_mov_rr(e, w, X_RAX, d);
	if (sign) {
		emit_cqo(e, w);
		emit_grp3(e, w, G3_IDIV, X_TMP);
	} else if (w) {
		/* both operands below 2^32: the 32-bit div, several times faster */
		uint32_t wide = label_new(j), join = label_new(j);

		emit_mov_rr(e, true, X_RDX, X_RAX);
		emit_alu_rr(e, true, ALU_OR, X_RDX, X_TMP);
		emit_shift_ri(e, true, SHIFT_SHR, X_RDX, 32);	/* rdx = 0 if so */
		jump(j, CC_NE, wide);
		emit_grp3(e, false, G3_DIV, X_TMP);
		jump(j, CC_ALWAYS, join);
		label_bind(j, wide);
		emit_zero(e, X_RDX);
		emit_grp3(e, true, G3_DIV, X_TMP);
		label_bind(j, join);
	} else {
		emit_zero(e, X_RDX);
		emit_grp3(e, w, G3_DIV, X_TMP);
	}
	if (d != res)
		emit_mov_rr(e, true, d, res);
	if (d != X_RDX)
		emit_pop(e, X_RDX);
	if (d != X_RAX)
		emit_mov_rr(e, true, X_RAX, X_TMP2);
}

/* Division by zero gives 0, modulo by zero the dividend (zero-extended in 32 bits). */
static void divmod_by_zero(struct jit *j, bool w, bool mod, int d)
{
	if (!mod)
		emit_zero(&j->e, d);
	else if (!w)
		zext32(j, d);
}

/* Signed division by -1 negates (INT_MIN stays); modulo by -1 is 0. */
static void divmod_by_minus1(struct jit *j, bool w, bool mod, int d)
{
	if (mod)
		emit_zero(&j->e, d);
	else
		emit_grp3(&j->e, w, G3_NEG, d);
}

static void divmod_reg(struct jit *j, bool w, bool sign, bool mod, int d, int s)
{
	uint32_t zero = label_new(j), done = label_new(j);

	emit_mov_rr(&j->e, w, X_TMP, s);
	emit_test_rr(&j->e, w, X_TMP, X_TMP);
	jump(j, CC_E, zero);
	if (sign) {
		uint32_t normal = label_new(j);

		emit_alu_ri(&j->e, w, ALU_CMP, X_TMP, -1);
		jump(j, CC_NE, normal);
		divmod_by_minus1(j, w, mod, d);
		jump(j, CC_ALWAYS, done);
		label_bind(j, normal);
	}
	divmod_core(j, w, sign, mod, d);
	jump(j, CC_ALWAYS, done);
	label_bind(j, zero);
	divmod_by_zero(j, w, mod, d);
	label_bind(j, done);
}

/* Signed division by 2^k rounds toward zero: bias negative dividends by 2^k - 1. */
static void sdiv_pow2(struct jit *j, bool w, bool mod, int d, unsigned k)
{
	struct emit *e = &j->e;
	unsigned bits = w ? 64 : 32;

	emit_mov_rr(e, w, X_TMP, d);
	emit_shift_ri(e, w, SHIFT_SAR, X_TMP, bits - 1);
	emit_shift_ri(e, w, SHIFT_SHR, X_TMP, bits - k);
	emit_alu_rr(e, w, ALU_ADD, X_TMP, d);
	if (mod) {
		emit_alu_ri(e, w, ALU_AND, X_TMP, (int32_t)-(INT64_C(1) << k));
		emit_alu_rr(e, w, ALU_SUB, d, X_TMP);
	} else {
		emit_shift_ri(e, w, SHIFT_SAR, X_TMP, k);
		emit_mov_rr(e, true, d, X_TMP);
	}
}

/* A constant divisor needs no run-time checks; powers of two need no division. */
static void divmod_imm(struct jit *j, bool w, bool sign, bool mod, int d, int32_t imm)
{
	uint64_t c = w ? (uint64_t)(int64_t)imm : (uint32_t)imm;
	int64_t sc = w ? (int64_t)c : (int32_t)c;
	bool pow2 = (c & (c - 1)) == 0;

	if (c == 0) {
		divmod_by_zero(j, w, mod, d);
	} else if (c == 1) {
		if (mod)
			emit_zero(&j->e, d);
		else if (!w)
			zext32(j, d);
	} else if (sign && sc == -1) {
		divmod_by_minus1(j, w, mod, d);
	} else if (j->blind) {		/* a real division: no mask or count derived from c */
		blind_imm(j, w, X_TMP, imm);
		divmod_core(j, w, sign, mod, d);
	} else if (!sign && pow2) {
		if (mod)
			emit_alu_ri(&j->e, w, ALU_AND, d, (int32_t)(c - 1));
		else
			emit_shift_ri(&j->e, w, SHIFT_SHR, d, (unsigned)__builtin_ctzll(c));
	} else if (sign && sc > 0 && pow2) {
		sdiv_pow2(j, w, mod, d, (unsigned)__builtin_ctzll(c));
	} else {
		emit_mov_ri(&j->e, X_TMP, c);
		divmod_core(j, w, sign, mod, d);
	}
}

/* ---- ALU instructions --------------------------------------------------- */

static enum x86_alu x86_alu_of(unsigned op)
{
	switch (op) {
	case BPF_ADD: return ALU_ADD;
	case BPF_SUB: return ALU_SUB;
	case BPF_OR:  return ALU_OR;
	case BPF_AND: return ALU_AND;
	default:      return ALU_XOR;
	}
}

static enum x86_shift x86_shift_of(unsigned op)
{
	return op == BPF_LSH ? SHIFT_SHL : op == BPF_RSH ? SHIFT_SHR : SHIFT_SAR;
}

static void tr_mov(struct jit *j, const struct bpfrt_insn *in, bool w, bool imm)
{
	int d = xreg[in->dst_reg], s = xreg[in->src_reg];

	if (imm) {
		uint64_t v = w ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm;

		if (v == 0)
			emit_zero(&j->e, d);
		else if (j->blind)
			blind_imm(j, w, d, in->imm);
		else
			emit_mov_ri(&j->e, d, v);
	} else if (in->off) {		/* movsx */
		emit_movsx_rr(&j->e, w, (unsigned)in->off / 8, d, s);
	} else if (!w || d != s) {
		emit_mov_rr(&j->e, w, d, s);
	}
}

static void tr_alu(struct jit *j, const struct bpfrt_insn *in, unsigned shape)
{
	bool w = !isa_is_alu32(in->code), imm = shape == SH_ALU_IMM;
	unsigned op = BPF_OP(in->code);
	int d = xreg[in->dst_reg], s = xreg[in->src_reg];

	switch (op) {
	case BPF_ADD: case BPF_SUB: case BPF_OR: case BPF_AND: case BPF_XOR:
		if (imm)
			alu_imm(j, w, x86_alu_of(op), d, in->imm);
		else
			alu_reg(j, w, x86_alu_of(op), d, s);
		break;
	case BPF_MUL:
		if (imm)
			mul_imm(j, w, d, in->imm);
		else
			emit_imul_rr(&j->e, w, d, s);
		break;
	case BPF_DIV: case BPF_MOD:
		if (imm)
			divmod_imm(j, w, in->off == 1, op == BPF_MOD, d, in->imm);
		else
			divmod_reg(j, w, in->off == 1, op == BPF_MOD, d, s);
		break;
	case BPF_LSH: case BPF_RSH: case BPF_ARSH:
		if (imm && j->blind && ((unsigned)in->imm & (w ? 63 : 31))) {
			/* by a register (x86 masks the count as eBPF does) */
			blind_imm(j, false, X_TMP2, in->imm);
			shift_reg(j, w, x86_shift_of(op), d, X_TMP2);
		} else if (imm)
			shift_imm(j, w, x86_shift_of(op), d, in->imm);
		else
			shift_reg(j, w, x86_shift_of(op), d, s);
		break;
	case BPF_NEG:
		emit_grp3(&j->e, w, G3_NEG, d);
		break;
	default:	/* BPF_MOV */
		tr_mov(j, in, w, imm);
		break;
	}
}

/* le: truncate; be and bswap: swap the bytes (bswap r32 zero-extends). */
static void tr_end(struct jit *j, const struct bpfrt_insn *in)
{
	bool swap = BPF_CLASS(in->code) == BPF_ALU64 || BPF_SRC(in->code) == BPF_TO_BE;
	int d = xreg[in->dst_reg];

	switch (in->imm) {
	case 16:
		if (swap)
			emit_rol16_8(&j->e, d);
		emit_movzx_rr(&j->e, 2, d, d);
		break;
	case 32:
		if (swap)
			emit_bswap(&j->e, false, d);
		else
			zext32(j, d);
		break;
	default:
		if (swap)
			emit_bswap(&j->e, true, d);
		break;
	}
}

/* A fused pair: mov + add as lea, lsh 32 + arsh/rsh 32 as movsxd / mov r32. */
static void tr_fused(struct jit *j, const struct bpfrt_insn *in)
{
	enum isa_form_id b = isa_decode(&in[1]);
	int d = xreg[in[0].dst_reg], s = xreg[in[0].src_reg];
	bool w = !isa_is_alu32(in[0].code);

	switch (b) {
	case ISA_ARSH64_IMM:
		emit_movsx_rr(&j->e, true, 4, d, d);
		break;
	case ISA_RSH64_IMM:
		zext32(j, d);
		break;
	case ISA_ADD64_REG: case ISA_ADD32_REG: {
		int t = xreg[in[1].src_reg];

		/* add's source was read after the mov: if it is dst, it is now s */
		emit_lea(&j->e, w, d, x86_mem_index(s, t == d ? s : t, 1, 0));
		break;
	}
	case ISA_SUB64_IMM:
		emit_lea(&j->e, w, d, x86_mem(s, -in[1].imm));
		break;
	default:	/* ADD64_IMM, ADD32_IMM */
		emit_lea(&j->e, w, d, x86_mem(s, in[1].imm));
		break;
	}
}

/* ---- Memory ------------------------------------------------------------ */

static void tr_ldx(struct jit *j, size_t i, const struct bpfrt_insn *in)
{
	unsigned size = isa_size(in->code);
	struct x86_mem m = mem_operand(j, i, in->src_reg, in->off, size, false);

	emit_load(&j->e, size, BPF_MODE(in->code) == BPF_MEMSX, xreg[in->dst_reg], m);
}

static void tr_st(struct jit *j, size_t i, const struct bpfrt_insn *in, bool reg)
{
	unsigned size = isa_size(in->code);
	struct x86_mem m = mem_operand(j, i, in->dst_reg, in->off, size, false);

	if (reg) {
		emit_store(&j->e, size, m, xreg[in->src_reg]);
	} else if (j->blind) {		/* m is never based on r11 here (not atomic) */
		blind_imm(j, size == 8, X_TMP, in->imm);
		emit_store(&j->e, size, m, X_TMP);
	} else {
		emit_store_imm(&j->e, size, m, in->imm);
	}
}

/*
 * Fetching or, and, xor: a cmpxchg loop in rax (r0, saved on the stack).
 * src's old value is read from that save if src is r0.
 */
static void atomic_fetch_loop(struct jit *j, bool w, enum x86_alu op,
			      struct x86_mem m, int s)
{
	struct emit *e = &j->e;
	uint32_t again = label_new(j);

	if (m.base == X_RAX) {
		emit_lea(e, true, X_TMP, m);
		m = x86_mem(X_TMP, 0);
	}
	emit_push(e, X_RAX);
	emit_load(e, w ? 8 : 4, false, X_RAX, m);
	label_bind(j, again);
	emit_mov_rr(e, true, X_TMP2, X_RAX);
	if (s == X_RAX)
		emit_alu_rm(e, w, op, X_TMP2, x86_mem(X_RSP, 0));
	else
		emit_alu_rr(e, w, op, X_TMP2, s);
	emit_lock_cmpxchg(e, w, m, X_TMP2);
	jump(j, CC_NE, again);
	if (s == X_RAX) {
		emit_alu_ri(e, true, ALU_ADD, X_RSP, 8);
	} else {
		emit_mov_rr(e, true, s, X_RAX);
		emit_pop(e, X_RAX);
	}
}

static void tr_atomic(struct jit *j, size_t i, const struct bpfrt_insn *in)
{
	unsigned size = isa_size(in->code);
	bool w = size == 8;
	int s = xreg[in->src_reg];
	struct x86_mem m = mem_operand(j, i, in->dst_reg, in->off, size, true);

	switch (in->imm) {
	case BPF_ADD: case BPF_OR: case BPF_AND: case BPF_XOR:
		emit_alu_mr(&j->e, w, true, x86_alu_of((unsigned)in->imm), m, s);
		break;
	case BPF_ADD | BPF_FETCH:
		emit_lock_xadd(&j->e, w, m, s);
		break;
	case BPF_XCHG:
		emit_xchg_mr(&j->e, w, m, s);
		break;
	case BPF_CMPXCHG:
		emit_lock_cmpxchg(&j->e, w, m, s);
		if (!w)		/* success leaves rax's upper half as it was */
			zext32(j, X_RAX);
		break;
	default:	/* or, and, xor with fetch */
		atomic_fetch_loop(j, w, x86_alu_of((unsigned)in->imm & ~BPF_FETCH), m, s);
		break;
	}
}

/* ---- Calls ------------------------------------------------------------- */

/*
 * Registers a call into C must keep: r1..r5, which helpers do not change in
 * the interpreter either (the cost is not measurable), and the budget.
 */
static const int8_t kept_regs[] = { X_RDI, X_RSI, X_RDX, X_RCX, X_R8, X_R10 };

/*
 * Checked mode: a helper may read any stack the program points it at, so
 * the part never zeroed yet is zeroed (once per run) before helpers run.
 */
static void zero_rest_before_helper(struct jit *j)
{
	uint32_t back = label_new(j);

	emit_load(&j->e, 8, false, X_TMP2, ENV(stack_init));
	emit_alu_rm(&j->e, true, ALU_CMP, X_TMP2,
		    x86_mem(X_ENV, (int32_t)(offsetof(struct jit_env, run) +
					    offsetof(struct bpfrt_run, stack_lo))));
	jump_stub(j, CC_NE, JS_ZERO_REST, 0)->back = back;
	label_bind(j, back);
}

/* Call a helper at fn with env's run as 6th argument; rsp stays aligned. */
static void call_helper(struct jit *j, int fn_reg)
{
	struct emit *e = &j->e;

	if (j->checked)
		zero_rest_before_helper(j);
	for (size_t k = 0; k < ARRAY_SIZE(kept_regs); k++)
		emit_push(e, kept_regs[k]);
	emit_lea(e, true, X_TMP2, ENV(run));
	emit_call_r(e, fn_reg);
	for (size_t k = ARRAY_SIZE(kept_regs); k-- > 0;)
		emit_pop(e, kept_regs[k]);
}

/*
 * A helper that may call back learns the caller's frame and, in checked
 * mode, the budget, which the callback spends (run_call_func).
 */
static void before_call_out(struct jit *j, const struct bpfrt_insn *in)
{
	if (!calls_out(in))
		return;
	emit_store(&j->e, 8, ENV_RUN(frame), X_RBP);
	if (j->checked)
		emit_store(&j->e, 8, ENV(budget), X_BUDGET);
}

/* After the helper: the budget left, and whether it failed or asked for a tail call. */
static void after_helper(struct jit *j, size_t i, const struct bpfrt_insn *in)
{
	bool out = calls_out(in);

	if (out && j->checked)
		emit_load(&j->e, 8, false, X_BUDGET, ENV(budget));
	emit_alu_mi(&j->e, false, ALU_CMP, ENV_RUN_FAIL, 0);
	jump_stub(j, CC_NE, out ? JS_TAIL : JX_HELPER, i);
}

/* ---- Inline array lookups ---------------------------------------------- */

/* bpfrt's own bpf_map_lookup_elem, which an inline lookup may stand for. */
static bpfrt_helper_fn builtin_lookup(void)
{
	for (size_t k = 0; k < helper_map_ndefs; k++)
		if (helper_map_defs[k].id == HELPER_MAP_LOOKUP_ELEM)
			return helper_map_defs[k].fn;
	return NULL;
}

/*
 * The map r1 holds at the call in slot i, if an lddw of the program's
 * table (src 5) put it there earlier in the same basic block, with nothing
 * but plain ALU, loads and stores in between; else NULL.
 */
static struct bpfrt_map *lookup_map_arg(const struct jit *j, size_t i)
{
	for (size_t k = i; k-- > 0;) {
		const struct bpfrt_insn *in = &j->insns[k];
		unsigned sh;

		if (j->flags[k + 1] & F_TARGET)
			return NULL;	/* r1 may come from elsewhere */
		if (j->flags[k] & F_HI)
			continue;
		sh = shape_of(in);
		if (sh == SH_ST || sh == SH_STX)
			continue;
		if (sh != SH_ALU_IMM && sh != SH_ALU_REG && sh != SH_NEG && sh != SH_END &&
		    sh != SH_LDDW && sh != SH_LDX)
			return NULL;
		if (in->dst_reg != R1)
			continue;
		if (isa_decode(in) == ISA_LDDW_MAP_IDX && (uint32_t)in->imm < j->prog->nmaps) {
			return j->prog->maps[in->imm];
		}
		return NULL;
	}
	return NULL;
}

/*
 * Unchecked code (the kernel does the same for verified programs): a lookup
 * in an array map known at translation is a bounds check and an address,
 * as array_lookup computes it, without the call. r1..r5 stay as they are.
 */
static bool tr_inline_lookup(struct jit *j, size_t i, const struct bpfrt_insn *in)
{
	struct emit *e = &j->e;
	struct bpfrt_map *m;
	uint32_t null, done;

	if (j->checked || j->blind || in->imm != HELPER_MAP_LOOKUP_ELEM ||
	    prog_helper(j->prog, HELPER_MAP_LOOKUP_ELEM) != builtin_lookup() ||
	    !(m = lookup_map_arg(j, i)) || m->type != BPFRT_MAP_ARRAY || m->stride > INT32_MAX)
		return false;
	null = label_new(j);
	done = label_new(j);
	emit_load(e, 4, false, X_TMP, x86_mem(xreg[R2], 0));
	emit_alu_ri(e, false, ALU_CMP, X_TMP, (int32_t)m->max_entries);
	jump(j, CC_AE, null);
	if ((m->stride & (m->stride - 1)) == 0)
		emit_shift_ri(e, true, SHIFT_SHL, X_TMP, (unsigned)__builtin_ctz(m->stride));
	else
		emit_imul_rri(e, true, X_TMP, X_TMP, (int32_t)m->stride);
	emit_mov_ri(e, X_RAX, (uintptr_t)m->area);
	emit_alu_rr(e, true, ALU_ADD, X_RAX, X_TMP);
	jump(j, CC_ALWAYS, done);
	label_bind(j, null);
	emit_zero(e, X_RAX);
	label_bind(j, done);
	return true;
}

static void tr_call(struct jit *j, size_t i, const struct bpfrt_insn *in)
{
	enum jit_hash_kind hash = JIT_HASH_NONE;
	struct jit_hash_site site;
	const void *fn = NULL;

	if (tr_inline_lookup(j, i, in))
		return;
	if (!j->checked) {	/* map helpers: inline or the map's own function (inline_hash.c) */
		if (!j->blind)	/* inline code holds the map's sizes and seed */
			hash = jit_hash_lookup(&j->e, j->prog, in->imm, lookup_map_arg(j, i),
					       &site);
		if (hash == JIT_HASH_INLINE)
			return;
		fn = jit_map_call_target(j->prog, in->imm, lookup_map_arg(j, i));
	}
	before_call_out(j, in);
	emit_mov_ri(&j->e, X_TMP, fn ? (uintptr_t)fn :
				  (uintptr_t)prog_helper(j->prog, (uint32_t)in->imm));
	call_helper(j, X_TMP);
	after_helper(j, i, in);
	if (hash == JIT_HASH_GUARDED)
		jit_hash_join(&j->e, &site);
}

/* callx: the helper whose id is in dst, from the table fixed at preparation. */
static void tr_callx(struct jit *j, size_t i, const struct bpfrt_insn *in)
{
	struct emit *e = &j->e;
	int d = xreg[in->dst_reg];

	emit_mov_rr(e, true, X_TMP, d);
	emit_alu_ri(e, true, ALU_CMP, X_TMP, (int32_t)j->ncallx);
	jump_stub(j, CC_AE, JX_NO_HELPER, i)->reg = (int8_t)d;
	emit_mov_ri(e, X_TMP2, (uintptr_t)j->callx);
	emit_load(e, 8, false, X_TMP, x86_mem_index(X_TMP2, X_TMP, 8, 0));
	emit_test_rr(e, true, X_TMP, X_TMP);
	jump_stub(j, CC_E, JX_NO_HELPER, i)->reg = (int8_t)d;
	before_call_out(j, in);
	call_helper(j, X_TMP);
	after_helper(j, i, in);
}

/*
 * Push the x86 registers of the eBPF registers in `regs` that the program
 * uses, plus `always`; pad so that rsp moves by an odd (odd = true) or even
 * number of 8-byte slots. Returns what pop_used needs to undo it.
 */
static unsigned push_used(struct jit *j, const int8_t *regs, size_t n, int always,
			  bool odd)
{
	unsigned mask = 0, count = 0;

	for (size_t k = 0; k < n; k++) {
		if (j->used >> regs[k] & 1) {
			emit_push(&j->e, xreg[regs[k]]);
			mask |= 1u << k;
			count++;
		}
	}
	if (always >= 0) {
		emit_push(&j->e, always);
		count++;
	}
	if ((count & 1) != odd) {
		emit_alu_ri(&j->e, true, ALU_SUB, X_RSP, 8);
		mask |= 1u << 31;
	}
	return mask;
}

static void pop_used(struct jit *j, const int8_t *regs, size_t n, int always,
		     unsigned mask)
{
	if (mask >> 31)
		emit_alu_ri(&j->e, true, ALU_ADD, X_RSP, 8);
	if (always >= 0)
		emit_pop(&j->e, always);
	for (size_t k = n; k-- > 0;)
		if (mask >> k & 1)
			emit_pop(&j->e, xreg[regs[k]]);
}

/* ---- may_goto ------------------------------------------------------------ */

/*
 * Each frame has a budget of ISA_MAY_GOTO_BUDGET iterations. Unchecked code
 * counts the running frame's used iterations in r10 (x86), which nothing
 * else holds there (leaf code, the only other user, has no may_goto): a
 * may_goto is a fused compare-and-branch and an add. A local call parks the
 * caller's count in env->loops[] and gets it back on return; helpers keep
 * r10 (kept_regs); a tail call and a callback start from 0. Checked code has
 * the instruction budget in r10, so there each frame's budget lives in
 * env->loops[], counted down.
 *
 * The frame's slot, through r11: env->loops[(r10 >> 9) % 8]. Frames are 512
 * bytes apart, BPFRT_MAX_FRAMES of them, so their r10s give 8 consecutive
 * values of r10 >> 9, wherever the stack is: each frame its own slot, and no
 * memory read to find it.
 */
static struct x86_mem loops_slot(struct jit *j)
{
	_Static_assert(BPFRT_MAX_FRAMES == 8, "one slot per frame");
	emit_mov_rr(&j->e, true, X_TMP, X_RBP);
	emit_shift_ri(&j->e, true, SHIFT_SHR, X_TMP, 9);	/* log2 BPFRT_STACK_SIZE */
	emit_alu_ri(&j->e, false, ALU_AND, X_TMP, BPFRT_MAX_FRAMES - 1);
	return x86_mem_index(X_ENV, X_TMP, 8, (int32_t)offsetof(struct jit_env, loops));
}

/* A frame begins (r10 is its own): its budget is full. */
static void loops_init(struct jit *j)
{
	_Static_assert(BPFRT_STACK_SIZE == 1u << 9, "frames are 512 bytes");
	if (j->checked)
		emit_store_imm(&j->e, 8, loops_slot(j), (int32_t)ISA_MAY_GOTO_BUDGET);
	else
		emit_zero(&j->e, X_LOOPS);
}

/* may_goto: to the target if the frame's budget is spent, else take one. */
static void tr_may_goto(struct jit *j, size_t i)
{
	uint32_t target = (uint32_t)isa_branch_target(j->insns, i);

	if (!j->checked) {
		emit_alu_ri(&j->e, true, ALU_CMP, X_LOOPS, (int32_t)ISA_MAY_GOTO_BUDGET);
		jump(j, CC_AE, target);
		emit_alu_ri(&j->e, true, ALU_ADD, X_LOOPS, 1);
		return;
	}
	struct x86_mem m = loops_slot(j);

	emit_alu_mi(&j->e, true, ALU_CMP, m, 0);
	jump(j, CC_E, target);
	emit_alu_mi(&j->e, true, ALU_SUB, m, 1);
}

/* The callee-saved eBPF registers: a local call keeps them (and r10). */
static const int8_t callee_saved[] = { R6, R7, R8, R9 };

static void tr_call_local(struct jit *j, size_t i)
{
	struct emit *e = &j->e;
	unsigned mask;

	emit_alu_rm(e, true, ALU_CMP, X_RBP, ENV(stack_min));
	jump_stub(j, CC_B, JX_TOO_DEEP, i);
	/* the return address makes the count even: the callee runs aligned */
	mask = push_used(j, callee_saved, ARRAY_SIZE(callee_saved), X_RBP, true);
	if (j->may_goto && !j->checked)	/* the caller's count, parked */
		emit_store(e, 8, loops_slot(j), X_LOOPS);
	emit_alu_ri(e, true, ALU_SUB, X_RBP, (int32_t)BPFRT_STACK_SIZE);
	if (j->checked)
		call_label(j, fixed_label(j, LF_ZERO_FRAME));
	if (j->may_goto)
		loops_init(j);
	call_label(j, (uint32_t)isa_branch_target(j->insns, i));
	pop_used(j, callee_saved, ARRAY_SIZE(callee_saved), X_RBP, mask);
	if (j->may_goto && !j->checked)
		emit_load(e, 8, false, X_LOOPS, loops_slot(j));
	if (j->may_tail) {	/* the callee may have tail-called another program */
		emit_mov_ri(e, X_TMP, (uintptr_t)j->prog);
		emit_store(e, 8, ENV_RUN(prog), X_TMP);
	}
}

/* Checked mode, a block's fast copy: instructions after i it has paid for. */
static uint32_t paid_after(const struct jit *j, size_t i)
{
	uint32_t c = 0;

	if (!j->checked || j->in_careful)
		return 0;
	for (size_t k = i + 1; k < j->n && !(j->flags[k] & F_BLOCK); k++)
		c += !(j->flags[k] & F_HI);
	return c;
}

static void tr_ld_pkt(struct jit *j, size_t i, const struct bpfrt_insn *in, bool ind)
{
	struct emit *e = &j->e;

	if (j->blind) {
		blind_imm(j, false, X_TMP, in->imm);
		if (ind)
			emit_alu_rr(e, false, ALU_ADD, X_TMP, xreg[in->src_reg]);
	} else if (ind) {
		emit_lea(e, false, X_TMP, x86_mem(xreg[in->src_reg], in->imm));
	} else {
		emit_mov_ri(e, X_TMP, (uint32_t)in->imm);
	}
	for (size_t k = 0; k < ARRAY_SIZE(kept_regs); k++)
		emit_push(e, kept_regs[k]);
	emit_mov_rr(e, true, X_RDI, X_ENV);
	emit_mov_rr(e, false, X_RSI, X_TMP);
	emit_mov_ri(e, X_RDX, isa_size(in->code));
	emit_mov_ri(e, X_TMP, (uintptr_t)jit_ld_pkt);	/* returns rax:rdx */
	emit_call_r(e, X_TMP);
	emit_test_rr(e, false, X_RDX, X_RDX);
	for (size_t k = ARRAY_SIZE(kept_regs); k-- > 0;)
		emit_pop(e, kept_regs[k]);
	/* the run ends, having run this far */
	jump_stub(j, CC_E, JS_PKT_MISS, i)->charge = paid_after(j, i);
}

/* ---- Jumps ------------------------------------------------------------- */

static enum x86_cc x86_cc_of(unsigned op)
{
	switch (op) {
	case BPF_JEQ:  return CC_E;
	case BPF_JNE:  return CC_NE;
	case BPF_JSET: return CC_NE;
	case BPF_JGT:  return CC_A;
	case BPF_JGE:  return CC_AE;
	case BPF_JLT:  return CC_B;
	case BPF_JLE:  return CC_BE;
	case BPF_JSGT: return CC_G;
	case BPF_JSGE: return CC_GE;
	case BPF_JSLT: return CC_L;
	default:       return CC_LE;	/* BPF_JSLE */
	}
}

/* Blinding: the flags of cmp (test for jset) d, k, with k in scratch. */
static void blind_flags(struct jit *j, bool w, unsigned op, int d, int32_t k, int scratch)
{
	blind_imm(j, w, scratch, k);
	if (op == BPF_JSET)
		emit_test_rr(&j->e, w, d, scratch);
	else
		emit_alu_rr(&j->e, w, ALU_CMP, d, scratch);
}

/* A compare and a conditional jump; jmp32 compares the low halves. */
static void tr_jcond(struct jit *j, size_t i, const struct bpfrt_insn *in, bool imm)
{
	struct emit *e = &j->e;
	bool w = !isa_is_jmp32(in->code);
	unsigned op = BPF_OP(in->code);
	int d = xreg[in->dst_reg];
	size_t t = (size_t)isa_branch_target(j->insns, i);
	bool invert = (j->flags[i] & F_INVERT) && !j->in_careful;

	if (t == i + 1)
		return;		/* both ways lead to the next instruction */
	if (!imm && op == BPF_JSET)
		emit_test_rr(e, w, d, xreg[in->src_reg]);
	else if (!imm)
		emit_alu_rr(e, w, ALU_CMP, d, xreg[in->src_reg]);
	else if (op == BPF_JSET && in->imm == 0)
		return;		/* never taken */
	else if (j->blind && in->imm != 0)
		blind_flags(j, w, op, d, in->imm, X_TMP);
	else if (op == BPF_JSET && in->imm > 0 && in->imm <= 0xff)
		emit_test_r8i(e, d, (uint8_t)in->imm);
	else if (op == BPF_JSET)
		emit_test_ri(e, w, d, in->imm);
	else if (in->imm == 0)		/* same flags as cmp d, 0 */
		emit_test_rr(e, w, d, d);
	else
		emit_alu_ri(e, w, ALU_CMP, d, in->imm);
	if (invert)	/* to the cold block at i + 1; t follows (mark_colds) */
		jump(j, (enum x86_cc)(x86_cc_of(op) ^ 1), (uint32_t)i + 1);
	else
		jump(j, x86_cc_of(op), (uint32_t)t);
}

/* ---- One instruction ---------------------------------------------------- */

/* Checked mode: pay c for the segment starting at i, or stop exactly there. */
static void charge_segment(struct jit *j, size_t i, uint32_t c)
{
	emit_alu_ri(&j->e, true, ALU_SUB, X_BUDGET, (int32_t)c);
	jump_stub(j, CC_B, JX_BUDGET, i)->charge = c;
}

/* Checked mode: pay for the block starting at i, or run its careful copy. */
static void charge_block(struct jit *j, size_t i)
{
	struct careful *c;

	if (j->blk_charge[i] == j->seg_charge[i]) {	/* one segment: exact as it is */
		charge_segment(j, i, j->blk_charge[i]);
		return;
	}
	if (j->ncarefuls == j->capcarefuls) {
		size_t cap = next_cap(j->capcarefuls);

		if (!resize((void **)&j->carefuls, j->capcarefuls, cap, sizeof(*c))) {
			j->oom = true;
			return;
		}
		j->capcarefuls = cap;
	}
	c = &j->carefuls[j->ncarefuls++];
	*c = (struct careful){ .start = (uint32_t)i, .label = label_new(j) };
	emit_alu_ri(&j->e, true, ALU_SUB, X_BUDGET, (int32_t)j->blk_charge[i]);
	jump(j, CC_B, c->label);
}

/* lea dst, [rip + label] */
static void lea_label(struct jit *j, int dst, uint32_t l)
{
	struct emit *e = &j->e;

	emit_u8(e, (uint8_t)(0x48 | (dst >= 8 ? 4 : 0)));
	emit_u8(e, 0x8d);
	emit_u8(e, (uint8_t)(0x05 | (dst & 7) << 3));
	emit_u32(e, (uint32_t)(int32_t)(label_at(j, l) - ((int64_t)e->pos + 4)));
}

/*
 * The root of a compare tree: the value's entry in the table (32-bit
 * offsets from the table, or the constants it leaves in registers) or,
 * outside it, the way of the values below or above. Ways with moves go
 * through a trampoline (emit_switch_tables).
 */
static void tr_switch(struct jit *j, struct jswitch *sw)
{
	struct emit *e = &j->e;
	int x = xreg[sw->reg];
	uint32_t out = 0, below = 0, above = 0;

	for (uint32_t k = 0; k < sw->npaths; k++)
		sw->label[k] = sw->values ? UINT32_MAX : sw->paths[k].nmov ? label_new(j)
									: sw->paths[k].leaf;
	for (unsigned k = 0; k < 2; k++) {
		bool has = k ? sw->has_above : sw->has_below;
		uint32_t p = sw->entry[sw->count + k];

		if (has && sw->label[p] == UINT32_MAX)
			sw->label[p] = sw->paths[p].nmov ? label_new(j) : sw->paths[p].leaf;
		if (has)
			*(k ? &above : &below) = sw->label[p];
	}
	for (unsigned k = 0; k < (sw->values ? sw->nval : 1); k++)
		sw->tlabel[k] = label_new(j);
	if (sw->w64)
		emit_mov_rr(e, true, X_TMP, x);
	else if (sw->sign)
		emit_movsx_rr(e, true, 4, X_TMP, x);
	else
		emit_mov_rr(e, false, X_TMP, x);
	if (sw->lo && j->blind) {	/* lo is a case value; count from two */
		blind_imm(j, true, X_TMP2, (int32_t)sw->lo);
		emit_alu_rr(e, true, ALU_SUB, X_TMP, X_TMP2);
	} else if (sw->lo) {
		emit_alu_ri(e, true, ALU_SUB, X_TMP, (int32_t)sw->lo);
	}
	if (j->blind) {
		blind_imm(j, true, X_TMP2, (int32_t)(sw->count - 1));
		emit_alu_rr(e, true, ALU_CMP, X_TMP, X_TMP2);
	} else {
		emit_alu_ri(e, true, ALU_CMP, X_TMP, (int32_t)(sw->count - 1));
	}
	if (sw->has_below && sw->has_above)
		jump(j, CC_A, out = label_new(j));
	else
		jump(j, CC_A, sw->has_below ? below : above);
	if (sw->values) {
		if (j->blind)	/* entries of 16 bytes: v ^ r, r */
			emit_alu_rr(e, true, ALU_ADD, X_TMP, X_TMP);
		for (unsigned k = 0; k < sw->nval; k++) {
			lea_label(j, X_TMP2, sw->tlabel[k]);
			emit_load(e, 8, false, xreg[sw->vreg[k]],
				  x86_mem_index(X_TMP2, X_TMP, 8, 0));
			if (j->blind)
				emit_alu_rm(e, true, ALU_XOR, xreg[sw->vreg[k]],
					    x86_mem_index(X_TMP2, X_TMP, 8, 8));
		}
		jump(j, CC_ALWAYS, sw->leaf);
	} else {
		lea_label(j, X_TMP2, sw->tlabel[0]);
		emit_load(e, 4, true, X_TMP, x86_mem_index(X_TMP2, X_TMP, 4, 0));
		emit_alu_rr(e, true, ALU_ADD, X_TMP, X_TMP2);
		emit_jmp_r(e, X_TMP);
	}
	if (sw->has_below && sw->has_above) {
		label_bind(j, out);
		if (j->blind)
			blind_flags(j, sw->w64, BPF_JEQ, x, (int32_t)sw->lo, X_TMP);
		else
			emit_alu_ri(e, sw->w64, ALU_CMP, x, (int32_t)sw->lo);
		jump(j, sw->sign ? CC_L : CC_B, below);
		jump(j, CC_ALWAYS, above);
	}
}

/* After the body: each tree's trampolines (its ways' moves), then its tables. */
static void emit_switch_tables(struct jit *j)
{
	struct emit *e = &j->e;

	for (size_t t = 0; t < j->nsw; t++) {
		const struct jswitch *sw = &j->sw[t];
		size_t at;

		for (uint32_t k = 0; k < sw->npaths; k++) {
			const struct jsw_path *p = &sw->paths[k];

			if (!p->nmov || sw->label[k] == UINT32_MAX)
				continue;
			label_bind(j, sw->label[k]);
			for (unsigned m = 0; m < p->nmov; m++)
				tr_alu(j, &j->insns[p->mov[m]], shape_of(&j->insns[p->mov[m]]));
			jump(j, CC_ALWAYS, p->leaf);
		}
		while (e->pos % 8)
			emit_u8(e, 0xcc);
		if (sw->values) {
			for (unsigned m = 0; m < sw->nval; m++) {
				label_bind(j, sw->tlabel[m]);
				for (uint32_t v = 0; v < sw->count; v++) {
					uint64_t x = sw->val[(size_t)v * sw->nval + m];
					uint64_t r = j->blind ? blind_rand(j) : 0;

					emit_u64(e, x ^ r);
					if (j->blind)
						emit_u64(e, r);
				}
			}
			continue;
		}
		label_bind(j, sw->tlabel[0]);
		at = e->pos;
		for (uint32_t v = 0; v < sw->count; v++)
			emit_u32(e, (uint32_t)(int32_t)(label_at(j, sw->label[sw->entry[v]]) -
							(int64_t)at));
	}
}

/* The compare of a conditional jump, without the jump: flags for x86_cc_of(op). */
static void jcond_flags(struct jit *j, const struct bpfrt_insn *in)
{
	struct emit *e = &j->e;
	bool w = !isa_is_jmp32(in->code), imm = shape_of(in) == SH_JCOND_IMM;
	unsigned op = BPF_OP(in->code);
	int d = xreg[in->dst_reg];

	if (!imm && op == BPF_JSET)
		emit_test_rr(e, w, d, xreg[in->src_reg]);
	else if (!imm)
		emit_alu_rr(e, w, ALU_CMP, d, xreg[in->src_reg]);
	else if (j->blind && (in->imm != 0 || op == BPF_JSET))
		blind_flags(j, w, op, d, in->imm, X_TMP2);	/* r11 holds the value */
	else if (op == BPF_JSET)
		emit_test_ri(e, w, d, in->imm);
	else if (in->imm == 0)
		emit_test_rr(e, w, d, d);
	else
		emit_alu_ri(e, w, ALU_CMP, d, in->imm);
}

/*
 * A select's new value (mark_selects): the ALU instruction's result, into
 * tmp unless it is a register already; returns where it is.
 */
static int select_value(struct jit *j, const struct bpfrt_insn *in, int tmp)
{
	struct emit *e = &j->e;
	bool w = !isa_is_alu32(in->code), imm = shape_of(in) == SH_ALU_IMM;
	unsigned op = BPF_OP(in->code);
	int d = xreg[in->dst_reg], s = xreg[in->src_reg];

	if (op == BPF_MOV && imm && j->blind) {	/* the flags are set after */
		if (in->imm == 0)
			emit_zero(e, tmp);
		else
			blind_imm(j, w, tmp, in->imm);
	} else if (op == BPF_MOV && imm) {
		emit_mov_ri(e, tmp, w ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm);
	} else if (op == BPF_MOV) {
		if (w)
			return s;
		emit_mov_rr(e, false, tmp, s);
	} else if (imm && !j->blind && (op == BPF_ADD || (op == BPF_SUB && in->imm != INT32_MIN))) {
		emit_lea(e, w, tmp, x86_mem(d, op == BPF_ADD ? in->imm : -in->imm));
	} else {
		emit_mov_rr(e, true, tmp, d);
		if ((op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH) &&
		    !((unsigned)in->imm & (w ? 63 : 31)))
			emit_mov_rr(e, w, tmp, tmp);	/* by 0: zero-extends */
		else if ((op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH) && j->blind) {
			blind_imm(j, false, X_TMP2, in->imm);	/* mark_selects: BMI2 */
			emit_shiftx(e, w, x86_shift_of(op), tmp, tmp, X_TMP2);
		} else if (op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH)
			emit_shift_ri(e, w, x86_shift_of(op), tmp,
				      (unsigned)in->imm & (w ? 63 : 31));
		else if (imm && j->blind) {
			blind_imm(j, w, X_TMP2, in->imm);
			emit_alu_rr(e, w, x86_alu_of(op), tmp, X_TMP2);
		} else if (imm)
			emit_alu_ri(e, w, x86_alu_of(op), tmp, in->imm);
		else
			emit_alu_rr(e, w, x86_alu_of(op), tmp, s);
	}
	return tmp;
}

/*
 * A select: the new value, the compare, and a cmov where the jump would not
 * be taken; a pair (F_SELECT2) computes both values first, compares once
 * and moves twice. A 32-bit result is zero-extended, so the cmov is always
 * 64-bit.
 */
static void tr_select(struct jit *j, size_t i)
{
	const struct bpfrt_insn *jc = &j->insns[i];
	bool pair = j->flags[i] & F_SELECT2;
	int v1 = select_value(j, &jc[1], X_TMP), v2 = pair ? select_value(j, &jc[3], X_TMP2) : 0;
	enum x86_cc cc = (enum x86_cc)(x86_cc_of(BPF_OP(jc->code)) ^ 1);

	jcond_flags(j, jc);
	emit_cmov_rr(&j->e, true, cc, xreg[jc[1].dst_reg], v1);
	if (pair)
		emit_cmov_rr(&j->e, true, cc, xreg[jc[3].dst_reg], v2);
}

/*
 * Checked copy loops: may bytes [p, p + r9) all be read and written? They
 * may if they lie in ctx, or in the stack zeroed (or written) so far: the
 * regions the inline checks accept. Else to `slow`.
 */
static void copy_range_check(struct jit *j, int p, uint32_t slow)
{
	struct emit *e = &j->e;
	uint32_t stack = label_new(j), ok = label_new(j);

	for (unsigned k = 0; k < 2; k++) {
		struct x86_mem lo = k ? ENV(stack_init) : ENV(ctx_lo);
		struct x86_mem span = k ? ENV(stack_span[0]) : ENV(ctx_span[0]);

		if (k)
			label_bind(j, stack);
		emit_mov_rr(e, true, X_TMP, p);
		emit_alu_rm(e, true, ALU_SUB, X_TMP, lo);	/* the first byte's offset */
		emit_alu_rm(e, true, ALU_CMP, X_TMP, span);
		jump(j, CC_AE, k ? slow : stack);
		emit_grp3(e, true, G3_NEG, X_TMP);
		emit_alu_rm(e, true, ALU_ADD, X_TMP, span);	/* bytes from there on */
		emit_alu_rr(e, true, ALU_CMP, X_TMP, X_TMP2);
		jump(j, k ? CC_B : CC_AE, k ? slow : ok);
	}
	label_bind(j, ok);
}

/*
 * The block at the loop's head has paid for this iteration; the budget
 * must pay 8 for each of the r9 - 1 others (budget / 8 + 1 >= r9), or to
 * `slow`, which stops exactly where the interpreter does.
 */
static void copy_budget_check(struct jit *j, uint32_t slow)
{
	struct emit *e = &j->e;

	emit_mov_rr(e, true, X_TMP, X_BUDGET);
	emit_shift_ri(e, true, SHIFT_SHR, X_TMP, 3);
	emit_alu_ri(e, true, ALU_ADD, X_TMP, 1);
	emit_alu_rr(e, true, ALU_CMP, X_TMP, X_TMP2);
	jump(j, CC_B, slow);
	emit_lea(e, true, X_TMP, x86_mem(X_TMP2, -1));
	emit_shift_ri(e, true, SHIFT_SHL, X_TMP, 3);
	emit_alu_rr(e, true, ALU_SUB, X_BUDGET, X_TMP);
}

/*
 * The copy loop (mark_copies): count = max(n - i, 1) bytes from s + i + o1
 * to b + i + o2, 32 at a time (two SSE registers), or 8 if the destination
 * is 8..31 bytes past the source, or byte by byte if it is 1..7 bytes past
 * (a byte's store then feeds a later byte's load), and the registers as the
 * last iteration leaves them (v may be c). A chunk is loaded whole before
 * it is stored, so a destination below the source copies as bytes would.
 */
static void tr_copy(struct jit *j, size_t L)
{
	struct emit *e = &j->e;
	struct copy_loop cl;
	int a, b, c, s, v, i, n;
	uint32_t one = label_new(j), bytes = label_new(j), wide = label_new(j);
	uint32_t tail = label_new(j), done = label_new(j), wide32 = label_new(j);
	uint32_t slow = 0;
	bool counted = shape_of(&j->insns[L]) == SH_MAY_GOTO;

	copy_loop_at(j, L + counted, counted, &cl);
	a = xreg[cl.a], b = xreg[cl.b], c = xreg[cl.c], s = xreg[cl.s];
	v = xreg[cl.v], i = xreg[cl.i], n = xreg[cl.n];
	if (counted) {				/* spent already: to T */
		emit_alu_ri(e, true, ALU_CMP, X_LOOPS, (int32_t)ISA_MAY_GOTO_BUDGET);
		jump(j, CC_AE, (uint32_t)isa_branch_target(j->insns, L));
	}
	emit_alu_rr(e, true, ALU_CMP, i, n);		/* r9 = the count */
	emit_mov_ri(e, X_TMP2, 1);
	jump(j, CC_AE, one);
	emit_mov_rr(e, true, X_TMP2, n);
	emit_alu_rr(e, true, ALU_SUB, X_TMP2, i);
	label_bind(j, one);
	if (counted) {				/* at most what the budget has left */
		emit_mov_ri(e, X_TMP, ISA_MAY_GOTO_BUDGET);
		emit_alu_rr(e, true, ALU_SUB, X_TMP, X_LOOPS);
		emit_alu_rr(e, true, ALU_CMP, X_TMP2, X_TMP);
		emit_cmov_rr(e, true, CC_A, X_TMP2, X_TMP);
		emit_alu_rr(e, true, ALU_ADD, X_LOOPS, X_TMP2);
	}
	emit_lea(e, true, a, x86_mem_index(b, i, 1, cl.o2));	/* the first bytes */
	emit_lea(e, true, c, x86_mem_index(s, i, 1, cl.o1));
	if (j->checked) {
		slow = label_new(j);
		copy_range_check(j, c, slow);
		copy_range_check(j, a, slow);
		copy_budget_check(j, slow);
	}
	emit_alu_rr(e, true, ALU_ADD, i, X_TMP2);		/* i as it ends */
	emit_alu_rr(e, true, ALU_ADD, X_TMP2, c);		/* r9 = the source's end */
	emit_mov_rr(e, true, X_TMP, a);
	emit_alu_rr(e, true, ALU_SUB, X_TMP, c);
	emit_alu_ri(e, true, ALU_SUB, X_TMP, 1);
	emit_alu_ri(e, true, ALU_CMP, X_TMP, 7);
	jump(j, CC_B, bytes);			/* dst - src in 1..7 */
	emit_alu_ri(e, true, ALU_CMP, X_TMP, 31);
	jump(j, CC_B, wide);			/* dst - src in 8..31 */
	label_bind(j, wide32);			/* 32 bytes at a time (SSE2) */
	emit_mov_rr(e, true, X_TMP, X_TMP2);
	emit_alu_rr(e, true, ALU_SUB, X_TMP, c);
	emit_alu_ri(e, true, ALU_CMP, X_TMP, 32);
	jump(j, CC_B, wide);
	emit_movups_load(e, 0, x86_mem(c, 0));
	emit_movups_load(e, 1, x86_mem(c, 16));
	emit_movups_store(e, x86_mem(a, 0), 0);
	emit_movups_store(e, x86_mem(a, 16), 1);
	emit_alu_ri(e, true, ALU_ADD, c, 32);
	emit_alu_ri(e, true, ALU_ADD, a, 32);
	jump(j, CC_ALWAYS, wide32);
	label_bind(j, wide);
	emit_mov_rr(e, true, X_TMP, X_TMP2);
	emit_alu_rr(e, true, ALU_SUB, X_TMP, c);
	emit_alu_ri(e, true, ALU_CMP, X_TMP, 8);
	jump(j, CC_B, bytes);
	emit_load(e, 8, false, X_TMP, x86_mem(c, 0));
	emit_store(e, 8, x86_mem(a, 0), X_TMP);
	emit_alu_ri(e, true, ALU_ADD, c, 8);
	emit_alu_ri(e, true, ALU_ADD, a, 8);
	jump(j, CC_ALWAYS, wide);
	label_bind(j, bytes);
	emit_alu_rr(e, true, ALU_CMP, c, X_TMP2);
	jump(j, CC_AE, done);
	label_bind(j, tail);
	emit_load(e, 1, false, X_TMP, x86_mem(c, 0));
	emit_store(e, 1, x86_mem(a, 0), X_TMP);
	emit_alu_ri(e, true, ALU_ADD, c, 1);
	emit_alu_ri(e, true, ALU_ADD, a, 1);
	emit_alu_rr(e, true, ALU_CMP, c, X_TMP2);
	jump(j, CC_B, tail);
	label_bind(j, done);
	/* the last iteration's registers: the addresses of the last byte */
	emit_lea(e, true, a, x86_mem(a, -1 - cl.o2));
	if (c != v)
		emit_lea(e, true, c, x86_mem(c, -1 - cl.o1));
	emit_load(e, 1, false, v, x86_mem(a, cl.o2));	/* what it stored last */
	if (!j->checked) {		/* the loop's own jump: i wrapped, or the budget ran out */
		emit_alu_rr(e, true, ALU_CMP, i, n);
		jump(j, CC_B, (uint32_t)L);
	}
	if (j->checked) {		/* done, the loop paid for */
		jump(j, CC_ALWAYS, (uint32_t)L + 8);
		label_bind(j, slow);	/* a, c, v are dead here: the loop writes them first */
	}
}

/* A rotate (mark_rotates): one rol, and t's shift if t is read later. */
static void tr_rot(struct jit *j, size_t i)
{
	struct idiom_rot r;

	rot_at(j, i, &r);
	if (j->live[i + 4] & REG(r.t)) {
		emit_mov_rr(&j->e, true, xreg[r.t], xreg[r.x]);
		emit_shift_ri(&j->e, r.w64, r.t_right ? SHIFT_SHR : SHIFT_SHL, xreg[r.t],
			      r.t_by);
	}
	emit_shift_ri(&j->e, r.w64, SHIFT_ROL, xreg[r.x], r.left);
}

/*
 * Leaf code leaves to C itself: opts->retval = r0, and 0 (jit_leaf_fn).
 * Tail-called, it runs in its caller's frame and must return r0 as any
 * exit does: the caller's tail-call path sets r10 (x86) to 0 (LF_TAIL).
 */
static void leaf_return(struct jit *j)
{
	emit_test_rr(&j->e, true, X_OPTS, X_OPTS);
	jump(j, CC_E, fixed_label(j, LF_RET));
	emit_store(&j->e, 8, x86_mem(X_OPTS, (int32_t)offsetof(struct bpfrt_run_opts, retval)),
		   X_RAX);
	emit_zero(&j->e, X_RAX);
	emit_ret(&j->e);
}

/* The compare tree whose root is slot i (mark_switches found them in order). */
static struct jswitch *switch_at(struct jit *j, size_t i)
{
	size_t lo = 0, hi = j->nsw;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (j->sw[mid].root <= i)
			lo = mid;
		else
			hi = mid;
	}
	return &j->sw[lo];
}

static void tr_insn(struct jit *j, size_t i)
{
	const struct bpfrt_insn *in = &j->insns[i];
	unsigned shape = shape_of(in);

	if (j->flags[i] & F_SELECT) {
		tr_select(j, i);
		return;
	}
	if (j->flags[i] & F_COPY) {
		tr_copy(j, i);
		return;
	}
	if ((j->flags[i] & F_CCOPY) && !j->in_careful)
		tr_copy(j, i);		/* then the loop's own code, if it must run */
	if (j->flags[i] & F_SWITCH) {
		tr_switch(j, switch_at(j, i));
		return;
	}
	if (j->flags[i] & F_ROT) {
		tr_rot(j, i);
		return;
	}
	if (j->flags[i] & F_LOAD) {
		int d = xreg[in[0].dst_reg], s = xreg[in[0].src_reg];
		enum isa_form_id b = isa_decode(&in[1]);
		struct x86_mem m;

		if (b == ISA_ADD64_REG) {	/* add a, a after the mov: a is b */
			int t = xreg[in[1].src_reg];

			m = x86_mem_index(s, t == d ? s : t, 1, in[2].off);
		} else {
			m = x86_mem(s, (int32_t)((b == ISA_ADD64_IMM ? (int64_t)in[1].imm
								    : -(int64_t)in[1].imm) +
						 in[2].off));
		}
		emit_load(&j->e, isa_size(in[2].code), false, d, m);
		return;
	}
	if (j->flags[i] & F_FUSE) {
		tr_fused(j, in);
		return;
	}
	switch (shape) {
	case SH_ALU_IMM: case SH_ALU_REG: case SH_NEG:
		tr_alu(j, in, shape);
		break;
	case SH_END:
		tr_end(j, in);
		break;
	case SH_LDDW: {
		uint64_t v = 0;

		prog_lddw(j->prog, i, &v, NULL);	/* check_runnable vouched for it */
		if (v == 0)
			emit_zero(&j->e, xreg[in->dst_reg]);
		else if (j->blind)	/* all of them: map and function addresses too */
			blind_imm64(j, xreg[in->dst_reg], v);
		else
			emit_mov_ri(&j->e, xreg[in->dst_reg], v);
		break;
	}
	case SH_LDX:
		tr_ldx(j, i, in);
		break;
	case SH_ST: case SH_STX:
		tr_st(j, i, in, shape == SH_STX);
		break;
	case SH_ATOMIC:
		tr_atomic(j, i, in);
		break;
	case SH_LDABS: case SH_LDIND:
		tr_ld_pkt(j, i, in, shape == SH_LDIND);
		break;
	case SH_JA: case SH_JA32:
		if ((size_t)isa_branch_target(j->insns, i) != i + 1)
			jump(j, CC_ALWAYS, (uint32_t)isa_branch_target(j->insns, i));
		break;
	case SH_JCOND_IMM: case SH_JCOND_REG:
		tr_jcond(j, i, in, shape == SH_JCOND_IMM);
		break;
	case SH_MAY_GOTO:
		tr_may_goto(j, i);
		break;
	case SH_CALL:
		tr_call(j, i, in);
		break;
	case SH_CALLX:
		tr_callx(j, i, in);
		break;
	case SH_CALL_LOCAL:
		tr_call_local(j, i);
		break;
	default:	/* SH_EXIT */
		if (j->leaf_exit)
			leaf_return(j);
		else
			emit_ret(&j->e);
		break;
	}
}

/* ---- Entry, exits and shared out-of-line code --------------------------- */


/*
 * entry(ctx, ctx_len, env, stack_top): save the callee-saved registers, set
 * the eBPF registers as the interpreter does (r1 = ctx, r2 = len, r10 = the
 * stack top, the rest 0; checked mode zeroes the first frame), call the
 * program, return JX_OK in eax and r0 in rdx (a struct jit_ret). Faults
 * leave through LF_EXIT (in emit_faults), which resets rsp from env,
 * however deep the calls were.
 */
static void emit_entry(struct jit *j)
{
	static const int8_t zeroed[] = { R0, R3, R4, R5, R6, R7, R8, R9 };
	struct emit *e = &j->e;
	unsigned mask;

	emit_endbr64(e);	/* an indirect call (or jump) lands here */
	if (j->leaf) {
		/*
		 * leaf(ctx, len, opts): r10 (x86) keeps opts, which nothing else
		 * uses in unchecked code; without registers to save or a
		 * frame, each `exit` stores r0 there and returns to C itself.
		 * The frame (r10) is the 512 bytes below the saved registers.
		 */
		mask = 0;
		if (!j->leaf_exit)
			mask = push_used(j, callee_saved, ARRAY_SIZE(callee_saved),
					 j->frames ? X_RBP : -1, false);
		emit_mov_rr(e, true, X_OPTS, X_RDX);
		if (j->frames) {
			emit_mov_rr(e, true, X_RBP, X_RSP);
			emit_alu_ri(e, true, ALU_SUB, X_RSP, (int32_t)BPFRT_STACK_SIZE);
		}
		for (size_t k = 0; k < ARRAY_SIZE(zeroed); k++)
			if ((j->used & j->live[0]) >> zeroed[k] & 1)
				emit_zero(e, xreg[zeroed[k]]);
		label_bind(j, fixed_label(j, LF_EPILOGUE));	/* no faults to leave by */
		if (!j->leaf_exit) {
			call_label(j, 0);
			if (j->frames)
				emit_alu_ri(e, true, ALU_ADD, X_RSP, (int32_t)BPFRT_STACK_SIZE);
			pop_used(j, callee_saved, ARRAY_SIZE(callee_saved),
				 j->frames ? X_RBP : -1, mask);
			leaf_return(j);
		}
		return;		/* else on into instruction 0 */
	}
	emit_push(e, X_RBP);
	emit_push(e, X_R12);
	/* with our return address and the call to the program: aligned */
	mask = push_used(j, callee_saved, ARRAY_SIZE(callee_saved), -1, false);
	emit_mov_rr(e, true, X_ENV, X_RDX);
	emit_mov_rr(e, true, X_RBP, X_RCX);
	emit_store(e, 8, ENV(saved_rsp), X_RSP);
	if (j->checked)
		emit_load(e, 8, false, X_BUDGET, ENV(budget));
	/*
	 * The first frame. A program that never names r10 nor calls cannot
	 * reach it but through a guessed address, and an access that is not
	 * r10-relative takes the slow path, which zeroes what it reaches.
	 */
	if (j->checked && j->frames)
		call_label(j, fixed_label(j, LF_ZERO_FRAME));
	if (j->may_goto)
		loops_init(j);
	for (size_t k = 0; k < ARRAY_SIZE(zeroed); k++)	/* what may be read before written */
		if ((j->used & j->live[0]) >> zeroed[k] & 1)
			emit_zero(e, xreg[zeroed[k]]);
	call_label(j, 0);
	emit_mov_rr(e, true, X_RDX, X_RAX);
	emit_zero(e, X_RAX);
	label_bind(j, fixed_label(j, LF_EPILOGUE));
	if (j->checked)
		emit_store(e, 8, ENV(budget), X_BUDGET);
	pop_used(j, callee_saved, ARRAY_SIZE(callee_saved), -1, mask);
	emit_pop(e, X_R12);
	emit_pop(e, X_RBP);
	emit_ret(e);
}

/* Per-instruction stubs: r9d = the instruction, then the shared fault code. */
static void emit_stub(struct jit *j, const struct stub *s)
{
	struct emit *e = &j->e;

	label_bind(j, s->label);
	if (s->kind == JS_PKT_MISS) {
		if (s->charge)
			emit_alu_ri(e, true, ALU_ADD, X_BUDGET, (int32_t)s->charge);
		jump(j, CC_ALWAYS, fixed_label(j, LF_PKT_MISS));
		return;
	}
	if (s->kind == JS_ZERO_REST) {
		call_label(j, fixed_label(j, LF_ZERO_REST));
		jump(j, CC_ALWAYS, s->back);
		return;
	}
	if (s->kind == JS_TAIL) {	/* a tail call, or the helper failed */
		if (j->may_tail) {	/* else LF_TAIL is not there: no tail calls */
			emit_alu_mi(e, false, ALU_CMP, ENV_RUN_FAIL, RUN_TAIL_CALL);
			jump(j, CC_E, fixed_label(j, LF_TAIL));
		}
		emit_mov_ri(e, X_TMP2, s->idx);
		jump(j, CC_ALWAYS, fixed_label(j, LF_FAULT + JX_HELPER));
		return;
	}
	if (s->kind == JX_BUDGET)	/* r10 = what was left before the segment */
		emit_alu_ri(e, true, ALU_ADD, X_BUDGET, (int32_t)s->charge);
	if (s->kind == JX_NO_HELPER)
		emit_mov_rr(e, true, X_TMP, s->reg);
	if (s->kind == JX_MEM) {	/* the other region, then run_mem_ok */
		range_test(j, s->m, s->size_log, s->ctx_second);
		jump(j, CC_B, s->back);
		emit_lea(e, true, X_TMP, s->m);
	}
	emit_mov_ri(e, X_TMP2, s->idx);
	if (s->kind == JX_MEM) {
		call_label(j, fixed_label(j, LF_MEM_THUNK));
		jump(j, CC_ALWAYS, s->back);
	} else {
		jump(j, CC_ALWAYS, fixed_label(j, LF_FAULT + s->kind));
	}
}

/* Faults: r9d = instruction, r11 = address or value; eax = how it ended. */
static void emit_faults(struct jit *j)
{
	struct emit *e = &j->e;

	for (unsigned k = JX_MEM; k < JX_COUNT; k++) {
		label_bind(j, fixed_label(j, LF_FAULT + k));
		emit_mov_ri(e, X_RAX, k);
		jump(j, CC_ALWAYS, fixed_label(j, LF_FAULT_STORE));
	}
	label_bind(j, fixed_label(j, LF_FAULT_STORE));
	emit_store(e, 4, ENV(fault_idx), X_TMP2);
	emit_store(e, 8, ENV(fault_addr), X_TMP);
	/*
	 * Through the epilogue of the entry the run (or the callback) came in
	 * by, which may be another program's after tail calls.
	 */
	label_bind(j, fixed_label(j, LF_EXIT));
	emit_load(e, 8, false, X_RSP, ENV(saved_rsp));
	emit_load(e, 8, false, X_TMP, ENV(exit_to));
	emit_jmp_r(e, X_TMP);
	label_bind(j, fixed_label(j, LF_RET));	/* a tail-called leaf's exit */
	emit_ret(e);
	/* A packet load missed: the program ends, successfully, with r0 = 0. */
	label_bind(j, fixed_label(j, LF_PKT_MISS));
	emit_zero(e, X_RAX);
	emit_zero(e, X_RDX);
	jump(j, CC_ALWAYS, fixed_label(j, LF_EXIT));
	/*
	 * A tail call: this frame runs the target (run->tail_code) from its
	 * first instruction, fresh in checked mode; the return address and the
	 * frames below stay, so its exit returns where this frame would have.
	 */
	if (j->may_tail) {
		label_bind(j, fixed_label(j, LF_TAIL));
		emit_store_imm(e, 4, ENV_RUN_FAIL, 0);
		if (j->checked) {
			loops_init(j);	/* the target's budget (it may have may_goto) */
			call_label(j, fixed_label(j, LF_ZERO_FRAME));
		} else {	/* no opts (a leaf's exit returns r0), no iterations used */
			_Static_assert(X_OPTS == X_LOOPS, "one zero for both");
			emit_zero(e, X_OPTS);
		}
		emit_load(e, 8, false, X_TMP, ENV_RUN(tail_code));
		emit_jmp_r(e, X_TMP);
	}
}

/*
 * cb_entry(r1, r2, r3, r4, r5, cb): run a function of the program for a
 * helper (jit_call). It saves what the main entry saves, the same way, so
 * that faults leave through the same epilogue; the function's frame is
 * cb->frame (zeroed in checked mode), r0 and r6..r9 start at 0.
 */
static void emit_cb_entry(struct jit *j)
{
	static const int8_t zeroed[] = { R0, R6, R7, R8, R9 };
	struct emit *e = &j->e;

	label_bind(j, fixed_label(j, LF_CB_ENTRY));
	emit_endbr64(e);
	emit_push(e, X_RBP);
	emit_push(e, X_R12);
	push_used(j, callee_saved, ARRAY_SIZE(callee_saved), -1, false);
	emit_load(e, 8, false, X_TMP, x86_mem(X_TMP2, (int32_t)offsetof(struct jit_cb, target)));
	emit_load(e, 8, false, X_RBP, x86_mem(X_TMP2, (int32_t)offsetof(struct jit_cb, frame)));
	emit_load(e, 8, false, X_ENV, x86_mem(X_TMP2, (int32_t)offsetof(struct jit_cb, env)));
	emit_store(e, 8, ENV(saved_rsp), X_RSP);
	if (j->may_goto) {
		emit_mov_rr(e, true, X_TMP2, X_TMP);	/* loops_init uses r11 */
		loops_init(j);
		emit_mov_rr(e, true, X_TMP, X_TMP2);
	}
	if (j->checked) {
		emit_load(e, 8, false, X_BUDGET, ENV(budget));
		emit_push(e, X_TMP);	/* LF_ZERO_FRAME uses r11; stays aligned */
		emit_push(e, X_TMP);
		call_label(j, fixed_label(j, LF_ZERO_FRAME));
		emit_pop(e, X_TMP);
		emit_pop(e, X_TMP);
	}
	for (size_t k = 0; k < ARRAY_SIZE(zeroed); k++)
		if (j->used >> zeroed[k] & 1)
			emit_zero(e, xreg[zeroed[k]]);
	emit_call_r(e, X_TMP);
	emit_mov_rr(e, true, X_RDX, X_RAX);
	emit_zero(e, X_RAX);
	jump(j, CC_ALWAYS, fixed_label(j, LF_EPILOGUE));
}

/* Registers the program may hold that a call into C would clobber. */
static const int8_t c_clobbered[] = { X_RAX, X_RDI, X_RSI, X_RDX, X_RCX, X_R8,
				      X_R10, X_R11 };

/* Call fn(env, r11, r9d) from a thunk, keeping the program's registers; ZF = !al. */
static void thunk_call(struct jit *j, uintptr_t fn)
{
	struct emit *e = &j->e;

	for (size_t k = 0; k < ARRAY_SIZE(c_clobbered); k++)
		emit_push(e, c_clobbered[k]);
	emit_alu_ri(e, true, ALU_SUB, X_RSP, 8);	/* 8 pushes + return: realign */
	emit_mov_rr(e, true, X_RDI, X_ENV);
	emit_mov_rr(e, true, X_RSI, X_TMP);
	emit_mov_rr(e, false, X_RDX, X_TMP2);
	emit_mov_ri(e, X_RAX, fn);
	emit_call_r(e, X_RAX);
	emit_alu_ri(e, true, ALU_ADD, X_RSP, 8);
	emit_test_r8i(e, X_RAX, 0xff);
	for (size_t k = ARRAY_SIZE(c_clobbered); k-- > 0;)
		emit_pop(e, c_clobbered[k]);
}

/*
 * The slow path of a checked access (r11 = address, r9d = instruction):
 * ask jit_mem_slow; return if the access may go on, else leave
 * (jit_mem_slow recorded the fault). And the once-per-run stack zeroing.
 */
static void emit_thunks(struct jit *j)
{
	struct emit *e = &j->e;
	uint32_t fail = label_new(j);

	label_bind(j, fixed_label(j, LF_MEM_THUNK));
	thunk_call(j, (uintptr_t)jit_mem_slow);
	jump(j, CC_E, fail);
	emit_ret(e);
	label_bind(j, fail);
	emit_mov_ri(e, X_RAX, JX_MEM);
	jump(j, CC_ALWAYS, fixed_label(j, LF_EXIT));
	label_bind(j, fixed_label(j, LF_ZERO_REST));
	thunk_call(j, (uintptr_t)jit_zero_rest);
	emit_ret(e);
}

/*
 * Zero the frame a local call (or the entry) enters, [rbp - 512, rbp), and
 * lower the mark of initialised stack if it goes below.
 */
static void emit_zero_frame(struct jit *j)
{
	struct emit *e = &j->e;
	uint32_t lower = label_new(j), loop = label_new(j);

	label_bind(j, fixed_label(j, LF_ZERO_FRAME));
	emit_lea(e, true, X_TMP, x86_mem(X_RBP, -(int32_t)BPFRT_STACK_SIZE));
	emit_alu_rm(e, true, ALU_CMP, X_TMP, ENV(stack_init));
	jump(j, CC_AE, lower);
	emit_store(e, 8, ENV(stack_init), X_TMP);
	/* stack_span[s] = top - init - size + 1, for sizes 1, 2, 4, 8 */
	emit_load(e, 8, false, X_TMP2, ENV(stack_top));
	emit_alu_rr(e, true, ALU_SUB, X_TMP2, X_TMP);
	for (unsigned s = 0; s < 4; s++) {
		if (s)
			emit_alu_ri(e, true, ALU_SUB, X_TMP2, 1 << (s - 1));
		emit_store(e, 8, ENV(stack_span[s]), X_TMP2);
	}
	label_bind(j, lower);
	emit_pxor(e, 0, 0);
	label_bind(j, loop);
	for (int k = 0; k < 4; k++)
		emit_movups_store(e, x86_mem(X_TMP, 16 * k), 0);
	emit_alu_ri(e, true, ALU_ADD, X_TMP, 64);
	emit_alu_rr(e, true, ALU_CMP, X_TMP, X_RBP);
	jump(j, CC_B, loop);
	emit_ret(e);
}

/*
 * The careful copy of the block at c->start: give back what the block
 * charged, then pay segment by segment, and continue in the block's
 * successors like the block itself.
 */
static void emit_careful(struct jit *j, const struct careful *c)
{
	size_t i = c->start, last = c->start;

	label_bind(j, c->label);
	emit_alu_ri(&j->e, true, ALU_ADD, X_BUDGET, (int32_t)j->blk_charge[i]);
	fp_reset(j);
	j->in_careful = true;
	for (; i < j->n && (i == c->start || !(j->flags[i] & F_BLOCK)); i++) {
		if (j->flags[i] & (F_HI | F_FUSED))
			continue;
		if (j->seg_charge[i])
			charge_segment(j, i, j->seg_charge[i]);
		tr_insn(j, i);
		fp_update(j, &j->insns[i]);
		if (j->flags[i] & F_FUSE)
			fp_update(j, &j->insns[i + 1]);
		last = i;
	}
	j->in_careful = false;
	switch (shape_of(&j->insns[last])) {
	case SH_JA: case SH_JA32: case SH_EXIT:
		break;
	default:	/* fall through into the next block */
		jump(j, CC_ALWAYS, (uint32_t)i);
		break;
	}
}

/* ---- Passes ------------------------------------------------------------ */

/* Slot i where it is placed: its label, its code, what it does to r10 copies. */
static void tr_slot(struct jit *j, size_t i)
{
	if (j->align_loops && (j->flags[i] & F_LOOP))
		emit_nops(&j->e, (32 - j->e.pos % 32) % 32);
	label_bind(j, (uint32_t)i);
	if (j->flags[i] & (F_HI | F_FUSED))
		return;
	if (j->flags[i] & F_TARGET)
		fp_reset(j);
	if (j->checked && (j->flags[i] & F_BLOCK))
		charge_block(j, i);
	tr_insn(j, i);
	fp_update(j, &j->insns[i]);
	if (j->flags[i] & F_FUSE)
		fp_update(j, &j->insns[i + 1]);
	if (j->flags[i] & F_SELECT)	/* may or may not have changed */
		fp_forget(j, j->insns[i + 1].dst_reg);
	if (j->flags[i] & F_SELECT2)
		fp_forget(j, j->insns[i + 3].dst_reg);
	if (j->flags[i] & F_LOAD)
		fp_update(j, &j->insns[i + 2]);
	if (j->flags[i] & F_COPY)
		for (unsigned k = 1; k < 8; k++)
			fp_update(j, &j->insns[i + k]);
	if (j->flags[i] & F_ROT)
		for (unsigned k = 1; k < 4; k++)
			fp_update(j, &j->insns[i + k]);
}

/*
 * int3 before the entry: tools that look before a function for its type
 * signature (UBSan's -fsanitize=function) must find readable bytes there.
 */
#define JIT_PAD 16

static void translate(struct jit *j)
{
	j->e.pos = 0;
	j->nlab = j->nfixed;
	j->njmp = 0;
	j->nstubs = 0;
	j->ncarefuls = 0;
	j->curcold = 0;
	for (int k = 0; k < JIT_PAD; k++)
		emit_u8(&j->e, 0xcc);
	emit_entry(j);
	for (size_t i = 0; i < j->n; i++) {
		if (j->flags[i] & F_COLD)
			continue;
		tr_slot(j, i);
		if (j->flags[i] & F_INVERT)	/* what the cold block starts with */
			j->colds[j->curcold++].fp = j->fp;
	}
	for (size_t k = 0; k < j->ncolds; k++) {
		j->fp = j->colds[k].fp;
		for (size_t i = j->colds[k].lo; i < j->colds[k].hi; i++)
			tr_slot(j, i);
	}
	label_bind(j, (uint32_t)j->n);
	for (size_t k = 0; k < j->ncarefuls; k++)
		emit_careful(j, &j->carefuls[k]);
	for (size_t k = 0; k < j->nstubs; k++)
		emit_stub(j, &j->stubs[k]);
	emit_faults(j);
	if (j->has_funcs)
		emit_cb_entry(j);
	if (j->checked) {
		emit_thunks(j);
		emit_zero_frame(j);
	}
	emit_switch_tables(j);	/* last: data, for disassemblers too */
}

/* One pass over the program; the final one writes into buf. */
static void run_pass(struct jit *j, uint8_t *buf, size_t cap)
{
	memcpy(j->lprev, j->lpos, j->nlab * sizeof(*j->lpos));
	j->e = (struct emit){ .buf = buf, .cap = cap };
	translate(j);
	j->pass++;
}

#define JIT_MAX_PASSES 10

/*
 * Measure until the code stops shrinking, then write it; returns its size
 * or 0. The final pass repeats the last one exactly, so every label stays
 * where it was measured. Without padding the code only shrinks from pass
 * to pass, which makes every short jump chosen valid; loop alignment can
 * grow it, so the final pass checks, and a layout it finds a short jump
 * out of range in is done again without alignment.
 */
static size_t layout(struct jit *j, void **mem)
{
	size_t size = 0;

	j->pass0 = j->pass;
	for (unsigned p = 0; p < JIT_MAX_PASSES && !j->oom; p++) {
		run_pass(j, NULL, 0);
		if (p > 0 && j->e.pos == size)
			break;
		size = j->e.pos;
	}
	if (j->oom || !(*mem = mcode_alloc(size)))
		return 0;
	j->final = true;
	run_pass(j, *mem, size);
	j->final = false;
	for (size_t l = 0; l < j->nlab; l++)
		if (j->lpos[l] != j->lprev[l])
			j->oom = true;	/* cannot happen: the layout must not move */
	if (j->misjudged && j->align_loops && !j->oom) {
		mcode_free(*mem, size);
		*mem = NULL;
		j->misjudged = j->align_loops = false;
		return layout(j, mem);
	}
	return j->oom || j->misjudged || j->e.pos != size ? 0 : size;
}

/* ---- Preparation -------------------------------------------------------- */

/* What the interpreter also refuses at preparation: unresolved lddw, unknown helpers. */
static int check_runnable(const struct bpfrt_prog *prog, struct bpfrt_error *err)
{
	for (size_t i = 0; i < prog->n; i++) {
		const struct bpfrt_insn *in = &prog->insns[i];
		unsigned shape = shape_of(in);

		uint64_t imm64;
		int ret;

		if (shape == SH_LDDW && (ret = prog_lddw(prog, i, &imm64, err)))
			return ret;
		if (shape == SH_CALL && !prog_helper(prog, (uint32_t)in->imm))
			return err_set(err, -ENOENT, (int)i,
				       "insn %zu: call to helper %d, which "
				       "is not available", i, in->imm);
		if (shape == SH_LDDW)
			i++;
	}
	return 0;
}

static bool cpu_has_bmi2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("bmi2") && !jit_no_bmi2;
}

static void jit_state_free(struct jit *j)
{
	free(j->flags);
	free(j->blk_charge);
	free(j->seg_charge);
	free(j->carefuls);
	free(j->lpos);
	free(j->lprev);
	free(j->lstamp);
	free(j->jnear);
	free(j->jend);
	free(j->stubs);
	for (size_t k = 0; k < j->nsw; k++)
		jswitch_free(&j->sw[k]);
	free(j->sw);
	free(j->colds);
	free(j->live);
}

static int jit_state_init(struct jit *j, const struct bpfrt_prog *prog, bool checked,
			  struct jit_code *code)
{
	*j = (struct jit){ .prog = prog, .insns = prog->insns, .n = prog->n,
			   .checked = checked, .bmi2 = cpu_has_bmi2(), .align_loops = true,
			   .blind = prog->jit_blind };
	if (j->blind)
		blind_seed(j);
	j->flags = calloc(prog->n, sizeof(*j->flags));
	j->blk_charge = calloc(prog->n, sizeof(*j->blk_charge));
	j->seg_charge = calloc(prog->n, sizeof(*j->seg_charge));
	code->ncallx = prog->nhelpers;
	code->callx = calloc(prog->nhelpers ? prog->nhelpers : 1, sizeof(*code->callx));
	code->offsets = calloc(prog->n + 1, sizeof(*code->offsets));
	if (!j->flags || !j->blk_charge || !j->seg_charge || !code->callx || !code->offsets)
		return -ENOMEM;
	for (size_t h = 0; h < prog->nhelpers; h++)
		code->callx[h] = prog->helpers[h].fn;
	j->callx = code->callx;
	j->ncallx = code->ncallx;
	j->nfixed = prog->n + 1 + LF_COUNT;
	for (size_t l = 0; l < j->nfixed; l++)
		label_new(j);
	return j->oom ? -ENOMEM : 0;
}

int jit_prepare(const struct bpfrt_prog *prog, bool checked, struct jit_code **out,
		struct bpfrt_error *err)
{
	struct jit_code *code;
	struct jit j;
	int ret;

	*out = NULL;
#if !defined(__x86_64__)
	return err_set(err, -ENOTSUP, -1, "the JIT only generates x86-64 code");
#endif
	ret = check_runnable(prog, err);
	if (ret)
		return ret;
	code = calloc(1, sizeof(*code));
	if (!code)
		return err_set(err, -ENOMEM, -1, "out of memory");
	code->checked = checked;
	ret = jit_state_init(&j, prog, checked, code);
	if (!ret) {
		mark_targets(&j);
		if (!checked)
			mark_switches(&j);
		mark_copies(&j);
		if (!j.blind)		/* one rol by a count from the program */
			mark_rotates(&j);
		mark_fusion(&j);
		if (!checked)
			mark_selects(&j);
		mark_colds(&j);
		if (checked)
			mark_budget(&j);
		if (!compute_liveness(&j))
			j.oom = true;
		code->len = layout(&j, &code->mem);
		ret = code->len ? mcode_seal(code->mem, code->len) : -ENOMEM;
	}
	if (!ret) {
		for (size_t i = 0; i <= prog->n; i++)
			code->offsets[i] = j.lpos[i] - JIT_PAD;
		code->entry = (jit_entry_fn)((uint8_t *)code->mem + JIT_PAD);
		if (j.leaf)
			code->leaf = (jit_leaf_fn)((uint8_t *)code->mem + JIT_PAD);
		code->epilogue = (uint8_t *)code->mem + j.lpos[fixed_label(&j, LF_EPILOGUE)];
		if (j.has_funcs)
			code->cb_entry = (jit_cb_fn)(void *)((uint8_t *)code->mem +
							     j.lpos[fixed_label(&j, LF_CB_ENTRY)]);
	}
	jit_state_free(&j);
	if (ret) {
		jit_free(code);
		return err_set(err, ret, -1, "JIT: cannot make the code (%s)",
			       ret == -ENOMEM ? "out of memory" : "mprotect failed");
	}
	*out = code;
	return 0;
}

void jit_free(struct jit_code *code)
{
	if (!code)
		return;
	mcode_free(code->mem, code->len);
	free(code->offsets);
	free(code->callx);
	free(code);
}

void jit_code_info(const struct jit_code *code, const void **mem, size_t *len,
		   const uint32_t **offsets)
{
	*mem = (const uint8_t *)code->mem + JIT_PAD;
	*len = code->len - JIT_PAD;
	*offsets = code->offsets;
}
