/* fuzz_verifier.c — libFuzzer target: programs built from the input; what the verifier accepts
 * must run in the checked interpreter and JIT without a fault (a fault is a verifier bug). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"
#include "verifier_gen.h"

static struct bpfrt_map *map;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpfrt_insn insns[MAXN];
	struct bpfrt_prog *prog;
	struct bpfrt_error err;
	size_t n = build(data, size, insns);

	if (!map) {
		BPFRT_OPTS(bpfrt_map_opts, mo, .type = BPFRT_MAP_ARRAY, .key_size = 4,
			   .value_size = 16, .max_entries = 1);
		if (bpfrt_map_create(&mo, &map, &err))
			abort();
	}
	BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &map, .nmaps = 1);
	if (bpfrt_prog_new(insns, n, &po, &prog, &err))
		return 0;
	BPFRT_OPTS(bpfrt_verify_opts, vo, .type = BPFRT_PROG_UNSPEC, .ctx_size = CTX_SIZE);
	int v = bpfrt_prog_verify(prog, &vo, &err);
	if (v == 0) {
		bpfrt_prog_use_builtin_helpers(prog);
		for (int engine = 0; engine < 2; engine++) {
			uint8_t ctx[CTX_SIZE];
			memset(ctx, 0x5a, sizeof(ctx));
			BPFRT_OPTS(bpfrt_run_opts, ro, .engine = (enum bpfrt_engine)engine,
				   .checked = true, .ctx = ctx, .ctx_len = sizeof(ctx),
				   .budget = 4000000);
			if (bpfrt_prog_run(prog, &ro, &err)) {
				/* what the engines do not support (yet) is not the verifier's bug */
				if (strstr(err.msg, "not resolved") || strstr(err.msg, "not available"))
					break;
				fprintf(stderr, "verifier bug: accepted, but engine %d: %s\n", engine,
					err.msg);
				for (size_t i = 0; i < n; i++) {
					char buf[128];
					bpfrt_disasm_insn(insns, n, i, buf, sizeof(buf));
					fprintf(stderr, "%3zu: %s\n", i, buf);
				}
				abort();
			}
		}
	} else if (!err.msg[0]) {
		abort();	/* a rejection must say why */
	}
	bpfrt_prog_free(prog);
	return 0;
}
