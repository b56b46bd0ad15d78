/* test_callbacks.c — bpf_loop and bpf_for_each_map_elem on both engines and modes, against the kernel. */
#include <errno.h>
#include <string.h>

#include "bpfrt.h"
#include "objrun.h"
#include "t.h"

/*
 * arr[k] = 10k + 1 (6 entries); hash: keys 1..9, value 100k; lru: keys 2..5,
 * value k; per-CPU (every CPU the same): pcpu_arr[k] = 7k (5 entries),
 * pcpu_hash: keys 1..3, value 1000k; pcpu_lru: keys 5..7, value k - 4.
 */
static void fill(struct or_map (*lookup)(void *, const char *), void *side)
{
	struct or_map arr = lookup(side, "arr"), hash = lookup(side, "hash");
	struct or_map lru = lookup(side, "lru");

	struct or_map pa = lookup(side, "pcpu_arr"), ph = lookup(side, "pcpu_hash");
	struct or_map pl = lookup(side, "pcpu_lru");

	for (uint32_t k = 0; k < 8; k++) {
		or_delete(lru, k);
		or_delete(ph, k);
		or_delete(pl, k);
	}
	for (uint32_t k = 2; k <= 5; k++)
		or_update(lru, k, k);
	for (uint32_t k = 0; k < 5; k++)
		or_update_percpu(pa, k, 7 * k);
	for (uint32_t k = 1; k <= 3; k++) {
		or_update_percpu(ph, k, 1000 * k);
		or_update_percpu(pl, k + 4, k);
	}
	for (uint32_t k = 0; k < 6; k++)
		or_update(arr, k, 10 * k + 1);
	for (uint32_t k = 0; k < 16; k++)
		or_delete(hash, k);
	for (uint32_t k = 1; k <= 9; k++)
		or_update(hash, k, 100 * k);
}

#define NEG(e) ((uint64_t)-(int64_t)(e))

TEST(callbacks_object)
{
	struct objrun o;

	if (!or_open(&o, "callback", fill))
		return;
	/* bpf_loop: result = { return, sum of i*i, callback calls } */
	or_expect(&o, "loop_stop", 6, (const uint64_t[]){ 6, 55, 6 }, 3);
	or_expect(&o, "loop_all", 20, (const uint64_t[]){ 20, 2470, 20 }, 3);
	or_expect(&o, "loop_none", 0, (const uint64_t[]){ 0, 0, 0 }, 3);
	or_expect(&o, "loop_flags", 1, (const uint64_t[]){ NEG(EINVAL), 0, 0 }, 3);
	/* Linux's inlined bpf_loop says -E2BIG in 32 bits (zero-extended) */
	or_expect(&o, "loop_too_many", 1, (const uint64_t[]){ (uint32_t)-E2BIG, 0, 0 }, 3);
	or_expect(&o, "loop_nested", 35, (const uint64_t[]){ 6, 35 }, 2);
	/* bpf_for_each_map_elem: result = { elements visited, sum of values, of keys } */
	or_expect(&o, "each_array", 6, (const uint64_t[]){ 6, 156, 15 }, 3);
	or_expect(&o, "each_array_stop", 4, (const uint64_t[]){ 4, 64, 6 }, 3);
	or_expect(&o, "each_hash", 9, (const uint64_t[]){ 9, 4500, 45 }, 3);
	or_expect(&o, "each_lru", 4, (const uint64_t[]){ 4, 14, 14 }, 3);
	or_expect(&o, "each_pcpu_array", 5, (const uint64_t[]){ 5, 70, 10 }, 3);
	or_expect(&o, "each_pcpu_hash", 3, (const uint64_t[]){ 3, 6000, 6 }, 3);
	or_expect(&o, "each_pcpu_lru", 3, (const uint64_t[]){ 3, 6, 18 }, 3);
	or_expect(&o, "each_flags", 0, (const uint64_t[]){ NEG(EINVAL) }, 1);
	struct or_result r = or_expect(&o, "each_delete", 5, (const uint64_t[]){ 9, 5 }, 2);
	CHECK(r.hash_n == 4 && r.hash_keys == 20, "the even keys are left: %llu keys, sum %llu",
	      (unsigned long long)r.hash_n, (unsigned long long)r.hash_keys);
	or_close(&o);
}

/* ---- Frame accounting and bad input, in raw instructions ------------------------ */

#define I(c, d, s, o, i) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) }
#define MOV(d, k)	I(0xb7, d, 0, 0, k)
#define MOVR(d, s)	I(0xbf, d, s, 0, 0)
#define ADDI(d, k)	I(0x07, d, 0, 0, k)
#define LDXDW(d, s, o)	I(0x79, d, s, o, 0)
#define STXDW(d, s, o)	I(0x7b, d, s, o, 0)
#define JEQI(d, k, o)	I(0x15, d, 0, o, k)
#define CALL(id)	I(0x85, 0, 0, 0, id)
#define CALLL(rel)	I(0x85, 0, 1, 0, rel)
#define EXIT		I(0x95, 0, 0, 0, 0)
#define LDDW(d, src, lo, hi) I(0x18, d, src, 0, lo), I(0, 0, 0, 0, hi)

struct outcome {
	int ret;
	uint64_t r0, insns, ctx;
	int insn;
	char msg[256];
};

static struct bpfrt_prog *mkprog(const struct bpfrt_insn *insns, size_t n,
				 struct bpfrt_map *map)
{
	BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &map, .nmaps = map ? 1 : 0);
	struct bpfrt_prog *p = NULL;
	struct bpfrt_error err;

	if (!CHECK(bpfrt_prog_new(insns, n, &po, &p, &err) == 0, "program: %s", err.msg))
		return NULL;
	bpfrt_prog_use_builtin_helpers(p);
	return p;
}

static struct outcome run_mode(struct bpfrt_prog *p, int engine, bool checked, uint64_t budget)
{
	struct outcome out = { 0 };
	struct bpfrt_error err;

	BPFRT_OPTS(bpfrt_run_opts, ro, .engine = engine ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP,
		   .checked = checked, .ctx = &out.ctx, .ctx_len = sizeof(out.ctx),
		   .budget = budget);
	out.ret = bpfrt_prog_run(p, &ro, &err);
	out.r0 = ro.retval;
	out.insns = ro.insns;
	out.insn = out.ret ? err.insn : -1;
	snprintf(out.msg, sizeof(out.msg), "%s", out.ret ? err.msg : "");
	return out;
}

/* All engine/mode pairs (or the checked ones) agree; the first outcome is returned. */
static struct outcome run_all(struct bpfrt_prog *p, bool checked_only, uint64_t budget)
{
	struct outcome first = { 0 };
	bool have = false;

	for (int checked = 1; p && checked >= (checked_only ? 1 : 0); checked--) {
		for (int engine = 0; engine < 2; engine++) {
			struct outcome o = run_mode(p, engine, checked, budget);

			if (!have) {
				first = o;
				have = true;
				continue;
			}
			CHECK(o.ret == first.ret && o.r0 == first.r0 && o.ctx == first.ctx &&
			      o.insn == first.insn && !strcmp(o.msg, first.msg) &&
			      (!checked || o.insns == first.insns),
			      "%s %s: ret %d r0 %llu ctx %llu insns %llu at %d '%s'; first: "
			      "ret %d r0 %llu ctx %llu insns %llu at %d '%s'",
			      engine ? "jit" : "interp", checked ? "checked" : "unchecked",
			      o.ret, (unsigned long long)o.r0, (unsigned long long)o.ctx,
			      (unsigned long long)o.insns, o.insn, o.msg, first.ret,
			      (unsigned long long)first.r0, (unsigned long long)first.ctx,
			      (unsigned long long)first.insns, first.insn, first.msg);
		}
	}
	return first;
}

/*
 * f recurses k times, then calls bpf_loop: the callback's frame is k + 2
 * deep (main, k + 1 frames of f). 8 frames fit, a 9th does not.
 */
TEST(callbacks_frame_depth)
{
	for (int k = 0; k <= 7; k++) {
		const struct bpfrt_insn insns[] = {
			MOV(6, k),		/* 0 */
			CALLL(1),		/* 1: f */
			EXIT,			/* 2 */
			JEQI(6, 0, 3),		/* 3: f */
			ADDI(6, -1),
			CALLL(-3),
			EXIT,
			MOV(1, 1),		/* 7 */
			LDDW(2, 4, 5, 0),	/* 8: cb at 14 */
			MOV(3, 0),
			MOV(4, 0),
			CALL(181),		/* 12 */
			EXIT,
			MOV(0, 0),		/* 14: cb */
			EXIT,
		};
		struct bpfrt_prog *p = mkprog(insns, sizeof(insns) / sizeof(insns[0]), NULL);
		struct outcome o = run_all(p, false, 0);

		if (k + 2 <= 7)
			CHECK(o.ret == 0 && o.r0 == 1, "k %d: the callback at depth %d: %d %s",
			      k, k + 2, o.ret, o.msg);
		else if (k + 1 <= 7)
			CHECK(o.ret == -E2BIG && o.insn == 12 &&
			      strstr(o.msg, "insn 12: bpf_loop: the callback would make call "
				     "nesting exceed 8 frames"),
			      "k %d: a 9th frame: %d at %d %s", k, o.ret, o.insn, o.msg);
		else
			CHECK(o.ret == -E2BIG && o.insn == 5 && strstr(o.msg, "exceeds 8 frames"),
			      "k %d: f alone is too deep: %d at %d %s", k, o.ret, o.insn, o.msg);
		bpfrt_prog_free(p);
	}
}

/* A callback that calls bpf_loop itself, until the frames run out. */
TEST(callbacks_nested_depth)
{
	const struct bpfrt_insn insns[] = {
		MOVR(6, 1),		/* 0: ctx, a u64 counter */
		MOV(1, 1),
		LDDW(2, 4, 5, 0),	/* 2: cb at 8 */
		MOVR(3, 6),
		MOV(4, 0),
		CALL(181),		/* 6 */
		EXIT,
		MOVR(6, 2),		/* 8: cb(i, ctx): ++*ctx, then loop again */
		LDXDW(0, 6, 0),
		ADDI(0, 1),
		STXDW(6, 0, 0),
		MOV(1, 1),
		LDDW(2, 4, -6, 0),	/* 13: cb at 8 */
		MOVR(3, 6),
		MOV(4, 0),
		CALL(181),		/* 17 */
		EXIT,
	};
	struct bpfrt_prog *p = mkprog(insns, sizeof(insns) / sizeof(insns[0]), NULL);
	struct outcome o = run_all(p, false, 0);

	/* callbacks at depths 1..7 ran; the one at 8 was refused */
	CHECK(o.ret == -E2BIG && o.ctx == 7 && o.insn == 6 &&
	      strstr(o.msg, "bpf_loop: in the callback, insn 17: bpf_loop: in the callback"),
	      "nested loops: %d ctx %llu at %d: %s", o.ret, (unsigned long long)o.ctx,
	      o.insn, o.msg);
	bpfrt_prog_free(p);
}

/* Checked runs call back only the functions the program names. */
TEST(callbacks_bad_callback)
{
	static const uint32_t bad[][2] = {
		{ 3, 0xbf7f0000 },	/* tagged, but insn 3 is no function */
		{ 0x1234, 0 },		/* not tagged */
		{ 999, 0xbf7f0000 },	/* past the end */
	};

	for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
		const struct bpfrt_insn insns[] = {
			MOV(1, 1),
			LDDW(2, 0, (int32_t)bad[b][0], (int32_t)bad[b][1]),
			MOV(3, 0),
			MOV(4, 0),
			CALL(181),	/* 5 */
			EXIT,
			MOV(0, 0),	/* 7: a real callback nobody names */
			EXIT,
		};
		struct bpfrt_prog *p = mkprog(insns, sizeof(insns) / sizeof(insns[0]), NULL);
		struct outcome o = run_all(p, false, 0);

		CHECK(o.ret == -EINVAL && o.insn == 5 && strstr(o.msg, "is not a function the "
								 "program names"),
		      "bad callback %zu: %d at %d: %s", b, o.ret, o.insn, o.msg);
		bpfrt_prog_free(p);
	}
}

/* A fault inside a callback; the budget callbacks spend; tail calls in callbacks. */
TEST(callbacks_fault_budget_tailcall)
{
	const struct bpfrt_insn faulty[] = {
		MOV(1, 2),
		LDDW(2, 4, 5, 0),	/* 1: cb at 7 */
		MOV(3, 0),
		MOV(4, 0),
		CALL(181),		/* 5 */
		EXIT,
		LDXDW(0, 1, 16),	/* 7: reads r1 = i + 16 */
		EXIT,
	};
	const struct bpfrt_insn counted[] = {
		MOV(1, 100),
		LDDW(2, 4, 5, 0),	/* 1: cb at 7 */
		MOV(3, 0),
		MOV(4, 0),
		CALL(181),		/* 5 */
		EXIT,
		MOV(0, 0),		/* 7: cb, 3 instructions */
		ADDI(0, 0),
		EXIT,
	};
	BPFRT_OPTS(bpfrt_map_opts, mo, .type = BPFRT_MAP_PROG_ARRAY, .key_size = 4,
		   .value_size = 4, .max_entries = 1);
	struct bpfrt_map *pa = NULL;
	const struct bpfrt_insn tail_in_cb[] = {
		MOV(1, 1),
		LDDW(2, 4, 5, 0),	/* 1: cb at 7 */
		MOV(3, 0),
		MOV(4, 0),
		CALL(181),		/* 5 */
		EXIT,
		LDDW(2, 5, 0, 0),	/* 7: cb: tail call to slot 0 */
		MOV(3, 0),
		CALL(12),		/* 10 */
		MOV(0, 0),
		EXIT,
	};
	struct bpfrt_prog *p;
	struct outcome o;

	p = mkprog(faulty, 9, NULL);
	o = run_all(p, true, 0);
	CHECK(o.ret == -EFAULT && o.insn == 5 &&
	      strstr(o.msg, "insn 5: bpf_loop: in the callback, insn 7: read of 8 bytes at 0x10"),
	      "fault in a callback: %d at %d: %s", o.ret, o.insn, o.msg);
	bpfrt_prog_free(p);

	p = mkprog(counted, 10, NULL);
	o = run_all(p, false, 0);
	CHECK(o.ret == 0 && o.r0 == 100 && o.insns == 306,
	      "the main program's 6 instructions and 100 x 3: %d r0 %llu insns %llu",
	      o.ret, (unsigned long long)o.r0, (unsigned long long)o.insns);
	o = run_all(p, true, 150);
	CHECK(o.ret == -ELOOP && o.insn == 5 &&
	      strstr(o.msg, "bpf_loop: in the callback, insn 8: stopped after 150 instructions"),
	      "the budget runs out in a callback: %d at %d: %s", o.ret, o.insn, o.msg);
	bpfrt_prog_free(p);

	bpfrt_map_create(&mo, &pa, NULL);
	p = pa ? mkprog(tail_in_cb, sizeof(tail_in_cb) / sizeof(tail_in_cb[0]), pa) : NULL;
	if (p) {
		uint32_t k = 0;

		bpfrt_map_update(pa, &k, &p, BPFRT_ANY);	/* itself */
		o = run_all(p, false, 0);
		CHECK(o.ret == -ENOTSUP && o.insn == 5 && strstr(o.msg, "insn 10: bpf_tail_call: "
								 "not supported inside a callback"),
		      "tail call in a callback: %d at %d: %s", o.ret, o.insn, o.msg);
		bpfrt_map_delete(pa, &k);	/* break the cycle */
	}
	bpfrt_prog_free(p);
	bpfrt_map_free(pa);
}

/* A packet load that misses in a callback ends the callback (with 0), not the program. */
TEST(callbacks_packet_miss)
{
	const struct bpfrt_insn insns[] = {
		MOVR(6, 1),		/* 0 */
		MOV(1, 3),
		LDDW(2, 4, 5, 0),	/* 2: cb at 8 */
		MOVR(3, 6),
		MOV(4, 0),
		CALL(181),		/* 6 */
		EXIT,
		MOVR(6, 2),		/* 8: cb: ++*ctx, then a byte far past the packet */
		LDXDW(0, 6, 0),
		ADDI(0, 1),
		STXDW(6, 0, 0),
		I(0x30, 0, 0, 0, 1000),	/* ldabsb [1000] */
		MOV(0, 1),		/* not reached: it would stop the loop */
		EXIT,
	};
	struct bpfrt_prog *p = mkprog(insns, sizeof(insns) / sizeof(insns[0]), NULL);
	struct outcome o = run_all(p, false, 0);

	CHECK(o.ret == 0 && o.r0 == 3 && o.ctx == 3, "3 callbacks, each ended by the miss: "
	      "%d r0 %llu ctx %llu %s", o.ret, (unsigned long long)o.r0,
	      (unsigned long long)o.ctx, o.msg);
	bpfrt_prog_free(p);
}

/* A program with callbacks tail-calls another with callbacks of its own. */
TEST(callbacks_after_tail_call)
{
	const struct bpfrt_insn q[] = {
		MOVR(6, 1),		/* 0 */
		MOV(1, 3),
		LDDW(2, 4, 5, 0),	/* 2: cb at 8 */
		MOVR(3, 6),
		MOV(4, 0),
		CALL(181),		/* 6 */
		EXIT,
		LDXDW(0, 2, 0),		/* 8: *ctx += 10 */
		ADDI(0, 10),
		STXDW(2, 0, 0),
		MOV(0, 0),
		EXIT,
	};
	const struct bpfrt_insn p[] = {
		MOVR(6, 1),		/* 0 */
		MOV(1, 2),
		LDDW(2, 4, 10, 0),	/* 2: cb at 13 */
		MOVR(3, 6),
		MOV(4, 0),
		CALL(181),		/* 6 */
		MOVR(1, 6),
		LDDW(2, 5, 0, 0),	/* 8: the prog array */
		MOV(3, 0),
		CALL(12),		/* 11 */
		EXIT,
		LDXDW(0, 2, 0),		/* 13: *ctx += 1 */
		ADDI(0, 1),
		STXDW(2, 0, 0),
		MOV(0, 0),
		EXIT,
	};
	BPFRT_OPTS(bpfrt_map_opts, mo, .type = BPFRT_MAP_PROG_ARRAY, .key_size = 4,
		   .value_size = 4, .max_entries = 1);
	struct bpfrt_map *pa = NULL;
	struct bpfrt_prog *pp = NULL, *qp = NULL;
	struct outcome o;
	uint32_t k = 0;

	bpfrt_map_create(&mo, &pa, NULL);
	if (pa) {
		pp = mkprog(p, sizeof(p) / sizeof(p[0]), pa);
		qp = mkprog(q, sizeof(q) / sizeof(q[0]), NULL);
	}
	if (pp && qp) {
		bpfrt_map_update(pa, &k, &qp, BPFRT_ANY);
		o = run_all(pp, false, 0);
		/* p: 10 + 2 x 5, q: 7 + 3 x 5 */
		CHECK(o.ret == 0 && o.r0 == 3 && o.ctx == 32 && o.insns == 42,
		      "p's callbacks, then q's: %d r0 %llu ctx %llu insns %llu %s", o.ret,
		      (unsigned long long)o.r0, (unsigned long long)o.ctx,
		      (unsigned long long)o.insns, o.msg);
	}
	bpfrt_prog_free(pp);
	bpfrt_prog_free(qp);
	bpfrt_map_free(pa);
}
