/* strcmp.c — workload: byte compare of two NUL-terminated strings. */
#include "workload.h"

/*
 * Input: u64 offset of b; string a at 8, string b at that offset (1 MiB and
 * a NUL each). Returns the common length, or where and how they differ.
 */
WORKLOAD(strcmp)
{
	u64 boff, max;

	if (len < 16)
		return 0;
	boff = load64(mem);
	if (boff < 8 || boff >= len)
		return 0;
	const u8 *a = mem + 8, *b = mem + boff;
	max = len - boff < boff - 8 ? len - boff : boff - 8;
	for (u64 i = 0; i < max; i++)
		if (a[i] != b[i] || a[i] == 0)
			return (i << 8) ^ (u64)(s64)((s32)a[i] - (s32)b[i]);
	return max;
}
