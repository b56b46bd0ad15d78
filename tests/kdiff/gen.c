/* gen.c — random eBPF programs the kernel verifier accepts, for the differential test.
 *
 * A program is built as a list of items (one instruction, or two slots no
 * jump may split, as an lddw); jumps name how many items they skip, and
 * offsets in slots are resolved once the list is complete. Only forward
 * jumps are made, so every program terminates, and every item stays
 * reachable in the control-flow graph (the verifier rejects unreachable
 * code): an unconditional jump or an exit is always followed by the target
 * of the conditional jump before it. Items that set up a call, a helper's
 * arguments or a packet load form a sequence: only its first item may be the
 * target of a random jump, which is moved past the others.
 *
 * A program is its main function and, in the GEN_CALLS family, 1–3
 * subprograms placed after it. Subprogram i may call only subprograms j > i
 * (the kernel rejects recursion), and its owner, a function before it, calls
 * it in its epilogue, so it is reachable however much the bodies are cut.
 * Each function draws from its own random stream, so cutting one body
 * leaves the others as they were.
 *
 * What keeps the verifier happy:
 *   - one register holds the ctx pointer and is never written or used as a
 *     value; r10 is only a base address; every other register is a scalar,
 *     initialised in the prologue. A subprogram may get the ctx pointer and
 *     a pointer to PTR_WORDS words of its caller's stack as arguments; it
 *     moves both to r6..r9, which calls preserve;
 *   - after a call, a helper call or a packet load, r1..r5 are unreadable
 *     (the verifier marks them so): the sequence ends by setting them again;
 *   - memory is the ctx (aligned, constant offsets, no BPF_ST or atomics:
 *     the verifier forbids both on ctx), the function's own stack slots,
 *     written in its prologue (stack accesses must be aligned), and the
 *     caller's words behind the pointer argument; a string area of the stack
 *     is written only just before the helper call that reads it;
 *   - constant shift amounts are below the operand width, constant divisors
 *     are not zero.
 *
 * What keeps clear of two kernel verifier bugs (seen on 6.18), which made
 * the kernel, not bpfrt, compute the wrong result:
 *   - precision backtracking does not follow the value an atomic fetch,
 *     xchg or cmpxchg loads from a stack slot back to that slot, so when the
 *     load returns a value the verifier knows (a spilled constant) and a
 *     branch depends on it, state pruning may merge paths that differ in the
 *     slot, and the kernel then removes code that does run. Loading atomics
 *     therefore only touch the opaque slots (the highest of a function's
 *     slots), whose content the verifier never knows: the prologue scrambles
 *     them with a 64-bit atomic that loads nothing (leaving them STACK_MISC),
 *     and no plain store writes them again;
 *   - the zero-extension of r0 after a 32-bit cmpxchg goes missing when the
 *     path is pruned before r0 is used (see emit_atomic()).
 */
#include <stdbool.h>
#include <string.h>

#include "gen.h"
#include "isa/isa.h"

/* ---- Randomness -------------------------------------------------------- */

uint64_t gen_next(struct gen_rng *r)
{
	uint64_t z = r->s += 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint32_t gen_below(struct gen_rng *r, uint32_t n)
{
	return (uint32_t)(((gen_next(r) >> 32) * n) >> 32);
}

#define PICK(r, arr) ((arr)[gen_below((r), sizeof(arr) / sizeof((arr)[0]))])

static const uint64_t edge64[] = {
	0, 1, 2, 3, 7, 0xffffffffffffffffull, 0xfffffffffffffffeull,
	0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
	0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
	0x7fffffffffffffffull, 0x8000000000000000ull,
	0xffffffff80000000ull, 0xffffffff7fffffffull, 0x80000000ffffffffull,
	0xffffffff00000000ull, 0x00000000ffff8000ull, 0xffffffffffff8000ull,
	0xffffffffffffff80ull, 31, 32, 63, 64, 65, 127,
};

static const int32_t edge32[] = {
	0, 1, 2, 3, -1, -2, INT32_MIN, INT32_MAX, INT32_MIN + 1,
	0x7f, 0x80, 0xff, -128, 0x7fff, 0x8000, 0xffff, -32768, 0x10000,
	31, 32, 63, 64, 0x55555555, (int32_t)0xaaaaaaaa,
};

/* A 64-bit value: an edge value half of the time. */
static uint64_t val64(struct gen_rng *r)
{
	uint32_t k = gen_below(r, 10);

	if (k < 5)
		return PICK(r, edge64);
	if (k < 7)
		return (uint64_t)((int64_t)gen_below(r, 33) - 16);
	if (k < 8)	/* a random low half, the high half all zeros or all ones */
		return (uint32_t)gen_next(r) | (gen_below(r, 2) ? 0xffffffff00000000ull : 0);
	return gen_next(r);
}

static int32_t imm32(struct gen_rng *r)
{
	uint32_t k = gen_below(r, 10);

	if (k < 5)
		return PICK(r, edge32);
	if (k < 7)
		return (int32_t)gen_below(r, 33) - 16;
	return (int32_t)(uint32_t)gen_next(r);
}

/* A constant shift amount the verifier accepts (below the width). */
static int32_t shift_imm(struct gen_rng *r, bool is64)
{
	int32_t bits = is64 ? 64 : 32;

	switch (gen_below(r, 6)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return bits / 2;
	case 3: return bits / 2 - 1;
	case 4: return bits - 1;
	default: return (int32_t)gen_below(r, (uint32_t)bits);
	}
}

/* An independent stream for one purpose of one program. */
static struct gen_rng stream(uint64_t seed, uint64_t purpose)
{
	struct gen_rng r = { .s = seed ^ (purpose * 0xd1b54a32d192ed03ull) };

	if (purpose)
		gen_next(&r);
	return r;
}

/* ---- The item list ----------------------------------------------------- */

#define MAX_ITEMS	GEN_MAX_INSNS
#define MAX_FUNCS	4
#define NO_JUMP		(-1)

struct item {
	struct bpfrt_insn in[2];
	uint8_t n;	/* slots: 1, or 2 (lddw, or a pair no jump may split) */
	uint8_t fn;	/* the function it belongs to */
	bool glued;	/* inside a sequence: no random jump lands on it */
	bool exact;	/* a jump inside a sequence: its target stays where it is */
	int8_t callee;	/* a local call: the function it calls; -1 otherwise */
	int16_t skip;	/* jumps: items skipped; NO_JUMP otherwise */
};

/* What a function may touch, and which of its registers are scalars. */
struct func {
	int ctx;	/* register holding the ctx pointer, or -1 */
	bool ctx_mem;	/* may it load from and store to the ctx? */
	int ptr;	/* register pointing at PTR_WORDS caller words, or -1 */
	int slots;	/* 8-byte stack slots the prologue writes: 1..slots */
	int opaque;	/* the highest `opaque` of them are opaque (see the top) */
	int str_slots;	/* a string area of slots slots+1 .. slots+str_slots */
	int regs[ISA_NREGS];	/* the scalar registers */
	int nregs;
	int start;	/* its first item */
	int body_end;	/* first item after its body: the farthest jump target */
};

/* How subprogram i is called: its arguments are r1..r<nargs>. */
struct sig {
	int nargs;
	int ptr_arg;	/* the argument holding a caller-stack pointer, or 0 */
	int ctx_arg;	/* the argument holding the ctx pointer, or 0 */
	int owner;	/* the function whose epilogue calls it */
};

struct gen {
	struct gen_rng rng;	/* the stream of the function being made */
	const struct gen_opts *opts;
	int family;
	struct item items[MAX_ITEMS];
	int nitems;
	int nslots;
	int seq;	/* first item of the open sequence, or -1 */
	struct func fn[MAX_FUNCS];
	struct sig sig[MAX_FUNCS];
	int nfuncs;
	int cur;	/* the function being made */
	struct func *f;	/* = &fn[cur] */
	size_t pkt_len;	/* GEN_SKB: bytes of the packet */
};

#define PTR_WORDS	2	/* caller words behind a pointer argument */

static struct bpfrt_insn mk(uint8_t code, int dst, int src, int off, int32_t imm)
{
	struct bpfrt_insn in = {
		.code = code, .dst_reg = (uint8_t)dst, .src_reg = (uint8_t)src,
		.off = (int16_t)off, .imm = imm,
	};
	return in;
}

static struct item *push_item(struct gen *g, uint8_t n)
{
	struct item *it = &g->items[g->nitems];

	memset(it, 0, sizeof(*it));
	it->n = n;
	it->fn = (uint8_t)g->cur;
	it->glued = g->seq >= 0 && g->nitems > g->seq;
	it->callee = -1;
	it->skip = NO_JUMP;
	g->nitems++;
	g->nslots += n;
	return it;
}

static void push(struct gen *g, struct bpfrt_insn in)
{
	push_item(g, 1)->in[0] = in;
}

static void push_jump(struct gen *g, struct bpfrt_insn in, int skip)
{
	push(g, in);
	g->items[g->nitems - 1].skip = (int16_t)skip;
}

/* Two slots that stay together: no jump lands on the second. */
static void push_pair(struct gen *g, struct bpfrt_insn a, struct bpfrt_insn b)
{
	struct item *it = push_item(g, 2);

	it->in[0] = a;
	it->in[1] = b;
}

static void push_lddw_src(struct gen *g, int dst, int src, uint64_t v)
{
	push_pair(g, mk(BPF_LD | BPF_IMM | BPF_DW, dst, src, 0, (int32_t)(uint32_t)v),
		  mk(0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32)));
}

static void push_lddw(struct gen *g, int dst, uint64_t v)
{
	push_lddw_src(g, dst, 0, v);
}

static void mov_imm(struct gen *g, int dst, int32_t imm)
{
	push(g, mk(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm));
}

static void mov_reg(struct gen *g, int dst, int src)
{
	push(g, mk(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0));
}

/* dst = r10 + off: a stack pointer. */
static void stack_ptr(struct gen *g, int dst, int off)
{
	mov_reg(g, dst, R10);
	push(g, mk(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, off));
}

/* Open / close a sequence: random jumps land only on its first item. */
static void seq_begin(struct gen *g)
{
	g->seq = g->nitems;
}

static void seq_end(struct gen *g)
{
	g->seq = -1;
}

/* ---- Registers --------------------------------------------------------- */

static int scalar(struct gen *g)
{
	return g->f->regs[gen_below(&g->rng, (uint32_t)g->f->nregs)];
}

static bool is_scalar(const struct func *f, int r)
{
	for (int i = 0; i < f->nregs; i++)
		if (f->regs[i] == r)
			return true;
	return false;
}

/* A scalar that calls preserve (r0 counts: it holds the result), at random. */
static int kept_scalar(struct gen *g)
{
	int kept[ISA_NREGS], n = 0;

	for (int i = 0; i < g->f->nregs; i++)
		if (g->f->regs[i] == R0 || g->f->regs[i] >= R6)
			kept[n++] = g->f->regs[i];
	return kept[gen_below(&g->rng, (uint32_t)n)];
}

/* After a call or a packet load: give r1..r5 values again. */
static void clobber(struct gen *g)
{
	for (int r = R1; r <= R5; r++) {
		if (!is_scalar(g->f, r))
			continue;
		if (gen_below(&g->rng, 10) < 6)
			mov_reg(g, r, kept_scalar(g));
		else
			mov_imm(g, r, imm32(&g->rng));
	}
}

static const uint8_t size_codes[] = { BPF_B, BPF_H, BPF_W, BPF_DW };

/* A random access size code, and its width in bytes. */
static uint8_t pick_size(struct gen *g, int *bytes)
{
	uint8_t sz = PICK(&g->rng, size_codes);

	*bytes = (int)isa_size(sz);
	return sz;
}

/* ---- Stack offsets ----------------------------------------------------- */

static int plain_slots(const struct func *f)
{
	return f->slots - f->opaque;
}

/* An aligned offset of `bytes` inside stack slots first..first+n-1. */
static int slot_off(struct gen *g, int bytes, int first, int n)
{
	int slot = first + (int)gen_below(&g->rng, (uint32_t)n);

	return -8 * slot + bytes * (int)gen_below(&g->rng, (uint32_t)(8 / bytes));
}

/* Anywhere in the initialised stack: for loads and non-loading atomics. */
static int stack_off(struct gen *g, int bytes)
{
	return slot_off(g, bytes, 1, g->f->slots);
}

/* Where plain stores go: never the opaque slots. */
static int plain_off(struct gen *g, int bytes)
{
	return slot_off(g, bytes, 1, plain_slots(g->f));
}

/* Where loading atomics go: only the opaque slots. */
static int opaque_off(struct gen *g, int bytes)
{
	return slot_off(g, bytes, plain_slots(g->f) + 1, g->f->opaque);
}

/* An aligned offset of `bytes` below `limit` in the ctx (or behind a pointer). */
static int ctx_off(struct gen *g, int bytes, int limit)
{
	return bytes * (int)gen_below(&g->rng, (uint32_t)(limit / bytes));
}

/* The stack offset of byte 0 of the string area. */
static int str_base(const struct func *f)
{
	return -8 * (f->slots + f->str_slots);
}

static bool has_ctx_mem(const struct func *f)
{
	return f->ctx >= 0 && f->ctx_mem;
}

/* ---- Arithmetic -------------------------------------------------------- */

static const uint8_t alu_ops[] = {
	BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH,
	BPF_RSH, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH,
};

static bool is_shift(uint8_t op)
{
	return op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH;
}

/* A register divisor is set to 0, -1 or INT_MIN now and then, to hit the traps. */
static void maybe_poison_divisor(struct gen *g, int src)
{
	static const int32_t nasty[] = { 0, -1, INT32_MIN, 1 };

	if (gen_below(&g->rng, 3) == 0)
		mov_imm(g, src, PICK(&g->rng, nasty));
}

static void emit_alu_reg(struct gen *g, uint8_t cls, uint8_t op, int off)
{
	int dst = scalar(g), src = scalar(g);

	if (op == BPF_MOV && gen_below(&g->rng, 3) == 0) {
		static const int sx64[] = { 8, 16, 32 }, sx32[] = { 8, 16 };

		off = cls == BPF_ALU64 ? PICK(&g->rng, sx64) : PICK(&g->rng, sx32);
	}
	if ((op == BPF_DIV || op == BPF_MOD) && src != dst)
		maybe_poison_divisor(g, src);
	push(g, mk(cls | op | BPF_X, dst, src, off, 0));
}

static void emit_alu_imm(struct gen *g, uint8_t cls, uint8_t op, int off)
{
	int32_t imm;

	if (is_shift(op))
		imm = shift_imm(&g->rng, cls == BPF_ALU64);
	else
		imm = imm32(&g->rng);
	if ((op == BPF_DIV || op == BPF_MOD) && imm == 0)
		imm = gen_below(&g->rng, 2) ? -1 : INT32_MIN;
	push(g, mk(cls | op | BPF_K, scalar(g), 0, off, imm));
}

static void emit_alu(struct gen *g)
{
	uint8_t cls = gen_below(&g->rng, 2) ? BPF_ALU64 : BPF_ALU;
	uint8_t op = PICK(&g->rng, alu_ops);
	int off = 0;

	if ((op == BPF_DIV || op == BPF_MOD) && gen_below(&g->rng, 2))
		off = 1;	/* sdiv / smod */
	if (gen_below(&g->rng, 2))
		emit_alu_reg(g, cls, op, off);
	else
		emit_alu_imm(g, cls, op, off);
}

static void emit_neg(struct gen *g)
{
	uint8_t cls = gen_below(&g->rng, 2) ? BPF_ALU64 : BPF_ALU;

	push(g, mk(cls | BPF_NEG, scalar(g), 0, 0, 0));
}

/* le / be (ALU class) and the unconditional bswap (ALU64 class). */
static void emit_end(struct gen *g)
{
	static const uint8_t codes[] = {
		BPF_ALU | BPF_END | BPF_TO_LE, BPF_ALU | BPF_END | BPF_TO_BE,
		BPF_ALU64 | BPF_END | BPF_TO_LE,
	};
	static const int32_t widths[] = { 16, 32, 64 };

	push(g, mk(PICK(&g->rng, codes), scalar(g), 0, 0, PICK(&g->rng, widths)));
}

/* ---- Memory ------------------------------------------------------------ */

/* A load from the ctx, else from the caller's words, else from the stack. */
static void emit_load(struct gen *g, int dst, bool from_ctx)
{
	int bytes;
	uint8_t sz = pick_size(g, &bytes);
	uint8_t code = BPF_LDX | sz |
		(bytes < 8 && gen_below(&g->rng, 3) == 0 ? BPF_MEMSX : BPF_MEM);
	const struct func *f = g->f;

	if (from_ctx && has_ctx_mem(f))
		push(g, mk(code, dst, f->ctx, ctx_off(g, bytes, GEN_CTX_SIZE), 0));
	else if (from_ctx && f->ptr >= 0)
		push(g, mk(code, dst, f->ptr, ctx_off(g, bytes, 8 * PTR_WORDS), 0));
	else
		push(g, mk(code, dst, R10, stack_off(g, bytes), 0));
}

static void emit_store_stack(struct gen *g)
{
	int bytes;
	uint8_t sz = pick_size(g, &bytes);
	int off = plain_off(g, bytes);

	if (gen_below(&g->rng, 2))
		push(g, mk(BPF_ST | BPF_MEM | sz, R10, 0, off, imm32(&g->rng)));
	else
		push(g, mk(BPF_STX | BPF_MEM | sz, R10, scalar(g), off, 0));
}

/*
 * Only BPF_STX may write the ctx; stores stay in the scratch area. Without
 * a ctx, the caller's words take its place (any store), else the stack.
 */
static void emit_store_ctx(struct gen *g)
{
	int bytes;
	uint8_t sz = pick_size(g, &bytes);
	const struct func *f = g->f;

	if (has_ctx_mem(f)) {
		push(g, mk(BPF_STX | BPF_MEM | sz, f->ctx, scalar(g),
			   ctx_off(g, bytes, GEN_CTX_SCRATCH), 0));
	} else if (f->ptr >= 0) {
		int off = ctx_off(g, bytes, 8 * PTR_WORDS);

		if (gen_below(&g->rng, 2))
			push(g, mk(BPF_ST | BPF_MEM | sz, f->ptr, 0, off, imm32(&g->rng)));
		else
			push(g, mk(BPF_STX | BPF_MEM | sz, f->ptr, scalar(g), off, 0));
	} else {
		emit_store_stack(g);
	}
}

/*
 * An atomic operation on the stack; those that load (BPF_FETCH) only on the
 * opaque slots. A 32-bit cmpxchg is followed at once by a 64-bit use of r0:
 * the kernel (6.18) zero-extends r0 after it only where the verifier saw
 * such a use, which a path pruned after the cmpxchg never shows, and the
 * x86 JIT leaves the upper half of r0 when the exchange succeeds. With the
 * use in the same item, no jump (so no prune point) comes between.
 */
static void emit_atomic(struct gen *g)
{
	static const int32_t ops[] = {
		BPF_ADD, BPF_OR, BPF_AND, BPF_XOR,
		BPF_ADD | BPF_FETCH, BPF_OR | BPF_FETCH, BPF_AND | BPF_FETCH,
		BPF_XOR | BPF_FETCH, BPF_XCHG, BPF_CMPXCHG,
	};
	static const uint8_t uses[] = {
		BPF_ADD, BPF_SUB, BPF_OR, BPF_AND, BPF_XOR, BPF_MOV,
	};
	int bytes = gen_below(&g->rng, 2) ? 8 : 4;
	uint8_t sz = bytes == 8 ? BPF_DW : BPF_W;
	int32_t op = PICK(&g->rng, ops);
	int off = op & BPF_FETCH ? opaque_off(g, bytes) : stack_off(g, bytes);
	struct bpfrt_insn a = mk(BPF_STX | BPF_ATOMIC | sz, R10, scalar(g), off, op);

	if (op == BPF_CMPXCHG && bytes == 4)
		push_pair(g, a, mk(BPF_ALU64 | PICK(&g->rng, uses) | BPF_X,
				   scalar(g), R0, 0, 0));
	else
		push(g, a);
}

/* ---- Control flow ------------------------------------------------------ */

static const uint8_t jmp_ops[] = {
	BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT, BPF_JSGE,
	BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE,
};

/* A random conditional jump (64- or 32-bit compare, imm or reg operand). */
static struct bpfrt_insn jcond(struct gen *g)
{
	uint8_t cls = gen_below(&g->rng, 2) ? BPF_JMP : BPF_JMP32;
	uint8_t op = PICK(&g->rng, jmp_ops);

	if (gen_below(&g->rng, 2))
		return mk(cls | op | BPF_X, scalar(g), scalar(g), 0, 0);
	return mk(cls | op | BPF_K, scalar(g), 0, 0, imm32(&g->rng));
}

static void emit_simple(struct gen *g);

/* if (cond) { B } else { A }: the jump over A is ja or gotol (ja32). */
static void emit_diamond(struct gen *g)
{
	int a = 1 + (int)gen_below(&g->rng, 4), b = 1 + (int)gen_below(&g->rng, 4);
	int jc, ja;

	jc = g->nitems;
	push_jump(g, jcond(g), 0);
	for (int i = 0; i < a; i++)
		emit_simple(g);
	ja = g->nitems;
	if (gen_below(&g->rng, 2))
		push_jump(g, mk(BPF_JMP | BPF_JA, 0, 0, 0, 0), 0);
	else
		push_jump(g, mk(BPF_JMP32 | BPF_JA, 0, 0, 0, 0), 0);
	for (int i = 0; i < b; i++)
		emit_simple(g);
	g->items[jc].skip = (int16_t)(ja - jc);
	g->items[ja].skip = (int16_t)(g->nitems - ja - 1);
}

/* if (!cond) exit; — ends some runs (or calls) in the middle. */
static void emit_early_exit(struct gen *g)
{
	push_jump(g, jcond(g), 1);
	push(g, mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
}

/* ---- Local calls ------------------------------------------------------- */

/* May the current function call subprogram s? */
static bool may_call(const struct gen *g, int s)
{
	return s > g->cur && (!g->sig[s].ctx_arg || g->f->ctx >= 0);
}

/* Point argument register r at PTR_WORDS words of our plain stack or of our caller's. */
static void ptr_arg(struct gen *g, int r)
{
	int hi = plain_slots(g->f);

	if (g->f->ptr >= 0 && gen_below(&g->rng, 3) == 0)
		mov_reg(g, r, g->f->ptr);
	else
		stack_ptr(g, r, -8 * (PTR_WORDS + (int)gen_below(&g->rng,
					(uint32_t)(hi - PTR_WORDS + 1))));
}

/* Set the arguments of subprogram s (scalars first: they read our registers), call it. */
static void emit_call(struct gen *g, int s)
{
	const struct sig *sg = &g->sig[s];

	seq_begin(g);
	for (int a = 1; a <= sg->nargs; a++) {
		if (a == sg->ptr_arg || a == sg->ctx_arg)
			continue;
		if (gen_below(&g->rng, 3) == 0)
			mov_imm(g, a, imm32(&g->rng));
		else
			mov_reg(g, a, scalar(g));
	}
	if (sg->ptr_arg)
		ptr_arg(g, sg->ptr_arg);
	if (sg->ctx_arg)
		mov_reg(g, sg->ctx_arg, g->f->ctx);
	push(g, mk(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, 0));
	g->items[g->nitems - 1].callee = (int8_t)s;
	clobber(g);
	seq_end(g);
}

/* Call a subprogram we may call, if there is one. */
static bool emit_some_call(struct gen *g)
{
	int can[MAX_FUNCS], n = 0;

	for (int s = g->cur + 1; s < g->nfuncs; s++)
		if (may_call(g, s))
			can[n++] = s;
	if (!n)
		return false;
	emit_call(g, can[gen_below(&g->rng, (uint32_t)n)]);
	return true;
}

/* ---- Helper calls ------------------------------------------------------ */

/*
 * The strings of GEN_MAP_STR, back to back with their NULs; the rest of the
 * value is zero, so every offset into it starts a NUL-terminated string.
 */
static const char *const map_strings[] = {
	"hello", "hellp", "HELLO", "", "a", "ab", "\x80\xff", "0x1f", "-42",
	"bpfrt", "kdiff!", "\x7f", "zz",
};
#define NSTRINGS (sizeof(map_strings) / sizeof(map_strings[0]))

static int string_off(int k)
{
	int off = 0;

	for (int i = 0; i < k; i++)
		off += (int)strlen(map_strings[i]) + 1;
	return off;
}

uint32_t gen_map_entries(int m)
{
	return m == GEN_MAP_STR ? 1 : GEN_TABLE_ENTRIES;
}

void gen_map_values(int m, uint8_t *values)
{
	size_t len = gen_map_entries(m) * GEN_MAP_VALUE_SIZE;

	memset(values, 0, len);
	if (m == GEN_MAP_STR) {
		for (size_t k = 0; k < NSTRINGS; k++)
			memcpy(values + string_off((int)k), map_strings[k],
			       strlen(map_strings[k]));
		return;
	}
	gen_input(0x7ab1e, values, len);
}

/* Write bytes[0, len) at stack offset off (8-aligned, whole words). */
static void write_words(struct gen *g, int off, const uint8_t *bytes, int len)
{
	for (int w = 0; w < len; w += 8) {
		uint64_t v;
		int k = (int)gen_below(&g->rng, 3);

		memcpy(&v, bytes + w, 8);
		if (k == 0 && (uint64_t)(int64_t)(int32_t)v == v) {
			push(g, mk(BPF_ST | BPF_MEM | BPF_DW, R10, 0, off + w, (int32_t)v));
		} else if (k < 2) {
			push(g, mk(BPF_ST | BPF_MEM | BPF_W, R10, 0, off + w, (int32_t)v));
			push(g, mk(BPF_ST | BPF_MEM | BPF_W, R10, 0, off + w + 4,
				   (int32_t)(v >> 32)));
		} else {
			int tmp = R1 + (int)gen_below(&g->rng, 5);

			if (!is_scalar(g->f, tmp))
				tmp = scalar(g);
			push_lddw(g, tmp, v);
			push(g, mk(BPF_STX | BPF_MEM | BPF_DW, R10, tmp, off + w, 0));
		}
	}
}

/*
 * The size argument in r2, between 1 and max: a constant, or a scalar the
 * verifier knows to be in [1, 2^k] ⊆ [1, max]. It reads a scalar, so it
 * comes before the pointer arguments are set.
 */
static void size_arg(struct gen *g, int max)
{
	int k = 0;

	if (gen_below(&g->rng, 4) == 0) {
		mov_imm(g, R2, max);
		return;
	}
	if (gen_below(&g->rng, 3)) {
		mov_imm(g, R2, 1 + (int)gen_below(&g->rng, (uint32_t)max));
		return;
	}
	while ((2 << k) <= max && gen_below(&g->rng, 4))
		k++;
	mov_reg(g, R2, scalar(g));
	push(g, mk(BPF_ALU64 | BPF_AND | BPF_K, R2, 0, 0, (1 << k) - 1));
	push(g, mk(BPF_ALU64 | BPF_ADD | BPF_K, R2, 0, 0, 1));
}

static const char *const number_texts[] = {
	"0", "1", "-1", "42", "-42", "0x1f", "0X1F", "0x", "0xg", "017", "08",
	"-0", "+5", "-", " ", "9223372036854775807", "9223372036854775808",
	"-9223372036854775808", "-9223372036854775809", "18446744073709551615",
	"18446744073709551616", "0xffffffffffffffff", "0x10000000000000000",
	"01777777777777777777777", "02000000000000000000000", "0x7fffffffffffffff",
	"-0x8000000000000000", "ffff", "1e3", "12abc", "\xa0\x37",	/* no-break space, "7" */
};

/* Text bpf_strtol may meet: space, a sign, a base prefix, digits, junk. */
static int number_text(struct gen *g, uint8_t *s, int cap)
{
	static const char spaces[] = " \t\n\v\f\r\xa0";
	static const char digits[] = "0123456789abcdefABCDEFxX-+ g\n";
	int n = 0;

	if (gen_below(&g->rng, 2)) {
		const char *t = PICK(&g->rng, number_texts);

		for (int lead = (int)gen_below(&g->rng, 3); lead > 0 && n < cap; lead--)
			s[n++] = (uint8_t)PICK(&g->rng, spaces);
		while (*t && n < cap)
			s[n++] = (uint8_t)*t++;
	}
	if (gen_below(&g->rng, 6) == 0) {	/* past the 63 bytes the kernel reads */
		while (n < cap - 1)
			s[n++] = '0';
		s[n++] = '7';
		return n;
	}
	for (int k = (int)gen_below(&g->rng, 12); k > 0 && n < cap; k--)
		s[n++] = (uint8_t)digits[gen_below(&g->rng, sizeof(digits) - 1)];
	while (n < cap && gen_below(&g->rng, 3) == 0)
		s[n++] = (uint8_t)gen_next(&g->rng);
	return n;
}

/* r<reg> = an 8-aligned pointer for a helper to write 8 bytes to. */
static void result_ptr(struct gen *g, int reg)
{
	if (g->f->ptr >= 0 && gen_below(&g->rng, 4) == 0) {
		mov_reg(g, reg, g->f->ptr);
		if (gen_below(&g->rng, 2))
			push(g, mk(BPF_ALU64 | BPF_ADD | BPF_K, reg, 0, 0, 8));
	} else {
		stack_ptr(g, reg, -8 * (1 + (int)gen_below(&g->rng,
						   (uint32_t)plain_slots(g->f))));
	}
}

/* long bpf_strtol / bpf_strtoul(buf, buf_len, flags, res) on text in the string area. */
static void emit_strtol(struct gen *g)
{
	static const int32_t flags[] = {	/* bases 0, 8, 10, 16, now and then not one */
		0, 0, 0, 8, 8, 10, 10, 10, 16, 16, 16, 1, 0x20, 0x10a,
	};
	int area = 8 * g->f->str_slots, at = (int)gen_below(&g->rng, 8);
	uint8_t text[64];

	for (int i = 0; i < area; i++)
		text[i] = (uint8_t)gen_next(&g->rng);
	number_text(g, text + at, area - at);
	seq_begin(g);
	write_words(g, str_base(g->f), text, area);
	size_arg(g, area - at);
	stack_ptr(g, R1, str_base(g->f) + at);
	mov_imm(g, R3, PICK(&g->rng, flags));
	result_ptr(g, R4);
	push(g, mk(BPF_JMP | BPF_CALL, 0, 0, 0, gen_below(&g->rng, 2) ?
		   GEN_HELPER_STRTOL : GEN_HELPER_STRTOUL));
	clobber(g);
	seq_end(g);
}

/* s1 for bpf_strncmp: a map string, whole, cut, or changed in one byte. */
static void strncmp_text(struct gen *g, const uint8_t *s2, uint8_t *s1, int cap)
{
	static const int nudges[] = { -1, 1, 0x80 };
	int len = (int)strlen((const char *)s2), p;

	for (int i = 0; i < cap; i++)
		s1[i] = (uint8_t)gen_next(&g->rng);
	memcpy(s1, s2, (size_t)(len + 1 < cap ? len + 1 : cap));
	switch (gen_below(&g->rng, 4)) {
	case 0:		/* as is */
		break;
	case 1:		/* cut: random bytes after a prefix */
		p = (int)gen_below(&g->rng, (uint32_t)len + 1);
		for (int i = p; i < cap; i++)
			s1[i] = gen_below(&g->rng, 4) ? (uint8_t)gen_next(&g->rng) : 0;
		break;
	default:	/* one byte smaller, larger, or flipped high */
		p = (int)gen_below(&g->rng, (uint32_t)len + 1);
		if (p < cap)
			s1[p] = (uint8_t)(s1[p] + PICK(&g->rng, nudges));
		break;
	}
}

/* int bpf_strncmp(s1, s1_sz, s2): s1 in the string area, s2 a constant map string. */
static void emit_strncmp(struct gen *g)
{
	uint8_t strs[GEN_MAP_VALUE_SIZE], text[64];
	int area = 8 * g->f->str_slots, at = (int)gen_below(&g->rng, 8), off;

	gen_map_values(GEN_MAP_STR, strs);
	if (gen_below(&g->rng, 4))
		off = string_off((int)gen_below(&g->rng, NSTRINGS));
	else
		off = (int)gen_below(&g->rng, GEN_MAP_VALUE_SIZE);
	strncmp_text(g, strs + off, text + at, area - at);
	for (int i = 0; i < at; i++)
		text[i] = (uint8_t)gen_next(&g->rng);
	seq_begin(g);
	write_words(g, str_base(g->f), text, area);
	size_arg(g, area - at);
	stack_ptr(g, R1, str_base(g->f) + at);
	push_lddw_src(g, R3, gen_below(&g->rng, 2) ? BPF_PSEUDO_MAP_VALUE :
		      BPF_PSEUDO_MAP_IDX_VALUE, (uint64_t)off << 32 | GEN_MAP_STR);
	push(g, mk(BPF_JMP | BPF_CALL, 0, 0, 0, GEN_HELPER_STRNCMP));
	clobber(g);
	seq_end(g);
}

/* The key of a lookup, a u32 at the start of the string area. */
static void lookup_key(struct gen *g)
{
	static const int32_t keys[] = { 0, 1, 2, 3, 3, 4, -1, INT32_MIN, 0x10000 };
	int off = str_base(g->f);

	if (gen_below(&g->rng, 3)) {
		push(g, mk(BPF_ST | BPF_MEM | BPF_W, R10, 0, off, PICK(&g->rng, keys)));
	} else {
		int k = scalar(g);

		push(g, mk(BPF_ALU64 | BPF_AND | BPF_K, k, 0, 0, 7));
		push(g, mk(BPF_STX | BPF_MEM | BPF_W, R10, k, off, 0));
	}
}

/*
 * r0 = bpf_map_lookup_elem(&table, &key); if (r0) { loads from the value;
 * r0 = one of them }. The loads go to r6..r9, which the join keeps.
 */
static void emit_lookup(struct gen *g)
{
	int loads = 1 + (int)gen_below(&g->rng, 3), dst = kept_scalar(g), jump;

	seq_begin(g);
	lookup_key(g);
	push_lddw_src(g, R1, gen_below(&g->rng, 2) ? BPF_PSEUDO_MAP_FD :
		      BPF_PSEUDO_MAP_IDX, GEN_MAP_TABLE);
	stack_ptr(g, R2, str_base(g->f));
	push(g, mk(BPF_JMP | BPF_CALL, 0, 0, 0, GEN_HELPER_MAP_LOOKUP));
	jump = g->nitems;
	push_jump(g, mk(BPF_JMP | BPF_JEQ | BPF_K, R0, 0, 0, 0), 0);
	g->items[jump].exact = true;
	for (int i = 0; i < loads; i++) {
		int bytes;
		uint8_t sz = pick_size(g, &bytes);
		uint8_t mode = bytes < 8 && gen_below(&g->rng, 3) == 0 ? BPF_MEMSX : BPF_MEM;

		dst = kept_scalar(g);
		if (dst == R0)
			continue;
		push(g, mk(BPF_LDX | mode | sz, dst, R0,
			   ctx_off(g, bytes, GEN_MAP_VALUE_SIZE), 0));
	}
	if (dst == R0)
		mov_imm(g, R0, imm32(&g->rng));
	else
		mov_reg(g, R0, dst);
	g->items[jump].skip = (int16_t)(g->nitems - jump - 1);
	clobber(g);
	seq_end(g);
}

static void emit_helper(struct gen *g)
{
	switch (gen_below(&g->rng, 4)) {
	case 0: emit_strncmp(g); break;
	case 1: emit_lookup(g); break;
	default: emit_strtol(g); break;
	}
}

/* ---- Packet loads (socket filters) ------------------------------------- */

#define SKF_LL_OFF	(-0x200000)
#define SKF_NET_OFF	(-0x100000)

/*
 * An offset for a packet load of `size` bytes. LD_ABS offset 0 is the
 * packet's byte GEN_ETH_HLEN (the kernel's skb data starts after the
 * Ethernet header, where the network header is): SKF_NET_OFF + k is that
 * byte too, SKF_LL_OFF + k the frame's byte k.
 */
static int32_t pkt_off(struct gen *g, int size)
{
	static const int32_t far[] = {
		-1, -2, -8, INT32_MIN, INT32_MAX, 0x10000, SKF_LL_OFF - 1,
		SKF_LL_OFF - 0x1000, SKF_NET_OFF - 1,
	};
	int32_t data = (int32_t)g->pkt_len - GEN_ETH_HLEN, frame = (int32_t)g->pkt_len;
	uint32_t k = gen_below(&g->rng, 50);
	int32_t base = gen_below(&g->rng, 2) ? SKF_LL_OFF : SKF_NET_OFF;
	int32_t len = base == SKF_LL_OFF ? frame : data;

	if (k < 44 && data >= size)		/* inside */
		return (int32_t)gen_below(&g->rng, (uint32_t)(data - size + 1));
	if (k < 45)				/* just past the end */
		return data - size + 1 + (int32_t)gen_below(&g->rng, 4);
	if (k < 46)
		return PICK(&g->rng, far);
	if (k < 49 && len >= size)		/* inside, from a header offset */
		return base + (int32_t)gen_below(&g->rng, (uint32_t)(len - size + 1));
	return base + len - size + 1 + (int32_t)gen_below(&g->rng, 8);
}

/*
 * The register of an LD_IND, set so that (s32)(src + imm) == off, or
 * masked to a value below the packet's length.
 */
static int32_t ind_src(struct gen *g, int src, int32_t off)
{
	int32_t imm, mask = 1;
	int64_t v;

	if (gen_below(&g->rng, 5) == 0) {
		while (mask * 2 <= (int32_t)g->pkt_len - GEN_ETH_HLEN - 4)
			mask *= 2;
		push(g, mk(BPF_ALU64 | BPF_AND | BPF_K, src, 0, 0, mask - 1));
		return (int32_t)gen_below(&g->rng, 4);
	}
	switch (gen_below(&g->rng, 3)) {
	case 0: imm = 0; break;
	case 1: imm = off; break;
	default: imm = (int32_t)gen_below(&g->rng, 17) - 8; break;
	}
	v = (int64_t)off - imm;
	if (gen_below(&g->rng, 4) == 0)		/* upper bits (s32) truncation drops */
		push_lddw(g, src, (uint64_t)v + ((uint64_t)gen_next(&g->rng) << 32));
	else if (gen_below(&g->rng, 3) == 0)	/* zero-extended */
		push(g, mk(BPF_ALU | BPF_MOV | BPF_K, src, 0, 0, (int32_t)v));
	else
		mov_imm(g, src, (int32_t)v);
	return imm;
}

/* r0 = ntoh(packet bytes): LD_ABS or LD_IND of 1, 2 or 4 bytes. */
static void emit_pkt_load(struct gen *g)
{
	static const uint8_t sizes[] = { BPF_B, BPF_H, BPF_W };
	uint8_t sz = PICK(&g->rng, sizes);
	int32_t off = pkt_off(g, (int)isa_size(sz));

	seq_begin(g);
	if (gen_below(&g->rng, 2)) {
		push(g, mk(BPF_LD | BPF_ABS | sz, 0, 0, 0, off));
	} else {
		int src = scalar(g);
		int32_t imm = ind_src(g, src, off);

		push(g, mk(BPF_LD | BPF_IND | sz, 0, src, 0, imm));
	}
	clobber(g);
	seq_end(g);
}

/* ---- Steps ------------------------------------------------------------- */

/* One instruction that does not jump (a poisoned divisor may add one). */
static void emit_simple(struct gen *g)
{
	uint32_t k = gen_below(&g->rng, 100);

	if (k < 48)
		emit_alu(g);
	else if (k < 52)
		emit_neg(g);
	else if (k < 58)
		emit_end(g);
	else if (k < 62)
		push_lddw(g, scalar(g), val64(&g->rng));
	else if (k < 71)
		emit_load(g, scalar(g), false);
	else if (k < 77)
		emit_load(g, scalar(g), true);
	else if (k < 85)
		emit_store_stack(g);
	else if (k < 90)
		emit_store_ctx(g);
	else
		emit_atomic(g);
}

/* A call, a helper call or a packet load, as the family allows. */
static bool emit_special(struct gen *g)
{
	if (g->family == GEN_SKB) {
		emit_pkt_load(g);
		return true;
	}
	if (g->family != GEN_CALLS)
		return false;
	if (gen_below(&g->rng, 2) && emit_some_call(g))
		return true;
	emit_helper(g);
	return true;
}

static void emit_step(struct gen *g)
{
	uint32_t k = gen_below(&g->rng, 200);

	if (k >= 184 && emit_special(g))
		return;
	if (k < 160 || k >= 184)
		emit_simple(g);
	else if (k < 162)	/* may_goto, forward: the budget is never spent here */
		push_jump(g, mk(BPF_JMP | 0xe0 /* BPF_JCOND */, 0, 0, 0, 0),
			  (int)gen_below(&g->rng, 10));
	else if (k < 174)
		push_jump(g, jcond(g), (int)gen_below(&g->rng, 10));
	else if (k < 183)
		emit_diamond(g);
	else
		emit_early_exit(g);
}

/* ---- Functions --------------------------------------------------------- */

/* Give register r an edge value, a random value or ctx input. */
static void init_reg(struct gen *g, int r)
{
	uint32_t k = gen_below(&g->rng, 20);

	if (k < 7)
		mov_imm(g, r, imm32(&g->rng));
	else if (k < 10)
		push(g, mk(BPF_ALU | BPF_MOV | BPF_K, r, 0, 0, imm32(&g->rng)));
	else if (k < 15 || (!has_ctx_mem(g->f) && g->f->ptr < 0))
		push_lddw(g, r, val64(&g->rng));
	else
		emit_load(g, r, true);
}

static void set_scalars(struct func *f)
{
	f->nregs = 0;
	for (int r = R0; r <= R9; r++)
		if (r != f->ctx && r != f->ptr)
			f->regs[f->nregs++] = r;
}

/* Write every stack slot, then scramble the opaque ones (see the top). */
static void init_stack(struct gen *g)
{
	static const int32_t ops[] = { BPF_ADD, BPF_OR, BPF_AND, BPF_XOR };

	for (int s = 1; s <= g->f->slots; s++) {
		if (gen_below(&g->rng, 2))
			push(g, mk(BPF_ST | BPF_MEM | BPF_DW, R10, 0, -8 * s, imm32(&g->rng)));
		else
			push(g, mk(BPF_STX | BPF_MEM | BPF_DW, R10, scalar(g), -8 * s, 0));
	}
	for (int s = plain_slots(g->f) + 1; s <= g->f->slots; s++)
		push(g, mk(BPF_STX | BPF_ATOMIC | BPF_DW, R10, scalar(g),
			   -8 * s, PICK(&g->rng, ops)));
}

/* Where the ctx lives in main: r1 or anywhere; r6..r9 when calls clobber r1..r5. */
static void main_prologue(struct gen *g)
{
	struct func *f = g->f;

	if (g->family == GEN_SKB)
		f->ctx = R6;
	else if (g->family == GEN_CALLS)
		f->ctx = R6 + (int)gen_below(&g->rng, 4);
	else
		f->ctx = gen_below(&g->rng, 2) ? R1 : 1 + (int)gen_below(&g->rng, 9);
	f->ctx_mem = g->family != GEN_SKB;
	f->ptr = -1;
	f->slots = GEN_STACK_SLOTS;
	f->opaque = 2;
	f->str_slots = g->family == GEN_CALLS ? 8 : 0;
	if (f->ctx != R1)
		mov_reg(g, f->ctx, R1);
	set_scalars(f);
	for (int i = 0; i < f->nregs; i++)
		init_reg(g, f->regs[i]);
	init_stack(g);
}

/* Move the pointer arguments to r6..r9 and give every other non-argument a value. */
static void sub_prologue(struct gen *g)
{
	const struct sig *sg = &g->sig[g->cur];
	struct func *f = g->f;
	int free_regs[4] = { R6, R7, R8, R9 };

	for (int i = 3; i > 0; i--) {
		int j = (int)gen_below(&g->rng, (uint32_t)i + 1), t = free_regs[i];

		free_regs[i] = free_regs[j];
		free_regs[j] = t;
	}
	f->ctx = sg->ctx_arg ? free_regs[0] : -1;
	f->ctx_mem = true;
	f->ptr = sg->ptr_arg ? free_regs[1] : -1;
	f->slots = 4;
	f->opaque = 1;
	f->str_slots = 4;
	if (sg->ctx_arg)
		mov_reg(g, f->ctx, sg->ctx_arg);
	if (sg->ptr_arg)
		mov_reg(g, f->ptr, sg->ptr_arg);
	set_scalars(f);
	for (int i = 0; i < f->nregs; i++) {
		int r = f->regs[i];
		bool arg = r >= R1 && r <= sg->nargs && r != sg->ptr_arg && r != sg->ctx_arg;

		if (!arg || gen_below(&g->rng, 4) == 0)
			init_reg(g, r);
	}
	init_stack(g);
}

/* Call the subprograms we own: this keeps every one reachable. */
static void call_owned(struct gen *g)
{
	for (int s = g->cur + 1; s < g->nfuncs; s++)
		if (g->sig[s].owner == g->cur)
			emit_call(g, s);
}

/* Store every scalar register and the stack slots into the ctx, then exit. */
static void main_epilogue(struct gen *g)
{
	const struct func *f = g->f;
	int tmp = f->regs[1];	/* never r0, which is the result */

	call_owned(g);
	for (int i = 0; i < f->nregs; i++)
		push(g, mk(BPF_STX | BPF_MEM | BPF_DW, f->ctx, f->regs[i],
			   GEN_CTX_REGS + 8 * f->regs[i], 0));
	for (int s = 1; s <= GEN_STACK_SLOTS; s++) {
		push(g, mk(BPF_LDX | BPF_MEM | BPF_DW, tmp, R10, -8 * s, 0));
		push(g, mk(BPF_STX | BPF_MEM | BPF_DW, f->ctx, tmp,
			   GEN_CTX_STACK + 8 * (s - 1), 0));
	}
	push(g, mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
}

/* r0 = r0 * K + x, for a socket filter's result. */
static void fold(struct gen *g, int x)
{
	push(g, mk(BPF_ALU64 | BPF_MUL | BPF_K, R0, 0, 0, 0x01000193));
	push(g, mk(BPF_ALU64 | BPF_ADD | BPF_X, R0, x, 0, 0));
}

/* A socket filter returns 32 bits: fold every register and slot into them. */
static void skb_epilogue(struct gen *g)
{
	const struct func *f = g->f;

	for (int i = 0; i < f->nregs; i++)
		if (f->regs[i] != R0)
			fold(g, f->regs[i]);
	for (int s = 1; s <= GEN_STACK_SLOTS; s++) {
		push(g, mk(BPF_LDX | BPF_MEM | BPF_DW, R1, R10, -8 * s, 0));
		fold(g, R1);
	}
	mov_reg(g, R1, R0);
	push(g, mk(BPF_ALU64 | BPF_RSH | BPF_K, R1, 0, 0, 32));
	push(g, mk(BPF_ALU64 | BPF_XOR | BPF_X, R0, R1, 0, 0));
	push(g, mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
}

/* Mix a few scalars into r0, the result, then return. */
static void sub_epilogue(struct gen *g)
{
	static const uint8_t ops[] = { BPF_ADD, BPF_XOR, BPF_SUB };

	call_owned(g);
	for (int k = 1 + (int)gen_below(&g->rng, 3); k > 0; k--)
		push(g, mk(BPF_ALU64 | PICK(&g->rng, ops) | BPF_X, R0, scalar(g), 0, 0));
	push(g, mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
}

/*
 * Slots a step may need (a helper call writing 8 words), an epilogue (main
 * calling 3 subprograms), and each function's share of GEN_MAX_INSNS.
 */
#define STEP_ROOM	48
#define EPILOGUE_ROOM	80
#define MAIN_SHARE	430
#define SUB_SHARE	190

/* Make function id: prologue, up to `steps` body steps, epilogue. Returns its steps. */
static int gen_function(struct gen *g, uint64_t seed, int id, int max_steps)
{
	struct func *f = &g->fn[id];
	int limit = g->nslots + (g->family != GEN_CALLS ? GEN_MAX_INSNS - 24 :
				 id ? SUB_SHARE : MAIN_SHARE);
	int steps;

	g->cur = id;
	g->f = f;
	g->rng = stream(seed, (uint64_t)id);
	f->start = g->nitems;
	if (id == 0)
		main_prologue(g);
	else
		sub_prologue(g);
	steps = id == 0 ? 2 + (int)gen_below(&g->rng, 80) : 1 + (int)gen_below(&g->rng, 25);
	if (max_steps >= 0 && max_steps < steps)
		steps = max_steps;
	for (int i = 0; i < steps && g->nslots + STEP_ROOM + EPILOGUE_ROOM < limit; i++)
		emit_step(g);
	f->body_end = g->nitems;
	if (id)
		sub_epilogue(g);
	else if (g->family == GEN_SKB)
		skb_epilogue(g);
	else
		main_epilogue(g);
	return steps;
}

/* The subprograms and how they are called (GEN_CALLS). */
static void plan_calls(struct gen *g, struct gen_rng *r)
{
	g->nfuncs = 2 + (int)gen_below(r, 3);
	for (int s = 1; s < g->nfuncs; s++) {
		struct sig *sg = &g->sig[s];
		int owners[MAX_FUNCS], n = 0;

		sg->nargs = (int)gen_below(r, 6);
		if (sg->nargs && gen_below(r, 2))
			sg->ptr_arg = 1 + (int)gen_below(r, (uint32_t)sg->nargs);
		if (sg->nargs && gen_below(r, 3) == 0)
			sg->ctx_arg = 1 + (int)gen_below(r, (uint32_t)sg->nargs);
		if (sg->ctx_arg == sg->ptr_arg)
			sg->ctx_arg = 0;
		for (int o = 0; o < s; o++)
			if (!sg->ctx_arg || o == 0 || g->sig[o].ctx_arg)
				owners[n++] = o;
		sg->owner = owners[gen_below(r, (uint32_t)n)];
	}
}

/*
 * The packet of a socket filter: an Ethernet header and 0..GEN_PKT_MAX-14
 * bytes. BPF_PROG_TEST_RUN refuses (EINVAL) an IPv4 or IPv6 ethertype
 * without a whole IP header behind it: such a packet gets another type.
 */
static void plan_packet(struct gen *g, struct gen_rng *r, struct gen_prog *p)
{
	static const uint8_t edges[] = { 0, 0xff, 0x80, 0x7f, 1 };
	size_t extra = gen_below(r, 16) == 0 ? gen_below(r, 4) :
		gen_below(r, GEN_PKT_MAX - GEN_ETH_HLEN + 1);
	unsigned type;

	p->pkt_len = g->pkt_len = GEN_ETH_HLEN + extra;
	for (size_t i = 0; i < p->pkt_len; i++)
		p->pkt[i] = gen_below(r, 3) ? (uint8_t)gen_next(r) : PICK(r, edges);
	type = (unsigned)p->pkt[12] << 8 | p->pkt[13];
	if ((type == 0x0800 && extra < 20) || (type == 0x86dd && extra < 40))
		p->pkt[12] ^= 0x40;
}

/* The target item of the jump at item i: inside its function, never inside a sequence. */
static int jump_target(const struct gen *g, int i)
{
	const struct item *it = &g->items[i];
	int end = g->fn[it->fn].body_end, t = i + 1 + it->skip;

	if (it->exact)
		return t;
	if (t > end)
		t = end;
	while (t < end && g->items[t].glued)
		t++;
	return t;
}

/* Turn item skips and callees into slot offsets (ja32 keeps its offset in imm). */
static void layout(const struct gen *g, struct gen_prog *p)
{
	static int slot[MAX_ITEMS + 1];
	int s = 0;

	for (int i = 0; i < g->nitems; i++) {
		slot[i] = s;
		s += g->items[i].n;
	}
	slot[g->nitems] = s;
	p->n = 0;
	for (int i = 0; i < g->nitems; i++) {
		const struct item *it = &g->items[i];
		struct bpfrt_insn *out = &p->insns[p->n];

		memcpy(out, it->in, it->n * sizeof(*out));
		p->n += it->n;
		if (it->callee >= 0)
			out->imm = slot[g->fn[it->callee].start] - slot[i] - 1;
		if (it->skip == NO_JUMP)
			continue;
		if (out->code == (BPF_JMP32 | BPF_JA))
			out->imm = slot[jump_target(g, i)] - slot[i] - 1;
		else
			out->off = (int16_t)(slot[jump_target(g, i)] - slot[i] - 1);
	}
}

static int family_of(uint64_t seed)
{
	struct gen_rng r = stream(seed, 0xfa);
	uint32_t k = gen_below(&r, 100);

	return k < 60 ? GEN_PLAIN : k < 85 ? GEN_CALLS : GEN_SKB;
}

void gen_program(uint64_t seed, int max_steps, const struct gen_opts *opts,
		 struct gen_prog *prog)
{
	static const struct gen_opts defaults = { .family = -1 };
	static struct gen g;
	struct gen_rng plan;
	int most = 0;

	memset(&g, 0, sizeof(g));
	g.opts = opts ? opts : &defaults;
	g.family = g.opts->family >= 0 ? g.opts->family : family_of(seed);
	g.seq = -1;
	g.nfuncs = 1;
	plan = stream(seed, 0x91a);
	prog->pkt_len = 0;
	if (g.family == GEN_CALLS)
		plan_calls(&g, &plan);
	if (g.family == GEN_SKB)
		plan_packet(&g, &plan, prog);
	for (int id = 0; id < g.nfuncs; id++) {
		int steps = gen_function(&g, seed, id, max_steps);

		most = steps > most ? steps : most;
	}
	prog->family = g.family;
	prog->nfuncs = g.nfuncs;
	prog->steps = most;
	prog->ctx_reg = g.fn[0].ctx;
	layout(&g, prog);
}

void gen_input(uint64_t seed, uint8_t *buf, size_t len)
{
	struct gen_rng r = { .s = seed ^ 0x5eed5eed5eed5eedull };

	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t v = val64(&r);

		memcpy(buf + i, &v, 8);
	}
	for (size_t i = len & ~(size_t)7; i < len; i++)
		buf[i] = (uint8_t)gen_next(&r);
}

/* ---- Instruction forms ------------------------------------------------- */

static const char *const form_names[ISA_NFORMS] = {
#define FORM_NAME(id, ...) [ISA_##id] = #id,
	ISA_FORMS(FORM_NAME)
#undef FORM_NAME
};

int gen_nforms(void)
{
	return ISA_NFORMS;
}

const char *gen_form_name(int f)
{
	return f >= 0 && f < ISA_NFORMS ? form_names[f] : "INVALID";
}

int gen_form_cpu(int f)
{
	return f >= 0 && f < ISA_NFORMS ? isa_forms[f].cpu : 0;
}

int gen_insn_form(const struct bpfrt_insn *insns, size_t n, size_t i)
{
	enum isa_form_id id = i < n ? isa_decode(&insns[i]) : ISA_INVALID;

	return id == ISA_INVALID ? -1 : (int)id;
}

int gen_insn_slots(const struct bpfrt_insn *insns, size_t n, size_t i)
{
	int f = gen_insn_form(insns, n, i);

	return f >= 0 && isa_forms[f].shape == SH_LDDW && i + 1 < n ? 2 : 1;
}

int gen_insn_mnem(const struct gen_prog *prog, size_t i, const char **mnem)
{
	int f = gen_insn_form(prog->insns, prog->n, i);

	*mnem = f >= 0 ? isa_forms[f].mnem : "?";
	return gen_insn_slots(prog->insns, prog->n, i);
}

void gen_count_forms(const struct gen_prog *prog, uint32_t *counts)
{
	for (size_t i = 0; i < prog->n; i += (size_t)gen_insn_slots(prog->insns, prog->n, i)) {
		int f = gen_insn_form(prog->insns, prog->n, i);

		if (f >= 0)
			counts[f]++;
	}
}
