/* cgroup_array.c — cgroup_array: cgroup v2 directories by index, for bpf_current_task_under_cgroup. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "maps/map.h"
#include "util/error.h"

/*
 * Declared like the kernel's (key_size 4, value_size 4): user space stores
 * a file descriptor of a cgroup v2 directory, as with the kernel. The block
 * keeps the cgroup's id (its inode number on the cgroup2 filesystem, which
 * is the kernel's cgroup id), so the map can be shared with other
 * processes. Id 0 is an empty slot. As in the kernel, user space cannot
 * look a slot up (-ENOTSUP) and programs can only use the map through
 * bpf_current_task_under_cgroup.
 */
#define CGROUP2_SUPER_MAGIC 0x63677270

static _Atomic uint64_t *cg_slot(const struct bpfrt_map *m, uint32_t i)
{
	return (_Atomic uint64_t *)(m->base + MAP_PAGE) + i;
}

static int64_t cg_check(struct map_block *b, const struct bpfrt_map_opts *o,
			struct bpfrt_error *err)
{
	uint64_t size = MAP_PAGE;
	int ret;

	(void)o;
	if (b->key_size != 4 || b->value_size != 4 || !b->max_entries)
		return err_set(err, -EINVAL, -1,
			       "cgroup arrays need key_size 4, value_size 4 and max_entries > 0");
	ret = map_check_flags(b, MAP_F_NUMA_NODE | MAP_F_RDONLY | MAP_F_WRONLY, err);
	if (ret)
		return ret;
	if (!map_size_add(&size, b->max_entries, sizeof(uint64_t)))
		return err_set(err, -E2BIG, -1, "the cgroup array would be too big");
	return (int64_t)size;
}

static void cg_init(struct bpfrt_map *m)
{
	(void)m;	/* the memfd starts zeroed: every slot empty */
}

static uint32_t index_of(const void *key)
{
	uint32_t i;

	memcpy(&i, key, sizeof(i));
	return i;
}

static int cg_sys_update(struct bpfrt_map *m, const void *key, const void *value,
			 uint64_t flags)
{
	uint32_t i = index_of(key);
	struct statfs sf;
	struct stat st;
	int fd;

	if (flags != BPFRT_ANY)
		return -EINVAL;
	if (i >= m->max_entries)
		return -E2BIG;
	memcpy(&fd, value, sizeof(fd));
	if (fstat(fd, &st) || fstatfs(fd, &sf))
		return -EBADF;
	if (sf.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode))
		return -EBADF;	/* the kernel: not a cgroup v2 directory */
	atomic_store(cg_slot(m, i), (uint64_t)st.st_ino);
	return 0;
}

static long cg_delete(struct bpfrt_map *m, const void *key)
{
	uint32_t i = index_of(key);

	if (i >= m->max_entries)
		return -E2BIG;
	return atomic_exchange(cg_slot(m, i), 0) ? 0 : -ENOENT;
}

long map_cgroup_array_get(struct bpfrt_map *m, uint32_t index, uint64_t *id)
{
	if (m->type != BPFRT_MAP_CGROUP_ARRAY)
		return -EINVAL;
	if (index >= m->max_entries)
		return -E2BIG;
	*id = atomic_load(cg_slot(m, index));
	return *id ? 0 : -EAGAIN;
}

const struct map_ops cgroup_array_ops = {
	.check = cg_check,
	.init = cg_init,
	.delete = cg_delete,
	.sys_update = cg_sys_update,
	.get_next_key = map_index_next_key,
	.sys_lookup_err = -ENOTSUP,
};
