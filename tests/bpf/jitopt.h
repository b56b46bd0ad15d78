/* jitopt.h — the computations of jitopt.bpf.c, shared with test_jit_kernel.c, which computes the same natively. */
#ifndef JITOPT_H
#define JITOPT_H

#define JO_NVAL 48

/* The input: values for the switches and selects, a buffer and a copy to make in it. */
struct jo_in {
	__s32 v[JO_NVAL];
	__u64 w[JO_NVAL];
	__u32 src, dst, n, pad;
	__u8 buf[256];
};

/* Cases that are constants once the value is known: a table of values. */
#define JO_CASES8(k) \
	case 8 * (k) + 0: r = v + 0x9e3779b9u * ((k) + 1); break; \
	case 8 * (k) + 1: r = v ^ (0x85ebca6bu + (k)); break; \
	case 8 * (k) + 2: r = v * (2 * (k) + 3); break; \
	case 8 * (k) + 3: r = (v << ((k) + 1)) | (k); break; \
	case 8 * (k) + 4: r = (v >> ((k) + 1)) ^ (0xc2b2ae35u - (k)); break; \
	case 8 * (k) + 5: r = ~v + (k) * 17; break; \
	case 8 * (k) + 6: r = (v & (0xff00ffu << (k))) - (k); break; \
	case 8 * (k) + 7: r = (v | ((k) + 0x100)) * 5; break;

static inline __attribute__((always_inline)) __u32 jo_values(__s32 sv)
{
	__u32 v = (__u32)sv, r;

	switch (sv) {
	JO_CASES8(0) JO_CASES8(1) JO_CASES8(2) JO_CASES8(3)
	default: r = v; break;
	}
	return r;
}

/* Cases that depend on another value too: a jump table. */
static inline __attribute__((always_inline)) __u64 jo_jumps(__s32 sv, __u64 x)
{
	switch (sv) {
	case -3: return x * 3;
	case -1: return x ^ 0x5555;
	case 0: return x + 7;
	case 1: return x >> 3;
	case 2: return x << 5;
	case 4: return ~x;
	case 5: return x * 11 + 1;
	case 6: return x - 99;
	case 7: return x & 0xff00ff;
	case 9: return x | 0x80;
	case 10: return x * x;
	case 12: return x ^ (x >> 7);
	default: return x + sv;
	}
}

/* floor(log2(w)), one branch per step: selects. */
static inline __attribute__((always_inline)) __u64 jo_log2(__u64 v)
{
	__u64 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

static inline __attribute__((always_inline)) __u64 jo_mix(const struct jo_in *in, __u64 *a,
							   __u64 *b)
{
	__u64 x = 0, y = 0, z = 0;

	for (int i = 0; i < JO_NVAL; i++) {
		x = (x << 1 | x >> 63) ^ jo_values(in->v[i]);
		y = y * 31 + jo_jumps(in->v[i], in->w[i]);
		z = z * 7 + jo_log2(in->w[i]);
	}
	*a = y;
	*b = z;
	return x;
}

/* FNV-1a of the buffer */
static inline __attribute__((always_inline)) __u64 jo_hash(const __u8 *p)
{
	__u64 h = 0xcbf29ce484222325ull;

	for (int i = 0; i < 256; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

#endif /* JITOPT_H */
