/* ring.c — ringbuf_output/reserve/submit/discard/query and perf_event_output. */
#include <errno.h>

#include "exec/prog.h"
#include "helpers.h"
#include "maps/map.h"

/* (map, data, size, flags): 0, -EAGAIN when full, -EINVAL for bad flags. */
HELPER_DEF(ringbuf_output)
{
	struct bpfrt_map *m = helper_map_arg(run, "ringbuf_output", r1);

	if (!m || !helper_mem_ok(run, "ringbuf_output", 2, r2, r3, false))
		return HELPER_ERR(-EFAULT);
	if (m->type != BPFRT_MAP_RINGBUF)
		return HELPER_ERR(-EINVAL);
	return HELPER_ERR(map_ringbuf_output(m, (const void *)(uintptr_t)r2, r3, r4));
}

/* (map, size, flags): the record, writable until submitted or discarded; NULL when full. */
HELPER_DEF(ringbuf_reserve)
{
	struct bpfrt_map *m = helper_map_arg(run, "ringbuf_reserve", r1);

	if (!m || m->type != BPFRT_MAP_RINGBUF)
		return 0;
	return (uintptr_t)map_ringbuf_reserve(m, r2, r3);
}

/*
 * In checked runs, submit and discard accept only a record that is still
 * reserved in one of the program's ring buffers: anything else fails the
 * run (unchecked runs trust the verifier, as the kernel does).
 */
static bool reserved_record(struct bpfrt_run *run, const char *helper, uint64_t data)
{
	const struct bpfrt_prog *prog = run->prog;

	if (!run->checked)
		return true;
	for (size_t i = 0; i < prog->nmaps; i++) {
		struct bpfrt_map *m = prog->maps[i];
		uintptr_t rec = (uintptr_t)data - RING_HDR, area = (uintptr_t)m->area;
		uint32_t hdr[2];

		if (m->type != BPFRT_MAP_RINGBUF || data < RING_HDR || rec < area ||
		    rec - area >= m->max_entries || (rec - area) % 8)
			continue;
		__builtin_memcpy(hdr, (const void *)rec, sizeof(hdr));
		if ((hdr[0] & RING_BUSY) && (uint64_t)hdr[1] * 8 == rec - (uintptr_t)m->base)
			return true;
	}
	bpfrt_run_fail(run, -EINVAL, "bpf_%s: argument 1 (%#llx) is not a record reserved "
		       "with bpf_ringbuf_reserve and not yet submitted or discarded", helper,
		       (unsigned long long)data);
	return false;
}

HELPER_DEF(ringbuf_submit)
{
	if (reserved_record(run, "ringbuf_submit", r1))
		map_ringbuf_submit((void *)(uintptr_t)r1, r2);
	return 0;
}

HELPER_DEF(ringbuf_discard)
{
	if (reserved_record(run, "ringbuf_discard", r1))
		map_ringbuf_discard((void *)(uintptr_t)r1, r2);
	return 0;
}

/* (map, flags): BPF_RB_AVAIL_DATA, RING_SIZE, CONS_POS, PROD_POS; 0 otherwise. */
HELPER_DEF(ringbuf_query)
{
	struct bpfrt_map *m = helper_map_arg(run, "ringbuf_query", r1);

	return m ? map_ringbuf_query(m, r2) : 0;
}

/* (ctx, map, flags, data, size): flags are the slot (BPF_F_CURRENT_CPU: this thread's). */
HELPER_DEF(perf_event_output)
{
	struct bpfrt_map *m = helper_map_argn(run, "perf_event_output", 2, r2);

	if (!m || !helper_mem_ok(run, "perf_event_output", 4, r4, r5, false))
		return HELPER_ERR(-EFAULT);
	return HELPER_ERR(map_perf_event_output(m, r3, (const void *)(uintptr_t)r4, r5));
}

const struct helper_def helper_ring_defs[] = {
	{ HELPER_RINGBUF_OUTPUT, "ringbuf_output", ringbuf_output },
	{ HELPER_RINGBUF_RESERVE, "ringbuf_reserve", ringbuf_reserve },
	{ HELPER_RINGBUF_SUBMIT, "ringbuf_submit", ringbuf_submit },
	{ HELPER_RINGBUF_DISCARD, "ringbuf_discard", ringbuf_discard },
	{ HELPER_RINGBUF_QUERY, "ringbuf_query", ringbuf_query },
	{ HELPER_PERF_EVENT_OUTPUT, "perf_event_output", perf_event_output },
};
const size_t helper_ring_ndefs = HELPER_NDEFS(helper_ring_defs);
