/* bench.h — the benchmark harness: a table of workloads × engines, and what they share. */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfrt.h"

/* ---- Workloads (workloads.c) ------------------------------------------- */

/*
 * A hash map a workload uses (key and value sizes 4 and 8): created with
 * `nentries` initial entries for bpfrt and for the kernel. The workload's
 * code names it by an lddw of `magic`, which each engine rewrites into its
 * own reference (bench_patch_map).
 */
struct bench_map {
	uint32_t max_entries;
	uint32_t nentries;
	uint64_t magic;
	void (*entry)(uint32_t i, uint32_t *key, uint64_t *value);
};

/* Rewrite every lddw of magic into src `src`, imm `imm`; how many it found. */
size_t bench_patch_map(struct bpfrt_insn *insns, size_t n, uint64_t magic,
		       uint8_t src, int32_t imm);

/*
 * One program, compiled twice from bench/workloads/NAME.c: for eBPF (the raw
 * instructions of its single function) and natively. Both take the input
 * buffer as (mem, len) and must return the same value. A workload whose
 * loops the kernel's verifier cannot bound also has a kernel variant,
 * bench/workloads/kernel/NAME.c: the same algorithm with bounds it accepts,
 * which only the kernel column runs (see kernel.c).
 */
struct workload {
	const char *name;
	const char *what;		/* one line for the legend */
	bool loop_heavy;		/* counts toward the interpreter target */
	const uint8_t *bpf;		/* clang -target bpf, .text only */
	size_t bpf_bytes;
	const char *kname;		/* the kernel variant's file name, or NULL */
	const uint8_t *kbpf;		/* its .text, or NULL: the kernel runs bpf */
	size_t kbpf_bytes;
	uint64_t (*native)(uint8_t *mem, uint64_t len);
	size_t len;			/* input bytes */
	void (*fill)(uint8_t *mem, size_t len);		/* a fresh input */
	bool (*check)(const uint8_t *mem, size_t len);	/* optional: output ok? */
	const struct bench_map *map;			/* optional */
};

extern const struct workload bench_workloads[];
extern const size_t bench_nworkloads;

/* ---- Engines (engines.c) ----------------------------------------------- */

/* One workload made ready for every engine. */
struct bench_case {
	const struct workload *wl;
	uint8_t *mem;			/* input, aligned to 64 bytes; then zeroes
					   up to len8 + 8 (the zero word) */
	size_t len;
	struct bpfrt_insn *insns;	/* the eBPF code, as instructions */
	size_t ninsns;
	struct bpfrt_prog *prog;	/* shared by bpfrt's engines */
	struct bpfrt_map *map;		/* its map (wl->map), or NULL */
	bool verified;			/* bpfrt's verifier accepts it (raw type, r1 = mem,
					   r2 = len, ctx_size = len): may run unchecked */
	char verdict[300];		/* the verifier's word, if it refused */
	/*
	 * Where the verifier refuses the workload and it has a kernel variant:
	 * a stub that calls the variant as the kernel's does (r1 = mem, r2 =
	 * len, r3 = the zero word after the input, at len rounded up to 8),
	 * which "jit" runs if the verifier accepts it (kverified).
	 */
	struct bpfrt_prog *kprog;
	bool kverified;
	uint64_t kprocessed;		/* the verifier's instructions processed */
	char kverdict[300];		/* its word, if it refused that too */
	struct bpfrt_error err;		/* the last failure, for messages */
	char note[320];			/* an engine's word on what it ran, or why not */
	bool ran_variant;		/* the engine's setup chose the kernel variant */
};

enum engine_kind {
	ENGINE_NATIVE,		/* the C code compiled for the host: the reference */
	ENGINE_EBPF,		/* runs the eBPF code */
	ENGINE_BASELINE,	/* runs the eBPF code; what the others are compared to */
};

/*
 * An engine runs a case `reps` times and leaves the last r0 in *ret. setup
 * (optional) prepares per-case state and may say in c->note what it runs, or
 * returns -ENOTSUP when the engine cannot run the case here (its column then
 * shows "-" and c->note says why); teardown frees it. Engines that time
 * themselves say, through elapsed, how long the last call's reps took; the
 * others are timed by the thread's CPU time. Engines whose memory is not c->mem
 * copy what the last run left there back into it with output (for the
 * workloads' output checks). All return 0 or a negative errno, with a
 * message in c->err.
 */
struct engine {
	const char *name;		/* column header, at most 11 characters */
	enum engine_kind kind;
	int (*setup)(struct bench_case *c, void **state);
	int (*run)(struct bench_case *c, void *state, uint64_t reps, uint64_t *ret);
	void (*teardown)(void *state);
	double (*elapsed)(void *state);	/* ns of the last run call, or NULL */
	int (*output)(struct bench_case *c, void *state);	/* or NULL */
	bool ret32;			/* returns only the low 32 bits of r0 */
	bool own_code;			/* may run a variant of the eBPF code */
};

extern const struct engine bench_engines[];
extern const size_t bench_nengines;

#define BENCH_MAX_ENGINES 9

/* ---- Results (bench.c measures, report.c prints) ---------------------- */

/* One workload's results: median ns per run for each engine (NAN: n/a). */
struct row {
	const struct workload *wl;
	uint64_t insns;				/* per run, as bpfrt counts them */
	double ns[BENCH_MAX_ENGINES];
	double spread[BENCH_MAX_ENGINES];	/* (slowest - fastest round) / median */
	char note[BENCH_MAX_ENGINES][320];	/* what the engine ran, or why not */
	bool variant[BENCH_MAX_ENGINES];	/* it ran the kernel variant, not insns' code */
};

/* The tables, the verdicts on the targets, the legend. */
void report(const struct row *rows, size_t n);

/* ---- The kernel's JIT (kernel.c) --------------------------------------- */

int kernel_setup(struct bench_case *c, void **state);
int kernel_run(struct bench_case *c, void *state, uint64_t reps, uint64_t *ret);
void kernel_teardown(void *state);
double kernel_elapsed(void *state);
int kernel_output(struct bench_case *c, void *state);

#endif /* BENCH_H */
