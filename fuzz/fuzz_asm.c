/* fuzz_asm.c — libFuzzer target: arbitrary text through the assembler, then validation
 * and the disassembler. Must never crash, hang or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpfrt_insn *insns;
	struct bpfrt_prog *prog;
	struct bpfrt_error err;
	char *text = malloc(size + 1), buf[128];
	size_t n;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (bpfrt_asm(text, &insns, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			bpfrt_disasm_insn(insns, n, i, buf, sizeof(buf));
		if (bpfrt_prog_new(insns, n, NULL, &prog, &err) == 0)
			bpfrt_prog_free(prog);
		free(insns);
	} else if (err.msg[0] == '\0' || err.line < 1) {
		abort();	/* every failure must say where and why */
	}
	free(text);
	return 0;
}
