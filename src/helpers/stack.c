/* stack.c — get_stackid and get_stack: the host call stack of the code that ran the program. */
#include <errno.h>
#include <execinfo.h>
#include <string.h>

#include "exec/prog.h"
#include "helpers.h"
#include "maps/map.h"

/*
 * In the kernel these record the stack of the probed code. In bpfrt the
 * code a program runs for is the thread that called bpfrt_prog_run, so the
 * stack is that thread's host call stack, as backtrace() unwinds it (from
 * the unwind tables, so frame pointers are not needed): return addresses,
 * innermost first, starting at the engine's call of the helper, then
 * bpfrt_prog_run, then the application's frames — skip (flags & 0xff)
 * drops that many from the top, as in the kernel. Kernel and user stacks
 * are the same stack here (BPF_F_USER_STACK changes nothing). JIT code has
 * no unwind tables: with the JIT the stack ends at the program's code.
 */
#define STACK_FRAMES (127 + 255 + 2)	/* deepest value plus the largest skip */
#define STACK_OWN    2			/* capture() and the helper */
#define F_USER_BUILD_ID (1u << 11)

static __attribute__((noinline)) int capture(uint64_t *ips, uint32_t skip, uint32_t max)
{
	void *frames[STACK_FRAMES];
	int n = backtrace(frames, STACK_FRAMES);
	uint32_t first = STACK_OWN + skip, k = 0;

	for (int i = (int)first; i < n && k < max; i++)
		ips[k++] = (uintptr_t)frames[i];
	return (int)k;
}

/* (ctx, map, flags): the stack's id in the stack trace map, or an error. */
HELPER_DEF(get_stackid)
{
	struct bpfrt_map *m = helper_map_argn(run, "get_stackid", 2, r2);
	uint64_t ips[127];
	uint64_t flags = r3;
	int n;

	if (!m)
		return HELPER_ERR(-EINVAL);
	if (m->type != BPFRT_MAP_STACK_TRACE ||
	    (flags & ~(uint64_t)(MAP_F_SKIP_FIELD_MASK | MAP_F_USER_STACK |
				 MAP_F_FAST_STACK_CMP | MAP_F_REUSE_STACKID)))
		return HELPER_ERR(-EINVAL);
	n = capture(ips, (uint32_t)(flags & MAP_F_SKIP_FIELD_MASK), m->value_size / 8);
	return HELPER_ERR(map_stack_trace_put(m, ips, (uint32_t)n, flags));
}

/*
 * (ctx, buf, size, flags): the bytes of frames written (the rest zeroed),
 * or an error with buf zeroed.
 */
HELPER_DEF(get_stack)
{
	uint64_t *buf = (uint64_t *)(uintptr_t)r2;
	uint32_t size = (uint32_t)r3;
	uint64_t flags = r4;
	long ret;
	int n;

	if (!helper_mem_ok(run, "get_stack", 2, r2, size, true))
		return HELPER_ERR(-EFAULT);
	if (flags & ~(uint64_t)(MAP_F_SKIP_FIELD_MASK | MAP_F_USER_STACK | F_USER_BUILD_ID) ||
	    size % 8) {
		ret = -EINVAL;
	} else if (flags & F_USER_BUILD_ID) {
		ret = -ENOTSUP;
	} else {
		n = capture(buf, (uint32_t)(flags & MAP_F_SKIP_FIELD_MASK), size / 8);
		ret = n ? n * 8 : -EFAULT;
	}
	if (ret < 0)
		memset(buf, 0, size);
	else
		memset((uint8_t *)buf + ret, 0, size - (size_t)ret);
	return HELPER_ERR(ret);
}

const struct helper_def helper_stack_defs[] = {
	{ HELPER_GET_STACKID, "get_stackid", get_stackid },
	{ HELPER_GET_STACK, "get_stack", get_stack },
};
const size_t helper_stack_ndefs = HELPER_NDEFS(helper_stack_defs);
