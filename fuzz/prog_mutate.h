/* prog_mutate.h — mutations of real programs, driven by bytes: immediates, offsets, registers, opcodes, jumps, NULL checks, bounds, moved instructions. */
#ifndef BPFRT_PROG_MUTATE_H
#define BPFRT_PROG_MUTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bpfrt.h"
#include "isa/isa.h"

/*
 * A mutation never splits an lddw pair and keeps every pc-relative
 * reference (jumps, local calls, lddw of a function) pointing at the same
 * instruction when instructions move; what it changes is one field or one
 * instruction's place. The result need not be valid: bpfrt_prog_new and the
 * verifier decide.
 */

/* The bytes that drive the mutations; reading past the end gives zeros. */
struct mbytes {
	const uint8_t *p;
	size_t n, i;
};

static inline uint8_t mb_u8(struct mbytes *b)
{
	return b->i < b->n ? b->p[b->i++] : 0;
}

static inline uint32_t mb_u32(struct mbytes *b)
{
	uint32_t v = mb_u8(b);

	v |= (uint32_t)mb_u8(b) << 8;
	v |= (uint32_t)mb_u8(b) << 16;
	return v | (uint32_t)mb_u8(b) << 24;
}

static inline uint32_t mb_below(struct mbytes *b, uint32_t n)
{
	uint32_t v = (uint32_t)mb_u8(b) | (uint32_t)mb_u8(b) << 8;

	return n ? v % n : 0;
}

enum mut_kind {
	MUT_IMM, MUT_OFF, MUT_REG, MUT_OP, MUT_SIZE, MUT_TARGET, MUT_NULL_FLIP, MUT_WIDEN,
	MUT_SWAP, MUT_DELETE, MUT_DUP, MUT_MAP, MUT_HELPER, MUT_NKINDS
};

static const char *const mut_names[MUT_NKINDS] = {
	"immediate", "offset", "register", "opcode", "access size", "jump target",
	"NULL check flipped", "bound widened", "swap", "delete", "duplicate", "map",
	"helper",
};

static const int32_t mut_imms[] = {
	0, 1, -1, 2, 3, 4, 7, 8, 14, 15, 16, 31, 32, 33, 34, 63, 64, 255, 256, 4095, 4096,
	65535, 0x7fffffff, (int32_t)0x80000000, -2, -4, -8, -16, -512, 511, 512, 1500, 54, 60,
};

/* Helper ids the corpus programs call, and neighbours: a call of another one is a type change. */
static const int32_t mut_helpers[] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 23, 25, 26, 27, 28, 34, 35, 44,
	51, 65, 67, 113, 130, 131, 132, 133, 181, 164,
};

static inline unsigned mut_shape(const struct bpfrt_insn *in)
{
	return isa_forms[isa_decode(in)].shape;
}

static inline bool mut_is_lddw(const struct bpfrt_insn *in)
{
	return in->code == 0x18;
}

/* Does the instruction hold a pc-relative reference, in off (false: in imm)? */
static inline bool mut_relative(const struct bpfrt_insn *in, bool *in_off)
{
	uint8_t cls = in->code & 7;

	if (mut_is_lddw(in)) {
		*in_off = false;
		return in->src_reg == BPF_PSEUDO_FUNC;
	}
	if (cls != BPF_JMP && cls != BPF_JMP32)
		return false;
	if (BPF_OP(in->code) == BPF_EXIT)
		return false;
	if (BPF_OP(in->code) == BPF_CALL) {
		*in_off = false;
		return in->src_reg == BPF_PSEUDO_CALL;
	}
	/* gotol (JMP32 | JA) has its offset in imm */
	*in_off = !(cls == BPF_JMP32 && BPF_OP(in->code) == BPF_JA);
	return true;
}

static inline int64_t mut_target(const struct bpfrt_insn *in, size_t i)
{
	bool in_off;

	if (!mut_relative(in, &in_off))
		return -1;
	return (int64_t)i + 1 + (in_off ? in->off : in->imm);
}

static inline bool mut_set_target(struct bpfrt_insn *in, size_t i, int64_t t)
{
	bool in_off;
	int64_t d = t - (int64_t)i - 1;

	if (!mut_relative(in, &in_off))
		return true;
	if (in_off) {
		if (d < INT16_MIN || d > INT16_MAX)
			return false;
		in->off = (int16_t)d;
	} else {
		in->imm = (int32_t)d;
	}
	return true;
}

/*
 * Pick an instruction (not an lddw's second slot) for which want() holds,
 * scanning from a byte-chosen start; -1 if none.
 */
static inline long mut_pick(const struct bpfrt_insn *p, size_t n, struct mbytes *b,
			    bool (*want)(const struct bpfrt_insn *in))
{
	size_t start = mb_below(b, (uint32_t)n);

	for (size_t k = 0; k < n; k++) {
		size_t i = (start + k) % n;

		if (i > 0 && mut_is_lddw(&p[i - 1]))
			continue;	/* an lddw's second slot (mutations never make code 0x18) */
		if (!want || want(&p[i]))
			return (long)i;
	}
	return -1;
}

static inline bool want_imm(const struct bpfrt_insn *in)
{
	unsigned cls = in->code & 7;

	if (mut_is_lddw(in))
		return in->src_reg == 0;
	if (cls == BPF_ALU || cls == BPF_ALU64 || cls == BPF_JMP || cls == BPF_JMP32)
		return BPF_SRC(in->code) == BPF_K && BPF_OP(in->code) != BPF_CALL &&
		       BPF_OP(in->code) != BPF_EXIT && BPF_OP(in->code) != BPF_END &&
		       !(BPF_OP(in->code) == BPF_JA);
	return cls == BPF_ST || (cls == BPF_LD && BPF_MODE(in->code) != BPF_IMM);
}

static inline bool want_mem(const struct bpfrt_insn *in)
{
	unsigned cls = in->code & 7;

	return cls == BPF_LDX || cls == BPF_ST || cls == BPF_STX;
}

static inline bool want_regs(const struct bpfrt_insn *in)
{
	return !mut_is_lddw(in) && in->code != 0x85 && in->code != 0x95;
}

static inline bool want_single(const struct bpfrt_insn *in)
{
	return !mut_is_lddw(in);
}

static inline bool want_alu(const struct bpfrt_insn *in)
{
	unsigned cls = in->code & 7;

	return (cls == BPF_ALU || cls == BPF_ALU64) && BPF_OP(in->code) != BPF_END &&
	       BPF_OP(in->code) != BPF_NEG;
}

static inline bool want_cond(const struct bpfrt_insn *in)
{
	unsigned cls = in->code & 7, op = BPF_OP(in->code);

	return (cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_JA && op != BPF_CALL &&
	       op != BPF_EXIT;
}

static inline bool want_jump(const struct bpfrt_insn *in)
{
	unsigned cls = in->code & 7, op = BPF_OP(in->code);

	return (cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL && op != BPF_EXIT;
}

static inline bool want_null_check(const struct bpfrt_insn *in)
{
	unsigned op = BPF_OP(in->code);

	return (in->code & 7) == BPF_JMP && BPF_SRC(in->code) == BPF_K && in->imm == 0 &&
	       (op == BPF_JEQ || op == BPF_JNE);
}

static inline bool want_map(const struct bpfrt_insn *in)
{
	return mut_is_lddw(in) && (in->src_reg == BPF_PSEUDO_MAP_IDX ||
				   in->src_reg == BPF_PSEUDO_MAP_IDX_VALUE);
}

static inline bool want_helper(const struct bpfrt_insn *in)
{
	return in->code == 0x85 && in->src_reg == 0;
}

/* A new value for an immediate or offset: a neighbour, an interesting number, or any. */
static inline int64_t mut_value(int64_t v, struct mbytes *b)
{
	switch (mb_u8(b) % 6) {
	case 0: return v + 1;
	case 1: return v - 1;
	case 2: return v + (int8_t)mb_u8(b);
	case 3: return mut_imms[mb_below(b, sizeof(mut_imms) / sizeof(mut_imms[0]))];
	case 4: return v * 2;
	default: return (int32_t)mb_u32(b);
	}
}

/*
 * Move instructions: delete slots [a, a+len), or (dup) insert a copy of
 * them after them. Every pc-relative reference keeps its instruction; a
 * reference to a deleted one goes to what follows it. False if an offset
 * does not fit or the program would be empty or too long.
 */
static inline bool mut_move(struct bpfrt_insn *p, size_t *np, size_t cap, size_t a, size_t len,
			    bool dup)
{
	size_t n = *np, m = dup ? n + len : n - len;
	struct bpfrt_insn out[cap];
	size_t newpos[n + 1];

	if (m == 0 || m > cap)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (dup)
			newpos[i] = i < a + len ? i : i + len;
		else
			newpos[i] = i < a ? i : i < a + len ? a : i - len;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!dup && i >= a && i < a + len)
			continue;
		out[k] = p[i];
		int64_t t = mut_target(&p[i], i);
		if (t >= 0 && !mut_set_target(&out[k], k, t <= (int64_t)n ? (int64_t)newpos[t] : t))
			return false;
		k++;
		if (dup && i + 1 == a + len) {
			for (size_t j = a; j < a + len; j++, k++) {
				out[k] = p[j];
				int64_t tj = mut_target(&p[j], j);
				if (tj >= 0 && !mut_set_target(&out[k], k, tj <= (int64_t)n ?
							       (int64_t)newpos[tj] : tj))
					return false;
			}
		}
	}
	memcpy(p, out, m * sizeof(*p));
	*np = m;
	return true;
}

/*
 * One mutation of p[0, *np) (capacity cap), chosen by the bytes, for a
 * program whose map table has nmaps entries. Appends what it did to log.
 * Returns false if nothing could be done.
 */
static inline bool mutate_once(struct bpfrt_insn *p, size_t *np, size_t cap, size_t nmaps,
			       struct mbytes *b, char *log, size_t loglen)
{
	enum mut_kind kind = (enum mut_kind)(mb_u8(b) % MUT_NKINDS);
	size_t n = *np;
	long i = -1;
	char what[96] = "";

	switch (kind) {
	case MUT_IMM:
		if ((i = mut_pick(p, n, b, want_imm)) < 0)
			return false;
		p[i].imm = (int32_t)mut_value(p[i].imm, b);
		if ((p[i].code & 7) == BPF_ALU || (p[i].code & 7) == BPF_ALU64)
			if ((BPF_OP(p[i].code) == BPF_LSH || BPF_OP(p[i].code) == BPF_RSH ||
			     BPF_OP(p[i].code) == BPF_ARSH) && (mb_u8(b) & 1))
				p[i].imm &= 63;	/* keep shifts legal half of the time */
		snprintf(what, sizeof(what), "imm %d", p[i].imm);
		break;
	case MUT_OFF:
		if ((i = mut_pick(p, n, b, want_mem)) < 0)
			return false;
		p[i].off = (int16_t)mut_value(p[i].off, b);
		snprintf(what, sizeof(what), "off %d", p[i].off);
		break;
	case MUT_REG:
		if ((i = mut_pick(p, n, b, want_regs)) < 0)
			return false;
		if (mb_u8(b) & 1)
			p[i].dst_reg = mb_u8(b) % 11;
		else
			p[i].src_reg = mb_u8(b) % 11;
		snprintf(what, sizeof(what), "dst r%u src r%u", p[i].dst_reg, p[i].src_reg);
		break;
	case MUT_OP:
		if ((i = mut_pick(p, n, b, mb_u8(b) & 1 ? want_alu : want_cond)) < 0)
			return false;
		if (want_alu(&p[i])) {
			static const uint8_t ops[] = { 0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60,
						       0x70, 0x90, 0xa0, 0xb0, 0xc0 };
			uint8_t c = mb_u8(b);

			if (c & 0x80)	/* 32 <-> 64 bits */
				p[i].code ^= BPF_ALU ^ BPF_ALU64;
			else
				p[i].code = (uint8_t)((p[i].code & 0x0f) | ops[c % sizeof(ops)]);
		} else {
			static const uint8_t ops[] = { 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70,
						       0xa0, 0xb0, 0xc0, 0xd0 };
			uint8_t c = mb_u8(b);

			if (c & 0x80)
				p[i].code ^= BPF_JMP ^ BPF_JMP32;
			else
				p[i].code = (uint8_t)((p[i].code & 0x0f) | ops[c % sizeof(ops)]);
		}
		snprintf(what, sizeof(what), "code %#x", p[i].code);
		break;
	case MUT_SIZE:
		if ((i = mut_pick(p, n, b, want_mem)) < 0)
			return false;
		p[i].code = (uint8_t)((p[i].code & ~0x18) | ((mb_u8(b) & 3) << 3));
		snprintf(what, sizeof(what), "code %#x", p[i].code);
		break;
	case MUT_TARGET:
		if ((i = mut_pick(p, n, b, want_jump)) < 0)
			return false;
		{
			int64_t t = mut_target(&p[i], (size_t)i);
			int64_t nt = mb_u8(b) & 1 ? t + (int8_t)mb_u8(b) % 8 : mb_below(b, (uint32_t)n);

			if (nt < 0 || nt >= (int64_t)n || !mut_set_target(&p[i], (size_t)i, nt))
				return false;
			snprintf(what, sizeof(what), "to %lld", (long long)nt);
		}
		break;
	case MUT_NULL_FLIP:
		if ((i = mut_pick(p, n, b, want_null_check)) < 0)
			return false;
		switch (mb_u8(b) % 3) {
		case 0:	/* == 0 <-> != 0 */
			p[i].code ^= BPF_JEQ ^ BPF_JNE;
			break;
		case 1:	/* the check always goes one way */
			p[i].code = 0x05;
			p[i].dst_reg = 0;
			p[i].imm = 0;
			break;
		default:	/* the check is gone */
			p[i] = (struct bpfrt_insn){ .code = 0x05 };
			break;
		}
		snprintf(what, sizeof(what), "code %#x off %d", p[i].code, p[i].off);
		break;
	case MUT_WIDEN:
		if ((i = mut_pick(p, n, b, want_cond)) < 0)
			return false;
		{
			static const uint8_t strict[][2] = {	/* > >=, < <=, signed */
				{ 0x20, 0x30 }, { 0xa0, 0xb0 }, { 0x60, 0x70 }, { 0xc0, 0xd0 },
			};
			uint8_t op = BPF_OP(p[i].code);
			bool done = false;

			for (unsigned k = 0; k < 4 && !(mb_u8(b) & 1); k++)
				if (op == strict[k][0] || op == strict[k][1]) {
					p[i].code ^= strict[k][0] ^ strict[k][1];
					done = true;
					break;
				}
			if (!done && BPF_SRC(p[i].code) == BPF_K)
				p[i].imm += (int32_t)(1 + mb_u8(b) % 4) *
					    (op == 0xa0 || op == 0xb0 || op == 0xc0 || op == 0xd0 ? 1 : -1) *
					    (mb_u8(b) & 0x80 ? -1 : 1);
			snprintf(what, sizeof(what), "code %#x imm %d", p[i].code, p[i].imm);
		}
		break;
	case MUT_SWAP:
		if ((i = mut_pick(p, n, b, want_single)) < 0 || (size_t)i + 1 >= n ||
		    !want_single(&p[i + 1]))
			return false;
		{
			struct bpfrt_insn x = p[i], y = p[i + 1];
			int64_t tx = mut_target(&x, (size_t)i), ty = mut_target(&y, (size_t)i + 1);

			p[i] = y;
			p[i + 1] = x;
			if ((tx >= 0 && !mut_set_target(&p[i + 1], (size_t)i + 1, tx)) ||
			    (ty >= 0 && !mut_set_target(&p[i], (size_t)i, ty)))
				return false;
		}
		break;
	case MUT_DELETE:
	case MUT_DUP:
		if ((i = mut_pick(p, n, b, NULL)) < 0)
			return false;
		if (!mut_move(p, np, cap, (size_t)i, mut_is_lddw(&p[i]) ? 2 : 1, kind == MUT_DUP))
			return false;
		break;
	case MUT_MAP:
		if (!nmaps || (i = mut_pick(p, n, b, want_map)) < 0)
			return false;
		if (mb_u8(b) & 1)
			p[i].imm = (int32_t)mb_below(b, (uint32_t)nmaps);
		else if (p[i].src_reg == BPF_PSEUDO_MAP_IDX_VALUE)
			p[i + 1].imm = (int32_t)mut_value(p[i + 1].imm, b);
		else
			p[i].src_reg = BPF_PSEUDO_MAP_IDX_VALUE;
		snprintf(what, sizeof(what), "map %d value offset %d src %u", p[i].imm,
			 p[i + 1].imm, p[i].src_reg);
		break;
	case MUT_HELPER:
		if ((i = mut_pick(p, n, b, want_helper)) < 0)
			return false;
		p[i].imm = mut_helpers[mb_below(b, sizeof(mut_helpers) / sizeof(mut_helpers[0]))];
		snprintf(what, sizeof(what), "helper %d", p[i].imm);
		break;
	default:
		return false;
	}
	size_t used = strlen(log);
	if (used < loglen)
		snprintf(log + used, loglen - used, "%s%s at %ld%s%s", used ? "; " : "",
			 mut_names[kind], i, what[0] ? ": " : "", what);
	return true;
}

#endif /* BPFRT_PROG_MUTATE_H */
