/* test_tailcall.c — bpf_tail_call on both engines and modes, against the kernel: chains, misses, the 33 limit, subprograms, budgets, faults. */
#include <errno.h>
#include <string.h>

#include "bpfrt.h"
#include "objrun.h"
#include "t.h"

/* ---- The object, against the kernel ----------------------------------------- */

TEST(tailcall_object)
{
	struct objrun o;

	if (!or_open(&o, "tailcall", NULL))
		return;
	/* result[0] gets 1, 10, 100 from the three programs of the chain */
	or_expect(&o, "chain0", 42, (const uint64_t[]){ 111 }, 1);
	or_expect(&o, "chain2", 42, (const uint64_t[]){ 100 }, 1);
	or_expect(&o, "missing", 7, (const uint64_t[]){ 0, 1 }, 2);
	or_expect(&o, "out_of_range", 8, (const uint64_t[]){ 0, 2 }, 2);
	/* the first run and 33 tail calls */
	or_expect(&o, "self", 34, (const uint64_t[]){ 0, 0, 34 }, 3);
	/* two attempts per run; the one at the empty slot does not count */
	or_expect(&o, "empty_then_self", 34, (const uint64_t[]){ 0, 0, 0, 34 }, 4);
	/* chain2 replaces sub_tail's frame and returns 42 to from_sub */
	or_expect(&o, "from_sub", 45, (const uint64_t[]){ 100, 0, 0, 0, 9, 42, 0 }, 7);
	/* 4 from loop_then_tail's callback, 10 + 11 + 12 from looper's */
	or_expect(&o, "loop_then_tail", 37, (const uint64_t[]){ 0, 0, 0, 0, 0, 0, 37 }, 7);
	or_close(&o);
}

/* ---- Edge cases, in raw instructions ------------------------------------------- */

#define I(c, d, s, o, i) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) }
#define MOV(d, k)	I(0xb7, d, 0, 0, k)
#define MOVR(d, s)	I(0xbf, d, s, 0, 0)
#define ADDI(d, k)	I(0x07, d, 0, 0, k)
#define LDXDW(d, s, o)	I(0x79, d, s, o, 0)
#define STXDW(d, s, o)	I(0x7b, d, s, o, 0)
#define CALL(id)	I(0x85, 0, 0, 0, id)
#define EXIT		I(0x95, 0, 0, 0, 0)
#define LDDW(d, src, lo, hi) I(0x18, d, src, 0, lo), I(0, 0, 0, 0, hi)

static struct bpfrt_map *prog_array(uint32_t n)
{
	BPFRT_OPTS(bpfrt_map_opts, o, .type = BPFRT_MAP_PROG_ARRAY, .key_size = 4,
		   .value_size = 4, .max_entries = n);
	struct bpfrt_map *m = NULL;
	struct bpfrt_error err;

	CHECK(bpfrt_map_create(&o, &m, &err) == 0, "prog array: %s", err.msg);
	return m;
}

static struct bpfrt_prog *mkprog(const struct bpfrt_insn *insns, size_t n,
				 struct bpfrt_map *map, bool helpers)
{
	BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &map, .nmaps = map ? 1 : 0);
	struct bpfrt_prog *p = NULL;
	struct bpfrt_error err;

	if (!CHECK(bpfrt_prog_new(insns, n, &po, &p, &err) == 0, "program: %s", err.msg))
		return NULL;
	if (helpers)
		bpfrt_prog_use_builtin_helpers(p);
	return p;
}

static void set_slot(struct bpfrt_map *pa, uint32_t k, struct bpfrt_prog *p)
{
	CHECK(bpfrt_map_update(pa, &k, &p, BPFRT_ANY) == 0, "slot %u", k);
}

struct outcome {
	int ret;
	uint64_t r0, insns, ctx;
	int insn;
	char msg[256];
};

/* Run p on engine/mode with ctx = one u64 (starting at 0). */
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

/* Every engine/mode pair (checked only, if so asked) gives the same outcome; the first is returned. */
static struct outcome run_all(struct bpfrt_prog *p, bool checked_only, uint64_t budget)
{
	struct outcome first = { 0 };
	bool have = false;

	for (int checked = 1; checked >= (checked_only ? 1 : 0); checked--) {
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

/* A fault in a tail-called program names its instruction; the budget covers both. */
TEST(tailcall_fault_and_budget)
{
	struct bpfrt_map *pa = prog_array(2);
	const struct bpfrt_insn caller[] = {
		MOVR(6, 1),
		LDDW(2, 5, 0, 0),
		MOV(3, 1),
		CALL(12),
		MOV(0, 99),
		EXIT,
	};
	const struct bpfrt_insn faulty[] = {
		MOV(0, 0),
		LDXDW(0, 0, 8),
		EXIT,
	};
	const struct bpfrt_insn counting[] = {
		LDXDW(0, 1, 0),
		ADDI(0, 5),
		STXDW(1, 0, 0),
		EXIT,
	};
	struct bpfrt_prog *p = pa ? mkprog(caller, 7, pa, true) : NULL;
	struct bpfrt_prog *f = mkprog(faulty, 3, NULL, true);
	struct bpfrt_prog *c = mkprog(counting, 4, NULL, true);
	struct outcome o;

	if (!p || !f || !c)
		goto out;
	set_slot(pa, 1, f);
	o = run_all(p, true, 0);
	CHECK(o.ret == -EFAULT && o.insn == 1 && strstr(o.msg, "insn 1: read of 8 bytes at 0x8"),
	      "the target's instruction: %d at %d: %s", o.ret, o.insn, o.msg);
	set_slot(pa, 1, c);
	/* the caller's 4 instructions up to the call (lddw once), the target's 4 */
	o = run_all(p, false, 0);
	CHECK(o.ret == 0 && o.r0 == 5 && o.ctx == 5 && o.insns == 8,
	      "counting: %d r0 %llu ctx %llu insns %llu %s", o.ret, (unsigned long long)o.r0,
	      (unsigned long long)o.ctx, (unsigned long long)o.insns, o.msg);
	o = run_all(p, true, 6);
	CHECK(o.ret == -ELOOP && o.insn == 2 && strstr(o.msg, "insn 2: stopped after 6"),
	      "a budget that ends in the target: %d at %d: %s", o.ret, o.insn, o.msg);
	/* the slot empties: the caller goes on */
	{
		uint32_t k = 1;

		bpfrt_map_delete(pa, &k);
	}
	o = run_all(p, false, 0);
	CHECK(o.ret == 0 && o.r0 == 99 && o.insns == 6, "empty slot: %d r0 %llu", o.ret,
	      (unsigned long long)o.r0);
out:
	bpfrt_prog_free(p);
	bpfrt_prog_free(f);
	bpfrt_prog_free(c);
	bpfrt_map_free(pa);
}

/* Bad arguments: not a map of the program, not a prog array; a target that cannot run. */
TEST(tailcall_bad_arguments)
{
	struct bpfrt_map *pa = prog_array(2);
	BPFRT_OPTS(bpfrt_map_opts, ao, .type = BPFRT_MAP_ARRAY, .key_size = 4, .value_size = 8,
		   .max_entries = 1);
	struct bpfrt_map *arr = NULL;
	const struct bpfrt_insn forged[] = {
		MOV(2, 0x1234),
		MOV(3, 0),
		CALL(12),
		EXIT,
	};
	const struct bpfrt_insn caller[] = {
		LDDW(2, 5, 0, 0),
		MOV(3, 0),
		CALL(12),
		MOV(0, 1),
		EXIT,
	};
	const struct bpfrt_insn lookup[] = {	/* calls a helper it was not given */
		MOV(2, 0),
		CALL(1),
		EXIT,
	};
	struct bpfrt_prog *p1 = NULL, *p2 = NULL, *p3 = NULL, *bare = NULL;
	struct outcome o;

	bpfrt_map_create(&ao, &arr, NULL);
	if (!pa || !arr)
		goto out;
	p1 = mkprog(forged, 4, pa, true);
	p2 = mkprog(caller, 6, arr, true);
	p3 = mkprog(caller, 6, pa, true);
	bare = mkprog(lookup, 3, NULL, false);
	if (!p1 || !p2 || !p3 || !bare)
		goto out;
	o = run_all(p1, true, 0);
	CHECK(o.ret == -EINVAL && o.insn == 2 && strstr(o.msg, "bpf_tail_call: argument 2 "
							"(0x1234) is not one of the program's maps"),
	      "forged map: %d at %d: %s", o.ret, o.insn, o.msg);
	o = run_all(p2, false, 0);
	CHECK(o.ret == -EINVAL && strstr(o.msg, "not a prog array"), "an array map: %d %s",
	      o.ret, o.msg);
	set_slot(pa, 0, bare);
	o = run_all(p3, false, 0);
	CHECK(o.ret == -ENOENT && o.insn == 3 &&
	      strstr(o.msg, "the target program cannot run: insn 1: call to helper 1"),
	      "target without helpers: %d at %d: %s", o.ret, o.insn, o.msg);
out:
	bpfrt_prog_free(p1);
	bpfrt_prog_free(p2);
	bpfrt_prog_free(p3);
	bpfrt_prog_free(bare);
	bpfrt_map_free(pa);
	bpfrt_map_free(arr);
}

/* A prog array keeps its programs alive; a run keeps the ones it tail-called into. */
TEST(tailcall_references)
{
	struct bpfrt_map *pa = prog_array(1);
	const struct bpfrt_insn caller[] = {
		LDDW(2, 5, 0, 0),
		MOV(3, 0),
		CALL(12),
		MOV(0, 1),
		EXIT,
	};
	const struct bpfrt_insn target[] = { MOV(0, 77), EXIT };
	struct bpfrt_prog *p = pa ? mkprog(caller, 6, pa, true) : NULL;
	struct bpfrt_prog *t = mkprog(target, 2, NULL, true);
	struct outcome o;

	if (!p || !t) {
		bpfrt_prog_free(p);
		bpfrt_prog_free(t);
		bpfrt_map_free(pa);
		return;
	}
	set_slot(pa, 0, t);
	bpfrt_prog_free(t);	/* the slot's reference remains */
	o = run_all(p, false, 0);
	CHECK(o.ret == 0 && o.r0 == 77, "target freed by its creator still runs: %d %llu %s",
	      o.ret, (unsigned long long)o.r0, o.msg);
	bpfrt_map_free(pa);	/* p holds the map; the map holds t */
	o = run_all(p, false, 0);
	CHECK(o.ret == 0 && o.r0 == 77, "and again: %d %llu", o.ret, (unsigned long long)o.r0);
	bpfrt_prog_free(p);	/* p, the map, t: all go (ASan would tell) */
}
