/* xskmap.c — xskmap: AF_XDP sockets bpf_redirect_map hands packets to. */
#include <errno.h>
#include <string.h>

#include "maps/map.h"
#include "maps/xdp_maps.h"
#include "util/error.h"

/*
 * The kernel stores AF_XDP sockets, given as fds. bpfrt has no such
 * sockets: the u32 value is an id that stands for one (0 is refused with
 * -EBADF, as a bad fd), which hooks may use to pick a consumer. As in the
 * kernel, user space cannot read entries back (-EOPNOTSUPP); programs'
 * lookups get a pointer to the id.
 */
static int64_t xskmap_check(struct map_block *b, const struct bpfrt_map_opts *o,
			    struct bpfrt_error *err)
{
	(void)o;
	return xslots_check(b, "xskmap", false,
			    MAP_F_NUMA_NODE | MAP_F_RDONLY | MAP_F_WRONLY, err);
}

static int xskmap_sys_update(struct bpfrt_map *m, const void *key, const void *value,
			     uint64_t flags)
{
	uint32_t i = xslot_key(key), id;
	bool used;

	if (flags > BPFRT_EXIST)
		return -EINVAL;
	if (i >= m->max_entries)
		return -E2BIG;
	memcpy(&id, value, 4);
	if (!id)
		return -EBADF;
	used = atomic_load_explicit(xslot(m, i), memory_order_acquire) != 0;
	if (used && flags == BPFRT_NOEXIST)
		return -EEXIST;
	if (!used && flags == BPFRT_EXIST)
		return -ENOENT;
	xslots_store(m, i, &id);
	return 0;
}

const struct map_ops xskmap_ops = {
	.check = xskmap_check,
	.init = xslots_init,
	.attach = xslots_attach,
	.lookup = xslots_lookup,
	.sys_update = xskmap_sys_update,
	.delete = xslots_delete,
	.get_next_key = map_index_next_key,
	.sys_lookup_err = -EOPNOTSUPP,
};
