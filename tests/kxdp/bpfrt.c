/* bpfrt.c — breplay's backend: the object loaded into bpfrt, packets run by the test-run or frame API.
 *
 * By default each packet goes through bpfrt_prog_test_run, the counterpart of the kernel's
 * BPF_PROG_TEST_RUN; with `frames` through bpfrt_xdp_run on one reused frame, the path a
 * hook takes (no allocation per packet).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bpfrt.h"
#include "replay.h"

const char rp_backend[] = "bpfrt";

static struct bpfrt_obj *obj;
static struct bpfrt_prog *prog;
static struct bpfrt_map *ring;
static struct bpfrt_xdp_frame *frame;
static bool jit, checked;

/* Set an integer global of whatever size it has (1, 2, 4 or 8 bytes; little-endian host). */
static int set_global(const char *name, uint64_t value, struct bpfrt_error *err)
{
	int ret = -EINVAL;

	for (size_t size = 1; size <= 8 && ret == -EINVAL; size *= 2)
		ret = bpfrt_obj_set_global(obj, name, &value, size, err);
	return ret;
}

int rp_open(const struct rp_args *a)
{
	struct bpfrt_obj_prog_info info;
	struct bpfrt_error err;
	int ret, found = -1;

	ret = bpfrt_obj_open(a->obj, NULL, &obj, &err);
	for (int g = 0; !ret && g < a->nglobals; g++)
		ret = set_global(a->globals[g].name, a->globals[g].value, &err);
	if (!ret)
		ret = bpfrt_obj_load(obj, &err);
	if (ret)
		return rp_fail("'%s': %s", a->obj, err.msg);
	for (size_t i = 0; i < bpfrt_obj_prog_count(obj); i++) {
		bpfrt_obj_prog_at(obj, i, &info);
		if (a->prog ? strcmp(info.name, a->prog) : info.type != BPFRT_PROG_XDP)
			continue;
		if (found >= 0)
			return rp_fail("'%s' has not exactly one XDP program", a->obj);
		found = (int)i;
	}
	if (found < 0)
		return a->prog ? rp_fail("'%s' has no program '%s'", a->obj, a->prog)
			       : rp_fail("'%s' has no XDP program", a->obj);
	prog = bpfrt_obj_prog_at(obj, (size_t)found, NULL);
	if (!prog)
		return rp_fail("'%s': program %d did not load", a->obj, found);
	ret = bpfrt_prog_use_builtin_helpers(prog);
	if (ret)
		return rp_fail("cannot give the program bpfrt's helpers: %s", strerror(-ret));
	jit = a->jit;
	checked = !a->unchecked;
	if (a->frames && (ret = bpfrt_xdp_frame_alloc(&frame, &err)))
		return rp_fail("no XDP frame: %s", err.msg);
	return 0;
}

void rp_close(void)
{
	bpfrt_xdp_frame_free(frame);
	bpfrt_obj_close(obj);
}

int rp_map_count(void)
{
	return (int)bpfrt_obj_map_count(obj);
}

void rp_map_info(int i, struct rp_map *m)
{
	struct bpfrt_obj_map_info info;

	bpfrt_obj_map_at(obj, (size_t)i, &info);
	m->name = info.name;
	m->key_size = info.key_size;
	m->value_size = info.value_size;
	m->ringbuf = info.type == BPFRT_MAP_RINGBUF;
	m->rdonly = info.map_flags & (1u << 7);	/* BPF_F_RDONLY_PROG */
}

static struct bpfrt_map *map(int i)
{
	return bpfrt_obj_map_at(obj, (size_t)i, NULL);
}

int rp_map_update(int i, const void *key, const void *value, uint64_t flags)
{
	return bpfrt_map_update(map(i), key, value, flags);
}

int rp_map_next_key(int i, const void *prev, void *next)
{
	return bpfrt_map_get_next_key(map(i), prev, next);
}

int rp_map_lookup(int i, const void *key, void *value)
{
	return bpfrt_map_lookup(map(i), key, value);
}

int rp_ringbuf_open(int i)
{
	ring = map(i);
	return 0;
}

static void (*record_fn)(const void *, size_t);

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	record_fn(data, size);
	return 0;
}

int rp_ringbuf_consume(void (*fn)(const void *data, size_t size))
{
	int ret;

	record_fn = fn;
	ret = bpfrt_ringbuf_consume(ring, on_record, NULL);
	return ret < 0 ? ret : 0;
}

/* One packet on the reused frame, `repeat` times (each on what the last run left, as test_run). */
static int run_frame(const void *in, uint32_t len, void *out, uint32_t *out_len,
		     unsigned int repeat, uint32_t *retval)
{
	BPFRT_OPTS(bpfrt_xdp_run_opts, opts, .engine = jit ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP,
		   .checked = checked);
	struct bpfrt_error err;
	uint32_t n;
	int ret = bpfrt_xdp_frame_set(frame, in, len, &err);

	for (unsigned int r = 0; ret >= 0 && r < repeat; r++)
		ret = bpfrt_xdp_run(prog, frame, &opts, &err);
	if (ret < 0) {
		rp_fail("%s", err.msg);
		return ret;
	}
	n = frame->data_end - frame->data_meta;
	if (n > *out_len)
		return -ENOSPC;
	memcpy(out, frame->buf + frame->data_meta, n);
	*out_len = n;
	*retval = (uint32_t)frame->retval;
	return 0;
}

int rp_run(const void *in, uint32_t len, void *out, uint32_t *out_len, unsigned int repeat,
	   uint32_t *retval, uint64_t *ns)
{
	BPFRT_OPTS(bpfrt_test_run_opts, opts, .engine = jit ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP,
		   .checked = checked, .data_in = in, .data_size_in = len, .data_out = out,
		   .data_size_out = *out_len, .repeat = repeat);
	struct bpfrt_error err;
	int ret;

	if (frame)
		return run_frame(in, len, out, out_len, repeat, retval);
	ret = bpfrt_prog_test_run(prog, &opts, &err);
	if (ret) {
		rp_fail("%s", err.msg);
		return ret;
	}
	*out_len = opts.data_size_out;
	*retval = opts.retval;
	*ns = opts.duration_ns;
	return 0;
}
