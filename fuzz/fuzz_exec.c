/* fuzz_exec.c — libFuzzer target: arbitrary bytecode through validation, the disassembler
 * and the checked interpreter, which must contain every access the program makes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"
#include "fuzz_helper.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpfrt_insn *insns;
	struct bpfrt_prog *prog;
	struct bpfrt_error err;
	uint8_t ctx[64], pkt[32], ro[16];
	size_t n = size / sizeof(*insns);
	char buf[128];

	if (n == 0)
		return 0;
	insns = malloc(n * sizeof(*insns));
	memcpy(insns, data, n * sizeof(*insns));
	for (size_t i = 0; i < n; i++)
		bpfrt_disasm_insn(insns, n, i, buf, sizeof(buf));
	if (bpfrt_prog_new(insns, n, NULL, &prog, &err) == 0) {
		struct bpfrt_region region = { ro, sizeof(ro), false };
		BPFRT_OPTS(bpfrt_run_opts, opts, .checked = true, .ctx = ctx,
			   .ctx_len = sizeof(ctx), .regions = &region, .nregions = 1,
			   .pkt = pkt, .pkt_len = sizeof(pkt), .budget = 20000);

		memset(ctx, 0x5a, sizeof(ctx));
		memset(pkt, 0xa5, sizeof(pkt));
		memset(ro, 0x11, sizeof(ro));
		bpfrt_prog_set_helper(prog, 1, "peek", peek_helper);
		if (bpfrt_prog_run(prog, &opts, &err) != 0 && err.msg[0] == '\0')
			abort();
		for (size_t i = 0; i < sizeof(ro); i++)
			if (ro[i] != 0x11)
				abort();	/* a read-only region was written */
		bpfrt_prog_free(prog);
	} else if (err.msg[0] == '\0') {
		abort();
	}
	free(insns);
	return 0;
}
