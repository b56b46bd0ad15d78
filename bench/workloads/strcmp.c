/* strcmp.c — workload: byte compare of two NUL-terminated strings. */
#include "workload.h"

/* Input: u64 offset of b; string a at 8, string b at the offset (both 64 KiB+). */
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
	u64 i = 0;
	for (; i < max && i < (1 << 20); i++)
		if (a[i] != b[i] || a[i] == 0)
			break;
	if (i == max)
		return i;
	return (i << 8) ^ (u64)(s64)((s32)a[i] - (s32)b[i]);
}
