/* emit.c — the x86-64 encoder: REX, ModRM/SIB and one function per instruction form.
 *
 * Encodings follow the Intel SDM volume 2. Each function asserts the fields
 * it is given (register numbers, widths, immediate ranges) so a translation
 * bug stops at the point it is made instead of producing a different
 * instruction.
 */
#include <assert.h>

#include "emit.h"

/* ---- Bytes ------------------------------------------------------------- */

void emit_u8(struct emit *e, uint8_t b)
{
	if (e->buf && e->pos < e->cap)
		e->buf[e->pos] = b;
	e->pos++;
}

void emit_u16(struct emit *e, uint16_t v)
{
	emit_u8(e, (uint8_t)v);
	emit_u8(e, (uint8_t)(v >> 8));
}

void emit_u32(struct emit *e, uint32_t v)
{
	emit_u16(e, (uint16_t)v);
	emit_u16(e, (uint16_t)(v >> 16));
}

void emit_u64(struct emit *e, uint64_t v)
{
	emit_u32(e, (uint32_t)v);
	emit_u32(e, (uint32_t)(v >> 32));
}

/* ---- REX, ModRM, SIB ---------------------------------------------------- */

static void check_reg(int r)
{
	assert(r >= 0 && r < X_NREGS);
	(void)r;
}

/*
 * REX for a ModRM.reg register r, SIB index x and ModRM.rm / base b (each -1
 * when absent). byte says which of r (BYTE_R) and b (BYTE_B) are 8-bit
 * operands: spl/bpl/sil/dil (4..7) are only reachable with a REX prefix.
 */
enum { BYTE_R = 1, BYTE_B = 2 };

static bool needs_byte_rex(int r)
{
	return r >= 4 && r < 8;
}

static void emit_rex(struct emit *e, bool w64, int r, int x, int b, unsigned byte)
{
	uint8_t rex = REX | (w64 ? REX_W : 0);

	if (r >= 8)
		rex |= REX_R;
	if (x >= 8)
		rex |= REX_X;
	if (b >= 8)
		rex |= REX_B;
	if (rex != REX || ((byte & BYTE_R) && needs_byte_rex(r)) ||
	    ((byte & BYTE_B) && needs_byte_rex(b)))
		emit_u8(e, rex);
}

static void emit_modrm(struct emit *e, unsigned mod, unsigned reg, unsigned rm)
{
	assert(mod < 4 && reg < 8 && rm < 8);
	emit_u8(e, (uint8_t)(mod << 6 | reg << 3 | rm));
}

/* ModRM (and SIB, displacement) for register reg (or a /digit) and memory m. */
static void emit_modrm_mem(struct emit *e, unsigned reg, struct x86_mem m)
{
	unsigned base = (unsigned)m.base & 7, mod;
	bool sib = m.index != X_NONE || base == RM_SIB;

	check_reg(m.base);
	assert(m.index == X_NONE || (m.index >= 0 && m.index < X_NREGS && m.index != X_RSP));
	if (m.disp == 0 && base != X_RBP)	/* rbp/r13 with mod 0 mean rip/disp32 */
		mod = MOD_IND;
	else
		mod = x86_is_s8(m.disp) ? MOD_DISP8 : MOD_DISP32;
	emit_modrm(e, mod, reg & 7, sib ? RM_SIB : base);
	if (sib) {
		unsigned ss = m.scale == 8 ? 3 : m.scale == 4 ? 2 : m.scale == 2 ? 1 : 0;
		unsigned idx = m.index == X_NONE ? SIB_NOINDEX : (unsigned)m.index & 7;

		assert(m.scale == 1 || m.scale == 2 || m.scale == 4 || m.scale == 8);
		emit_u8(e, (uint8_t)(ss << 6 | idx << 3 | base));
	}
	if (mod == MOD_DISP8)
		emit_u8(e, (uint8_t)m.disp);
	else if (mod == MOD_DISP32)
		emit_u32(e, (uint32_t)m.disp);
}

/* An instruction with a register-direct ModRM: [REX] opcode bytes ModRM. */
static void emit_op_rr(struct emit *e, bool w64, unsigned byte, const uint8_t *op,
		       unsigned nop, int reg, int rm)
{
	check_reg(reg);
	check_reg(rm);
	emit_rex(e, w64, reg, -1, rm, byte);
	for (unsigned i = 0; i < nop; i++)
		emit_u8(e, op[i]);
	emit_modrm(e, MOD_REG, (unsigned)reg & 7, (unsigned)rm & 7);
}

/* An instruction with a memory operand: [REX] opcode bytes ModRM [SIB] [disp]. */
static void emit_op_rm(struct emit *e, bool w64, unsigned byte, const uint8_t *op,
		       unsigned nop, int reg, struct x86_mem m)
{
	emit_rex(e, w64, reg, m.index, m.base, byte);
	for (unsigned i = 0; i < nop; i++)
		emit_u8(e, op[i]);
	emit_modrm_mem(e, (unsigned)reg, m);
}

#define OP(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

/* ---- Moves ------------------------------------------------------------- */

void emit_mov_rr(struct emit *e, bool w64, int dst, int src)
{
	emit_op_rr(e, w64, 0, OP(0x89), src, dst);
}

void emit_mov_ri(struct emit *e, int dst, uint64_t v)
{
	check_reg(dst);
	if (v <= UINT32_MAX) {			/* mov r32, imm32 zero-extends */
		emit_rex(e, false, -1, -1, dst, 0);
		emit_u8(e, (uint8_t)(0xb8 + (dst & 7)));
		emit_u32(e, (uint32_t)v);
	} else if (x86_is_s32((int64_t)v)) {	/* mov r/m64, simm32 */
		emit_op_rr(e, true, 0, OP(0xc7), 0, dst);
		emit_u32(e, (uint32_t)v);
	} else {				/* movabs */
		emit_rex(e, true, -1, -1, dst, 0);
		emit_u8(e, (uint8_t)(0xb8 + (dst & 7)));
		emit_u64(e, v);
	}
}

void emit_mov_ri32(struct emit *e, bool w64, int dst, int32_t imm)
{
	emit_op_rr(e, w64, 0, OP(0xc7), 0, dst);
	emit_u32(e, (uint32_t)imm);
}

void emit_mov_ri64(struct emit *e, int dst, uint64_t v)
{
	check_reg(dst);
	emit_rex(e, true, -1, -1, dst, 0);
	emit_u8(e, (uint8_t)(0xb8 + (dst & 7)));
	emit_u64(e, v);
}

void emit_zero(struct emit *e, int dst)
{
	emit_alu_rr(e, false, ALU_XOR, dst, dst);
}

void emit_lea(struct emit *e, bool w64, int dst, struct x86_mem m)
{
	check_reg(dst);
	emit_op_rm(e, w64, 0, OP(0x8d), dst, m);
}

void emit_load(struct emit *e, unsigned size, bool sx, int dst, struct x86_mem m)
{
	check_reg(dst);
	switch (size) {
	case 1:		/* movzx r32, m8 / movsx r64, m8 */
		emit_op_rm(e, sx, 0, OP(0x0f, sx ? 0xbe : 0xb6), dst, m);
		break;
	case 2:		/* movzx r32, m16 / movsx r64, m16 */
		emit_op_rm(e, sx, 0, OP(0x0f, sx ? 0xbf : 0xb7), dst, m);
		break;
	case 4:		/* mov r32, m32 / movsxd r64, m32 */
		emit_op_rm(e, sx, 0, OP(sx ? 0x63 : 0x8b), dst, m);
		break;
	default:
		assert(size == 8 && !sx);
		emit_op_rm(e, true, 0, OP(0x8b), dst, m);
		break;
	}
}

void emit_store(struct emit *e, unsigned size, struct x86_mem m, int src)
{
	check_reg(src);
	switch (size) {
	case 1:
		emit_op_rm(e, false, BYTE_R, OP(0x88), src, m);
		break;
	case 2:
		emit_u8(e, PFX_OPSIZE);
		emit_op_rm(e, false, 0, OP(0x89), src, m);
		break;
	default:
		assert(size == 4 || size == 8);
		emit_op_rm(e, size == 8, 0, OP(0x89), src, m);
		break;
	}
}

void emit_store_imm(struct emit *e, unsigned size, struct x86_mem m, int32_t imm)
{
	switch (size) {
	case 1:
		emit_op_rm(e, false, 0, OP(0xc6), 0, m);
		emit_u8(e, (uint8_t)imm);
		break;
	case 2:
		emit_u8(e, PFX_OPSIZE);
		emit_op_rm(e, false, 0, OP(0xc7), 0, m);
		emit_u16(e, (uint16_t)imm);
		break;
	default:
		assert(size == 4 || size == 8);
		emit_op_rm(e, size == 8, 0, OP(0xc7), 0, m);
		emit_u32(e, (uint32_t)imm);
		break;
	}
}

void emit_movzx_rr(struct emit *e, unsigned size, int dst, int src)
{
	assert(size == 1 || size == 2);
	emit_op_rr(e, false, size == 1 ? BYTE_B : 0, OP(0x0f, size == 1 ? 0xb6 : 0xb7),
		   dst, src);
}

void emit_movsx_rr(struct emit *e, bool w64, unsigned size, int dst, int src)
{
	switch (size) {
	case 1:
		emit_op_rr(e, w64, BYTE_B, OP(0x0f, 0xbe), dst, src);
		break;
	case 2:
		emit_op_rr(e, w64, 0, OP(0x0f, 0xbf), dst, src);
		break;
	default:
		assert(size == 4 && w64);	/* movsxd */
		emit_op_rr(e, true, 0, OP(0x63), dst, src);
		break;
	}
}

void emit_push(struct emit *e, int reg)
{
	check_reg(reg);
	emit_rex(e, false, -1, -1, reg, 0);
	emit_u8(e, (uint8_t)(0x50 + (reg & 7)));
}

void emit_pop(struct emit *e, int reg)
{
	check_reg(reg);
	emit_rex(e, false, -1, -1, reg, 0);
	emit_u8(e, (uint8_t)(0x58 + (reg & 7)));
}

/* ---- Arithmetic -------------------------------------------------------- */

void emit_alu_rr(struct emit *e, bool w64, enum x86_alu op, int dst, int src)
{
	assert(op <= ALU_CMP);
	emit_op_rr(e, w64, 0, OP((uint8_t)(op << 3 | 1)), src, dst);
}

void emit_alu_ri(struct emit *e, bool w64, enum x86_alu op, int dst, int32_t imm)
{
	assert(op <= ALU_CMP);
	if (x86_is_s8(imm)) {
		emit_op_rr(e, w64, 0, OP(0x83), (int)op, dst);
		emit_u8(e, (uint8_t)imm);
	} else {
		emit_op_rr(e, w64, 0, OP(0x81), (int)op, dst);
		emit_u32(e, (uint32_t)imm);
	}
}

void emit_alu_ri32(struct emit *e, bool w64, enum x86_alu op, int dst, int32_t imm)
{
	assert(op <= ALU_CMP);
	emit_op_rr(e, w64, 0, OP(0x81), (int)op, dst);
	emit_u32(e, (uint32_t)imm);
}

void emit_alu_rm(struct emit *e, bool w64, enum x86_alu op, int reg, struct x86_mem m)
{
	assert(op <= ALU_CMP);
	check_reg(reg);
	emit_op_rm(e, w64, 0, OP((uint8_t)(op << 3 | 3)), reg, m);
}

void emit_alu_mr(struct emit *e, bool w64, bool lock, enum x86_alu op,
		 struct x86_mem m, int reg)
{
	assert(op <= ALU_CMP);
	check_reg(reg);
	if (lock)
		emit_u8(e, PFX_LOCK);
	emit_op_rm(e, w64, 0, OP((uint8_t)(op << 3 | 1)), reg, m);
}

void emit_alu_mi(struct emit *e, bool w64, enum x86_alu op, struct x86_mem m,
		 int32_t imm)
{
	assert(op <= ALU_CMP);
	if (x86_is_s8(imm)) {
		emit_op_rm(e, w64, 0, OP(0x83), (int)op, m);
		emit_u8(e, (uint8_t)imm);
	} else {
		emit_op_rm(e, w64, 0, OP(0x81), (int)op, m);
		emit_u32(e, (uint32_t)imm);
	}
}

void emit_test_rr(struct emit *e, bool w64, int a, int b)
{
	emit_op_rr(e, w64, 0, OP(0x85), b, a);
}

void emit_test_ri(struct emit *e, bool w64, int reg, int32_t imm)
{
	emit_op_rr(e, w64, 0, OP(0xf7), G3_TEST, reg);
	emit_u32(e, (uint32_t)imm);
}

void emit_test_r8i(struct emit *e, int reg, uint8_t imm)
{
	check_reg(reg);
	emit_rex(e, false, -1, -1, reg, BYTE_B);
	emit_u8(e, 0xf6);
	emit_modrm(e, MOD_REG, G3_TEST, (unsigned)reg & 7);
	emit_u8(e, imm);
}

void emit_imul_rr(struct emit *e, bool w64, int dst, int src)
{
	emit_op_rr(e, w64, 0, OP(0x0f, 0xaf), dst, src);
}

void emit_cmov_rr(struct emit *e, bool w64, enum x86_cc cc, int dst, int src)
{
	assert(cc < CC_ALWAYS);
	emit_op_rr(e, w64, 0, OP(0x0f, (uint8_t)(0x40 | cc)), dst, src);
}

void emit_imul_rri(struct emit *e, bool w64, int dst, int src, int32_t imm)
{
	if (x86_is_s8(imm)) {
		emit_op_rr(e, w64, 0, OP(0x6b), dst, src);
		emit_u8(e, (uint8_t)imm);
	} else {
		emit_op_rr(e, w64, 0, OP(0x69), dst, src);
		emit_u32(e, (uint32_t)imm);
	}
}

void emit_grp3(struct emit *e, bool w64, enum x86_grp3 op, int reg)
{
	assert(op != G3_TEST && op <= G3_IDIV);
	emit_op_rr(e, w64, 0, OP(0xf7), (int)op, reg);
}

void emit_cqo(struct emit *e, bool w64)
{
	if (w64)
		emit_u8(e, REX | REX_W);
	emit_u8(e, 0x99);
}

void emit_shift_ri(struct emit *e, bool w64, enum x86_shift op, int reg, unsigned n)
{
	assert(op <= SHIFT_SAR && op != 6 && n >= 1 && n < (w64 ? 64u : 32u));
	if (n == 1) {
		emit_op_rr(e, w64, 0, OP(0xd1), (int)op, reg);
	} else {
		emit_op_rr(e, w64, 0, OP(0xc1), (int)op, reg);
		emit_u8(e, (uint8_t)n);
	}
}

void emit_shift_cl(struct emit *e, bool w64, enum x86_shift op, int reg)
{
	assert(op <= SHIFT_SAR && op != 6);
	emit_op_rr(e, w64, 0, OP(0xd3), (int)op, reg);
}

/* VEX.LZ.{66,F3,F2}.0F38.W F7 /r: shlx, sarx, shrx (BMI2). */
void emit_shiftx(struct emit *e, bool w64, enum x86_shift op, int dst, int src,
		 int count)
{
	unsigned pp = op == SHIFT_SHL ? 1 : op == SHIFT_SAR ? 2 : 3;

	assert(op == SHIFT_SHL || op == SHIFT_SHR || op == SHIFT_SAR);
	check_reg(dst);
	check_reg(src);
	check_reg(count);
	emit_u8(e, 0xc4);
	emit_u8(e, (uint8_t)((dst >= 8 ? 0 : 0x80) | 0x40 | (src >= 8 ? 0 : 0x20) | 0x02));
	emit_u8(e, (uint8_t)((w64 ? 0x80 : 0) | (~(unsigned)count & 15) << 3 | pp));
	emit_u8(e, 0xf7);
	emit_modrm(e, MOD_REG, (unsigned)dst & 7, (unsigned)src & 7);
}

void emit_bswap(struct emit *e, bool w64, int reg)
{
	check_reg(reg);
	emit_rex(e, w64, -1, -1, reg, 0);
	emit_u8(e, 0x0f);
	emit_u8(e, (uint8_t)(0xc8 + (reg & 7)));
}

void emit_rol16_8(struct emit *e, int reg)
{
	emit_u8(e, PFX_OPSIZE);
	emit_op_rr(e, false, 0, OP(0xc1), SHIFT_ROL, reg);
	emit_u8(e, 8);
}

/* ---- Atomics ----------------------------------------------------------- */

void emit_lock_xadd(struct emit *e, bool w64, struct x86_mem m, int reg)
{
	check_reg(reg);
	emit_u8(e, PFX_LOCK);
	emit_op_rm(e, w64, 0, OP(0x0f, 0xc1), reg, m);
}

void emit_xchg_mr(struct emit *e, bool w64, struct x86_mem m, int reg)
{
	check_reg(reg);
	emit_op_rm(e, w64, 0, OP(0x87), reg, m);	/* xchg with memory always locks */
}

void emit_lock_cmpxchg(struct emit *e, bool w64, struct x86_mem m, int reg)
{
	check_reg(reg);
	emit_u8(e, PFX_LOCK);
	emit_op_rm(e, w64, 0, OP(0x0f, 0xb1), reg, m);
}

/* ---- Control ----------------------------------------------------------- */

void emit_jcc8(struct emit *e, enum x86_cc cc, int32_t rel)
{
	assert(cc <= CC_ALWAYS && x86_is_s8(rel));
	emit_u8(e, cc == CC_ALWAYS ? 0xeb : (uint8_t)(0x70 + cc));
	emit_u8(e, (uint8_t)rel);
}

void emit_jcc32(struct emit *e, enum x86_cc cc, int32_t rel)
{
	assert(cc <= CC_ALWAYS);
	if (cc == CC_ALWAYS) {
		emit_u8(e, 0xe9);
	} else {
		emit_u8(e, 0x0f);
		emit_u8(e, (uint8_t)(0x80 + cc));
	}
	emit_u32(e, (uint32_t)rel);
}

void emit_call_rel32(struct emit *e, int32_t rel)
{
	emit_u8(e, 0xe8);
	emit_u32(e, (uint32_t)rel);
}

void emit_call_r(struct emit *e, int reg)
{
	emit_op_rr(e, false, 0, OP(0xff), 2, reg);
}

void emit_jmp_r(struct emit *e, int reg)
{
	emit_op_rr(e, false, 0, OP(0xff), 4, reg);
}

void emit_ret(struct emit *e)
{
	emit_u8(e, 0xc3);
}

/* The SDM's recommended multi-byte NOPs, 1 to 9 bytes. */
void emit_nops(struct emit *e, unsigned n)
{
	static const uint8_t nops[9][9] = {
		{ 0x90 },
		{ 0x66, 0x90 },
		{ 0x0f, 0x1f, 0x00 },
		{ 0x0f, 0x1f, 0x40, 0x00 },
		{ 0x0f, 0x1f, 0x44, 0x00, 0x00 },
		{ 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
		{ 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
		{ 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
		{ 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
	};

	while (n > 0) {
		unsigned k = n > 9 ? 9 : n;

		for (unsigned b = 0; b < k; b++)
			emit_u8(e, nops[k - 1][b]);
		n -= k;
	}
}

void emit_endbr64(struct emit *e)
{
	emit_u8(e, 0xf3);
	emit_u8(e, 0x0f);
	emit_u8(e, 0x1e);
	emit_u8(e, 0xfa);
}

/* ---- SSE --------------------------------------------------------------- */

void emit_pxor(struct emit *e, int xdst, int xsrc)
{
	assert(xdst >= 0 && xdst < 8 && xsrc >= 0 && xsrc < 8);
	emit_u8(e, PFX_OPSIZE);
	emit_u8(e, 0x0f);
	emit_u8(e, 0xef);
	emit_modrm(e, MOD_REG, (unsigned)xdst, (unsigned)xsrc);
}

void emit_movups_store(struct emit *e, struct x86_mem m, int xsrc)
{
	assert(xsrc >= 0 && xsrc < 8);
	emit_op_rm(e, false, 0, OP(0x0f, 0x11), xsrc, m);
}

void emit_movups_load(struct emit *e, int xdst, struct x86_mem m)
{
	assert(xdst >= 0 && xdst < 8);
	emit_op_rm(e, false, 0, OP(0x0f, 0x10), xdst, m);
}
