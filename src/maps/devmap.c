/* devmap.c — devmap and devmap_hash: where bpf_redirect_map sends packets, by index or by key. */
#include <errno.h>
#include <string.h>

#include "maps/htab.h"
#include "maps/map.h"
#include "maps/xdp_maps.h"
#include "util/error.h"

/*
 * A value is struct bpf_devmap_val: u32 ifindex and, with value_size 8, a
 * u32 program (an fd on update, an id on lookup). bpfrt has no devices:
 * any ifindex but 0 is taken (the kernel wants an existing device), and
 * programs attached to entries are not supported (-EOPNOTSUPP for an fd
 * > 0). Lookups return {ifindex, 0}.
 */
#define DEV_FLAGS (MAP_F_NUMA_NODE | MAP_F_RDONLY | MAP_F_WRONLY)

/* The value to store, or a negative errno. */
static int dev_value(const struct bpfrt_map *m, const void *value, uint64_t *v)
{
	uint32_t ifindex, fd = 0;

	memcpy(&ifindex, value, 4);
	if (m->value_size == 8)
		memcpy(&fd, (const uint8_t *)value + 4, 4);
	if ((int32_t)fd > 0)
		return ifindex ? -EOPNOTSUPP : -EINVAL;
	*v = ifindex;
	return 0;
}

/* ---- devmap ------------------------------------------------------------- */

static int64_t devmap_check(struct map_block *b, const struct bpfrt_map_opts *o,
			    struct bpfrt_error *err)
{
	(void)o;
	return xslots_check(b, "devmap", true, DEV_FLAGS, err);
}

static int devmap_sys_update(struct bpfrt_map *m, const void *key, const void *value,
			     uint64_t flags)
{
	uint32_t i = xslot_key(key);
	uint64_t v;
	int ret;

	if (flags > BPFRT_EXIST)
		return -EINVAL;
	if (i >= m->max_entries)
		return -E2BIG;
	if (flags == BPFRT_NOEXIST)
		return -EEXIST;
	ret = dev_value(m, value, &v);
	if (ret)
		return ret;
	atomic_store_explicit(xslot(m, i), v, memory_order_release);	/* ifindex 0 empties it */
	return 0;
}

const struct map_ops devmap_ops = {
	.check = devmap_check,
	.init = xslots_init,
	.attach = xslots_attach,
	.lookup = xslots_lookup,
	.value_region = xslots_region,
	.sys_lookup = xslots_sys_lookup,
	.sys_update = devmap_sys_update,
	.delete = xslots_delete,
	.get_next_key = map_index_next_key,
};

/* ---- devmap_hash: the hash maps' table, values {ifindex, 0} ------------- */

static int64_t devhash_check(struct map_block *b, const struct bpfrt_map_opts *o,
			     struct bpfrt_error *err)
{
	int64_t ret;

	(void)o;
	ret = xslots_check(b, "devmap_hash", true, DEV_FLAGS, err);
	return ret < 0 ? ret : htab_check(b, false, false, err);
}

static void devhash_write(struct bpfrt_map *m, uint32_t slot, bool fresh, void *arg)
{
	(void)fresh;
	memcpy(helem_value(m, slot, 0), arg, m->value_size);
}

static int devhash_sys_update(struct bpfrt_map *m, const void *key, const void *value,
			      uint64_t flags)
{
	uint8_t val[8] = { 0 };
	uint64_t v;
	int ret;

	if (flags > BPFRT_EXIST)
		return -EINVAL;
	ret = dev_value(m, value, &v);
	if (ret)
		return ret;
	if (!v)
		return -EINVAL;
	memcpy(val, &v, sizeof(val));
	/* The kernel's devmap_hash treats BPF_EXIST as BPF_ANY. */
	return (int)htab_update_slot(m, key, flags == BPFRT_NOEXIST ? BPFRT_NOEXIST : BPFRT_ANY,
				     devhash_write, val);
}

static void *devhash_lookup(struct bpfrt_map *m, const void *key)
{
	int64_t i = htab_slot_of(m, key);

	return i < 0 ? NULL : helem_value(m, (uint32_t)i, 0);
}

static int devhash_sys_lookup(struct bpfrt_map *m, const void *key, void *value)
{
	void *v = devhash_lookup(m, key);

	if (!v)
		return -ENOENT;
	memcpy(value, v, m->value_size);
	return 0;
}

static long devhash_delete(struct bpfrt_map *m, const void *key)
{
	return htab_delete_slot(m, key, NULL, NULL);
}

const struct map_ops devmap_hash_ops = {
	.check = devhash_check,
	.init = htab_init,
	.attach = htab_attach,
	.lookup = devhash_lookup,
	.sys_lookup = devhash_sys_lookup,
	.sys_update = devhash_sys_update,
	.delete = devhash_delete,
	.get_next_key = htab_get_next_key,
};
