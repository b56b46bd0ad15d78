/* engines.c — the columns of the bench: native code, bpfrt's interpreter (both modes), the switch baseline.
 *
 * A new engine (bpfrt's JIT, the kernel's JIT through BPF_PROG_TEST_RUN) is
 * one more row in bench_engines[]: a run function and, if it needs per-case
 * state, setup and teardown.
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

static int bpfrt_run(struct bench_case *c, bool checked, uint64_t reps,
		     uint64_t *ret)
{
	BPFRT_OPTS(bpfrt_run_opts, opts, .engine = BPFRT_ENGINE_INTERP,
		   .checked = checked, .ctx = c->mem, .ctx_len = c->len);

	for (uint64_t i = 0; i < reps; i++) {
		int err = bpfrt_prog_run(c->prog, &opts, &c->err);

		if (err)
			return err;
	}
	*ret = opts.retval;
	return 0;
}

static int interp_run(struct bench_case *c, void *state, uint64_t reps,
		      uint64_t *ret)
{
	(void)state;
	return bpfrt_run(c, false, reps, ret);
}

static int interp_checked_run(struct bench_case *c, void *state, uint64_t reps,
			      uint64_t *ret)
{
	(void)state;
	return bpfrt_run(c, true, reps, ret);
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

const struct engine bench_engines[] = {
	{ "native",  ENGINE_NATIVE,   NULL, native_run,         NULL },
	{ "interp",  ENGINE_EBPF,     NULL, interp_run,         NULL },
	{ "checked", ENGINE_EBPF,     NULL, interp_checked_run, NULL },
	{ "switch",  ENGINE_BASELINE, NULL, switch_run,         NULL },
};
const size_t bench_nengines = sizeof(bench_engines) / sizeof(bench_engines[0]);

_Static_assert(sizeof(bench_engines) / sizeof(bench_engines[0]) <= BENCH_MAX_ENGINES,
	       "raise BENCH_MAX_ENGINES");
