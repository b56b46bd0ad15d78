/* engines.c — the columns of the bench: native, bpfrt's JIT and interpreter (both modes), the kernel, the switch baseline.
 *
 * The unchecked JIT runs in "jit" only what bpfrt's verifier accepts (the
 * workload, else its kernel variant); what it rejects runs in "jit-vouched",
 * so both show and neither hides the other.
 *
 * "jit-blind" is the jit column with constant blinding (jit_blind).
 *
 * A new engine is one more row in bench_engines[]: a run function and, if
 * it needs per-case state, setup and teardown. The kernel's functions are
 * in kernel.c.
 */
#include <errno.h>
#include <stdio.h>

#include "bench.h"
#include "switch_interp.h"

static int native_run(struct bench_case *c, void *state, uint64_t reps,
		      uint64_t *ret)
{
	uint64_t r = 0;

	(void)state;
	for (uint64_t i = 0; i < reps; i++)
		r = c->wl->native(c->mem, c->len);
	*ret = r;
	return 0;
}

/* Run the workload's code, or (kvariant) the stub and its kernel variant. */
static int bpfrt_run_prog(struct bench_case *c, enum bpfrt_engine engine, bool checked,
			  bool kvariant, uint64_t reps, uint64_t *ret)
{
	BPFRT_OPTS(bpfrt_run_opts, opts, .engine = engine,
		   .checked = checked, .ctx = c->mem,
		   .ctx_len = kvariant ? ((c->len + 7) & ~(size_t)7) + 8 : c->len);
	struct bpfrt_prog *prog = kvariant ? c->kprog : c->prog;

	for (uint64_t i = 0; i < reps; i++) {
		int err = bpfrt_prog_run(prog, &opts, &c->err);

		if (err)
			return err;
	}
	*ret = opts.retval;
	return 0;
}

static int bpfrt_run(struct bench_case *c, enum bpfrt_engine engine, bool checked,
		     uint64_t reps, uint64_t *ret)
{
	return bpfrt_run_prog(c, engine, checked, false, reps, ret);
}

static int interp_run(struct bench_case *c, void *state, uint64_t reps,
		      uint64_t *ret)
{
	(void)state;
	return bpfrt_run(c, BPFRT_ENGINE_INTERP, false, reps, ret);
}

static int interp_checked_run(struct bench_case *c, void *state, uint64_t reps,
			      uint64_t *ret)
{
	(void)state;
	return bpfrt_run(c, BPFRT_ENGINE_INTERP, true, reps, ret);
}

/*
 * The unchecked engines run only code bpfrt's verifier accepted
 * (bench.c, verify_case); where it refuses the workload, its kernel
 * variant if it accepts that (*state set: kvariant_init), as the kernel
 * column does; for the rest the column says why not.
 */
static int verified_setup(struct bench_case *c, void **state)
{
	static char kvariant;

	if (c->verified)
		return 0;
	if (c->kverified) {
		*state = &kvariant;
		c->ran_variant = true;
		snprintf(c->note, sizeof(c->note), "variant workloads/%s (verified in %llu "
			 "insns processed): bpfrt's verifier rejects the plain code: %.150s",
			 c->wl->kname, (unsigned long long)c->kprocessed, c->verdict);
		return 0;
	}
	snprintf(c->note, sizeof(c->note), "not run: bpfrt's verifier rejects it: %.150s%s%.90s",
		 c->verdict, c->kprog ? "; and its kernel variant: " : "", c->kverdict);
	return -ENOTSUP;
}

/* The same engine on what the verifier rejects: the bench vouches for it. */
static int vouched_setup(struct bench_case *c, void **state)
{
	(void)state;
	if (!c->verified) {
		snprintf(c->note, sizeof(c->note), "bpfrt's verifier rejects it (why: under "
			 "\"jit ran\"); run unchecked anyway, its results checked against "
			 "native");
		return 0;
	}
	snprintf(c->note, sizeof(c->note), "not run: verified, so in the jit column");
	return -ENOTSUP;
}

/* bpfrt's JIT unchecked: for verified code (state: the kernel variant). */
static int jit_run(struct bench_case *c, void *state, uint64_t reps, uint64_t *ret)
{
	return bpfrt_run_prog(c, BPFRT_ENGINE_JIT, false, state != NULL, reps, ret);
}

static int jit_checked_run(struct bench_case *c, void *state, uint64_t reps,
			   uint64_t *ret)
{
	(void)state;
	return bpfrt_run(c, BPFRT_ENGINE_JIT, true, reps, ret);
}

/*
 * The JIT with constant blinding (bpfrt_prog_opts.jit_blind), unchecked, on
 * every workload (jit and jit-vouched together): its own program, with the
 * case's map.
 */
static int blind_setup(struct bench_case *c, void **state)
{
	BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &c->map, .nmaps = c->wl->map ? 1 : 0,
		   .jit_blind = true);
	struct bpfrt_prog *prog;
	int err;

	if (!c->verified)
		snprintf(c->note, sizeof(c->note), "vouched for, as in jit-vouched");
	err = bpfrt_prog_new(c->insns, c->ninsns, &po, &prog, &c->err);
	if (!err && c->wl->map)
		err = bpfrt_prog_use_builtin_helpers(prog);
	if (!err)
		*state = prog;
	return err;
}

static int blind_run(struct bench_case *c, void *state, uint64_t reps, uint64_t *ret)
{
	struct bpfrt_prog *plain = c->prog;
	int err;

	c->prog = state;
	err = bpfrt_run(c, BPFRT_ENGINE_JIT, false, reps, ret);
	c->prog = plain;
	return err;
}

static void blind_teardown(void *state)
{
	bpfrt_prog_free(state);
}

/* The baseline has no helpers: workloads with maps are not for it. */
static int switch_setup(struct bench_case *c, void **state)
{
	(void)state;
	if (!c->wl->map)
		return 0;
	snprintf(c->note, sizeof(c->note), "not run: this baseline has no helpers, so no maps");
	return -ENOTSUP;
}

static int switch_run(struct bench_case *c, void *state, uint64_t reps,
		      uint64_t *ret)
{
	(void)state;
	for (uint64_t i = 0; i < reps; i++) {
		int err = switch_interp_run(c->insns, c->mem, c->len, ret);

		if (err) {
			snprintf(c->err.msg, sizeof(c->err.msg),
				 "the switch interpreter failed (%d)", err);
			return err;
		}
	}
	return 0;
}

#define ENGINE(n, k, r) { .name = n, .kind = k, .run = r }

const struct engine bench_engines[] = {
	ENGINE("native", ENGINE_NATIVE, native_run),
	{ .name = "jit", .kind = ENGINE_EBPF, .setup = verified_setup, .run = jit_run },
	{ .name = "jit-vouched", .kind = ENGINE_EBPF, .setup = vouched_setup, .run = jit_run },
	ENGINE("jit-checked", ENGINE_EBPF, jit_checked_run),
	{ .name = "jit-blind", .kind = ENGINE_EBPF, .setup = blind_setup, .run = blind_run,
	  .teardown = blind_teardown },
	{ .name = "kernel", .kind = ENGINE_EBPF, .setup = kernel_setup,
	  .run = kernel_run, .teardown = kernel_teardown,
	  .elapsed = kernel_elapsed, .output = kernel_output,
	  .ret32 = true, .own_code = true },
	ENGINE("interp", ENGINE_EBPF, interp_run),
	ENGINE("checked", ENGINE_EBPF, interp_checked_run),
	{ .name = "switch", .kind = ENGINE_BASELINE, .setup = switch_setup,
	  .run = switch_run },
};
const size_t bench_nengines = sizeof(bench_engines) / sizeof(bench_engines[0]);

_Static_assert(sizeof(bench_engines) / sizeof(bench_engines[0]) <= BENCH_MAX_ENGINES,
	       "raise BENCH_MAX_ENGINES");
