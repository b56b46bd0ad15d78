/* gate.c — what may run without runtime checks: programs the verifier accepted, and only those. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The program's index in obj, for source lines in the verifier's messages. */
static size_t prog_index(const struct bpfrt_obj *obj, const struct bpfrt_prog *prog)
{
	for (size_t i = 0; obj && i < bpfrt_obj_prog_count(obj); i++)
		if (bpfrt_obj_prog_at(obj, i, NULL) == prog)
			return i;
	return 0;
}

int cli_gate(const struct bpfrt_obj *obj, const struct bpfrt_prog *prog,
	     enum bpfrt_prog_type type, uint32_t ctx_size, bool want_checked,
	     bool *checked, const char *what)
{
	BPFRT_OPTS(bpfrt_verify_opts, v, .type = type, .obj = obj,
		   .prog_index = prog_index(obj, prog), .ctx_size = ctx_size);
	struct bpfrt_error err;

	if (want_checked) {	/* the user asked: run it as it is, every access checked */
		*checked = true;
		return 0;
	}
	if (bpfrt_prog_verify(prog, &v, &err)) {
		cli_err("%s: the verifier rejected the program: %s", what, err.msg);
		fprintf(stderr, "bpfrt: to run it anyway, with every memory access checked at "
			"run time, add 'checked'\n");
		return 1;
	}
	*checked = false;
	return 0;
}
