/* registry.c — argument checks for built-in helpers, and giving them to programs. */
#include <errno.h>

#include "exec/prog.h"
#include "helpers.h"
#include "maps/map.h"

bool helper_mem_ok(struct bpfrt_run *run, const char *helper, unsigned arg,
		   uint64_t p, size_t len, bool write)
{
	if (!run->checked || run_mem_ok(run, (uintptr_t)p, len, write))
		return true;
	bpfrt_run_fail(run, -EFAULT, "bpf_%s: argument %u (%#llx, %zu bytes to %s) "
		       "is not memory the program may %s", helper, arg,
		       (unsigned long long)p, len, write ? "write" : "read",
		       write ? "write" : "read");
	return false;
}

struct bpfrt_map *helper_map_arg(struct bpfrt_run *run, const char *helper, uint64_t r1)
{
	const struct bpfrt_prog *prog = run->prog;

	if (!run->checked)
		return (struct bpfrt_map *)(uintptr_t)r1;
	for (size_t i = 0; i < prog->nmaps; i++)
		if ((uintptr_t)prog->maps[i] == r1)
			return prog->maps[i];
	bpfrt_run_fail(run, -EINVAL, "bpf_%s: argument 1 (%#llx) is not one of the "
		       "program's maps", helper, (unsigned long long)r1);
	return NULL;
}

static int set_helpers(struct bpfrt_prog *prog, const struct helper_def *defs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int ret = bpfrt_prog_set_helper(prog, defs[i].id, defs[i].name, defs[i].fn);

		if (ret)
			return ret;
	}
	return 0;
}

BPFRT_API int bpfrt_prog_use_builtin_helpers(struct bpfrt_prog *prog)
{
	int ret = set_helpers(prog, helper_map_defs, helper_map_ndefs);

	if (!ret)
		ret = set_helpers(prog, helper_xdp_defs, helper_xdp_ndefs);
	if (!ret)
		ret = set_helpers(prog, helper_skb_defs, helper_skb_ndefs);
	return ret;
}
