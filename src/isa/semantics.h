/* semantics.h — what each eBPF operation computes, written once for every engine.
 *
 * The interpreter calls these with constant operations, so each of its
 * handlers compiles to the bare operation; the verifier uses them to fold
 * constants and the JIT's tests compare against them. Semantics follow the
 * Linux kernel (and RFC 9669 where it is silent): division by zero gives 0,
 * modulo by zero leaves the dividend, INT_MIN / -1 gives INT_MIN and
 * INT_MIN % -1 gives 0, shift amounts are masked to the operand width, and
 * every 32-bit operation zero-extends its result to 64 bits.
 */
#ifndef BPFRT_SEMANTICS_H
#define BPFRT_SEMANTICS_H

#include <stdbool.h>
#include <stdint.h>

#include "isa.h"

/* Signed-ness of DIV and MOD comes from the offset field (v4). */
enum { SEM_UNSIGNED = 0, SEM_SIGNED = 1 };

static inline __attribute__((always_inline)) uint64_t
sem_alu64(unsigned op, unsigned sign, uint64_t a, uint64_t b)
{
	switch (op) {
	case BPF_ADD:  return a + b;
	case BPF_SUB:  return a - b;
	case BPF_MUL:  return a * b;
	case BPF_OR:   return a | b;
	case BPF_AND:  return a & b;
	case BPF_XOR:  return a ^ b;
	case BPF_LSH:  return a << (b & 63);
	case BPF_RSH:  return a >> (b & 63);
	case BPF_ARSH: return (uint64_t)((int64_t)a >> (b & 63));
	case BPF_NEG:  return -a;
	case BPF_MOV:  return b;
	case BPF_DIV:
		if (b == 0)
			return 0;
		if (!sign)
			return a / b;
		if ((int64_t)b == -1)
			return -a;	/* INT64_MIN / -1 wraps to INT64_MIN */
		return (uint64_t)((int64_t)a / (int64_t)b);
	case BPF_MOD:
		if (b == 0)
			return a;
		if (!sign)
			return a % b;
		if ((int64_t)b == -1)
			return 0;
		return (uint64_t)((int64_t)a % (int64_t)b);
	}
	__builtin_unreachable();
}

static inline __attribute__((always_inline)) uint64_t
sem_alu32(unsigned op, unsigned sign, uint64_t a64, uint64_t b64)
{
	uint32_t a = (uint32_t)a64, b = (uint32_t)b64;

	switch (op) {
	case BPF_ADD:  return (uint32_t)(a + b);
	case BPF_SUB:  return (uint32_t)(a - b);
	case BPF_MUL:  return (uint32_t)(a * b);
	case BPF_OR:   return a | b;
	case BPF_AND:  return a & b;
	case BPF_XOR:  return a ^ b;
	case BPF_LSH:  return (uint32_t)(a << (b & 31));
	case BPF_RSH:  return a >> (b & 31);
	case BPF_ARSH: return (uint32_t)((int32_t)a >> (b & 31));
	case BPF_NEG:  return (uint32_t)-a;
	case BPF_MOV:  return b;
	case BPF_DIV:
		if (b == 0)
			return 0;
		if (!sign)
			return a / b;
		if ((int32_t)b == -1)
			return (uint32_t)-a;
		return (uint32_t)((int32_t)a / (int32_t)b);
	case BPF_MOD:
		if (b == 0)
			return a;
		if (!sign)
			return a % b;
		if ((int32_t)b == -1)
			return 0;
		return (uint32_t)((int32_t)a % (int32_t)b);
	}
	__builtin_unreachable();
}

/* movsx: sign-extend the low `bits` of a, to 64 bits or (alu32) to 32. */
static inline __attribute__((always_inline)) uint64_t
sem_movsx(bool alu32, unsigned bits, uint64_t a)
{
	int64_t v = bits == 8 ? (int8_t)a : bits == 16 ? (int16_t)a : (int32_t)a;

	return alu32 ? (uint32_t)v : (uint64_t)v;
}

/* le/be (ALU class) and bswap (ALU64 class); bpfrt runs on little-endian hosts. */
static inline __attribute__((always_inline)) uint64_t
sem_end(bool swap, unsigned bits, uint64_t a)
{
	switch (bits) {
	case 16: return swap ? __builtin_bswap16((uint16_t)a) : (uint16_t)a;
	case 32: return swap ? __builtin_bswap32((uint32_t)a) : (uint32_t)a;
	default: return swap ? __builtin_bswap64(a) : a;
	}
}

/* Conditional jumps: 64-bit compare, or (jmp32) on the low halves. */
static inline __attribute__((always_inline)) bool
sem_jcond(unsigned op, bool jmp32, uint64_t a, uint64_t b)
{
	if (jmp32) {
		a = (uint32_t)a;
		b = (uint32_t)b;
	}
	int64_t sa = jmp32 ? (int32_t)a : (int64_t)a;
	int64_t sb = jmp32 ? (int32_t)b : (int64_t)b;

	switch (op) {
	case BPF_JEQ:  return a == b;
	case BPF_JNE:  return a != b;
	case BPF_JGT:  return a > b;
	case BPF_JGE:  return a >= b;
	case BPF_JLT:  return a < b;
	case BPF_JLE:  return a <= b;
	case BPF_JSET: return (a & b) != 0;
	case BPF_JSGT: return sa > sb;
	case BPF_JSGE: return sa >= sb;
	case BPF_JSLT: return sa < sb;
	case BPF_JSLE: return sa <= sb;
	}
	__builtin_unreachable();
}

/* Sign-extending load of `size` bytes already read as an unsigned value. */
static inline __attribute__((always_inline)) uint64_t
sem_sext(unsigned size, uint64_t v)
{
	return size == 1 ? (uint64_t)(int8_t)v : size == 2 ? (uint64_t)(int16_t)v
							   : (uint64_t)(int32_t)v;
}

/*
 * The ALU operation of a whole form, from its opcode byte and the value of
 * its discriminating field (off: 1 = signed div/mod, 8/16/32 = movsx width).
 */
static inline __attribute__((always_inline)) uint64_t
sem_alu_form(uint8_t code, int32_t dval, uint64_t a, uint64_t b)
{
	unsigned op = BPF_OP(code);
	bool is32 = BPF_CLASS(code) == BPF_ALU;
	unsigned sign = (op == BPF_DIV || op == BPF_MOD) && dval == 1;

	if (op == BPF_MOV && dval)
		return sem_movsx(is32, (unsigned)dval, b);
	return is32 ? sem_alu32(op, sign, a, b) : sem_alu64(op, sign, a, b);
}

/* The immediate operand of an ALU or JMP form, as the operation sees it. */
static inline uint64_t sem_imm(bool is32, int32_t imm)
{
	return is32 ? (uint32_t)imm : (uint64_t)(int64_t)imm;
}

#endif /* BPFRT_SEMANTICS_H */
