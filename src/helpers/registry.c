/* registry.c — argument checks for built-in helpers, and giving them to programs. */
#include <errno.h>

#include "exec/prog.h"
#include "helpers.h"
#include "maps/map.h"

bool helper_mem_ok(struct bpfrt_run *run, const char *helper, unsigned arg,
		   uint64_t p, size_t len, bool write)
{
	if (!run->checked || !len || run_mem_ok(run, (uintptr_t)p, len, write))
		return true;
	bpfrt_run_fail(run, -EFAULT, "bpf_%s: argument %u (%#llx, %zu bytes to %s) "
		       "is not memory the program may %s", helper, arg,
		       (unsigned long long)p, len, write ? "write" : "read",
		       write ? "write" : "read");
	return false;
}

bool helper_ctx_ok(struct bpfrt_run *run, const char *helper, uint64_t r, const void *ctx)
{
	if (!run->checked || r == (uintptr_t)ctx)
		return true;
	bpfrt_run_fail(run, -EINVAL, "bpf_%s: argument 1 (%#llx) is not the program's ctx",
		       helper, (unsigned long long)r);
	return false;
}

struct bpfrt_map *helper_map_argn(struct bpfrt_run *run, const char *helper, unsigned arg,
				  uint64_t r)
{
	const struct bpfrt_prog *prog = run->prog;

	if (!run->checked)
		return (struct bpfrt_map *)(uintptr_t)r;
	for (size_t i = 0; i < prog->nmaps; i++)
		if ((uintptr_t)prog->maps[i] == r)
			return prog->maps[i];
	bpfrt_run_fail(run, -EINVAL, "bpf_%s: argument %u (%#llx) is not one of the "
		       "program's maps", helper, arg, (unsigned long long)r);
	return NULL;
}

struct bpfrt_map *helper_map_arg(struct bpfrt_run *run, const char *helper, uint64_t r1)
{
	return helper_map_argn(run, helper, 1, r1);
}

long helper_str_arg(struct bpfrt_run *run, const char *helper, unsigned arg,
		    uint64_t p, size_t max)
{
	const char *s = (const char *)(uintptr_t)p;

	for (size_t i = 0; i < max; i++) {
		if (run->checked && !run_mem_ok(run, (uintptr_t)p + i, 1, false)) {
			bpfrt_run_fail(run, -EFAULT, "bpf_%s: argument %u (%#llx) is a string "
				       "that runs out of memory the program may read after "
				       "%zu bytes", helper, arg, (unsigned long long)p, i);
			return -1;
		}
		if (!s[i])
			return (long)i;
	}
	bpfrt_run_fail(run, -EINVAL, "bpf_%s: argument %u (%#llx) has no NUL within "
		       "%zu bytes", helper, arg, (unsigned long long)p, max);
	return -1;
}

/* Every family's table; a family is one file of src/helpers/. */
static const struct {
	const struct helper_def *defs;
	const size_t *n;
} tables[] = {
	{ helper_map_defs, &helper_map_ndefs },
	{ helper_time_defs, &helper_time_ndefs },
	{ helper_misc_defs, &helper_misc_ndefs },
	{ helper_task_defs, &helper_task_ndefs },
	{ helper_probe_defs, &helper_probe_ndefs },
	{ helper_trace_defs, &helper_trace_ndefs },
	{ helper_ring_defs, &helper_ring_ndefs },
	{ helper_lock_defs, &helper_lock_ndefs },
	{ helper_stack_defs, &helper_stack_ndefs },
	{ helper_callback_defs, &helper_callback_ndefs },
	{ helper_xdp_defs, &helper_xdp_ndefs },
	{ helper_skb_defs, &helper_skb_ndefs },
};

BPFRT_API int bpfrt_prog_use_builtin_helpers(struct bpfrt_prog *prog)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (size_t i = 0; i < *tables[t].n; i++) {
			const struct helper_def *h = &tables[t].defs[i];
			int ret = bpfrt_prog_set_helper(prog, h->id, h->name, h->fn);

			if (ret)
				return ret;
		}
	}
	return 0;
}
