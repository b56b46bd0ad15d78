/* cpumap.c — cpumap: where bpf_redirect_map sends packets to be processed on another CPU. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "maps/map.h"
#include "maps/xdp_maps.h"
#include "util/error.h"

/*
 * A value is struct bpf_cpumap_val: u32 qsize (queue size, at most 16384;
 * 0 empties the slot) and, with value_size 8, a u32 program (not
 * supported: -EOPNOTSUPP for an fd > 0). The key is a CPU of this
 * machine. At most 8192 entries (the kernel's NR_CPUS, as Debian builds it).
 */
#define CPUMAP_MAX_ENTRIES 8192u
#define CPUMAP_MAX_QSIZE   16384u

static int64_t cpumap_check(struct map_block *b, const struct bpfrt_map_opts *o,
			    struct bpfrt_error *err)
{
	int64_t ret;

	(void)o;
	ret = xslots_check(b, "cpumap", true, MAP_F_NUMA_NODE, err);
	if (ret >= 0 && b->max_entries > CPUMAP_MAX_ENTRIES)
		return err_set(err, -E2BIG, -1, "cpumaps have at most %u entries",
			       CPUMAP_MAX_ENTRIES);
	return ret;
}

static int cpumap_sys_update(struct bpfrt_map *m, const void *key, const void *value,
			     uint64_t flags)
{
	uint32_t cpu = xslot_key(key), qsize, fd = 0;
	long ncpus = sysconf(_SC_NPROCESSORS_CONF);

	if (flags > BPFRT_EXIST)
		return -EINVAL;
	if (cpu >= m->max_entries)
		return -E2BIG;
	if (flags == BPFRT_NOEXIST)
		return -EEXIST;
	memcpy(&qsize, value, 4);
	if (m->value_size == 8)
		memcpy(&fd, (const uint8_t *)value + 4, 4);
	if (qsize > CPUMAP_MAX_QSIZE)
		return -EOVERFLOW;
	if (ncpus > 0 && cpu >= (uint32_t)ncpus)
		return -ENODEV;
	if (qsize && (int32_t)fd > 0)
		return -EOPNOTSUPP;
	xslots_store(m, cpu, qsize ? &qsize : NULL);
	return 0;
}

const struct map_ops cpumap_ops = {
	.check = cpumap_check,
	.init = xslots_init,
	.attach = xslots_attach,
	.lookup = xslots_lookup,
	.sys_lookup = xslots_sys_lookup,
	.sys_update = cpumap_sys_update,
	.delete = xslots_delete,
	.get_next_key = map_index_next_key,
};
