/* callbacks.c — helpers that change where the program goes: bpf_tail_call, bpf_loop, bpf_for_each_map_elem.
 *
 * bpf_tail_call only checks its arguments and picks the target; the engine
 * does the jump when it sees run->fail == RUN_TAIL_CALL after the call
 * (prog.c's run_tail_call). The two others call a function of the program
 * (an lddw src 4 value) through run_call_func, once per iteration or element,
 * each call a fresh frame below the caller's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exec/prog.h"
#include "helpers.h"
#include "maps/map.h"

/* ---- bpf_tail_call ------------------------------------------------------- */

/*
 * As Linux (x86-64, 6.x) does it: an index past max_entries, the count at
 * MAX_TAIL_CALL_CNT (33) or an empty slot fail, and only a tail call that
 * happens counts (older kernels counted the empty slot's attempt too). A
 * failed tail call returns to the program, which goes on with the next
 * instruction.
 */
/* Checked runs: argument 2 must be one of the program's maps. */
static struct bpfrt_map *prog_array_arg(struct bpfrt_run *run, uint64_t r2)
{
	const struct bpfrt_prog *prog = run->prog;

	if (!run->checked)
		return (struct bpfrt_map *)(uintptr_t)r2;
	for (size_t i = 0; i < prog->nmaps; i++)
		if ((uintptr_t)prog->maps[i] == r2)
			return prog->maps[i];
	bpfrt_run_fail(run, -EINVAL, "bpf_tail_call: argument 2 (%#llx) is not one of "
		       "the program's maps", (unsigned long long)r2);
	return NULL;
}

static uint64_t tail_call(uint64_t ctx, uint64_t r2, uint64_t index, uint64_t r4,
			  uint64_t r5, struct bpfrt_run *run)
{
	struct bpfrt_map *m = prog_array_arg(run, r2);
	struct bpfrt_prog *target;

	(void)ctx; (void)r4; (void)r5;
	if (!m)
		return (uint64_t)-EINVAL;
	if (m->type != BPFRT_MAP_PROG_ARRAY) {
		bpfrt_run_fail(run, -EINVAL, "bpf_tail_call: argument 2 is a map of type "
			       "%u, not a prog array", m->type);
		return (uint64_t)-EINVAL;
	}
	if (run->cb_nest) {
		bpfrt_run_fail(run, -ENOTSUP, "bpf_tail_call: not supported inside a "
			       "callback (bpf_loop, bpf_for_each_map_elem)");
		return (uint64_t)-ENOTSUP;
	}
	if ((uint32_t)index >= m->max_entries)
		return (uint64_t)-E2BIG;
	if (run->tail_cnt >= RUN_MAX_TAIL_CALLS)
		return (uint64_t)-ELOOP;
	target = map_prog_array_get(m, (uint32_t)index);
	if (!target)
		return (uint64_t)-ENOENT;
	run->tail_cnt++;
	return (uint64_t)(int64_t)run_tail_call(run, target);
}

/* ---- bpf_loop ------------------------------------------------------------- */

#define LOOP_MAX (1u << 23)	/* the kernel's BPF_MAX_LOOPS */

static uint64_t loop(uint64_t nr, uint64_t fn, uint64_t cb_ctx, uint64_t flags,
		     uint64_t r5, struct bpfrt_run *run)
{
	uint64_t args[5] = { 0, cb_ctx, 0, 0, 0 }, r0;
	uint32_t n = (uint32_t)nr;

	(void)r5;
	if (flags)
		return (uint64_t)-EINVAL;
	/*
	 * Linux inlines bpf_loop when flags is a known 0, and its inlined code
	 * says -E2BIG in 32 bits (zero-extended); that is what programs see.
	 */
	if (n > LOOP_MAX)
		return (uint32_t)-E2BIG;
	for (uint32_t i = 0; i < n; i++) {
		args[0] = i;
		if (run_call_func(run, "loop", fn, args, &r0))
			return (uint64_t)-EFAULT;	/* the run has failed */
		if (r0)
			return (uint64_t)i + 1;
	}
	return n;
}

/* ---- bpf_for_each_map_elem ------------------------------------------------ */

struct each {
	struct bpfrt_run *run;
	uint64_t fn, cb_ctx;
	uint8_t *key;		/* the key's copy, which the callback may read */
	bool failed;
};

/*
 * The callback gets a copy of the key, readable (checked mode) for as long
 * as it runs, like the kernel's pointer to a key it must not write; the
 * value pointer is the element's own.
 */
static long each_elem(struct bpfrt_map *m, const void *key, void *value, void *arg)
{
	struct each *e = arg;
	struct bpfrt_run *run = e->run;
	const void *ro_base = run->ro_base;
	size_t ro_len = run->ro_len;
	uint64_t args[5] = { (uintptr_t)m, (uintptr_t)e->key, (uintptr_t)value,
			     e->cb_ctx, 0 };
	uint64_t r0 = 0;

	memcpy(e->key, key, m->key_size);
	run->ro_base = e->key;
	run->ro_len = m->key_size;
	e->failed = run_call_func(run, "for_each_map_elem", e->fn, args, &r0) != 0;
	run->ro_base = ro_base;
	run->ro_len = ro_len;
	return e->failed || r0;
}

static bool each_supported(uint32_t type)
{
	switch (type) {
	case BPFRT_MAP_ARRAY: case BPFRT_MAP_PERCPU_ARRAY: case BPFRT_MAP_HASH:
	case BPFRT_MAP_PERCPU_HASH: case BPFRT_MAP_LRU_HASH:
	case BPFRT_MAP_LRU_PERCPU_HASH:
		return true;
	default:
		return false;
	}
}

static uint64_t for_each_map_elem(uint64_t r1, uint64_t fn, uint64_t cb_ctx,
				  uint64_t flags, uint64_t r5, struct bpfrt_run *run)
{
	struct bpfrt_map *m = helper_map_arg(run, "for_each_map_elem", r1);
	struct each e = { .run = run, .fn = fn, .cb_ctx = cb_ctx };
	uint8_t small[64] __attribute__((aligned(8)));
	long n;

	(void)r5;
	if (!m)
		return (uint64_t)-EINVAL;
	if (flags)
		return (uint64_t)-EINVAL;
	if (!each_supported(m->type)) {
		/* the kernel's verifier refuses these maps */
		bpfrt_run_fail(run, -ENOTSUP, "bpf_for_each_map_elem: map type %u cannot "
			       "be iterated", m->type);
		return (uint64_t)-ENOTSUP;
	}
	e.key = m->key_size <= sizeof(small) ? small : malloc(m->key_size);
	if (!e.key) {
		bpfrt_run_fail(run, -ENOMEM, "bpf_for_each_map_elem: out of memory");
		return (uint64_t)-ENOMEM;
	}
	n = map_for_each_elem(m, each_elem, &e, 0);
	if (e.key != small)
		free(e.key);
	return (uint64_t)n;
}

const struct helper_def helper_callback_defs[] = {
	{ HELPER_TAIL_CALL, "tail_call", tail_call },
	{ HELPER_FOR_EACH_MAP_ELEM, "for_each_map_elem", for_each_map_elem },
	{ HELPER_LOOP, "loop", loop },
};
const size_t helper_callback_ndefs = sizeof(helper_callback_defs) /
				     sizeof(helper_callback_defs[0]);
