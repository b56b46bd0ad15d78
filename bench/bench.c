/* bench.c — `make bench`: every workload on every engine, side by side, with ratios.
 *
 *   bpfrt_bench [-r rounds] [-t ms-per-round] [workload...]
 *
 * For each workload the harness checks that every engine returns what the
 * native code returns, counts the eBPF instructions one run executes (a
 * checked bpfrt run reports them), calibrates each engine's repetitions to
 * about one round's time, then measures the rounds engine after engine and
 * keeps each engine's median. Tables follow: time per run, time per
 * executed eBPF instruction, speedup over the switch baseline and slowdown
 * against native code, each closed by geometric means.
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
#define TARGET_SPEEDUP	3.0	/* interp over the switch baseline, loop-heavy code */

struct config {
	unsigned rounds;
	double round_ns;
	char **only;		/* workload names, or none: all */
	int nonly;
};

/* One workload's results: median ns per run for each engine (NAN: n/a). */
struct row {
	const struct workload *wl;
	uint64_t insns;
	double ns[BENCH_MAX_ENGINES];
	double spread[BENCH_MAX_ENGINES];	/* (slowest - fastest round) / median */
};

/* ---- Time and machine -------------------------------------------------- */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
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
	printf("each figure: median of %u rounds of ~%.0f ms; results checked "
	       "against native\n", cfg->rounds, cfg->round_ns / 1e6);
}

/* ---- Cases ------------------------------------------------------------- */

static int case_init(struct bench_case *c, const struct workload *wl)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->wl = wl;
	c->len = wl->len;
	c->mem = aligned_alloc(64, (wl->len + 63) & ~(size_t)63);
	c->ninsns = wl->bpf_bytes / sizeof(struct bpfrt_insn);
	c->insns = malloc(wl->bpf_bytes);
	if (!c->mem || !c->insns)
		return -ENOMEM;
	memcpy(c->insns, wl->bpf, wl->bpf_bytes);
	wl->fill(c->mem, c->len);
	err = bpfrt_prog_new(c->insns, c->ninsns, NULL, &c->prog, &c->err);
	return err;
}

static void case_fini(struct bench_case *c)
{
	bpfrt_prog_free(c->prog);
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
	if (err)
		return err;
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

static int time_reps(struct bench_case *c, const struct engine *e, void *state,
		     uint64_t reps, double *ns)
{
	uint64_t ret;
	double t0 = now_ns();
	int err = e->run(c, state, reps, &ret);

	*ns = now_ns() - t0;
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

/* Set up and check every engine; ready[e] says which can be measured. */
static void prepare_engines(struct bench_case *c, void **state, bool *ready)
{
	uint64_t want = c->wl->native(c->mem, c->len);

	for (size_t e = 0; e < bench_nengines; e++) {
		const struct engine *eng = &bench_engines[e];
		int err = eng->setup ? eng->setup(c, &state[e]) : 0;

		ready[e] = !err;
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

	prepare_engines(c, state, ready);
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
		if (bench_engines[e].teardown)
			bench_engines[e].teardown(state[e]);
	}
}

/* ---- Tables ------------------------------------------------------------ */

typedef double (*metric_fn)(const struct row *row, size_t e);
typedef bool (*column_fn)(const struct engine *eng);

static size_t engine_of_kind(enum engine_kind kind)
{
	for (size_t e = 0; e < bench_nengines; e++)
		if (bench_engines[e].kind == kind)
			return e;
	return 0;
}

static double ns_per_run(const struct row *row, size_t e)
{
	return row->ns[e];
}

static double ns_per_insn(const struct row *row, size_t e)
{
	return row->insns ? row->ns[e] / (double)row->insns : NAN;
}

static double vs_baseline(const struct row *row, size_t e)
{
	return row->ns[engine_of_kind(ENGINE_BASELINE)] / row->ns[e];
}

static double vs_native(const struct row *row, size_t e)
{
	return row->ns[e] / row->ns[engine_of_kind(ENGINE_NATIVE)];
}

static bool col_all(const struct engine *eng)
{
	(void)eng;
	return true;
}

static bool col_ebpf(const struct engine *eng)
{
	return eng->kind != ENGINE_NATIVE;
}

static bool col_vs_baseline(const struct engine *eng)
{
	return eng->kind == ENGINE_EBPF;
}

static void print_value(double v, bool ratio)
{
	if (isnan(v))
		printf(" %10s", "-");
	else if (ratio || v < 10)
		printf(" %10.2f", v);
	else if (v < 100)
		printf(" %10.1f", v);
	else
		printf(" %10.0f", v);
}

/* Geometric mean of a column over the rows (loop-heavy ones only if asked). */
static double geomean(const struct row *rows, size_t n, metric_fn m, size_t e,
		      bool loop_only)
{
	double sum = 0;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		double v = m(&rows[i], e);

		if ((loop_only && !rows[i].wl->loop_heavy) || !(v > 0))
			continue;
		sum += log(v);
		k++;
	}
	return k ? exp(sum / k) : NAN;
}

static void print_geomean(const char *label, const struct row *rows, size_t n,
			  metric_fn m, column_fn col, bool loop_only, bool ratio)
{
	printf("%-10s %10s", label, "");
	for (size_t e = 0; e < bench_nengines; e++)
		if (col(&bench_engines[e]))
			print_value(geomean(rows, n, m, e, loop_only), ratio);
	printf("\n");
}

static void print_table(const char *title, const struct row *rows, size_t n,
			metric_fn m, column_fn col, bool ratio, bool means)
{
	printf("\n%s\n%-10s %10s", title, "workload", "insns/run");
	for (size_t e = 0; e < bench_nengines; e++)
		if (col(&bench_engines[e]))
			printf(" %10s", bench_engines[e].name);
	printf("\n");
	for (size_t i = 0; i < n; i++) {
		printf("%-10s %10llu", rows[i].wl->name,
		       (unsigned long long)rows[i].insns);
		for (size_t e = 0; e < bench_nengines; e++)
			if (col(&bench_engines[e]))
				print_value(m(&rows[i], e), ratio);
		printf("\n");
	}
	if (!means)
		return;
	print_geomean("geomean", rows, n, m, col, false, ratio);
	print_geomean("loop-heavy", rows, n, m, col, true, ratio);
}

/* The target concerns the first eBPF engine: bpfrt's unchecked interpreter. */
static void print_verdict(const struct row *rows, size_t n)
{
	size_t interp = engine_of_kind(ENGINE_EBPF);
	double g = geomean(rows, n, vs_baseline, interp, true);
	double worst = INFINITY;
	const char *worst_name = "-";

	for (size_t i = 0; i < n; i++) {
		double v = vs_baseline(&rows[i], interp);

		if (rows[i].wl->loop_heavy && v < worst) {
			worst = v;
			worst_name = rows[i].wl->name;
		}
	}
	printf("\n%s vs %s on loop-heavy code: geomean %.2fx, lowest %.2fx (%s); "
	       "target %.0fx: %s\n", bench_engines[interp].name,
	       bench_engines[engine_of_kind(ENGINE_BASELINE)].name, g, worst,
	       worst_name, TARGET_SPEEDUP,
	       worst >= TARGET_SPEEDUP ? "met" :
	       g >= TARGET_SPEEDUP ? "met on the mean, not on every workload" :
	       "NOT met");
}

/* How far apart the rounds of the noisiest figure were. */
static void print_noise(const struct row *rows, size_t n)
{
	double worst = 0;
	size_t wi = 0, we = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t e = 0; e < bench_nengines; e++)
			if (rows[i].spread[e] > worst) {
				worst = rows[i].spread[e];
				wi = i;
				we = e;
			}
	if (n)
		printf("noise: rounds of one figure differ by up to %.0f%% "
		       "(%s on %s)\n", worst * 100, rows[wi].wl->name,
		       bench_engines[we].name);
}

static void print_legend(const struct row *rows, size_t n)
{
	printf("\nworkloads:\n");
	for (size_t i = 0; i < n; i++)
		printf("  %-8s %s%s\n", rows[i].wl->name, rows[i].wl->what,
		       rows[i].wl->loop_heavy ? "" : " (not loop-heavy)");
	printf("engines: native = the workload's C compiled for this CPU; "
	       "interp = bpfrt interpreter, checked=false;\n"
	       "  checked = bpfrt interpreter, checked=true; "
	       "switch = plain fetch/switch/decode interpreter (bench/switch_interp.c)\n");
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
		"[workload...]\n", MAX_ROUNDS);
	exit(2);
}

static void parse_args(int argc, char **argv, struct config *cfg)
{
	int opt;

	cfg->rounds = 5;
	cfg->round_ns = 200e6;
	while ((opt = getopt(argc, argv, "r:t:h")) != -1) {
		switch (opt) {
		case 'r':
			cfg->rounds = (unsigned)atoi(optarg);
			break;
		case 't':
			cfg->round_ns = atof(optarg) * 1e6;
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
	print_table("time per run (ns)", rows, n, ns_per_run, col_all, false, false);
	print_table("ns per executed eBPF instruction", rows, n, ns_per_insn,
		    col_ebpf, false, true);
	print_table("speedup over the switch baseline (x)", rows, n, vs_baseline,
		    col_vs_baseline, true, true);
	print_table("time relative to native (x)", rows, n, vs_native, col_ebpf,
		    true, true);
	print_verdict(rows, n);
	print_noise(rows, n);
	print_legend(rows, n);
	return 0;
}
