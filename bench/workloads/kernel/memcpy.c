/* memcpy.c — kernel variant of workloads/memcpy.c: the same byte-by-byte copy, bounded for the verifier.
 *
 * The kernel rejects workloads/memcpy.c: "BPF program is too large. Processed
 * 1000001 insn" (it walks the 1 MiB loop iteration by iteration).
 */
#include "kernel.h"

/* Input: u64 n, then n source bytes, then n destination bytes. */
KWORKLOAD(memcpy)
{
	u64 n;

	if (len < 8)
		return 0;
	n = load64(mem);
	if (n > (len - 8) / 2 || n > (1 << 20))
		return 0;
	u8 *src = mem + 8, *dst = mem + 8 + n;
	for (u64 i = zero; i < n && can_loop(); i++)
		dst[i] = src[i];
	return n ^ dst[n - 1];
}
