/* switch.c — workload: a 64-case switch over an array of int32, results XORed. */
#include "switch_step.h"

/* Input: s32 values[len / 4] (4096 of them, mostly 0..63). */
WORKLOAD(switch)
{
	u32 acc = 0;
	u64 n = len / 4;

	for (u64 i = 0; i < n && i < 65536; i++)
		acc = (acc << 1 | acc >> 31) ^ step(load_s32(mem + 4 * i));
	return acc;
}
