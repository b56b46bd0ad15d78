/* misc.c — random numbers, CPU and NUMA ids, signals, perf counters, csum_diff, strncmp. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec/prog.h"
#include "helpers.h"
#include "maps/map.h"
#include "maps/sync.h"

/* ---- get_prandom_u32: a per-thread xoshiro128++, seeded by getrandom ---- */

static __thread uint32_t rng[4];

static void rng_seed(void)
{
	static _Atomic uint64_t fallback = 0x9e3779b97f4a7c15ull;

	if (getrandom(rng, sizeof(rng), GRND_NONBLOCK) != sizeof(rng)) {
		uint64_t z = atomic_fetch_add(&fallback, 0x9e3779b97f4a7c15ull) ^
			     (uint64_t)(uintptr_t)&rng;
		rng[0] = (uint32_t)z;
		rng[1] = (uint32_t)(z >> 32);
		rng[2] = 0x6a09e667u;
		rng[3] = 0xbb67ae85u;
	}
	if (!(rng[0] | rng[1] | rng[2] | rng[3]))
		rng[0] = 1;
}

static inline uint32_t rotl32(uint32_t x, int k)
{
	return x << k | x >> (32 - k);
}

HELPER_DEF(get_prandom_u32)
{
	uint32_t r, t;

	if (__builtin_expect(!(rng[0] | rng[1] | rng[2] | rng[3]), 0))
		rng_seed();
	r = rotl32(rng[0] + rng[3], 7) + rng[0];
	t = rng[1] << 9;
	rng[2] ^= rng[0];
	rng[3] ^= rng[1];
	rng[1] ^= rng[2];
	rng[0] ^= rng[3];
	rng[2] ^= t;
	rng[3] = rotl32(rng[3], 11);
	return r;
}

/* ---- CPU, NUMA node, task ------------------------------------------------ */

/* The thread's CPU slot, as a map with the default CPU count sees it (map_this_cpu). */
HELPER_DEF(get_smp_processor_id)
{
	uint32_t s = sync_cpu_slot(), n = sync_ncpus();

	return s < n ? s : s % n;
}

/* The node of the CPU the thread runs on now (getcpu). */
HELPER_DEF(get_numa_node_id)
{
	unsigned cpu = 0, node = 0;

	if (syscall(SYS_getcpu, &cpu, &node, NULL))
		return 0;
	return node;
}

/* There is no task_struct in user space: 0, which probe reads turn into -EFAULT. */
HELPER_DEF(get_current_task)
{
	return 0;
}

/* ---- Signals: to the current process or thread, like the kernel ---------- */

static uint64_t send_signal(uint64_t sig, bool thread)
{
	int ret;

	if (sig > 64)	/* the kernel's valid_signal(): 0.._NSIG */
		return HELPER_ERR(-EINVAL);
	if (thread)
		ret = (int)syscall(SYS_tgkill, getpid(), gettid(), (int)sig);
	else
		ret = kill(getpid(), (int)sig);
	return ret ? HELPER_ERR(-errno) : 0;
}

HELPER_DEF(send_signal_process)
{
	return send_signal((uint32_t)r1, false);
}

HELPER_DEF(send_signal_thread)
{
	return send_signal((uint32_t)r1, true);
}

/* ---- Perf counters: bpfrt's perf event arrays hold rings, never counters -- */

/* The kernel's checks: flags, index range, an empty slot; an open slot has no counter. */
static long perf_counter_slot(struct bpfrt_run *run, const char *helper, uint64_t r1,
			      uint64_t flags)
{
	struct bpfrt_map *m = helper_map_arg(run, helper, r1);
	uint64_t idx = flags & MAP_F_INDEX_MASK;

	if (!m)
		return -EINVAL;
	if (m->type != BPFRT_MAP_PERF_EVENT_ARRAY || (flags & ~MAP_F_INDEX_MASK))
		return -EINVAL;
	if (idx == MAP_F_CURRENT_CPU)
		idx = map_this_cpu(m);
	if (idx >= m->max_entries)
		return -E2BIG;
	return map_perf_slot_open(m, (uint32_t)idx) ? -EINVAL : -ENOENT;
}

HELPER_DEF(perf_event_read)
{
	return HELPER_ERR(perf_counter_slot(run, "perf_event_read", r1, r2));
}

#define PERF_VALUE_SIZE 24u	/* struct bpf_perf_event_value: counter, enabled, running */

/* (map, flags, buf, size): buf is zeroed on every error, as in the kernel. */
HELPER_DEF(perf_event_read_value)
{
	long ret;

	if (!helper_mem_ok(run, "perf_event_read_value", 3, r3, r4, true))
		return HELPER_ERR(-EFAULT);
	ret = r4 != PERF_VALUE_SIZE ? -EINVAL
				    : perf_counter_slot(run, "perf_event_read_value", r1, r2);
	memset((void *)(uintptr_t)r3, 0, r4);	/* every call fails: there are no counters */
	return HELPER_ERR(ret);
}

/* (ctx, buf, size): no perf event is behind a run. */
HELPER_DEF(perf_prog_read_value)
{
	if (!helper_mem_ok(run, "perf_prog_read_value", 2, r2, r3, true))
		return HELPER_ERR(-EFAULT);
	memset((void *)(uintptr_t)r2, 0, r3);
	return HELPER_ERR(-EINVAL);
}

/* ---- csum_diff ----------------------------------------------------------- */

/* One's complement addition of 32-bit words, with end-around carry. */
static uint32_t csum_add32(uint32_t a, uint32_t b)
{
	uint32_t s = a + b;

	return s + (s < b);
}

/*
 * The kernel's csum_partial (x86-64): seed plus the buffer's little-endian
 * words, a short tail zero-padded. Adding 32-bit words with end-around
 * carry gives the same 32-bit value as its 64-bit adds and final fold (the
 * result is 0 only when every input is).
 */
static uint32_t csum_words(const uint8_t *p, uint32_t len, uint32_t seed)
{
	uint32_t s = seed, w, i;

	for (i = 0; i + 4 <= len; i += 4) {
		memcpy(&w, p + i, 4);
		s = csum_add32(s, w);
	}
	if (i < len) {
		w = 0;
		memcpy(&w, p + i, len - i);
		s = csum_add32(s, w);
	}
	return s;
}

/* Fold a 32-bit partial sum into 16 bits, the kernel's from32to16(). */
static uint32_t csum_fold16(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	return (s & 0xffff) + (s >> 16);
}

/*
 * (from, from_size, to, to_size, seed): the checksum of `to` minus that of
 * `from`, added to seed, folded to 16 bits, as Linux 6.18 computes it:
 * any sizes (older kernels wanted multiples of 4 and at most 512 bytes).
 */
HELPER_DEF(csum_diff)
{
	const uint8_t *from = (const uint8_t *)(uintptr_t)r1;
	const uint8_t *to = (const uint8_t *)(uintptr_t)r3;
	uint32_t fs = (uint32_t)r2, ts = (uint32_t)r4, sum = (uint32_t)r5;

	if ((fs && !helper_mem_ok(run, "csum_diff", 1, r1, fs, false)) ||
	    (ts && !helper_mem_ok(run, "csum_diff", 3, r3, ts, false)))
		return HELPER_ERR(-EFAULT);
	if (fs && ts)
		sum = csum_add32(csum_words(to, ts, sum), ~csum_words(from, fs, 0));
	else if (ts)
		sum = csum_words(to, ts, sum);
	else if (fs)
		sum = ~csum_words(from, fs, ~sum);
	return csum_fold16(sum);
}

/* ---- strncmp ------------------------------------------------------------- */

/* (s1, s1_sz, s2): the kernel's strncmp(s1, s2, s1_sz), -1, 0 or 1. */
HELPER_DEF(strncmp_helper)
{
	const unsigned char *a = (const unsigned char *)(uintptr_t)r1;
	const unsigned char *b = (const unsigned char *)(uintptr_t)r3;
	uint32_t n = (uint32_t)r2;

	if (!helper_mem_ok(run, "strncmp", 1, r1, n, false) ||
	    helper_str_arg(run, "strncmp", 3, r3, SIZE_MAX) < 0)
		return HELPER_ERR(-EFAULT);
	for (uint32_t i = 0; i < n; i++) {
		if (a[i] != b[i])
			return a[i] < b[i] ? HELPER_ERR(-1) : 1;
		if (!a[i])
			break;
	}
	return 0;
}

/* ---- map_lookup_percpu_elem ---------------------------------------------- */

HELPER_DEF(map_lookup_percpu)
{
	struct bpfrt_map *m = helper_map_arg(run, "map_lookup_percpu_elem", r1);

	if (!m || !helper_mem_ok(run, "map_lookup_percpu_elem", 2, r2, m->key_size, false))
		return 0;
	return (uintptr_t)map_lookup_percpu_elem(m, (const void *)(uintptr_t)r2, (uint32_t)r3);
}

const struct helper_def helper_misc_defs[] = {
	{ HELPER_GET_PRANDOM_U32, "get_prandom_u32", get_prandom_u32 },
	{ HELPER_GET_SMP_PROCESSOR_ID, "get_smp_processor_id", get_smp_processor_id },
	{ HELPER_GET_NUMA_NODE_ID, "get_numa_node_id", get_numa_node_id },
	{ HELPER_GET_CURRENT_TASK, "get_current_task", get_current_task },
	{ HELPER_SEND_SIGNAL, "send_signal", send_signal_process },
	{ HELPER_SEND_SIGNAL_THREAD, "send_signal_thread", send_signal_thread },
	{ HELPER_PERF_EVENT_READ, "perf_event_read", perf_event_read },
	{ HELPER_PERF_EVENT_READ_VALUE, "perf_event_read_value", perf_event_read_value },
	{ HELPER_PERF_PROG_READ_VALUE, "perf_prog_read_value", perf_prog_read_value },
	{ HELPER_CSUM_DIFF, "csum_diff", csum_diff },
	{ HELPER_STRNCMP, "strncmp", strncmp_helper },
	{ HELPER_MAP_LOOKUP_PERCPU_ELEM, "map_lookup_percpu_elem", map_lookup_percpu },
};
const size_t helper_misc_ndefs = HELPER_NDEFS(helper_misc_defs);
