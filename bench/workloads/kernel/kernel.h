/* kernel.h — what the kernel variants of the workloads include: loops the kernel's verifier can bound.
 *
 * A kernel variant is `u64 kwl_NAME(u8 *mem, u64 len, u64 zero)`, called
 * by the stub of bench/kernel.c with mem = an array map's value (at least
 * len bytes), len = a constant the verifier knows, and zero = 0 read from
 * the map, a value the verifier cannot know. It computes what the workload
 * computes, by the same algorithm, with what the verifier needs:
 *
 * - every loop asks can_loop() (the may_goto instruction, which the kernel
 *   counts down; the loop ends early only after millions of iterations,
 *   and the bench checks results against native code; bpfrt, which runs
 *   these variants in its verified column, allows 8,388,608 per call);
 * - loop counters and accumulators start from `zero`, so that from one
 *   iteration to the next the verifier's ranges of them widen instead of
 *   staying constants: a state it has seen then covers the next one and it
 *   stops, instead of walking every iteration up to its 1M-instruction limit;
 * - an index the verifier cannot relate to the bounds it checked is checked
 *   again (opaque() keeps clang from dropping such a check as redundant).
 */
#ifndef BENCH_KERNEL_H
#define BENCH_KERNEL_H

#include "../workload.h"

#define KWORKLOAD(name) u64 kwl_##name(u8 *mem, u64 len, u64 zero)

/* True until the kernel's loop budget for this run is spent. */
static __always_inline int can_loop(void)
{
	asm volatile goto("may_goto %l[spent]" :::: spent);
	return 1;
spent:
	return 0;
}

/* x, which clang may no longer reason about. */
static __always_inline u64 opaque(u64 x)
{
	asm volatile("" : "+r"(x));
	return x;
}

#endif /* BENCH_KERNEL_H */
