/* switch.c — kernel variant of workloads/switch.c: the same 64-case switch, bounded for the verifier.
 *
 * The kernel rejects workloads/switch.c: "The sequence of 8193 jumps is too
 * complex" (it walks the 4096 iterations, each through the compare tree).
 */
#include "kernel.h"
#include "../switch_step.h"

/*
 * Input: s32 values[len / 4] (4096 of them, mostly 0..63). The address is
 * computed from the bounded index each time (opaque), not by a pointer clang
 * would step by 4, whose offset the verifier would see grow without end.
 */
KWORKLOAD(switch)
{
	u32 acc = (u32)zero;
	u64 n = len / 4;

	for (u64 i = zero; i < n && i < 65536 && can_loop(); i++)
		acc = (acc << 1 | acc >> 31) ^ step(load_s32(mem + 4 * opaque(i)));
	return acc;
}
