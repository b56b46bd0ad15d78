/* switch_interp.h — a plain switch interpreter: the baseline bpfrt's interpreter is measured against. */
#ifndef BENCH_SWITCH_INTERP_H
#define BENCH_SWITCH_INTERP_H

#include <stddef.h>
#include <stdint.h>

#include "bpfrt.h"

/*
 * Run insns (already validated, not verified) with r1 = ctx, r2 = ctx_len,
 * the way a classic interpreter such as uBPF's does: fetch the raw
 * instruction, switch on its opcode byte, decode its fields, every step.
 * Memory accesses are not bounds-checked. Helper calls, packet loads and
 * unresolved lddw are not supported. Returns 0 with r0 in *ret, or
 * -ENOTSUP / -EINVAL (unknown opcode) / -E2BIG (call depth).
 */
int switch_interp_run(const struct bpfrt_insn *insns, void *ctx, size_t ctx_len,
		      uint64_t *ret);

#endif /* BENCH_SWITCH_INTERP_H */
