/* prime.c — workload: count the primes below a limit by trial division. */
#include "workload.h"

static __always_inline int is_prime(u64 n)
{
	for (u64 d = 2; d * d <= n; d++)
		if (n % d == 0)
			return 0;
	return 1;
}

/* Input: u64 limit (10,000). */
WORKLOAD(prime)
{
	u64 limit, count = 0;

	if (len < 8)
		return 0;
	limit = load64(mem);
	for (u64 n = 2; n < limit && n < 1000000; n++)
		count += is_prime(n);
	return count;
}
