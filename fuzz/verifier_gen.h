/* verifier_gen.h — programs from bytes for the verifier's fuzzer and random tests: ALU, memory around
 * r10/r1/r0, jumps and loops, map lookups, NULL checks, atomics, bpf_loop or bpf_for_each_map_elem with
 * a generated callback; with build_ext also XDP packet accesses behind data_end checks, ringbuf
 * reservations, shifted and 32-bit bounds on map value offsets, spills and fills, local calls. */
#ifndef BPFRT_VERIFIER_GEN_H
#define BPFRT_VERIFIER_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfrt.h"

#define MAXN 96
#define CTX_SIZE 64

#define INS(c, d, s, o, i) (struct bpfrt_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), \
						.off = (int16_t)(o), .imm = (i) }

static const uint8_t alu_ops[] = { 0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90,
				   0xa0, 0xb0, 0xc0 };
static const uint8_t jmp_ops[] = { 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0,
				   0xd0 };
static const uint8_t sizes[] = { 0x00, 0x08, 0x10, 0x18 };	/* W H B DW */
static const uint8_t ptr_regs[] = { 10, 1, 0, 6, 7, 2 };
static const int32_t imms[] = { 0, 1, -1, 2, 4, 7, 8, 15, 16, 31, 32, 63, 64, 255, 0x7fffffff,
				(int32_t)0x80000000, -8, -16, 60, 3 };

/*
 * Registers (but r1, r2, r10) get values and fp-32..fp-1 is written, so more
 * programs pass. r6 is r1 (the context), or in a for_each callback (each) r3,
 * the element's value.
 */
static size_t prologue(struct bpfrt_insn *p, size_t n, bool main, bool each)
{
	static const uint8_t regs[] = { 0, 3, 4, 5, 8, 9 };

	if (each)
		p[n++] = INS(0xbf, 6, 3, 0, 0);
	for (unsigned k = 0; k < sizeof(regs); k++)
		p[n++] = INS(0xb7, regs[k], 0, 0, (int32_t)k * 3);
	if (!each)
		p[n++] = INS(0xbf, 6, 1, 0, 0);
	p[n++] = INS(0xbf, 7, 10, 0, 0);
	if (main)
		for (int k = 1; k <= 4; k++)
			p[n++] = INS(0x7a, 10, 0, -8 * k, k);
	return n;
}

/* Keep the jumps of p[lo, hi) inside it. */
static void clamp_jumps(struct bpfrt_insn *p, size_t lo, size_t hi)
{
	for (size_t i = lo; i < hi; i++) {
		uint8_t cls = p[i].code & 7;
		if ((cls == 5 || cls == 6) && p[i].code != 0x85 && p[i].code != 0x95) {
			int64_t t = (int64_t)i + 1 + p[i].off;
			if (t < (int64_t)lo || t >= (int64_t)hi)
				p[i].off = (int16_t)(hi - 1 - i - 1);
		}
		if (p[i].code == 0x18)
			i++;
	}
}

/*
 * Turn input bytes into instructions, 4 bytes each; returns the count. A
 * byte string with a bpf_loop call (bpf_for_each_map_elem if bit 6 of the
 * first byte is set) also gets a callback, built from the bytes after the
 * first 0xff 0xff pair (or from the same bytes).
 */
static size_t build(const uint8_t *d, size_t size, struct bpfrt_insn *p) __attribute__((unused));

/*
 * What build_ext may add to build's programs. xdp: the program is an XDP
 * one (r6 is its xdp_md). ringbuf: map 1 is a ring buffer. calls: the
 * generated function after the program may also be called (call local).
 */
struct gen_ext {
	bool xdp, ringbuf, calls;
};

static size_t emit_ext(const uint8_t *d, struct bpfrt_insn *p, size_t n, const struct gen_ext *x,
		       bool *loops);

/* loops: callbacks may be called, by bpf_loop or (each) bpf_for_each_map_elem over map 0. */
static size_t emit(const uint8_t *d, size_t size, struct bpfrt_insn *p, size_t n, size_t max,
		   bool *loops, bool each, const struct gen_ext *x)
{
	for (size_t k = 0; k + 4 <= size && n + (x ? 16 : 8) < max; k += 4) {
		if (x && d[k] % 32 >= 16 + 8) {	/* a third of the words: the extended snippets */
			n = emit_ext(d + k, p, n, x, loops);
			continue;
		}
		uint8_t b0 = d[k], b1 = d[k + 1], b2 = d[k + 2], b3 = d[k + 3];
		uint8_t dst = b1 % 10, src = b2 % 11, op = alu_ops[b2 % sizeof(alu_ops)];
		int32_t imm = imms[b3 % (sizeof(imms) / sizeof(imms[0]))];
		uint8_t preg = ptr_regs[b2 % sizeof(ptr_regs)];
		int16_t off = preg == 10 ? -(int16_t)(1 + b3 % 64) : (int16_t)(b3 % 72) - 4;

		switch (b0 % 16) {
		case 0: p[n++] = INS(0xb7, dst, 0, 0, imm); break;
		case 1: p[n++] = INS(0xbf, dst, src, 0, 0); break;
		case 2: p[n++] = INS(0x07 | op, dst, 0, 0, op == 0x80 ? 0 : imm); break;
		case 3: p[n++] = INS(op == 0x80 ? 0x87 : 0x0f | op, dst, op == 0x80 ? 0 : src, 0, 0); break;
		case 4: p[n++] = INS(0x04 | op, dst, 0, 0, op == 0x80 ? 0 : imm); break;
		case 5: p[n++] = INS(op == 0x80 ? 0x84 : 0x0c | op, dst, op == 0x80 ? 0 : src, 0, 0); break;
		case 6: p[n++] = INS(0x61 | sizes[b1 % 4], dst, preg, off, 0); break;
		case 7:
			if (b1 & 1)
				p[n++] = INS(0x63 | sizes[b3 % 4], preg, src, off, 0);
			else
				p[n++] = INS(0x62 | sizes[b3 % 4], preg, 0, off, imm);
			break;
		case 8: p[n++] = INS(0x05 | jmp_ops[b2 % sizeof(jmp_ops)], dst, 0,
				     (b3 & 0x80) ? -(int)(b3 % 6) : b3 % 9, imm); break;
		case 9: p[n++] = INS(0x0d | jmp_ops[b2 % sizeof(jmp_ops)], dst, src % 10,
				     (b3 & 0x80) ? -(int)(b3 % 6) : b3 % 9, 0); break;
		case 10:	/* r0 = lookup(map 0, key at fp-8) */
			p[n++] = INS(0x62, 10, 0, -8, b3 % 3);
			p[n++] = INS(0x18, 1, 5, 0, 0);
			p[n++] = INS(0, 0, 0, 0, 0);
			p[n++] = INS(0xbf, 2, 10, 0, 0);
			p[n++] = INS(0x07, 2, 0, 0, -8);
			p[n++] = INS(0x85, 0, 0, 0, 1);
			break;
		case 11: p[n++] = INS(0x15, b1 % 2 ? 0 : dst, 0, b3 % 6, 0); break;
		case 12:	/* an early exit, that the code after it stays reachable */
			p[n++] = INS(0x55, dst, 0, 2, imm);
			p[n++] = INS(0xb7, 0, 0, 0, imm);
			p[n++] = INS(0x95, 0, 0, 0, 0);
			break;
		case 13: p[n++] = INS(0x61 | sizes[b1 % 4], dst, 0, (b3 % 24) - 2, 0); break;
		case 14: p[n++] = INS(0xc3 | (b1 & 1 ? 0x18 : 0), preg, src, off & ~7, b3 & 1 ? 0x01 : 0);
			break;
		default:
			if (loops && (b1 & 3) == 3) {
				/* bpf_loop(b2, callback, fp-16 or NULL, 0) or for_each(map 0, ...) */
				p[n++] = INS(0x18, 2, 4, 0, 0);	/* patched to the callback */
				p[n++] = INS(0, 0, 0, 0, 0);
				if (each) {
					p[n++] = INS(0x18, 1, 5, 0, 0);
					p[n++] = INS(0, 0, 0, 0, 0);
				} else {
					p[n++] = INS(0xb7, 1, 0, 0, b2 % 40);
				}
				p[n++] = INS(0xbf, 3, 10, 0, 0);
				p[n++] = INS(0x07, 3, 0, 0, -16);
				if (b3 & 1)
					p[n++] = INS(0xb7, 3, 0, 0, 0);
				p[n++] = INS(0xb7, 4, 0, 0, 0);
				p[n++] = INS(0x85, 0, 0, 0, each ? 164 : 181);
				*loops = true;
			} else {
				p[n++] = INS(0xbf, 6 + b1 % 4, 1, 0, 0);
			}
			break;
		}
	}
	return n;
}

/* The start of a lookup of map 0 at key fp-8: r0 = the value or NULL. */
static size_t lookup0(struct bpfrt_insn *p, size_t n, uint8_t key)
{
	p[n++] = INS(0x62, 10, 0, -8, key % 3);
	p[n++] = INS(0x18, 1, 5, 0, 0);
	p[n++] = INS(0, 0, 0, 0, 0);
	p[n++] = INS(0xbf, 2, 10, 0, 0);
	p[n++] = INS(0x07, 2, 0, 0, -8);
	p[n++] = INS(0x85, 0, 0, 0, 1);
	return n;
}

/*
 * One extended snippet from the 4 bytes at d (d[0] % 32 in 24..31). Each
 * has a right form and near misses (a wrong bound, a missing check), which
 * the verifier must tell apart; loops (main program only) learns of a
 * local call of the generated function.
 */
static size_t emit_ext(const uint8_t *d, struct bpfrt_insn *p, size_t n, const struct gen_ext *x,
		       bool *loops)
{
	uint8_t b1 = d[1], b2 = d[2], b3 = d[3];
	static const uint8_t sizes_[] = { 0x10, 0x08, 0x00, 0x18 };	/* B H W DW */

	switch (d[0] % 32) {
	case 24:	/* a packet access behind a data_end check (a bounded ctx access if not XDP) */
	case 25:
		if (x->xdp) {
			/* r2 = data, r3 = data_end, r4 = data + K; if r4 > r3 skip; access r2+off */
			static const uint8_t checks[][3] = {	/* code, dst, src: skip if past the end */
				{ 0x2d, 4, 3 }, { 0xad, 3, 4 },	/* r4 > r3, r3 < r4: right */
				{ 0x3d, 4, 3 }, { 0xbd, 3, 4 },	/* >=, <=: one byte short, still safe */
				{ 0xad, 4, 3 }, { 0x2e, 4, 3 },	/* r4 < r3: backwards; jgt32 */
				{ 0x6d, 4, 3 }, { 0x1d, 4, 3 },	/* signed; == */
			};
			const uint8_t *c = checks[b1 % 8];
			int16_t off = (int16_t)(b3 % 24) - 2;

			p[n++] = INS(0x61, 2, 6, 0, 0);
			p[n++] = INS(0x61, 3, 6, 4, 0);
			p[n++] = INS(0xbf, 4, 2, 0, 0);
			p[n++] = INS(0x07, 4, 0, 0, b2 % 24);
			p[n++] = INS(c[0], c[1], c[2], 1, 0);
			if (b1 & 0x80)
				p[n++] = INS(0x72 | sizes_[b2 % 4], 2, 0, off, b3);
			else
				p[n++] = INS(0x61 | sizes_[b2 % 4], 5, 2, off, 0);
		} else {
			/* r2 = a byte of the ctx (r6), bounded, as an offset into it */
			p[n++] = INS(0x71, 2, 6, b3 % 8, 0);
			p[n++] = INS(b1 & 1 ? 0x57 : 0x54, 2, 0, 0, b1 & 2 ? 31 : 63);
			p[n++] = INS(0xbf, 3, 6, 0, 0);
			p[n++] = INS(0x0f, 3, 2, 0, 0);
			p[n++] = INS(0x61 | sizes_[b2 % 4], 4, 3, (int16_t)(b3 % 8), 0);
		}
		break;
	case 26:	/* shifts and 32-bit ops on a bound, then an offset into a map value */
	case 27: {
		static const int32_t masks[] = { 15, 7, 8, 0xf0, 31, 3, 1, 0xff };
		static const uint8_t shifts[] = { 0x67, 0x77, 0xc7, 0x64, 0x74, 0xc4 };

		n = lookup0(p, n, b3);
		p[n++] = INS(0x15, 0, 0, 6, 0);	/* if r0 == 0 skip the rest */
		p[n++] = INS(0x61 | (b1 & 1 ? 0x10 : 0), 1, 0, 0, 0);
		p[n++] = INS(b1 & 2 ? 0x54 : 0x57, 1, 0, 0, masks[b2 % 8]);
		p[n++] = INS(shifts[b3 % 6], 1, 0, 0, (b2 >> 3) % 5);
		p[n++] = INS(b1 & 4 ? 0x07 : 0x04, 1, 0, 0, b1 & 8 ? -1 : 0);
		p[n++] = INS(0x0f, 0, 1, 0, 0);
		p[n++] = INS(0x61 | sizes_[(b1 >> 4) % 4], 1, 0, (int16_t)(b3 % 12), 0);
		break;
	}
	case 28: {	/* a 32-bit bound check on an offset into a map value */
		static const uint8_t jumps[] = { 0x26, 0x25, 0x36, 0x66, 0xa6, 0xb6, 0x56, 0x45 };

		n = lookup0(p, n, b3);
		p[n++] = INS(0x15, 0, 0, 4, 0);
		p[n++] = INS(0x61, 1, 0, 0, 0);
		p[n++] = INS(jumps[b1 % 8], 1, 0, 2, (int32_t)(b2 % 20));
		p[n++] = INS(0x0f, 0, 1, 0, 0);
		p[n++] = INS(0x71 | (b3 & 0x80 ? 0x08 : 0), 1, 0, 0, 0);
		break;
	}
	case 29: {	/* a spill and a fill, of a pointer or a number, whole or in part */
		static const uint8_t regs[] = { 6, 7, 0, 8, 9, 3 };
		int16_t off = (int16_t)(-8 * (1 + b3 % 4) + (b3 & 0x80 ? 4 : 0));
		uint8_t st = b1 & 1 ? 0x7b : 0x63, ld = b1 & 2 ? 0x79 : 0x61;

		if (b1 & 4)
			ld = st == 0x7b ? 0x79 : 0x61;	/* mostly the same size */
		p[n++] = INS(st, 10, regs[b2 % 6], off, 0);
		p[n++] = INS(ld, 2 + b2 % 4, 10, off, 0);
		if (b1 & 8)	/* use it as a pointer */
			p[n++] = INS(0x71, 0, 2 + b2 % 4, (int16_t)(b3 % 8), 0);
		break;
	}
	case 30:	/* a ring buffer reservation, written, submitted or discarded (or not) */
		if (!x->ringbuf)
			break;
		{
			static const int32_t rsizes[] = { 8, 16, 24, 7, 64, 4 };
			int32_t sz = rsizes[b2 % 6];
			bool check = !(b1 & 0x10 && b1 & 0x20), release = !(b1 & 0x40 && b1 & 0x80);

			p[n++] = INS(0x18, 1, 5, 0, 1);
			p[n++] = INS(0, 0, 0, 0, 0);
			p[n++] = INS(0xb7, 2, 0, 0, sz);
			p[n++] = INS(0xb7, 3, 0, 0, 0);
			p[n++] = INS(0x85, 0, 0, 0, 131);
			if (check)
				p[n++] = INS(0x15, 0, 0, release ? 5 : 1, 0);
			p[n++] = INS(b1 & 1 ? 0x7a : 0x62, 0, 0,
				     (int16_t)(8 * (b3 % 4) - (b3 & 0x80 ? 4 : 0)), b3);
			if (release) {
				p[n++] = INS(0xbf, 1, 0, 0, 0);
				p[n++] = INS(0xb7, 2, 0, 0, 0);
				p[n++] = INS(0x85, 0, 0, 0, b1 & 2 ? 133 : 132);
				p[n++] = INS(0xb7, 0, 0, 0, 0);
			}
		}
		break;
	default:	/* 31: a local call of the generated function, with a pointer or a number */
		if (!x->calls || !loops)
			break;
		p[n++] = INS(0xbf, 1, 10, 0, 0);
		p[n++] = INS(0x07, 1, 0, 0, -8 * (1 + b2 % 4));
		if (b1 & 1)
			p[n++] = INS(0xbf, 1, 6, 0, 0);	/* the ctx */
		if (b1 & 2)
			p[n++] = INS(0xb7, 1, 0, 0, b3);
		p[n++] = INS(0xb7, 2, 0, 0, b3 % 40);
		p[n++] = INS(0x85, 0, 1, 0, 0);	/* patched to the function */
		*loops = true;
		break;
	}
	return n;
}

static size_t build_with(const uint8_t *d, size_t size, struct bpfrt_insn *p,
			 const struct gen_ext *x)
{
	const uint8_t *cb = d;
	size_t cbsize = size;
	bool loops = false, each = size && (d[0] & 0x40);

	for (size_t k = 0; k + 1 < size; k++)
		if (d[k] == 0xff && d[k + 1] == 0xff) {
			cb = d + k + 2;
			cbsize = size - k - 2;
			size = k;
			break;
		}
	size_t n = emit(d, size, p, prologue(p, 0, true, false), MAXN / 2, &loops, each, x);
	p[n++] = INS(0xb7, 0, 0, 0, 0);
	p[n++] = INS(0x95, 0, 0, 0, 0);
	clamp_jumps(p, 0, n);
	if (!loops)
		return n;
	size_t start = n;
	n = emit(cb, cbsize, p, prologue(p, n, false, each), MAXN - 2, NULL, false, x);
	p[n++] = INS(0xb7, 0, 0, 0, cbsize ? cb[0] & 1 : 0);
	p[n++] = INS(0x95, 0, 0, 0, 0);
	clamp_jumps(p, start, n);
	for (size_t i = 0; i < start; i++)
		if ((p[i].code == 0x18 && p[i].src_reg == 4) || (p[i].code == 0x85 && p[i].src_reg == 1))
			p[i].imm = (int32_t)(start - i - 1);
	return n;
}

static size_t build(const uint8_t *d, size_t size, struct bpfrt_insn *p)
{
	return build_with(d, size, p, NULL);
}

/*
 * build's programs with the extended snippets: the first byte's top bit
 * makes the program an XDP one (*type says which type it is).
 */
static size_t build_ext(const uint8_t *d, size_t size, struct bpfrt_insn *p,
			enum bpfrt_prog_type *type) __attribute__((unused));
static size_t build_ext(const uint8_t *d, size_t size, struct bpfrt_insn *p,
			enum bpfrt_prog_type *type)
{
	struct gen_ext x = { .xdp = size && (d[0] & 0x80), .ringbuf = true, .calls = true };

	*type = x.xdp ? BPFRT_PROG_XDP : BPFRT_PROG_UNSPEC;
	return build_with(d, size, p, &x);
}

#endif /* BPFRT_VERIFIER_GEN_H */
