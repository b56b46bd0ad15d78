/* bench.h — the benchmark harness: a table of workloads × engines, and what they share. */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfrt.h"

/* ---- Workloads (workloads.c) ------------------------------------------- */

/*
 * One program, compiled twice from bench/workloads/NAME.c: for eBPF (the raw
 * instructions of its single function) and natively. Both take the input
 * buffer as (mem, len) and must return the same value.
 */
struct workload {
	const char *name;
	const char *what;		/* one line for the legend */
	bool loop_heavy;		/* counts toward the interpreter target */
	const uint8_t *bpf;		/* clang -target bpf, .text only */
	size_t bpf_bytes;
	uint64_t (*native)(uint8_t *mem, uint64_t len);
	size_t len;			/* input bytes */
	void (*fill)(uint8_t *mem, size_t len);		/* a fresh input */
	bool (*check)(const uint8_t *mem, size_t len);	/* optional: output ok? */
};

extern const struct workload bench_workloads[];
extern const size_t bench_nworkloads;

/* ---- Engines (engines.c) ----------------------------------------------- */

/* One workload made ready for every engine. */
struct bench_case {
	const struct workload *wl;
	uint8_t *mem;			/* input, aligned to 64 bytes */
	size_t len;
	struct bpfrt_insn *insns;	/* the eBPF code, as instructions */
	size_t ninsns;
	struct bpfrt_prog *prog;	/* shared by bpfrt's engines */
	struct bpfrt_error err;		/* the last failure, for messages */
};

enum engine_kind {
	ENGINE_NATIVE,		/* the C code compiled for the host: the reference */
	ENGINE_EBPF,		/* runs the eBPF code */
	ENGINE_BASELINE,	/* runs the eBPF code; what the others are compared to */
};

/*
 * An engine runs a case `reps` times and leaves the last r0 in *ret. setup
 * (optional) prepares per-case state, or returns -ENOTSUP when the engine
 * is not available here (its column then shows "-"); teardown frees it.
 * All return 0 or a negative errno, with a message in c->err.
 */
struct engine {
	const char *name;		/* column header, at most 10 characters */
	enum engine_kind kind;
	int (*setup)(struct bench_case *c, void **state);
	int (*run)(struct bench_case *c, void *state, uint64_t reps, uint64_t *ret);
	void (*teardown)(void *state);
};

extern const struct engine bench_engines[];
extern const size_t bench_nengines;

#define BENCH_MAX_ENGINES 8

#endif /* BENCH_H */
