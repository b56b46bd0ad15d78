/* bench.c — `make bench`: every workload on every engine, side by side; this file measures, report.c prints.
 *
 *   bpfrt_bench [-r rounds] [-t ms-per-round] [-e engine,...] [-m] [workload...]
 *
 * For each workload the harness checks that every engine returns what the
 * native code returns (and leaves the same output in memory), counts the
 * eBPF instructions one run executes (a checked bpfrt run reports them),
 * calibrates each engine's repetitions to about one round's time, then
 * measures the rounds engine after engine and keeps each engine's median.
 * Engines are timed by the thread's CPU time, except the kernel, which
 * reports its own time per run (kernel.c). Every cell costs about rounds x round
 * time, so `make bench` takes about workloads x engines x 1 s.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#ifndef BENCH_BPF_CC
#define BENCH_BPF_CC "clang -target bpf"
#endif
#ifndef BENCH_NATIVE_CC
#define BENCH_NATIVE_CC "cc"
#endif
#ifndef BENCH_HOST_CC
#define BENCH_HOST_CC "cc"
#endif

#define MAX_ROUNDS	15

struct config {
	unsigned rounds;
	double round_ns;
	char **only;		/* workload names, or none: all */
	int nonly;
	const char *engines;	/* -e: comma-separated engine names, or NULL: all */
	bool fastest;		/* -m: each figure the fastest round, not the median */
};

static const struct config *config;

/* Was engine `name` asked for (-e)? */
static bool engine_selected(const char *name)
{
	const char *p = config->engines;
	size_t len = strlen(name);

	if (!p)
		return true;
	while (*p) {
		size_t k = strcspn(p, ",");

		if (k == len && !strncmp(p, name, len))
			return true;
		p += k + (p[k] == ',');
	}
	return false;
}

/* ---- Time and machine -------------------------------------------------- */

/*
 * This thread's CPU time: time spent descheduled, while other work on the
 * machine runs, does not count (nor does it in the kernel's own timer of
 * BPF_PROG_TEST_RUN, which stops while it yields the CPU).
 */
static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown CPU");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !colon)
			continue;
		snprintf(buf, len, "%s", colon + 2);
		buf[strcspn(buf, "\n")] = '\0';
		break;
	}
	fclose(f);
}

/* Stay on one CPU: migrations add noise. Returns the CPU, or -1. */
static int pin_cpu(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -1 : cpu;
}

static void print_header(const struct config *cfg)
{
	char model[160];
	int cpu = pin_cpu();

	cpu_model(model, sizeof(model));
	printf("bpfrt bench on %s (%ld CPUs", model, sysconf(_SC_NPROCESSORS_ONLN));
	if (cpu >= 0)
		printf(", pinned to cpu %d", cpu);
	printf(")\n");
	printf("eBPF code: %s | native: %s | bpfrt and harness: %s (%s)\n",
	       BENCH_BPF_CC, BENCH_NATIVE_CC, BENCH_HOST_CC, __VERSION__);
	printf("each figure: %s of %u rounds of ~%.0f ms of CPU time; results "
	       "checked against native\n", cfg->fastest ? "the fastest" : "median",
	       cfg->rounds, cfg->round_ns / 1e6);
}

/* ---- Cases ------------------------------------------------------------- */

size_t bench_patch_map(struct bpfrt_insn *insns, size_t n, uint64_t magic,
		       uint8_t src, int32_t imm)
{
	size_t found = 0;

	for (size_t i = 0; i + 1 < n; i++) {
		uint64_t v = (uint32_t)insns[i].imm | (uint64_t)(uint32_t)insns[i + 1].imm << 32;

		if (insns[i].code != 0x18 || insns[i].src_reg || v != magic)
			continue;
		insns[i].src_reg = src;
		insns[i].imm = imm;
		insns[i + 1].imm = 0;
		found++;
		i++;
	}
	return found;
}

/* The workload's hash map for bpfrt, with its initial entries. */
static int map_init(struct bench_case *c, const struct bench_map *bm)
{
	BPFRT_OPTS(bpfrt_map_opts, mo, .type = BPFRT_MAP_HASH, .key_size = 4,
		   .value_size = 8, .max_entries = bm->max_entries, .name = "bench");
	int err = bpfrt_map_create(&mo, &c->map, &c->err);

	for (uint32_t i = 0; !err && i < bm->nentries; i++) {
		uint32_t key;
		uint64_t value;

		bm->entry(i, &key, &value);
		err = bpfrt_map_update(c->map, &key, &value, BPFRT_NOEXIST);
	}
	if (!err && !bench_patch_map(c->insns, c->ninsns, bm->magic, 5 /* BPF_PSEUDO_MAP_IDX */, 0))
		err = -ENOENT;
	return err;
}

/* The program, with the workload's map as map 0 and bpfrt's helpers. */
static int prog_init(struct bench_case *c)
{
	BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &c->map, .nmaps = 1);
	int err;

	if (!c->wl->map)
		return bpfrt_prog_new(c->insns, c->ninsns, NULL, &c->prog, &c->err);
	err = map_init(c, c->wl->map);
	if (!err)
		err = bpfrt_prog_new(c->insns, c->ninsns, &po, &c->prog, &c->err);
	if (!err)
		err = bpfrt_prog_use_builtin_helpers(c->prog);
	return err;
}

/*
 * Unchecked engines run only what bpfrt's verifier accepts: the raw type
 * (UNSPEC), r1 the input, r2 its length, ctx_size the input's size.
 */
static void verify_case(struct bench_case *c)
{
	BPFRT_OPTS(bpfrt_verify_opts, vo, .type = BPFRT_PROG_UNSPEC,
		   .ctx_size = (uint32_t)c->len);
	struct bpfrt_error err;
	int ret = bpfrt_prog_verify(c->prog, &vo, &err);

	c->verified = ret == 0;
	if (ret)
		snprintf(c->verdict, sizeof(c->verdict), "%.250s (%s)", err.msg, strerror(-ret));
}

/* The input rounded up to 8 bytes: where a kernel variant's zero word is. */
static size_t len8(const struct bench_case *c)
{
	return (c->len + 7) & ~(size_t)7;
}

/*
 * The workload's kernel variant behind a stub, for bpfrt: the call the
 * kernel column's stub makes (kernel.c), with the input as ctx and the
 * zero word after it. Verified as the plain code is, ctx_size = len8 + 8.
 */
static int kvariant_init(struct bench_case *c)
{
	const struct workload *wl = c->wl;
	struct bpfrt_insn stub[] = {
		{ .code = 0xbf, .dst_reg = 3, .src_reg = 1 },		/* r3 = r1 */
		{ .code = 0x07, .dst_reg = 3, .imm = (int32_t)len8(c) },	/* r3 += len8 */
		{ .code = 0x79, .dst_reg = 3, .src_reg = 3 },		/* r3 = *(u64 *)r3 */
		{ .code = 0xb7, .dst_reg = 2, .imm = (int32_t)c->len },	/* r2 = len */
		{ .code = 0x85, .src_reg = 1, .imm = 1 },		/* call the variant */
		{ .code = 0x95 },					/* exit */
	};
	size_t ns = sizeof(stub) / sizeof(stub[0]), n = ns + wl->kbpf_bytes / sizeof(*stub);
	struct bpfrt_insn *insns = malloc(n * sizeof(*insns));
	BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &c->map, .nmaps = c->map ? 1 : 0);
	BPFRT_OPTS(bpfrt_verify_opts, vo, .type = BPFRT_PROG_UNSPEC,
		   .ctx_size = (uint32_t)(len8(c) + 8));
	struct bpfrt_error err;
	int ret;

	if (!insns)
		return -ENOMEM;
	memcpy(insns, stub, sizeof(stub));
	memcpy(insns + ns, wl->kbpf, wl->kbpf_bytes);
	if (wl->map)
		bench_patch_map(insns + ns, n - ns, wl->map->magic, 5 /* BPF_PSEUDO_MAP_IDX */, 0);
	ret = bpfrt_prog_new(insns, n, &po, &c->kprog, &c->err);
	free(insns);
	if (!ret && wl->map)
		ret = bpfrt_prog_use_builtin_helpers(c->kprog);
	if (ret)
		return ret;
	ret = bpfrt_prog_verify(c->kprog, &vo, &err);
	c->kverified = ret == 0;
	c->kprocessed = vo.insns_processed;
	if (ret)
		snprintf(c->kverdict, sizeof(c->kverdict), "%.250s (%s)", err.msg, strerror(-ret));
	return 0;
}

static int case_init(struct bench_case *c, const struct workload *wl)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->wl = wl;
	c->len = wl->len;
	c->mem = aligned_alloc(64, (len8(c) + 8 + 63) & ~(size_t)63);
	c->ninsns = wl->bpf_bytes / sizeof(struct bpfrt_insn);
	c->insns = malloc(wl->bpf_bytes);
	if (!c->mem || !c->insns)
		return -ENOMEM;
	memcpy(c->insns, wl->bpf, wl->bpf_bytes);
	memset(c->mem, 0, len8(c) + 8);
	wl->fill(c->mem, c->len);
	err = prog_init(c);
	if (!err)
		verify_case(c);
	if (!err && !c->verified && wl->kbpf)
		err = kvariant_init(c);
	return err;
}

static void case_fini(struct bench_case *c)
{
	bpfrt_prog_free(c->prog);
	bpfrt_prog_free(c->kprog);
	bpfrt_map_free(c->map);
	free(c->insns);
	free(c->mem);
}

/* Instructions one run executes, as a checked run of bpfrt counts them. */
static int count_insns(struct bench_case *c, uint64_t *n)
{
	BPFRT_OPTS(bpfrt_run_opts, opts, .checked = true, .ctx = c->mem,
		   .ctx_len = c->len);
	int err = bpfrt_prog_run(c->prog, &opts, &c->err);

	*n = opts.insns;
	return err;
}

/* On a fresh input, does engine e compute what native code computes? */
static int verify(struct bench_case *c, const struct engine *e, void *state,
		  uint64_t want)
{
	uint64_t got = 0;
	int err;

	c->wl->fill(c->mem, c->len);
	err = e->run(c, state, 1, &got);
	if (!err && e->output)
		err = e->output(c, state);
	if (err)
		return err;
	if (e->ret32)
		want = (uint32_t)want;
	if (got != want) {
		snprintf(c->err.msg, sizeof(c->err.msg),
			 "returned %#llx, native code %#llx",
			 (unsigned long long)got, (unsigned long long)want);
		return -EDOM;
	}
	if (c->wl->check && !c->wl->check(c->mem, c->len)) {
		snprintf(c->err.msg, sizeof(c->err.msg), "left wrong output in memory");
		return -EDOM;
	}
	return 0;
}

/* ---- Measuring --------------------------------------------------------- */

/* Time of reps runs: this thread's CPU time, or the engine's own measure. */
static int time_reps(struct bench_case *c, const struct engine *e, void *state,
		     uint64_t reps, double *ns)
{
	uint64_t ret;
	double t0 = now_ns();
	int err = e->run(c, state, reps, &ret);

	*ns = now_ns() - t0;
	if (e->elapsed)
		*ns = e->elapsed(state);
	return err;
}

/* Repetitions that take about target_ns. */
static int calibrate(struct bench_case *c, const struct engine *e, void *state,
		     double target_ns, uint64_t *reps)
{
	uint64_t n = 1;
	double ns;
	int err;

	for (;;) {
		err = time_reps(c, e, state, n, &ns);
		if (err)
			return err;
		if (ns >= target_ns / 10 || n >= (uint64_t)1 << 40)
			break;
		n *= ns < target_ns / 1000 ? 16 : 4;
	}
	*reps = (uint64_t)(n * target_ns / (ns > 1 ? ns : 1));
	if (*reps == 0)
		*reps = 1;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts v; returns its median and the spread of its values around it. */
static double median(double *v, unsigned n, double *spread)
{
	double m;

	qsort(v, n, sizeof(*v), cmp_double);
	m = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	*spread = (v[n - 1] - v[0]) / m;
	return m;
}

static void fail(const struct bench_case *c, const char *engine, const char *what,
		 int err)
{
	fprintf(stderr, "bench: %s on %s: %s failed (%s): %s\n", c->wl->name,
		engine, what, strerror(-err), c->err.msg);
	exit(1);
}

/*
 * Set up and check every engine; ready[e] says which can be measured, and
 * row->note[e] keeps what the engine said it runs, or why it cannot.
 */
static void prepare_engines(struct bench_case *c, void **state, bool *ready,
			    struct row *row)
{
	uint64_t want;

	c->wl->fill(c->mem, c->len);
	want = c->wl->native(c->mem, c->len);
	for (size_t e = 0; e < bench_nengines; e++) {
		const struct engine *eng = &bench_engines[e];
		int err;

		c->note[0] = '\0';
		c->ran_variant = false;
		if (!engine_selected(eng->name)) {
			ready[e] = false;
			snprintf(row->note[e], sizeof(row->note[e]), "not asked for (-e)");
			continue;
		}
		err = eng->setup ? eng->setup(c, &state[e]) : 0;
		ready[e] = !err;
		snprintf(row->note[e], sizeof(row->note[e]), "%s", c->note);
		row->variant[e] = c->ran_variant;
		if (err == -ENOTSUP)
			continue;
		if (err)
			fail(c, eng->name, "setup", err);
		err = verify(c, eng, state[e], want);
		if (err)
			fail(c, eng->name, "the result check", err);
	}
}

/* Rounds go engine after engine, so slow drift hits every engine alike. */
static void measure(struct bench_case *c, const struct config *cfg,
		    struct row *row)
{
	void *state[BENCH_MAX_ENGINES] = { 0 };
	bool ready[BENCH_MAX_ENGINES];
	uint64_t reps[BENCH_MAX_ENGINES];
	double t[BENCH_MAX_ENGINES][MAX_ROUNDS];
	int err;

	prepare_engines(c, state, ready, row);
	err = count_insns(c, &row->insns);
	if (err)
		fail(c, "interp", "counting instructions", err);
	for (size_t e = 0; e < bench_nengines; e++) {
		err = ready[e] ? calibrate(c, &bench_engines[e], state[e],
					   cfg->round_ns, &reps[e]) : 0;
		if (err)
			fail(c, bench_engines[e].name, "calibration", err);
	}
	for (unsigned r = 0; r < cfg->rounds; r++) {
		for (size_t e = 0; e < bench_nengines; e++) {
			if (!ready[e])
				continue;
			err = time_reps(c, &bench_engines[e], state[e], reps[e],
					&t[e][r]);
			if (err)
				fail(c, bench_engines[e].name, "a round", err);
			t[e][r] /= (double)reps[e];
		}
	}
	for (size_t e = 0; e < bench_nengines; e++) {
		row->ns[e] = NAN;
		row->spread[e] = 0;
		if (!ready[e])
			continue;
		row->ns[e] = median(t[e], cfg->rounds, &row->spread[e]);
		if (cfg->fastest)
			row->ns[e] = t[e][0];	/* median() sorted them */
		if (bench_engines[e].teardown)
			bench_engines[e].teardown(state[e]);
	}
}

/* ---- Main -------------------------------------------------------------- */

static bool selected(const struct config *cfg, const char *name)
{
	if (!cfg->nonly)
		return true;
	for (int i = 0; i < cfg->nonly; i++)
		if (!strcmp(cfg->only[i], name))
			return true;
	return false;
}

static void usage(void)
{
	fprintf(stderr, "usage: bpfrt_bench [-r rounds (1..%d)] [-t ms per round] "
		"[-e engine,...] [-m (fastest round)] [workload...]\n", MAX_ROUNDS);
	exit(2);
}

static void parse_args(int argc, char **argv, struct config *cfg)
{
	int opt;

	cfg->rounds = 5;
	cfg->round_ns = 200e6;
	cfg->engines = NULL;
	cfg->fastest = false;
	while ((opt = getopt(argc, argv, "r:t:e:mh")) != -1) {
		switch (opt) {
		case 'r':
			cfg->rounds = (unsigned)atoi(optarg);
			break;
		case 't':
			cfg->round_ns = atof(optarg) * 1e6;
			break;
		case 'e':
			cfg->engines = optarg;
			break;
		case 'm':
			cfg->fastest = true;
			break;
		default:
			usage();
		}
	}
	if (cfg->rounds < 1 || cfg->rounds > MAX_ROUNDS || !(cfg->round_ns > 0))
		usage();
	cfg->only = argv + optind;
	cfg->nonly = argc - optind;
}

int main(int argc, char **argv)
{
	struct row rows[16];
	struct config cfg;
	size_t n = 0;

	parse_args(argc, argv, &cfg);
	config = &cfg;
	setvbuf(stdout, NULL, _IOLBF, 0);
	print_header(&cfg);
	for (size_t i = 0; i < bench_nworkloads && n < 16; i++) {
		struct bench_case c;
		int err;

		if (!selected(&cfg, bench_workloads[i].name))
			continue;
		err = case_init(&c, &bench_workloads[i]);
		if (err)
			fail(&c, "bpfrt", "loading", err);
		rows[n].wl = &bench_workloads[i];
		measure(&c, &cfg, &rows[n++]);
		case_fini(&c);
		fprintf(stderr, ".");
	}
	fprintf(stderr, "\n");
	report(rows, n);
	return 0;
}
