/* lock.c — bpf_spin_lock / bpf_spin_unlock on a word of map memory, across threads and processes. */
#include <errno.h>

#include "exec/prog.h"
#include "helpers.h"
#include "maps/sync.h"

/*
 * struct bpf_spin_lock is one 32-bit word in a map value. bpfrt locks it
 * as its maps' own locks (sync.h): 0 free, else the holder's pid; waiters
 * spin, then yield, and take over the lock of a process that died. So the
 * lock works between threads and between processes sharing the map. In
 * checked runs the lock must be 4 writable, 4-aligned bytes. Like the
 * kernel, bpfrt trusts the verifier to pair every lock with an unlock.
 */
static bool lock_arg(struct bpfrt_run *run, const char *helper, uint64_t p)
{
	if (!helper_mem_ok(run, helper, 1, p, 4, true))
		return false;
	if (run->checked && (p & 3)) {
		bpfrt_run_fail(run, -EINVAL, "bpf_%s: argument 1 (%#llx) is not 4-byte aligned",
			       helper, (unsigned long long)p);
		return false;
	}
	return true;
}

HELPER_DEF(spin_lock)
{
	if (lock_arg(run, "spin_lock", r1))
		plock_lock((plock_t *)(uintptr_t)r1);
	return 0;
}

HELPER_DEF(spin_unlock)
{
	if (lock_arg(run, "spin_unlock", r1))
		plock_unlock((plock_t *)(uintptr_t)r1);
	return 0;
}

const struct helper_def helper_lock_defs[] = {
	{ HELPER_SPIN_LOCK, "spin_lock", spin_lock },
	{ HELPER_SPIN_UNLOCK, "spin_unlock", spin_unlock },
};
const size_t helper_lock_ndefs = HELPER_NDEFS(helper_lock_defs);
