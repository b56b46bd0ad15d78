/* memcpy.c — workload: byte-by-byte copy of a buffer. */
#include "workload.h"

/* Input: u64 n, then n source bytes, then n destination bytes (1 MiB each). */
WORKLOAD(memcpy)
{
	u64 n;

	if (len < 8)
		return 0;
	n = load64(mem);
	if (n > (len - 8) / 2 || n > (1 << 20))
		return 0;
	u8 *src = mem + 8, *dst = mem + 8 + n;
	for (u64 i = 0; i < n; i++)
		dst[i] = src[i];
	return n ^ dst[n - 1];
}
