/* map.c — the map object: creation, the block's memfd and mappings, references, ids, both faces' dispatch. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/map.h"
#include "maps/sync.h"
#include "util/error.h"

static _Atomic uint32_t next_id = 1;

/* ---- Types -------------------------------------------------------------- */

static const struct map_ops *ops_of(uint32_t type)
{
	static const struct map_ops *const table[] = {
		[BPFRT_MAP_HASH] = &hash_ops,
		[BPFRT_MAP_ARRAY] = &array_ops,
		[BPFRT_MAP_PROG_ARRAY] = &prog_array_ops,
		[BPFRT_MAP_PERF_EVENT_ARRAY] = &perf_event_ops,
		[BPFRT_MAP_PERCPU_HASH] = &percpu_hash_ops,
		[BPFRT_MAP_PERCPU_ARRAY] = &percpu_array_ops,
		[BPFRT_MAP_STACK_TRACE] = &stack_trace_ops,
		[BPFRT_MAP_CGROUP_ARRAY] = &cgroup_array_ops,
		[BPFRT_MAP_LRU_HASH] = &lru_hash_ops,
		[BPFRT_MAP_LRU_PERCPU_HASH] = &lru_percpu_hash_ops,
		[BPFRT_MAP_LPM_TRIE] = &lpm_trie_ops,
		[BPFRT_MAP_ARRAY_OF_MAPS] = &array_of_maps_ops,
		[BPFRT_MAP_HASH_OF_MAPS] = &hash_of_maps_ops,
		[BPFRT_MAP_DEVMAP] = &devmap_ops,
		[BPFRT_MAP_CPUMAP] = &cpumap_ops,
		[BPFRT_MAP_XSKMAP] = &xskmap_ops,
		[BPFRT_MAP_DEVMAP_HASH] = &devmap_hash_ops,
		[BPFRT_MAP_QUEUE] = &queue_ops,
		[BPFRT_MAP_STACK] = &stack_ops,
		[BPFRT_MAP_RINGBUF] = &ringbuf_ops,
		[BPFRT_MAP_BLOOM_FILTER] = &bloom_ops,
	};
	return type < ARRAY_SIZE(table) ? table[type] : NULL;
}

static bool holds_local_refs(uint32_t type)
{
	return type == BPFRT_MAP_PROG_ARRAY || type == BPFRT_MAP_ARRAY_OF_MAPS ||
	       type == BPFRT_MAP_HASH_OF_MAPS;
}

int map_check_flags(const struct map_block *b, uint32_t allowed,
		    struct bpfrt_error *err)
{
	if (b->map_flags & ~allowed)
		return err_set(err, -EINVAL, -1,
			       "map_flags %#x: %#x are not allowed for this map type",
			       b->map_flags, b->map_flags & ~allowed);
	return 0;
}

bool map_size_add(uint64_t *acc, uint64_t n, uint64_t each)
{
	uint64_t bytes;

	if (__builtin_mul_overflow(n, each, &bytes) ||
	    __builtin_add_overflow(*acc, bytes, acc))
		return false;
	return *acc <= MAP_MAX_BLOCK;
}

int map_index_next_key(struct bpfrt_map *m, const void *key, void *next)
{
	uint32_t i = UINT32_MAX, n;

	if (key)
		memcpy(&i, key, sizeof(i));
	if (i >= m->max_entries)
		n = 0;
	else if (i == m->max_entries - 1)
		return -ENOENT;
	else
		n = i + 1;
	memcpy(next, &n, sizeof(n));
	return 0;
}

int map_side_alloc(struct bpfrt_map *m)
{
	m->side = calloc(m->max_entries, sizeof(*m->side));
	return m->side ? 0 : -ENOMEM;
}

/* What every type shares: the access flags, map_extra, the CPU count. */
static int check_common(const struct map_block *b, struct bpfrt_error *err)
{
	uint32_t f = b->map_flags;

	if ((f & MAP_F_RDONLY) && (f & MAP_F_WRONLY))
		return err_set(err, -EINVAL, -1, "a map cannot be both BPF_F_RDONLY and BPF_F_WRONLY");
	if ((f & MAP_F_RDONLY_PROG) && (f & MAP_F_WRONLY_PROG))
		return err_set(err, -EINVAL, -1,
			       "a map cannot be both BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG");
	if (b->map_extra && b->type != BPFRT_MAP_BLOOM_FILTER &&
	    b->type != BPFRT_MAP_PERF_EVENT_ARRAY)
		return err_set(err, -EINVAL, -1, "map_extra is only for bloom filters and perf event arrays");
	if (b->ncpus == 0 || b->ncpus > 4096)
		return err_set(err, -EINVAL, -1, "%u CPUs: give 1..4096", b->ncpus);
	return 0;
}

/* ---- Mapping a block ---------------------------------------------------- */

/*
 * A mapping is [private page][block][mirror]: the private page (anonymous,
 * this process's own) holds a pointer to the map object, so that pointers
 * into the block (ring buffer records) lead back to it; the mirror maps the
 * block's last b->mirror bytes a second time, right after it, so that ring
 * records that wrap around are contiguous.
 */
static int map_mmap(struct bpfrt_map *m, int fd, uint64_t size, uint32_t mirror)
{
	size_t total = MAP_PAGE + size + mirror;
	uint8_t *va, *p;

	va = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (va == MAP_FAILED)
		return -ENOMEM;
	if (mprotect(va, MAP_PAGE, PROT_READ | PROT_WRITE))
		goto fail;
	p = mmap(va + MAP_PAGE, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	if (mirror && mmap(va + MAP_PAGE + size, mirror, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_FIXED, fd, (off_t)(size - mirror)) == MAP_FAILED)
		goto fail;
	*(struct bpfrt_map **)va = m;
	m->mapping = va;
	m->mapping_len = total;
	m->base = va + MAP_PAGE;
	return 0;
fail:
	munmap(va, total);
	return -ENOMEM;
}

/* Copy the block header's geometry into the map object. */
static void map_bind(struct bpfrt_map *m, const struct map_block *b)
{
	m->type = b->type;
	m->key_size = b->key_size;
	m->value_size = b->value_size;
	m->max_entries = b->max_entries;
	m->map_flags = b->map_flags;
	m->map_extra = b->map_extra;
	m->ncpus = b->ncpus;
	m->stride = (uint32_t)map_align(b->value_size, 8);
	memcpy(m->name, b->name, sizeof(m->name));
	m->name[sizeof(m->name) - 1] = '\0';
}

static struct bpfrt_map *map_alloc(const struct map_ops *ops)
{
	struct bpfrt_map *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->ops = ops;
	m->block_fd = -1;
	m->event_fd = -1;
	atomic_init(&m->refcnt, 1);
	m->id = atomic_fetch_add(&next_id, 1);
	return m;
}

/* Free what map_alloc, map_mmap and attach made (attach only if attached). */
static void map_destroy(struct bpfrt_map *m, bool attached)
{
	if (attached && m->ops->detach)
		m->ops->detach(m);
	if (m->mapping)
		munmap(m->mapping, m->mapping_len);
	if (m->block_fd >= 0)
		close(m->block_fd);
	if (m->event_fd >= 0)
		close(m->event_fd);
	free(m->pin);
	free(m);
}

/* Process-local setup common to create and open: the eventfd, then the family's. */
static int map_attach(struct bpfrt_map *m, struct bpfrt_error *err)
{
	int ret;

	if (m->type == BPFRT_MAP_RINGBUF || m->type == BPFRT_MAP_PERF_EVENT_ARRAY) {
		m->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (m->event_fd < 0)
			return err_set(err, -errno, -1, "eventfd: %s", strerror(errno));
	}
	ret = m->ops->attach ? m->ops->attach(m) : 0;
	if (ret)
		return err_set(err, ret, -1, "out of memory for the map's process-local tables");
	return 0;
}

/* ---- Creation ------------------------------------------------------------ */

static int header_from_opts(const struct bpfrt_map_opts *o, struct map_block *b,
			    struct bpfrt_error *err)
{
	memset(b, 0, sizeof(*b));
	b->magic = MAP_BLOCK_MAGIC;
	b->version = MAP_BLOCK_VERSION;
	b->type = o->type;
	b->key_size = o->key_size;
	b->value_size = o->value_size;
	b->max_entries = o->max_entries;
	b->map_flags = o->map_flags;
	b->map_extra = o->map_extra;
	b->ncpus = o->ncpus ? o->ncpus : sync_ncpus();
	if (o->name)
		strncpy(b->name, o->name, sizeof(b->name) - 1);
	return check_common(b, err);
}

BPFRT_API int bpfrt_map_create(const struct bpfrt_map_opts *opts,
			       struct bpfrt_map **out, struct bpfrt_error *err)
{
	const struct map_ops *ops;
	struct bpfrt_map *m = NULL;
	struct map_block b;
	int64_t size;
	int ret;

	err_clear(err);
	*out = NULL;
	if (!opts || opts->sz < offsetof(struct bpfrt_map_opts, ncpus) + sizeof(opts->ncpus))
		return err_set(err, -EINVAL, -1, "bpfrt_map_opts is missing or has an unknown size "
			       "(declare it with BPFRT_OPTS)");
	ops = ops_of(opts->type);
	if (!ops)
		return err_set(err, -EINVAL, -1, "unknown map type %d", opts->type);
	ret = header_from_opts(opts, &b, err);
	if (ret)
		return ret;
	size = ops->check(&b, opts, err);
	if (size < 0)
		return (int)size;
	b.size = map_align((uint64_t)size, MAP_PAGE);
	m = map_alloc(ops);
	if (!m)
		return err_set(err, -ENOMEM, -1, "out of memory");
	m->block_fd = memfd_create(b.name[0] ? b.name : "bpfrt_map", MFD_CLOEXEC);
	if (m->block_fd < 0 || ftruncate(m->block_fd, (off_t)b.size) ||
	    map_mmap(m, m->block_fd, b.size, b.mirror)) {
		ret = err_set(err, -ENOMEM, -1, "cannot allocate a %llu-byte map block: %s",
			      (unsigned long long)b.size, strerror(errno));
		goto fail;
	}
	memcpy(m->base, &b, sizeof(b));
	map_bind(m, &b);
	ops->init(m);
	ret = map_attach(m, err);
	if (ret)
		goto fail;
	*out = m;
	return 0;
fail:
	map_destroy(m, false);
	return ret;
}

/* ---- Opening a block again ---------------------------------------------- */

static int read_header(int fd, struct map_block *b, struct bpfrt_error *err)
{
	struct stat st;

	if (fstat(fd, &st) || pread(fd, b, sizeof(*b), 0) != (ssize_t)sizeof(*b))
		return err_set(err, -EBADF, -1, "cannot read a map block from fd %d", fd);
	if (b->magic != MAP_BLOCK_MAGIC || b->version != MAP_BLOCK_VERSION)
		return err_set(err, -EINVAL, -1, "fd %d does not hold a bpfrt map block", fd);
	if (b->size > (uint64_t)st.st_size || b->mirror > b->size || !ops_of(b->type))
		return err_set(err, -EINVAL, -1, "the map block in fd %d is damaged", fd);
	if (holds_local_refs(b->type))
		return err_set(err, -ENOTSUP, -1,
			       "prog arrays and maps of maps hold process-local references "
			       "and cannot be opened elsewhere");
	return 0;
}

int map_open_block(int fd, struct bpfrt_map **out, struct bpfrt_error *err)
{
	struct bpfrt_map *m;
	struct map_block b;
	int ret;

	err_clear(err);
	*out = NULL;
	ret = read_header(fd, &b, err);
	if (ret)
		return ret;
	m = map_alloc(ops_of(b.type));
	if (!m)
		return err_set(err, -ENOMEM, -1, "out of memory");
	m->block_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (m->block_fd < 0 || map_mmap(m, m->block_fd, b.size, b.mirror)) {
		ret = err_set(err, -ENOMEM, -1, "cannot map the block: %s", strerror(errno));
		goto fail;
	}
	map_bind(m, &b);
	ret = map_attach(m, err);
	if (ret)
		goto fail;
	*out = m;
	return 0;
fail:
	map_destroy(m, false);
	return ret;
}

int map_rebind_fd(struct bpfrt_map *m, int fd)
{
	const struct map_block *b = (const struct map_block *)m->base;
	uint64_t size = b->size;
	uint32_t mirror = b->mirror;

	if (mmap(m->base, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) ==
	    MAP_FAILED)
		return -errno;
	if (mirror && mmap(m->base + size, mirror, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_FIXED, fd, (off_t)(size - mirror)) == MAP_FAILED)
		return -errno;
	if (m->block_fd >= 0)
		close(m->block_fd);
	m->block_fd = fd;
	return 0;
}

bool map_holds_local_refs(uint32_t type)
{
	return holds_local_refs(type);
}

int map_block_fd(const struct bpfrt_map *map)
{
	return map->block_fd;
}

/* ---- References and info ------------------------------------------------ */

struct bpfrt_map *map_get(struct bpfrt_map *map)
{
	atomic_fetch_add_explicit(&map->refcnt, 1, memory_order_relaxed);
	return map;
}

void map_put(struct bpfrt_map *map)
{
	if (map && atomic_fetch_sub_explicit(&map->refcnt, 1, memory_order_acq_rel) == 1)
		map_destroy(map, true);
}

BPFRT_API void bpfrt_map_free(struct bpfrt_map *map)
{
	map_put(map);
}

BPFRT_API void bpfrt_map_get_info(const struct bpfrt_map *map, struct bpfrt_map_info *info)
{
	memset(info, 0, sizeof(*info));
	info->type = (enum bpfrt_map_type)map->type;
	info->id = map->id;
	info->key_size = map->key_size;
	info->value_size = map->value_size;
	info->max_entries = map->max_entries;
	info->map_flags = map->map_flags;
	info->map_extra = map->map_extra;
	info->ncpus = map->ncpus;
	memcpy(info->name, map->name, sizeof(info->name));
}

uint32_t map_this_cpu(const struct bpfrt_map *map)
{
	uint32_t s = sync_cpu_slot();

	return s < map->ncpus ? s : s % map->ncpus;
}

void map_event_signal(struct bpfrt_map *map)
{
	uint64_t one = 1;

	if (map->event_fd >= 0 && write(map->event_fd, &one, sizeof(one)) < 0)
		return;	/* the counter is saturated: a wakeup is pending anyway */
}

/* ---- The user-space face ------------------------------------------------- */

static int nosup(int e)
{
	return e ? e : -ENOTSUP;
}

/* Keys: maps without keys take NULL (else -EINVAL), the others need one. */
static int check_key(const struct bpfrt_map *m, const void *key)
{
	if (!m->key_size)
		return key ? -EINVAL : 0;
	return key ? 0 : -EFAULT;
}

BPFRT_API int bpfrt_map_lookup(struct bpfrt_map *map, const void *key, void *value)
{
	const struct map_ops *ops = map->ops;
	int ret = check_key(map, key);

	if (ret)
		return ret;
	if (map->map_flags & MAP_F_WRONLY)
		return -EPERM;
	if (!value)
		return -EFAULT;
	if (ops->sys_lookup)
		return ops->sys_lookup(map, key, value);
	if (ops->peek)
		return (int)ops->peek(map, value);
	return nosup(ops->sys_lookup_err);
}

/* Frozen (bpfrt_map_freeze, by any process sharing the block): no user-space writes. */
static bool frozen(const struct bpfrt_map *map)
{
	return atomic_load_explicit(&((struct map_block *)map->base)->frozen,
				    memory_order_acquire) != 0;
}

BPFRT_API int bpfrt_map_freeze(struct bpfrt_map *map)
{
	uint32_t no = 0;

	return atomic_compare_exchange_strong(&((struct map_block *)map->base)->frozen, &no, 1)
		       ? 0 : -EBUSY;
}

BPFRT_API bool bpfrt_map_frozen(const struct bpfrt_map *map)
{
	return frozen(map);
}

BPFRT_API int bpfrt_map_update(struct bpfrt_map *map, const void *key,
			       const void *value, uint64_t flags)
{
	const struct map_ops *ops = map->ops;
	int ret = check_key(map, key);

	if (ret)
		return ret;
	if ((map->map_flags & MAP_F_RDONLY) || frozen(map))
		return -EPERM;
	if (!value && ops->sys_update_err == 0)
		return -EFAULT;
	if (ops->sys_update)
		return ops->sys_update(map, key, value, flags);
	if (ops->push)
		return (int)ops->push(map, value, flags);
	if (ops->update)
		return (int)ops->update(map, key, value, flags);
	return nosup(ops->sys_update_err);
}

BPFRT_API int bpfrt_map_delete(struct bpfrt_map *map, const void *key)
{
	const struct map_ops *ops = map->ops;
	int ret = check_key(map, key);

	if (ret)
		return ret;
	if ((map->map_flags & MAP_F_RDONLY) || frozen(map))
		return -EPERM;
	return ops->delete ? (int)ops->delete(map, key) : nosup(ops->sys_delete_err);
}

BPFRT_API int bpfrt_map_lookup_and_delete(struct bpfrt_map *map, const void *key,
					  void *value)
{
	const struct map_ops *ops = map->ops;
	int ret = check_key(map, key);

	if (ret)
		return ret;
	if ((map->map_flags & (MAP_F_RDONLY | MAP_F_WRONLY)) || frozen(map))
		return -EPERM;
	if (!value)
		return -EFAULT;
	if (ops->sys_lookup_and_delete)
		return ops->sys_lookup_and_delete(map, key, value);
	if (ops->pop)
		return (int)ops->pop(map, value);
	return -ENOTSUP;
}

BPFRT_API int bpfrt_map_get_next_key(struct bpfrt_map *map, const void *key,
				     void *next_key)
{
	const struct map_ops *ops = map->ops;

	if (map->map_flags & MAP_F_WRONLY)
		return -EPERM;
	if (!ops->get_next_key)
		return nosup(ops->get_next_err);
	if (!next_key)
		return -EFAULT;
	return ops->get_next_key(map, key, next_key);
}

/* ---- The program face ---------------------------------------------------- */

void *map_lookup_elem(struct bpfrt_map *map, const void *key)
{
	return map->ops->lookup ? map->ops->lookup(map, key) : NULL;
}

long map_update_elem(struct bpfrt_map *map, const void *key, const void *value,
		     uint64_t flags)
{
	return map->ops->update ? map->ops->update(map, key, value, flags) : -ENOTSUP;
}

long map_delete_elem(struct bpfrt_map *map, const void *key)
{
	return map->ops->delete ? map->ops->delete(map, key) : -ENOTSUP;
}

long map_push_elem(struct bpfrt_map *map, const void *value, uint64_t flags)
{
	return map->ops->push ? map->ops->push(map, value, flags) : -ENOTSUP;
}

long map_pop_elem(struct bpfrt_map *map, void *value)
{
	return map->ops->pop ? map->ops->pop(map, value) : -ENOTSUP;
}

long map_peek_elem(struct bpfrt_map *map, void *value)
{
	return map->ops->peek ? map->ops->peek(map, value) : -ENOTSUP;
}

void *map_lookup_percpu_elem(struct bpfrt_map *map, const void *key, uint32_t cpu)
{
	if (!map->ops->lookup_percpu || cpu >= map->ncpus)
		return NULL;
	return map->ops->lookup_percpu(map, key, cpu);
}

long map_for_each_elem(struct bpfrt_map *map, callback_fn_t fn, void *ctx,
		       uint64_t flags)
{
	if (flags)
		return -EINVAL;
	return map->ops->for_each ? map->ops->for_each(map, fn, ctx) : -ENOTSUP;
}

bool map_value_region(struct bpfrt_map *map, void **base, size_t *len)
{
	return map->ops->value_region && map->ops->value_region(map, base, len);
}

struct bpfrt_map *map_of_maps_lookup(struct bpfrt_map *map, const void *key)
{
	if (map->type != BPFRT_MAP_ARRAY_OF_MAPS && map->type != BPFRT_MAP_HASH_OF_MAPS)
		return NULL;
	return map->ops->lookup(map, key);
}
