/* gen.h — random eBPF programs the kernel verifier accepts, for the differential test. */
#ifndef KDIFF_GEN_H
#define KDIFF_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "bpfrt.h"

/*
 * The layout of the ctx buffer every generated program works on.
 *
 *   [0, GEN_CTX_SCRATCH)        input the program reads and overwrites
 *   [GEN_CTX_REGS, +80)         r0..r9 at exit (8 bytes each, by number)
 *   [GEN_CTX_STACK, +64)        the stack words r10-8 .. r10-64 at exit
 *
 * The slot of the register that holds the ctx pointer keeps its input bytes.
 * Programs may also leave early through an exit in the middle: then the
 * output area holds whatever the program stored so far.
 */
#define GEN_CTX_SIZE	256
#define GEN_CTX_SCRATCH	112
#define GEN_CTX_REGS	112
#define GEN_CTX_STACK	192
#define GEN_STACK_SLOTS	8	/* 8-byte stack slots the program uses */
#define GEN_MAX_INSNS	512	/* slots; generated programs stay well below */

/* A small, portable PRNG (splitmix64): the same seed gives the same program everywhere. */
struct gen_rng {
	uint64_t s;
};

uint64_t gen_next(struct gen_rng *r);
/* Uniform in [0, n); n > 0. */
uint32_t gen_below(struct gen_rng *r, uint32_t n);

struct gen_prog {
	struct bpfrt_insn insns[GEN_MAX_INSNS];
	size_t n;	/* slots used */
	int ctx_reg;	/* which register holds the ctx pointer */
	int steps;	/* generation steps in the body */
};

/*
 * Generate the program of `seed`. A body is made of steps (an instruction,
 * a jump, a small if/else...); max_steps >= 0 stops it early, keeping the
 * same prologue and first steps: the way to shrink a failing program.
 */
void gen_program(uint64_t seed, int max_steps, struct gen_prog *prog);

/* Fill the input ctx of `seed`: random bytes with edge values mixed in. */
void gen_input(uint64_t seed, uint8_t *buf, size_t len);

/*
 * ---- Instruction forms ----
 * kdiff.c includes <linux/bpf.h>, whose macros clash with isa.h, so what it
 * needs from the instruction table is asked of gen.c.
 */

/* How many instruction forms bpfrt knows. */
int gen_nforms(void);
/* Name of form f as in isa.h's table ("ADD64_IMM"). */
const char *gen_form_name(int f);
/* Count the form of every instruction of prog into counts[gen_nforms()]. */
void gen_count_forms(const struct gen_prog *prog, uint32_t *counts);
/* The mnemonic of the instruction at slot i ("?" if invalid); returns its slots. */
int gen_insn_mnem(const struct gen_prog *prog, size_t i, const char **mnem);

#endif /* KDIFF_GEN_H */
