/* emit.h — the x86-64 encoder: one tiny function per instruction form, each asserting its fields.
 *
 * The encoder knows bytes, not eBPF: jit.c decides what to emit. Every
 * function appends one machine instruction to a `struct emit`; bytes past the
 * buffer's capacity are counted but not written, so a pass with no buffer
 * measures the code. Registers are enum x86_reg; `w64` picks the 64-bit
 * operand size (REX.W), otherwise the 32-bit one, which zero-extends its
 * result into the full register.
 */
#ifndef BPFRT_JIT_EMIT_H
#define BPFRT_JIT_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "x86.h"

struct emit {
	uint8_t *buf;	/* where the bytes go; NULL to measure only */
	size_t cap;	/* bytes buf can hold */
	size_t pos;	/* bytes emitted so far */
};

/* A memory operand: [base + index * scale + disp]. */
struct x86_mem {
	int8_t base;	/* enum x86_reg */
	int8_t index;	/* enum x86_reg, or X_NONE */
	uint8_t scale;	/* 1, 2, 4 or 8 */
	int32_t disp;
};

static inline struct x86_mem x86_mem(int base, int32_t disp)
{
	return (struct x86_mem){ .base = (int8_t)base, .index = X_NONE, .scale = 1,
				 .disp = disp };
}

static inline struct x86_mem x86_mem_index(int base, int index, unsigned scale,
					   int32_t disp)
{
	return (struct x86_mem){ .base = (int8_t)base, .index = (int8_t)index,
				 .scale = (uint8_t)scale, .disp = disp };
}

/* ---- Raw bytes --------------------------------------------------------- */

void emit_u8(struct emit *e, uint8_t b);
void emit_u16(struct emit *e, uint16_t v);
void emit_u32(struct emit *e, uint32_t v);
void emit_u64(struct emit *e, uint64_t v);

/* ---- Moves ------------------------------------------------------------- */

void emit_mov_rr(struct emit *e, bool w64, int dst, int src);
/* dst = v, in the shortest form (zero-extended imm32, sign-extended, imm64). */
void emit_mov_ri(struct emit *e, int dst, uint64_t v);
/*
 * Fixed-size forms, whatever the value (constant blinding must not change
 * the layout from pass to pass): mov dst, imm32 (C7 /0: sign-extended to
 * 64 bits if w64, else zero-extended), and movabs dst, imm64.
 */
void emit_mov_ri32(struct emit *e, bool w64, int dst, int32_t imm);
void emit_mov_ri64(struct emit *e, int dst, uint64_t v);
/* dst = 0 with xor (clobbers the flags). */
void emit_zero(struct emit *e, int dst);
void emit_lea(struct emit *e, bool w64, int dst, struct x86_mem m);
/* Loads of 1, 2, 4 or 8 bytes, zero- or (sx) sign-extended to 64 bits. */
void emit_load(struct emit *e, unsigned size, bool sx, int dst, struct x86_mem m);
void emit_store(struct emit *e, unsigned size, struct x86_mem m, int src);
/* Store imm (sign-extended from 32 bits for 8-byte stores). */
void emit_store_imm(struct emit *e, unsigned size, struct x86_mem m, int32_t imm);
/* Register-to-register zero (movzx) and sign (movsx/movsxd) extension. */
void emit_movzx_rr(struct emit *e, unsigned size, int dst, int src);
void emit_movsx_rr(struct emit *e, bool w64, unsigned size, int dst, int src);
void emit_push(struct emit *e, int reg);
void emit_pop(struct emit *e, int reg);

/* ---- Arithmetic -------------------------------------------------------- */

void emit_alu_rr(struct emit *e, bool w64, enum x86_alu op, int dst, int src);
/* op dst, imm: the imm8 form when it fits, sign-extended to 64 bits if w64. */
void emit_alu_ri(struct emit *e, bool w64, enum x86_alu op, int dst, int32_t imm);
/* op dst, imm32, never the imm8 form (fixed size, as emit_mov_ri32). */
void emit_alu_ri32(struct emit *e, bool w64, enum x86_alu op, int dst, int32_t imm);
/* op reg, [m] */
void emit_alu_rm(struct emit *e, bool w64, enum x86_alu op, int reg, struct x86_mem m);
/* op [m], reg — with lock when `lock` (add/or/and/xor to memory). */
void emit_alu_mr(struct emit *e, bool w64, bool lock, enum x86_alu op,
		 struct x86_mem m, int reg);
/* op [m], imm */
void emit_alu_mi(struct emit *e, bool w64, enum x86_alu op, struct x86_mem m,
		 int32_t imm);
void emit_test_rr(struct emit *e, bool w64, int a, int b);
void emit_test_ri(struct emit *e, bool w64, int reg, int32_t imm);
/* test reg8, imm8 (the low byte of reg). */
void emit_test_r8i(struct emit *e, int reg, uint8_t imm);
void emit_imul_rr(struct emit *e, bool w64, int dst, int src);
/* cmovcc dst, src */
void emit_cmov_rr(struct emit *e, bool w64, enum x86_cc cc, int dst, int src);
void emit_imul_rri(struct emit *e, bool w64, int dst, int src, int32_t imm);
/* Group 3 on a register: neg, not, mul, div, idiv. */
void emit_grp3(struct emit *e, bool w64, enum x86_grp3 op, int reg);
/* Sign-extend rax into rdx (cqo; cdq when !w64). */
void emit_cqo(struct emit *e, bool w64);
void emit_shift_ri(struct emit *e, bool w64, enum x86_shift op, int reg, unsigned n);
void emit_shift_cl(struct emit *e, bool w64, enum x86_shift op, int reg);
/* BMI2 shlx/shrx/sarx: dst = src shifted by count (masked to the width). */
void emit_shiftx(struct emit *e, bool w64, enum x86_shift op, int dst, int src,
		 int count);
void emit_bswap(struct emit *e, bool w64, int reg);
/* rol reg16, 8: swap the two low bytes. */
void emit_rol16_8(struct emit *e, int reg);

/* ---- Atomics (each implies or takes a lock prefix) --------------------- */

void emit_lock_xadd(struct emit *e, bool w64, struct x86_mem m, int reg);
void emit_xchg_mr(struct emit *e, bool w64, struct x86_mem m, int reg);
void emit_lock_cmpxchg(struct emit *e, bool w64, struct x86_mem m, int reg);

/* ---- Control ----------------------------------------------------------- */

/* Jcc / jmp (cc == CC_ALWAYS) with an 8- or 32-bit displacement from the end. */
void emit_jcc8(struct emit *e, enum x86_cc cc, int32_t rel);
void emit_jcc32(struct emit *e, enum x86_cc cc, int32_t rel);
/* Sizes of those two forms. */
static inline unsigned emit_jcc_size(enum x86_cc cc, bool near8)
{
	return near8 ? 2 : cc == CC_ALWAYS ? 5 : 6;
}
void emit_call_rel32(struct emit *e, int32_t rel);
void emit_call_r(struct emit *e, int reg);
void emit_jmp_r(struct emit *e, int reg);
void emit_ret(struct emit *e);
/* n bytes of no-operation, in as few instructions as the SDM recommends. */
void emit_nops(struct emit *e, unsigned n);
/* endbr64: a valid target of an indirect branch under CET (a nop elsewhere). */
void emit_endbr64(struct emit *e);

/* ---- SSE (frame zeroing) ----------------------------------------------- */

void emit_pxor(struct emit *e, int xdst, int xsrc);
void emit_movups_store(struct emit *e, struct x86_mem m, int xsrc);
void emit_movups_load(struct emit *e, int xdst, struct x86_mem m);

#endif /* BPFRT_JIT_EMIT_H */
