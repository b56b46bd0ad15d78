/* error.c — filling struct bpfrt_error. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

int err_set(struct bpfrt_error *err, int code, int insn, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	err->insn = insn;
	err->line = -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void err_clear(struct bpfrt_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->insn = -1;
	err->line = -1;
	err->msg[0] = '\0';
}
