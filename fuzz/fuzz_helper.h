/* fuzz_helper.h — the helper the execution fuzzers register: it reads through a pointer argument. */
#ifndef BPFRT_FUZZ_HELPER_H
#define BPFRT_FUZZ_HELPER_H

#include <stdint.h>

#include "bpfrt.h"

/* helper 1: a hash of len (<= 64) bytes at p, which must be the run's memory. */
static uint64_t peek_helper(uint64_t p, uint64_t len, uint64_t r3, uint64_t r4,
			    uint64_t r5, struct bpfrt_run *run)
{
	uint64_t sum = 0;

	(void)r3; (void)r4; (void)r5;
	if (len > 64 || !bpfrt_run_mem_ok(run, (void *)(uintptr_t)p, len, false)) {
		bpfrt_run_fail(run, -14, "bad pointer");
		return 0;
	}
	for (uint64_t i = 0; i < len; i++)
		sum = sum * 31 + ((const uint8_t *)(uintptr_t)p)[i];
	return sum;
}

#endif /* BPFRT_FUZZ_HELPER_H */
