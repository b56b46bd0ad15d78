/* test_interp.c — running programs: checked-mode faults, helpers, calls, packet loads, threads. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"
#include "t.h"

struct result {
	int ret;
	uint64_t r0, insns;
	struct bpfrt_error err;
};

/* Assemble and run text; helpers (id, fn) pairs end with a zero fn. */
static struct result run_text(const char *text, struct bpfrt_run_opts *opts,
			      uint32_t helper_id, bpfrt_helper_fn helper)
{
	struct result r = { 0 };
	struct bpfrt_insn *insns;
	struct bpfrt_prog *prog;
	size_t n;

	r.ret = bpfrt_asm(text, &insns, &n, &r.err);
	if (r.ret)
		return r;
	r.ret = bpfrt_prog_new(insns, n, NULL, &prog, &r.err);
	free(insns);
	if (r.ret)
		return r;
	if (helper)
		bpfrt_prog_set_helper(prog, helper_id, "test_helper", helper);
	r.ret = bpfrt_prog_run(prog, opts, &r.err);
	r.r0 = opts->retval;
	r.insns = opts->insns;
	bpfrt_prog_free(prog);
	return r;
}

static struct result run_checked(const char *text, void *ctx, size_t len)
{
	BPFRT_OPTS(bpfrt_run_opts, opts, .checked = true, .ctx = ctx, .ctx_len = len);

	return run_text(text, &opts, 0, NULL);
}

#define EXPECT_FAULT(r, code, what) \
	CHECK((r).ret == (code) && strstr((r).err.msg, (what)), \
	      "got %d \"%s\", want %d with \"%s\"", (r).ret, (r).err.msg, (code), (what))

TEST(checked_bounds)
{
	uint8_t ctx[16] = { 1, 2, 3, 4 };
	uint8_t ro[8] = { 9 };
	struct result r;

	r = run_checked("ldxw %r0, [%r1+12]\nexit\n", ctx, sizeof(ctx));
	CHECK(r.ret == 0, "last word of ctx: %s", r.err.msg);
	r = run_checked("ldxw %r0, [%r1+13]\nexit\n", ctx, sizeof(ctx));
	EXPECT_FAULT(r, -EFAULT, "insn 0: read of 4 bytes");
	CHECK(strstr(r.err.msg, "past the end of ctx"), "names ctx: %s", r.err.msg);
	r = run_checked("stb [%r1-1], 0\nexit\n", ctx, sizeof(ctx));
	EXPECT_FAULT(r, -EFAULT, "write of 1 bytes");
	r = run_checked("mov %r1, 0\nldxdw %r0, [%r1]\nexit\n", ctx, sizeof(ctx));
	EXPECT_FAULT(r, -EFAULT, "outside the stack, ctx and every region");
	r = run_checked("ldxb %r0, [%r10]\nexit\n", NULL, 0);
	EXPECT_FAULT(r, -EFAULT, "insn 0: read of 1 bytes");
	r = run_checked("ldxb %r0, [%r10-4096]\nexit\n", NULL, 0);
	CHECK(r.ret == 0, "bottom of the 8-frame stack: %s", r.err.msg);
	r = run_checked("ldxb %r0, [%r10-4097]\nexit\n", NULL, 0);
	EXPECT_FAULT(r, -EFAULT, "read of 1 bytes");
	/* Uninitialised stack reads as zero, never as old data, in checked mode. */
	r = run_checked("ldxdw %r0, [%r10-8]\nexit\n", NULL, 0);
	CHECK(r.ret == 0 && r.r0 == 0, "stack starts zeroed: %#llx", (unsigned long long)r.r0);

	struct bpfrt_region regions[] = { { ro, sizeof(ro), false } };
	BPFRT_OPTS(bpfrt_run_opts, opts, .checked = true, .regions = regions, .nregions = 1);
	char text[128];

	snprintf(text, sizeof(text), "lddw %%r1, %#llx\nldxb %%r0, [%%r1]\nexit\n",
		 (unsigned long long)(uintptr_t)ro);
	r = run_text(text, &opts, 0, NULL);
	CHECK(r.ret == 0 && r.r0 == 9, "read a read-only region: %s", r.err.msg);
	snprintf(text, sizeof(text), "lddw %%r1, %#llx\nstb [%%r1], 1\nexit\n",
		 (unsigned long long)(uintptr_t)ro);
	r = run_text(text, &opts, 0, NULL);
	EXPECT_FAULT(r, -EACCES, "read-only memory");
	CHECK(ro[0] == 9, "read-only region unchanged");
}

TEST(checked_atomics_and_budget)
{
	uint64_t ctx[2] = { 0 };
	struct result r;

	r = run_checked("mov %r2, 1\nlock add [%r1+4], %r2\nexit\n", ctx, sizeof(ctx));
	EXPECT_FAULT(r, -EFAULT, "misaligned");
	r = run_checked("mov %r2, 5\nlock fetch add [%r1+8], %r2\nmov %r0, %r2\nexit\n",
			ctx, sizeof(ctx));
	CHECK(r.ret == 0 && ctx[1] == 5 && r.r0 == 0, "fetch add in checked mode");

	BPFRT_OPTS(bpfrt_run_opts, opts, .checked = true, .budget = 1000);
	r = run_text("loop:\nja loop\nexit\n", &opts, 0, NULL);
	EXPECT_FAULT(r, -ELOOP, "stopped after 1000 instructions");
	CHECK(r.insns == 1000, "counted %llu", (unsigned long long)r.insns);
	opts.budget = 4;
	r = run_text("mov %r0, 1\nadd %r0, 1\nadd %r0, 1\nexit\n", &opts, 0, NULL);
	CHECK(r.ret == 0 && r.r0 == 3 && r.insns == 4, "exact budget: %s, %llu insns",
	      r.err.msg, (unsigned long long)r.insns);
	opts.budget = 3;
	r = run_text("mov %r0, 1\nadd %r0, 1\nadd %r0, 1\nexit\n", &opts, 0, NULL);
	EXPECT_FAULT(r, -ELOOP, "insn 3: stopped after 3");
}

struct helper_seen {
	uint64_t args[5];
	int calls;
};

static uint64_t record_helper(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
			      uint64_t e, struct bpfrt_run *run)
{
	struct helper_seen *s = bpfrt_run_user(run);

	s->args[0] = a; s->args[1] = b; s->args[2] = c; s->args[3] = d; s->args[4] = e;
	s->calls++;
	return a + b + c + d + e;
}

static uint64_t failing_helper(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
			       uint64_t e, struct bpfrt_run *run)
{
	(void)b; (void)c; (void)d; (void)e;
	if (!bpfrt_run_mem_ok(run, (void *)(uintptr_t)a, 8, false))
		bpfrt_run_fail(run, -EFAULT, "pointer %#llx is not readable",
			       (unsigned long long)a);
	return 0;
}

/* Sum of len bytes at p (checked against the run's memory). */
static uint64_t sum_helper(uint64_t p, uint64_t len, uint64_t c, uint64_t d,
			   uint64_t e, struct bpfrt_run *run)
{
	uint64_t sum = 0;

	(void)c; (void)d; (void)e;
	if (!bpfrt_run_mem_ok(run, (void *)(uintptr_t)p, len, false)) {
		bpfrt_run_fail(run, -EFAULT, "bad pointer");
		return 0;
	}
	for (uint64_t i = 0; i < len; i++)
		sum += ((const uint8_t *)(uintptr_t)p)[i];
	return sum;
}

TEST(helpers)
{
	struct helper_seen seen = { 0 };
	BPFRT_OPTS(bpfrt_run_opts, opts, .user = &seen);
	struct result r;

	r = run_text("mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\n"
		     "call 77\nexit\n", &opts, 77, record_helper);
	CHECK(r.ret == 0 && r.r0 == 15 && seen.calls == 1 && seen.args[4] == 5,
	      "helper sees r1..r5 and returns r0: %s", r.err.msg);
	r = run_text("mov %r1, 1\nmov %r6, 77\ncall %r6\nexit\n", &opts, 77, record_helper);
	CHECK(r.ret == 0 && seen.calls == 2, "callx through a register: %s", r.err.msg);
	r = run_text("mov %r6, 78\ncall %r6\nexit\n", &opts, 77, record_helper);
	EXPECT_FAULT(r, -ENOENT, "callx to helper 78");
	r = run_text("call 3\nexit\n", &opts, 0, NULL);
	EXPECT_FAULT(r, -ENOENT, "insn 0: call to helper 3");

	opts.checked = true;
	r = run_text("mov %r1, 16\ncall 9\nmov %r0, 1\nexit\n", &opts, 9, failing_helper);
	EXPECT_FAULT(r, -EFAULT, "insn 1: pointer 0x10 is not readable");
	r = run_text("mov %r1, %r10\nadd %r1, -8\ncall 9\nmov %r0, 1\nexit\n", &opts, 9,
		     failing_helper);
	CHECK(r.ret == 0 && r.r0 == 1, "stack pointer is readable: %s", r.err.msg);
}

TEST(prog_lifecycle)
{
	struct bpfrt_insn *insns;
	struct bpfrt_prog *prog;
	struct bpfrt_error err;
	size_t n;
	BPFRT_OPTS(bpfrt_run_opts, opts);

	bpfrt_asm("mov %r0, 7\nexit\n", &insns, &n, &err);
	CHECK(bpfrt_prog_new(insns, n, NULL, &prog, &err) == 0, "new: %s", err.msg);
	CHECK(bpfrt_prog_insn_cnt(prog) == 2 && bpfrt_prog_insns(prog)[0].imm == 7,
	      "instructions are kept");
	CHECK(bpfrt_prog_set_helper(prog, 0x10000, "x", record_helper) == -EINVAL,
	      "helper ids are limited");
	CHECK(bpfrt_prog_run(prog, &opts, &err) == 0 && opts.retval == 7, "run");
	CHECK(bpfrt_prog_set_helper(prog, 1, "late", record_helper) == -EBUSY,
	      "helpers are fixed once running");
	opts.engine = BPFRT_ENGINE_JIT;
	CHECK(bpfrt_prog_run(prog, &opts, &err) == 0 && opts.retval == 7,
	      "the JIT runs it too: %s", err.msg);
	struct bpfrt_run_opts small = { .sz = 8 };
	CHECK(bpfrt_prog_run(prog, &small, &err) == -EINVAL && strstr(err.msg, "BPFRT_OPTS"),
	      "opts size is checked: %s", err.msg);
	bpfrt_prog_free(prog);
	free(insns);

	/* A map reference the loader never resolved cannot run. */
	struct bpfrt_insn pseudo[3] = { { .code = 0x18, .dst_reg = 1, .src_reg = 1, .imm = 3 },
					{ 0 }, { .code = 0x95 } };
	CHECK(bpfrt_prog_new(pseudo, 3, NULL, &prog, &err) == 0, "pseudo lddw validates");
	opts.engine = BPFRT_ENGINE_INTERP;
	CHECK(bpfrt_prog_run(prog, &opts, &err) == -EINVAL &&
	      strstr(err.msg, "map fd (src 1) that the loader has not resolved"),
	      "unresolved lddw: %s", err.msg);
	bpfrt_prog_free(prog);
}

TEST(local_calls)
{
	struct result r;
	BPFRT_OPTS(bpfrt_run_opts, opts);

	/* Each call has its own frame: the callee's r10-8 is not the caller's. */
	r = run_text("stdw [%r10-8], 11\ncall local f\nldxdw %r0, [%r10-8]\nexit\n"
		     "f:\nstdw [%r10-8], 22\nexit\n", &opts, 0, NULL);
	CHECK(r.ret == 0 && r.r0 == 11, "frames are separate: %llu", (unsigned long long)r.r0);
	/* The caller's stack can be passed down by pointer. */
	r = run_text("stdw [%r10-8], 5\nmov %r1, %r10\nadd %r1, -8\ncall local f\nexit\n"
		     "f:\nldxdw %r0, [%r1]\nexit\n", &opts, 0, NULL);
	CHECK(r.ret == 0 && r.r0 == 5, "pointer to caller's stack");
	/* Recursion: 8 frames in all are allowed, the 9th is not. */
	const char *rec = "mov %r1, %d\ncall local f\nexit\n"
			  "f:\nmov %r0, %r1\njeq %r1, 0, out\nsub %r1, 1\ncall local f\n"
			  "add %r0, 1\nout:\nexit\n";
	char text[256];

	for (int checked = 0; checked < 2; checked++) {
		opts.checked = checked;
		snprintf(text, sizeof(text), rec, 6);
		r = run_text(text, &opts, 0, NULL);
		CHECK(r.ret == 0 && r.r0 == 6, "depth 8 ok: %s", r.err.msg);
		snprintf(text, sizeof(text), rec, 7);
		r = run_text(text, &opts, 0, NULL);
		EXPECT_FAULT(r, -E2BIG, "call nesting exceeds 8 frames");
	}
}

TEST(packet_loads)
{
	uint8_t pkt[6] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc };
	BPFRT_OPTS(bpfrt_run_opts, opts, .pkt = pkt, .pkt_len = sizeof(pkt));
	struct result r;

	for (int checked = 0; checked < 2; checked++) {
		opts.checked = checked;
		r = run_text("ldabsw 1\nexit\n", &opts, 0, NULL);
		CHECK(r.ret == 0 && r.r0 == 0x3456789a, "ldabsw is big-endian: %#llx",
		      (unsigned long long)r.r0);
		r = run_text("mov %r3, 4\nldindh %r3, 0\nexit\n", &opts, 0, NULL);
		CHECK(r.ret == 0 && r.r0 == 0x9abc, "ldindh: %#llx", (unsigned long long)r.r0);
		r = run_text("mov %r0, 5\nldabsh 5\nmov %r0, 7\nexit\n", &opts, 0, NULL);
		CHECK(r.ret == 0 && r.r0 == 0, "out of range ends the program with 0");
		r = run_text("mov %r3, -1\nldindb %r3, 1\nexit\n", &opts, 0, NULL);
		CHECK(r.ret == 0 && r.r0 == 0x12, "ldind offset wraps in 32 bits");
		r = run_text("ldabsb -0x200000\nexit\n", &opts, 0, NULL);
		CHECK(r.ret == 0 && r.r0 == 0x12, "SKF_LL_OFF with no link layer");
	}
	/* A frame whose network header starts 2 bytes in. */
	uint8_t frame[8] = { 0xee, 0xff, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc };
	BPFRT_OPTS(bpfrt_run_opts, f, .pkt = frame + 2, .pkt_len = 6, .pkt_ll_len = 2);
	for (int engine = 0; engine < 2; engine++) {
		f.engine = engine ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP;
		r = run_text("ldabsh -0x200000\nexit\n", &f, 0, NULL);
		CHECK(r.ret == 0 && r.r0 == 0xeeff, "SKF_LL_OFF reads the link layer: %#llx",
		      (unsigned long long)r.r0);
		r = run_text("ldabsw -0x1ffffc\nexit\n", &f, 0, NULL);
		CHECK(r.ret == 0 && r.r0 == 0x56789abc, "SKF_LL_OFF to the frame's end");
		r = run_text("mov %r0, 9\nldabsw -0x1ffff9\nexit\n", &f, 0, NULL);
		CHECK(r.ret == 0 && r.r0 == 0, "SKF_LL_OFF past the frame's end");
		r = run_text("ldabsh -0xffffe\nexit\n", &f, 0, NULL);
		CHECK(r.ret == 0 && r.r0 == 0x5678, "SKF_NET_OFF reads the network header");
		r = run_text("ldabsb -0x100001\nexit\n", &f, 0, NULL);
		CHECK(r.ret == 0 && r.r0 == 0, "just below SKF_NET_OFF is past the frame");
	}
}

/* Many threads run one program that counts with atomics into shared memory. */
struct thread_arg {
	struct bpfrt_prog *prog;
	uint64_t *counters;
	int ret;
};

static void *counter_thread(void *p)
{
	struct thread_arg *a = p;
	BPFRT_OPTS(bpfrt_run_opts, opts, .ctx = a->counters, .ctx_len = 16);
	struct bpfrt_error err;

	for (int i = 0; i < 20000 && !a->ret; i++)
		a->ret = bpfrt_prog_run(a->prog, &opts, &err);
	return NULL;
}

TEST(concurrent_runs)
{
	struct bpfrt_insn *insns;
	struct bpfrt_prog *prog;
	struct bpfrt_error err;
	uint64_t counters[2] = { 0 };
	struct thread_arg args[4];
	pthread_t th[4];
	size_t n;

	bpfrt_asm("mov %r2, 1\nlock add [%r1], %r2\nmov %r2, 2\n"
		  "lock fetch add32 [%r1+8], %r2\nmov %r0, 0\nexit\n", &insns, &n, &err);
	bpfrt_prog_new(insns, n, NULL, &prog, &err);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ prog, counters, 0 };
		pthread_create(&th[i], NULL, counter_thread, &args[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK(args[i].ret == 0, "thread %d failed", i);
	}
	CHECK(counters[0] == 80000 && counters[1] == 160000, "no lost updates: %llu %llu",
	      (unsigned long long)counters[0], (unsigned long long)counters[1]);
	bpfrt_prog_free(prog);
	free(insns);
}

/*
 * Superinstructions (unchecked mode) must behave exactly like the
 * instructions they stand for; checked mode runs them one by one, so
 * comparing the two modes on each pattern, and on jumps into the middle
 * of one, tests the fusion.
 */
TEST(superinstructions)
{
	static const char *const progs[] = {
		/* mov+add(reg)+ldx of every size, address register reused as dst */
		"mov %r2, %r1\nadd %r2, %r3\nldxb %r0, [%r2+1]\nexit\n",
		"mov %r2, %r1\nadd %r2, %r3\nldxh %r2, [%r2+1]\nmov %r0, %r2\nexit\n",
		"mov %r2, %r1\nadd %r2, 4\nldxw %r0, [%r2-2]\nexit\n",
		"mov %r2, %r1\nadd %r2, 8\nldxdw %r0, [%r2]\nadd %r0, %r2\nsub %r0, %r1\nexit\n",
		/* mov+add where the add reads the register the mov wrote: not fused */
		"mov %r4, %r3\nadd %r4, %r4\nmov %r0, %r4\nexit\n",
		"mov %r4, %r3\nadd %r4, -9\nmov %r0, %r4\nexit\n",
		/* a jump into the middle of a fusible sequence */
		"mov %r2, %r1\njeq %r3, 2, mid\nmov %r2, %r1\nmid:\nadd %r2, %r3\n"
		"ldxb %r0, [%r2]\nexit\n",
		/* add-immediate then compare-and-jump: loops, 64 and 32 bit */
		"mov %r0, 0\nmov %r5, 0\nl:\nadd %r0, %r5\nadd %r5, 1\njlt %r5, 100, l\nexit\n",
		"mov32 %r0, 0\nmov32 %r5, -3\nl:\nadd %r0, 1\nadd32 %r5, 1\njne32 %r5, 2, l\n"
		"lsh %r0, 32\nor %r0, %r5\nexit\n",
		"mov %r0, 0\nmov %r5, 0x7ffffffe\nl:\nadd %r0, 1\nadd32 %r5, 1\njsgt32 %r5, 0, l\n"
		"exit\n",
		"mov %r0, 10\nmov %r6, 0\nl:\nadd %r0, -1\njsgt %r0, %r6, l\nexit\n",
		"mov %r0, 0\nl:\nadd %r0, 3\njset %r0, 4, out\nja l\nout:\nexit\n",
		/* a conditional jump over one ALU instruction becomes a select */
		"mov %r0, 7\njgt %r3, 1, +1\nmov %r0, 5\nexit\n",
		"mov %r0, 7\njne32 %r3, %r0, +1\nadd32 %r0, -9\nexit\n",
		"mov %r0, 100\njsle %r3, 2, +1\ndiv %r0, %r3\nexit\n",
		"mov %r0, -1\njeq %r3, 0, +1\nmod %r0, %r3\nexit\n",
		"lddw %r0, 0x1122334455667788\njlt %r3, 2, +1\nbe16 %r0\nexit\n",
		"mov %r0, 3\njset %r3, 1, +1\nneg32 %r0\nexit\n",
		"mov %r0, 3\nmov %r4, 8\njge %r3, %r4, +1\narsh %r0, %r3\nexit\n",
		/* ... also when other jumps land after it */
		"mov %r0, 1\njeq %r3, 3, t\njgt %r3, 1, +1\nmov %r0, 5\nt:\nadd %r0, 10\nexit\n",
	};
	uint8_t mem_a[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		for (uint64_t r3 = 0; r3 < 4; r3++) {
			char text[512];
			uint8_t m1[16], m2[16];
			struct result u, c;

			/* r3 arrives as an input: prepend mov r3, value. */
			snprintf(text, sizeof(text), "mov %%r3, %llu\n%s",
				 (unsigned long long)r3, progs[i]);
			memcpy(m1, mem_a, 16);
			memcpy(m2, mem_a, 16);
			BPFRT_OPTS(bpfrt_run_opts, fast, .ctx = m1, .ctx_len = 16);
			BPFRT_OPTS(bpfrt_run_opts, slow, .checked = true, .ctx = m2, .ctx_len = 16);
			u = run_text(text, &fast, 0, NULL);
			c = run_text(text, &slow, 0, NULL);
			if (!CHECK(c.ret == 0, "program %zu (r3=%llu) fails checked: %s", i,
				   (unsigned long long)r3, c.err.msg))
				continue;
			/* Pointers differ between the two runs: compare offsets. */
			uint64_t ur = u.r0, cr = c.r0;
			if (ur >= (uintptr_t)m1 && ur < (uintptr_t)m1 + 64)
				ur -= (uintptr_t)m1;
			if (cr >= (uintptr_t)m2 && cr < (uintptr_t)m2 + 64)
				cr -= (uintptr_t)m2;
			CHECK(u.ret == 0 && ur == cr, "program %zu (r3=%llu): fused %#llx, "
			      "plain %#llx", i, (unsigned long long)r3,
			      (unsigned long long)ur, (unsigned long long)cr);
		}
	}
}

/* Leave 0xa5 bytes on the host stack below the caller's frame. */
static __attribute__((noinline)) void dirty_stack(void)
{
	volatile uint8_t junk[65536];

	memset((void *)junk, 0xa5, sizeof(junk));
}

/* Checked runs never see old host data, even below frames never entered. */
TEST(checked_stack_is_clean)
{
	for (int engine = 0; engine < 2; engine++) {
		BPFRT_OPTS(bpfrt_run_opts, opts, .checked = true,
			   .engine = engine ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP);
		struct result r;

		dirty_stack();
		r = run_text("ldxdw %r0, [%r10-4096]\nldxdw %r1, [%r10-2000]\nor %r0, %r1\n"
			     "ldxdw %r1, [%r10-520]\nor %r0, %r1\nexit\n", &opts, 0, NULL);
		CHECK(r.ret == 0 && r.r0 == 0, "engine %d: unentered frames read %#llx", engine,
		      (unsigned long long)r.r0);
		dirty_stack();
		r = run_text("mov %r1, %r10\nadd %r1, -4096\nmov %r2, 64\ncall 9\nexit\n",
			     &opts, 9, sum_helper);
		CHECK(r.ret == 0 && r.r0 == 0, "engine %d: a helper reads %#llx below the "
		      "frame", engine, (unsigned long long)r.r0);
	}
}
