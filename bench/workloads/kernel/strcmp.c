/* strcmp.c — kernel variant of workloads/strcmp.c: the same byte compare, bounded for the verifier.
 *
 * The kernel rejects workloads/strcmp.c: "R8 max value is outside of the
 * allowed memory range" (it loses the bound i < max).
 */
#include "kernel.h"

/*
 * Input: u64 offset of b; string a at 8, string b at that offset. The
 * verifier does not carry i < max over to the bounds of a's and b's
 * indexes (it forgets max's range from one iteration to the next), so both
 * are checked against len as well: two more compares per byte than the
 * original, never taken. Addresses come from the index each time (opaque),
 * not from pointers clang would step, whose offsets the verifier would see
 * grow.
 */
KWORKLOAD(strcmp)
{
	u64 boff, max, i;

	if (len < 16)
		return 0;
	boff = load64(mem);
	if (boff < 8 || boff >= len)
		return 0;
	const u8 *a = mem + 8;
	max = len - boff < boff - 8 ? len - boff : boff - 8;
	for (i = zero; i < max && can_loop(); i++) {
		u64 k = opaque(i), j = opaque(boff + k);

		if (k >= len - 8 || j >= len)
			break;
		if (a[k] != mem[j] || a[k] == 0)
			return (i << 8) ^ (u64)(s64)((s32)a[k] - (s32)mem[j]);
	}
	return i;
}
