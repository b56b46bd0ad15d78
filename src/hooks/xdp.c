/* xdp.c — XDP frames in low memory, bpfrt_xdp_run, and XDP test runs as the kernel does them. */
#include <dirent.h>
#include <errno.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec/prog.h"
#include "hooks/hooks.h"
#include "util/error.h"

/* A frame: the public part, the xdp_md the program reads, the hook run. */
struct xframe {
	struct bpfrt_xdp_frame pub;
	struct xdp_md md;
	struct xdp_state xs;
	struct hook_run h;
};

#define XFRAME(f) ((struct xframe *)(void *)(f))

/* ---- Frames -------------------------------------------------------------- */

BPFRT_API int bpfrt_xdp_frame_alloc(struct bpfrt_xdp_frame **out, struct bpfrt_error *err)
{
	struct xframe *x;

	err_clear(err);
	*out = NULL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return err_set(err, -ENOMEM, -1, "out of memory for an XDP frame");
	x->pub.buf = hook_lowmem_alloc(BPFRT_XDP_FRAME_SIZE);
	if (!x->pub.buf) {
		free(x);
		return err_set(err, -ENOMEM, -1, "no memory below 4 GiB left for an XDP frame");
	}
	x->pub.data_meta = x->pub.data = x->pub.data_end = BPFRT_XDP_HEADROOM;
	x->pub.ingress_ifindex = 1;
	x->xs.f = &x->pub;
	x->xs.hard_start = x->pub.buf;
	x->xs.meta_ok = 1;
	x->h.type = BPFRT_PROG_XDP;
	x->h.ctx = &x->md;
	x->h.ctx_size = sizeof(x->md);
	x->h.xdp = &x->xs;
	*out = &x->pub;
	return 0;
}

BPFRT_API void bpfrt_xdp_frame_free(struct bpfrt_xdp_frame *f)
{
	if (!f)
		return;
	hook_lowmem_free(f->buf, BPFRT_XDP_FRAME_SIZE);
	free(XFRAME(f));
}

BPFRT_API int bpfrt_xdp_frame_set(struct bpfrt_xdp_frame *f, const void *pkt, size_t len,
				  struct bpfrt_error *err)
{
	if (len < 14)
		return err_set(err, -EINVAL, -1, "a packet of %zu bytes is shorter than an "
			       "Ethernet header (14 bytes)", len);
	if (len > BPFRT_XDP_MAX_DATA)
		return err_set(err, -EMSGSIZE, -1, "a packet of %zu bytes does not fit in an "
			       "XDP frame (at most %u bytes)", len, BPFRT_XDP_MAX_DATA);
	memcpy(f->buf + BPFRT_XDP_HEADROOM, pkt, len);
	f->data_meta = f->data = BPFRT_XDP_HEADROOM;
	f->data_end = BPFRT_XDP_HEADROOM + (uint32_t)len;
	return 0;
}

/* ---- Running ------------------------------------------------------------- */

void xdp_sync(struct hook_run *h)
{
	struct xdp_state *xs = h->xdp;
	struct xdp_md *md = h->ctx;

	md->data = hook_u32(xs->data);
	md->data_end = hook_u32(xs->end);
	md->data_meta = hook_u32(xs->meta);
	h->regions[HR_PKT] = (struct bpfrt_region){ xs->meta, (size_t)(xs->end - xs->meta), true };
}

static int frame_check(const struct bpfrt_xdp_frame *f, struct bpfrt_error *err)
{
	if (f->data_meta < BPFRT_XDP_FRAME_HDR || f->data_meta > f->data ||
	    f->data > f->data_end || f->data_end > BPFRT_XDP_FRAME_SIZE - BPFRT_XDP_TAILROOM)
		return err_set(err, -EINVAL, -1, "the frame's offsets are inconsistent: "
			       "data_meta %u, data %u, data_end %u (they must satisfy %u <= "
			       "data_meta <= data <= data_end <= %u)", f->data_meta, f->data,
			       f->data_end, BPFRT_XDP_FRAME_HDR,
			       BPFRT_XDP_FRAME_SIZE - BPFRT_XDP_TAILROOM);
	return 0;
}

/* One run of prog on frame x, with h.ro's engine, mode and budget already set. */
static int frame_run(struct bpfrt_prog *prog, struct xframe *x, struct bpfrt_error *err)
{
	struct bpfrt_xdp_frame *f = &x->pub;
	uint8_t *buf = f->buf;
	int ret;

	x->xs.meta = buf + f->data_meta;
	x->xs.data = buf + f->data;
	x->xs.end = buf + f->data_end;
	x->md.ingress_ifindex = f->ingress_ifindex;
	x->md.rx_queue_index = f->rx_queue_index;
	x->md.egress_ifindex = 0;
	xdp_sync(&x->h);
	memset(&f->redirect, 0, sizeof(f->redirect));
	ret = hook_exec(prog, &x->h, err);
	f->data_meta = (uint32_t)(x->xs.meta - buf);
	f->data = (uint32_t)(x->xs.data - buf);
	f->data_end = (uint32_t)(x->xs.end - buf);
	f->retval = x->h.ro.retval;
	return ret;
}

static int need_xdp(const struct bpfrt_prog *prog, struct bpfrt_error *err)
{
	if (prog->type != BPFRT_PROG_XDP)
		return err_set(err, -EINVAL, -1, "the program is of type %s, not xdp",
			       bpfrt_prog_type_name(prog->type));
	return 0;
}

BPFRT_API int bpfrt_xdp_run(struct bpfrt_prog *prog, struct bpfrt_xdp_frame *f,
			    const struct bpfrt_xdp_run_opts *opts, struct bpfrt_error *err)
{
	struct xframe *x = XFRAME(f);
	int ret;

	if (unlikely(need_xdp(prog, err) || frame_check(f, err)))
		return err ? err->code : -EINVAL;
	if (opts && opts->sz >= offsetof(struct bpfrt_xdp_run_opts, user) + sizeof(opts->user)) {
		x->h.ro.engine = opts->engine;
		x->h.ro.checked = opts->checked;
		x->h.ro.budget = opts->budget;
		x->h.ro.user = opts->user;
	} else {
		x->h.ro.engine = BPFRT_ENGINE_INTERP;
		x->h.ro.checked = true;
		x->h.ro.budget = 0;
		x->h.ro.user = NULL;
	}
	ret = frame_run(prog, x, err);
	if (unlikely(ret))
		return ret;
	return f->retval <= BPFRT_XDP_REDIRECT ? (int)f->retval : BPFRT_XDP_ABORTED;
}

/* ---- Test runs ----------------------------------------------------------- */

/* Receive queues of the device, from sysfs; -ENODEV if there is no such device. */
static int rx_queues(uint32_t ifindex)
{
	char name[IF_NAMESIZE], path[64 + IF_NAMESIZE];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	if (!if_indextoname(ifindex, name))
		return -ENODEV;
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", name);
	dir = opendir(path);
	if (!dir)
		return 1;
	while ((d = readdir(dir)))
		if (strncmp(d->d_name, "rx-", 3) == 0)
			n++;
	closedir(dir);
	return n ? n : 1;
}

/*
 * xdp_convert_md_to_buff's checks of ctx_in, as Linux 6.18 makes them:
 * data_end (the linear part's end; what lies past it the kernel puts in
 * fragments) at most data_size_in, metadata (data) 4-aligned and leaving
 * room for struct xdp_frame in the headroom.
 */
static int md_check(const struct xdp_md *md, uint32_t size, struct bpfrt_error *err)
{
	int nq;

	if (md->data_meta || md->data_end > size || md->data > md->data_end ||
	    (md->data & 3) || md->data > BPFRT_XDP_HEADROOM - BPFRT_XDP_FRAME_HDR)
		return err_set(err, -EINVAL, -1, "ctx_in: xdp_md must have data_meta 0, "
			       "data_end at most data_size_in (%u) and data (the metadata's "
			       "length) a multiple of 4 up to %u and data_end; it has %u, %u, %u",
			       size, BPFRT_XDP_HEADROOM - BPFRT_XDP_FRAME_HDR, md->data_meta,
			       md->data_end, md->data);
	if (md->egress_ifindex)
		return err_set(err, -EINVAL, -1, "ctx_in: xdp_md.egress_ifindex must be 0");
	if (!md->ingress_ifindex && md->rx_queue_index)
		return err_set(err, -EINVAL, -1, "ctx_in: rx_queue_index %u needs an "
			       "ingress_ifindex", md->rx_queue_index);
	if (!md->ingress_ifindex)
		return 0;
	nq = rx_queues(md->ingress_ifindex);
	if (nq < 0)
		return err_set(err, -ENODEV, -1, "ctx_in: there is no device with ifindex %u",
			       md->ingress_ifindex);
	if (md->rx_queue_index >= (uint32_t)nq)
		return err_set(err, -EINVAL, -1, "ctx_in: device %u has %d receive queues; "
			       "rx_queue_index is %u", md->ingress_ifindex, nq,
			       md->rx_queue_index);
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int xdp_test_run(struct bpfrt_prog *prog, struct bpfrt_test_run_opts *o,
		 struct bpfrt_error *err)
{
	struct bpfrt_xdp_frame *f = NULL;
	struct xdp_md *md = NULL;
	uint32_t headroom = BPFRT_XDP_HEADROOM, size = o->data_size_in, n, meta = 0;
	uint64_t t0;
	int ret;

	if (o->flags & BPF_F_TEST_XDP_LIVE_FRAMES)
		return err_set(err, -EOPNOTSUPP, -1, "live-frame XDP test runs need devices, "
			       "which bpfrt does not have");
	if (o->flags)
		return err_set(err, -EINVAL, -1, "flags %#x: XDP test runs take only "
			       "BPF_F_TEST_XDP_LIVE_FRAMES", o->flags);
	ret = test_ctx_init(o, sizeof(*md), (void **)&md, err);
	if (ret)
		return ret;
	if (md) {
		ret = md_check(md, size, err);
		if (ret)
			goto out;
		meta = md->data;
		headroom -= meta;
	}
	if (size < 14 || (size && !o->data_in)) {
		ret = err_set(err, -EINVAL, -1, "data_in has %u bytes, less than an Ethernet "
			      "header (14)", size);
		goto out;
	}
	if (size > BPFRT_XDP_FRAME_SIZE - headroom - BPFRT_XDP_TAILROOM ||
	    (md && md->data_end < size)) {
		ret = err_set(err, -EOPNOTSUPP, -1, "data_in has %u bytes; past %u (the "
			      "frame's room, or ctx_in's data_end) the kernel would put them in "
			      "fragments, which bpfrt does not support", size,
			      md && md->data_end < size ? md->data_end
			      : BPFRT_XDP_FRAME_SIZE - headroom - BPFRT_XDP_TAILROOM);
		goto out;
	}
	ret = bpfrt_xdp_frame_alloc(&f, err);
	if (ret)
		goto out;
	memcpy(f->buf + headroom, o->data_in, size);
	f->data_meta = headroom;
	f->data = headroom + meta;
	f->data_end = headroom + size;
	f->ingress_ifindex = md && md->ingress_ifindex ? md->ingress_ifindex : 1;
	f->rx_queue_index = md ? md->rx_queue_index : 0;

	XFRAME(f)->h.ro.engine = o->engine;
	XFRAME(f)->h.ro.checked = o->checked;
	XFRAME(f)->h.ro.budget = o->budget;
	n = o->repeat ? o->repeat : 1;
	ret = test_prepare(prog, o->engine, o->checked, err);
	if (ret)
		goto out;
	t0 = now_ns();
	for (uint32_t i = 0; i < n && !ret; i++)
		ret = frame_run(prog, XFRAME(f), err);
	if (ret)
		goto out;
	o->duration_ns = (now_ns() - t0) / n;
	o->retval = (uint32_t)f->retval;
	if (md) {
		md->data = f->data - f->data_meta;
		md->data_end = f->data_end - f->data_meta;
	}
	ret = test_data_finish(o, f->buf + f->data_meta, f->data_end - f->data_meta, err);
	if (!ret)
		ret = test_ctx_finish(o, md, sizeof(*md), err);
out:
	bpfrt_xdp_frame_free(f);
	free(md);
	return ret;
}
