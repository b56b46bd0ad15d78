/* prime.c — kernel variant of workloads/prime.c: the same trial division, bounded for the verifier.
 *
 * The kernel rejects workloads/prime.c: "The sequence of 8193 jumps is too
 * complex" (it walks the loops iteration by iteration).
 */
#include "kernel.h"

static __always_inline int is_prime(u64 n, u64 zero)
{
	for (u64 d = 2 + zero; d * d <= n && can_loop(); d++)
		if (n % d == 0)
			return 0;
	return 1;
}

/* Input: u64 limit (10,000). */
KWORKLOAD(prime)
{
	u64 limit, count = zero;

	if (len < 8)
		return 0;
	limit = load64(mem);
	for (u64 n = 2 + zero; n < limit && n < 1000000 && can_loop(); n++)
		count += is_prime(n, zero);
	return count;
}
