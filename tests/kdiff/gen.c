/* gen.c — random eBPF programs the kernel verifier accepts, for the differential test.
 *
 * A program is built as a list of items (one instruction, or two slots no
 * jump may split, as an lddw); jumps name how many items they skip, and
 * offsets in slots are
 * resolved once the list is complete. Only forward jumps are made, so every
 * program terminates, and every item stays reachable in the control-flow
 * graph (the verifier rejects unreachable code): an unconditional jump or an
 * exit is always followed by the target of the conditional jump before it.
 *
 * What keeps the verifier happy:
 *   - one register holds the ctx pointer and is never written or used as a
 *     value; r10 is only a base address; every other register is a scalar,
 *     initialised in the prologue;
 *   - memory is the ctx (aligned, constant offsets, no BPF_ST or atomics:
 *     the verifier forbids both on ctx) and GEN_STACK_SLOTS stack slots
 *     written in the prologue (stack accesses must be aligned);
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
 *     therefore only touch the OPAQUE_SLOTS highest slots, whose content
 *     the verifier never knows: the prologue scrambles them with a 64-bit
 *     atomic that loads nothing (leaving them STACK_MISC), and no plain
 *     store writes them again;
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

/* ---- The item list ----------------------------------------------------- */

#define MAX_ITEMS 400
#define NO_JUMP (-1)

struct item {
	struct bpfrt_insn in[2];
	uint8_t n;	/* slots: 1, or 2 (lddw, or a pair no jump may split) */
	int16_t skip;	/* jumps: items skipped; NO_JUMP otherwise */
};

struct gen {
	struct gen_rng rng;
	struct item items[MAX_ITEMS];
	int nitems;
	int body_end;	/* first item after the body: the farthest jump target */
	int ctx;	/* the register holding the ctx pointer */
	int regs[ISA_NREGS];	/* the scalar registers */
	int nregs;
};

static struct bpfrt_insn mk(uint8_t code, int dst, int src, int off, int32_t imm)
{
	struct bpfrt_insn in = {
		.code = code, .dst_reg = (uint8_t)dst, .src_reg = (uint8_t)src,
		.off = (int16_t)off, .imm = imm,
	};
	return in;
}

static void push(struct gen *g, struct bpfrt_insn in)
{
	struct item *it = &g->items[g->nitems++];

	it->in[0] = in;
	it->n = 1;
	it->skip = NO_JUMP;
}

static void push_jump(struct gen *g, struct bpfrt_insn in, int skip)
{
	push(g, in);
	g->items[g->nitems - 1].skip = (int16_t)skip;
}

/* Two slots that stay together: no jump lands on the second. */
static void push_pair(struct gen *g, struct bpfrt_insn a, struct bpfrt_insn b)
{
	struct item *it = &g->items[g->nitems++];

	it->in[0] = a;
	it->in[1] = b;
	it->n = 2;
	it->skip = NO_JUMP;
}

static void push_lddw(struct gen *g, int dst, uint64_t v)
{
	push_pair(g, mk(BPF_LD | BPF_IMM | BPF_DW, dst, 0, 0, (int32_t)(uint32_t)v),
		  mk(0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32)));
}

static int scalar(struct gen *g)
{
	return g->regs[gen_below(&g->rng, (uint32_t)g->nregs)];
}

static const uint8_t size_codes[] = { BPF_B, BPF_H, BPF_W, BPF_DW };

/* A random access size code, and its width in bytes. */
static uint8_t pick_size(struct gen *g, int *bytes)
{
	uint8_t sz = PICK(&g->rng, size_codes);

	*bytes = (int)isa_size(sz);
	return sz;
}

/* Slots GEN_STACK_SLOTS - OPAQUE_SLOTS + 1 .. GEN_STACK_SLOTS (see the top). */
#define OPAQUE_SLOTS 2
#define PLAIN_SLOTS (GEN_STACK_SLOTS - OPAQUE_SLOTS)

/* An aligned offset of `bytes` inside stack slots first..first+n-1. */
static int slot_off(struct gen *g, int bytes, int first, int n)
{
	int slot = first + (int)gen_below(&g->rng, (uint32_t)n);

	return -8 * slot + bytes * (int)gen_below(&g->rng, (uint32_t)(8 / bytes));
}

/* Anywhere in the initialised stack: for loads and non-loading atomics. */
static int stack_off(struct gen *g, int bytes)
{
	return slot_off(g, bytes, 1, GEN_STACK_SLOTS);
}

/* Where plain stores go: never the opaque slots. */
static int plain_off(struct gen *g, int bytes)
{
	return slot_off(g, bytes, 1, PLAIN_SLOTS);
}

/* Where loading atomics go: only the opaque slots. */
static int opaque_off(struct gen *g, int bytes)
{
	return slot_off(g, bytes, PLAIN_SLOTS + 1, OPAQUE_SLOTS);
}

/* An aligned offset of `bytes` below `limit` in the ctx. */
static int ctx_off(struct gen *g, int bytes, int limit)
{
	return bytes * (int)gen_below(&g->rng, (uint32_t)(limit / bytes));
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
		push(g, mk(BPF_ALU64 | BPF_MOV | BPF_K, src, 0, 0, PICK(&g->rng, nasty)));
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

static void emit_load(struct gen *g, int dst, bool from_ctx)
{
	int bytes;
	uint8_t sz = pick_size(g, &bytes);
	uint8_t mode = bytes < 8 && gen_below(&g->rng, 3) == 0 ? BPF_MEMSX : BPF_MEM;

	if (from_ctx)
		push(g, mk(BPF_LDX | mode | sz, dst, g->ctx, ctx_off(g, bytes, GEN_CTX_SIZE), 0));
	else
		push(g, mk(BPF_LDX | mode | sz, dst, R10, stack_off(g, bytes), 0));
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

/* Only BPF_STX may write the ctx; stores stay in the scratch area. */
static void emit_store_ctx(struct gen *g)
{
	int bytes;
	uint8_t sz = pick_size(g, &bytes);

	push(g, mk(BPF_STX | BPF_MEM | sz, g->ctx, scalar(g),
		   ctx_off(g, bytes, GEN_CTX_SCRATCH), 0));
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

/* if (!cond) exit; — ends some runs in the middle. */
static void emit_early_exit(struct gen *g)
{
	push_jump(g, jcond(g), 1);
	push(g, mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
}

/* ---- Programs ---------------------------------------------------------- */

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

static void emit_step(struct gen *g)
{
	uint32_t k = gen_below(&g->rng, 200);

	if (k < 160)
		emit_simple(g);
	else if (k < 186)
		push_jump(g, jcond(g), (int)gen_below(&g->rng, 10));
	else if (k < 199)
		emit_diamond(g);
	else
		emit_early_exit(g);
}

/* Give every scalar register an edge value, a random value or ctx input. */
static void init_reg(struct gen *g, int r)
{
	uint32_t k = gen_below(&g->rng, 20);

	if (k < 7)
		push(g, mk(BPF_ALU64 | BPF_MOV | BPF_K, r, 0, 0, imm32(&g->rng)));
	else if (k < 10)
		push(g, mk(BPF_ALU | BPF_MOV | BPF_K, r, 0, 0, imm32(&g->rng)));
	else if (k < 15)
		push_lddw(g, r, val64(&g->rng));
	else
		emit_load(g, r, true);
}

static void prologue(struct gen *g)
{
	g->ctx = gen_below(&g->rng, 2) ? R1 : 1 + (int)gen_below(&g->rng, 9);
	if (g->ctx != R1)
		push(g, mk(BPF_ALU64 | BPF_MOV | BPF_X, g->ctx, R1, 0, 0));
	g->nregs = 0;
	for (int r = R0; r <= R9; r++)
		if (r != g->ctx)
			g->regs[g->nregs++] = r;
	for (int i = 0; i < g->nregs; i++)
		init_reg(g, g->regs[i]);
	for (int s = 1; s <= GEN_STACK_SLOTS; s++) {
		if (gen_below(&g->rng, 2))
			push(g, mk(BPF_ST | BPF_MEM | BPF_DW, R10, 0, -8 * s, imm32(&g->rng)));
		else
			push(g, mk(BPF_STX | BPF_MEM | BPF_DW, R10, scalar(g), -8 * s, 0));
	}
	for (int s = PLAIN_SLOTS + 1; s <= GEN_STACK_SLOTS; s++) {
		static const int32_t ops[] = { BPF_ADD, BPF_OR, BPF_AND, BPF_XOR };

		push(g, mk(BPF_STX | BPF_ATOMIC | BPF_DW, R10, scalar(g), -8 * s,
			   PICK(&g->rng, ops)));
	}
}

/* Store every scalar register and the stack slots into the ctx, then exit. */
static void epilogue(struct gen *g)
{
	int tmp = g->regs[1];	/* never r0, which is the result */

	g->body_end = g->nitems;
	for (int i = 0; i < g->nregs; i++)
		push(g, mk(BPF_STX | BPF_MEM | BPF_DW, g->ctx, g->regs[i],
			   GEN_CTX_REGS + 8 * g->regs[i], 0));
	for (int s = 1; s <= GEN_STACK_SLOTS; s++) {
		push(g, mk(BPF_LDX | BPF_MEM | BPF_DW, tmp, R10, -8 * s, 0));
		push(g, mk(BPF_STX | BPF_MEM | BPF_DW, g->ctx, tmp,
			   GEN_CTX_STACK + 8 * (s - 1), 0));
	}
	push(g, mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
}

/* Turn item skips into slot offsets (ja32 keeps its offset in imm). */
static void layout(const struct gen *g, struct gen_prog *p)
{
	int slot[MAX_ITEMS + 1], s = 0;

	for (int i = 0; i < g->nitems; i++) {
		slot[i] = s;
		s += g->items[i].n;
	}
	slot[g->nitems] = s;
	p->n = 0;
	for (int i = 0; i < g->nitems; i++) {
		const struct item *it = &g->items[i];
		struct bpfrt_insn *out = &p->insns[p->n];
		int t = i + 1 + it->skip, d;

		memcpy(out, it->in, it->n * sizeof(*out));
		p->n += it->n;
		if (it->skip == NO_JUMP)
			continue;
		d = slot[t < g->body_end ? t : g->body_end] - slot[i] - 1;
		if (out->code == (BPF_JMP32 | BPF_JA))
			out->imm = d;
		else
			out->off = (int16_t)d;
	}
}

/* Room a step may need: a diamond of 8 simple items, each with a divisor set. */
#define STEP_ROOM 20
#define EPILOGUE_ITEMS (ISA_NREGS + 2 * GEN_STACK_SLOTS + 1)

void gen_program(uint64_t seed, int max_steps, struct gen_prog *prog)
{
	struct gen g;
	int steps;

	memset(&g, 0, sizeof(g));
	g.rng.s = seed;
	prologue(&g);
	steps = 2 + (int)gen_below(&g.rng, 80);
	if (max_steps >= 0 && max_steps < steps)
		steps = max_steps;
	prog->steps = steps;
	for (int i = 0; i < steps && g.nitems + STEP_ROOM + EPILOGUE_ITEMS < MAX_ITEMS; i++)
		emit_step(&g);
	epilogue(&g);
	prog->ctx_reg = g.ctx;
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

int gen_insn_mnem(const struct gen_prog *prog, size_t i, const char **mnem)
{
	enum isa_form_id id = isa_decode(&prog->insns[i]);

	if (id == ISA_INVALID) {
		*mnem = "?";
		return 1;
	}
	*mnem = isa_forms[id].mnem;
	return isa_forms[id].shape == SH_LDDW && i + 1 < prog->n ? 2 : 1;
}

void gen_count_forms(const struct gen_prog *prog, uint32_t *counts)
{
	for (size_t i = 0; i < prog->n; i++) {
		enum isa_form_id id = isa_decode(&prog->insns[i]);

		if (id == ISA_INVALID)
			continue;
		counts[id]++;
		if (isa_forms[id].shape == SH_LDDW)
			i++;
	}
}
