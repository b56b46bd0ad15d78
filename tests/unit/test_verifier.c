/* test_verifier.c — the verifier's rules, one small program each: accepted or rejected, and the kernel's verdict beside ours. */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpfrt.h"
#include "t.h"

/* ---- Building programs ------------------------------------------------------------------- */

#define I(c, d, s, o, i) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) }
#define MOVI(d, i)      I(0xb7, d, 0, 0, i)
#define MOVR(d, s)      I(0xbf, d, s, 0, 0)
#define MOV32I(d, i)    I(0xb4, d, 0, 0, i)
#define MOV32R(d, s)    I(0xbc, d, s, 0, 0)
#define ALUI(op, d, i)  I(0x07 | (op), d, 0, 0, i)
#define ALUR(op, d, s)  I(0x0f | (op), d, s, 0, 0)
#define ALU32I(op, d, i) I(0x04 | (op), d, 0, 0, i)
#define ALU32R(op, d, s) I(0x0c | (op), d, s, 0, 0)
#define LDXB(d, s, o)   I(0x71, d, s, o, 0)
#define LDXH(d, s, o)   I(0x69, d, s, o, 0)
#define LDXW(d, s, o)   I(0x61, d, s, o, 0)
#define LDXDW(d, s, o)  I(0x79, d, s, o, 0)
#define STB(d, o, i)    I(0x72, d, 0, o, i)
#define STW(d, o, i)    I(0x62, d, 0, o, i)
#define STDW(d, o, i)   I(0x7a, d, 0, o, i)
#define STXB(d, s, o)   I(0x73, d, s, o, 0)
#define STXW(d, s, o)   I(0x63, d, s, o, 0)
#define STXDW(d, s, o)  I(0x7b, d, s, o, 0)
#define JI(op, d, i, o) I(0x05 | (op), d, 0, o, i)
#define JR(op, d, s, o) I(0x0d | (op), d, s, o, 0)
#define J32I(op, d, i, o) I(0x06 | (op), d, 0, o, i)
#define JA(o)           I(0x05, 0, 0, o, 0)
#define CALL(id)        I(0x85, 0, 0, 0, id)
#define CALLL(rel)      I(0x85, 0, 1, 0, rel)
#define EXIT            I(0x95, 0, 0, 0, 0)
#define LDMAP(d, idx)   I(0x18, d, 5, 0, idx), I(0, 0, 0, 0, 0)
#define LDDW(d, lo, hi) I(0x18, d, 0, 0, lo), I(0, 0, 0, 0, hi)
#define LDABSB(k)       I(0x30, 0, 0, 0, k)

enum { ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60,
       RSH = 0x70, MOD = 0x90, XOR = 0xa0, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40,
       JNE = 0x50, JSGT = 0x60, JLT = 0xa0, JLE = 0xb0 };

/* r0 = lookup(map 0, key 0) with the key on the stack at fp-4 (6 slots). */
#define LOOKUP0 STW(10, -4, 0), MOVR(2, 10), ALUI(ADD, 2, -4), LDMAP(1, 0), CALL(1)
/* the same, then `if r0 == 0 goto exit` where exit is `skip` instructions on. */
#define LOOKUP0_CHECKED(skip) LOOKUP0, JI(JEQ, 0, 0, skip)
#define RET0 MOVI(0, 0), EXIT

enum kmap { MAP_ARRAY8, MAP_ARRAY1K, MAP_ARRAY16, MAP_RINGBUF, MAP_ARRAY256, MAP_HASH8, MAP_RO8,
	    MAP_PROGS, NKMAPS };

static const struct { uint32_t type, key, value, max, flags; } kmap_defs[NKMAPS] = {
	[MAP_ARRAY8] = { .type = BPF_MAP_TYPE_ARRAY, .key = 4, .value = 8, .max = 4 },
	[MAP_ARRAY1K] = { .type = BPF_MAP_TYPE_ARRAY, .key = 4, .value = 1024, .max = 1 },
	[MAP_ARRAY16] = { .type = BPF_MAP_TYPE_ARRAY, .key = 4, .value = 16, .max = 1 },
	[MAP_RINGBUF] = { .type = BPF_MAP_TYPE_RINGBUF, .key = 0, .value = 0, .max = 4096 },
	[MAP_ARRAY256] = { .type = BPF_MAP_TYPE_ARRAY, .key = 4, .value = 256, .max = 1 },
	[MAP_HASH8] = { .type = BPF_MAP_TYPE_HASH, .key = 4, .value = 8, .max = 4 },
	[MAP_RO8] = { .type = BPF_MAP_TYPE_ARRAY, .key = 4, .value = 8, .max = 1, .flags = BPF_F_RDONLY_PROG },
	[MAP_PROGS] = { .type = BPF_MAP_TYPE_PROG_ARRAY, .key = 4, .value = 4, .max = 4 },
};

struct vcase {
	const char *name;
	struct bpfrt_insn insns[64];
	uint32_t type;			/* BPF_PROG_TYPE_* (the same numbers as bpfrt's) */
	int map;			/* map 0 of the program: enum kmap, or -1 */
	bool accept;
	const char *why;		/* rejected: a phrase of the message */
	/*
	 * The kernel (as root) decides otherwise, on purpose: bpfrt refuses
	 * uninitialised stack and pointer leaks into the context, and knows
	 * more (x % k, x / 0, a stack pointer is not NULL).
	 */
	bool kernel_differs;
};

#define SF BPF_PROG_TYPE_SOCKET_FILTER
#define XDP BPF_PROG_TYPE_XDP

static const struct vcase cases[] = {
	/* registers */
	{ "return_constant", { RET0 }, SF, -1, true, NULL, false },
	{ "exit_without_r0", { EXIT }, SF, -1, false, "R0 is not set", false },
	{ "read_uninit_register", { MOVR(0, 2), EXIT }, SF, -1, false, "R2 is read before", false },
	{ "write_then_read", { MOVI(3, 1), MOVR(0, 3), EXIT }, SF, -1, true, NULL, false },
	/* a run may have no context: `ctx == NULL` is a path to verify, not a dead one */
	{ "ctx_may_be_null", { JI(JNE, 1, 0, 2), MOVR(0, 7), EXIT, RET0 }, SF, -1, false,
	  "R7 is read before", false },
	/* a stack pointer is never NULL (the kernel does not use that; bpfrt does) */
	{ "stack_never_null", { MOVR(2, 10), JI(JNE, 2, 0, 2), MOVR(0, 7), EXIT, RET0 }, SF, -1, true,
	  NULL, true },
	/* stack */
	{ "stack_store_load", { STDW(10, -8, 7), LDXDW(0, 10, -8), EXIT }, SF, -1, true, NULL,
	  false },
	{ "stack_read_uninit", { LDXDW(0, 10, -8), EXIT }, SF, -1, false, "never written", true },
	{ "stack_read_partly_init", { STW(10, -8, 7), LDXDW(0, 10, -8), EXIT }, SF, -1, false,
	  "never written", true },
	{ "stack_below_frame", { STDW(10, -520, 0), RET0 }, SF, -1, false, "outside the 512-byte",
	  false },
	{ "stack_above_frame", { STDW(10, 0, 0), RET0 }, SF, -1, false, "outside the 512-byte",
	  false },
	{ "spill_fill_pointer", { LOOKUP0_CHECKED(3), STXDW(10, 0, -16), LDXDW(1, 10, -16),
				  LDXDW(0, 1, 0), EXIT }, SF, MAP_ARRAY8, true, NULL, false },
	{ "partial_fill_of_pointer", { LOOKUP0_CHECKED(3), STXDW(10, 0, -16), LDXW(1, 10, -16),
				       RET0 }, SF, MAP_ARRAY8, false, "spilled pointer", false },
	{ "spill_32bit_keeps_bounds", { LOOKUP0_CHECKED(8), LDXB(1, 0, 0), ALUI(AND, 1, 15),
					STXW(10, 1, -16), LDXW(2, 10, -16), MOVR(3, 0),
					ALUR(ADD, 3, 2), LDXB(0, 3, 0), EXIT, RET0 },
	  SF, MAP_ARRAY16, true, NULL, false },
	{ "var_stack_read_init", { STDW(10, -8, 0), MOVR(6, 1), LDXW(1, 6, 0), ALUI(AND, 1, 7),
				   MOVR(2, 10), ALUI(ADD, 2, -8), ALUR(ADD, 2, 1), LDXB(0, 2, 0),
				   EXIT }, SF, -1, true, NULL, false },
	{ "var_stack_read_uninit", { STDW(10, -8, 0), MOVR(6, 1), LDXW(1, 6, 0), ALUI(AND, 1, 7),
				     MOVR(2, 10), ALUI(ADD, 2, -16), ALUR(ADD, 2, 1), LDXB(0, 2, 0),
				     EXIT }, SF, -1, false, "never written", true },
	/* maps and NULL; an array's element at a constant index in range always exists */
	{ "array_const_key_not_null", { LOOKUP0, LDXDW(0, 0, 0), EXIT }, SF, MAP_ARRAY8, true, NULL,
	  false },
	{ "lookup_deref_without_check", { LOOKUP0, LDXDW(0, 0, 0), EXIT }, SF, MAP_HASH8, false,
	  "may be NULL", false },
	{ "lookup_checked", { LOOKUP0_CHECKED(2), LDXDW(0, 0, 0), EXIT, RET0 }, SF, MAP_ARRAY8, true,
	  NULL, false },
	{ "null_check_on_copy", { LOOKUP0, MOVR(1, 0), JI(JEQ, 1, 0, 2), LDXDW(0, 0, 0), EXIT,
				  RET0 }, SF, MAP_HASH8, true, NULL, false },
	{ "arith_on_nullable", { LOOKUP0, ALUI(ADD, 0, 8), RET0 }, SF,
	  MAP_HASH8, false, "arithmetic on map_value_or_null", false },
	{ "map_value_past_end", { LOOKUP0_CHECKED(2), LDXB(0, 0, 8), EXIT, RET0 }, SF, MAP_ARRAY8,
	  false, "outside the 8 bytes", false },
	{ "map_value_var_off_in", { LOOKUP0_CHECKED(5), LDXB(1, 0, 0), ALUI(AND, 1, 7),
				    ALUR(ADD, 0, 1), LDXB(0, 0, 0), EXIT, RET0 }, SF, MAP_ARRAY8, true,
	  NULL, false },
	{ "map_value_var_off_out", { LOOKUP0_CHECKED(5), LDXB(1, 0, 0), ALUI(AND, 1, 7),
				     ALUR(ADD, 0, 1), LDXDW(0, 0, 0), EXIT, RET0 }, SF, MAP_ARRAY8,
	  false, "outside the 8 bytes", false },
	{ "key_partly_uninit", { STB(10, -4, 0), MOVR(2, 10), ALUI(ADD, 2, -4), LDMAP(1, 0),
				 CALL(1), RET0 }, SF, MAP_ARRAY8, false, "never written", true },
	{ "huge_const_offset", { LOOKUP0_CHECKED(3), LDDW(1, 0x7fffffff, 0), ALUR(ADD, 0, 1),
				 RET0 }, SF, MAP_ARRAY8, false, "out of range", false },
	{ "negative_offset", { LOOKUP0_CHECKED(3), ALUI(ADD, 0, -8), LDXB(0, 0, 0), EXIT, RET0 },
	  SF, MAP_ARRAY8, false, "outside the 8 bytes", false },
	/* global data: lddw of a map value's address; .rodata is read-only */
	{ "rodata_read", { I(0x18, 1, 6, 0, 0), I(0, 0, 0, 0, 4), LDXW(0, 1, 0), EXIT }, SF, MAP_RO8,
	  true, NULL, false },
	{ "rodata_write", { I(0x18, 1, 6, 0, 0), I(0, 0, 0, 0, 0), STDW(1, 0, 1), RET0 }, SF, MAP_RO8,
	  false, "read-only", false },
	{ "data_past_end", { I(0x18, 1, 6, 0, 0), I(0, 0, 0, 0, 4), LDXDW(0, 1, 0), EXIT }, SF,
	  MAP_ARRAY8, false, "outside the 8 bytes", false },
	/* 32-bit bounds, shifts, division: past kernel bugs */
	{ "jmp32_does_not_bound_64", { LOOKUP0_CHECKED(5), LDXDW(1, 0, 0), J32I(JGE, 1, 8, 3),
				       ALUR(ADD, 0, 1), LDXB(0, 0, 0), EXIT, RET0 }, SF, MAP_ARRAY8,
	  false, "R0", false },
	{ "jmp32_on_zext_bounds_64", { LOOKUP0_CHECKED(6), LDXW(1, 0, 0), MOV32R(1, 1),
				       J32I(JGE, 1, 8, 3), ALUR(ADD, 0, 1), LDXB(0, 0, 0), EXIT,
				       RET0 }, SF, MAP_ARRAY8, true, NULL, false },
	{ "and32_bounds", { LOOKUP0_CHECKED(5), LDXDW(1, 0, 0), ALU32I(AND, 1, 7), ALUR(ADD, 0, 1),
			    LDXB(0, 0, 0), EXIT, RET0 }, SF, MAP_ARRAY8, true, NULL, false },
	{ "or_raises_min", { LOOKUP0_CHECKED(6), LDXB(1, 0, 0), ALUI(OR, 1, 0x100), ALUI(AND, 1, 0x1ff),
			     ALUR(ADD, 0, 1), LDXB(0, 0, 0), EXIT, RET0 }, SF, MAP_ARRAY256, false,
	  "outside the 256 bytes", false },
	{ "xor_out_of_range", { LOOKUP0_CHECKED(5), LDXB(1, 0, 0), ALUI(XOR, 1, 0x100), ALUR(ADD, 0, 1),
				LDXB(0, 0, 0), EXIT, RET0 }, SF, MAP_ARRAY256, false,
	  "outside the 256 bytes", false },
	{ "shift_in_range", { LOOKUP0_CHECKED(5), LDXB(1, 0, 0), ALUI(LSH, 1, 2), ALUR(ADD, 0, 1),
			      LDXW(0, 0, 0), EXIT, RET0 }, SF, MAP_ARRAY1K, true, NULL, false },
	{ "shift_out_of_range", { LOOKUP0_CHECKED(5), LDXB(1, 0, 0), ALUI(LSH, 1, 3), ALUR(ADD, 0, 1),
				  LDXW(0, 0, 0), EXIT, RET0 }, SF, MAP_ARRAY1K, false,
	  "outside the 1024 bytes", false },
	{ "shift32_truncates", { LOOKUP0_CHECKED(6), LDXB(1, 0, 0), ALU32I(LSH, 1, 28),
				 ALU32I(RSH, 1, 28), ALUR(ADD, 0, 1), LDXB(0, 0, 0), EXIT, RET0 },
	  SF, MAP_ARRAY16, true, NULL, false },
	/* the kernel does not fold x / r2 with r2 = 0; bpfrt does */
	{ "div_by_zero_is_zero", { LOOKUP0_CHECKED(6), LDXDW(1, 0, 0), MOVI(2, 0), ALUR(DIV, 1, 2),
				   ALUR(ADD, 0, 1), LDXB(0, 0, 0), EXIT, RET0 }, SF, MAP_ARRAY8, true,
	  NULL, true },
	{ "mod_by_zero_keeps_dividend", { LOOKUP0_CHECKED(6), LDXB(1, 0, 0), MOVI(2, 0),
					  ALUR(MOD, 1, 2), ALUR(ADD, 0, 1), LDXB(0, 0, 0), EXIT, RET0 },
	  SF, MAP_ARRAY16, false, "outside the 16 bytes", false },
	/* the kernel does not bound x % 16; bpfrt does */
	{ "mod_bounds", { LOOKUP0_CHECKED(5), LDXDW(1, 0, 0), ALUI(MOD, 1, 16), ALUR(ADD, 0, 1),
			  LDXB(0, 0, 0), EXIT, RET0 }, SF, MAP_ARRAY16, true, NULL, true },
	{ "alu32_wraps", { LOOKUP0_CHECKED(5), MOV32I(1, -1), ALU32I(ADD, 1, 2), ALUR(ADD, 0, 1),
			   LDXB(0, 0, 0), EXIT, RET0 }, SF, MAP_ARRAY8, true, NULL, false },
	{ "signed_check_allows_negative", { LOOKUP0_CHECKED(5), LDXDW(1, 0, 0), JI(JSGT, 1, 7, 3),
					    ALUR(ADD, 0, 1), LDXB(0, 0, 0), EXIT, RET0 }, SF,
	  MAP_ARRAY8, false, "R0", false },
	{ "unsigned_check_bounds", { LOOKUP0_CHECKED(5), LDXDW(1, 0, 0), JI(JGT, 1, 7, 3),
				     ALUR(ADD, 0, 1), LDXB(0, 0, 0), EXIT, RET0 }, SF, MAP_ARRAY8,
	  true, NULL, false },
	{ "ptr32_arith", { LOOKUP0_CHECKED(3), ALU32I(ADD, 0, 1), RET0, RET0 }, SF, MAP_ARRAY8,
	  false, "32-bit arithmetic on a pointer", false },
	/* pruning must not hide the path that differs */
	{ "prune_differs_in_offset", { LOOKUP0_CHECKED(9), MOVR(6, 0), LDXB(1, 6, 0),
				       JI(JEQ, 1, 0, 2), MOVI(2, 0), JA(1), MOVI(2, 100),
				       ALUR(ADD, 6, 2), LDXB(0, 6, 0), EXIT, RET0 },
	  SF, MAP_ARRAY8, false, "outside the 8 bytes", false },
	{ "prune_differs_in_stack", { LOOKUP0_CHECKED(10), MOVR(6, 0), LDXB(1, 6, 0),
				      JI(JEQ, 1, 0, 2), STDW(10, -16, 0), JA(1), STDW(10, -16, 64),
				      LDXDW(2, 10, -16), ALUR(ADD, 6, 2), LDXB(0, 6, 0), EXIT, RET0 }, SF, MAP_ARRAY8, false, "outside the 8 bytes", false },
	/* the callee's prune point must keep the caller's r7, which is read after the return */
	{ "prune_caller_reg_in_callee", { LOOKUP0_CHECKED(10), MOVR(6, 0), LDXB(1, 6, 0),
					  JI(JEQ, 1, 0, 2), MOVI(7, 0), JA(1), MOVI(7, 100), CALLL(5),
					  ALUR(ADD, 6, 7), LDXB(0, 6, 0), EXIT, RET0,
					  MOVI(0, 0), JI(JEQ, 1, 0, 0), EXIT },
	  SF, MAP_ARRAY8, false, "outside the 8 bytes", false },
	/* loops */
	{ "infinite_loop", { MOVI(0, 0), JA(-1) }, SF, -1, false, "infinite loop", false },
	{ "bounded_loop", { MOVI(1, 0), ALUI(ADD, 1, 1), JI(JLT, 1, 10, -2), RET0 }, SF, -1, true,
	  NULL, false },
	{ "unbounded_loop", { LDXW(1, 1, 0), ALUI(SUB, 1, 1), JI(JNE, 1, 0, -2), RET0 }, SF, -1,
	  false, "too complex", false },
	{ "unreachable", { RET0, RET0 }, SF, -1, false, "unreachable", false },
	/* packets */
	{ "pkt_checked", { LDXW(2, 1, 0), LDXW(3, 1, 4), MOVR(4, 2), ALUI(ADD, 4, 14),
			   JR(JGT, 4, 3, 2), LDXB(0, 2, 13), EXIT, MOVI(0, 2), EXIT }, XDP, -1, true,
	  NULL, false },
	{ "pkt_one_past", { LDXW(2, 1, 0), LDXW(3, 1, 4), MOVR(4, 2), ALUI(ADD, 4, 14),
			    JR(JGT, 4, 3, 2), LDXB(0, 2, 14), EXIT, MOVI(0, 2), EXIT }, XDP, -1, false,
	  "not proven in bounds", false },
	{ "pkt_unchecked", { LDXW(2, 1, 0), LDXB(0, 2, 0), EXIT }, XDP, -1, false,
	  "not proven in bounds", false },
	{ "pkt_end_deref", { LDXW(3, 1, 4), LDXB(0, 3, 0), EXIT }, XDP, -1, false,
	  "cannot be dereferenced", false },
	{ "xdp_ctx_write", { STW(1, 0, 0), RET0 }, XDP, -1, false, "invalid context access", false },
	{ "xdp_ctx_wide_read", { LDXDW(2, 1, 0), RET0 }, XDP, -1, false, "invalid context access",
	  false },
	{ "ld_abs_socket_filter", { MOVR(6, 1), LDABSB(12), EXIT }, SF, -1, true, NULL, false },
	{ "ld_abs_xdp", { MOVR(6, 1), LDABSB(12), EXIT }, XDP, -1, false, "packet loads", false },
	{ "pointer_into_ctx", { STXW(1, 10, 48), RET0 }, SF, -1, false, "pointer into the context",
	  true },
	/* calls */
	{ "call_and_return", { MOVI(1, 10), CALLL(1), EXIT, MOVR(0, 1), ALUI(ADD, 0, 1), EXIT }, SF,
	  -1, true, NULL, false },
	{ "callee_writes_caller_stack", { MOVR(1, 10), ALUI(ADD, 1, -8), CALLL(2), LDXDW(0, 10, -8),
					  EXIT, STDW(1, 0, 5), RET0 }, SF, -1, true, NULL, false },
	{ "return_own_stack", { CALLL(1), EXIT, MOVR(0, 10), ALUI(ADD, 0, -8), EXIT }, SF, -1,
	  false, "pointer to its own stack", false },
	{ "recursion_too_deep", { CALLL(1), EXIT, CALLL(-1), EXIT }, SF, -1, false, "deep", false },
	{ "combined_stack_too_big", { STDW(10, -512, 0), CALLL(1), EXIT, STDW(10, -64, 0), RET0 }, SF,
	  -1, false, "combined stack", false },
	{ "callee_r6_not_init", { MOVI(6, 1), CALLL(1), EXIT, MOVR(0, 6), EXIT }, SF, -1, false,
	  "R6 is read before", false },
	/* ringbuf references */
	{ "ringbuf_submit", { LDMAP(1, 0), MOVI(2, 8), MOVI(3, 0), CALL(131), JI(JEQ, 0, 0, 4),
			      STDW(0, 0, 1), MOVR(1, 0), MOVI(2, 0), CALL(132), RET0 }, SF,
	  MAP_RINGBUF, true, NULL, false },
	{ "ringbuf_leak", { LDMAP(1, 0), MOVI(2, 8), MOVI(3, 0), CALL(131), JI(JEQ, 0, 0, 1),
			    STDW(0, 0, 1), RET0 }, SF, MAP_RINGBUF, false, "still held", false },
	{ "ringbuf_use_after_submit", { LDMAP(1, 0), MOVI(2, 8), MOVI(3, 0), CALL(131),
					JI(JEQ, 0, 0, 5), MOVR(6, 0), MOVR(1, 0), MOVI(2, 0), CALL(132),
					STDW(6, 0, 1), RET0 }, SF, MAP_RINGBUF, false, "number, not a pointer",
	  false },
	{ "ringbuf_past_reservation", { LDMAP(1, 0), MOVI(2, 8), MOVI(3, 0), CALL(131),
					JI(JEQ, 0, 0, 4), STDW(0, 8, 1), MOVR(1, 0), MOVI(2, 0),
					CALL(132), RET0 }, SF, MAP_RINGBUF, false, "outside the 8 bytes",
	  false },
	/* helpers and program types */
	{ "helper_for_other_type", { MOVI(2, 0), CALL(44), RET0 }, BPF_PROG_TYPE_KPROBE, -1, false,
	  "cannot use helper", false },
	{ "unknown_helper", { CALL(9999), RET0 }, SF, -1, false, "not known", false },
	/* tail calls: a failed one goes on with r0 unset (bpf_tail_call returns nothing) */
	{ "tail_call_goes_on", { LDMAP(2, 0), MOVI(3, 0), CALL(12), RET0 }, SF, MAP_PROGS, true,
	  NULL, false },
	{ "tail_call_any_index", { LDXW(3, 1, 0), LDMAP(2, 0), CALL(12), MOVI(0, 1), EXIT }, SF,
	  MAP_PROGS, true, NULL, false },
	{ "tail_call_r0_unset", { LDMAP(2, 0), MOVI(3, 0), CALL(12), EXIT }, SF, MAP_PROGS, false,
	  "R0 is not set", false },
	{ "tail_call_args_gone", { LDMAP(2, 0), MOVI(3, 0), CALL(12), MOVR(0, 3), EXIT }, SF,
	  MAP_PROGS, false, "R3 is read before", false },
	{ "tail_call_keeps_ctx_in_r6", { MOVR(6, 1), LDMAP(2, 0), MOVI(3, 0), CALL(12), LDXW(0, 6, 0),
					 EXIT }, SF, MAP_PROGS, true, NULL, false },
	{ "tail_call_not_prog_array", { LDMAP(2, 0), MOVI(3, 0), CALL(12), RET0 }, SF, MAP_ARRAY8,
	  false, "cannot be used with a map", false },
	{ "tail_call_not_ctx", { MOVR(1, 10), LDMAP(2, 0), MOVI(3, 0), CALL(12), RET0 }, SF,
	  MAP_PROGS, false, "must be the context", false },
	/* indirect calls and kernel functions: refused, as Linux refuses them here */
	{ "callx", { MOVI(2, 0), I(0x8d, 2, 0, 0, 0), RET0 }, SF, -1, false, "callx", false },
	{ "kfunc_call", { I(0x85, 0, 2, 0, 1), RET0 }, SF, -1, false, "kfunc", false },
	/* __sk_buff: sk read whole and checked; flow_keys only for flow dissectors */
	{ "skb_sk_read", { LDXDW(2, 1, 168), JI(JEQ, 2, 0, 2), LDXW(0, 2, 4), EXIT, RET0 }, SF, -1,
	  true, NULL, false },
	{ "skb_sk_narrow", { LDXW(2, 1, 168), RET0 }, SF, -1, false, "read as 8 bytes", false },
	{ "skb_sk_write", { STDW(1, 168, 0), RET0 }, SF, -1, false, "invalid context access",
	  false },
	{ "skb_sk_arith", { LDXDW(2, 1, 168), JI(JEQ, 2, 0, 3), ALUI(ADD, 2, 4), RET0, RET0 }, SF,
	  -1, false, "arithmetic on sock_common", false },
	{ "skb_sk_write_field", { LDXDW(2, 1, 168), JI(JEQ, 2, 0, 1), STW(2, 4, 1), RET0 }, SF, -1,
	  false, "read-only", false },
	{ "skb_flow_keys", { LDXDW(2, 1, 144), RET0 }, SF, -1, false, "flow_dissector", false },
	{ "skb_sk_type", { LDXDW(2, 1, 168), JI(JEQ, 2, 0, 1), LDXW(3, 2, 8), RET0 }, SF, -1, false,
	  "not in a sock_common", false },
	/* bpf_sock_ops: sk is a full socket; skb_data .. skb_data_end the packet, read-only */
	{ "sk_msg_sk", { LDXDW(2, 1, 72), LDXW(0, 2, 8), RET0 }, BPF_PROG_TYPE_SK_MSG, -1, true,
	  NULL, false },
	{ "sk_msg_data", { LDXDW(2, 1, 0), LDXDW(3, 1, 8), MOVR(4, 2), ALUI(ADD, 4, 2),
			   JR(JGT, 4, 3, 1), LDXH(5, 2, 0), RET0 }, BPF_PROG_TYPE_SK_MSG, -1, true,
	  NULL, false },
	{ "sockops_sk_full", { LDXDW(2, 1, 184), JI(JEQ, 2, 0, 1), LDXW(3, 2, 8), RET0 },
	  BPF_PROG_TYPE_SOCK_OPS, -1, true, NULL, false },
	{ "sockops_skb_data", { LDXDW(2, 1, 192), LDXDW(3, 1, 200), MOVR(4, 2), ALUI(ADD, 4, 1),
				JR(JGT, 4, 3, 1), LDXB(5, 2, 0), RET0 }, BPF_PROG_TYPE_SOCK_OPS, -1,
	  true, NULL, false },
	{ "sockops_skb_data_past", { LDXDW(2, 1, 192), LDXDW(3, 1, 200), MOVR(4, 2), ALUI(ADD, 4, 1),
				     JR(JGT, 4, 3, 1), LDXB(5, 2, 1), RET0 }, BPF_PROG_TYPE_SOCK_OPS,
	  -1, false, "not proven in bounds", false },
	{ "sockops_skb_data_write", { LDXDW(2, 1, 192), LDXDW(3, 1, 200), MOVR(4, 2),
				      ALUI(ADD, 4, 1), JR(JGT, 4, 3, 1), STB(2, 0, 1), RET0 },
	  BPF_PROG_TYPE_SOCK_OPS, -1, false, "cannot write packet data", false },
	/* for_each_map_elem's callback must be a function (lddw src 4) */
	{ "for_each_needs_func", { LDMAP(1, 0), MOVI(2, 0), MOVI(3, 0), MOVI(4, 0), CALL(164), RET0 },
	  SF, MAP_HASH8, false, "must be a function", false },
};

/* ---- The kernel ------------------------------------------------------------------------- */

static int sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int kfds[NKMAPS];
static int kernel_ok = -1;	/* unknown, 0 no, 1 yes */

static bool kernel_up(void)
{
	if (kernel_ok >= 0)
		return kernel_ok;
	kernel_ok = 1;
	for (int m = 0; m < NKMAPS; m++) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_type = kmap_defs[m].type;
		a.key_size = kmap_defs[m].key;
		a.value_size = kmap_defs[m].value;
		a.max_entries = kmap_defs[m].max;
		a.map_flags = kmap_defs[m].flags;
		kfds[m] = sys_bpf(BPF_MAP_CREATE, &a);
		if (kfds[m] < 0)
			kernel_ok = 0;
	}
	return kernel_ok;
}

static bool kernel_verdict_enabled(void)
{
	return kernel_up();
}

/* 1 accepted, 0 rejected, -1 cannot tell. */
static int kernel_verdict(const struct vcase *c, size_t n, char *log, size_t len)
{
	union bpf_attr a;
	int fds[1];

	if (!kernel_up())
		return -1;
	fds[0] = c->map >= 0 ? kfds[c->map] : -1;
	memset(&a, 0, sizeof(a));
	a.prog_type = c->type;
	a.insns = (uintptr_t)c->insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uintptr_t)"GPL";
	a.fd_array = (uintptr_t)fds;
	a.log_buf = (uintptr_t)log;
	a.log_size = (uint32_t)len;
	a.log_level = 1;
	log[0] = 0;
	int fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == EACCES || errno == EINVAL || errno == E2BIG ? 0 : -1;
}

/* ---- Running the cases ------------------------------------------------------------------ */

static size_t case_len(const struct vcase *c)
{
	size_t n = sizeof(c->insns) / sizeof(c->insns[0]);

	while (n && !c->insns[n - 1].code && !c->insns[n - 1].imm && (n < 2 || c->insns[n - 2].code != 0x18))
		n--;
	return n;
}

static struct bpfrt_map *bpfrt_map_of(int m)
{
	struct bpfrt_map *map = NULL;
	struct bpfrt_error err;

	BPFRT_OPTS(bpfrt_map_opts, o, .type = (enum bpfrt_map_type)kmap_defs[m].type,
		   .key_size = kmap_defs[m].key, .value_size = kmap_defs[m].value,
		   .max_entries = kmap_defs[m].max, .map_flags = kmap_defs[m].flags);
	bpfrt_map_create(&o, &map, &err);
	return map;
}

/*
 * An accepted program (socket filters) must run in checked mode without a
 * fault, on both engines, and unchecked to the same result.
 */
static void run_checked(struct bpfrt_prog *prog, const char *name)
{
	bpfrt_prog_use_builtin_helpers(prog);
	for (int engine = 0; engine < 2; engine++) {
		uint64_t retval[2] = { 0, 0 };
		for (int checked = 1; checked >= 0; checked--) {
			uint8_t ctx[192] = { 0 };
			struct bpfrt_error err;
			BPFRT_OPTS(bpfrt_run_opts, r, .engine = (enum bpfrt_engine)engine,
				   .checked = checked, .ctx = ctx, .ctx_len = sizeof(ctx), .pkt = ctx,
				   .pkt_len = 64);
			int ret = bpfrt_prog_run(prog, &r, &err);
			if (ret < 0 && strstr(err.msg, "not available"))
				return;	/* a helper bpfrt does not have yet */
			CHECK(ret == 0, "%s: accepted, but faults in a %s run (engine %d): %s", name,
			      checked ? "checked" : "unchecked", engine, err.msg);
			retval[checked] = r.retval;
		}
		CHECK(retval[0] == retval[1], "%s: engine %d: unchecked %llu, checked %llu", name,
		      engine, (unsigned long long)retval[0], (unsigned long long)retval[1]);
	}
}

TEST(verifier_rules)
{
	unsigned agree = 0, compared = 0, differ_known = 0;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct vcase *c = &cases[k];
		size_t n = case_len(c);
		struct bpfrt_map *map = c->map >= 0 ? bpfrt_map_of(c->map) : NULL;
		struct bpfrt_prog *prog = NULL;
		struct bpfrt_error err;
		char log[8192];

		BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &map, .nmaps = map ? 1 : 0);
		/* a program bpfrt cannot even hold (a kfunc call) is rejected there */
		int ret = bpfrt_prog_new(c->insns, n, &po, &prog, &err);
		if (!CHECK(ret == 0 || !c->accept, "%s: %s", c->name, err.msg)) {
			bpfrt_map_free(map);
			continue;
		}
		BPFRT_OPTS(bpfrt_verify_opts, vo, .type = (enum bpfrt_prog_type)c->type,
			   .log_level = 2, .log_buf = log, .log_size = sizeof(log));
		if (ret == 0)
			ret = bpfrt_prog_verify(prog, &vo, &err);
		if (c->accept) {
			CHECK(ret == 0, "%s: should be accepted: %s", c->name, err.msg);
		} else {
			CHECK(ret < 0, "%s: should be rejected (%s)", c->name, c->why);
			if (ret < 0)
				CHECK(strstr(err.msg, c->why), "%s: rejected, but not for \"%s\": %s",
				      c->name, c->why, err.msg);
		}
		if (ret == 0 && c->type == SF)
			run_checked(prog, c->name);
		char klog[4096];
		int kv = kernel_verdict(c, n, klog, sizeof(klog));
		if (kv >= 0) {
			compared++;
			bool same = kv == (ret == 0);
			if (c->kernel_differs) {
				differ_known += !same;
				if (same)
					printf("verifier_rules: %s: the kernel now agrees with bpfrt\n",
					       c->name);
			} else {
				agree += same;
				CHECK(same, "%s: the kernel %s it, bpfrt %s it; kernel log: %.300s",
				      c->name, kv ? "accepts" : "rejects", ret == 0 ? "accepts" : "rejects",
				      klog);
			}
		}
		bpfrt_prog_free(prog);
		bpfrt_map_free(map);
	}
	if (compared)
		printf("verifier_rules: %zu cases; the kernel loaded %u: %u agree, %u differ on "
		       "purpose\n", sizeof(cases) / sizeof(cases[0]), compared,
		       agree, differ_known);
	else
		printf("verifier_rules: kernel comparison skipped: bpf() unavailable\n");
}

/* Messages name the instruction, the cause and the register. */
TEST(verifier_messages)
{
	struct bpfrt_insn insns[] = { LOOKUP0, LDXDW(0, 0, 0), EXIT };
	struct bpfrt_map *map = bpfrt_map_of(MAP_HASH8);
	struct bpfrt_prog *prog = NULL;
	struct bpfrt_error err;
	char log[16384];

	BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &map, .nmaps = 1);
	CHECK(bpfrt_prog_new(insns, sizeof(insns) / sizeof(insns[0]), &po, &prog, &err) == 0,
	      "%s", err.msg);
	BPFRT_OPTS(bpfrt_verify_opts, vo, .type = BPFRT_PROG_SOCKET_FILTER, .log_level = 1,
		   .log_buf = log, .log_size = sizeof(log));
	int ret = bpfrt_prog_verify(prog, &vo, &err);
	CHECK(ret == -EACCES, "a NULL dereference is -EACCES: %d", ret);
	CHECK(err.insn == 6, "the message is about insn 6: %d", err.insn);
	CHECK(strstr(err.msg, "insn 6") && strstr(err.msg, "R0 may be NULL") &&
	      strstr(err.msg, "result of insn 5") && strstr(err.msg, "map_value_or_null"),
	      "the message says what, where and why: %s", err.msg);
	CHECK(strstr(log, "5: call") && strstr(log, "6: r0 = *(u64 *)(r0 +0)"),
	      "the log traces each instruction: %.200s", log);
	CHECK(vo.insns_processed == 6 && vo.time_ns > 0, "results: %llu insns",
	      (unsigned long long)vo.insns_processed);
	bpfrt_prog_free(prog);
	bpfrt_map_free(map);
}

/* ---- eBPF C programs: ok_* must be accepted, bad_* rejected, and the kernel must agree ---------- */

#include <bpf/libbpf.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

/*
 * The kernel's verdict on program name of the object at path (NULL: all of
 * them, loaded together): 1, 0, or -1 (cannot tell).
 */
static int kernel_prog_verdict(const char *path, const char *name)
{
	struct bpf_object *o = bpf_object__open_file(path, NULL);
	struct bpf_program *p;
	int ret;

	if (!o)
		return -1;
	if (name)
		bpf_object__for_each_program(p, o)
			bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), name));
	ret = bpf_object__load(o);
	bpf_object__close(o);
	if (ret == -EPERM || ret == -ENOSYS)
		return -1;
	return ret == 0;
}

/* Every program of build/tests/bpf/<file>: ok_* (or, with all_ok, any) accepted, bad_* rejected. */
static void check_object(const char *file, bool all_ok)
{
	char path[512];
	struct bpfrt_obj *obj = NULL;
	struct bpfrt_error err;
	unsigned compared = 0;

	snprintf(path, sizeof(path), "%s/tests/bpf/%s", t_builddir(), file);
	if (!CHECK(bpfrt_obj_open(path, NULL, &obj, &err) == 0, "%s: %s", path, err.msg))
		return;
	libbpf_print_fn_t old = libbpf_set_print(quiet);
	/*
	 * Objects whose programs are all accepted load as a whole: their prog
	 * arrays are initialised with their programs, so one alone fails to load.
	 */
	int kall = all_ok && kernel_verdict_enabled() ? kernel_prog_verdict(path, NULL) : -1;
	for (size_t i = 0; i < bpfrt_obj_prog_count(obj); i++) {
		struct bpfrt_obj_prog_info info;
		bpfrt_obj_prog_at(obj, i, &info);
		BPFRT_OPTS(bpfrt_verify_opts, o, .type = info.type, .obj = obj, .prog_index = i);
		int ret = bpfrt_prog_verify(NULL, &o, &err);
		bool want = all_ok || !strncmp(info.name, "ok_", 3);
		CHECK((ret == 0) == want, "%s/%s: should be %s: %s", file, info.name,
		      want ? "accepted" : "rejected", ret ? err.msg : "accepted");
		int kv = all_ok ? kall : kernel_verdict_enabled() ?
			 kernel_prog_verdict(path, info.name) : -1;
		if (kv >= 0) {
			compared++;
			CHECK(kv == (ret == 0), "%s/%s: the kernel %s it, bpfrt %s it", file,
			      info.name, kv ? "accepts" : "rejects", ret == 0 ? "accepts" : "rejects");
		}
	}
	libbpf_set_print(old);
	printf("verifier_c_programs: %s: %zu programs, %u compared with the kernel\n", file,
	       bpfrt_obj_prog_count(obj), compared);
	bpfrt_obj_close(obj);
}

TEST(verifier_c_programs)
{
	check_object("verifier_progs.o", false);
	/* the engines' callback and tail-call tests: the kernel loads them all */
	check_object("callback.o", true);
	check_object("tailcall.o", true);
}

/* ---- Prototype coverage: every helper bpfrt registers has a verifier prototype ------------ */

#include "exec/prog.h"
#include "verifier/verifier.h"

TEST(verifier_proto_coverage)
{
	struct bpfrt_insn insns[] = { RET0 };
	struct bpfrt_prog *prog = NULL;
	struct bpfrt_error err;
	unsigned n = 0;

	if (!CHECK(bpfrt_prog_new(insns, 2, NULL, &prog, &err) == 0, "%s", err.msg))
		return;
	CHECK(bpfrt_prog_use_builtin_helpers(prog) == 0, "builtin helpers");
	for (size_t id = 0; id < prog->nhelpers; id++) {
		const struct helper_slot *h = &prog->helpers[id];
		if (!h->fn)
			continue;
		n++;
		const struct vproto *p = proto_get((uint32_t)id);
		if (!CHECK(p, "helper %zu (bpf_%s) is registered but has no verifier prototype "
			   "(src/verifier/protos.c)", id, h->name ? h->name : "?"))
			continue;
		/* the same helper: bpftool's name is the prototype's without "bpf_" */
		CHECK(h->name && !strncmp(p->name, "bpf_", 4) && !strcmp(p->name + 4, h->name),
		      "helper %zu: registered as %s, prototype %s", id, h->name ? h->name : "?",
		      p->name);
		/* every memory argument is followed by its size */
		for (unsigned a = 0; a < 5; a++)
			if (p->args[a] == A_MEM || p->args[a] == A_UMEM || p->args[a] == A_MEM_NULL ||
			    p->args[a] == A_UMEM_NULL)
				CHECK(a < 4 && (p->args[a + 1] == A_SIZE || p->args[a + 1] == A_SIZE0),
				      "%s: argument %u has no size after it", p->name, a + 1);
	}
	CHECK(n >= 60, "only %u helpers registered", n);
	printf("verifier_proto_coverage: %u registered helpers, all with prototypes\n", n);
	bpfrt_prog_free(prog);
}

/* ---- Constant strings, spin locks, sk, kfuncs (verifier_rules.bpf.c) ----------------------- */

#include <bpf/bpf.h>

/* Every program of verifier_rules.o: bpfrt's verdict and message, the kernel's, and runs. */
static const struct {
	const char *name;
	const char *why;	/* bad_*: a phrase of bpfrt's message */
	int retval;		/* ok_*: what a run returns (bpfrt's engines and Linux) */
	int kretval;		/* what Linux returns, where it differs on purpose (else -1) */
} rule_progs[] = {
	{ "ok_snprintf", NULL, 8, -1 },			/* "x=7 y=9" + NUL */
	{ "ok_snprintf_null_out", NULL, 10, -1 },		/* "x=123 y=4" + NUL */
	{ "bad_snprintf_stack_fmt", "constant string in a read-only map", 0, -1 },
	{ "bad_snprintf_writable_fmt", "that programs may write", 0, -1 },
	{ "bad_snprintf_too_few_args", "more conversions than arguments", 0, -1 },
	{ "bad_snprintf_conversion", "the format \"%5.2f\"", 0, -1 },
	{ "bad_snprintf_var_offset", "constant offset", 0, -1 },
	{ "bad_snprintf_no_nul", "not NUL-terminated", 0, -1 },
	{ "ok_strncmp", NULL, 3, -1 },
	{ "bad_strncmp_writable", "that programs may write", 0, -1 },
	{ "ok_trace_printk_stack_fmt", NULL, 0, -1 },
	{ "ok_lock", NULL, 1, -1 },
	{ "ok_lock_branches", NULL, 0, -1 },
	{ "bad_lock_twice", "only one lock", 0, -1 },
	{ "bad_lock_exit_held", "exit while holding", 0, -1 },
	{ "bad_lock_helper_inside", "while holding the bpf_spin_lock", 0, -1 },
	{ "bad_lock_read_word", "cannot be accessed directly by a load", 0, -1 },
	{ "bad_unlock_other", "another lock", 0, -1 },
	{ "bad_lock_wrong_offset", "struct bpf_spin_lock is at offset", 0, -1 },
	{ "bad_lock_no_lock_in_value", "no struct bpf_spin_lock field", 0, -1 },
	{ "bad_lock_one_path", "without a bpf_spin_lock held", 0, -1 },
	{ "bad_lock_which_value", "another lock", 0, -1 },
	{ "ok_lock_local_call", NULL, 1, -1 },
	{ "ok_lock_in_callee", NULL, 4, -1 },
	{ "ok_lock_in_loop_cb", NULL, 3, -1 },
	{ "bad_lock_held_by_cb", "exit while holding", 0, -1 },
	{ "bad_lock_loop_inside", "while holding the bpf_spin_lock", 0, -1 },
	{ "bad_unlock_without_lock", "without a bpf_spin_lock held", 0, -1 },
	{ "ok_global_lock", NULL, 2, -1 },
	{ "bad_global_lock_touch", "cannot be accessed directly", 0, -1 },
	{ "bad_lock_socket_filter", "cannot use a map whose value holds", 0, -1 },
	{ "ok_sk_family", NULL, 7, 2 },	/* Linux's test run has a socket (family 0); bpfrt has none */
	{ "bad_sk_unchecked", "may be NULL", 0, -1 },
	{ "bad_sk_mark", "not in a sock_common", 0, -1 },
	{ "bad_flow_keys", "flow_dissector", 0, -1 },
};

static void no_trace(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	(void)line;
	(void)len;
}

/* The kernel's verdict on one program of path, and its verifier log (log_level 1). */
static int kernel_prog_verdict_log(const char *path, const char *name, char *log, size_t len)
{
	struct bpf_object *o = bpf_object__open_file(path, NULL);
	struct bpf_program *p;
	int ret;

	log[0] = 0;
	if (!o)
		return -1;
	bpf_object__for_each_program(p, o) {
		bool me = !strcmp(bpf_program__name(p), name);
		bpf_program__set_autoload(p, me);
		if (me) {
			bpf_program__set_log_buf(p, log, len);
			bpf_program__set_log_level(p, 1);
		}
	}
	ret = bpf_object__load(o);
	bpf_object__close(o);
	if (ret == -EPERM || ret == -ENOSYS)
		return -1;
	return ret == 0;
}

/* The kernel's return value for ok program name (its own object, fresh maps), or -1. */
static long kernel_retval(const char *path, const char *name)
{
	struct bpf_object *o = bpf_object__open_file(path, NULL);
	struct bpf_program *p;
	uint8_t pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = 1);
	long r = -1;

	if (!o)
		return -1;
	bpf_object__for_each_program(p, o)
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), name));
	if (!bpf_object__load(o)) {
		p = bpf_object__find_program_by_name(o, name);
		if (p && !bpf_prog_test_run_opts(bpf_program__fd(p), &t))
			r = t.retval;
	}
	bpf_object__close(o);
	return r;
}

TEST(verifier_rules_c)
{
	char path[512], klog[16384];
	struct bpfrt_obj *obj = NULL;
	struct bpfrt_error err;
	unsigned compared = 0, runs = 0, kruns = 0;

	snprintf(path, sizeof(path), "%s/tests/bpf/verifier_rules.o", t_builddir());
	if (!CHECK(bpfrt_obj_open(path, NULL, &obj, &err) == 0, "%s: %s", path, err.msg))
		return;
	libbpf_print_fn_t old = libbpf_set_print(quiet);
	bool kernel = kernel_verdict_enabled();
	CHECK(bpfrt_obj_prog_count(obj) == sizeof(rule_progs) / sizeof(rule_progs[0]),
	      "verifier_rules.o has %zu programs, the table %zu", bpfrt_obj_prog_count(obj),
	      sizeof(rule_progs) / sizeof(rule_progs[0]));
	/* the object's own verdicts, before it is loaded */
	for (size_t i = 0; i < bpfrt_obj_prog_count(obj); i++) {
		struct bpfrt_obj_prog_info info;
		size_t k;
		bpfrt_obj_prog_at(obj, i, &info);
		for (k = 0; k < sizeof(rule_progs) / sizeof(rule_progs[0]); k++)
			if (!strcmp(rule_progs[k].name, info.name))
				break;
		if (!CHECK(k < sizeof(rule_progs) / sizeof(rule_progs[0]), "%s: not in the table",
			   info.name))
			continue;
		const char *why = rule_progs[k].why;
		BPFRT_OPTS(bpfrt_verify_opts, o, .type = info.type, .obj = obj, .prog_index = i);
		int ret = bpfrt_prog_verify(NULL, &o, &err);
		if (!why)
			CHECK(ret == 0, "%s: should be accepted: %s", info.name, err.msg);
		else if (CHECK(ret < 0, "%s: should be rejected (%s)", info.name, why))
			CHECK(strstr(err.msg, why) && strstr(err.msg, "verifier_rules.bpf.c:"),
			      "%s: rejected, but the message lacks \"%s\" or the source line: %s",
			      info.name, why, err.msg);
		if (getenv("BPFRT_SHOW_MESSAGES") && ret)
			printf("%s\n  bpfrt: %s\n", info.name, err.msg);
		int kv = kernel ? kernel_prog_verdict_log(path, info.name, klog, sizeof(klog)) : -1;
		if (kv >= 0) {
			compared++;
			CHECK(kv == (ret == 0), "%s: the kernel %s it, bpfrt %s it; kernel log: %.400s",
			      info.name, kv ? "accepts" : "rejects", ret == 0 ? "accepts" : "rejects",
			      klog);
			if (getenv("BPFRT_SHOW_MESSAGES") && !kv)
				printf("  kernel: %s\n", klog);
		}
		bpfrt_obj_prog_set_autoload(obj, i, !why);
	}
	/* loaded: the accepted ones are verified again as run (frozen .rodata), then run */
	if (CHECK(bpfrt_obj_load(obj, &err) == 0, "load: %s", err.msg)) {
		bpfrt_trace_set_sink(no_trace, NULL);
		for (size_t k = 0; k < sizeof(rule_progs) / sizeof(rule_progs[0]); k++) {
			if (rule_progs[k].why)
				continue;
			const char *name = rule_progs[k].name;
			struct bpfrt_prog *prog = bpfrt_obj_prog_by_name(obj, name);
			size_t idx = 0;
			for (size_t i = 0; i < bpfrt_obj_prog_count(obj); i++)
				if (bpfrt_obj_prog_at(obj, i, NULL) == prog)
					idx = i;
			if (!CHECK(prog, "%s: not loaded", name))
				continue;
			bpfrt_prog_use_builtin_helpers(prog);
			BPFRT_OPTS(bpfrt_verify_opts, o, .type = BPFRT_PROG_SCHED_CLS, .obj = obj,
				   .prog_index = idx);
			CHECK(bpfrt_prog_verify(prog, &o, &err) == 0, "%s: loaded, rejected: %s",
			      name, err.msg);
			for (int engine = 0; engine < 2; engine++)
				for (int checked = 0; checked < 2; checked++) {
					uint8_t pkt[64] = { 0 };
					BPFRT_OPTS(bpfrt_test_run_opts, t,
						   .engine = (enum bpfrt_engine)engine,
						   .checked = checked, .data_in = pkt,
						   .data_size_in = sizeof(pkt));
					int ret = bpfrt_prog_test_run(prog, &t, &err);
					runs++;
					CHECK(ret == 0 && (int)t.retval == rule_progs[k].retval,
					      "%s: engine %d checked %d: ret %d r0 %u, want %d: %s",
					      name, engine, checked, ret, t.retval,
					      rule_progs[k].retval, ret ? err.msg : "");
				}
			if (kernel) {
				long kr = kernel_retval(path, name);
				if (kr >= 0) {
					kruns++;
					int kwant = rule_progs[k].kretval >= 0 ? rule_progs[k].kretval
									      : rule_progs[k].retval;
					CHECK(kr == kwant, "%s: Linux returns %ld, want %d", name, kr,
					      kwant);
				}
			}
		}
		bpfrt_trace_set_sink(NULL, NULL);
	}
	/* a kfunc call: refused before the walk, by name and source line; Linux refuses it too */
	snprintf(path, sizeof(path), "%s/tests/bpf/verifier_kfunc.o", t_builddir());
	struct bpfrt_obj *kobj = NULL;
	if (CHECK(bpfrt_obj_open(path, NULL, &kobj, &err) == 0, "%s: %s", path, err.msg)) {
		BPFRT_OPTS(bpfrt_verify_opts, o, .type = BPFRT_PROG_SCHED_CLS, .obj = kobj);
		int ret = bpfrt_prog_verify(NULL, &o, &err);
		CHECK(ret == -ENOTSUP && strstr(err.msg, "kernel function 'bpfrt_no_such_kfunc'") &&
		      strstr(err.msg, "verifier_kfunc.bpf.c:") && strstr(err.msg, "insn "),
		      "bad_kfunc: %d %s", ret, err.msg);
		if (getenv("BPFRT_SHOW_MESSAGES"))
			printf("bad_kfunc\n  bpfrt: %s\n", err.msg);
		int kv = kernel ? kernel_prog_verdict_log(path, "bad_kfunc", klog, sizeof(klog)) : -1;
		if (kv >= 0) {
			compared++;
			CHECK(kv == 0, "bad_kfunc: the kernel accepts it");
		}
		bpfrt_obj_close(kobj);
	}
	libbpf_set_print(old);
	printf("verifier_rules_c: %zu programs, %u compared with the kernel; %u runs on bpfrt, "
	       "%u in Linux\n", bpfrt_obj_prog_count(obj), compared, runs, kruns);
	bpfrt_obj_close(obj);
}

/* ---- Context access rules, every offset and size, against Linux ----------------------------- */

/*
 * For each program type with a modelled context: a load, a store of a
 * register and a store of an immediate, of every size at every aligned
 * offset of its context (and a little past it), verified by bpfrt and
 * loaded into the kernel. The verdicts must agree, except where bpfrt is
 * stricter on purpose (none today).
 */
TEST(verifier_ctx_sweep)
{
	static const struct { uint32_t type; unsigned len; } types[] = {
		{ BPF_PROG_TYPE_SOCKET_FILTER, 192 }, { BPF_PROG_TYPE_SCHED_CLS, 192 },
		{ BPF_PROG_TYPE_CGROUP_SKB, 192 }, { BPF_PROG_TYPE_LWT_IN, 192 },
		{ BPF_PROG_TYPE_SK_SKB, 192 }, { BPF_PROG_TYPE_XDP, 24 },
		{ BPF_PROG_TYPE_SOCK_OPS, 224 }, { BPF_PROG_TYPE_CGROUP_SOCK, 80 },
		{ BPF_PROG_TYPE_KPROBE, 168 }, { BPF_PROG_TYPE_PERF_EVENT, 184 },
		{ BPF_PROG_TYPE_SCHED_ACT, 192 }, { BPF_PROG_TYPE_LWT_OUT, 192 },
		{ BPF_PROG_TYPE_LWT_XMIT, 192 }, { BPF_PROG_TYPE_RAW_TRACEPOINT, 96 },
		{ BPF_PROG_TYPE_SK_MSG, 80 }, { BPF_PROG_TYPE_CGROUP_DEVICE, 12 },
	};
	static const unsigned sizes[] = { 1, 2, 4, 8 };
	static const uint8_t szcode[] = { 0x10, 0x08, 0x00, 0x18 };	/* BPF_B, H, W, DW */
	unsigned total = 0, compared = 0, agree = 0, shown = 0;

	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
		for (unsigned kind = 0; kind < 3; kind++)	/* LDX, STX, ST */
			for (unsigned z = 0; z < 4; z++)
				for (unsigned off = 0; off < types[t].len + 8; off += sizes[z]) {
					struct vcase c = { .name = "sweep", .type = types[t].type,
							   .map = -1 };
					uint8_t sz = szcode[z];
					c.insns[0] = (struct bpfrt_insn)MOVI(2, 0);
					if (kind == 0)
						c.insns[1] = (struct bpfrt_insn)I(0x61 | sz, 3, 1, off, 0);
					else if (kind == 1)
						c.insns[1] = (struct bpfrt_insn)I(0x63 | sz, 1, 2, off, 0);
					else
						c.insns[1] = (struct bpfrt_insn)I(0x62 | sz, 1, 0, off, 0);
					c.insns[2] = (struct bpfrt_insn)MOVI(0, 0);
					c.insns[3] = (struct bpfrt_insn)EXIT;
					struct bpfrt_prog *prog = NULL;
					struct bpfrt_error err;
					if (!CHECK(bpfrt_prog_new(c.insns, 4, NULL, &prog, &err) == 0,
						   "%s", err.msg))
						continue;
					BPFRT_OPTS(bpfrt_verify_opts, vo,
						   .type = (enum bpfrt_prog_type)c.type);
					int ret = bpfrt_prog_verify(prog, &vo, &err);
					bpfrt_prog_free(prog);
					total++;
					char klog[2048];
					int kv = kernel_verdict(&c, 4, klog, sizeof(klog));
					if (kv < 0)
						continue;
					compared++;
					bool same = kv == (ret == 0);
					agree += same;
					if (!same && getenv("BPFRT_SWEEP_DUMP"))
						printf("D %u %u %u %u k%d b%d\n", c.type, kind,
						       sizes[z], off, kv, ret == 0);
					if (!same && shown++ < 40) {
						char *nl = strrchr(klog, '\n');
						if (nl && nl > klog) {
							*nl = 0;
							nl = strrchr(klog, '\n');
						}
						CHECK(same, "type %u: %s of %u bytes at ctx+%u: the kernel "
						      "%s it, bpfrt %s it (%s); kernel: %s", c.type,
						      kind == 0 ? "load" : kind == 1 ? "store (reg)" :
						      "store (imm)", sizes[z], off, kv ? "accepts" : "rejects",
						      ret == 0 ? "accepts" : "rejects", ret ? err.msg : "",
						      nl ? nl + 1 : klog);
					} else if (!same) {
						CHECK(same, "(more)");
					}
				}
	if (compared)
		printf("verifier_ctx_sweep: %u accesses; the kernel decided %u: %u agree\n", total,
		       compared, agree);
	else
		printf("verifier_ctx_sweep: %u accesses; kernel comparison skipped: bpf() "
		       "unavailable\n", total);
}

/* ---- bpf_snprintf's constant format, random ones, against Linux's verifier ------------------ */

static uint64_t fmt_rng = 0x9e3779b97f4a7c15ull;

static unsigned fmt_rnd(unsigned n)
{
	fmt_rng ^= fmt_rng << 13;
	fmt_rng ^= fmt_rng >> 7;
	fmt_rng ^= fmt_rng << 17;
	return (unsigned)(fmt_rng % n);
}

/* A format of text and conversions, valid or nearly so, at most 63 bytes. */
static void random_fmt(char *f, size_t cap)
{
	static const char *const conv[] = {
		"d", "i", "u", "x", "X", "ld", "llu", "lx", "c", "s", "p", "pK", "px", "ps", "pS",
		"pB", "pks", "pus", "pi4", "pI6", "hd", "o", "f", "n", "q", "lld", "zu", "pV",
		"lllx", "l", "pi", "pks.",
	};
	size_t n = 0;
	unsigned parts = 1 + fmt_rnd(6);

	for (unsigned p = 0; p < parts && n + 16 < cap; p++) {
		switch (fmt_rnd(4)) {
		case 0:
			n += (size_t)snprintf(f + n, cap - n, "%s", fmt_rnd(8) ? "ab " : "\t!");
			break;
		case 1:
			n += (size_t)snprintf(f + n, cap - n, "%%%%");
			break;
		default:
			f[n++] = '%';
			if (fmt_rnd(3) == 0)
				f[n++] = "-+ 0"[fmt_rnd(4)];
			if (fmt_rnd(3) == 0)
				n += (size_t)snprintf(f + n, cap - n, "%u", fmt_rnd(30));
			if (fmt_rnd(8) == 0)
				n += (size_t)snprintf(f + n, cap - n, ".%u", fmt_rnd(5));
			n += (size_t)snprintf(f + n, cap - n, "%s",
					      conv[fmt_rnd(sizeof(conv) / sizeof(conv[0]))]);
			if (fmt_rnd(6) == 0)
				f[n++] = fmt_rnd(2) ? 'a' : '.';
			break;
		}
	}
	f[n] = 0;
}

/* snprintf(buf, 64, fmt, data, data_len): fmt in map 0 (64 bytes, frozen .rodata-like). */
static size_t fmt_prog(struct bpfrt_insn *p, uint32_t data_len)
{
	size_t n = 0;

	p[n++] = (struct bpfrt_insn)MOVI(6, 0);
	for (int k = 1; k <= 14; k++)	/* data: 14 zero u64 at r10-112 */
		p[n++] = (struct bpfrt_insn)STXDW(10, 6, -8 * k);
	p[n++] = (struct bpfrt_insn)MOVR(1, 10);
	p[n++] = (struct bpfrt_insn)ALUI(ADD, 1, -176);
	p[n++] = (struct bpfrt_insn)MOVI(2, 64);
	p[n++] = (struct bpfrt_insn)I(0x18, 3, 6, 0, 0);	/* lddw r3, map 0 value + 0 */
	p[n++] = (struct bpfrt_insn)I(0, 0, 0, 0, 0);
	p[n++] = (struct bpfrt_insn)MOVR(4, 10);
	p[n++] = (struct bpfrt_insn)ALUI(ADD, 4, -112);
	p[n++] = (struct bpfrt_insn)MOVI(5, (int32_t)data_len);
	p[n++] = (struct bpfrt_insn)CALL(165);
	p[n++] = (struct bpfrt_insn)EXIT;
	return n;
}

TEST(verifier_snprintf_formats)
{
	unsigned tried = 0, agree = 0, accepted = 0;

	if (!kernel_verdict_enabled()) {
		printf("verifier_snprintf_formats: skipped: bpf() unavailable\n");
		return;
	}
	for (int i = 0; i < 400; i++) {
		char value[64] = { 0 }, klog[2048];
		uint32_t data_len = 8 * fmt_rnd(14) + (fmt_rnd(20) == 0 ? 4 : 0), zero = 0;
		struct bpfrt_insn insns[32];
		struct bpfrt_map *map = NULL;
		struct bpfrt_prog *prog = NULL;
		struct bpfrt_error err;

		random_fmt(value, sizeof(value));
		size_t n = fmt_prog(insns, data_len);
		BPFRT_OPTS(bpfrt_map_opts, mo, .type = BPFRT_MAP_ARRAY, .key_size = 4,
			   .value_size = sizeof(value), .max_entries = 1,
			   .map_flags = BPF_F_RDONLY_PROG);
		if (!CHECK(bpfrt_map_create(&mo, &map, &err) == 0 &&
			   bpfrt_map_update(map, &zero, value, 0) == 0 && bpfrt_map_freeze(map) == 0,
			   "map: %s", err.msg))
			break;
		BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &map, .nmaps = 1);
		if (!CHECK(bpfrt_prog_new(insns, n, &po, &prog, &err) == 0, "%s", err.msg)) {
			bpfrt_map_free(map);
			break;
		}
		BPFRT_OPTS(bpfrt_verify_opts, vo, .type = BPFRT_PROG_SOCKET_FILTER);
		int ret = bpfrt_prog_verify(prog, &vo, &err);

		/* the kernel, with the same format in a frozen read-only array */
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_type = BPF_MAP_TYPE_ARRAY;
		a.key_size = 4;
		a.value_size = sizeof(value);
		a.max_entries = 1;
		a.map_flags = BPF_F_RDONLY_PROG;
		int kmap = sys_bpf(BPF_MAP_CREATE, &a);
		int kv = -1;
		if (kmap >= 0) {
			memset(&a, 0, sizeof(a));
			a.map_fd = (uint32_t)kmap;
			a.key = (uintptr_t)&zero;
			a.value = (uintptr_t)value;
			if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a) == 0) {
				memset(&a, 0, sizeof(a));
				a.map_fd = (uint32_t)kmap;
				if (sys_bpf(BPF_MAP_FREEZE, &a) == 0) {
					struct vcase c = { .name = "fmt", .type = SF, .map = 0 };
					memcpy(c.insns, insns, n * sizeof(insns[0]));
					int save = kfds[0];
					kfds[0] = kmap;
					kv = kernel_verdict(&c, n, klog, sizeof(klog));
					kfds[0] = save;
				}
			}
			close(kmap);
		}
		if (kv >= 0) {
			tried++;
			accepted += kv;
			agree += kv == (ret == 0);
			CHECK(kv == (ret == 0), "format \"%s\", data_len %u: the kernel %s it, bpfrt %s "
			      "it%s%s", value, data_len, kv ? "accepts" : "rejects",
			      ret == 0 ? "accepts" : "rejects", ret ? ": " : "", ret ? err.msg : "");
		}
		/* what is accepted runs on both engines, checked and unchecked, alike */
		if (ret == 0) {
			bpfrt_prog_use_builtin_helpers(prog);
			uint64_t r[4];
			for (int k = 0; k < 4; k++) {
				BPFRT_OPTS(bpfrt_run_opts, ro, .engine = (enum bpfrt_engine)(k / 2),
					   .checked = k % 2);
				CHECK(bpfrt_prog_run(prog, &ro, &err) == 0, "\"%s\": %s", value, err.msg);
				r[k] = ro.retval;
			}
			/* more than 12 arguments: the helper refuses them when called, as Linux's */
			int64_t want_err = data_len > 96 ? -EINVAL : 0;
			CHECK(r[0] == r[1] && r[1] == r[2] && r[2] == r[3] &&
			      (want_err ? (int64_t)r[0] == want_err : (int64_t)r[0] > 0),
			      "\"%s\" (data_len %u): r0 %lld %lld %lld %lld", value, data_len,
			      (long long)r[0], (long long)r[1], (long long)r[2], (long long)r[3]);
		}
		bpfrt_prog_free(prog);
		bpfrt_map_free(map);
	}
	printf("verifier_snprintf_formats: %u random formats loaded into both verifiers: %u agree "
	       "(the kernel accepts %u)\n", tried, agree, accepted);
}
