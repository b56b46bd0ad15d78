/* jited.c — prints the JIT's machine code, each piece under the eBPF instruction it came from. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "cli.h"

/* Disassemble code[from, to) with zydis, one line per x86 instruction. */
static void print_native(const uint8_t *code, size_t from, size_t to)
{
	ZydisDisassembledInstruction x;

	while (from < to &&
	       ZYAN_SUCCESS(ZydisDisassembleIntel(ZYDIS_MACHINE_MODE_LONG_64, from,
						  code + from, to - from, &x))) {
		char hex[3 * 15 + 1];
		int h = 0;

		for (unsigned k = 0; k < x.info.length; k++)
			h += snprintf(hex + h, sizeof(hex) - (size_t)h, "%02x ", code[from + k]);
		printf("  %5zx:  %-30s %s\n", from, hex, x.text);
		from += x.info.length;
	}
	if (from < to)
		printf("  %5zx:  (%zu bytes zydis cannot decode)\n", from, to - from);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/*
 * Where the code of a slot at `from` ends: the next offset above it, which
 * is not always the next slot's (blocks that end the program are placed
 * after the others), or `end`.
 */
static size_t code_end(const uint32_t *sorted, size_t n, uint32_t from, size_t end)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {		/* the first sorted[k] > from */
		size_t mid = lo + (hi - lo) / 2;

		if (sorted[mid] <= from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n ? sorted[lo] : end;
}

int cli_print_jited(struct bpfrt_prog *prog, bool checked)
{
	const struct bpfrt_insn *insns = bpfrt_prog_insns(prog);
	size_t n = bpfrt_prog_insn_cnt(prog);
	const uint32_t *off;
	uint32_t *sorted;
	const void *code;
	struct bpfrt_error err;
	size_t len;

	if (bpfrt_prog_jited(prog, checked, &code, &len, &off, &err)) {
		fprintf(stderr, "bpfrt: %s\n", err.msg);
		return 1;
	}
	sorted = malloc((n + 1) * sizeof(*sorted));
	if (!sorted) {
		fprintf(stderr, "bpfrt: out of memory\n");
		return 1;
	}
	memcpy(sorted, off, (n + 1) * sizeof(*sorted));
	qsort(sorted, n + 1, sizeof(*sorted), cmp_u32);
	printf("; %s code, %zu bytes for %zu instructions\n",
	       checked ? "checked" : "unchecked", len, n);
	printf("; entry\n");
	print_native(code, 0, off[0]);
	for (size_t i = 0; i < n;) {
		char text[160];
		int slots = bpfrt_disasm_insn(insns, n, i, text, sizeof(text));
		size_t next = i + (size_t)(slots > 0 ? slots : 1);

		printf("; %zu: (%02x) %s\n", i, insns[i].code, text);
		/* Instructions fused into this one begin where its code ends. */
		if (off[next] != off[i])
			print_native(code, off[i], code_end(sorted, n + 1, off[i], len));
		i = next;
	}
	printf("; out-of-line paths\n");
	print_native(code, off[n], len);
	free(sorted);
	return 0;
}
