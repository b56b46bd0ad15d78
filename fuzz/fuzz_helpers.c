/* fuzz_helpers.c — the helpers that parse or read what a program hands them: formats, strings, checksums. */
#include <stdlib.h>
#include <string.h>

#include "exec/prog.h"
#include "helpers/helpers.h"

/*
 * Input: a selector byte, then a format or string (up to its first NUL),
 * then up to 12 u64 arguments. snprintf, trace_vprintk and trace_printk
 * parse the format with those arguments (which %s and %pI4 read as
 * addresses: any value must be safe); strncmp, probe_read_str and csum_diff
 * take the bytes as data. Runs are unchecked, as for a verified program,
 * and the trace sink discards.
 */
static bpfrt_helper_fn find(uint32_t id)
{
	static const struct { const struct helper_def *d; const size_t *n; } t[] = {
		{ helper_trace_defs, &helper_trace_ndefs },
		{ helper_misc_defs, &helper_misc_ndefs },
		{ helper_probe_defs, &helper_probe_ndefs },
	};

	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++)
		for (size_t i = 0; i < *t[k].n; i++)
			if (t[k].d[i].id == id)
				return t[k].d[i].fn;
	abort();
}

static void discard(void *ctx, const char *line, size_t len)
{
	(void)ctx; (void)line; (void)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpfrt_run_opts opts = { .sz = sizeof(opts) };
	struct bpfrt_run run = { .opts = &opts, .checked = false };
	char text[1024], out[256];
	uint64_t args[12] = { 0 };
	size_t len, nargs;
	uint8_t sel;

	if (size < 1)
		return 0;
	sel = data[0];
	data++, size--;
	len = strnlen((const char *)data, size < sizeof(text) - 1 ? size : sizeof(text) - 1);
	memcpy(text, data, len);
	text[len] = '\0';
	data += len + (len < size), size -= len + (len < size);
	nargs = size / 8 > 12 ? 12 : size / 8;
	memcpy(args, data, nargs * 8);
	bpfrt_trace_set_sink(discard, NULL);
	switch (sel % 6) {
	case 0:
		find(HELPER_SNPRINTF)((uintptr_t)out, sel & 0x80 ? sizeof(out) : sel % 16,
				      (uintptr_t)text, (uintptr_t)args, nargs * 8, &run);
		break;
	case 1:
		find(HELPER_TRACE_VPRINTK)((uintptr_t)text, len + 1, (uintptr_t)args, nargs * 8, 0,
					   &run);
		break;
	case 2:
		find(HELPER_TRACE_PRINTK)((uintptr_t)text, len + 1, args[0], args[1], args[2], &run);
		break;
	case 3:
		find(HELPER_STRNCMP)((uintptr_t)text, len + 1, (uintptr_t)(text + len / 2), 0, 0,
				     &run);
		break;
	case 4:	/* from our buffer, and from an address taken from the input */
		find(HELPER_PROBE_READ_USER_STR)((uintptr_t)out, sel % 64 + 1, (uintptr_t)text, 0, 0,
						 &run);
		find(HELPER_PROBE_READ_KERNEL_STR)((uintptr_t)out, sizeof(out), args[0], 0, 0, &run);
		break;
	case 5:
		find(HELPER_CSUM_DIFF)((uintptr_t)text, len / 2, (uintptr_t)(text + len / 2),
				       len - len / 2, args[0], &run);
		break;
	}
	return 0;
}
