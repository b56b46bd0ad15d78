/* add.c — workload: a + b, two u64 read from the input. */
#include "workload.h"

/* Input: u64 a, u64 b. */
WORKLOAD(add)
{
	if (len < 16)
		return 0;
	return load64(mem) + load64(mem + 8);
}
