/* test_run.c — bpfrt_prog_test_run: BPF_PROG_TEST_RUN's checks and copies, per program type. */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <asm/ptrace.h>

#include "exec/prog.h"
#include "hooks/hooks.h"
#include "util/error.h"

/* ---- What every type shares (the kernel's bpf_ctx_init and friends) ---- */

int test_ctx_init(const struct bpfrt_test_run_opts *o, size_t max, void **ctx,
		  struct bpfrt_error *err)
{
	const uint8_t *in = o->ctx_in;
	size_t n = o->ctx_size_in;

	*ctx = NULL;
	if (!o->ctx_in && !o->ctx_out)
		return 0;
	if (in) {
		/* Bytes past the type's ctx may be given, if they are zero. */
		for (size_t i = max; i < n; i++)
			if (in[i])
				return err_set(err, -E2BIG, -1, "ctx_in has %zu bytes, more than "
					       "the %zu of this program type's context, and byte %zu "
					       "is not zero", n, max, i);
	}
	*ctx = calloc(1, max ? max : 1);
	if (!*ctx)
		return err_set(err, -ENOMEM, -1, "out of memory for the context");
	if (in)
		memcpy(*ctx, in, n < max ? n : max);
	return 0;
}

int test_data_finish(struct bpfrt_test_run_opts *o, const void *data, uint32_t size,
		     struct bpfrt_error *err)
{
	uint32_t copy = size;
	int ret = 0;

	if (o->data_size_out && copy > o->data_size_out) {
		copy = o->data_size_out;
		ret = err_set(err, -ENOSPC, -1, "data_out has room for %u bytes; the result "
			      "has %u (the first %u were copied)", o->data_size_out, size, copy);
	}
	if (o->data_out)
		memcpy(o->data_out, data, copy);
	o->data_size_out = size;
	return ret;
}

int test_ctx_finish(struct bpfrt_test_run_opts *o, const void *ctx, uint32_t size,
		    struct bpfrt_error *err)
{
	uint32_t copy = size;
	int ret = 0;

	if (!ctx || !o->ctx_out)
		return 0;
	if (copy > o->ctx_size_out) {
		copy = o->ctx_size_out;
		ret = err_set(err, -ENOSPC, -1, "ctx_out has room for %u bytes; the context "
			      "has %u (the first %u were copied)", o->ctx_size_out, size, copy);
	}
	memcpy(o->ctx_out, ctx, copy);
	o->ctx_size_out = size;
	return ret;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int test_prepare(struct bpfrt_prog *prog, enum bpfrt_engine engine, bool checked,
		 struct bpfrt_error *err)
{
	const void *code;
	size_t len;

	if (engine != BPFRT_ENGINE_JIT)
		return 0;	/* the interpreter's decoding is quick */
	return bpfrt_prog_jited(prog, checked, &code, &len, NULL, err);
}

int test_repeat(struct bpfrt_prog *prog, struct hook_run *h,
		struct bpfrt_test_run_opts *o, struct bpfrt_error *err)
{
	uint32_t n = o->repeat ? o->repeat : 1;
	int ret = test_prepare(prog, o->engine, o->checked, err);
	uint64_t t0;

	if (ret)
		return ret;
	t0 = now_ns();

	h->ro.engine = o->engine;
	h->ro.checked = o->checked;
	h->ro.budget = o->budget;
	for (uint32_t i = 0; i < n; i++) {
		int ret = hook_exec(prog, h, err);

		if (ret)
			return ret;
	}
	o->retval = (uint32_t)h->ro.retval;
	o->duration_ns = (now_ns() - t0) / n;
	return 0;
}

/* ---- Contexts without a packet ------------------------------------------ */

static int no_data(const struct bpfrt_test_run_opts *o, const char *type,
		   bool repeat_ok, struct bpfrt_error *err)
{
	if (o->data_in || o->data_size_in || o->data_out)
		return err_set(err, -EINVAL, -1, "%s programs take no data_in or data_out",
			       type);
	if (!repeat_ok && o->repeat)
		return err_set(err, -EINVAL, -1, "%s programs take no repeat", type);
	return 0;
}

/*
 * SYSCALL: ctx_in verbatim (at most 65535 bytes) and writable. The kernel
 * writes the context back over ctx_in; bpfrt, whose ctx_in is const,
 * writes it to ctx_out instead (which the kernel refuses).
 */
static int syscall_run(struct bpfrt_prog *prog, struct bpfrt_test_run_opts *o,
		       struct bpfrt_error *err)
{
	struct hook_run h = { .type = BPFRT_PROG_SYSCALL, .ctx_inline = true };
	int ret = no_data(o, "syscall", false, err);

	if (ret)
		return ret;
	if (o->flags)
		return err_set(err, -EINVAL, -1, "syscall programs take no flags");
	if (o->ctx_size_in > 0xffff)
		return err_set(err, -EINVAL, -1, "ctx_in has %u bytes; syscall programs take "
			       "at most 65535", o->ctx_size_in);
	if (o->ctx_size_in && !o->ctx_in)
		return err_set(err, -EINVAL, -1, "ctx_size_in is %u but ctx_in is NULL",
			       o->ctx_size_in);
	if (o->ctx_size_in) {
		h.ctx = malloc(o->ctx_size_in);
		if (!h.ctx)
			return err_set(err, -ENOMEM, -1, "out of memory for the context");
		memcpy(h.ctx, o->ctx_in, o->ctx_size_in);
		h.ctx_size = o->ctx_size_in;
	}
	ret = test_repeat(prog, &h, o, err);
	if (!ret && o->ctx_out)
		ret = test_ctx_finish(o, h.ctx ? h.ctx : "", (uint32_t)h.ctx_size, err);
	free(h.ctx);
	return ret;
}

/*
 * Read-only contexts the program gets as they are: RAW_TRACEPOINT (the
 * kernel's rules: ctx_in of at most 12 u64 arguments, no ctx_out, no
 * repeat), and, where bpfrt goes beyond the kernel, KPROBE (pt_regs),
 * TRACEPOINT (the record, any size) and PERF_EVENT (bpf_perf_event_data),
 * zero-filled up to their size.
 */
static int ro_ctx_run(struct bpfrt_prog *prog, struct bpfrt_test_run_opts *o,
		      struct bpfrt_error *err)
{
	struct hook_run h = { .type = prog->type };
	const char *name = bpfrt_prog_type_name(prog->type);
	size_t size;
	int ret;

	switch (prog->type) {
	case BPFRT_PROG_RAW_TRACEPOINT:
		ret = no_data(o, name, false, err);
		if (ret)
			return ret;
		if (o->ctx_out)
			return err_set(err, -EINVAL, -1, "raw_tracepoint programs take no ctx_out");
		if (o->flags & ~(uint32_t)BPF_F_TEST_RUN_ON_CPU)
			return err_set(err, -EINVAL, -1, "flags %#x: raw_tracepoint runs take only "
				       "BPF_F_TEST_RUN_ON_CPU", o->flags);
		if (o->ctx_size_in > 12 * sizeof(uint64_t))
			return err_set(err, -EINVAL, -1, "ctx_in has %u bytes; raw tracepoints "
				       "have at most 12 u64 arguments (96 bytes)", o->ctx_size_in);
		size = o->ctx_size_in;
		break;
	case BPFRT_PROG_KPROBE:
		size = sizeof(struct pt_regs);
		goto ours;
	case BPFRT_PROG_PERF_EVENT:
		size = sizeof(struct bpf_perf_event_data);
		goto ours;
	default:	/* TRACEPOINT */
		size = o->ctx_size_in;
	ours:
		ret = no_data(o, name, true, err);
		if (ret)
			return ret;
		if (o->flags)
			return err_set(err, -EINVAL, -1, "%s runs take no flags", name);
		if (o->ctx_size_in > size) {
			const uint8_t *in = o->ctx_in;

			for (size_t i = size; in && i < o->ctx_size_in; i++)
				if (in[i])
					return err_set(err, -E2BIG, -1, "ctx_in has %u bytes, more "
						       "than the %zu of a %s context, and byte "
						       "%zu is not zero", o->ctx_size_in, size,
						       name, i);
		}
		break;
	}
	if (o->ctx_size_in && !o->ctx_in)
		return err_set(err, -EINVAL, -1, "ctx_size_in is %u but ctx_in is NULL",
			       o->ctx_size_in);
	if (size) {
		h.ctx = calloc(1, size);
		if (!h.ctx)
			return err_set(err, -ENOMEM, -1, "out of memory for the context");
		memcpy(h.ctx, o->ctx_in, o->ctx_size_in < size ? o->ctx_size_in : size);
		h.ctx_size = size;
	}
	ret = test_repeat(prog, &h, o, err);
	if (!ret && prog->type != BPFRT_PROG_RAW_TRACEPOINT && h.ctx)
		ret = test_ctx_finish(o, h.ctx, (uint32_t)h.ctx_size, err);
	free(h.ctx);
	return ret;
}

/* UNSPEC: r1 points to a copy of data_in, r2 is its length (the conformance suite's convention). */
static int unspec_run(struct bpfrt_prog *prog, struct bpfrt_test_run_opts *o,
		      struct bpfrt_error *err)
{
	struct hook_run h = { .type = BPFRT_PROG_UNSPEC, .ctx_inline = true };
	int ret;

	if (o->ctx_in || o->ctx_size_in || o->ctx_out)
		return err_set(err, -EINVAL, -1, "programs of no type take no ctx_in or "
			       "ctx_out: r1 points to data_in");
	if (o->flags)
		return err_set(err, -EINVAL, -1, "programs of no type take no flags");
	if (o->data_size_in && !o->data_in)
		return err_set(err, -EINVAL, -1, "data_size_in is %u but data_in is NULL",
			       o->data_size_in);
	h.ctx = malloc(o->data_size_in ? o->data_size_in : 1);
	if (!h.ctx)
		return err_set(err, -ENOMEM, -1, "out of memory for the data");
	if (o->data_size_in)
		memcpy(h.ctx, o->data_in, o->data_size_in);
	h.ctx_size = o->data_size_in;
	ret = test_repeat(prog, &h, o, err);
	if (!ret)
		ret = test_data_finish(o, h.ctx, (uint32_t)h.ctx_size, err);
	free(h.ctx);
	return ret;
}

BPFRT_API int bpfrt_prog_test_run(struct bpfrt_prog *prog, struct bpfrt_test_run_opts *o,
				  struct bpfrt_error *err)
{
	err_clear(err);
	if (!prog || !o || o->sz < offsetof(struct bpfrt_test_run_opts, duration_ns) +
	    sizeof(o->duration_ns))
		return err_set(err, -EINVAL, -1, "no program, or options older than this "
			       "library's (sz too small)");
	if (o->cpu && !(prog->type == BPFRT_PROG_RAW_TRACEPOINT &&
			(o->flags & BPF_F_TEST_RUN_ON_CPU)))
		return err_set(err, -EINVAL, -1, "cpu must be 0");
	switch (prog->type) {
	case BPFRT_PROG_XDP:
		return xdp_test_run(prog, o, err);
	case BPFRT_PROG_SCHED_CLS:
	case BPFRT_PROG_SCHED_ACT:
	case BPFRT_PROG_SOCKET_FILTER:
	case BPFRT_PROG_CGROUP_SKB:
	case BPFRT_PROG_LWT_IN:
	case BPFRT_PROG_LWT_OUT:
	case BPFRT_PROG_LWT_XMIT:
		return skb_test_run(prog, o, err);
	case BPFRT_PROG_SYSCALL:
		return syscall_run(prog, o, err);
	case BPFRT_PROG_RAW_TRACEPOINT:
	case BPFRT_PROG_KPROBE:
	case BPFRT_PROG_TRACEPOINT:
	case BPFRT_PROG_PERF_EVENT:
		return ro_ctx_run(prog, o, err);
	case BPFRT_PROG_UNSPEC:
		return unspec_run(prog, o, err);
	default:
		return err_set(err, -ENOTSUP, -1, "bpfrt cannot test-run %s programs",
			       bpfrt_prog_type_name(prog->type));
	}
}
