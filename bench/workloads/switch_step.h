/* switch_step.h — the 64-case switch of the switch workload, shared with its kernel variant.
 *
 * Every case computes something different from the value, but within a
 * case the value is known, so each result is a constant after all: native
 * clang turns the switch into a lookup table of results. The eBPF build
 * passes -fno-jump-tables and gets a compare tree, which bpfrt's unchecked
 * JIT turns back into a table (src/exec/jit/switch.c).
 */
#ifndef BENCH_SWITCH_STEP_H
#define BENCH_SWITCH_STEP_H

#include "workload.h"

/* Eight cases, each a different kind of operation, with constants from k. */
#define CASES8(k) \
	case 8 * (k) + 0: r = v + 0x9e3779b9u * ((k) + 1); break; \
	case 8 * (k) + 1: r = v ^ (0x85ebca6bu + (k)); break; \
	case 8 * (k) + 2: r = v * (2 * (k) + 3); break; \
	case 8 * (k) + 3: r = (v << ((k) + 1)) | (k); break; \
	case 8 * (k) + 4: r = (v >> ((k) + 1)) ^ (0xc2b2ae35u - (k)); break; \
	case 8 * (k) + 5: r = ~v + (k) * 17; break; \
	case 8 * (k) + 6: r = (v & (0xff00ffu << (k))) - (k); break; \
	case 8 * (k) + 7: r = (v | ((k) + 0x100)) * 5; break;

static __always_inline u32 step(s32 sv)
{
	u32 v = (u32)sv, r;

	switch (sv) {
	CASES8(0) CASES8(1) CASES8(2) CASES8(3)
	CASES8(4) CASES8(5) CASES8(6) CASES8(7)
	default: r = v; break;
	}
	return r;
}

#endif /* BENCH_SWITCH_STEP_H */
