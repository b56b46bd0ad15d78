/* error.h — the one error convention: a negative errno plus a message for a person. */
#ifndef BPFRT_ERROR_H
#define BPFRT_ERROR_H

#include "bpfrt.h"

/*
 * Fill err (if not NULL) and return code, which must be a negative errno:
 *	return err_set(err, -EINVAL, idx, "jump to %d is out of range", t);
 * insn is the instruction index the message concerns, or -1.
 */
int err_set(struct bpfrt_error *err, int code, int insn, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Reset err to "no error". */
void err_clear(struct bpfrt_error *err);

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* BPFRT_ERROR_H */
