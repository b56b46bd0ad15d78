/* hook.c — running a program inside a hook: its ctx as regions, low memory for packets. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "exec/prog.h"
#include "hooks/hooks.h"
#include "util/error.h"

/* The hook run this thread is inside, for the helpers the program calls. */
static __thread struct hook_run *hook_current;

struct hook_run *hook_of(const struct bpfrt_run *run)
{
	struct hook_run *h = hook_current;

	return h && run->opts == &h->ro ? h : NULL;
}

/*
 * In checked runs ctx is not given to the engine as ctx (which it would
 * let the program write anywhere in) but as regions: first the writable
 * field ranges, then the whole ctx read-only. run_mem_ok takes the first
 * region that contains an access, so a write that is not entirely inside
 * a writable field fails, as the kernel's verifier would refuse it. r2 is
 * 0 either way (the kernel leaves it unset). Writable contexts (UNSPEC's
 * data, SYSCALL's) are plain ctx: r2 is then their size.
 */
int hook_exec(struct bpfrt_prog *prog, struct hook_run *h, struct bpfrt_error *err)
{
	struct hook_run *prev = hook_current;
	int ret;

	h->ro.sz = sizeof(h->ro);
	h->ro.ctx = h->ctx;
	h->ro.ctx_len = h->ctx_inline ? h->ctx_size : 0;
	h->regions[HR_CTX] = (struct bpfrt_region){ h->ctx, h->ctx_size, false };
	h->ro.regions = h->regions;
	h->ro.nregions = HR_N;
	hook_current = h;
	ret = bpfrt_prog_run(prog, &h->ro, err);
	hook_current = prev;
	return ret;
}

void *hook_lowmem_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if ((uintptr_t)p + len > (1ull << 32)) {	/* cannot happen with MAP_32BIT */
		munmap(p, len);
		return NULL;
	}
	return p;
}

void hook_lowmem_free(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}
