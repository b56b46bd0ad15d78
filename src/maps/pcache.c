/* pcache.c — per-CPU caches of free pool entries, changed by restartable sequences (no locked instruction). */
#define _GNU_SOURCE
#include <sched.h>
#include <stddef.h>

#include "maps/pcache.h"

/*
 * A cache is one word per CPU in the block (a cache line each): the count of
 * entries it holds in the high half, the first entry + 1 in the low half,
 * the rest linked like the free list (pool_link). Only a thread running on
 * that CPU changes it, inside a restartable sequence (Linux rseq, which
 * glibc registers for every thread): the sequence checks it is on the CPU
 * and commits with its last instruction, a plain store of the word; if the
 * thread is preempted, migrated or signalled before that, the kernel sends
 * it to the abort path and nothing was changed. So no process, dead or
 * alive, ever leaves a cache half changed, and threads of any process
 * exclude each other on a CPU without a lock prefix.
 *
 * A thread on another CPU cannot take entries out of a cache; when the
 * pool is empty, pcache_steal moves the thread onto each CPU that holds
 * some and takes one there, so the map still fills to max_entries exactly.
 * Where rseq is missing (old kernels, glibc.pthread.rseq=0, valgrind) every
 * call says so and the maps use their lock-free free lists alone.
 */

#ifdef HAVE_RSEQ

bool pcache_steal(struct pcache *c, uint32_t n, const struct pool *p, uint32_t *i)
{
	cpu_set_t old, one;
	bool got = false;

	if (pcache_cpu() < 0 || !pcache_held(c, n) || sched_getaffinity(0, sizeof(old), &old))
		return false;	/* a full map costs no system call */
	for (uint32_t cpu = 0; cpu < n && cpu < CPU_SETSIZE && !got; cpu++) {
		if (!(atomic_load_explicit(&c[cpu].word, memory_order_relaxed) >> 32))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			continue;	/* not a CPU this thread may use */
		got = pcache_pop(c, n, p, i);
	}
	sched_setaffinity(0, sizeof(old), &old);
	return got;
}

#else

bool pcache_steal(struct pcache *c, uint32_t n, const struct pool *p, uint32_t *i)
{
	(void)c; (void)n; (void)p; (void)i;
	return false;
}

#endif

uint32_t pcache_held(const struct pcache *c, uint32_t n)
{
	uint64_t sum = 0;

	for (uint32_t cpu = 0; cpu < n; cpu++)
		sum += atomic_load_explicit(&c[cpu].word, memory_order_relaxed) >> 32;
	return (uint32_t)sum;
}
