/* simple.c — workload: return a constant (the cost of one run, nothing else). */
#include "workload.h"

WORKLOAD(simple)
{
	(void)mem;
	(void)len;
	return 42;
}
