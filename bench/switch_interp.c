/* switch_interp.c — the baseline: fetch, switch on the opcode byte, decode, every instruction.
 *
 * This stands in for the classic design (uBPF's among others) so the bench
 * can say how much bpfrt's pre-decoded, threaded interpreter gains over it.
 * It is written to be a fair opponent: no bounds checks, no instruction
 * counting, no pc range check, and every operation comes from
 * isa/semantics.h, so both interpreters compute exactly the same thing.
 */
#include <errno.h>
#include <string.h>

#include "isa/isa.h"
#include "isa/semantics.h"
#include "switch_interp.h"

struct sw_frame {
	size_t ret_pc;
	uint64_t saved[5];	/* r6..r10 */
};

struct sw_state {
	uint64_t reg[ISA_NREGS];
	struct sw_frame frames[BPFRT_MAX_FRAMES];
	unsigned depth;
	uint8_t stack[BPFRT_MAX_FRAMES * BPFRT_STACK_SIZE] __attribute__((aligned(16)));
};

/* ---- Memory ------------------------------------------------------------ */

static inline __attribute__((always_inline)) uint64_t ld(uintptr_t a, unsigned size)
{
	uint8_t b; uint16_t h; uint32_t w; uint64_t d;

	switch (size) {
	case 1: memcpy(&b, (const void *)a, 1); return b;
	case 2: memcpy(&h, (const void *)a, 2); return h;
	case 4: memcpy(&w, (const void *)a, 4); return w;
	default: memcpy(&d, (const void *)a, 8); return d;
	}
}

static inline __attribute__((always_inline)) void st(uintptr_t a, unsigned size, uint64_t v)
{
	uint8_t b = (uint8_t)v; uint16_t h = (uint16_t)v; uint32_t w = (uint32_t)v;

	switch (size) {
	case 1: memcpy((void *)a, &b, 1); break;
	case 2: memcpy((void *)a, &h, 2); break;
	case 4: memcpy((void *)a, &w, 4); break;
	default: memcpy((void *)a, &v, 8); break;
	}
}

/* Atomic read-modify-write of type T at a; op is the instruction's imm. */
#define SW_ATOMIC(T, a, op, src, r0) do { \
		T *p_ = (T *)(a), v_ = (T)*(src), old_; \
		switch ((op) & ~BPF_FETCH) { \
		case BPF_ADD: old_ = __atomic_fetch_add(p_, v_, __ATOMIC_SEQ_CST); break; \
		case BPF_OR:  old_ = __atomic_fetch_or(p_, v_, __ATOMIC_SEQ_CST); break; \
		case BPF_AND: old_ = __atomic_fetch_and(p_, v_, __ATOMIC_SEQ_CST); break; \
		case BPF_XOR: old_ = __atomic_fetch_xor(p_, v_, __ATOMIC_SEQ_CST); break; \
		case BPF_XCHG & ~BPF_FETCH: \
			old_ = __atomic_exchange_n(p_, v_, __ATOMIC_SEQ_CST); break; \
		default: \
			old_ = (T)*(r0); \
			__atomic_compare_exchange_n(p_, &old_, v_, false, \
						    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
			*(r0) = old_; \
			return; \
		} \
		if ((op) & BPF_FETCH) \
			*(src) = old_; \
	} while (0)

static void sw_atomic(uintptr_t a, unsigned size, int32_t op, uint64_t *src,
		      uint64_t *r0)
{
	if (size == 4)
		SW_ATOMIC(uint32_t, a, op, src, r0);
	else
		SW_ATOMIC(uint64_t, a, op, src, r0);
}

/* ---- Calls ------------------------------------------------------------- */

static int sw_call(struct sw_state *s, size_t *pc, int32_t imm)
{
	struct sw_frame *f;

	if (s->depth + 1 >= BPFRT_MAX_FRAMES)
		return -E2BIG;
	f = &s->frames[s->depth++];
	f->ret_pc = *pc;
	memcpy(f->saved, &s->reg[R6], sizeof(f->saved));
	s->reg[R10] -= BPFRT_STACK_SIZE;
	*pc += imm;
	return 0;
}

/* Returns true when the outermost frame exits. */
static bool sw_exit(struct sw_state *s, size_t *pc)
{
	struct sw_frame *f;

	if (s->depth == 0)
		return true;
	f = &s->frames[--s->depth];
	memcpy(&s->reg[R6], f->saved, sizeof(f->saved));
	*pc = f->ret_pc;
	return false;
}

/* ---- The loop ---------------------------------------------------------- */

#define DST	reg[in.dst_reg]
#define SRC	reg[in.src_reg]
#define IMM	((uint64_t)(int64_t)in.imm)
#define SIGNED	(in.off == 1)
#define ADDR(r)	((uintptr_t)((r) + (uint64_t)(int64_t)in.off))

/* One ALU operation in its four encodings (64/32-bit, immediate/register). */
#define ALU_CASES(op) \
	case BPF_ALU64 | BPF_K | op: DST = sem_alu64(op, SIGNED, DST, IMM); break; \
	case BPF_ALU64 | BPF_X | op: DST = sem_alu64(op, SIGNED, DST, SRC); break; \
	case BPF_ALU | BPF_K | op: DST = sem_alu32(op, SIGNED, DST, IMM); break; \
	case BPF_ALU | BPF_X | op: DST = sem_alu32(op, SIGNED, DST, SRC); break;

/* One comparison in its four encodings (64/32-bit, immediate/register). */
#define JUMP_IF(cond) do { if (cond) pc += in.off; } while (0); break
#define JMP_CASES(op) \
	case BPF_JMP | BPF_K | op: JUMP_IF(sem_jcond(op, false, DST, IMM)); \
	case BPF_JMP | BPF_X | op: JUMP_IF(sem_jcond(op, false, DST, SRC)); \
	case BPF_JMP32 | BPF_K | op: JUMP_IF(sem_jcond(op, true, DST, IMM)); \
	case BPF_JMP32 | BPF_X | op: JUMP_IF(sem_jcond(op, true, DST, SRC));

/* Loads, sign-extending loads, stores of an immediate, stores of a register. */
#define MEM_CASES(sz, bytes) \
	case BPF_LDX | BPF_MEM | sz: DST = ld(ADDR(SRC), bytes); break; \
	case BPF_ST | BPF_MEM | sz: st(ADDR(DST), bytes, IMM); break; \
	case BPF_STX | BPF_MEM | sz: st(ADDR(DST), bytes, SRC); break;
#define MEMSX_CASE(sz, bytes) \
	case BPF_LDX | BPF_MEMSX | sz: DST = sem_sext(bytes, ld(ADDR(SRC), bytes)); break;

int switch_interp_run(const struct bpfrt_insn *insns, void *ctx, size_t ctx_len,
		      uint64_t *ret)
{
	struct sw_state s;
	uint64_t *reg = s.reg;
	size_t pc = 0;
	int err;

	memset(reg, 0, sizeof(s.reg));
	s.depth = 0;
	reg[R1] = (uintptr_t)ctx;
	reg[R2] = ctx_len;
	reg[R10] = (uintptr_t)s.stack + sizeof(s.stack);
	for (;;) {
		const struct bpfrt_insn in = insns[pc++];

		switch (in.code) {
		ALU_CASES(BPF_ADD) ALU_CASES(BPF_SUB) ALU_CASES(BPF_MUL)
		ALU_CASES(BPF_DIV) ALU_CASES(BPF_OR) ALU_CASES(BPF_AND)
		ALU_CASES(BPF_LSH) ALU_CASES(BPF_RSH) ALU_CASES(BPF_MOD)
		ALU_CASES(BPF_XOR) ALU_CASES(BPF_ARSH)
		case BPF_ALU64 | BPF_NEG: DST = -DST; break;
		case BPF_ALU | BPF_NEG: DST = (uint32_t)-DST; break;
		case BPF_ALU64 | BPF_K | BPF_MOV: DST = IMM; break;
		case BPF_ALU | BPF_K | BPF_MOV: DST = (uint32_t)in.imm; break;
		case BPF_ALU64 | BPF_X | BPF_MOV:
			DST = in.off ? sem_movsx(false, (unsigned)in.off, SRC) : SRC;
			break;
		case BPF_ALU | BPF_X | BPF_MOV:
			DST = in.off ? sem_movsx(true, (unsigned)in.off, SRC)
				     : (uint32_t)SRC;
			break;
		case BPF_ALU | BPF_END | BPF_TO_LE:
			DST = sem_end(false, (unsigned)in.imm, DST);
			break;
		case BPF_ALU | BPF_END | BPF_TO_BE:
		case BPF_ALU64 | BPF_END:
			DST = sem_end(true, (unsigned)in.imm, DST);
			break;
		case BPF_LD | BPF_IMM | BPF_DW:
			if (in.src_reg)
				return -ENOTSUP;
			DST = isa_imm64(&insns[pc - 1]);
			pc++;
			break;
		MEM_CASES(BPF_B, 1) MEM_CASES(BPF_H, 2)
		MEM_CASES(BPF_W, 4) MEM_CASES(BPF_DW, 8)
		MEMSX_CASE(BPF_B, 1) MEMSX_CASE(BPF_H, 2) MEMSX_CASE(BPF_W, 4)
		case BPF_STX | BPF_ATOMIC | BPF_W:
			sw_atomic(ADDR(DST), 4, in.imm, &SRC, &reg[R0]);
			break;
		case BPF_STX | BPF_ATOMIC | BPF_DW:
			sw_atomic(ADDR(DST), 8, in.imm, &SRC, &reg[R0]);
			break;
		case BPF_JMP | BPF_JA: pc += in.off; break;
		case BPF_JMP32 | BPF_JA: pc += in.imm; break;
		JMP_CASES(BPF_JEQ) JMP_CASES(BPF_JGT) JMP_CASES(BPF_JGE)
		JMP_CASES(BPF_JSET) JMP_CASES(BPF_JNE) JMP_CASES(BPF_JSGT)
		JMP_CASES(BPF_JSGE) JMP_CASES(BPF_JLT) JMP_CASES(BPF_JLE)
		JMP_CASES(BPF_JSLT) JMP_CASES(BPF_JSLE)
		case BPF_JMP | BPF_CALL:
			if (in.src_reg != BPF_PSEUDO_CALL)
				return -ENOTSUP;	/* helpers: not in this baseline */
			err = sw_call(&s, &pc, in.imm);
			if (err)
				return err;
			break;
		case BPF_JMP | BPF_EXIT:
			if (sw_exit(&s, &pc)) {
				*ret = reg[R0];
				return 0;
			}
			break;
		default:
			return in.code == (BPF_JMP | BPF_X | BPF_CALL) ? -ENOTSUP : -EINVAL;
		}
	}
}
