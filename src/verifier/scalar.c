/* scalar.c — abstract numbers: tnums, bounds, their ALU operations and refinement by jump conditions. */
#include <stdio.h>
#include <string.h>

#include "isa/semantics.h"
#include "scalar.h"

#define U32M 0xffffffffull
#define SIGN64 (1ull << 63)

static inline uint64_t umax64(uint64_t a, uint64_t b) { return a > b ? a : b; }
static inline uint64_t umin64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static inline int64_t smax64(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t smin64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ---- tnums ---------------------------------------------------------------- */

struct tnum tn_const(uint64_t v) { return (struct tnum){ v, 0 }; }
struct tnum tn_unknown(void) { return (struct tnum){ 0, ~0ull }; }

struct tnum tn_range(uint64_t min, uint64_t max)
{
	uint64_t diff = min ^ max;
	unsigned bits = diff ? 64 - (unsigned)__builtin_clzll(diff) : 0;

	if (bits > 63)
		return tn_unknown();
	uint64_t low = (1ull << bits) - 1;
	return (struct tnum){ min & ~low, low };
}

/* Adding the masks shows how far carries out of unknown bits can reach. */
struct tnum tn_add(struct tnum a, struct tnum b)
{
	uint64_t v = a.v + b.v, m = a.m + b.m;
	uint64_t carries = (v + m) ^ v;
	uint64_t unk = carries | a.m | b.m;

	return (struct tnum){ v & ~unk, unk };
}

struct tnum tn_sub(struct tnum a, struct tnum b)
{
	uint64_t d = a.v - b.v;
	uint64_t hi = d + a.m, lo = d - b.m;
	uint64_t unk = (hi ^ lo) | a.m | b.m;

	return (struct tnum){ d & ~unk, unk };
}

struct tnum tn_and(struct tnum a, struct tnum b)
{
	uint64_t may_a = a.v | a.m, may_b = b.v | b.m, v = a.v & b.v;

	return (struct tnum){ v, may_a & may_b & ~v };
}

struct tnum tn_or(struct tnum a, struct tnum b)
{
	uint64_t v = a.v | b.v;

	return (struct tnum){ v, (a.m | b.m) & ~v };
}

struct tnum tn_xor(struct tnum a, struct tnum b)
{
	uint64_t unk = a.m | b.m;

	return (struct tnum){ (a.v ^ b.v) & ~unk, unk };
}

struct tnum tn_lsh(struct tnum a, unsigned k) { return (struct tnum){ a.v << k, a.m << k }; }
struct tnum tn_rsh(struct tnum a, unsigned k) { return (struct tnum){ a.v >> k, a.m >> k }; }

struct tnum tn_arsh(struct tnum a, unsigned k)
{
	return (struct tnum){ (uint64_t)((int64_t)a.v >> k), (uint64_t)((int64_t)a.m >> k) };
}

/*
 * Long multiplication: the known product of the known parts, plus, for each
 * bit of a, the partial product that bit may contribute, as unknown bits.
 */
struct tnum tn_mul(struct tnum a, struct tnum b)
{
	uint64_t known = a.v * b.v;
	struct tnum extra = tn_const(0);

	while (a.v | a.m) {
		if (a.v & 1)
			extra = tn_add(extra, (struct tnum){ 0, b.m });
		else if (a.m & 1)
			extra = tn_add(extra, (struct tnum){ 0, b.v | b.m });
		a = tn_rsh(a, 1);
		b = tn_lsh(b, 1);
	}
	return tn_add(tn_const(known), extra);
}

bool tn_in(struct tnum a, struct tnum b)
{
	if (b.m & ~a.m)
		return false;
	return (b.v & ~a.m) == a.v;
}

bool tn_meet(struct tnum a, struct tnum b, struct tnum *r)
{
	if ((a.v ^ b.v) & ~a.m & ~b.m)
		return false;
	uint64_t unk = a.m & b.m;
	*r = (struct tnum){ (a.v | b.v) & ~unk, unk };
	return true;
}

/* ---- Scalars ---------------------------------------------------------------- */

struct scalar sc_unknown(void)
{
	return (struct scalar){ tn_unknown(), 0, ~0ull, INT64_MIN, INT64_MAX,
				0, UINT32_MAX, INT32_MIN, INT32_MAX };
}

struct scalar sc_const(uint64_t v)
{
	return (struct scalar){ tn_const(v), v, v, (int64_t)v, (int64_t)v,
				(uint32_t)v, (uint32_t)v, (int32_t)v, (int32_t)v };
}

struct scalar sc_urange(uint64_t max)
{
	struct scalar s = sc_unknown();

	s.umax = max;
	sc_sync(&s);
	return s;
}

struct scalar sc_srange(int64_t min, int64_t max)
{
	struct scalar s = sc_unknown();

	s.smin = min;
	s.smax = max;
	sc_sync(&s);
	return s;
}

bool sc_has(const struct scalar *s, uint64_t x)
{
	return tn_has(s->t, x) && x >= s->umin && x <= s->umax &&
	       (int64_t)x >= s->smin && (int64_t)x <= s->smax &&
	       (uint32_t)x >= s->u32min && (uint32_t)x <= s->u32max &&
	       (int32_t)x >= s->s32min && (int32_t)x <= s->s32max;
}

bool sc_in(const struct scalar *a, const struct scalar *b)
{
	return tn_in(a->t, b->t) && a->umin <= b->umin && b->umax <= a->umax &&
	       a->smin <= b->smin && b->smax <= a->smax && a->u32min <= b->u32min &&
	       b->u32max <= a->u32max && a->s32min <= b->s32min && b->s32max <= a->s32max;
}

bool sc_equal(const struct scalar *a, const struct scalar *b)
{
	return sc_in(a, b) && sc_in(b, a);
}

static bool sync_once(struct scalar *s)
{
	struct tnum t = s->t;
	uint64_t sbit = t.m & SIGN64;

	/* known bits bound every interval */
	s->umin = umax64(s->umin, t.v);
	s->umax = umin64(s->umax, t.v | t.m);
	s->smin = smax64(s->smin, (int64_t)(t.v | sbit));
	s->smax = smin64(s->smax, (int64_t)((t.v | t.m) & ~sbit));
	uint32_t lv = (uint32_t)t.v, lm = (uint32_t)t.m, lsbit = lm & 0x80000000u;
	if (lv > s->u32min)
		s->u32min = lv;
	if ((lv | lm) < s->u32max)
		s->u32max = lv | lm;
	if ((int32_t)(lv | lsbit) > s->s32min)
		s->s32min = (int32_t)(lv | lsbit);
	if ((int32_t)((lv | lm) & ~lsbit) < s->s32max)
		s->s32max = (int32_t)((lv | lm) & ~lsbit);

	/* unsigned and signed views of one half of the number line agree */
	if (!((s->umin ^ s->umax) >> 63)) {
		s->smin = smax64(s->smin, (int64_t)s->umin);
		s->smax = smin64(s->smax, (int64_t)s->umax);
	}
	if ((s->smin ^ s->smax) >= 0) {
		s->umin = umax64(s->umin, (uint64_t)s->smin);
		s->umax = umin64(s->umax, (uint64_t)s->smax);
	}
	/* a 64-bit interval within one upper half bounds the low half */
	if ((s->umin >> 32) == (s->umax >> 32) && s->umin <= s->umax) {
		if ((uint32_t)s->umin > s->u32min)
			s->u32min = (uint32_t)s->umin;
		if ((uint32_t)s->umax < s->u32max)
			s->u32max = (uint32_t)s->umax;
	}
	if ((s->smin >> 32) == (s->smax >> 32) && s->smin <= s->smax) {
		if ((uint32_t)s->smin > s->u32min)
			s->u32min = (uint32_t)s->smin;
		if ((uint32_t)s->smax < s->u32max)
			s->u32max = (uint32_t)s->smax;
	}
	if (!((s->u32min ^ s->u32max) >> 31)) {
		if ((int32_t)s->u32min > s->s32min)
			s->s32min = (int32_t)s->u32min;
		if ((int32_t)s->u32max < s->s32max)
			s->s32max = (int32_t)s->u32max;
	}
	if ((s->s32min ^ s->s32max) >= 0) {
		if ((uint32_t)s->s32min > s->u32min)
			s->u32min = (uint32_t)s->s32min;
		if ((uint32_t)s->s32max < s->u32max)
			s->u32max = (uint32_t)s->s32max;
	}
	/* a known upper half: the low half's bounds are the number's */
	bool hi_known = !(t.m >> 32);
	uint64_t hi = t.v >> 32 << 32;
	if (!hi_known && (s->umin >> 32) == (s->umax >> 32) && s->umin <= s->umax) {
		hi_known = true;
		hi = s->umin >> 32 << 32;
	}
	if (hi_known && s->u32min <= s->u32max) {
		s->umin = umax64(s->umin, hi | s->u32min);
		s->umax = umin64(s->umax, hi | s->u32max);
		s->smin = smax64(s->smin, (int64_t)(hi | s->u32min));
		s->smax = smin64(s->smax, (int64_t)(hi | s->u32max));
	}
	if (s->umin > s->umax || s->smin > s->smax || s->u32min > s->u32max ||
	    s->s32min > s->s32max)
		return false;
	/* and intervals give known bits */
	struct tnum r = tn_range(s->umin, s->umax);
	struct tnum lo = tn_range(s->u32min, s->u32max);
	lo.m |= ~U32M;
	return tn_meet(s->t, r, &s->t) && tn_meet(s->t, lo, &s->t);
}

bool sc_sync(struct scalar *s)
{
	for (int i = 0; i < 3; i++) {
		struct scalar before = *s;
		if (!sync_once(s))
			return false;
		if (!memcmp(&before, s, sizeof(*s)))
			break;	/* nothing more to learn */
	}
	return true;
}

/* The value (u32)x, for every x in s. */
static struct scalar zext32(const struct scalar *s)
{
	struct scalar r = sc_unknown();

	r.t = (struct tnum){ s->t.v & U32M, s->t.m & U32M };
	r.umin = s->u32min;
	r.umax = s->u32max;
	r.u32min = s->u32min;
	r.u32max = s->u32max;
	r.s32min = s->s32min;
	r.s32max = s->s32max;
	sc_sync(&r);
	return r;
}

/* The value (s64)(s32)x, for every x in s. */
static struct scalar sext32(const struct scalar *s)
{
	struct scalar r = sc_unknown();
	uint64_t lo_v = s->t.v & U32M, lo_m = s->t.m & U32M;

	if (lo_m & 0x80000000u)
		r.t = (struct tnum){ lo_v, lo_m | ~U32M };
	else if (lo_v & 0x80000000u)
		r.t = (struct tnum){ lo_v | ~U32M, lo_m };
	else
		r.t = (struct tnum){ lo_v, lo_m };
	r.smin = s->s32min;
	r.smax = s->s32max;
	r.u32min = s->u32min;
	r.u32max = s->u32max;
	r.s32min = s->s32min;
	r.s32max = s->s32max;
	sc_sync(&r);
	return r;
}

/* Sign-extend the low `bits` (8, 16, 32) of every value of s. */
static struct scalar sext_bits(const struct scalar *s, unsigned bits)
{
	if (bits == 32)
		return sext32(s);
	int64_t lo = -(1ll << (bits - 1)), hi = (1ll << (bits - 1)) - 1;
	if (s->smin >= lo && s->smax <= hi)
		return *s;
	struct scalar r = sc_srange(lo, hi);
	uint64_t mask = (1ull << bits) - 1, sbit = 1ull << (bits - 1);
	struct tnum t = { s->t.v & mask, s->t.m & mask };
	if (t.m & sbit)
		t.m |= ~mask;
	else if (t.v & sbit)
		t.v |= ~mask;
	if (!tn_meet(r.t, t, &r.t))
		return r;	/* cannot happen: both contain the result */
	sc_sync(&r);
	return r;
}

/* 64-bit operations on non-constant operands. */
static struct scalar alu64(unsigned op, bool sign, const struct scalar *a,
			   const struct scalar *b, unsigned shift_mask)
{
	struct scalar r = sc_unknown();
	int64_t s1, s2;

	switch (op) {
	case BPF_ADD:
		r.t = tn_add(a->t, b->t);
		{
			uint64_t lo = a->umin + b->umin, hi = a->umax + b->umax;
			bool lo_wrap = lo < a->umin, hi_wrap = hi < a->umax;
			if (lo_wrap == hi_wrap) {
				r.umin = lo;
				r.umax = hi;
			}
		}
		if (!__builtin_add_overflow(a->smin, b->smin, &s1) &&
		    !__builtin_add_overflow(a->smax, b->smax, &s2)) {
			r.smin = s1;
			r.smax = s2;
		}
		break;
	case BPF_SUB:
		r.t = tn_sub(a->t, b->t);
		{
			bool lo_wrap = a->umin < b->umax, hi_wrap = a->umax < b->umin;
			if (lo_wrap == hi_wrap) {
				r.umin = a->umin - b->umax;
				r.umax = a->umax - b->umin;
			}
		}
		if (!__builtin_sub_overflow(a->smin, b->smax, &s1) &&
		    !__builtin_sub_overflow(a->smax, b->smin, &s2)) {
			r.smin = s1;
			r.smax = s2;
		}
		break;
	case BPF_MUL:
		r.t = tn_mul(a->t, b->t);
		if (a->umax <= U32M && b->umax <= U32M) {
			r.umin = a->umin * b->umin;
			r.umax = a->umax * b->umax;
		}
		break;
	case BPF_AND:
		r.t = tn_and(a->t, b->t);
		r.umax = umin64(a->umax, b->umax);
		if (a->smin >= 0 || b->smin >= 0)
			r.smin = 0;
		break;
	case BPF_OR:
		r.t = tn_or(a->t, b->t);
		r.umin = umax64(a->umin, b->umin);
		break;
	case BPF_XOR:
		r.t = tn_xor(a->t, b->t);
		break;
	case BPF_LSH:
	case BPF_RSH:
	case BPF_ARSH:
		if (!sc_is_const(b)) {
			if (op == BPF_RSH)
				r.umax = a->umax;	/* any right shift only shrinks it */
			break;
		}
		{
			unsigned k = (unsigned)(b->t.v & shift_mask);
			if (op == BPF_LSH) {
				r.t = tn_lsh(a->t, k);
				if (k == 0 || a->umax >> (64 - k) == 0) {
					r.umin = a->umin << k;
					r.umax = a->umax << k;
				}
			} else if (op == BPF_RSH) {
				r.t = tn_rsh(a->t, k);
				r.umin = a->umin >> k;
				r.umax = a->umax >> k;
			} else {
				r.t = tn_arsh(a->t, k);
				r.smin = a->smin >> k;
				r.smax = a->smax >> k;
			}
		}
		break;
	case BPF_DIV:
		if (sign)
			break;
		r.umax = a->umax;		/* x / 0 = 0; x / y <= x */
		if (b->umin > 0) {
			r.umin = a->umin / b->umax;
			r.umax = a->umax / b->umin;
		}
		break;
	case BPF_MOD:
		if (sign)
			break;
		r.umax = a->umax;		/* x % 0 = x; x % y <= x */
		if (b->umin > 0)
			r.umax = umin64(a->umax, b->umax - 1);
		break;
	}
	sc_sync(&r);
	return r;
}

struct scalar sc_alu(unsigned op, bool sign, bool is32, unsigned movsx_bits,
		     const struct scalar *a, const struct scalar *b)
{
	struct scalar r;

	if (op == BPF_MOV) {
		if (movsx_bits) {
			r = sext_bits(b, is32 ? (movsx_bits < 32 ? movsx_bits : 32) : movsx_bits);
			return is32 ? zext32(&r) : r;
		}
		return is32 ? zext32(b) : *b;
	}
	if (op == BPF_NEG) {
		struct scalar z = sc_const(0);
		if (sc_is_const(a))
			return sc_const(is32 ? sem_alu32(BPF_NEG, 0, a->t.v, 0)
					     : sem_alu64(BPF_NEG, 0, a->t.v, 0));
		op = BPF_SUB;
		b = a;
		a = &z;
		if (is32) {
			struct scalar bb = zext32(b);
			r = alu64(op, false, a, &bb, 63);
			return zext32(&r);
		}
		return alu64(op, false, a, b, 63);
	}
	if (sc_is_const(a) && sc_is_const(b))
		return sc_const(is32 ? sem_alu32(op, sign, a->t.v, b->t.v)
				     : sem_alu64(op, sign, a->t.v, b->t.v));
	if (sc_is_const(b) && b->t.v == 0 && (op == BPF_DIV || op == BPF_MOD) &&
	    (!is32 || (uint32_t)b->t.v == 0))
		return op == BPF_DIV ? sc_const(0) : is32 ? zext32(a) : *a;	/* x / 0 = 0, x % 0 = x */
	if (!is32)
		return alu64(op, sign, a, b, 63);
	if (sign && (op == BPF_DIV || op == BPF_MOD))
		return sc_urange(U32M);
	struct scalar aa = op == BPF_ARSH ? sext32(a) : zext32(a), bb = zext32(b);
	r = alu64(op, sign, &aa, &bb, 31);
	return zext32(&r);
}

struct scalar sc_end(bool swap, unsigned bits, const struct scalar *a)
{
	if (sc_is_const(a))
		return sc_const(sem_end(swap, bits, a->t.v));
	if (swap)
		return bits == 64 ? sc_unknown() : sc_urange((1ull << bits) - 1);
	if (bits == 64)
		return *a;
	struct scalar m = sc_const((1ull << bits) - 1);
	return alu64(BPF_AND, false, a, &m, 63);
}

struct scalar sc_load(unsigned size, bool sx)
{
	if (size >= 8)	/* (helpers' memory checks come here with any size) */
		return sc_unknown();
	if (sx)
		return sc_srange(-(1ll << (size * 8 - 1)), (1ll << (size * 8 - 1)) - 1);
	return sc_urange((1ull << (size * 8)) - 1);
}

/* ---- Refinement by conditions -------------------------------------------------- */

static unsigned negate(unsigned op)
{
	switch (op) {
	case BPF_JEQ:  return BPF_JNE;
	case BPF_JNE:  return BPF_JEQ;
	case BPF_JGT:  return BPF_JLE;
	case BPF_JGE:  return BPF_JLT;
	case BPF_JLT:  return BPF_JGE;
	case BPF_JLE:  return BPF_JGT;
	case BPF_JSGT: return BPF_JSLE;
	case BPF_JSGE: return BPF_JSLT;
	case BPF_JSLT: return BPF_JSGE;
	case BPF_JSLE: return BPF_JSGT;
	}
	return op;
}

/* a > b (strict) or a >= b, on unsigned intervals of any width. */
static bool ugt(uint64_t *amin, uint64_t *amax, uint64_t *bmin, uint64_t *bmax,
		bool strict, uint64_t top)
{
	(void)top;
	if (strict) {
		if (*bmin == top || *amax == 0)
			return false;
		*amin = umax64(*amin, *bmin + 1);
		*bmax = umin64(*bmax, *amax - 1);
	} else {
		*amin = umax64(*amin, *bmin);
		*bmax = umin64(*bmax, *amax);
	}
	return *amin <= *amax && *bmin <= *bmax;
}

static bool sgt(int64_t *amin, int64_t *amax, int64_t *bmin, int64_t *bmax,
		bool strict, int64_t lo, int64_t hi)
{
	if (strict) {
		if (*bmin == hi || *amax == lo)
			return false;
		*amin = smax64(*amin, *bmin + 1);
		*bmax = smin64(*bmax, *amax - 1);
	} else {
		*amin = smax64(*amin, *bmin);
		*bmax = smin64(*bmax, *amax);
	}
	return *amin <= *amax && *bmin <= *bmax;
}

/* x != k: trim k off the ends of x's intervals. */
static void ne_const(struct scalar *x, uint64_t k, bool jmp32)
{
	if (jmp32) {
		if (x->u32min == (uint32_t)k && x->u32min < x->u32max)
			x->u32min++;
		else if (x->u32max == (uint32_t)k && x->u32min < x->u32max)
			x->u32max--;
		if (x->s32min == (int32_t)k && x->s32min < x->s32max)
			x->s32min++;
		else if (x->s32max == (int32_t)k && x->s32min < x->s32max)
			x->s32max--;
		return;
	}
	if (x->umin == k && x->umin < x->umax)
		x->umin++;
	else if (x->umax == k && x->umin < x->umax)
		x->umax--;
	if (x->smin == (int64_t)k && x->smin < x->smax)
		x->smin++;
	else if (x->smax == (int64_t)k && x->smin < x->smax)
		x->smax--;
}

static bool refine64(unsigned op, struct scalar *a, struct scalar *b)
{
	struct tnum t;

	switch (op) {
	case BPF_JEQ:
		if (!tn_meet(a->t, b->t, &t))
			return false;
		a->t = b->t = t;
		a->umin = b->umin = umax64(a->umin, b->umin);
		a->umax = b->umax = umin64(a->umax, b->umax);
		a->smin = b->smin = smax64(a->smin, b->smin);
		a->smax = b->smax = smin64(a->smax, b->smax);
		a->u32min = b->u32min = a->u32min > b->u32min ? a->u32min : b->u32min;
		a->u32max = b->u32max = a->u32max < b->u32max ? a->u32max : b->u32max;
		a->s32min = b->s32min = a->s32min > b->s32min ? a->s32min : b->s32min;
		a->s32max = b->s32max = a->s32max < b->s32max ? a->s32max : b->s32max;
		return true;
	case BPF_JNE:
		if (sc_is_const(a) && sc_is_const(b))
			return a->t.v != b->t.v;
		if (sc_is_const(b))
			ne_const(a, b->t.v, false);
		else if (sc_is_const(a))
			ne_const(b, a->t.v, false);
		return true;
	case BPF_JGT: return ugt(&a->umin, &a->umax, &b->umin, &b->umax, true, ~0ull);
	case BPF_JGE: return ugt(&a->umin, &a->umax, &b->umin, &b->umax, false, ~0ull);
	case BPF_JLT: return ugt(&b->umin, &b->umax, &a->umin, &a->umax, true, ~0ull);
	case BPF_JLE: return ugt(&b->umin, &b->umax, &a->umin, &a->umax, false, ~0ull);
	case BPF_JSGT:
		return sgt(&a->smin, &a->smax, &b->smin, &b->smax, true, INT64_MIN, INT64_MAX);
	case BPF_JSGE:
		return sgt(&a->smin, &a->smax, &b->smin, &b->smax, false, INT64_MIN, INT64_MAX);
	case BPF_JSLT:
		return sgt(&b->smin, &b->smax, &a->smin, &a->smax, true, INT64_MIN, INT64_MAX);
	case BPF_JSLE:
		return sgt(&b->smin, &b->smax, &a->smin, &a->smax, false, INT64_MIN, INT64_MAX);
	}
	return true;
}

/* The same on the low halves; the upper halves learn through sc_sync. */
static bool refine32(unsigned op, struct scalar *a, struct scalar *b)
{
	uint64_t amin, amax, bmin, bmax;
	int64_t sa0, sa1, sb0, sb1;
	bool ok;

	switch (op) {
	case BPF_JEQ: {
		struct tnum ta = { a->t.v & U32M, (a->t.m & U32M) | ~U32M };
		struct tnum tb = { b->t.v & U32M, (b->t.m & U32M) | ~U32M };
		if (!tn_meet(a->t, tb, &a->t) || !tn_meet(b->t, ta, &b->t))
			return false;
		a->u32min = b->u32min = a->u32min > b->u32min ? a->u32min : b->u32min;
		a->u32max = b->u32max = a->u32max < b->u32max ? a->u32max : b->u32max;
		a->s32min = b->s32min = a->s32min > b->s32min ? a->s32min : b->s32min;
		a->s32max = b->s32max = a->s32max < b->s32max ? a->s32max : b->s32max;
		return true;
	}
	case BPF_JNE: {
		bool ca = !(a->t.m & U32M), cb = !(b->t.m & U32M);
		if (ca && cb)
			return (uint32_t)a->t.v != (uint32_t)b->t.v;
		if (cb)
			ne_const(a, b->t.v, true);
		else if (ca)
			ne_const(b, a->t.v, true);
		return true;
	}
	}
	amin = a->u32min; amax = a->u32max; bmin = b->u32min; bmax = b->u32max;
	sa0 = a->s32min; sa1 = a->s32max; sb0 = b->s32min; sb1 = b->s32max;
	switch (op) {
	case BPF_JGT:  ok = ugt(&amin, &amax, &bmin, &bmax, true, U32M); break;
	case BPF_JGE:  ok = ugt(&amin, &amax, &bmin, &bmax, false, U32M); break;
	case BPF_JLT:  ok = ugt(&bmin, &bmax, &amin, &amax, true, U32M); break;
	case BPF_JLE:  ok = ugt(&bmin, &bmax, &amin, &amax, false, U32M); break;
	case BPF_JSGT: ok = sgt(&sa0, &sa1, &sb0, &sb1, true, INT32_MIN, INT32_MAX); break;
	case BPF_JSGE: ok = sgt(&sa0, &sa1, &sb0, &sb1, false, INT32_MIN, INT32_MAX); break;
	case BPF_JSLT: ok = sgt(&sb0, &sb1, &sa0, &sa1, true, INT32_MIN, INT32_MAX); break;
	case BPF_JSLE: ok = sgt(&sb0, &sb1, &sa0, &sa1, false, INT32_MIN, INT32_MAX); break;
	default: return true;
	}
	a->u32min = (uint32_t)amin; a->u32max = (uint32_t)amax;
	b->u32min = (uint32_t)bmin; b->u32max = (uint32_t)bmax;
	a->s32min = (int32_t)sa0; a->s32max = (int32_t)sa1;
	b->s32min = (int32_t)sb0; b->s32max = (int32_t)sb1;
	return ok;
}

/* a & b != 0 (set) or == 0, when one side is constant. */
static bool refine_jset(bool set, bool jmp32, struct scalar *a, struct scalar *b)
{
	uint64_t width = jmp32 ? U32M : ~0ull;

	if (!sc_is_const(b) && !(jmp32 && !(b->t.m & U32M))) {
		struct scalar *t = a;
		if (!(sc_is_const(a) || (jmp32 && !(a->t.m & U32M))))
			return true;
		a = b;
		b = t;
	}
	uint64_t k = b->t.v & width;
	if (set) {
		if (((a->t.v | a->t.m) & k) == 0)
			return false;
		if (__builtin_popcountll(k) == 1) {
			a->t.v |= k;
			a->t.m &= ~k;
		}
	} else {
		if (a->t.v & k)
			return false;
		a->t.m &= ~k;
	}
	return true;
}

bool sc_refine(unsigned op, bool jmp32, bool neg, struct scalar *a, struct scalar *b)
{
	bool ok;

	if (op == BPF_JSET)
		ok = refine_jset(!neg, jmp32, a, b);
	else {
		if (neg)
			op = negate(op);
		ok = jmp32 ? refine32(op, a, b) : refine64(op, a, b);
	}
	return ok && sc_sync(a) && sc_sync(b);
}

int sc_format(const struct scalar *s, char *buf, unsigned long len)
{
	if (sc_is_const(s))
		return snprintf(buf, len, "%lld", (long long)s->t.v);
	return snprintf(buf, len,
			"scalar(smin=%lld,smax=%lld,umin=%llu,umax=%llu,var_off=(%#llx; %#llx))",
			(long long)s->smin, (long long)s->smax, (unsigned long long)s->umin,
			(unsigned long long)s->umax, (unsigned long long)s->t.v,
			(unsigned long long)s->t.m);
}
