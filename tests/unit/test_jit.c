/* test_jit.c — the JIT against the interpreter and semantics.h: faults, helpers, calls,
 * packet loads, threads, every ALU/jump/atomic form at its edges, jump forms, random programs. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"
#include "exec/jit/emit.h"
#include "exec/jit/jit.h"
#include "isa/isa.h"
#include "isa/semantics.h"
#include "t.h"

/* ---- Running on both engines -------------------------------------------- */

#define CTX_MAX 32768

struct outcome {
	int ret, insn;
	uint64_t r0, insns;
	char msg[256];
};

/* Messages name addresses, which differ between engines' stacks: compare without them. */
static void strip_hex(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; in[i] && o + 1 < len; i++) {
		if (in[i] == '0' && in[i + 1] == 'x') {
			out[o++] = '#';
			for (i += 2; (in[i] >= '0' && in[i] <= '9') || (in[i] >= 'a' && in[i] <= 'f'); i++)
				;
			i--;
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
}

static bool same_msg(const char *a, const char *b)
{
	char x[256], y[256];

	strip_hex(a, x, sizeof(x));
	strip_hex(b, y, sizeof(y));
	return !strcmp(x, y);
}

static struct bpfrt_prog *prog_of(const struct bpfrt_insn *insns, size_t n)
{
	struct bpfrt_prog *prog = NULL;
	struct bpfrt_error err;

	if (!CHECK(bpfrt_prog_new(insns, n, NULL, &prog, &err) == 0, "prog_new: %s", err.msg))
		return NULL;
	return prog;
}

static struct bpfrt_prog *prog_text(const char *text)
{
	struct bpfrt_insn *insns;
	struct bpfrt_prog *prog;
	struct bpfrt_error err;
	size_t n;

	if (!CHECK(bpfrt_asm(text, &insns, &n, &err) == 0, "asm: %s", err.msg))
		return NULL;
	prog = prog_of(insns, n);
	free(insns);
	return prog;
}

/*
 * Run prog on one engine. When ctx is given, it is the run's ctx: the same
 * buffer for every engine, so pointers into it are equal; init is copied
 * into it first.
 */
static struct outcome run_on(struct bpfrt_prog *prog, enum bpfrt_engine engine,
			     const struct bpfrt_run_opts *base, uint8_t *ctx,
			     const uint8_t *init, size_t len)
{
	struct bpfrt_run_opts opts = *base;
	struct bpfrt_error err;
	struct outcome o = { 0 };

	opts.engine = engine;
	if (ctx) {
		memcpy(ctx, init, len);
		opts.ctx = ctx;
		opts.ctx_len = len;
	}
	o.ret = bpfrt_prog_run(prog, &opts, &err);
	o.insn = err.insn;
	o.r0 = opts.retval;
	o.insns = opts.insns;
	memcpy(o.msg, err.msg, sizeof(o.msg));
	return o;
}

/*
 * Run on the interpreter and the JIT in the mode base->checked says, CHECK
 * that every observable agrees (result, message, r0, instructions counted,
 * ctx), and return the JIT's outcome; *after gets the JIT's ctx.
 */
static struct outcome agree(const char *what, struct bpfrt_prog *prog,
			    const struct bpfrt_run_opts *base, const uint8_t *init,
			    size_t len, uint8_t *after)
{
	static uint8_t ctx[CTX_MAX], ictx[CTX_MAX];
	struct outcome a, b;

	a = run_on(prog, BPFRT_ENGINE_INTERP, base, init ? ctx : NULL, init, len);
	if (init)
		memcpy(ictx, ctx, len);
	b = run_on(prog, BPFRT_ENGINE_JIT, base, init ? ctx : NULL, init, len);
	CHECK(a.ret == b.ret && a.insn == b.insn && same_msg(a.msg, b.msg) &&
	      a.r0 == b.r0 && a.insns == b.insns && (!init || !memcmp(ictx, ctx, len)),
	      "%s (%s): interp %d %#llx %llu \"%s\" / jit %d %#llx %llu \"%s\"%s", what,
	      base->checked ? "checked" : "unchecked", a.ret, (unsigned long long)a.r0,
	      (unsigned long long)a.insns, a.msg, b.ret, (unsigned long long)b.r0,
	      (unsigned long long)b.insns, b.msg,
	      init && memcmp(ictx, ctx, len) ? " (ctx differs)" : "");
	if (after && init)
		memcpy(after, ctx, len);
	return b;
}

static struct outcome agree_text(const char *text, const struct bpfrt_run_opts *base,
				 const uint8_t *init, size_t len)
{
	struct bpfrt_prog *prog = prog_text(text);
	struct outcome o = { .ret = -1 };

	if (prog)
		o = agree(text, prog, base, init, len, NULL);
	bpfrt_prog_free(prog);
	return o;
}

static struct outcome jit_text(const char *text, const struct bpfrt_run_opts *base,
			       uint8_t *ctx, size_t len)
{
	struct bpfrt_prog *prog = prog_text(text);
	struct outcome o = { .ret = -1 };
	uint8_t init[CTX_MAX];

	if (ctx)
		memcpy(init, ctx, len);
	if (prog)
		o = run_on(prog, BPFRT_ENGINE_JIT, base, ctx, init, len);
	bpfrt_prog_free(prog);
	return o;
}

#define EXPECT(o, code, what) \
	CHECK((o).ret == (code) && strstr((o).msg, (what)), \
	      "got %d \"%s\", want %d with \"%s\"", (o).ret, (o).msg, (code), (what))

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static struct bpfrt_prog *prog_helpers(const char *text);

/* ---- Checked-mode faults ----------------------------------------------- */

TEST(jit_checked_faults)
{
	uint8_t ctx[16] = { 1, 2, 3, 4 }, ro[8] = { 9 };
	BPFRT_OPTS(bpfrt_run_opts, opts, .checked = true);
	struct outcome o;

	o = agree_text("ldxw %r0, [%r1+12]\nexit\n", &opts, ctx, 16);
	CHECK(o.ret == 0 && o.r0 == 0, "last word of ctx: %s", o.msg);
	o = agree_text("ldxw %r0, [%r1+13]\nexit\n", &opts, ctx, 16);
	EXPECT(o, -EFAULT, "insn 0: read of 4 bytes");
	CHECK(strstr(o.msg, "past the end of ctx"), "names ctx: %s", o.msg);
	o = agree_text("stb [%r1-1], 0\nexit\n", &opts, ctx, 16);
	EXPECT(o, -EFAULT, "write of 1 bytes");
	o = agree_text("mov %r1, 0\nldxdw %r0, [%r1]\nexit\n", &opts, ctx, 16);
	EXPECT(o, -EFAULT, "outside the stack, ctx and every region");
	o = agree_text("ldxb %r0, [%r10]\nexit\n", &opts, NULL, 0);
	EXPECT(o, -EFAULT, "insn 0: read of 1 bytes");
	o = agree_text("stdw [%r10+8], 1\nexit\n", &opts, NULL, 0);
	EXPECT(o, -EFAULT, "insn 0: write of 8 bytes");
	o = agree_text("stb [%r10-4096], 1\nldxb %r0, [%r10-4096]\nexit\n", &opts, NULL, 0);
	CHECK(o.ret == 0 && o.r0 == 1, "bottom of the 8-frame stack: %s", o.msg);
	o = agree_text("ldxb %r0, [%r10-4097]\nexit\n", &opts, NULL, 0);
	EXPECT(o, -EFAULT, "read of 1 bytes");
	o = agree_text("mov %r2, %r10\nldxw %r0, [%r2-2]\nexit\n", &opts, NULL, 0);
	EXPECT(o, -EFAULT, "insn 1: read of 4 bytes");
	CHECK(strstr(o.msg, "runs past the end of the stack"), "%s", o.msg);
	o = agree_text("mov %r2, %r10\nstxw [%r2-4098], %r2\nexit\n", &opts, NULL, 0);
	EXPECT(o, -EFAULT, "insn 1: write of 4 bytes");
	CHECK(strstr(o.msg, "outside the stack, ctx and every region"), "%s", o.msg);
	o = agree_text("ldxdw %r0, [%r10-8]\nexit\n", &opts, NULL, 0);
	CHECK(o.ret == 0 && o.r0 == 0, "stack starts zeroed");
	/* Below r10's frame the JIT zeroes on first touch: never old data. */
	o = jit_text("mov %r2, %r10\nldxdw %r0, [%r2-3000]\nexit\n", &opts, NULL, 0);
	CHECK(o.ret == 0 && o.r0 == 0, "deep stack reads 0: %#llx", (unsigned long long)o.r0);
	o = jit_text("ldxdw %r0, [%r10-4096]\nexit\n", &opts, NULL, 0);
	CHECK(o.ret == 0 && o.r0 == 0, "the bottom reads 0: %#llx", (unsigned long long)o.r0);
	o = jit_text("mov %r2, %r10\nstdw [%r2-3000], 7\nldxdw %r0, [%r2-3000]\n"
		     "ldxdw %r3, [%r2-4096]\nadd %r0, %r3\nexit\n", &opts, NULL, 0);
	CHECK(o.ret == 0 && o.r0 == 7, "deep stack keeps what is written: %s", o.msg);

	struct bpfrt_region regions[] = { { ro, sizeof(ro), false } };
	BPFRT_OPTS(bpfrt_run_opts, ropts, .checked = true, .regions = regions, .nregions = 1);
	char text[160];

	snprintf(text, sizeof(text), "lddw %%r1, %#llx\nldxb %%r0, [%%r1]\nexit\n",
		 (unsigned long long)(uintptr_t)ro);
	o = agree_text(text, &ropts, NULL, 0);
	CHECK(o.ret == 0 && o.r0 == 9, "read a read-only region: %s", o.msg);
	snprintf(text, sizeof(text), "lddw %%r1, %#llx\nstb [%%r1], 1\nexit\n",
		 (unsigned long long)(uintptr_t)ro);
	o = agree_text(text, &ropts, NULL, 0);
	EXPECT(o, -EACCES, "insn 2: write of 1 bytes to read-only memory");
	snprintf(text, sizeof(text), "lddw %%r1, %#llx\nmov %%r2, 1\nlock add32 [%%r1+4], %%r2\n"
		 "exit\n", (unsigned long long)(uintptr_t)ro);
	o = agree_text(text, &ropts, NULL, 0);
	EXPECT(o, -EACCES, "read-only memory");
	CHECK(ro[0] == 9 && ro[4] == 0, "read-only region unchanged");
}

TEST(jit_misaligned_atomics)
{
	uint64_t ctx[2] = { 0 };
	BPFRT_OPTS(bpfrt_run_opts, opts, .checked = true);
	struct outcome o;

	o = agree_text("mov %r2, 1\nlock add [%r1+4], %r2\nexit\n", &opts, (uint8_t *)ctx, 16);
	EXPECT(o, -EFAULT, "insn 1: atomic access of 8 bytes at");
	CHECK(strstr(o.msg, "is misaligned"), "%s", o.msg);
	o = agree_text("mov %r2, 1\nlock add [%r10-12], %r2\nexit\n", &opts, NULL, 0);
	EXPECT(o, -EFAULT, "misaligned");
	o = agree_text("mov %r2, 1\nlock add [%r10-4], %r2\nexit\n", &opts, NULL, 0);
	EXPECT(o, -EFAULT, "runs past the end of the stack");
	o = agree_text("mov %r2, 1\nlock fetch add32 [%r10-6], %r2\nexit\n", &opts, NULL, 0);
	EXPECT(o, -EFAULT, "atomic access of 4 bytes");
	o = agree_text("mov %r2, 1\nlock fetch or32 [%r10-4], %r2\nmov %r0, %r2\nexit\n",
		       &opts, NULL, 0);
	CHECK(o.ret == 0 && o.r0 == 0, "aligned 4 bytes on the stack: %s", o.msg);
	o = agree_text("mov %r3, %r10\nmov %r2, 1\nlock xchg [%r3-12], %r2\nexit\n",
		       &opts, NULL, 0);
	EXPECT(o, -EFAULT, "insn 2: atomic access of 8 bytes");
	o = agree_text("mov %r2, 5\nlock fetch add [%r1+8], %r2\nmov %r0, %r2\nexit\n",
		       &opts, (uint8_t *)ctx, 16);
	CHECK(o.ret == 0 && o.r0 == 0, "fetch add in checked mode");
}

TEST(jit_budget)
{
	BPFRT_OPTS(bpfrt_run_opts, opts, .checked = true, .budget = 1000);
	uint8_t ctx[32] = { 0 };
	struct outcome o;

	o = agree_text("loop:\nja loop\nexit\n", &opts, NULL, 0);
	EXPECT(o, -ELOOP, "insn 0: stopped after 1000 instructions");
	CHECK(o.insns == 1000, "counted %llu", (unsigned long long)o.insns);
	o = agree_text("mov %r0, 0\nloop:\nadd %r0, 1\nlddw %r2, 0x100000000\njlt %r0, 5000, loop\n"
		       "exit\n", &opts, NULL, 0);
	EXPECT(o, -ELOOP, "stopped after 1000");
	opts.budget = 4;
	o = agree_text("mov %r0, 1\nadd %r0, 1\nadd %r0, 1\nexit\n", &opts, NULL, 0);
	CHECK(o.ret == 0 && o.r0 == 3 && o.insns == 4, "exact budget: %s", o.msg);
	opts.budget = 3;
	o = agree_text("mov %r0, 1\nadd %r0, 1\nadd %r0, 1\nexit\n", &opts, NULL, 0);
	EXPECT(o, -ELOOP, "insn 3: stopped after 3");
	/*
	 * Every budget through programs with effects in the middle of their
	 * blocks: stores, atomics, helper calls, packet loads that hit and miss.
	 */
	static const char *const texts[] = {
		("mov %r2, 5\nstxdw [%r1], %r2\nadd %r2, 1\nlddw %r3, 0x1122334455\n"
		 "stxdw [%r1+8], %r3\nadd %r2, %r3\nmov %r4, 2\nlock fetch add [%r1+16], %r4\n"
		 "stxw [%r1+24], %r4\nmov %r0, %r2\nldxb %r5, [%r1+1]\nexit\n"),
		("mov %r6, %r1\nmov %r1, 3\nstb [%r6], 1\ncall 7\nstxdw [%r6+8], %r0\n"
		 "mov %r2, 1\nldabsb 2\nstxb [%r6+2], %r0\nldindh %r2, 1\nadd %r0, 1\n"
		 "ldabsw 30\nmov %r0, 9\nexit\n"),
		("stb [%r1], 1\ncall local f\nstb [%r1+1], 2\nmov %r0, 1\nexit\n"
		 "f:\nstb [%r1+2], 3\nadd %r0, 1\nstb [%r1+3], 4\nexit\n"),
	};
	uint8_t pkt[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	opts.pkt = pkt;
	opts.pkt_len = sizeof(pkt);
	for (size_t t = 0; t < ARRAY_LEN(texts); t++) {
		for (uint64_t b = 1; b <= 16; b++) {
			char what[32];
			struct bpfrt_prog *prog = prog_helpers(texts[t]);

			opts.budget = b;
			snprintf(what, sizeof(what), "program %zu, budget %llu", t,
				 (unsigned long long)b);
			if (prog)
				agree(what, prog, &opts, ctx, sizeof(ctx), NULL);
			bpfrt_prog_free(prog);
		}
	}
}

static uint64_t record_helper(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
			      uint64_t e, struct bpfrt_run *run)
{
	uint64_t *seen = bpfrt_run_user(run);

	if (seen) {
		seen[0] = a; seen[1] = b; seen[2] = c; seen[3] = d; seen[4] = e;
		seen[5]++;
	}
	return a + 2 * b + 3 * c + 4 * d + 5 * e;
}

static uint64_t failing_helper(uint64_t a, uint64_t b, uint64_t c, uint64_t d,
			       uint64_t e, struct bpfrt_run *run)
{
	(void)b; (void)c; (void)d; (void)e;
	if (!bpfrt_run_mem_ok(run, (void *)(uintptr_t)a, 8, false))
		bpfrt_run_fail(run, -EFAULT, "pointer %#llx is not readable",
			       (unsigned long long)a);
	return 0xfffffffffffffff0ull;
}

/* Read through a pointer the program gives, as real helpers do. */
static uint64_t sum_helper(uint64_t p, uint64_t len, uint64_t c, uint64_t d,
			   uint64_t e, struct bpfrt_run *run)
{
	uint64_t sum = 0;

	(void)c; (void)d; (void)e;
	if (len > 4096 || !bpfrt_run_mem_ok(run, (void *)(uintptr_t)p, len, false)) {
		bpfrt_run_fail(run, -EFAULT, "bad pointer");
		return 0;
	}
	for (uint64_t i = 0; i < len; i++)
		sum = sum * 31 + ((const uint8_t *)(uintptr_t)p)[i];
	return sum;
}

static struct bpfrt_prog *prog_helpers(const char *text)
{
	struct bpfrt_prog *prog = prog_text(text);

	if (prog) {
		bpfrt_prog_set_helper(prog, 7, "record", record_helper);
		bpfrt_prog_set_helper(prog, 8, "fail", failing_helper);
		bpfrt_prog_set_helper(prog, 9, "sum", sum_helper);
	}
	return prog;
}

static struct outcome agree_helpers(const char *text, const struct bpfrt_run_opts *opts)
{
	struct bpfrt_prog *prog = prog_helpers(text);
	struct outcome o = { .ret = -1 };

	if (prog)
		o = agree(text, prog, opts, NULL, 0, NULL);
	bpfrt_prog_free(prog);
	return o;
}

TEST(jit_call_faults)
{
	const char *rec = "mov %r1, %d\ncall local f\nexit\n"
			  "f:\nmov %r0, %r1\njeq %r1, 0, out\nsub %r1, 1\ncall local f\n"
			  "add %r0, 1\nout:\nexit\n";
	BPFRT_OPTS(bpfrt_run_opts, opts);
	char text[256];
	struct outcome o;

	for (int checked = 0; checked < 2; checked++) {
		opts.checked = checked;
		snprintf(text, sizeof(text), rec, 6);
		o = agree_text(text, &opts, NULL, 0);
		CHECK(o.ret == 0 && o.r0 == 6, "depth 8 ok: %s", o.msg);
		snprintf(text, sizeof(text), rec, 7);
		o = agree_text(text, &opts, NULL, 0);
		EXPECT(o, -E2BIG, "insn 6: call nesting exceeds 8 frames");
		o = agree_helpers("mov %r6, 78\ncall %r6\nexit\n", &opts);
		EXPECT(o, -ENOENT, "insn 1: callx to helper 78");
		o = agree_helpers("mov %r6, 3\ncall %r6\nexit\n", &opts);
		EXPECT(o, -ENOENT, "insn 1: callx to helper 3, which is not available");
		o = agree_helpers("lddw %r2, 0x100000007\ncall %r2\nexit\n", &opts);
		EXPECT(o, -ENOENT, "callx to helper 4294967303");
		o = agree_helpers("call 3\nexit\n", &opts);
		EXPECT(o, -ENOENT, "insn 0: call to helper 3");
		o = agree_helpers("mov %r1, 16\ncall 8\nmov %r0, 1\nexit\n", &opts);
		if (checked)
			EXPECT(o, -EFAULT, "insn 1: pointer 0x10 is not readable");
		o = agree_helpers("mov %r1, 16\nmov %r4, 8\ncall %r4\nmov %r0, 1\nexit\n", &opts);
		if (checked)
			EXPECT(o, -EFAULT, "insn 2: pointer 0x10 is not readable");
		o = agree_helpers("mov %r1, %r10\nadd %r1, -8\ncall 8\nexit\n", &opts);
		CHECK(o.ret == 0 && o.r0 == 0xfffffffffffffff0ull, "helper r0: %s", o.msg);
	}
	/* A program whose lddw the loader never resolved does not run. */
	struct bpfrt_insn pseudo[3] = { { .code = 0x18, .dst_reg = 1, .src_reg = 2, .imm = 3 },
					{ 0 }, { .code = 0x95 } };
	struct bpfrt_prog *prog = prog_of(pseudo, 3);

	o = run_on(prog, BPFRT_ENGINE_JIT, &opts, NULL, NULL, 0);
	EXPECT(o, -EINVAL, "insn 0: lddw refers to a map value (src 2) that the loader");
	bpfrt_prog_free(prog);
}

/* ---- Helpers, local calls, packet loads --------------------------------- */

TEST(jit_helpers)
{
	uint64_t seen[6] = { 0 };
	BPFRT_OPTS(bpfrt_run_opts, opts, .user = seen);
	struct outcome o;

	for (int checked = 0; checked < 2; checked++) {
		opts.checked = checked;
		seen[5] = 0;
		o = agree_helpers("mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\n"
				  "mov %r0, 99\ncall 7\nexit\n", &opts);
		CHECK(o.ret == 0 && o.r0 == 55 && seen[4] == 5 && seen[5] == 2,
		      "helper sees r1..r5, returns r0: %s", o.msg);
		/* r6..r9 survive helper calls; r0 is the last helper's result. */
		o = agree_helpers("mov %r6, 6\nmov %r7, 7\nmov %r8, 8\nmov %r9, 9\n"
				  "mov %r1, 1\nmov %r2, 0\nmov %r3, 0\nmov %r4, 0\nmov %r5, 0\n"
				  "call 7\nmov %r1, %r0\nmov %r2, 0\nmov %r3, 0\nmov %r4, 0\n"
				  "mov %r5, 0\ncall 7\nadd %r0, %r6\nadd %r0, %r7\n"
				  "add %r0, %r8\nadd %r0, %r9\nexit\n", &opts);
		CHECK(o.ret == 0 && o.r0 == 1 + 30, "callee-saved survive: %#llx",
		      (unsigned long long)o.r0);
		o = agree_helpers("mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\n"
				  "mov %r6, 7\ncall %r6\nmov %r7, %r0\nmov %r1, %r0\nmov %r2, 0\n"
				  "mov %r3, 0\nmov %r4, 0\nmov %r5, 0\ncall %r6\nadd %r0, %r7\n"
				  "exit\n", &opts);
		CHECK(o.ret == 0 && o.r0 == 110, "callx through a register: %s", o.msg);
		/* A helper reads the stack through a pointer. */
		o = agree_helpers("stdw [%r10-8], 0x1234\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\n"
				  "call 9\nexit\n", &opts);
		CHECK(o.ret == 0 && o.r0 != 0, "helper reads the frame: %s", o.msg);
	}
	for (int checked = 0; checked < 2; checked++) {
		opts.checked = checked;
		/* r1..r5 survive helper calls, as in the interpreter. */
		o = agree_helpers("mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\n"
				  "call 7\nadd %r0, %r1\nadd %r0, %r2\nadd %r0, %r3\nadd %r0, %r4\n"
				  "add %r0, %r5\nexit\n", &opts);
		CHECK(o.ret == 0 && o.r0 == 55 + 15, "r1..r5 kept: %#llx",
		      (unsigned long long)o.r0);
	}
	opts.checked = true;
	/* The whole stack is zero for a helper, even frames no call entered. */
	{
		struct bpfrt_prog *prog = prog_helpers("mov %r1, %r10\nadd %r1, -4096\n"
						       "mov %r2, 4096\ncall 9\nexit\n");

		o = run_on(prog, BPFRT_ENGINE_JIT, &opts, NULL, NULL, 0);
		CHECK(o.ret == 0 && o.r0 == 0, "helper sees a zeroed stack: %#llx",
		      (unsigned long long)o.r0);
		bpfrt_prog_free(prog);
	}
}

TEST(jit_local_calls)
{
	BPFRT_OPTS(bpfrt_run_opts, opts);
	struct outcome o;

	for (int checked = 0; checked < 2; checked++) {
		opts.checked = checked;
		o = agree_text("stdw [%r10-8], 11\ncall local f\nldxdw %r0, [%r10-8]\nexit\n"
			       "f:\nstdw [%r10-8], 22\nexit\n", &opts, NULL, 0);
		CHECK(o.ret == 0 && o.r0 == 11, "frames are separate: %llu",
		      (unsigned long long)o.r0);
		o = agree_text("stdw [%r10-8], 5\nmov %r1, %r10\nadd %r1, -8\ncall local f\nexit\n"
			       "f:\nldxdw %r0, [%r1]\nexit\n", &opts, NULL, 0);
		CHECK(o.ret == 0 && o.r0 == 5, "pointer to caller's stack");
		o = agree_text("stdw [%r10-8], 6\ncall local f\nexit\nf:\nldxdw %r0, [%r10+504]\n"
			       "exit\n", &opts, NULL, 0);
		CHECK(o.ret == 0 && o.r0 == 6, "caller's frame above r10: %s", o.msg);
		/* r1..r5 flow both ways; r6..r9 are restored after the call. */
		o = agree_text("mov %r1, 1\nmov %r6, 6\nmov %r9, 9\ncall local f\nadd %r0, %r1\n"
			       "add %r0, %r6\nadd %r0, %r9\nexit\n"
			       "f:\nmov %r0, 100\nmov %r1, 1000\nmov %r6, 60\nmov %r9, 90\nexit\n",
			       &opts, NULL, 0);
		CHECK(o.ret == 0 && o.r0 == 1115, "registers across calls: %llu",
		      (unsigned long long)o.r0);
		/* Recursion into the main program. */
		o = agree_text("start:\nadd %r0, 1\njge %r0, 5, out\ncall local start\n"
			       "out:\nexit\n", &opts, NULL, 0);
		CHECK(o.ret == 0 && o.r0 == 5, "main calls itself: %s", o.msg);
	}
	/* Checked mode zeroes each new frame: g does not see what f left. */
	opts.checked = true;
	o = agree_text("call local f\ncall local g\nexit\nf:\nstdw [%r10-8], 77\nexit\n"
		       "g:\nldxdw %r0, [%r10-8]\nexit\n", &opts, NULL, 0);
	CHECK(o.ret == 0 && o.r0 == 0, "new frames are zeroed: %llu", (unsigned long long)o.r0);
	/* The caller may read a returned callee's frame: both engines keep it. */
	o = agree_text("call local f\nmov %r2, %r10\nldxdw %r0, [%r2-520]\nexit\n"
		       "f:\nstdw [%r10-8], 77\nexit\n", &opts, NULL, 0);
	CHECK(o.ret == 0 && o.r0 == 77, "callee's frame after return: %llu",
	      (unsigned long long)o.r0);
}

TEST(jit_packet_loads)
{
	uint8_t pkt[6] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc };
	BPFRT_OPTS(bpfrt_run_opts, opts, .pkt = pkt, .pkt_len = sizeof(pkt));
	struct outcome o;

	for (int checked = 0; checked < 2; checked++) {
		opts.checked = checked;
		o = agree_text("ldabsw 1\nexit\n", &opts, NULL, 0);
		CHECK(o.ret == 0 && o.r0 == 0x3456789a, "ldabsw is big-endian: %#llx",
		      (unsigned long long)o.r0);
		o = agree_text("mov %r3, 4\nldindh %r3, 0\nexit\n", &opts, NULL, 0);
		CHECK(o.ret == 0 && o.r0 == 0x9abc, "ldindh: %#llx", (unsigned long long)o.r0);
		o = agree_text("mov %r0, 5\nldabsh 5\nmov %r0, 7\nexit\n", &opts, NULL, 0);
		CHECK(o.ret == 0 && o.r0 == 0, "out of range ends the program with 0");
		o = agree_text("mov %r3, -1\nldindb %r3, 1\nexit\n", &opts, NULL, 0);
		CHECK(o.ret == 0 && o.r0 == 0x12, "ldind offset wraps in 32 bits");
		o = agree_text("lddw %r3, 0x100000002\nldindb %r3, 0\nexit\n", &opts, NULL, 0);
		CHECK(o.ret == 0 && o.r0 == 0x56, "ldind uses the low 32 bits");
		o = agree_text("ldabsb -0x200000\nexit\n", &opts, NULL, 0);
		CHECK(o.ret == 0 && o.r0 == 0x12, "SKF_LL_OFF addresses the link layer");
		o = agree_text("mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\n"
			       "mov %r6, 6\nldabsb 0\nadd %r0, %r1\nadd %r0, %r2\nadd %r0, %r3\n"
			       "add %r0, %r4\nadd %r0, %r5\nadd %r0, %r6\nexit\n", &opts, NULL, 0);
		CHECK(o.ret == 0 && o.r0 == 0x12 + 21, "registers kept: %#llx",
		      (unsigned long long)o.r0);
		o = agree_text("call local f\nmov %r0, 9\nexit\nf:\nldabsw 4\nexit\n", &opts,
			       NULL, 0);
		CHECK(o.ret == 0 && o.r0 == 0, "a miss in a callee ends the whole run");
	}
	opts.pkt = NULL;
	o = agree_text("ldabsb 0\nexit\n", &opts, NULL, 0);
	CHECK(o.ret == 0 && o.r0 == 0, "no packet");
}

/* ---- Threads ------------------------------------------------------------ */

struct thread_arg {
	struct bpfrt_prog *prog;
	uint64_t *counters;
	bool checked;
	int ret;
};

static void *counter_thread(void *p)
{
	struct thread_arg *a = p;
	BPFRT_OPTS(bpfrt_run_opts, opts, .engine = BPFRT_ENGINE_JIT, .checked = a->checked,
		   .ctx = a->counters, .ctx_len = 32);
	struct bpfrt_error err;

	for (int i = 0; i < 20000 && !a->ret; i++)
		a->ret = bpfrt_prog_run(a->prog, &opts, &err);
	return NULL;
}

/* Four threads count through every kind of atomic: no update may be lost. */
TEST(jit_concurrent_runs)
{
	const char *text =
		"mov %r2, 1\nlock add [%r1], %r2\n"
		"mov %r2, 2\nlock fetch add32 [%r1+8], %r2\n"
		"retry:\nldxdw %r0, [%r1+16]\nmov %r4, %r0\nmov %r3, %r0\nadd %r3, 1\n"
		"lock cmpxchg [%r1+16], %r3\njne %r0, %r4, retry\n"
		"rsh %r2, 1\nand %r2, 63\nmov %r5, 1\nlsh %r5, %r2\nlock fetch or [%r1+24], %r5\n"
		"mov %r0, 0\nexit\n";
	struct thread_arg args[4];
	pthread_t th[4];

	for (int checked = 0; checked < 2; checked++) {
		uint64_t counters[4] = { 0 };
		struct bpfrt_prog *prog = prog_text(text);

		if (!prog)
			return;
		for (int i = 0; i < 4; i++) {
			args[i] = (struct thread_arg){ prog, counters, checked, 0 };
			pthread_create(&th[i], NULL, counter_thread, &args[i]);
		}
		for (int i = 0; i < 4; i++) {
			pthread_join(th[i], NULL);
			CHECK(args[i].ret == 0, "thread %d failed", i);
		}
		CHECK(counters[0] == 80000 && (uint32_t)counters[1] == 160000 &&
		      counters[2] == 80000 && counters[3] == ~0ull,
		      "no lost updates: %llu %llu %llu %#llx", (unsigned long long)counters[0],
		      (unsigned long long)counters[1], (unsigned long long)counters[2],
		      (unsigned long long)counters[3]);
		bpfrt_prog_free(prog);
	}
}

/* ---- Form sweeps against semantics.h ------------------------------------ */

/* A program under construction. */
struct pb {
	struct bpfrt_insn in[24576];
	size_t n;
};

static void pb_add(struct pb *p, uint8_t code, unsigned dst, unsigned src, int16_t off,
		   int32_t imm)
{
	p->in[p->n++] = (struct bpfrt_insn){ .code = code, .dst_reg = dst & 15,
					     .src_reg = src & 15, .off = off, .imm = imm };
}

static void pb_lddw(struct pb *p, unsigned dst, uint64_t v)
{
	pb_add(p, 0x18, dst, 0, 0, (int32_t)(uint32_t)v);
	pb_add(p, 0, 0, 0, 0, (int32_t)(uint32_t)(v >> 32));
}

/* stxdw [r1 + 8 * slot], reg */
static void pb_out(struct pb *p, unsigned reg, unsigned slot)
{
	pb_add(p, 0x7b, R1, reg, (int16_t)(8 * slot), 0);
}

static const uint64_t vals[] = {
	0, 1, 2, 3, 7, 8, 31, 32, 33, 63, 64, 0x7f, 0x80, 0xff, 0x1234,
	0x7fffffff, 0x80000000, 0xffffffff, 0x100000000, 0x100000001,
	0x123456789abcdef0, 0x8000000000000000, 0x7fffffffffffffff,
	(uint64_t)-1, (uint64_t)-2, (uint64_t)-7, (uint64_t)-8, (uint64_t)-0x80000000,
	(uint64_t)-0x80000001, 0xfffffffe00000000, 0xedcba98765432110,
};
#define NVALS (sizeof(vals) / sizeof(vals[0]))

static const int32_t imms[] = {
	0, 1, -1, 2, 3, 4, 7, -7, 8, -8, 16, 31, 32, 33, 63, 64, 127, 128, -128, -129,
	0xff, 0x100, 0x10000, 1 << 30, -(1 << 30), INT32_MAX, INT32_MIN, 0x12345678,
	-0x12345678, 1000000007,
};
#define NIMMS (sizeof(imms) / sizeof(imms[0]))

/* Register pairs (dst, src): rax, rdx and rcx are where x86 has constraints. */
static const uint8_t pairs[][2] = {
	{ R0, R3 }, { R3, R0 }, { R4, R0 }, { R6, R4 }, { R4, R4 }, { R3, R3 },
	{ R0, R0 }, { R6, R2 }, { R5, R7 }, { R3, R4 }, { R4, R3 }, { R9, R8 },
};
#define NPAIRS (sizeof(pairs) / sizeof(pairs[0]))

/* Registers the sweeps record: all but r1 (ctx) and r10. */
static const uint8_t outs[] = { R0, R2, R3, R4, R5, R6, R7, R8, R9 };
#define NOUTS (sizeof(outs) / sizeof(outs[0]))
#define SWEEP_SLOTS 4000	/* stxdw reaches 32 KiB of ctx */

/*
 * Many cases in one program: each block sets some registers, runs the form
 * under test and stores every register to ctx; the model predicts them.
 */
struct sweep {
	const char *what;
	struct pb p;
	uint64_t model[ISA_NREGS];
	uint64_t expect[SWEEP_SLOTS];
	unsigned blocks;
};

static void sweep_begin(struct sweep *s)
{
	s->p.n = 0;
	s->blocks = 0;
	for (unsigned r = 0; r < NOUTS; r++) {
		uint64_t v = 0x0101010101010101ull * (outs[r] + 1);

		pb_lddw(&s->p, outs[r], v);
		s->model[outs[r]] = v;
	}
}

static void sweep_set(struct sweep *s, unsigned reg, uint64_t v)
{
	pb_lddw(&s->p, reg, v);
	s->model[reg] = v;
}

/*
 * Run the program on both engines in both modes (and, for the JIT, both
 * shift encodings); compare the ctx it wrote with the model's.
 */
static void sweep_flush(struct sweep *s)
{
	static uint64_t ctx[SWEEP_SLOTS];
	static const uint8_t init[SWEEP_SLOTS * 8];
	unsigned nslots = s->blocks * NOUTS;

	if (!s->blocks)
		return;
	pb_add(&s->p, 0x95, 0, 0, 0, 0);
	for (int variant = 0; variant < 3; variant++) {
		BPFRT_OPTS(bpfrt_run_opts, opts, .checked = variant == 1);
		struct bpfrt_prog *prog;
		struct outcome o;

		jit_no_bmi2 = variant == 2;
		prog = prog_of(s->p.in, s->p.n);
		if (!prog)
			break;
		o = agree(s->what, prog, &opts, init, nslots * 8, (uint8_t *)ctx);
		bpfrt_prog_free(prog);
		/* One check per program run: the first slot that differs, if any. */
		unsigned k = 0;
		while (o.ret == 0 && k < nslots && ctx[k] == s->expect[k])
			k++;
		if (!CHECK(o.ret == 0, "%s: %s", s->what, o.msg))
			continue;
		CHECK(k == nslots, "%s (variant %d): r%u of block %u = %#llx, want %#llx",
		      s->what, variant, outs[k % NOUTS], (unsigned)(k / NOUTS),
		      (unsigned long long)ctx[k], (unsigned long long)s->expect[k]);
	}
	jit_no_bmi2 = false;
	sweep_begin(s);
}

static void sweep_end_block(struct sweep *s)
{
	for (unsigned r = 0; r < NOUTS; r++) {
		pb_out(&s->p, outs[r], s->blocks * NOUTS + r);
		s->expect[s->blocks * NOUTS + r] = s->model[outs[r]];
	}
	if (++s->blocks * NOUTS + NOUTS > SWEEP_SLOTS)
		sweep_flush(s);
}

/* The model of one ALU form applied to registers. */
static void model_alu(const struct bpfrt_insn *in, enum isa_form_id id, uint64_t *reg)
{
	const struct isa_form *f = &isa_forms[id];
	bool is32 = isa_is_alu32(in->code);

	switch (f->shape) {
	case SH_ALU_IMM:
		reg[in->dst_reg] = sem_alu_form(in->code, f->dval, reg[in->dst_reg],
						sem_imm(is32, in->imm));
		break;
	case SH_ALU_REG: case SH_NEG:
		reg[in->dst_reg] = sem_alu_form(in->code, f->dval, reg[in->dst_reg],
						f->shape == SH_NEG ? 0 : reg[in->src_reg]);
		break;
	default:	/* SH_END */
		reg[in->dst_reg] = sem_end(BPF_CLASS(in->code) == BPF_ALU64 ||
					   BPF_SRC(in->code) == BPF_TO_BE, (unsigned)in->imm,
					   reg[in->dst_reg]);
		break;
	}
}

static int16_t form_off(const struct isa_form *f)
{
	return f->disc == D_OFF ? (int16_t)f->dval : 0;
}

/* One ALU form: every value against every immediate (or value), per register pair. */
static void sweep_alu_form(struct sweep *s, enum isa_form_id id)
{
	const struct isa_form *f = &isa_forms[id];
	bool reg = f->shape == SH_ALU_REG;
	unsigned nb = f->shape == SH_ALU_IMM ? NIMMS : reg ? NVALS : 1;

	s->what = f->mnem;
	for (unsigned pr = 0; pr < (reg ? NPAIRS : 4); pr++) {
		unsigned d = pairs[pr][0], r = pairs[pr][1];

		for (unsigned a = 0; a < NVALS; a += reg ? 2 : 1) {
			for (unsigned b = 0; b < nb; b++) {
				struct bpfrt_insn in = { .code = f->code, .dst_reg = d & 15,
							 .off = form_off(f) };

				sweep_set(s, d, vals[a]);
				if (reg) {
					sweep_set(s, r, vals[b]);
					in.src_reg = r & 15;
				} else if (f->shape == SH_ALU_IMM) {
					in.imm = imms[b];
				} else if (f->shape == SH_END) {
					in.imm = f->dval;
				}
				s->p.in[s->p.n++] = in;
				model_alu(&in, id, s->model);
				sweep_end_block(s);
			}
		}
	}
	sweep_flush(s);
}

/* Every ALU, ALU64 and byte-swap form at the edges of its operands. */
TEST(jit_alu_forms)
{
	static struct sweep s;

	sweep_begin(&s);
	for (unsigned id = 0; id < ISA_NFORMS; id++) {
		unsigned sh = isa_forms[id].shape;

		if (sh == SH_ALU_IMM || sh == SH_ALU_REG || sh == SH_NEG || sh == SH_END)
			sweep_alu_form(&s, (enum isa_form_id)id);
	}
}

/* Every conditional jump form: r9 = taken, for each pair of values. */
static void sweep_jcond_form(struct sweep *s, enum isa_form_id id)
{
	const struct isa_form *f = &isa_forms[id];
	bool imm = f->shape == SH_JCOND_IMM, jmp32 = isa_is_jmp32(f->code);

	s->what = f->mnem;
	for (unsigned pr = 0; pr < 4; pr++) {
		unsigned d = pairs[pr][0], r = pairs[pr][1];

		for (unsigned a = 0; a < NVALS; a += 2) {
			for (unsigned b = 0; b < (imm ? NIMMS : NVALS); b += 2) {
				uint64_t y;

				sweep_set(s, d, vals[a]);
				if (imm) {
					y = sem_imm(jmp32, imms[b]);
				} else {
					sweep_set(s, r, vals[b]);
					y = vals[b];
				}
				pb_add(&s->p, 0xb7, R9, 0, 0, 1);	/* mov r9, 1 */
				pb_add(&s->p, f->code, d, imm ? 0 : r, 1, imm ? imms[b] : 0);
				pb_add(&s->p, 0xb7, R9, 0, 0, 0);	/* mov r9, 0 */
				s->model[R9] = sem_jcond(BPF_OP(f->code), jmp32, s->model[d], y);
				sweep_end_block(s);
			}
		}
	}
	sweep_flush(s);
}

TEST(jit_jump_forms)
{
	static struct sweep s;

	sweep_begin(&s);
	for (unsigned id = 0; id < ISA_NFORMS; id++) {
		unsigned sh = isa_forms[id].shape;

		if (sh == SH_JCOND_IMM || sh == SH_JCOND_REG)
			sweep_jcond_form(&s, (enum isa_form_id)id);
	}
}

/* The model of an atomic: the interpreter's ATOMIC_RMW, restated. */
static void model_atomic(int32_t aop, unsigned size, uint64_t *mem, uint64_t *src,
			 uint64_t *r0)
{
	uint64_t mask = size == 8 ? ~0ull : 0xffffffffull;
	uint64_t old = *mem & mask, v = *src & mask, cmp = *r0 & mask, nw;

	switch (aop & ~BPF_FETCH) {
	case BPF_ADD: nw = old + v; break;
	case BPF_OR:  nw = old | v; break;
	case BPF_AND: nw = old & v; break;
	case BPF_XOR: nw = old ^ v; break;
	case BPF_XCHG & ~BPF_FETCH: nw = v; break;
	default: nw = old == cmp ? v : old; break;
	}
	*mem = (*mem & ~mask) | (nw & mask);
	if (aop == BPF_CMPXCHG)
		*r0 = old;
	else if (aop & BPF_FETCH)
		*src = old;
}

/*
 * Every atomic form on [r10-8]: at a constant offset from r10 (no check),
 * through a copy of r10 (checked inline), with r0 as base and as src.
 */
static void sweep_atomic_form(struct sweep *s, enum isa_form_id id)
{
	static const uint8_t cases[][2] = {	/* base, src */
		{ R10, R2 }, { R6, R3 }, { R6, R0 }, { R0, R4 }, { R10, R0 }, { R3, R5 },
	};
	const struct isa_form *f = &isa_forms[id];

	s->what = f->mnem;
	for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		unsigned base = cases[c][0], src = cases[c][1];

		if (base == R0 && f->dval == BPF_CMPXCHG)
			continue;	/* r0 would be both address and comparand */
		for (unsigned a = 0; a < NVALS; a += 2) {
			for (unsigned b = 1; b < NVALS; b += 3) {
				uint64_t mem = vals[a];

				sweep_set(s, R2, vals[a]);
				pb_add(&s->p, 0x7b, R10, R2, -8, 0);	/* stxdw [r10-8], r2 */
				sweep_set(s, src, vals[b]);
				if (src != R0)
					sweep_set(s, R0, vals[(a + b) % NVALS]);
				if (base != R10)
					pb_add(&s->p, 0xbf, base, R10, 0, 0);
				pb_add(&s->p, f->code, base, src, -8, f->dval);
				if (base != R10) {	/* an address is no result */
					pb_add(&s->p, 0xb7, base, 0, 0, 0);
					s->model[base] = 0;
				}
				model_atomic(f->dval, isa_size(f->code), &mem, &s->model[src],
					     &s->model[R0]);
				pb_add(&s->p, 0x79, R7, R10, -8, 0);	/* ldxdw r7, [r10-8] */
				s->model[R7] = mem;
				sweep_end_block(s);
			}
		}
	}
	sweep_flush(s);
}

TEST(jit_atomic_forms)
{
	static struct sweep s;

	sweep_begin(&s);
	for (unsigned id = 0; id < ISA_NFORMS; id++)
		if (isa_forms[id].shape == SH_ATOMIC)
			sweep_atomic_form(&s, (enum isa_form_id)id);
}

/* One load or store on [r10-16, r10), which the model mirrors in slot. */
static void sweep_mem_case(struct sweep *s, const struct isa_form *f, uint64_t v,
			   int off, unsigned base)
{
	unsigned size = isa_size(f->code);
	uint64_t pattern = 0xa5a5a5a5a5a5a5a5ull, got = 0;
	uint8_t slot[16];

	sweep_set(s, R2, pattern);
	pb_add(&s->p, 0x7b, R10, R2, -8, 0);
	pb_add(&s->p, 0x7b, R10, R2, -16, 0);
	memcpy(slot, &pattern, 8);
	memcpy(slot + 8, &pattern, 8);
	sweep_set(s, R3, v);
	if (base == R6)
		pb_add(&s->p, 0xbf, R6, R10, 0, 0);
	if (f->shape == SH_LDX) {
		pb_add(&s->p, 0x7b, R10, R3, -16, 0);		/* stxdw [r10-16], r3 */
		memcpy(slot, &v, 8);
		pb_add(&s->p, f->code, R4, base, (int16_t)off, 0);
		memcpy(&got, slot + 16 + off, size);
		s->model[R4] = BPF_MODE(f->code) == BPF_MEMSX ? sem_sext(size, got) : got;
	} else if (f->shape == SH_STX) {
		pb_add(&s->p, f->code, base, R3, (int16_t)off, 0);
		memcpy(slot + 16 + off, &v, size);
	} else {
		int64_t wide = (int32_t)v;

		pb_add(&s->p, f->code, base, 0, (int16_t)off, (int32_t)v);
		memcpy(slot + 16 + off, &wide, size);
	}
	if (base == R6)
		pb_add(&s->p, 0xb7, R6, 0, 0, 0);
	s->model[R6] = base == R6 ? 0 : s->model[R6];
	pb_add(&s->p, 0x79, R7, R10, -16, 0);
	pb_add(&s->p, 0x79, R8, R10, -8, 0);
	memcpy(&s->model[R7], slot, 8);
	memcpy(&s->model[R8], slot + 8, 8);
	sweep_end_block(s);
}

/* Loads and stores of every size, sign-extending loads, at odd offsets too. */
TEST(jit_memory_forms)
{
	static struct sweep s;

	sweep_begin(&s);
	s.what = "loads and stores";
	for (unsigned id = 0; id < ISA_NFORMS; id++) {
		const struct isa_form *f = &isa_forms[id];
		int size = (int)isa_size(f->code);

		if (f->shape != SH_LDX && f->shape != SH_ST && f->shape != SH_STX)
			continue;
		for (unsigned v = 0; v < NVALS; v += 2)
			for (int off = -16; off <= -size; off += 3)
				sweep_mem_case(&s, f, vals[v], off, v % 3 ? R6 : R10);
	}
	sweep_flush(&s);
}

/* ---- Jump encodings ------------------------------------------------------ */

/* Does the code at the end of slot i end with a short (rel8) jump? */
static int jump_form(const uint8_t *code, const uint32_t *off, size_t i)
{
	const uint8_t *end = code + off[i + 1];

	if (end[-2] == 0xeb || (end[-2] >= 0x70 && end[-2] <= 0x7f))
		return 8;
	if (end[-5] == 0xe9 || (end[-6] == 0x0f && end[-5] >= 0x80 && end[-5] <= 0x8f))
		return 32;
	return 0;
}

/*
 * Jumps over k fillers of 4 bytes each (add r2, 1): forward and backward
 * across the rel8 limits of +127 and -128 bytes. The results must not care.
 */
TEST(jit_jump_boundaries)
{
	BPFRT_OPTS(bpfrt_run_opts, opts);
	bool seen8 = false, seen32 = false;

	for (unsigned k = 24; k <= 36; k++) {
		static struct pb p;
		struct bpfrt_prog *prog;
		const uint32_t *off;
		const void *code;
		size_t len, fwd, back;
		struct bpfrt_error err;
		struct outcome o;

		p.n = 0;
		pb_add(&p, 0xb7, R2, 0, 0, 0);				/* mov r2, 0 */
		pb_add(&p, 0xb7, R3, 0, 0, 3);				/* mov r3, 3 */
		fwd = p.n;
		pb_add(&p, 0x55, R3, 0, (int16_t)k, 0);			/* jne r3, 0, +k */
		for (unsigned f = 0; f < k; f++)
			pb_add(&p, 0x07, R2, 0, 0, 1);
		pb_add(&p, 0x07, R3, 0, 0, -1);				/* loop: sub r3, 1 */
		for (unsigned f = 0; f < k; f++)
			pb_add(&p, 0x07, R2, 0, 0, 1);
		back = p.n;
		pb_add(&p, 0x55, R3, 0, (int16_t)-(int)(k + 2), 0);	/* jne r3, 0, loop */
		pb_add(&p, 0xbf, R0, R2, 0, 0);
		pb_add(&p, 0x95, 0, 0, 0, 0);
		prog = prog_of(p.in, p.n);
		if (!prog)
			return;
		for (int checked = 0; checked < 2; checked++) {
			opts.checked = checked;
			o = agree("jump boundary", prog, &opts, NULL, 0, NULL);
			CHECK(o.ret == 0 && o.r0 == 3 * k, "k=%u: r0 %llu", k,
			      (unsigned long long)o.r0);
		}
		if (CHECK(bpfrt_prog_jited(prog, false, &code, &len, &off, &err) == 0, "%s",
			  err.msg)) {
			/* each jump ends its slot's code: rel is from there to the target */
			int64_t frel = (int64_t)off[fwd + 1 + k] - off[fwd + 1];
			int64_t brel = (int64_t)off[fwd + 1 + k] - off[back + 1];
			int ff = jump_form(code, off, fwd), bf = jump_form(code, off, back);

			CHECK(ff == (frel <= 127 ? 8 : 32), "k=%u: forward jump of %lld is rel%d",
			      k, (long long)frel, ff);
			CHECK(bf == (brel >= -128 ? 8 : 32), "k=%u: backward jump of %lld is rel%d",
			      k, (long long)brel, bf);
			seen8 |= ff == 8 && bf == 8;
			seen32 |= ff == 32 && bf == 32;
		}
		bpfrt_prog_free(prog);
	}
	CHECK(seen8 && seen32, "both forms were used, both ways");
}

/* ---- The encoder and the dump API --------------------------------------- */

static bool encodes(void (*fn)(struct emit *), const char *hex)
{
	uint8_t buf[32];
	struct emit e = { .buf = buf, .cap = sizeof(buf) };
	char got[80] = "";

	fn(&e);
	for (size_t i = 0; i < e.pos; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%02x", buf[i]);
	return CHECK(!strcmp(got, hex), "encoded %s, want %s", got, hex);
}

static void enc1(struct emit *e) { emit_mov_rr(e, true, X_RAX, X_R8); }
static void enc2(struct emit *e) { emit_load(e, 1, false, X_RSI, x86_mem(X_R12, 8)); }
static void enc3(struct emit *e) { emit_store(e, 1, x86_mem(X_RBP, -1), X_RDI); }
static void enc4(struct emit *e) { emit_shiftx(e, true, SHIFT_SHL, X_RAX, X_RAX, X_RSI); }
static void enc5(struct emit *e) { emit_load(e, 8, false, X_R11, x86_mem_index(X_R9, X_R11, 8, 0)); }
static void enc6(struct emit *e) { emit_alu_ri(e, false, ALU_CMP, X_R13, INT32_MIN); }
static void enc7(struct emit *e) { emit_lock_cmpxchg(e, false, x86_mem(X_R13, 0), X_R9); }
static void enc8(struct emit *e) { emit_mov_ri(e, X_R15, 0xffffffff80000000ull); }
static void enc9(struct emit *e) { emit_store_imm(e, 2, x86_mem(X_RSP, 0x100), -2); }
static void enc10(struct emit *e) { emit_movsx_rr(e, false, 1, X_RCX, X_RSI); }

TEST(jit_encoder)
{
	encodes(enc1, "4c89c0");		/* mov rax, r8 */
	encodes(enc2, "410fb6742408");		/* movzx esi, byte [r12+8] */
	encodes(enc3, "40887dff");		/* mov [rbp-1], dil */
	encodes(enc4, "c4e2c9f7c0");		/* shlx rax, rax, rsi */
	encodes(enc5, "4f8b1cd9");		/* mov r11, [r9+r11*8] */
	encodes(enc6, "4181fd00000080");	/* cmp r13d, 0x80000000 */
	encodes(enc7, "f0450fb14d00");		/* lock cmpxchg [r13+0], r9d */
	encodes(enc8, "49c7c700000080");	/* mov r15, -0x80000000 */
	encodes(enc9, "66c7842400010000feff");	/* mov word [rsp+0x100], -2 */
	encodes(enc10, "400fbece");		/* movsx ecx, sil */
}

TEST(jit_dump_api)
{
	struct bpfrt_prog *prog = prog_text("mov %r0, 1\nlddw %r1, 0x123456789\nja +0\n"
					    "add %r0, %r1\nexit\n");
	const uint32_t *off;
	const void *code;
	size_t len;
	struct bpfrt_error err;

	if (!prog)
		return;
	for (int checked = 0; checked < 2; checked++) {
		CHECK(bpfrt_prog_jited(prog, checked, &code, &len, &off, &err) == 0, "%s", err.msg);
		CHECK(len > 4 && !memcmp(code, "\xf3\x0f\x1e\xfa", 4), "starts with endbr64");
		for (size_t i = 0; i < bpfrt_prog_insn_cnt(prog); i++)
			CHECK(off[i] <= off[i + 1] && off[i + 1] <= len, "offsets are ordered");
		CHECK(off[2] == off[3], "lddw's second slot begins where its code ends");
		CHECK(off[3] == off[4], "ja +0 takes no code");
		CHECK(bpfrt_prog_jited(prog, checked, &code, &len, NULL, &err) == 0,
		      "offsets are optional");
	}
	CHECK(bpfrt_prog_set_helper(prog, 1, "late", record_helper) == -EBUSY,
	      "dumping seals the helpers like a run");
	bpfrt_prog_free(prog);
}

/* ---- Random programs: interpreter and JIT must agree --------------------- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *g)
{
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(struct rng *g, uint32_t n)
{
	return (uint32_t)(rnd(g) % n);
}

static uint64_t rnd_value(struct rng *g)
{
	return below(g, 3) ? vals[below(g, NVALS)] : rnd(g) >> below(g, 64);
}

/* Forms by shape, to draw from. */
static enum isa_form_id forms_of(struct rng *g, unsigned shape)
{
	for (;;) {
		unsigned id = below(g, ISA_NFORMS);

		if (isa_forms[id].shape == shape && !(shape == SH_LDDW && isa_forms[id].dval))
			return (enum isa_form_id)id;
	}
}

#define GEN_CTX 256	/* r9 = ctx: [0,72) registers out, [72,136) the stack out */

/* A random register r0..r8 (r9 holds ctx, r10 the frame). */
static unsigned rreg(struct rng *g)
{
	return below(g, 9);
}

struct gen {
	struct pb *p;
	struct rng *g;
	size_t item[512];	/* slot where each item begins */
	int jump_to[512];	/* item a jump item targets, or -1 */
	unsigned nitems;
};

static void gen_alu(struct gen *G)
{
	static const unsigned shapes[] = { SH_ALU_IMM, SH_ALU_REG, SH_NEG, SH_END };
	const struct isa_form *f = &isa_forms[forms_of(G->g, shapes[below(G->g, 4)])];
	unsigned src = below(G->g, 10);

	pb_add(G->p, f->code, rreg(G->g), f->shape == SH_ALU_REG ? src : 0, form_off(f),
	       f->shape == SH_ALU_IMM ? (int32_t)rnd_value(G->g) :
	       f->shape == SH_END ? f->dval : 0);
}

/* A memory access: the frame, ctx, or (rarely) wherever a register points. */
static void gen_mem(struct gen *G)
{
	static const unsigned shapes[] = { SH_LDX, SH_ST, SH_STX, SH_ATOMIC };
	const struct isa_form *f = &isa_forms[forms_of(G->g, shapes[below(G->g, 4)])];
	unsigned size = isa_size(f->code), where = below(G->g, 16), base;
	int off;

	if (where < 8) {
		base = R10;
		off = -(int)size - (int)below(G->g, 512 - size + 1);
	} else if (where < 15) {
		base = R9;
		off = (int)below(G->g, GEN_CTX - size + 1);
	} else {
		base = rreg(G->g);
		off = (int)below(G->g, 64) - 32;
	}
	if (f->shape == SH_ATOMIC && below(G->g, 8))
		off &= ~7;
	switch (f->shape) {
	case SH_LDX:
		pb_add(G->p, f->code, rreg(G->g), base, (int16_t)off, 0);
		break;
	case SH_ST:
		pb_add(G->p, f->code, base, 0, (int16_t)off, (int32_t)rnd_value(G->g));
		break;
	default:	/* STX, ATOMIC: src is never r9 when it can be written */
		pb_add(G->p, f->code, base, rreg(G->g), (int16_t)off,
		       f->shape == SH_ATOMIC ? f->dval : 0);
		break;
	}
}

static void gen_item(struct gen *G, unsigned k, unsigned nitems)
{
	struct rng *g = G->g;
	unsigned what = below(g, 100);

	G->item[k] = G->p->n;
	G->jump_to[k] = -1;
	if (what < 40) {
		gen_alu(G);
	} else if (what < 70) {
		gen_mem(G);
	} else if (what < 85 && k + 1 < nitems) {
		const struct isa_form *f = &isa_forms[forms_of(g, below(g, 2) ? SH_JCOND_IMM
									  : SH_JCOND_REG)];

		if (f->shape == SH_JCOND_IMM)
			pb_add(G->p, f->code, below(g, 10), 0, 0, (int32_t)rnd_value(g));
		else
			pb_add(G->p, f->code, below(g, 10), below(g, 10), 0, 0);
		G->jump_to[k] = (int)(k + 1 + below(g, nitems - k - 1) % 8);
	} else if (what < 90) {
		pb_lddw(G->p, rreg(g), rnd_value(g));
	} else if (what < 92) {
		pb_add(G->p, 0x85, 0, 0, 0, 1);		/* call 1 */
	} else if (what < 94) {			/* a packet load, sometimes missing */
		const struct isa_form *f = &isa_forms[forms_of(g, below(g, 2) ? SH_LDABS
									  : SH_LDIND)];

		pb_add(G->p, f->code, 0, f->shape == SH_LDIND ? below(g, 9) : 0, 0,
		       (int32_t)below(g, 40) - 4);
	} else if (what < 98) {
		pb_add(G->p, 0x85, 0, 1, 0, 0);		/* call local f: patched later */
		G->jump_to[k] = -2;
	} else {
		pb_add(G->p, 0x95, 0, 0, 0, 0);		/* an early exit */
	}
}

/* The body, the epilogue that writes r0..r8 and the frame's top to ctx, and f. */
static void gen_program(struct rng *g, struct pb *p)
{
	struct gen G = { .p = p, .g = g };
	unsigned nitems = 4 + below(g, 60);
	size_t f_slot;

	p->n = 0;
	pb_add(p, 0xbf, R9, R1, 0, 0);
	for (int off = -8; off >= -(int)BPFRT_STACK_SIZE; off -= 8)	/* unchecked: no old data */
		pb_add(p, 0x7a, R10, 0, (int16_t)off, 0);
	for (unsigned r = 0; r < 9; r++)
		if (below(g, 4))
			pb_lddw(p, r, rnd_value(g));
	for (unsigned k = 0; k < nitems; k++)
		gen_item(&G, k, nitems);
	G.item[nitems] = p->n;
	for (unsigned r = 0; r < 9; r++)
		pb_add(p, 0x7b, R9, r, (int16_t)(8 * r), 0);
	for (unsigned s = 0; s < 8; s++) {
		pb_add(p, 0x79, R2, R10, (int16_t)(-8 - 8 * (int)s), 0);
		pb_add(p, 0x7b, R9, R2, (int16_t)(72 + 8 * s), 0);
	}
	pb_add(p, 0x95, 0, 0, 0, 0);
	f_slot = p->n;
	for (unsigned k = below(g, 6); k > 0; k--) {
		if (below(g, 2))
			gen_alu(&G);
		else
			pb_add(p, 0x7b, R10, rreg(g), (int16_t)(-8 - 8 * (int)below(g, 8)), 0);
	}
	pb_add(p, 0x95, 0, 0, 0, 0);
	for (unsigned k = 0; k < nitems; k++) {
		struct bpfrt_insn *in = &p->in[G.item[k]];

		if (G.jump_to[k] >= 0)
			in->off = (int16_t)(G.item[G.jump_to[k]] - G.item[k] - 1);
		else if (G.jump_to[k] == -2)
			in->imm = (int32_t)(f_slot - G.item[k] - 1);
	}
}

static uint64_t mix_helper(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
			   struct bpfrt_run *run)
{
	(void)run;
	return (a * 3) ^ (b << 7) ^ (c >> 3) ^ (d * 0x9e3779b97f4a7c15ull) ^ e;
}

TEST(jit_random_programs)
{
	static struct pb p;
	struct rng g = { 12345 };
	uint8_t init[GEN_CTX], ctx[GEN_CTX], checked_ctx[GEN_CTX];
	unsigned valid = 0, faults = 0, stopped = 0, runs = 0;

	for (unsigned t = 0; t < 4000; t++) {
		BPFRT_OPTS(bpfrt_run_opts, opts, .checked = true, .pkt = init + 100, .pkt_len = 32);
		struct bpfrt_prog *prog = NULL;
		struct bpfrt_error err;
		struct outcome o;
		char what[32];

		gen_program(&g, &p);
		for (size_t i = 0; i < GEN_CTX; i++)
			init[i] = (uint8_t)rnd(&g);
		if (bpfrt_prog_new(p.in, p.n, NULL, &prog, &err))
			continue;	/* e.g. a jump into f's range */
		valid++;
		bpfrt_prog_set_helper(prog, 1, "mix", mix_helper);
		opts.budget = below(&g, 2) ? 0 : 1 + below(&g, (uint32_t)p.n * 2);
		snprintf(what, sizeof(what), "random program %u", t);
		o = agree(what, prog, &opts, init, GEN_CTX, checked_ctx);
		runs++;
		faults += o.ret && o.ret != -ELOOP;
		stopped += o.ret == -ELOOP;
		/* A run that stayed in bounds may also run unchecked, with the same results. */
		if (o.ret == 0) {
			struct outcome u;

			opts.checked = false;
			u = agree(what, prog, &opts, init, GEN_CTX, ctx);
			CHECK(u.ret == 0 && u.r0 == o.r0 && !memcmp(ctx, checked_ctx, GEN_CTX),
			      "%s: the JIT's unchecked run differs from its checked run", what);
		}
		bpfrt_prog_free(prog);
	}
	printf("  %u random programs: %u valid, %u faults, %u out of budget\n", 4000, valid,
	       faults, stopped);
	CHECK(valid > 3000 && faults > 100 && stopped > 100 && runs - faults - stopped > 1000,
	      "a useful mix: %u valid, %u faults, %u out of budget", valid, faults, stopped);
}
