/* idiom.h — instruction sequences both engines recognise and run as one operation. */
#ifndef BPFRT_IDIOM_H
#define BPFRT_IDIOM_H

#include <stdbool.h>

#include "bpfrt.h"
#include "isa/isa.h"

/*
 * clang's rotate, four slots: `t = x; t >>= a; x <<= b; x |= t` (or the
 * shifts the other way round), a + b the width, all of one width (the move
 * may be 64-bit for a 32-bit rotate: the shift reads only the low half).
 * x ends rotated left by `left`; t as its own shift (`t_right`: right, else
 * left, by t_by) left it. Callers check that no jump lands inside.
 */
struct idiom_rot {
	unsigned x, t;
	bool w64;
	unsigned left;
	bool t_right;
	unsigned t_by;
};

static inline bool idiom_rotate(const struct bpfrt_insn *in, struct idiom_rot *r)
{
	bool w = BPF_CLASS(in[1].code) == BPF_ALU64;
	unsigned bits = w ? 64 : 32, a = (unsigned)in[1].imm, b = (unsigned)in[2].imm;

	r->t = in[0].dst_reg;
	r->x = in[0].src_reg;
	if ((in[0].code != 0xbf && (w || in[0].code != 0xbc)) || in[0].off ||
	    r->t == r->x || in[1].dst_reg != r->t || in[2].dst_reg != r->x ||
	    in[3].dst_reg != r->x || in[3].src_reg != r->t || in[3].off ||
	    in[3].code != (w ? 0x4f : 0x4c))		/* mov reg ... or reg */
		return false;
	if (in[1].imm <= 0 || in[2].imm <= 0 || a + b != bits)
		return false;
	if (in[1].code == (w ? 0x77 : 0x74) && in[2].code == (w ? 0x67 : 0x64))
		r->left = b;			/* t >>= a; x <<= b */
	else if (in[1].code == (w ? 0x67 : 0x64) && in[2].code == (w ? 0x77 : 0x74))
		r->left = a;			/* t <<= a; x >>= b */
	else
		return false;
	r->w64 = w;
	r->t_right = in[1].code == (w ? 0x77 : 0x74);
	r->t_by = a;
	return true;
}

#endif /* BPFRT_IDIOM_H */
