/* gen.h — random eBPF programs the kernel verifier accepts, for the differential test. */
#ifndef KDIFF_GEN_H
#define KDIFF_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfrt.h"

/*
 * Three families of programs, mixed by seed:
 *
 *   GEN_PLAIN  a syscall program: one function working on the ctx buffer;
 *   GEN_CALLS  the same with 1–3 bpf-to-bpf subprograms and helper calls
 *              (bpf_strtol, bpf_strtoul, bpf_strncmp, bpf_map_lookup_elem
 *              on the maps below);
 *   GEN_SKB    a socket filter: r6 holds the skb, LD_ABS / LD_IND read the
 *              packet, and r0 at exit folds every register and stack slot.
 */
enum gen_family { GEN_PLAIN, GEN_CALLS, GEN_SKB, GEN_NFAMILIES };

/*
 * The layout of the ctx buffer every syscall program works on.
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
#define GEN_MAX_INSNS	1024	/* slots; generated programs stay well below */

/* Socket filter packets: an Ethernet header and up to GEN_PKT_MAX - 14 bytes more. */
#define GEN_ETH_HLEN	14
#define GEN_PKT_MAX	160

/*
 * The array maps GEN_CALLS programs read (and never write). An lddw names a
 * map by its index here: src 1 / 2 with imm = the index, which the kernel
 * side replaces by the map's fd, or src 5 / 6 (fd_array index) as is. bpfrt
 * gets plain lddws of host addresses instead.
 *   GEN_MAP_STR    1 entry, frozen and read-only for programs:
 *                  NUL-terminated strings, for bpf_strncmp's s2
 *   GEN_MAP_TABLE  GEN_TABLE_ENTRIES entries, for bpf_map_lookup_elem
 */
enum { GEN_MAP_STR, GEN_MAP_TABLE, GEN_NMAPS };
#define GEN_MAP_VALUE_SIZE	64
#define GEN_TABLE_ENTRIES	4

/* The helpers GEN_CALLS programs call (Linux helper ids). */
enum {
	GEN_HELPER_MAP_LOOKUP = 1,
	GEN_HELPER_STRTOL = 105,
	GEN_HELPER_STRTOUL = 106,
	GEN_HELPER_STRNCMP = 182,
};

/* The content of map m: its max_entries * GEN_MAP_VALUE_SIZE bytes. */
void gen_map_values(int m, uint8_t *values);
uint32_t gen_map_entries(int m);

/* A small, portable PRNG (splitmix64): the same seed gives the same program everywhere. */
struct gen_rng {
	uint64_t s;
};

uint64_t gen_next(struct gen_rng *r);
/* Uniform in [0, n); n > 0. */
uint32_t gen_below(struct gen_rng *r, uint32_t n);

/* Generation options. */
struct gen_opts {
	int family;		/* force a family; -1: by seed */
};

struct gen_prog {
	struct bpfrt_insn insns[GEN_MAX_INSNS];
	size_t n;	/* slots used */
	int family;	/* enum gen_family */
	int ctx_reg;	/* which register holds the ctx pointer */
	int steps;	/* generation steps in the main body */
	int nfuncs;	/* functions, main included */
	uint8_t pkt[GEN_PKT_MAX];	/* GEN_SKB: the packet, from its Ethernet header */
	size_t pkt_len;
};

/*
 * Generate the program of `seed`. A body is made of steps (an instruction,
 * a jump, a small if/else, a call...); max_steps >= 0 stops every function's
 * body early, keeping the same prologues and first steps: the way to shrink
 * a failing program.
 */
void gen_program(uint64_t seed, int max_steps, const struct gen_opts *opts,
		 struct gen_prog *prog);

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
/* The form of the instruction at slot i, or -1 if invalid. */
int gen_insn_form(const struct bpfrt_insn *insns, size_t n, size_t i);
/* First cpu version that has form f (1..4). */
int gen_form_cpu(int f);
/* Count the form of every instruction of prog into counts[gen_nforms()]. */
void gen_count_forms(const struct gen_prog *prog, uint32_t *counts);
/* The mnemonic of the instruction at slot i ("?" if invalid); returns its slots. */
int gen_insn_mnem(const struct gen_prog *prog, size_t i, const char **mnem);
/* Slots the instruction at slot i takes: 2 for an lddw, else 1. */
int gen_insn_slots(const struct bpfrt_insn *insns, size_t n, size_t i);

#endif /* KDIFF_GEN_H */
