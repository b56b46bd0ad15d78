/* scalar.h — the verifier's abstract numbers: known bits (tnum) and signed/unsigned 64/32-bit bounds (internal). */
#ifndef BPFRT_VERIFIER_SCALAR_H
#define BPFRT_VERIFIER_SCALAR_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A tnum is a set of 64-bit values described bit by bit: bits set in m are
 * unknown, the others are the bits of v (v has no bit of m set).
 */
struct tnum {
	uint64_t v, m;
};

/*
 * A scalar is the set of values that satisfy all of its parts at once: the
 * tnum and four intervals (u64, s64, and u32/s32 of the low 32 bits). Every
 * part is an over-approximation; sc_sync() tightens each from the others and
 * notices when they contradict each other (the set is empty).
 */
struct scalar {
	struct tnum t;
	uint64_t umin, umax;
	int64_t smin, smax;
	uint32_t u32min, u32max;
	int32_t s32min, s32max;
};

struct tnum tn_const(uint64_t v);
struct tnum tn_unknown(void);
struct tnum tn_range(uint64_t min, uint64_t max);
struct tnum tn_add(struct tnum a, struct tnum b);
struct tnum tn_sub(struct tnum a, struct tnum b);
struct tnum tn_and(struct tnum a, struct tnum b);
struct tnum tn_or(struct tnum a, struct tnum b);
struct tnum tn_xor(struct tnum a, struct tnum b);
struct tnum tn_mul(struct tnum a, struct tnum b);
struct tnum tn_lsh(struct tnum a, unsigned k);
struct tnum tn_rsh(struct tnum a, unsigned k);
struct tnum tn_arsh(struct tnum a, unsigned k);
/* Is every value of b a value of a? */
bool tn_in(struct tnum a, struct tnum b);
/* Values in both; false if none. */
bool tn_meet(struct tnum a, struct tnum b, struct tnum *r);
static inline bool tn_is_const(struct tnum a) { return a.m == 0; }
static inline bool tn_has(struct tnum a, uint64_t x) { return (x & ~a.m) == a.v; }

struct scalar sc_const(uint64_t v);
struct scalar sc_unknown(void);
/* Values 0 .. max (max < 2^63). */
struct scalar sc_urange(uint64_t max);
/* Values min .. max as signed numbers. */
struct scalar sc_srange(int64_t min, int64_t max);
static inline bool sc_is_const(const struct scalar *s) { return tn_is_const(s->t); }
/* Tighten every part from the others; false if the set is empty. */
bool sc_sync(struct scalar *s);
/* Does s contain x? */
bool sc_has(const struct scalar *s, uint64_t x);
/* Does a contain every value of b? */
bool sc_in(const struct scalar *a, const struct scalar *b);
bool sc_equal(const struct scalar *a, const struct scalar *b);

/*
 * An ALU operation (BPF_ADD ... BPF_END opcode bits, see semantics.h) on
 * abstract operands: the result contains op(x, y) for every x in a and y in
 * b. sign picks signed div/mod; is32 the 32-bit forms (the result is then
 * zero-extended, as in the machine). movsx: movsx_bits 8/16/32, else 0.
 */
struct scalar sc_alu(unsigned op, bool sign, bool is32, unsigned movsx_bits,
		     const struct scalar *a, const struct scalar *b);
/* le/be/bswap of `bits` (swap true for be and bswap). */
struct scalar sc_end(bool swap, unsigned bits, const struct scalar *a);
/* A load of `size` bytes (zero-extended, or sign-extended if sx). */
struct scalar sc_load(unsigned size, bool sx);

/*
 * Refine a and b assuming `a op b` is true (a jump's condition, BPF_JEQ...
 * opcode bits; jmp32 compares the low halves). Returns false if it cannot be
 * true for any values of a and b. neg: assume it is false instead.
 */
bool sc_refine(unsigned op, bool jmp32, bool neg, struct scalar *a, struct scalar *b);

/* "umin=.. umax=.." and so on, for logs and messages. */
int sc_format(const struct scalar *s, char *buf, unsigned long len);

#endif /* BPFRT_VERIFIER_SCALAR_H */
