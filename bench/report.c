/* report.c — what `make bench` prints: the tables, the verdicts on the targets, the legend. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

#define COL		11	/* width of every column */
#define TARGET_SPEEDUP	3.0	/* interp over the switch baseline, loop-heavy code */
#define TARGET_NATIVE	2.0	/* jit's geometric mean against native */

typedef double (*metric_fn)(const struct row *row, size_t e);
typedef bool (*column_fn)(const struct engine *eng);

/* ---- Engines and metrics ------------------------------------------------ */

static size_t engine_of_kind(enum engine_kind kind)
{
	for (size_t e = 0; e < bench_nengines; e++)
		if (bench_engines[e].kind == kind)
			return e;
	return 0;
}

/* The engine called name; every table has one, so a typo fails loudly. */
static size_t engine_named(const char *name)
{
	for (size_t e = 0; e < bench_nengines; e++)
		if (!strcmp(bench_engines[e].name, name))
			return e;
	fprintf(stderr, "bench: no engine called %s\n", name);
	return 0;
}

static double ns_per_run(const struct row *row, size_t e)
{
	return row->ns[e];
}

/* (Not for a kernel variant: insns counts the workload's own code.) */
static double ns_per_insn(const struct row *row, size_t e)
{
	return row->insns && !row->variant[e] ? row->ns[e] / (double)row->insns : NAN;
}

static double vs_baseline(const struct row *row, size_t e)
{
	return row->ns[engine_of_kind(ENGINE_BASELINE)] / row->ns[e];
}

static double vs_native(const struct row *row, size_t e)
{
	return row->ns[e] / row->ns[engine_of_kind(ENGINE_NATIVE)];
}

static double vs_kernel(const struct row *row, size_t e)
{
	return row->ns[engine_named("kernel")] / row->ns[e];
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

/* Engines that run exactly the code bpfrt counted instructions of. */
static bool col_same_code(const struct engine *eng)
{
	return eng->kind != ENGINE_NATIVE && !eng->own_code;
}

static bool col_vs_baseline(const struct engine *eng)
{
	return eng->kind == ENGINE_EBPF;
}

static bool col_jit(const struct engine *eng)
{
	return !strncmp(eng->name, "jit", 3);
}

/* ---- Tables ------------------------------------------------------------- */

static void print_value(double v, bool ratio)
{
	if (isnan(v))
		printf(" %*s", COL, "-");
	else if (ratio || v < 10)
		printf(" %*.2f", COL, v);
	else if (v < 100)
		printf(" %*.1f", COL, v);
	else
		printf(" %*.0f", COL, v);
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
	printf("%-*s %*s", COL, label, COL, "");
	for (size_t e = 0; e < bench_nengines; e++)
		if (col(&bench_engines[e]))
			print_value(geomean(rows, n, m, e, loop_only), ratio);
	printf("\n");
}

static void print_table(const char *title, const struct row *rows, size_t n,
			metric_fn m, column_fn col, bool ratio, bool means)
{
	printf("\n%s\n%-*s %*s", title, COL, "workload", COL, "insns/run");
	for (size_t e = 0; e < bench_nengines; e++)
		if (col(&bench_engines[e]))
			printf(" %*s", COL, bench_engines[e].name);
	printf("\n");
	for (size_t i = 0; i < n; i++) {
		printf("%-*s %*llu", COL, rows[i].wl->name, COL,
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

/* ---- Verdicts ----------------------------------------------------------- */

/* bpfrt's unchecked interpreter against the switch baseline, loop-heavy code. */
static void print_interp_verdict(const struct row *rows, size_t n)
{
	size_t interp = engine_named("interp");
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
	printf("interp vs switch on loop-heavy code: geomean %.2fx, lowest %.2fx (%s); "
	       "target %.0fx: %s\n", g, worst, worst_name, TARGET_SPEEDUP,
	       worst >= TARGET_SPEEDUP ? "met" :
	       g >= TARGET_SPEEDUP ? "met on the mean, not on every workload" :
	       "NOT met");
}

/* Append ", item" (or the first item) to a list that may fill up. */
static void list_add(char *list, size_t size, const char *item)
{
	size_t used = strlen(list);

	snprintf(list + used, size - used, "%s%s", used ? ", " : "", item);
}

/* The unchecked JIT's time: in "jit" if verified, else in "jit-vouched". */
static double jit_ns(const struct row *row)
{
	double v = row->ns[engine_named("jit")];

	return isnan(v) ? row->ns[engine_named("jit-vouched")] : v;
}

/* The same on the plain code: jit-vouched where jit ran the kernel variant. */
static double jit_plain_ns(const struct row *row)
{
	size_t jit = engine_named("jit");

	return row->variant[jit] || isnan(row->ns[jit]) ? row->ns[engine_named("jit-vouched")]
							 : row->ns[jit];
}

/* Workloads where jit is not faster than the kernel, or could not be compared. */
static void print_jit_kernel_verdict(const struct row *rows, size_t n)
{
	size_t kern = engine_named("kernel");
	char slower[512] = "", missing[256] = "", item[80];
	size_t nslow = 0, nmiss = 0;

	for (size_t i = 0; i < n; i++) {
		double k = rows[i].ns[kern], j = jit_ns(&rows[i]);

		if (isnan(k) || isnan(j)) {
			list_add(missing, sizeof(missing), rows[i].wl->name);
			nmiss++;
		} else if (j >= k) {
			snprintf(item, sizeof(item), "%s: %.2fx the kernel's time",
				 rows[i].wl->name, j / k);
			list_add(slower, sizeof(slower), item);
			nslow++;
		}
	}
	printf("jit (where the kernel ran a variant, the same variant; or jit-vouched) "
	       "faster than kernel on every workload: ");
	if (nslow)
		printf("no (%s)", slower);
	else
		fputs(nmiss == n ? "- (the kernel ran none; why: under \"kernel ran\" below)" : "yes",
		      stdout);
	if (nmiss && nmiss < n)
		printf("; not compared: %s", missing);
	printf("\n");
}

/*
 * The target, on the verified workloads alone (the jit column) and on all
 * of them (jit, else jit-vouched); the verified ones may be few.
 */
static void print_native_verdict(const struct row *rows, size_t n)
{
	size_t jit = engine_named("jit"), nat = engine_of_kind(ENGINE_NATIVE);
	double g = geomean(rows, n, vs_native, jit, false), sum = 0;
	size_t k = 0, nver = 0, nvar = 0;

	for (size_t i = 0; i < n; i++) {
		double v = jit_plain_ns(&rows[i]) / rows[i].ns[nat];

		nver += !isnan(rows[i].ns[jit]);
		nvar += !isnan(rows[i].ns[jit]) && rows[i].variant[jit];
		if (v > 0) {
			sum += log(v);
			k++;
		}
	}
	printf("jit geomean vs native, the %zu verified workloads (%zu as their kernel variant): "
	       "%.2fx (target %.0fx): %s\n", nver, nvar, g, TARGET_NATIVE,
	       g <= TARGET_NATIVE ? "met" : "NOT met");
	if (k) {
		double all = exp(sum / (double)k);

		printf("jit geomean vs native, all %zu as the plain code (jit-vouched where not "
		       "verified): %.2fx (target %.0fx): %s\n", k, all, TARGET_NATIVE,
		       all <= TARGET_NATIVE ? "met" : "NOT met");
	}
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

/* ---- Legend ------------------------------------------------------------- */

/* What each engine said it ran; one line if it said the same everywhere. */
static void print_notes(const struct row *rows, size_t n)
{
	for (size_t e = 0; e < bench_nengines; e++) {
		bool same = true, any = false;

		for (size_t i = 0; i < n; i++) {
			any |= rows[i].note[e][0] != '\0';
			same &= !strcmp(rows[i].note[e], rows[0].note[e]);
		}
		if (!any)
			continue;
		printf("%s ran:\n", bench_engines[e].name);
		if (same && n > 1) {
			printf("  every workload: %s\n", rows[0].note[e]);
			continue;
		}
		for (size_t i = 0; i < n; i++)
			printf("  %-*s %s\n", COL, rows[i].wl->name,
			       rows[i].note[e][0] ? rows[i].note[e] : "-");
	}
}

static void print_legend(const struct row *rows, size_t n)
{
	printf("\nworkloads:\n");
	for (size_t i = 0; i < n; i++)
		printf("  %-*s %s%s\n", COL, rows[i].wl->name, rows[i].wl->what,
		       rows[i].wl->loop_heavy ? "" : " (not loop-heavy)");
	printf("  (hashmap: bpfrt's engines call bpfrt's map helpers on a bpfrt hash map,\n"
	       "   the kernel its own on a kernel hash map; native runs the same loop over\n"
	       "   a chained table in C built the same way (power-of-two buckets, preallocated\n"
	       "   elements, a multiply-fold hash), inlined and lock-free: what a hand-written\n"
	       "   C program would use, rather than bpfrt's C API, which copies values out)\n"
	       "  (xdp-parse: every engine parses all 64 packets in one run, from the input\n"
	       "   buffer; the kernel too, through its stub: the frames are in a map value,\n"
	       "   not a real xdp_buff, so the verifier checks each access against the\n"
	       "   value's bounds and the data_end checks are the program's own)\n");
	printf("engines:\n"
	       "  native      the workload's C compiled for this CPU\n"
	       "  jit         bpfrt's x86-64 JIT, checked=false: the mode for verified code,\n"
	       "              run only where bpfrt's verifier accepts the workload (raw type:\n"
	       "              r1 = the input, r2 = its length, ctx_size = its length), else\n"
	       "              its kernel variant, as the kernel column runs it (may_goto\n"
	       "              loops; \"jit ran\" says which; its ns/insn is not shown, the\n"
	       "              count being the plain code's)\n"
	       "  jit-vouched the same JIT, checked=false, on the workloads bpfrt's verifier\n"
	       "              rejects (why: under \"jit ran\"), the plain code; the bench\n"
	       "              vouches for them, and checks their results against native.\n"
	       "              Where \"kernel ran\" says \"the same code as bpfrt\", Linux's\n"
	       "              verifier accepts what bpfrt's rejects\n"
	       "  jit-checked bpfrt's JIT, checked=true: every access bounds-checked, "
	       "an instruction budget\n"
	       "  kernel      the Linux kernel's JIT, as an XDP program run by "
	       "BPF_PROG_TEST_RUN with repeat;\n"
	       "              ns/run is the kernel's own average (whole ns; it "
	       "includes its loop and a map lookup);\n"
	       "              where the verifier rejects bpfrt's code, it runs a "
	       "variant: bounded loops\n"
	       "              (may_goto), extra bounds checks (see the head of "
	       "each bench/workloads/kernel/*.c)\n"
	       "  interp      bpfrt's interpreter, checked=false, on every workload (vouched\n"
	       "              for where the verifier rejects it, as jit-vouched)\n"
	       "  checked     bpfrt's interpreter, checked=true\n"
	       "  switch      plain fetch/switch/decode interpreter "
	       "(bench/switch_interp.c)\n");
	print_notes(rows, n);
}

/* ---- All of it ---------------------------------------------------------- */

void report(const struct row *rows, size_t n)
{
	print_table("time per run (ns)", rows, n, ns_per_run, col_all, false, false);
	print_table("ns per executed eBPF instruction (engines running bpfrt's code)",
		    rows, n, ns_per_insn, col_same_code, false, true);
	print_table("speedup over the switch baseline (x)", rows, n, vs_baseline,
		    col_vs_baseline, true, true);
	print_table("time relative to native (x)", rows, n, vs_native, col_ebpf,
		    true, true);
	print_table("speedup over the kernel's JIT (x; above 1: bpfrt is faster)",
		    rows, n, vs_kernel, col_jit, true, true);
	printf("\n");
	print_interp_verdict(rows, n);
	print_jit_kernel_verdict(rows, n);
	print_native_verdict(rows, n);
	print_noise(rows, n);
	print_legend(rows, n);
}
