/* test_tailcall.c — bpf_tail_call on both engines and modes, against the kernel: chains, misses, the 33 limit, subprograms, budgets, faults. */
#include <errno.h>
#include <string.h>

#include "bpfrt.h"
#include "objrun.h"
#include "t.h"

/* ---- The object, against the kernel ----------------------------------------- */

TEST(tailcall_object)
{
	struct objrun o;

	if (!or_open(&o, "tailcall", NULL))
		return;
	/* result[0] gets 1, 10, 100 from the three programs of the chain */
	or_expect(&o, "chain0", 42, (const uint64_t[]){ 111 }, 1);
	or_expect(&o, "chain2", 42, (const uint64_t[]){ 100 }, 1);
	or_expect(&o, "missing", 7, (const uint64_t[]){ 0, 1 }, 2);
	or_expect(&o, "out_of_range", 8, (const uint64_t[]){ 0, 2 }, 2);
	/* the first run and 33 tail calls */
	or_expect(&o, "self", 34, (const uint64_t[]){ 0, 0, 34 }, 3);
	/* two attempts per run; the one at the empty slot does not count */
	or_expect(&o, "empty_then_self", 34, (const uint64_t[]){ 0, 0, 0, 34 }, 4);
	/* chain2 replaces sub_tail's frame and returns 42 to from_sub */
	or_expect(&o, "from_sub", 45, (const uint64_t[]){ 100, 0, 0, 0, 9, 42, 0 }, 7);
	or_close(&o);
}
