/* xdp.c — the XDP helpers: moving the packet's head, tail and metadata, redirects, bytes. */
#include <errno.h>
#include <string.h>

#include "exec/prog.h"
#include "helpers.h"
#include "hooks/hooks.h"
#include "maps/map.h"
#include "util/error.h"

/* The kernel's numbers. */
enum {
	XDP_ABORTED = 0,
	XDP_REDIRECT = 4,
	XDP_ACTION_MASK = 3,		/* redirect_map's fallback action, in flags' low bits */
	F_BROADCAST = 1u << 3,
	F_EXCLUDE_INGRESS = 1u << 4,
	ETH_HLEN = 14,
};

/* The XDP hook run of the caller, with r1 checked to be its ctx in checked runs. */
static struct hook_run *xdp_hook(struct bpfrt_run *run, const char *name, uint64_t r1)
{
	struct hook_run *h = hook_of(run);

	if (unlikely(!h || !h->xdp)) {
		bpfrt_run_fail(run, -EINVAL, "bpf_%s: the program is not running on an XDP "
			       "frame (bpfrt_xdp_run or an XDP test run)", name);
		return NULL;
	}
	return helper_ctx_ok(run, name, r1, h->ctx) ? h : NULL;
}

/* Offsets from the frame's start, so limits are compared without out-of-range pointers. */
#define OFF(xs, p) ((long)((p) - (xs)->hard_start))

static uint64_t xdp_adjust_head(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct bpfrt_run *run)
{
	struct hook_run *h = xdp_hook(run, "xdp_adjust_head", r1);
	struct xdp_state *xs;
	long off = (int32_t)r2, metalen, data;

	(void)r3; (void)r4; (void)r5;
	if (!h)
		return 0;
	xs = h->xdp;
	metalen = xs->data - xs->meta;
	data = OFF(xs, xs->data) + off;
	if (data < (long)BPFRT_XDP_FRAME_HDR + metalen || data > OFF(xs, xs->end) - ETH_HLEN)
		return (uint64_t)-EINVAL;
	if (metalen)
		memmove(xs->meta + off, xs->meta, (size_t)metalen);
	xs->meta += off;
	xs->data += off;
	xdp_sync(h);
	return 0;
}

static uint64_t xdp_adjust_meta(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct bpfrt_run *run)
{
	struct hook_run *h = xdp_hook(run, "xdp_adjust_meta", r1);
	struct xdp_state *xs;
	long off = (int32_t)r2, meta, metalen;

	(void)r3; (void)r4; (void)r5;
	if (!h)
		return 0;
	xs = h->xdp;
	meta = OFF(xs, xs->meta) + off;
	if (meta < (long)BPFRT_XDP_FRAME_HDR || meta > OFF(xs, xs->data))
		return (uint64_t)-EINVAL;
	metalen = OFF(xs, xs->data) - meta;
	if ((metalen & 3) || metalen > 255)	/* skb_shared_info.meta_len is a u8 */
		return (uint64_t)-EACCES;
	xs->meta += off;
	xdp_sync(h);
	return 0;
}

static uint64_t xdp_adjust_tail(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct bpfrt_run *run)
{
	struct hook_run *h = xdp_hook(run, "xdp_adjust_tail", r1);
	struct xdp_state *xs;
	long off = (int32_t)r2, end;

	(void)r3; (void)r4; (void)r5;
	if (!h)
		return 0;
	xs = h->xdp;
	end = OFF(xs, xs->end) + off;
	if (end > (long)(BPFRT_XDP_FRAME_SIZE - BPFRT_XDP_TAILROOM) ||
	    end < OFF(xs, xs->data) + ETH_HLEN)
		return (uint64_t)-EINVAL;
	if (off > 0)
		memset(xs->end, 0, (size_t)off);
	xs->end += off;
	xdp_sync(h);
	return 0;
}

/* bpf_redirect: XDP's meaning here, tc's in skb.c. */
static uint64_t redirect(uint64_t ifindex, uint64_t flags, uint64_t r3, uint64_t r4,
			 uint64_t r5, struct bpfrt_run *run)
{
	struct hook_run *h = hook_of(run);
	struct bpfrt_xdp_redirect *rd;

	(void)r3; (void)r4; (void)r5;
	if (h && h->skb)
		return skb_redirect(h, (uint32_t)ifindex, flags);
	if (!h || !h->xdp) {
		bpfrt_run_fail(run, -EINVAL, "bpf_redirect: the program is not running on an "
			       "XDP frame or an skb");
		return 0;
	}
	if (flags)
		return XDP_ABORTED;
	rd = &h->xdp->f->redirect;
	memset(rd, 0, sizeof(*rd));
	rd->ifindex = (uint32_t)ifindex;
	return XDP_REDIRECT;
}

static uint64_t redirect_map(uint64_t r1, uint64_t key, uint64_t flags, uint64_t r4,
			     uint64_t r5, struct bpfrt_run *run)
{
	struct hook_run *h = hook_of(run);
	struct bpfrt_map *m = helper_map_arg(run, "redirect_map", r1);
	struct bpfrt_xdp_redirect *rd;
	uint64_t allowed = XDP_ACTION_MASK;
	uint32_t k = (uint32_t)key;
	void *val;

	(void)r4; (void)r5;
	if (!m)
		return 0;
	if (!h || !h->xdp) {
		bpfrt_run_fail(run, -EINVAL, "bpf_redirect_map: the program is not running "
			       "on an XDP frame");
		return 0;
	}
	switch (m->type) {
	case BPFRT_MAP_DEVMAP:
	case BPFRT_MAP_DEVMAP_HASH:
		allowed |= F_BROADCAST | F_EXCLUDE_INGRESS;
		break;
	case BPFRT_MAP_CPUMAP:
	case BPFRT_MAP_XSKMAP:
		break;
	default:
		bpfrt_run_fail(run, -EINVAL, "bpf_redirect_map: map '%s' is not a devmap, "
			       "cpumap or xskmap", m->name);
		return 0;
	}
	if (flags & ~allowed)
		return XDP_ABORTED;
	val = map_lookup_elem(m, &k);
	if (!val && !(flags & F_BROADCAST))
		return flags & XDP_ACTION_MASK;
	rd = &h->xdp->f->redirect;
	rd->map = m;
	rd->key = k;
	rd->flags = flags & (F_BROADCAST | F_EXCLUDE_INGRESS);
	rd->ifindex = 0;
	if (val && (m->type == BPFRT_MAP_DEVMAP || m->type == BPFRT_MAP_DEVMAP_HASH))
		memcpy(&rd->ifindex, val, sizeof(rd->ifindex));
	return XDP_REDIRECT;
}

static uint64_t xdp_get_buff_len(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				 uint64_t r5, struct bpfrt_run *run)
{
	struct hook_run *h = xdp_hook(run, "xdp_get_buff_len", r1);

	(void)r2; (void)r3; (void)r4; (void)r5;
	return h ? (uint64_t)(h->xdp->end - h->xdp->data) : 0;
}

/* bpf_xdp_load_bytes / store_bytes: offset and len up to 0xffff, inside the packet. */
static uint64_t xdp_bytes(uint64_t r1, uint64_t off, uint64_t buf, uint64_t len,
			  struct bpfrt_run *run, bool store)
{
	const char *name = store ? "xdp_store_bytes" : "xdp_load_bytes";
	struct hook_run *h = xdp_hook(run, name, r1);
	uint32_t o = (uint32_t)off, n = (uint32_t)len;
	uint8_t *p;

	if (!h || !helper_mem_ok(run, name, 3, buf, n, !store))
		return (uint64_t)-EFAULT;
	if (o > 0xffff || n > 0xffff)
		return (uint64_t)-EFAULT;
	if ((uint64_t)o + n > (uint64_t)(h->xdp->end - h->xdp->data))
		return (uint64_t)-EINVAL;
	p = h->xdp->data + o;
	if (store)
		memcpy(p, (const void *)(uintptr_t)buf, n);
	else
		memcpy((void *)(uintptr_t)buf, p, n);
	return 0;
}

static uint64_t xdp_load_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			       uint64_t r5, struct bpfrt_run *run)
{
	(void)r5;
	return xdp_bytes(r1, r2, r3, r4, run, false);
}

static uint64_t xdp_store_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct bpfrt_run *run)
{
	(void)r5;
	return xdp_bytes(r1, r2, r3, r4, run, true);
}

const struct helper_def helper_xdp_defs[] = {
	{ 23, "redirect", redirect },
	{ 44, "xdp_adjust_head", xdp_adjust_head },
	{ 51, "redirect_map", redirect_map },
	{ 54, "xdp_adjust_meta", xdp_adjust_meta },
	{ 65, "xdp_adjust_tail", xdp_adjust_tail },
	{ 188, "xdp_get_buff_len", xdp_get_buff_len },
	{ 189, "xdp_load_bytes", xdp_load_bytes },
	{ 190, "xdp_store_bytes", xdp_store_bytes },
};
const size_t helper_xdp_ndefs = sizeof(helper_xdp_defs) / sizeof(helper_xdp_defs[0]);
