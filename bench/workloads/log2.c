/* log2.c — workload: XOR of a branchy integer log2 over an array of u64. */
#include "workload.h"

/* floor(log2(v)) by halving, one branch per step; 0 for v == 0. */
static __always_inline u64 ilog2(u64 v)
{
	u64 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

/* Input: u64 values[len / 8] (1024 of them). */
WORKLOAD(log2)
{
	u64 acc = 0, n = len / 8;

	for (u64 i = 0; i < n && i < 65536; i++)
		acc ^= ilog2(load64(mem + 8 * i)) << (i & 7);
	return acc;
}
