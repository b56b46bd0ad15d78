/* verifier_gen.h — programs from bytes for the verifier's fuzzer and random tests: ALU, memory around
 * r10/r1/r0, jumps and loops, map lookups, NULL checks, atomics, bpf_loop or bpf_for_each_map_elem with
 * a generated callback. */
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

/* loops: callbacks may be called, by bpf_loop or (each) bpf_for_each_map_elem over map 0. */
static size_t emit(const uint8_t *d, size_t size, struct bpfrt_insn *p, size_t n, size_t max,
		   bool *loops, bool each)
{
	for (size_t k = 0; k + 4 <= size && n + 8 < max; k += 4) {
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

static size_t build(const uint8_t *d, size_t size, struct bpfrt_insn *p)
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
	size_t n = emit(d, size, p, prologue(p, 0, true, false), MAXN / 2, &loops, each);
	p[n++] = INS(0xb7, 0, 0, 0, 0);
	p[n++] = INS(0x95, 0, 0, 0, 0);
	clamp_jumps(p, 0, n);
	if (!loops)
		return n;
	size_t start = n;
	n = emit(cb, cbsize, p, prologue(p, n, false, each), MAXN - 2, NULL, false);
	p[n++] = INS(0xb7, 0, 0, 0, cbsize ? cb[0] & 1 : 0);
	p[n++] = INS(0x95, 0, 0, 0, 0);
	clamp_jumps(p, start, n);
	for (size_t i = 0; i < start; i++)
		if (p[i].code == 0x18 && p[i].src_reg == 4)
			p[i].imm = (int32_t)(start - i - 1);
	return n;
}

#endif /* BPFRT_VERIFIER_GEN_H */
