/* isa.h — the eBPF instruction set (RFC 9669, cpu v1–v4), defined once as a table. */
#ifndef BPFRT_ISA_H
#define BPFRT_ISA_H

#include <stddef.h>
#include <stdint.h>

#include "bpfrt.h"

/* ---- Encoding constants (RFC 9669 §3, §4) ------------------------------ */

enum {
	BPF_LD = 0x00, BPF_LDX = 0x01, BPF_ST = 0x02, BPF_STX = 0x03,
	BPF_ALU = 0x04, BPF_JMP = 0x05, BPF_JMP32 = 0x06, BPF_ALU64 = 0x07,
};
enum { BPF_K = 0x00, BPF_X = 0x08 };
enum {
	BPF_ADD = 0x00, BPF_SUB = 0x10, BPF_MUL = 0x20, BPF_DIV = 0x30,
	BPF_OR = 0x40, BPF_AND = 0x50, BPF_LSH = 0x60, BPF_RSH = 0x70,
	BPF_NEG = 0x80, BPF_MOD = 0x90, BPF_XOR = 0xa0, BPF_MOV = 0xb0,
	BPF_ARSH = 0xc0, BPF_END = 0xd0,
};
enum {
	BPF_JA = 0x00, BPF_JEQ = 0x10, BPF_JGT = 0x20, BPF_JGE = 0x30,
	BPF_JSET = 0x40, BPF_JNE = 0x50, BPF_JSGT = 0x60, BPF_JSGE = 0x70,
	BPF_CALL = 0x80, BPF_EXIT = 0x90, BPF_JLT = 0xa0, BPF_JLE = 0xb0,
	BPF_JSLT = 0xc0, BPF_JSLE = 0xd0, BPF_JCOND = 0xe0,
};
/* BPF_JCOND's kinds, in src_reg (only one exists). */
enum { BPF_MAY_GOTO = 0 };
/*
 * may_goto's loop budget: each function invocation (a call frame, a
 * callback, a tail-called program) starts with this many; every may_goto
 * takes one and, once none is left, jumps. The kernel's count-based form
 * (BPF_MAX_LOOPS); bpfrt does not use the kernel's timed variant, so runs
 * are deterministic.
 */
#define ISA_MAY_GOTO_BUDGET (8u * 1024 * 1024)
enum { BPF_W = 0x00, BPF_H = 0x08, BPF_B = 0x10, BPF_DW = 0x18 };
enum {
	BPF_IMM = 0x00, BPF_ABS = 0x20, BPF_IND = 0x40, BPF_MEM = 0x60,
	BPF_MEMSX = 0x80, BPF_ATOMIC = 0xc0,
};
/* The END opcode's source bit picks the byte order. */
enum { BPF_TO_LE = 0x00, BPF_TO_BE = 0x08 };
/* Atomic operations, in imm. */
enum {
	BPF_FETCH = 0x01,
	BPF_XCHG = 0xe0 | BPF_FETCH,
	BPF_CMPXCHG = 0xf0 | BPF_FETCH,
};
/* lddw source kinds, resolved by the loader. */
enum {
	BPF_PSEUDO_MAP_FD = 1, BPF_PSEUDO_MAP_VALUE = 2, BPF_PSEUDO_BTF_ID = 3,
	BPF_PSEUDO_FUNC = 4, BPF_PSEUDO_MAP_IDX = 5, BPF_PSEUDO_MAP_IDX_VALUE = 6,
};
/* call source kinds. */
enum { BPF_PSEUDO_CALL = 1, BPF_PSEUDO_KFUNC_CALL = 2 };

#define BPF_CLASS(code) ((code) & 0x07)
#define BPF_OP(code)    ((code) & 0xf0)
#define BPF_SRC(code)   ((code) & 0x08)
#define BPF_SIZE(code)  ((code) & 0x18)
#define BPF_MODE(code)  ((code) & 0xe0)

enum { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, ISA_NREGS };

/* ---- Instruction forms ------------------------------------------------- */

/*
 * The shape of a form: which fields it uses, how it is written in assembly
 * and in bpftool's notation. Fields a shape does not use must be zero.
 */
enum isa_shape {
	SH_ALU_IMM,	/* dst op= imm */
	SH_ALU_REG,	/* dst op= src */
	SH_NEG,		/* dst = -dst */
	SH_END,		/* byte swap / order of dst, width in imm */
	SH_LDDW,	/* dst = imm64 (two slots; src picks a pseudo kind) */
	SH_LDX,		/* dst = *(size *)(src + off) */
	SH_ST,		/* *(size *)(dst + off) = imm */
	SH_STX,		/* *(size *)(dst + off) = src */
	SH_ATOMIC,	/* atomic imm-op on *(size *)(dst + off) with src */
	SH_LDABS,	/* r0 = ntoh(*(size *)(pkt + imm)) */
	SH_LDIND,	/* r0 = ntoh(*(size *)(pkt + src + imm)) */
	SH_JA,		/* goto +off */
	SH_JA32,	/* goto +imm (gotol) */
	SH_JCOND_IMM,	/* if dst op imm goto +off */
	SH_JCOND_REG,	/* if dst op src goto +off */
	SH_CALL,	/* call helper imm */
	SH_CALL_LOCAL,	/* call the function at +imm */
	SH_CALLX,	/* call helper whose id is in dst */
	SH_EXIT,
	SH_MAY_GOTO,	/* goto +off once the loop budget is spent (BPF_JCOND) */
};

/* Which field, beyond the opcode byte, tells forms apart. */
enum isa_disc { D_NONE, D_OFF, D_IMM, D_SRC };

/* RFC 9669 conformance groups. */
enum {
	G_BASE32 = 1 << 0, G_BASE64 = 1 << 1, G_ATOMIC32 = 1 << 2,
	G_ATOMIC64 = 1 << 3, G_DIVMUL32 = 1 << 4, G_DIVMUL64 = 1 << 5,
	G_PACKET = 1 << 6, G_CALLX = 1 << 7,
};

/*
 * Every instruction form bpfrt knows, one per line:
 *   X(id, opcode, discriminating field, its value, mnemonic, shape, cpu, group)
 * Decoding, validation, the assembler, the disassembler and the interpreter's
 * dispatch are all derived from this list; nothing else enumerates opcodes.
 */
#define ISA_FORMS(X) \
	/* ALU64 */ \
	X(ADD64_IMM,  0x07, D_NONE, 0,  "add",      SH_ALU_IMM, 1, G_BASE64) \
	X(ADD64_REG,  0x0f, D_NONE, 0,  "add",      SH_ALU_REG, 1, G_BASE64) \
	X(SUB64_IMM,  0x17, D_NONE, 0,  "sub",      SH_ALU_IMM, 1, G_BASE64) \
	X(SUB64_REG,  0x1f, D_NONE, 0,  "sub",      SH_ALU_REG, 1, G_BASE64) \
	X(MUL64_IMM,  0x27, D_NONE, 0,  "mul",      SH_ALU_IMM, 1, G_DIVMUL64) \
	X(MUL64_REG,  0x2f, D_NONE, 0,  "mul",      SH_ALU_REG, 1, G_DIVMUL64) \
	X(DIV64_IMM,  0x37, D_OFF,  0,  "div",      SH_ALU_IMM, 1, G_DIVMUL64) \
	X(DIV64_REG,  0x3f, D_OFF,  0,  "div",      SH_ALU_REG, 1, G_DIVMUL64) \
	X(SDIV64_IMM, 0x37, D_OFF,  1,  "sdiv",     SH_ALU_IMM, 4, G_DIVMUL64) \
	X(SDIV64_REG, 0x3f, D_OFF,  1,  "sdiv",     SH_ALU_REG, 4, G_DIVMUL64) \
	X(OR64_IMM,   0x47, D_NONE, 0,  "or",       SH_ALU_IMM, 1, G_BASE64) \
	X(OR64_REG,   0x4f, D_NONE, 0,  "or",       SH_ALU_REG, 1, G_BASE64) \
	X(AND64_IMM,  0x57, D_NONE, 0,  "and",      SH_ALU_IMM, 1, G_BASE64) \
	X(AND64_REG,  0x5f, D_NONE, 0,  "and",      SH_ALU_REG, 1, G_BASE64) \
	X(LSH64_IMM,  0x67, D_NONE, 0,  "lsh",      SH_ALU_IMM, 1, G_BASE64) \
	X(LSH64_REG,  0x6f, D_NONE, 0,  "lsh",      SH_ALU_REG, 1, G_BASE64) \
	X(RSH64_IMM,  0x77, D_NONE, 0,  "rsh",      SH_ALU_IMM, 1, G_BASE64) \
	X(RSH64_REG,  0x7f, D_NONE, 0,  "rsh",      SH_ALU_REG, 1, G_BASE64) \
	X(NEG64,      0x87, D_NONE, 0,  "neg",      SH_NEG,     1, G_BASE64) \
	X(MOD64_IMM,  0x97, D_OFF,  0,  "mod",      SH_ALU_IMM, 1, G_DIVMUL64) \
	X(MOD64_REG,  0x9f, D_OFF,  0,  "mod",      SH_ALU_REG, 1, G_DIVMUL64) \
	X(SMOD64_IMM, 0x97, D_OFF,  1,  "smod",     SH_ALU_IMM, 4, G_DIVMUL64) \
	X(SMOD64_REG, 0x9f, D_OFF,  1,  "smod",     SH_ALU_REG, 4, G_DIVMUL64) \
	X(XOR64_IMM,  0xa7, D_NONE, 0,  "xor",      SH_ALU_IMM, 1, G_BASE64) \
	X(XOR64_REG,  0xaf, D_NONE, 0,  "xor",      SH_ALU_REG, 1, G_BASE64) \
	X(MOV64_IMM,  0xb7, D_NONE, 0,  "mov",      SH_ALU_IMM, 1, G_BASE64) \
	X(MOV64_REG,  0xbf, D_OFF,  0,  "mov",      SH_ALU_REG, 1, G_BASE64) \
	X(MOVSX864,   0xbf, D_OFF,  8,  "movsx864", SH_ALU_REG, 4, G_BASE64) \
	X(MOVSX1664,  0xbf, D_OFF,  16, "movsx1664", SH_ALU_REG, 4, G_BASE64) \
	X(MOVSX3264,  0xbf, D_OFF,  32, "movsx3264", SH_ALU_REG, 4, G_BASE64) \
	X(ARSH64_IMM, 0xc7, D_NONE, 0,  "arsh",     SH_ALU_IMM, 1, G_BASE64) \
	X(ARSH64_REG, 0xcf, D_NONE, 0,  "arsh",     SH_ALU_REG, 1, G_BASE64) \
	X(BSWAP16,    0xd7, D_IMM,  16, "bswap16",  SH_END,     4, G_BASE32) \
	X(BSWAP32,    0xd7, D_IMM,  32, "bswap32",  SH_END,     4, G_BASE32) \
	X(BSWAP64,    0xd7, D_IMM,  64, "bswap64",  SH_END,     4, G_BASE64) \
	/* ALU (32-bit: the upper half of dst becomes zero) */ \
	X(ADD32_IMM,  0x04, D_NONE, 0,  "add32",    SH_ALU_IMM, 1, G_BASE32) \
	X(ADD32_REG,  0x0c, D_NONE, 0,  "add32",    SH_ALU_REG, 1, G_BASE32) \
	X(SUB32_IMM,  0x14, D_NONE, 0,  "sub32",    SH_ALU_IMM, 1, G_BASE32) \
	X(SUB32_REG,  0x1c, D_NONE, 0,  "sub32",    SH_ALU_REG, 1, G_BASE32) \
	X(MUL32_IMM,  0x24, D_NONE, 0,  "mul32",    SH_ALU_IMM, 1, G_DIVMUL32) \
	X(MUL32_REG,  0x2c, D_NONE, 0,  "mul32",    SH_ALU_REG, 1, G_DIVMUL32) \
	X(DIV32_IMM,  0x34, D_OFF,  0,  "div32",    SH_ALU_IMM, 1, G_DIVMUL32) \
	X(DIV32_REG,  0x3c, D_OFF,  0,  "div32",    SH_ALU_REG, 1, G_DIVMUL32) \
	X(SDIV32_IMM, 0x34, D_OFF,  1,  "sdiv32",   SH_ALU_IMM, 4, G_DIVMUL32) \
	X(SDIV32_REG, 0x3c, D_OFF,  1,  "sdiv32",   SH_ALU_REG, 4, G_DIVMUL32) \
	X(OR32_IMM,   0x44, D_NONE, 0,  "or32",     SH_ALU_IMM, 1, G_BASE32) \
	X(OR32_REG,   0x4c, D_NONE, 0,  "or32",     SH_ALU_REG, 1, G_BASE32) \
	X(AND32_IMM,  0x54, D_NONE, 0,  "and32",    SH_ALU_IMM, 1, G_BASE32) \
	X(AND32_REG,  0x5c, D_NONE, 0,  "and32",    SH_ALU_REG, 1, G_BASE32) \
	X(LSH32_IMM,  0x64, D_NONE, 0,  "lsh32",    SH_ALU_IMM, 1, G_BASE32) \
	X(LSH32_REG,  0x6c, D_NONE, 0,  "lsh32",    SH_ALU_REG, 1, G_BASE32) \
	X(RSH32_IMM,  0x74, D_NONE, 0,  "rsh32",    SH_ALU_IMM, 1, G_BASE32) \
	X(RSH32_REG,  0x7c, D_NONE, 0,  "rsh32",    SH_ALU_REG, 1, G_BASE32) \
	X(NEG32,      0x84, D_NONE, 0,  "neg32",    SH_NEG,     1, G_BASE32) \
	X(MOD32_IMM,  0x94, D_OFF,  0,  "mod32",    SH_ALU_IMM, 1, G_DIVMUL32) \
	X(MOD32_REG,  0x9c, D_OFF,  0,  "mod32",    SH_ALU_REG, 1, G_DIVMUL32) \
	X(SMOD32_IMM, 0x94, D_OFF,  1,  "smod32",   SH_ALU_IMM, 4, G_DIVMUL32) \
	X(SMOD32_REG, 0x9c, D_OFF,  1,  "smod32",   SH_ALU_REG, 4, G_DIVMUL32) \
	X(XOR32_IMM,  0xa4, D_NONE, 0,  "xor32",    SH_ALU_IMM, 1, G_BASE32) \
	X(XOR32_REG,  0xac, D_NONE, 0,  "xor32",    SH_ALU_REG, 1, G_BASE32) \
	X(MOV32_IMM,  0xb4, D_NONE, 0,  "mov32",    SH_ALU_IMM, 1, G_BASE32) \
	X(MOV32_REG,  0xbc, D_OFF,  0,  "mov32",    SH_ALU_REG, 1, G_BASE32) \
	X(MOVSX832,   0xbc, D_OFF,  8,  "movsx832", SH_ALU_REG, 4, G_BASE32) \
	X(MOVSX1632,  0xbc, D_OFF,  16, "movsx1632", SH_ALU_REG, 4, G_BASE32) \
	X(ARSH32_IMM, 0xc4, D_NONE, 0,  "arsh32",   SH_ALU_IMM, 1, G_BASE32) \
	X(ARSH32_REG, 0xcc, D_NONE, 0,  "arsh32",   SH_ALU_REG, 1, G_BASE32) \
	X(LE16,       0xd4, D_IMM,  16, "le16",     SH_END,     1, G_BASE32) \
	X(LE32,       0xd4, D_IMM,  32, "le32",     SH_END,     1, G_BASE32) \
	X(LE64,       0xd4, D_IMM,  64, "le64",     SH_END,     1, G_BASE64) \
	X(BE16,       0xdc, D_IMM,  16, "be16",     SH_END,     1, G_BASE32) \
	X(BE32,       0xdc, D_IMM,  32, "be32",     SH_END,     1, G_BASE32) \
	X(BE64,       0xdc, D_IMM,  64, "be64",     SH_END,     1, G_BASE64) \
	/* LD: 64-bit immediates and the legacy packet loads */ \
	X(LDDW,       0x18, D_SRC,  0,  "lddw",     SH_LDDW,    1, G_BASE64) \
	X(LDDW_MAP_FD, 0x18, D_SRC, 1,  "lddw",     SH_LDDW,    1, G_BASE64) \
	X(LDDW_MAP_VALUE, 0x18, D_SRC, 2, "lddw",   SH_LDDW,    1, G_BASE64) \
	X(LDDW_BTF_ID, 0x18, D_SRC, 3,  "lddw",     SH_LDDW,    1, G_BASE64) \
	X(LDDW_FUNC,  0x18, D_SRC,  4,  "lddw",     SH_LDDW,    1, G_BASE64) \
	X(LDDW_MAP_IDX, 0x18, D_SRC, 5, "lddw",     SH_LDDW,    1, G_BASE64) \
	X(LDDW_MAP_IDX_VALUE, 0x18, D_SRC, 6, "lddw", SH_LDDW,  1, G_BASE64) \
	X(LDABSW,     0x20, D_NONE, 0,  "ldabsw",   SH_LDABS,   1, G_PACKET) \
	X(LDABSH,     0x28, D_NONE, 0,  "ldabsh",   SH_LDABS,   1, G_PACKET) \
	X(LDABSB,     0x30, D_NONE, 0,  "ldabsb",   SH_LDABS,   1, G_PACKET) \
	X(LDINDW,     0x40, D_NONE, 0,  "ldindw",   SH_LDIND,   1, G_PACKET) \
	X(LDINDH,     0x48, D_NONE, 0,  "ldindh",   SH_LDIND,   1, G_PACKET) \
	X(LDINDB,     0x50, D_NONE, 0,  "ldindb",   SH_LDIND,   1, G_PACKET) \
	/* LDX, including sign-extending loads */ \
	X(LDXW,       0x61, D_NONE, 0,  "ldxw",     SH_LDX,     1, G_BASE32) \
	X(LDXH,       0x69, D_NONE, 0,  "ldxh",     SH_LDX,     1, G_BASE32) \
	X(LDXB,       0x71, D_NONE, 0,  "ldxb",     SH_LDX,     1, G_BASE32) \
	X(LDXDW,      0x79, D_NONE, 0,  "ldxdw",    SH_LDX,     1, G_BASE64) \
	X(LDXSW,      0x81, D_NONE, 0,  "ldxsw",    SH_LDX,     4, G_BASE64) \
	X(LDXSH,      0x89, D_NONE, 0,  "ldxsh",    SH_LDX,     4, G_BASE32) \
	X(LDXSB,      0x91, D_NONE, 0,  "ldxsb",    SH_LDX,     4, G_BASE32) \
	/* ST and STX */ \
	X(STW,        0x62, D_NONE, 0,  "stw",      SH_ST,      1, G_BASE32) \
	X(STH,        0x6a, D_NONE, 0,  "sth",      SH_ST,      1, G_BASE32) \
	X(STB,        0x72, D_NONE, 0,  "stb",      SH_ST,      1, G_BASE32) \
	X(STDW,       0x7a, D_NONE, 0,  "stdw",     SH_ST,      1, G_BASE64) \
	X(STXW,       0x63, D_NONE, 0,  "stxw",     SH_STX,     1, G_BASE32) \
	X(STXH,       0x6b, D_NONE, 0,  "stxh",     SH_STX,     1, G_BASE32) \
	X(STXB,       0x73, D_NONE, 0,  "stxb",     SH_STX,     1, G_BASE32) \
	X(STXDW,      0x7b, D_NONE, 0,  "stxdw",    SH_STX,     1, G_BASE64) \
	/* Atomics (imm picks the operation) */ \
	X(AADD32,     0xc3, D_IMM, 0x00, "lock add32",       SH_ATOMIC, 1, G_ATOMIC32) \
	X(AOR32,      0xc3, D_IMM, 0x40, "lock or32",        SH_ATOMIC, 3, G_ATOMIC32) \
	X(AAND32,     0xc3, D_IMM, 0x50, "lock and32",       SH_ATOMIC, 3, G_ATOMIC32) \
	X(AXOR32,     0xc3, D_IMM, 0xa0, "lock xor32",       SH_ATOMIC, 3, G_ATOMIC32) \
	X(AFADD32,    0xc3, D_IMM, 0x01, "lock fetch add32", SH_ATOMIC, 3, G_ATOMIC32) \
	X(AFOR32,     0xc3, D_IMM, 0x41, "lock fetch or32",  SH_ATOMIC, 3, G_ATOMIC32) \
	X(AFAND32,    0xc3, D_IMM, 0x51, "lock fetch and32", SH_ATOMIC, 3, G_ATOMIC32) \
	X(AFXOR32,    0xc3, D_IMM, 0xa1, "lock fetch xor32", SH_ATOMIC, 3, G_ATOMIC32) \
	X(AXCHG32,    0xc3, D_IMM, 0xe1, "lock xchg32",      SH_ATOMIC, 3, G_ATOMIC32) \
	X(ACMPXCHG32, 0xc3, D_IMM, 0xf1, "lock cmpxchg32",   SH_ATOMIC, 3, G_ATOMIC32) \
	X(AADD64,     0xdb, D_IMM, 0x00, "lock add",         SH_ATOMIC, 1, G_ATOMIC64) \
	X(AOR64,      0xdb, D_IMM, 0x40, "lock or",          SH_ATOMIC, 3, G_ATOMIC64) \
	X(AAND64,     0xdb, D_IMM, 0x50, "lock and",         SH_ATOMIC, 3, G_ATOMIC64) \
	X(AXOR64,     0xdb, D_IMM, 0xa0, "lock xor",         SH_ATOMIC, 3, G_ATOMIC64) \
	X(AFADD64,    0xdb, D_IMM, 0x01, "lock fetch add",   SH_ATOMIC, 3, G_ATOMIC64) \
	X(AFOR64,     0xdb, D_IMM, 0x41, "lock fetch or",    SH_ATOMIC, 3, G_ATOMIC64) \
	X(AFAND64,    0xdb, D_IMM, 0x51, "lock fetch and",   SH_ATOMIC, 3, G_ATOMIC64) \
	X(AFXOR64,    0xdb, D_IMM, 0xa1, "lock fetch xor",   SH_ATOMIC, 3, G_ATOMIC64) \
	X(AXCHG64,    0xdb, D_IMM, 0xe1, "lock xchg",        SH_ATOMIC, 3, G_ATOMIC64) \
	X(ACMPXCHG64, 0xdb, D_IMM, 0xf1, "lock cmpxchg",     SH_ATOMIC, 3, G_ATOMIC64) \
	/* JMP (64-bit comparisons) */ \
	X(JA,         0x05, D_NONE, 0,  "ja",       SH_JA,        1, G_BASE32) \
	X(JEQ_IMM,    0x15, D_NONE, 0,  "jeq",      SH_JCOND_IMM, 1, G_BASE64) \
	X(JEQ_REG,    0x1d, D_NONE, 0,  "jeq",      SH_JCOND_REG, 1, G_BASE64) \
	X(JGT_IMM,    0x25, D_NONE, 0,  "jgt",      SH_JCOND_IMM, 1, G_BASE64) \
	X(JGT_REG,    0x2d, D_NONE, 0,  "jgt",      SH_JCOND_REG, 1, G_BASE64) \
	X(JGE_IMM,    0x35, D_NONE, 0,  "jge",      SH_JCOND_IMM, 1, G_BASE64) \
	X(JGE_REG,    0x3d, D_NONE, 0,  "jge",      SH_JCOND_REG, 1, G_BASE64) \
	X(JSET_IMM,   0x45, D_NONE, 0,  "jset",     SH_JCOND_IMM, 1, G_BASE64) \
	X(JSET_REG,   0x4d, D_NONE, 0,  "jset",     SH_JCOND_REG, 1, G_BASE64) \
	X(JNE_IMM,    0x55, D_NONE, 0,  "jne",      SH_JCOND_IMM, 1, G_BASE64) \
	X(JNE_REG,    0x5d, D_NONE, 0,  "jne",      SH_JCOND_REG, 1, G_BASE64) \
	X(JSGT_IMM,   0x65, D_NONE, 0,  "jsgt",     SH_JCOND_IMM, 1, G_BASE64) \
	X(JSGT_REG,   0x6d, D_NONE, 0,  "jsgt",     SH_JCOND_REG, 1, G_BASE64) \
	X(JSGE_IMM,   0x75, D_NONE, 0,  "jsge",     SH_JCOND_IMM, 1, G_BASE64) \
	X(JSGE_REG,   0x7d, D_NONE, 0,  "jsge",     SH_JCOND_REG, 1, G_BASE64) \
	X(JLT_IMM,    0xa5, D_NONE, 0,  "jlt",      SH_JCOND_IMM, 2, G_BASE64) \
	X(JLT_REG,    0xad, D_NONE, 0,  "jlt",      SH_JCOND_REG, 2, G_BASE64) \
	X(JLE_IMM,    0xb5, D_NONE, 0,  "jle",      SH_JCOND_IMM, 2, G_BASE64) \
	X(JLE_REG,    0xbd, D_NONE, 0,  "jle",      SH_JCOND_REG, 2, G_BASE64) \
	X(JSLT_IMM,   0xc5, D_NONE, 0,  "jslt",     SH_JCOND_IMM, 2, G_BASE64) \
	X(JSLT_REG,   0xcd, D_NONE, 0,  "jslt",     SH_JCOND_REG, 2, G_BASE64) \
	X(JSLE_IMM,   0xd5, D_NONE, 0,  "jsle",     SH_JCOND_IMM, 2, G_BASE64) \
	X(JSLE_REG,   0xdd, D_NONE, 0,  "jsle",     SH_JCOND_REG, 2, G_BASE64) \
	X(CALL,       0x85, D_SRC,  0,  "call",     SH_CALL,      1, G_BASE32) \
	X(CALL_LOCAL, 0x85, D_SRC,  1,  "call",     SH_CALL_LOCAL, 1, G_BASE32) \
	X(CALLX,      0x8d, D_NONE, 0,  "call",     SH_CALLX,     1, G_CALLX) \
	X(EXIT,       0x95, D_NONE, 0,  "exit",     SH_EXIT,      1, G_BASE32) \
	X(MAY_GOTO,   0xe5, D_NONE, 0,  "may_goto", SH_MAY_GOTO,  1, G_BASE32) \
	/* JMP32 (32-bit comparisons) */ \
	X(JA32,       0x06, D_NONE, 0,  "ja32",     SH_JA32,      4, G_BASE32) \
	X(JEQ32_IMM,  0x16, D_NONE, 0,  "jeq32",    SH_JCOND_IMM, 3, G_BASE32) \
	X(JEQ32_REG,  0x1e, D_NONE, 0,  "jeq32",    SH_JCOND_REG, 3, G_BASE32) \
	X(JGT32_IMM,  0x26, D_NONE, 0,  "jgt32",    SH_JCOND_IMM, 3, G_BASE32) \
	X(JGT32_REG,  0x2e, D_NONE, 0,  "jgt32",    SH_JCOND_REG, 3, G_BASE32) \
	X(JGE32_IMM,  0x36, D_NONE, 0,  "jge32",    SH_JCOND_IMM, 3, G_BASE32) \
	X(JGE32_REG,  0x3e, D_NONE, 0,  "jge32",    SH_JCOND_REG, 3, G_BASE32) \
	X(JSET32_IMM, 0x46, D_NONE, 0,  "jset32",   SH_JCOND_IMM, 3, G_BASE32) \
	X(JSET32_REG, 0x4e, D_NONE, 0,  "jset32",   SH_JCOND_REG, 3, G_BASE32) \
	X(JNE32_IMM,  0x56, D_NONE, 0,  "jne32",    SH_JCOND_IMM, 3, G_BASE32) \
	X(JNE32_REG,  0x5e, D_NONE, 0,  "jne32",    SH_JCOND_REG, 3, G_BASE32) \
	X(JSGT32_IMM, 0x66, D_NONE, 0,  "jsgt32",   SH_JCOND_IMM, 3, G_BASE32) \
	X(JSGT32_REG, 0x6e, D_NONE, 0,  "jsgt32",   SH_JCOND_REG, 3, G_BASE32) \
	X(JSGE32_IMM, 0x76, D_NONE, 0,  "jsge32",   SH_JCOND_IMM, 3, G_BASE32) \
	X(JSGE32_REG, 0x7e, D_NONE, 0,  "jsge32",   SH_JCOND_REG, 3, G_BASE32) \
	X(JLT32_IMM,  0xa6, D_NONE, 0,  "jlt32",    SH_JCOND_IMM, 3, G_BASE32) \
	X(JLT32_REG,  0xae, D_NONE, 0,  "jlt32",    SH_JCOND_REG, 3, G_BASE32) \
	X(JLE32_IMM,  0xb6, D_NONE, 0,  "jle32",    SH_JCOND_IMM, 3, G_BASE32) \
	X(JLE32_REG,  0xbe, D_NONE, 0,  "jle32",    SH_JCOND_REG, 3, G_BASE32) \
	X(JSLT32_IMM, 0xc6, D_NONE, 0,  "jslt32",   SH_JCOND_IMM, 3, G_BASE32) \
	X(JSLT32_REG, 0xce, D_NONE, 0,  "jslt32",   SH_JCOND_REG, 3, G_BASE32) \
	X(JSLE32_IMM, 0xd6, D_NONE, 0,  "jsle32",   SH_JCOND_IMM, 3, G_BASE32) \
	X(JSLE32_REG, 0xde, D_NONE, 0,  "jsle32",   SH_JCOND_REG, 3, G_BASE32)

enum isa_form_id {
#define ISA_ENUM(id, ...) ISA_##id,
	ISA_FORMS(ISA_ENUM)
#undef ISA_ENUM
	ISA_NFORMS,
	ISA_INVALID = ISA_NFORMS,
};

struct isa_form {
	uint8_t code;
	uint8_t disc;		/* enum isa_disc */
	int32_t dval;		/* value of the discriminating field */
	const char *mnem;
	uint8_t shape;		/* enum isa_shape */
	uint8_t cpu;		/* first cpu version that has it */
	uint8_t group;
};

extern const struct isa_form isa_forms[ISA_NFORMS];

/* Operation of an ALU / JMP / atomic form (BPF_OP bits, or imm for atomics). */
static inline unsigned isa_op(uint8_t code) { return BPF_OP(code); }
/* Access size in bytes of a load, store or atomic form. */
static inline unsigned isa_size(uint8_t code)
{
	static const uint8_t bytes[4] = { 4, 2, 1, 8 };
	return bytes[BPF_SIZE(code) >> 3];
}
static inline int isa_is_alu32(uint8_t code) { return BPF_CLASS(code) == BPF_ALU; }
static inline int isa_is_jmp32(uint8_t code) { return BPF_CLASS(code) == BPF_JMP32; }

/* Which form is this instruction? ISA_INVALID if none (fields unchecked). */
enum isa_form_id isa_decode(const struct bpfrt_insn *insn);

/* The 64-bit immediate of the lddw at slot i (which has a slot after it). */
static inline uint64_t isa_imm64(const struct bpfrt_insn *insn)
{
	return (uint64_t)(uint32_t)insn[0].imm | (uint64_t)(uint32_t)insn[1].imm << 32;
}

/* Does the shape jump (conditionally or not) within its function? */
static inline int isa_shape_jumps(unsigned shape)
{
	return shape == SH_JA || shape == SH_JA32 || shape == SH_JCOND_IMM ||
	       shape == SH_JCOND_REG || shape == SH_MAY_GOTO;
}

/* Target slot of a jump or local call at slot i. */
int64_t isa_branch_target(const struct bpfrt_insn *insns, size_t i);

/*
 * Structural validation of a whole program (what bpfrt_prog_new checks).
 * cpu is 1..4. Returns 0, or a negative errno with err filled in.
 */
int isa_validate(const struct bpfrt_insn *insns, size_t n, unsigned cpu,
		 struct bpfrt_error *err);

/* Disassembly into buf (bpftool's notation); returns slots used or -EINVAL. */
int isa_disasm(const struct bpfrt_insn *insns, size_t n, size_t i, char *buf,
	       size_t len);

#endif /* BPFRT_ISA_H */
