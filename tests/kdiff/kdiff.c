/* kdiff.c — differential test: random programs run in the Linux kernel and in bpfrt.
 *
 *   build/kdiff [--count N] [--seed S] [--engine interp|jit] [--coverage]
 *               [--dump] [-v]
 *
 * Program i is generated from seed S + i (gen.c) and loaded into the kernel
 * as a BPF_PROG_TYPE_SYSCALL program; BPF_PROG_TEST_RUN runs it on a copy of
 * a random ctx, which the kernel copies back afterwards. bpfrt runs the same
 * instructions on the same input, unchecked and checked, and the ctx words
 * (where the program leaves its registers and stack) and the low 32 bits of
 * r0 must agree. A program the kernel rejects is a defect of the generator.
 * A divergent program is cut to the fewest generation steps that still
 * diverge before it is shown. --coverage counts the instruction forms
 * generated, --dump shows every program that agrees, -v shows every
 * report in full, with the program as the kernel runs it after verification.
 *
 * Exit status: 0 if all agree, 1 on a divergence or more than 1% rejected,
 * 77 when bpf() or the engine is unavailable (skip), 2 on bad usage.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bpfrt.h"
#include "gen.h"

_Static_assert(sizeof(struct bpfrt_insn) == sizeof(struct bpf_insn),
	       "bpfrt and the kernel must share the instruction layout");

#define NWORDS		(GEN_CTX_SIZE / 8)
#define RETVAL_WORD	NWORDS		/* first_diff(): the return value */
#define MAX_REPORTS	10		/* full divergence reports without -v */
#define MAX_LOGS	3		/* verifier logs of rejected programs */
#define LOG_SIZE	(64 * 1024)
#define LOG_TAIL	2000		/* characters of a log shown */

struct options {
	unsigned long count;
	uint64_t seed;
	enum bpfrt_engine engine;
	bool verbose;
	bool coverage;
	bool dump;
};

struct result {
	int err;		/* 0, or the negative errno of a failed run */
	char msg[256];
	uint64_t retval;
	uint8_t ctx[GEN_CTX_SIZE];
};

struct stats {
	unsigned long programs, divergences, rejected;
	uint32_t *forms;	/* gen_nforms() counters */
};

/* ---- The kernel -------------------------------------------------------- */

static int sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* Load insns as a syscall program: an fd, or -errno. log may be NULL. */
static int kern_load(const struct bpfrt_insn *insns, size_t n, char *log,
		     size_t log_len)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SYSCALL;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uintptr_t)"GPL";
	a.prog_flags = BPF_F_SLEEPABLE;	/* syscall programs must be */
	if (log) {
		log[0] = '\0';
		a.log_buf = (uintptr_t)log;
		a.log_size = (uint32_t)log_len;
		a.log_level = 1;
	}
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	return fd < 0 ? -errno : fd;
}

/* Run fd once on ctx, which the kernel copies in and back out. */
static int kern_run(int fd, void *ctx, size_t len, uint32_t *retval)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)fd;
	a.test.ctx_in = (uintptr_t)ctx;
	a.test.ctx_size_in = (uint32_t)len;
	if (sys_bpf(BPF_PROG_TEST_RUN, &a) < 0)
		return -errno;
	*retval = a.test.retval;
	return 0;
}

/*
 * No bpf() for us, or no syscall programs: EINVAL with an empty log means
 * the kernel refused the request before verifying (an unknown program type).
 */
static bool kern_unavailable(int err, const char *log)
{
	return err == -EPERM || err == -ENOSYS || err == -EACCES ||
	       (err == -EINVAL && !log[0]);
}

/*
 * Can we load and run a syscall program, and does the kernel copy the ctx
 * back after the run (the test reads its results there)? 0 if so, else the
 * exit status: 77 to skip, 1 if this kernel cannot serve the test.
 */
static int kern_probe(void)
{
	static const struct bpfrt_insn probe[] = {
		{ .code = BPF_LD | BPF_IMM | BPF_DW, .dst_reg = 2, .imm = 0x11223344 },
		{ .imm = 0x55667788 },
		{ .code = BPF_STX | BPF_MEM | BPF_DW, .dst_reg = 1, .src_reg = 2, .off = 8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .imm = 7 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	static char log[LOG_SIZE];
	uint64_t ctx[4] = { 0 };
	uint32_t ret = 0;
	int fd, err;

	fd = kern_load(probe, sizeof(probe) / sizeof(probe[0]), log, sizeof(log));
	err = fd < 0 ? fd : kern_run(fd, ctx, sizeof(ctx), &ret);
	if (fd >= 0)
		close(fd);
	if (err && kern_unavailable(err, fd < 0 ? log : "")) {
		printf("kdiff: SKIP: bpf() unavailable: %s\n", strerror(-err));
		return 77;
	}
	if (err) {
		fprintf(stderr, "kdiff: a trivial syscall program fails: %s\n%s",
			strerror(-err), fd < 0 ? log : "");
		return 1;
	}
	if (ret != 7 || ctx[1] != 0x5566778811223344ull) {
		fprintf(stderr, "kdiff: BPF_PROG_TEST_RUN did not copy the ctx back "
			"(retval %u, word %#llx); this test reads results there\n",
			ret, (unsigned long long)ctx[1]);
		return 1;
	}
	return 0;
}

/* Load and run prog in the kernel; -errno if it is rejected or fails. */
static int kern_exec(const struct gen_prog *prog, const uint8_t *input,
		     struct result *res)
{
	uint32_t ret = 0;
	int fd = kern_load(prog->insns, prog->n, NULL, 0);

	memset(res, 0, sizeof(*res));
	if (fd < 0)
		return res->err = fd;
	memcpy(res->ctx, input, GEN_CTX_SIZE);
	res->err = kern_run(fd, res->ctx, GEN_CTX_SIZE, &ret);
	close(fd);
	res->retval = ret;
	return res->err;
}

/*
 * The program as the kernel runs it after verification (dead code removed,
 * division patched...): shows what the verifier concluded. Returns slots.
 */
static int kern_xlated(const struct gen_prog *prog, struct gen_prog *out)
{
	struct bpf_prog_info info;
	union bpf_attr a;
	int fd = kern_load(prog->insns, prog->n, NULL, 0), ret;

	if (fd < 0)
		return fd;
	memset(&info, 0, sizeof(info));
	info.xlated_prog_len = sizeof(out->insns);
	info.xlated_prog_insns = (uintptr_t)out->insns;
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = sizeof(info);
	a.info.info = (uintptr_t)&info;
	ret = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0 ? -errno : 0;
	close(fd);
	if (ret)
		return ret;
	out->n = info.xlated_prog_len / sizeof(struct bpf_insn);
	if (out->n > GEN_MAX_INSNS)
		out->n = GEN_MAX_INSNS;
	out->ctx_reg = prog->ctx_reg;
	return (int)out->n;
}

/* ---- bpfrt ------------------------------------------------------------- */

static void rt_run(struct bpfrt_prog *prog, enum bpfrt_engine engine,
		   bool checked, const uint8_t *input, struct result *res)
{
	BPFRT_OPTS(bpfrt_run_opts, o, .engine = engine, .checked = checked,
		   .ctx = res->ctx, .ctx_len = GEN_CTX_SIZE);
	struct bpfrt_error err;

	memset(res, 0, sizeof(*res));
	memcpy(res->ctx, input, GEN_CTX_SIZE);
	res->err = bpfrt_prog_run(prog, &o, &err);
	res->retval = o.retval;
	if (res->err)
		snprintf(res->msg, sizeof(res->msg), "%s", err.msg);
}

/* Does the engine run at all? 0 if so, else 77 (skip) or 1. */
static int rt_probe(enum bpfrt_engine engine)
{
	static const struct bpfrt_insn probe[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .imm = 7 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct bpfrt_prog *prog;
	struct bpfrt_error err;
	struct result res;
	uint8_t input[GEN_CTX_SIZE] = { 0 };
	int ret;

	ret = bpfrt_prog_new(probe, 2, NULL, &prog, &err);
	if (ret) {
		fprintf(stderr, "kdiff: bpfrt_prog_new: %s\n", err.msg);
		return 1;
	}
	rt_run(prog, engine, false, input, &res);
	bpfrt_prog_free(prog);
	if (res.err == -ENOTSUP) {
		printf("kdiff: SKIP: engine %s unavailable: %s\n",
		       engine == BPFRT_ENGINE_JIT ? "jit" : "interp", res.msg);
		return 77;
	}
	if (res.err || res.retval != 7) {
		fprintf(stderr, "kdiff: bpfrt cannot run a trivial program: %s\n",
			res.err ? res.msg : "wrong result");
		return 1;
	}
	return 0;
}

/* ---- Comparing and reporting ------------------------------------------- */

static uint64_t word(const struct result *r, int w)
{
	uint64_t v;

	memcpy(&v, r->ctx + 8 * w, 8);
	return v;
}

/* The first ctx word that differs, RETVAL_WORD for r0, or -1 if none. */
static int first_diff(const struct result *k, const struct result *r)
{
	for (int w = 0; w < NWORDS; w++)
		if (word(k, w) != word(r, w))
			return w;
	if ((uint32_t)k->retval != (uint32_t)r->retval)
		return RETVAL_WORD;
	return -1;
}

/* What a ctx word holds after the run: "ctx+16", "r3", "r10-8". */
static const char *word_name(int w, char *buf, size_t len)
{
	int off = 8 * w;

	if (off < GEN_CTX_SCRATCH)
		snprintf(buf, len, "ctx+%d", off);
	else if (off < GEN_CTX_STACK)
		snprintf(buf, len, "r%d", (off - GEN_CTX_REGS) / 8);
	else
		snprintf(buf, len, "r10-%d", off - GEN_CTX_STACK + 8);
	return buf;
}

/* Text of the instruction at slot i (its mnemonic if bpfrt cannot say); its slots. */
static int describe(const struct gen_prog *p, size_t i, char *buf, size_t len)
{
	const char *mnem;
	int slots = gen_insn_mnem(p, i, &mnem);
	int ret = bpfrt_disasm_insn(p->insns, p->n, i, buf, len);

	if (ret > 0)
		return ret;
	snprintf(buf, len, "%s", mnem);
	return slots;
}

static void print_prog(const struct gen_prog *p)
{
	printf("  program: %zu slots, ctx pointer in r%d\n", p->n, p->ctx_reg);
	for (size_t i = 0; i < p->n;) {
		char text[160];
		int slots = describe(p, i, text, sizeof(text));

		for (int s = 0; s < slots; s++) {
			const struct bpfrt_insn *in = &p->insns[i + s];

			printf("  %4zu: %02x %x %x %6d %11d  %s\n", i + s, in->code,
			       in->dst_reg, in->src_reg, in->off, in->imm,
			       s ? "" : text);
		}
		i += (size_t)slots;
	}
}

static void print_words(const uint8_t *input, const struct result *k,
			const struct result *r)
{
	printf("  %-7s %-18s %-18s %-18s\n", "word", "input", "kernel", "bpfrt");
	for (int w = 0; w < NWORDS; w++) {
		char name[16];
		uint64_t in;

		memcpy(&in, input + 8 * w, 8);
		printf("  %-7s %#018llx %#018llx %#018llx%s\n",
		       word_name(w, name, sizeof(name)), (unsigned long long)in,
		       (unsigned long long)word(k, w), (unsigned long long)word(r, w),
		       word(k, w) != word(r, w) ? "  <--" : "");
	}
	printf("  retval  %18s %#018llx %#018llx%s\n", "",
	       (unsigned long long)k->retval, (unsigned long long)r->retval,
	       (uint32_t)k->retval != (uint32_t)r->retval ? "  <-- (low 32 bits)" : "");
}

/* One program run both ways. */
struct trial {
	uint64_t seed;
	struct gen_prog prog;
	uint8_t input[GEN_CTX_SIZE];
	struct result kern, rt;
	const char *mode;	/* the bpfrt mode that diverged */
};

enum outcome { SAME, REJECTED, REFUSED, DIVERGED };

/* "first difference in r3: kernel 0x1, bpfrt 0x2", or bpfrt's error. */
static void print_difference(const struct trial *t)
{
	int w = first_diff(&t->kern, &t->rt);
	char name[16];

	if (t->rt.err)
		printf("bpfrt failed (%s): %s\n", strerror(-t->rt.err), t->rt.msg);
	else if (w == RETVAL_WORD)
		printf("retval: kernel %#x, bpfrt %#x\n", (uint32_t)t->kern.retval,
		       (uint32_t)t->rt.retval);
	else
		printf("first difference in %s: kernel %#llx, bpfrt %#llx\n",
		       word_name(w, name, sizeof(name)),
		       (unsigned long long)word(&t->kern, w),
		       (unsigned long long)word(&t->rt, w));
}

/* Show why the kernel refused a program: the tail of its verifier log. */
static void report_reject(uint64_t seed, const struct gen_prog *p, int err)
{
	static char log[LOG_SIZE];
	size_t len;

	printf("kdiff: REJECTED: seed %llu: %s\n", (unsigned long long)seed,
	       strerror(-err));
	kern_load(p->insns, p->n, log, sizeof(log));
	print_prog(p);
	len = strlen(log);
	printf("  verifier log (tail):\n%s\n", log + (len > LOG_TAIL ? len - LOG_TAIL : 0));
}

/* ---- The loop ---------------------------------------------------------- */

/* Run the program of t->seed, cut to max_steps (-1: whole), in both. */
static enum outcome trial_run(const struct options *o, struct trial *t,
			      int max_steps)
{
	static const char *const modes[2] = { "unchecked", "checked" };
	enum outcome ret = SAME;
	struct bpfrt_prog *rp;
	struct bpfrt_error err;

	gen_program(t->seed, max_steps, &t->prog);
	gen_input(t->seed, t->input, sizeof(t->input));
	if (kern_exec(&t->prog, t->input, &t->kern))
		return REJECTED;
	t->rt.err = bpfrt_prog_new(t->prog.insns, t->prog.n, NULL, &rp, &err);
	if (t->rt.err) {
		snprintf(t->rt.msg, sizeof(t->rt.msg), "%s", err.msg);
		return REFUSED;
	}
	for (int checked = 0; checked < 2 && ret == SAME; checked++) {
		rt_run(rp, o->engine, checked, t->input, &t->rt);
		if (t->rt.err || first_diff(&t->kern, &t->rt) >= 0) {
			t->mode = modes[checked];
			ret = DIVERGED;
		}
	}
	bpfrt_prog_free(rp);
	return ret;
}

/*
 * Cut the program to the fewest body steps that still diverge, so the
 * last step is the suspect. Leaves t holding the shortest divergent run.
 */
static void shrink(const struct options *o, struct trial *t)
{
	int full = t->prog.steps;

	for (int k = 0; k < full; k++)
		if (trial_run(o, t, k) == DIVERGED)
			return;
	trial_run(o, t, -1);
}

static void report(const struct options *o, const struct stats *st,
		   struct trial *t)
{
	int full = t->prog.steps;

	printf("kdiff: DIVERGENCE: seed %llu, bpfrt %s: ",
	       (unsigned long long)t->seed, t->mode);
	print_difference(t);
	if (st->divergences > MAX_REPORTS && !o->verbose)
		return;
	shrink(o, t);
	printf("  shrunk to %d of %d body steps (bpfrt %s): ", t->prog.steps,
	       full, t->mode);
	print_difference(t);
	printf("  rerun: build/kdiff --seed %llu --count 1 -v\n",
	       (unsigned long long)t->seed);
	print_prog(&t->prog);
	if (!t->rt.err)
		print_words(t->input, &t->kern, &t->rt);
	if (o->verbose) {
		static struct gen_prog xl;

		if (kern_xlated(&t->prog, &xl) > 0) {
			printf("  as the kernel runs it (xlated):\n");
			print_prog(&xl);
		}
	}
}

static void test_one(const struct options *o, uint64_t seed, struct stats *st)
{
	struct trial t = { .seed = seed };
	enum outcome out = trial_run(o, &t, -1);

	gen_count_forms(&t.prog, st->forms);
	st->programs++;
	if (o->dump && out == SAME) {
		printf("kdiff: seed %llu:\n", (unsigned long long)seed);
		print_prog(&t.prog);
		print_words(t.input, &t.kern, &t.rt);
	}
	switch (out) {
	case SAME:
		break;
	case REJECTED:
		if (++st->rejected <= MAX_LOGS || o->verbose)
			report_reject(seed, &t.prog, t.kern.err);
		break;
	case REFUSED:
		st->divergences++;
		printf("kdiff: DIVERGENCE: seed %llu: bpfrt_prog_new refuses a "
		       "program the kernel accepts: %s\n",
		       (unsigned long long)seed, t.rt.msg);
		print_prog(&t.prog);
		break;
	case DIVERGED:
		st->divergences++;
		report(o, st, &t);
		break;
	}
}

static void print_coverage(const struct stats *st)
{
	int n = gen_nforms(), seen = 0;

	for (int f = 0; f < n; f++)
		seen += st->forms[f] != 0;
	printf("kdiff: coverage: %d of %d instruction forms; never emitted:", seen, n);
	for (int f = 0; f < n; f++)
		if (!st->forms[f])
			printf(" %s", gen_form_name(f));
	printf("\n");
}

static void usage(void)
{
	fprintf(stderr, "usage: kdiff [--count N] [--seed S] [--engine interp|jit] "
		"[--coverage] [--dump] [-v]\n");
	exit(2);
}

/* A whole number argument, or usage(). */
static unsigned long long number(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		usage();
	return v;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-v")) {
			o->verbose = true;
		} else if (!strcmp(a, "--coverage")) {
			o->coverage = true;
		} else if (!strcmp(a, "--dump")) {
			o->dump = true;
		} else if (!strcmp(a, "--count") && val) {
			o->count = (unsigned long)number(val);
			i++;
		} else if (!strcmp(a, "--seed") && val) {
			o->seed = number(val);
			i++;
		} else if (!strcmp(a, "--engine") && val && !strcmp(val, "interp")) {
			o->engine = BPFRT_ENGINE_INTERP;
			i++;
		} else if (!strcmp(a, "--engine") && val && !strcmp(val, "jit")) {
			o->engine = BPFRT_ENGINE_JIT;
			i++;
		} else {
			usage();
		}
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	struct options o = { .count = 1000, .seed = 1, .engine = BPFRT_ENGINE_INTERP };
	struct stats st = { 0 };
	double t0 = now();
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(argc, argv, &o);
	ret = kern_probe();
	if (!ret)
		ret = rt_probe(o.engine);
	if (ret)
		return ret;
	st.forms = calloc((size_t)gen_nforms(), sizeof(*st.forms));
	if (!st.forms)
		return 1;
	for (unsigned long i = 0; i < o.count; i++)
		test_one(&o, o.seed + i, &st);
	if (o.coverage || o.verbose)
		print_coverage(&st);
	if (o.verbose)
		printf("kdiff: %.2f s\n", now() - t0);
	printf("kdiff: %lu programs, %lu divergences, %lu rejected by the kernel\n",
	       st.programs, st.divergences, st.rejected);
	free(st.forms);
	return st.divergences || st.rejected * 100 > st.programs ? 1 : 0;
}
