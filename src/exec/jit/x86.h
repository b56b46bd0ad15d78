/* x86.h — x86-64 target constants for the JIT: registers, condition codes, encoding fields. */
#ifndef BPFRT_JIT_X86_H
#define BPFRT_JIT_X86_H

#include <stdint.h>

/* General-purpose registers, numbered as the ModRM/REX fields number them. */
enum x86_reg {
	X_RAX, X_RCX, X_RDX, X_RBX, X_RSP, X_RBP, X_RSI, X_RDI,
	X_R8, X_R9, X_R10, X_R11, X_R12, X_R13, X_R14, X_R15,
	X_NREGS,
	X_NONE = -1,	/* no index register in a memory operand */
};

/* Condition codes (the low nibble of Jcc / SETcc / CMOVcc). */
enum x86_cc {
	CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A,
	CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE, CC_LE, CC_G,
	CC_ALWAYS = 16,	/* pseudo code: an unconditional jmp */
};

/* REX prefix: 0100WRXB. */
enum {
	REX = 0x40,
	REX_W = 0x08,	/* 64-bit operand size */
	REX_R = 0x04,	/* extends ModRM.reg */
	REX_X = 0x02,	/* extends SIB.index */
	REX_B = 0x01,	/* extends ModRM.rm, SIB.base or the opcode register */
};

/* ModRM.mod */
enum { MOD_IND = 0, MOD_DISP8 = 1, MOD_DISP32 = 2, MOD_REG = 3 };
/* ModRM.rm = 100 means a SIB byte follows; SIB.index = 100 means no index. */
enum { RM_SIB = 4, SIB_NOINDEX = 4 };

/* Group 1 (0x01 / 0x03 / 0x81 / 0x83): /digit and opcode bits 5:3. */
enum x86_alu {
	ALU_ADD = 0, ALU_OR = 1, ALU_ADC = 2, ALU_SBB = 3,
	ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7,
};

/* Group 2 (0xc1 / 0xd1 / 0xd3): /digit. */
enum x86_shift { SHIFT_ROL = 0, SHIFT_ROR = 1, SHIFT_SHL = 4, SHIFT_SHR = 5, SHIFT_SAR = 7 };

/* Group 3 (0xf7): /digit. */
enum x86_grp3 { G3_TEST = 0, G3_NOT = 2, G3_NEG = 3, G3_MUL = 4, G3_IMUL = 5,
		G3_DIV = 6, G3_IDIV = 7 };

/* Prefixes. */
enum { PFX_OPSIZE = 0x66, PFX_LOCK = 0xf0 };

/* Does v fit a sign-extended 8- or 32-bit immediate or displacement? */
static inline int x86_is_s8(int64_t v) { return v >= -128 && v <= 127; }
static inline int x86_is_s32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

#endif /* BPFRT_JIT_X86_H */
