/* test_may_goto.c — may_goto (BPF_JCOND): encoding, the budget per frame on every engine and mode, the verifier's loops, against Linux. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpfrt.h"
#include "objrun.h"
#include "t.h"

#define B (8ull * 1024 * 1024)	/* per frame, as the kernel's BPF_MAX_LOOPS */

#define I(c, d, s, o, i) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) }
#define MAYGOTO(o)	I(0xe5, 0, 0, o, 0)
#define MOVI(d, i)	I(0xb7, d, 0, 0, i)
#define ADDI(d, i)	I(0x07, d, 0, 0, i)
#define JA(o)		I(0x05, 0, 0, o, 0)
#define CALL(id)	I(0x85, 0, 0, 0, id)
#define EXIT		I(0x95, 0, 0, 0, 0)

/* ---- Running on every engine and mode ------------------------------------------ */

struct outcome {
	int ret, insn;
	uint64_t r0, insns;
	char msg[256];
};

static struct outcome run_mode(struct bpfrt_prog *p, int engine, bool checked, uint64_t budget)
{
	struct outcome o = { 0 };
	struct bpfrt_error err;
	uint64_t ctx[4] = { 0 };

	BPFRT_OPTS(bpfrt_run_opts, ro, .engine = engine ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP,
		   .checked = checked, .ctx = ctx, .ctx_len = sizeof(ctx), .budget = budget);
	o.ret = bpfrt_prog_run(p, &ro, &err);
	o.r0 = ro.retval;
	o.insns = ro.insns;
	o.insn = o.ret ? err.insn : -1;
	snprintf(o.msg, sizeof(o.msg), "%s", o.ret ? err.msg : "");
	return o;
}

/*
 * Run p on the interpreter and the JIT, checked and unchecked: each must
 * end with r0 == want (or, with want_ret, that error), and checked runs
 * must count the same instructions and stop at the same one.
 */
static void expect(const char *what, struct bpfrt_prog *p, uint64_t budget, int want_ret,
		   uint64_t want)
{
	struct outcome c[2];

	for (int checked = 0; checked < 2; checked++)
		for (int engine = 0; engine < 2; engine++) {
			if (checked == 0 && want_ret)
				continue;	/* a budget stops only checked runs */
			struct outcome o = run_mode(p, engine, checked, budget);
			CHECK(o.ret == want_ret && (want_ret || o.r0 == want),
			      "%s on %s %s: ret %d r0 %llu '%s', want %d r0 %llu", what,
			      engine ? "jit" : "interp", checked ? "checked" : "unchecked", o.ret,
			      (unsigned long long)o.r0, o.msg, want_ret, (unsigned long long)want);
			if (checked)
				c[engine] = o;
		}
	CHECK(c[0].insns == c[1].insns && c[0].insn == c[1].insn && !strcmp(c[0].msg, c[1].msg),
	      "%s checked: interp %llu insns (at %d '%s'), jit %llu (at %d '%s')", what,
	      (unsigned long long)c[0].insns, c[0].insn, c[0].msg, (unsigned long long)c[1].insns,
	      c[1].insn, c[1].msg);
}

static struct bpfrt_prog *prog_of(const struct bpfrt_insn *insns, size_t n)
{
	struct bpfrt_prog *p = NULL;
	struct bpfrt_error err;

	if (!CHECK(bpfrt_prog_new(insns, n, NULL, &p, &err) == 0, "prog_new: %s", err.msg))
		return NULL;
	bpfrt_prog_use_builtin_helpers(p);
	return p;
}

static struct bpfrt_prog *prog_text(const char *text)
{
	struct bpfrt_insn *insns;
	struct bpfrt_prog *p;
	struct bpfrt_error err;
	size_t n;

	if (!CHECK(bpfrt_asm(text, &insns, &n, &err) == 0, "asm: %s", err.msg))
		return NULL;
	p = prog_of(insns, n);
	free(insns);
	return p;
}

/* ---- Encoding ---------------------------------------------------------------- */

static void refused(const char *what, const struct bpfrt_insn *insns, size_t n, const char *msg)
{
	struct bpfrt_prog *p = NULL;
	struct bpfrt_error err;
	int ret = bpfrt_prog_new(insns, n, NULL, &p, &err);

	CHECK(ret == -EINVAL && strstr(err.msg, msg), "%s: %d '%s', want -EINVAL '%s'", what, ret,
	      ret ? err.msg : "", msg);
	bpfrt_prog_free(p);
}

TEST(may_goto_encoding)
{
	struct bpfrt_insn ok[] = { MAYGOTO(1), MOVI(0, 1), EXIT };
	struct bpfrt_insn p[3];
	struct bpfrt_prog *prog = NULL;
	struct bpfrt_error err;
	char buf[64];

	CHECK(bpfrt_prog_new(ok, 3, NULL, &prog, &err) == 0, "may_goto +1: %s", err.msg);
	bpfrt_prog_free(prog);
	memcpy(p, ok, sizeof(p));
	p[0].src_reg = 1;	/* no other BPF_JCOND kind exists */
	refused("src 1", p, 3, "reserved field src_reg");
	memcpy(p, ok, sizeof(p));
	p[0].dst_reg = 2;
	refused("dst 2", p, 3, "reserved field dst_reg");
	memcpy(p, ok, sizeof(p));
	p[0].imm = 5;
	refused("imm 5", p, 3, "reserved field imm");
	memcpy(p, ok, sizeof(p));
	p[0].code = 0xe6;	/* JMP32 | JCOND */
	refused("jmp32", p, 3, "unknown opcode 0xe6");
	memcpy(p, ok, sizeof(p));
	p[0].off = 7;
	refused("target out of range", p, 3, "out of range");
	p[0] = (struct bpfrt_insn)MOVI(0, 0);
	p[1] = (struct bpfrt_insn)MAYGOTO(-2);
	refused("last instruction", p, 2, "ends in may_goto");

	/* bpftool's notation, and the assembler reads llvm-objdump's */
	CHECK(bpfrt_disasm_insn(ok, 3, 0, buf, sizeof(buf)) == 1 && !strcmp(buf, "may_goto pc+1"),
	      "disasm: '%s'", buf);
	p[1] = (struct bpfrt_insn)MAYGOTO(-13);
	CHECK(bpfrt_disasm_insn(p, 2, 1, buf, sizeof(buf)) == 1 && !strcmp(buf, "may_goto pc-13"),
	      "disasm: '%s'", buf);
	struct bpfrt_insn *a;
	size_t n;
	CHECK(bpfrt_asm("may_goto +0x2\nmay_goto -2\nl: may_goto l\nexit", &a, &n, &err) == 0 &&
	      n == 4 && a[0].code == 0xe5 && a[0].off == 2 && a[1].off == -2 && a[2].off == -1 &&
	      !a[0].src_reg && !a[0].dst_reg && !a[0].imm, "asm: %s", err.msg);
	free(a);
}

/* ---- The budget ---------------------------------------------------------------- */

TEST(may_goto_budget)
{
	struct bpfrt_prog *p;

	/* a loop that only may_goto ends: exactly the budget of iterations */
	p = prog_text("mov %r0, 0\n"
		      "l: may_goto out\n"
		      "add %r0, 1\n"
		      "ja l\n"
		      "out: exit\n");
	expect("count until spent", p, 0, 0, B);
	/* a checked run's instruction budget still stops it, on both engines alike */
	expect("instruction budget", p, 1000, -ELOOP, 0);
	bpfrt_prog_free(p);

	/* a budget that runs out at every point of a longer block: the same stop everywhere */
	p = prog_text("mov %r0, 0\n"
		      "l: add %r0, 1\n"
		      "add %r0, 2\n"
		      "may_goto out\n"
		      "add %r0, 3\n"
		      "stxdw [%r10-8], %r0\n"
		      "ja l\n"
		      "out: exit\n");
	for (uint64_t b = 1; b < 40; b++)
		expect("budget at each instruction", p, b, -ELOOP, 0);
	expect("longer block", p, 0, 0, 6 * B + 3);
	bpfrt_prog_free(p);

	/* a loop that ends by itself long before, with may_goto first in its body */
	p = prog_text("mov %r0, 0\n"
		      "l: may_goto out\n"
		      "add %r0, 3\n"
		      "jlt %r0, 3000, l\n"
		      "out: exit\n");
	expect("ends by itself", p, 0, 0, 3000);
	bpfrt_prog_free(p);

	/* two loops in one frame share its budget: the second gets what the first left */
	p = prog_text("mov %r6, 0\n"
		      "a: may_goto a_out\n"
		      "add %r6, 1\n"
		      "jlt %r6, 1000, a\n"
		      "a_out: mov %r0, 0\n"
		      "b: may_goto out\n"
		      "add %r0, 1\n"
		      "ja b\n"
		      "out: add %r0, %r6\n"
		      "exit\n");
	expect("two loops, one frame", p, 0, 0, B);
	bpfrt_prog_free(p);
}

TEST(may_goto_frames)
{
	/*
	 * Each call frame has its own budget, set when it is entered: the
	 * caller takes one, calls f twice (each spends a whole one), then
	 * spends what it has left: 1 + B + B + (B - 1) - 1 ... counted as
	 * f's iterations plus the caller's own.
	 */
	struct bpfrt_prog *p = prog_text(
		"may_goto bad\n"
		"call local f\n"
		"mov %r6, %r0\n"
		"call local f\n"
		"add %r6, %r0\n"
		"mov %r0, 0\n"
		"l: may_goto o\n"
		"add %r0, 1\n"
		"ja l\n"
		"o: add %r0, %r6\n"
		"exit\n"
		"bad: mov %r0, -1\n"
		"exit\n"
		"f: mov %r0, 0\n"
		"fl: may_goto fo\n"
		"add %r0, 1\n"
		"ja fl\n"
		"fo: exit\n");

	expect("frames", p, 0, 0, 3 * B - 1);
	bpfrt_prog_free(p);

	/*
	 * A callee's loop inside the caller's: 1000 iterations call g (2 each,
	 * from its own budget), then the caller spends what it has left.
	 */
	p = prog_text("mov %r6, 0\n"
		      "mov %r7, 0\n"
		      "l: may_goto bad\n"
		      "call local g\n"
		      "add %r6, %r0\n"
		      "add %r7, 1\n"
		      "jlt %r7, 1000, l\n"
		      "mov %r0, 0\n"
		      "r: may_goto o\n"
		      "add %r0, 1\n"
		      "ja r\n"
		      "o: add %r0, %r6\n"
		      "exit\n"
		      "bad: mov %r0, -1\n"
		      "exit\n"
		      "g: mov %r0, 0\n"
		      "gl: may_goto go\n"
		      "add %r0, 1\n"
		      "jlt %r0, 2, gl\n"
		      "go: exit\n");
	expect("nested frames", p, 0, 0, B - 1000 + 2000);
	bpfrt_prog_free(p);
}

static struct bpfrt_map *prog_array(void)
{
	BPFRT_OPTS(bpfrt_map_opts, o, .type = BPFRT_MAP_PROG_ARRAY, .key_size = 4,
		   .value_size = 4, .max_entries = 1);
	struct bpfrt_map *m = NULL;
	struct bpfrt_error err;

	CHECK(bpfrt_map_create(&o, &m, &err) == 0, "prog array: %s", err.msg);
	return m;
}

TEST(may_goto_tail_call)
{
	/* A tail call's target starts with a full budget, as a new program does. */
	struct bpfrt_insn callee[] = {
		MOVI(0, 0), MAYGOTO(2), ADDI(0, 1), JA(-3), EXIT,
	};
	struct bpfrt_insn caller[] = {
		MOVI(6, 0), MAYGOTO(3), ADDI(6, 1), I(0xa5, 6, 0, -3, 100) /* jlt r6, 100 */,
		JA(0),
		I(0x18, 2, BPF_PSEUDO_MAP_IDX, 0, 0), I(0, 0, 0, 0, 0),
		MOVI(3, 0), CALL(12), MOVI(0, 7), EXIT,
	};
	struct bpfrt_map *pa = prog_array();
	BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &pa, .nmaps = 1);
	struct bpfrt_prog *a = NULL, *b = prog_of(callee, sizeof(callee) / sizeof(callee[0]));
	struct bpfrt_error err;
	uint32_t k = 0;

	if (!pa || !b)
		goto out;
	if (!CHECK(bpfrt_prog_new(caller, sizeof(caller) / sizeof(caller[0]), &po, &a, &err) == 0,
		   "caller: %s", err.msg))
		goto out;
	bpfrt_prog_use_builtin_helpers(a);
	CHECK(bpfrt_map_update(pa, &k, &b, BPFRT_ANY) == 0, "slot");
	expect("tail call", a, 0, 0, B);
out:
	bpfrt_prog_free(a);
	bpfrt_prog_free(b);
	bpfrt_map_free(pa);
}

/* ---- The verifier ---------------------------------------------------------------- */

static int sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* 1 accepted, 0 refused, -1 cannot tell; *processed = the kernel's verified_insns. */
static int kernel_verdict(const struct bpfrt_insn *insns, size_t n, uint64_t *processed)
{
	static char log[65536];
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uintptr_t)"GPL";
	a.log_buf = (uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 4;	/* only the statistics: a whole log may not fit */
	int fd = sys_bpf(BPF_PROG_LOAD, &a);
	*processed = 0;
	if (fd >= 0) {
		struct bpf_prog_info info;
		memset(&info, 0, sizeof(info));
		memset(&a, 0, sizeof(a));
		a.info.bpf_fd = (uint32_t)fd;
		a.info.info_len = sizeof(info);
		a.info.info = (uintptr_t)&info;
		if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) == 0)
			*processed = info.verified_insns;
		close(fd);
		return 1;
	}
	return errno == EACCES || errno == EINVAL || errno == E2BIG ? 0 : -1;
}

static int verdict(struct bpfrt_prog *p, enum bpfrt_prog_type type, uint32_t ctx_size,
		   uint64_t *processed, struct bpfrt_error *err)
{
	BPFRT_OPTS(bpfrt_verify_opts, vo, .type = type, .ctx_size = ctx_size);
	int ret = bpfrt_prog_verify(p, &vo, err);

	*processed = vo.insns_processed;
	return ret;
}

struct vcase {
	const char *name, *text;
	bool safe;
	bool slow;	/* runs for too long to run it on every engine */
};

static const struct vcase vcases[] = {
	{ "endless count", "mov %r0, 0\nl: may_goto o\nadd %r0, 1\nja l\no: exit\n", true, false },
	{ "nothing changes", "mov %r0, 0\nl: may_goto o\nja l\no: exit\n", true, false },
	/* spent, it jumps to itself, spent again: it would never end */
	{ "spins once spent", "mov %r0, 0\nl: may_goto l\nexit\n", false, false },
	/* spent, it jumps back into the loop, which never spends anything again */
	{ "loops once spent",
	  "mov %r0, 0\n"
	  "l: may_goto back\n"
	  "exit\n"
	  "back: ja back2\n"
	  "back2: ja back\n", false, false },
	/* the loop's index, widened to any number, indexes the stack: refused */
	{ "unbounded index",
	  "mov %r1, 0\n"
	  "l: may_goto o\n"
	  "mov %r2, %r10\n"
	  "add %r2, -64\n"
	  "add %r2, %r1\n"
	  "stb [%r2+0], 1\n"
	  "add %r1, 1\n"
	  "ja l\n"
	  "o: mov %r0, 0\n"
	  "exit\n", false, false },
	/* the same, with the index checked first: safe however many iterations run */
	{ "checked index",
	  "mov %r1, 0\n"
	  "l: may_goto o\n"
	  "jgt %r1, 63, o\n"
	  "mov %r2, %r10\n"
	  "add %r2, -64\n"
	  "add %r2, %r1\n"
	  "stb [%r2+0], 1\n"
	  "add %r1, 1\n"
	  "ja l\n"
	  "o: mov %r0, 0\n"
	  "exit\n", true, false },
	/* after the loop, the index it left with is used unchecked: refused */
	{ "index after the loop",
	  "mov %r1, 0\n"
	  "l: may_goto o\n"
	  "add %r1, 1\n"
	  "ja l\n"
	  "o: mov %r2, %r10\n"
	  "add %r2, -64\n"
	  "add %r2, %r1\n"
	  "stb [%r2+0], 1\n"
	  "mov %r0, 0\n"
	  "exit\n", false, false },
	/* a register the loop makes uninitialised on one iteration path */
	{ "uninitialised after an iteration",
	  "mov %r3, 1\n"
	  "l: may_goto o\n"
	  "mov %r3, %r4\n"
	  "ja l\n"
	  "o: mov %r0, %r3\n"
	  "exit\n", false, false },
	/* nested loops, each bounded only by may_goto */
	{ "nested",
	  "mov %r0, 0\n"
	  "mov %r1, 0\n"
	  "outer: may_goto done\n"
	  "mov %r2, 0\n"
	  "inner: may_goto inner_done\n"
	  "add %r2, 1\n"
	  "add %r0, %r2\n"
	  "ja inner\n"
	  "inner_done: add %r1, 1\n"
	  "ja outer\n"
	  "done: exit\n", true, false },
	/* a loop in a function that the caller calls in its own loop */
	{ "function in a loop",
	  "mov %r6, 0\n"
	  "l: may_goto o\n"
	  "mov %r1, %r6\n"
	  "call local f\n"
	  "add %r6, %r0\n"
	  "ja l\n"
	  "o: mov %r0, 0\n"
	  "exit\n"
	  "f: mov %r0, 0\n"
	  "fl: may_goto fo\n"
	  "add %r0, %r1\n"
	  "ja fl\n"
	  "fo: exit\n", true, true },
	/* the counter decides a jump on the way (precise): each iteration differs, until 20 */
	{ "precise counter",
	  "mov %r1, 0\n"
	  "mov %r0, 0\n"
	  "l: may_goto o\n"
	  "jeq %r1, 20, o\n"
	  "mov %r2, %r10\n"
	  "add %r2, -64\n"
	  "add %r2, %r1\n"
	  "stb [%r2+0], 1\n"
	  "add %r1, 1\n"
	  "ja l\n"
	  "o: exit\n", true, false },
};

TEST(may_goto_verifier)
{
	bool kernel = true;

	for (size_t k = 0; k < sizeof(vcases) / sizeof(vcases[0]); k++) {
		const struct vcase *c = &vcases[k];
		struct bpfrt_insn *insns;
		struct bpfrt_error err;
		uint64_t ours = 0, theirs = 0;
		size_t n;

		if (!CHECK(bpfrt_asm(c->text, &insns, &n, &err) == 0, "%s: asm: %s", c->name, err.msg))
			continue;
		struct bpfrt_prog *p = prog_of(insns, n);
		int ret = p ? verdict(p, BPFRT_PROG_SOCKET_FILTER, 0, &ours, &err) : -1;
		CHECK(c->safe ? ret == 0 : ret < 0, "%s: bpfrt says %d '%s', want %s", c->name, ret,
		      ret ? err.msg : "", c->safe ? "safe" : "refused");
		CHECK(ours < 10000, "%s: %llu instructions processed", c->name,
		      (unsigned long long)ours);
		int kv = kernel ? kernel_verdict(insns, n, &theirs) : -1;
		if (kv < 0 && kernel) {
			printf("  (kernel verdicts skipped: bpf() is not available: %s)\n",
			       strerror(errno));
			kernel = false;
		}
		if (kv >= 0) {
			CHECK(kv == c->safe, "%s: Linux %s it", c->name, kv ? "accepts" : "refuses");
			printf("  %-34s bpfrt %s, %5llu insns processed; Linux %s, %5llu\n", c->name,
			       ret ? "refuses" : "accepts", (unsigned long long)ours,
			       kv ? "accepts" : "refuses", (unsigned long long)theirs);
		}
		if (p && c->safe && ret == 0 && !c->slow)	/* what was verified runs unchecked alike */
			expect(c->name, p, 0, 0, run_mode(p, 0, true, 0).r0);
		bpfrt_prog_free(p);
		free(insns);
	}
}

/* ---- clang's may_goto, in Linux and in bpfrt ---------------------------------------- */

/* The kernel's verified_insns of program `name` in a loaded object, or 0. */
static uint64_t kernel_processed(struct bpf_object *kobj, const char *name)
{
	struct bpf_program *kp = kobj ? bpf_object__find_program_by_name(kobj, name) : NULL;
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (!kp || bpf_obj_get_info_by_fd(bpf_program__fd(kp), &info, &len))
		return 0;
	return info.verified_insns;
}

static void verify_obj_prog(struct objrun *o, const char *name)
{
	struct bpfrt_prog *p = bpfrt_obj_prog_by_name(o->obj, name);
	struct bpfrt_error err;
	uint64_t ours = 0;
	int ret = p ? verdict(p, BPFRT_PROG_XDP, 0, &ours, &err) : -ENOENT;

	CHECK(ret == 0 && ours < 100000, "%s: bpfrt's verifier: %d '%s' (%llu insns)", name, ret,
	      ret ? err.msg : "", (unsigned long long)ours);
	printf("  %-16s verified: bpfrt %6llu insns processed, Linux %6llu\n", name,
	       (unsigned long long)ours, (unsigned long long)kernel_processed(o->kobj, name));
}

TEST(may_goto_object)
{
	static const char *const all[] = {
		"sum_below", "nested", "in_function", "stack_search", "spent", "spent_frames",
		"spent_callback",
	};
	struct or_result r, k;
	struct objrun o;
	uint64_t nested = 0;

	if (!or_open(&o, "may_goto", NULL))
		return;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		verify_obj_prog(&o, all[i]);
	for (uint64_t i = 0; i < 30; i++)
		for (uint64_t j = 0; j < 40; j++)
			nested += i ^ j;
	/* loops that end on their own: every engine, mode and Linux alike */
	or_expect(&o, "sum_below", 1, (const uint64_t[]){ 499500, 1000 }, 2);
	or_expect(&o, "nested", 2, (const uint64_t[]){ nested }, 1);
	or_expect(&o, "in_function", 3, (const uint64_t[]){ 100 + 101 + 102 }, 1);
	or_expect(&o, "stack_search", 91, (const uint64_t[]){ 13 }, 1);

	/*
	 * Loops that spend the budget: bpfrt counts iterations, exactly B per
	 * frame; Linux on x86-64 uses its timed may_goto (it checks the time
	 * every 65535 iterations and stops after a quarter second), so only
	 * whether the loop ended is compared.
	 */
	static const struct { const char *prog; uint64_t res[3]; } spends[] = {
		{ "spent", { B, 0, 0 } },
		{ "spent_frames", { B, B, B } },
		{ "spent_callback", { 2 * B, 0, 0 } },
	};
	for (size_t s = 0; s < sizeof(spends) / sizeof(spends[0]); s++) {
		for (int engine = 0; engine < 2; engine++)
			for (int checked = 0; checked < 2; checked++) {
				or_run_ours(&o, spends[s].prog, engine, checked, 0, &r);
				CHECK(r.ret == 0 && r.retval == 1 && r.res[0] == spends[s].res[0] &&
				      r.res[1] == spends[s].res[1] && r.res[2] == spends[s].res[2],
				      "%s on %s %s: ret %d r0 %llu res %llu %llu %llu '%s'",
				      spends[s].prog, engine ? "jit" : "interp",
				      checked ? "checked" : "unchecked", r.ret,
				      (unsigned long long)r.retval, (unsigned long long)r.res[0],
				      (unsigned long long)r.res[1], (unsigned long long)r.res[2], r.msg);
			}
		if (or_run_kernel(&o, spends[s].prog, &k)) {
			CHECK(k.ret == 0 && k.retval == 1 && k.res[0] > 0, "%s in Linux: ret %d r0 %llu",
			      spends[s].prog, k.ret, (unsigned long long)k.retval);
			printf("  %-16s spent its budget: Linux after %llu iterations, bpfrt after "
			       "%llu\n", spends[s].prog, (unsigned long long)k.res[0],
			       (unsigned long long)spends[s].res[0]);
		}
	}
	or_close(&o);
}

/* ---- The bench's kernel variants -------------------------------------------------------- */

/* The .text of an eBPF object (one function), as instructions; NULL if absent. */
static struct bpfrt_insn *text_of(const char *path, size_t *n)
{
	struct bpfrt_insn *insns = NULL;
	int fd = open(path, O_RDONLY);
	Elf *elf;

	*n = 0;
	if (fd < 0 || elf_version(EV_CURRENT) == EV_NONE || !(elf = elf_begin(fd, ELF_C_READ, NULL))) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	size_t shstr;
	elf_getshdrstrndx(elf, &shstr);
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr sh;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || strcmp(elf_strptr(elf, shstr, sh.sh_name), ".text"))
			continue;
		if (!(d = elf_getdata(scn, NULL)) || !d->d_size || !(insns = malloc(d->d_size)))
			break;
		memcpy(insns, d->d_buf, d->d_size);
		*n = d->d_size / sizeof(*insns);
	}
	elf_end(elf);
	close(fd);
	return insns;
}

/*
 * The bench's stub for a kernel variant, as bpfrt runs it: r1 = the input
 * (len bytes, rounded up to 8, then a zero word), r2 = len, r3 = that zero
 * word (a number the verifier cannot know), then call the variant.
 */
static struct bpfrt_prog *kwl_prog(const char *name, uint32_t len, struct bpfrt_map *map)
{
	char path[512];
	size_t n;
	uint32_t len8 = (len + 7) & ~7u;

	snprintf(path, sizeof(path), "%s/tests/kwl/%s.o", t_builddir(), name);
	struct bpfrt_insn *code = text_of(path, &n);
	if (!CHECK(code != NULL, "%s: no .text", path))
		return NULL;
	struct bpfrt_insn stub[] = {
		I(0xbf, 3, 1, 0, 0), ADDI(3, (int32_t)len8), I(0x79, 3, 3, 0, 0),
		MOVI(2, (int32_t)len), I(0x85, 0, 1, 0, 1), EXIT,
	};
	size_t ns = sizeof(stub) / sizeof(stub[0]);
	struct bpfrt_insn *all = malloc((ns + n) * sizeof(*all));
	struct bpfrt_prog *p = NULL;
	struct bpfrt_error err;

	memcpy(all, stub, sizeof(stub));
	memcpy(all + ns, code, n * sizeof(*code));
	/* the hashmap variant's map: an lddw of "map_magi" (bench/workloads/hashmap.h) */
	for (size_t i = ns; i + 1 < ns + n; i++)
		if (all[i].code == 0x18 && !all[i].src_reg && (uint32_t)all[i].imm == 0x6d616769u &&
		    (uint32_t)all[i + 1].imm == 0x6d61705fu) {
			all[i].src_reg = BPF_PSEUDO_MAP_IDX;
			all[i].imm = all[i + 1].imm = 0;
		}
	BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &map, .nmaps = map ? 1 : 0);
	CHECK(bpfrt_prog_new(all, ns + n, &po, &p, &err) == 0, "%s: %s", name, err.msg);
	if (p)
		bpfrt_prog_use_builtin_helpers(p);
	free(all);
	free(code);
	return p;
}

TEST(may_goto_bench_variants)
{
	static const struct { const char *name; uint32_t len; } kv[] = {
		{ "prime", 8 },
		{ "memcpy", 8 + 2 * (1u << 20) },
		{ "strcmp", 8 + (((1u << 20) + 1 + 7) & ~7u) + (1u << 20) + 1 },
		{ "switch", 4096 * 4 },
		{ "hashmap", 1024 * 4 },
	};
	BPFRT_OPTS(bpfrt_map_opts, mo, .type = BPFRT_MAP_HASH, .key_size = 4, .value_size = 8,
		   .max_entries = 16384);
	struct bpfrt_map *map = NULL;
	struct bpfrt_error err;

	CHECK(bpfrt_map_create(&mo, &map, &err) == 0, "map: %s", err.msg);
	for (size_t k = 0; k < sizeof(kv) / sizeof(kv[0]); k++) {
		struct bpfrt_prog *p = kwl_prog(kv[k].name, kv[k].len, map);
		uint64_t processed = 0;
		int ret;

		if (!p)
			continue;
		ret = verdict(p, BPFRT_PROG_UNSPEC, ((kv[k].len + 7) & ~7u) + 8, &processed, &err);
		CHECK(ret == 0 && processed < 100000, "workloads/kernel/%s.c: %d '%s' (%llu insns)",
		      kv[k].name, ret, ret ? err.msg : "", (unsigned long long)processed);
		printf("  workloads/kernel/%-10s verified in %llu instructions processed\n",
		       kv[k].name, (unsigned long long)processed);
		bpfrt_prog_free(p);
	}
	bpfrt_map_free(map);
}

/* ---- Random may_goto loops against Linux's verifier ----------------------------------- */

static uint64_t rnd_next(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/*
 * A socket filter with a may_goto loop over 64 bytes of stack: an index r6
 * and an accumulator r7 that random steps change, bound (or not) by masks
 * and compares, and a store at the index inside or after the loop, which is
 * safe only where the index is known to be in [0, 63].
 */
static size_t random_loop(uint64_t *s, struct bpfrt_insn *p)
{
	size_t n = 0, head, fix[16], nfix = 0;

	p[n++] = (struct bpfrt_insn)MOVI(6, (int32_t)(rnd_next(s) % 4));
	p[n++] = (struct bpfrt_insn)MOVI(7, (int32_t)(rnd_next(s) % 100));
	for (int k = 1; k <= 8; k++)
		p[n++] = (struct bpfrt_insn)I(0x7a, 10, 0, -8 * k, 0);	/* *(u64 *)(r10 - 8k) = 0 */
	head = n;
	fix[nfix++] = n;
	p[n++] = (struct bpfrt_insn)MAYGOTO(0);
	for (int steps = 1 + (int)(rnd_next(s) % 6); steps > 0; steps--) {
		switch (rnd_next(s) % 8) {
		case 0: p[n++] = (struct bpfrt_insn)ADDI(6, (int32_t)(1 + rnd_next(s) % 3)); break;
		case 1: {	/* r6 &= m */
			static const int32_t masks[] = { 7, 31, 63, 127 };
			p[n++] = (struct bpfrt_insn)I(0x57, 6, 0, 0, masks[rnd_next(s) % 4]);
			break;
		}
		case 2: p[n++] = (struct bpfrt_insn)I(0x0f, 7, 6, 0, 0); break;	/* r7 += r6 */
		case 3: p[n++] = (struct bpfrt_insn)I(0xa7, 7, 0, 0, (int32_t)rnd_next(s)); break;
		case 4:	/* if r6 > K goto out */
			fix[nfix++] = n;
			p[n++] = (struct bpfrt_insn)I(0x25, 6, 0, 0, (int32_t)(rnd_next(s) % 80));
			break;
		case 5:	/* if r7 == K goto out */
			fix[nfix++] = n;
			p[n++] = (struct bpfrt_insn)I(0x15, 7, 0, 0, (int32_t)(rnd_next(s) % 100));
			break;
		default:	/* *(u8 *)(r10 - 64 + r6) = 1 */
			p[n++] = (struct bpfrt_insn)I(0xbf, 2, 10, 0, 0);
			p[n++] = (struct bpfrt_insn)ADDI(2, -64);
			p[n++] = (struct bpfrt_insn)I(0x0f, 2, 6, 0, 0);
			p[n++] = (struct bpfrt_insn)I(0x72, 2, 0, 0, 1);
			break;
		}
	}
	p[n] = (struct bpfrt_insn)JA((int)head - (int)n - 1);
	n++;
	for (size_t k = 0; k < nfix; k++)	/* out: */
		p[fix[k]].off = (int16_t)(n - fix[k] - 1);
	if (rnd_next(s) % 3 == 0) {	/* the index the loop left with, used */
		p[n++] = (struct bpfrt_insn)I(0xbf, 2, 10, 0, 0);
		p[n++] = (struct bpfrt_insn)ADDI(2, -64);
		p[n++] = (struct bpfrt_insn)I(0x0f, 2, 6, 0, 0);
		p[n++] = (struct bpfrt_insn)I(0x71, 0, 2, 0, 0);
	}
	p[n++] = (struct bpfrt_insn)I(0xbf, 0, 7, 0, 0);
	p[n++] = (struct bpfrt_insn)EXIT;
	return n;
}

#define NRANDOM 150

TEST(may_goto_random_loops)
{
	unsigned both = 0, neither = 0, only_kernel = 0, only_ours = 0, unknown = 0, slow = 0;
	uint64_t seed = 0x6d61795f676f746full;

	for (int k = 0; k < NRANDOM; k++) {
		struct bpfrt_insn insns[64];
		struct bpfrt_error err;
		uint64_t ours = 0, theirs = 0;
		size_t n = random_loop(&seed, insns);
		struct bpfrt_prog *p = prog_of(insns, n);

		if (!p)
			continue;
		int ret = verdict(p, BPFRT_PROG_SOCKET_FILTER, 0, &ours, &err);
		int kv = kernel_verdict(insns, n, &theirs);
		CHECK(ours < 100000 || (ret && kv <= 0), "program %d: %llu instructions processed "
		      "(%d, Linux %d)", k, (unsigned long long)ours, ret, kv);
		if (ours >= 100000)
			slow++;
		if (ret == 0) {
			/* what bpfrt accepts never faults, checked, on either engine */
			for (int engine = 0; engine < 2; engine++) {
				struct outcome o = run_mode(p, engine, true, 200000);
				CHECK(o.ret == 0 || o.ret == -ELOOP, "program %d accepted, but on %s: "
				      "%d '%s'", k, engine ? "jit" : "interp", o.ret, o.msg);
			}
		}
		if (kv < 0 && !unknown++)
			printf("  (program %d: no verdict from Linux: %s)\n", k, strerror(errno));
		if (kv < 0)
			;
		else if (kv && !ret)
			both++;
		else if (!kv && ret)
			neither++;
		else if (kv)
			only_kernel++;
		else
			only_ours++;
		CHECK(kv != 0 || ret != 0, "program %d: bpfrt accepts what Linux refuses", k);
		bpfrt_prog_free(p);
	}
	printf("  %d random may_goto loops: both accept %u, both refuse %u, only Linux accepts "
	       "%u, only bpfrt %u; %u too complex for bpfrt%s\n", NRANDOM, both, neither,
	       only_kernel, only_ours, slow,
	       unknown ? " (some kernel verdicts missing: bpf() failed)" : "");
}
