/* time.c — the clock helpers: ktime_get_{,boot_,coarse_,tai_}ns and jiffies64. */
#include <time.h>

#include "helpers.h"

/*
 * The kernel's clocks are the same clocks user space reads through
 * clock_gettime: CLOCK_MONOTONIC (ktime_get_ns), CLOCK_BOOTTIME,
 * CLOCK_MONOTONIC_COARSE and CLOCK_TAI. jiffies64 has no user-space
 * counterpart; bpfrt counts CLOCK_MONOTONIC in ticks of 1/HELPER_HZ s.
 */
#define HELPER_HZ 1000u

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	if (clock_gettime(c, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

HELPER_DEF(ktime_get_ns)
{
	return clock_ns(CLOCK_MONOTONIC);
}

HELPER_DEF(ktime_get_boot_ns)
{
	return clock_ns(CLOCK_BOOTTIME);
}

HELPER_DEF(ktime_get_coarse_ns)
{
	return clock_ns(CLOCK_MONOTONIC_COARSE);
}

HELPER_DEF(ktime_get_tai_ns)
{
	return clock_ns(CLOCK_TAI);
}

HELPER_DEF(jiffies64)
{
	return clock_ns(CLOCK_MONOTONIC) / (1000000000u / HELPER_HZ);
}

const struct helper_def helper_time_defs[] = {
	{ HELPER_KTIME_GET_NS, "ktime_get_ns", ktime_get_ns },
	{ HELPER_KTIME_GET_BOOT_NS, "ktime_get_boot_ns", ktime_get_boot_ns },
	{ HELPER_KTIME_GET_COARSE_NS, "ktime_get_coarse_ns", ktime_get_coarse_ns },
	{ HELPER_KTIME_GET_TAI_NS, "ktime_get_tai_ns", ktime_get_tai_ns },
	{ HELPER_JIFFIES64, "jiffies64", jiffies64 },
};
const size_t helper_time_ndefs = HELPER_NDEFS(helper_time_defs);
