/* map_pin.c — pinning a map to a file (its block plus a trailer) and opening a pinned map. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "maps/map.h"
#include "pin/pin.h"
#include "util/error.h"

struct pin_meta *pin_meta_new(const void *btf, uint32_t btf_len, uint32_t key_type,
			      uint32_t value_type)
{
	struct pin_meta *pm = calloc(1, sizeof(*pm) + btf_len);

	if (!pm)
		return NULL;
	pm->t.magic = PIN_MAGIC;
	pm->t.version = PIN_VERSION;
	pm->t.btf_len = btf_len;
	pm->t.key_type = key_type;
	pm->t.value_type = value_type;
	if (btf && btf_len)
		memcpy(pm->btf, btf, btf_len);
	return pm;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8)
		if (*(const uint64_t *)(p + i))
			return false;
	return true;
}

/*
 * Copy the block into fd: pages that are all zero are left as holes (a big
 * hash map is mostly untouched pool), and the first page, which holds the
 * block's magic, goes last, so a file cut short by a crash is never taken
 * for a map.
 */
static int copy_block(int fd, const uint8_t *base, uint64_t size)
{
	for (uint64_t off = MAP_PAGE; off < size; off += MAP_PAGE) {
		if (all_zero(base + off, MAP_PAGE))
			continue;
		if (pwrite(fd, base + off, MAP_PAGE, (off_t)off) != MAP_PAGE)
			return -errno ? -errno : -EIO;
	}
	if (pwrite(fd, base, MAP_PAGE, 0) != MAP_PAGE)
		return -errno ? -errno : -EIO;
	return 0;
}

/* A map already in a file: one more hard link, like pinning one bpffs object twice. */
static int pin_again(struct bpfrt_map *map, const char *path, struct bpfrt_error *err)
{
	char self[64];

	snprintf(self, sizeof(self), "/proc/self/fd/%d", map->block_fd);
	if (linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW)) {
		int e = errno;

		if (e == EXDEV)
			return err_set(err, -EXDEV, -1,
				       "map '%s' is pinned on another filesystem than '%s'; "
				       "a map can be pinned again only on the same one",
				       map->name, path);
		return err_set(err, -e, -1, "cannot pin map '%s' at '%s': %s", map->name, path,
			       e == EEXIST ? "the file exists" : strerror(e));
	}
	return pin_register(PIN_MAP, path, err);
}

BPFRT_API int bpfrt_map_pin(struct bpfrt_map *map, const char *path, struct bpfrt_error *err)
{
	const struct map_block *b = (const struct map_block *)map->base;
	struct pin_meta *pm = map->pin;
	int fd, ret;

	err_clear(err);
	if (!path || !path[0])
		return err_set(err, -EINVAL, -1, "no path to pin map '%s' at", map->name);
	if (map_holds_local_refs(map->type))
		return err_set(err, -ENOTSUP, -1,
			       "map '%s' cannot be pinned: prog arrays and maps of maps hold "
			       "references to objects of this process", map->name);
	if (pm && pm->t.id)
		return pin_again(map, path, err);
	if (!pm && !(pm = pin_meta_new(NULL, 0, 0, 0)))
		return err_set(err, -ENOMEM, -1, "out of memory");
	map->pin = pm;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;

		return err_set(err, -e, -1, "cannot pin map '%s' at '%s': %s", map->name, path,
			       e == EEXIST ? "the file exists" : strerror(e));
	}
	ret = pin_next_id(PIN_MAP, &pm->t.id, err);
	if (ret)
		goto fail_file;
	pm->t.created = (uint64_t)time(NULL);
	pm->t.uid = (uint32_t)geteuid();
	if (ftruncate(fd, (off_t)(b->size + sizeof(pm->t) + pm->t.btf_len)) ||
	    pwrite(fd, pm, sizeof(pm->t) + pm->t.btf_len, (off_t)b->size) !=
		    (ssize_t)(sizeof(pm->t) + pm->t.btf_len) ||
	    (ret = copy_block(fd, map->base, b->size)) < 0) {
		ret = err_set(err, ret < 0 ? ret : -errno, -1,
			      "cannot write map '%s' to '%s': %s", map->name, path,
			      strerror(ret < 0 ? -ret : errno));
		goto fail_file;
	}
	ret = map_rebind_fd(map, fd);
	if (ret) {
		err_set(err, ret, -1, "cannot map '%s': %s", path, strerror(-ret));
		goto fail_file;
	}
	return pin_register(PIN_MAP, path, err);
fail_file:
	close(fd);
	unlink(path);
	pm->t.id = 0;
	return ret;
}

/* Read and check the trailer of the pinned file fd; a malloc'ed pin_meta. */
static int read_meta(int fd, const char *path, struct pin_meta **out, struct bpfrt_error *err)
{
	struct map_block b;
	struct pin_trailer t;
	struct pin_meta *pm;
	struct stat st;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    pread(fd, &b, sizeof(b), 0) != (ssize_t)sizeof(b) || b.magic != MAP_BLOCK_MAGIC ||
	    b.size > (uint64_t)st.st_size - sizeof(t) ||
	    pread(fd, &t, sizeof(t), (off_t)b.size) != (ssize_t)sizeof(t) ||
	    t.magic != PIN_MAGIC)
		return err_set(err, -EINVAL, -1, "'%s' is not a pinned bpfrt map", path);
	if (b.version != MAP_BLOCK_VERSION || t.version != PIN_VERSION)
		return err_set(err, -EINVAL, -1,
			       "'%s' holds a map of another bpfrt version (block %u, pin %u)",
			       path, b.version, t.version);
	if (t.btf_len > (uint64_t)st.st_size - b.size - sizeof(t) || t.btf_len > (64u << 20))
		return err_set(err, -EINVAL, -1, "the pinned map '%s' is damaged (BTF size)", path);
	pm = pin_meta_new(NULL, t.btf_len, 0, 0);
	if (!pm)
		return err_set(err, -ENOMEM, -1, "out of memory");
	pm->t = t;
	if (t.btf_len && pread(fd, pm->btf, t.btf_len, (off_t)(b.size + sizeof(t))) !=
				 (ssize_t)t.btf_len) {
		free(pm);
		return err_set(err, -EIO, -1, "cannot read the BTF of '%s'", path);
	}
	*out = pm;
	return 0;
}

/* Is p inside the block (or NULL: a part this family has not got)? */
static bool in_block(const struct bpfrt_map *m, const void *p, uint64_t size)
{
	return !p || ((const uint8_t *)p >= m->base && (const uint8_t *)p < m->base + size);
}

/*
 * A file is damaged, or of another build, if its geometry does not give the
 * size its header says (the family's own create check recomputes it), or if
 * the parts the family found through its header lie outside the block.
 * Contents are otherwise trusted, as memory shared with every process that
 * may write the map is: the file is 0600, its owner's.
 */
static int check_geometry(const struct bpfrt_map *m, const char *path, struct bpfrt_error *err)
{
	struct map_block b = *(const struct map_block *)m->base;
	uint64_t size = b.size;
	uint32_t mirror = b.mirror;
	BPFRT_OPTS(bpfrt_map_opts, o, .type = (enum bpfrt_map_type)b.type, .key_size = b.key_size,
		   .value_size = b.value_size, .max_entries = b.max_entries,
		   .map_flags = b.map_flags, .map_extra = b.map_extra, .ncpus = b.ncpus);
	int64_t want = m->ops->check(&b, &o, NULL);

	if (want < 0 || map_align((uint64_t)want, MAP_PAGE) != size || b.mirror != mirror ||
	    b.ncpus == 0 || b.ncpus > 4096 || !in_block(m, m->area, size) ||
	    !in_block(m, m->elems, size) || !in_block(m, m->lru, size) ||
	    !in_block(m, m->pcpu, size))
		return err_set(err, -EINVAL, -1, "the map pinned at '%s' is damaged: its header "
			       "does not describe its block", path);
	return 0;
}

BPFRT_API int bpfrt_map_open_pinned(const char *path, struct bpfrt_map **map,
				    struct bpfrt_error *err)
{
	struct pin_meta *pm = NULL;
	struct bpfrt_error merr;
	int fd, ret;

	err_clear(err);
	*map = NULL;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT)
			return err_set(err, -ENOENT, -1, "no map pinned at '%s'", path);
		return err_set(err, -e, -1, "cannot open '%s': %s", path, strerror(e));
	}
	ret = read_meta(fd, path, &pm, err);
	if (!ret) {
		ret = map_open_block(fd, map, &merr);
		if (ret)
			err_set(err, ret, -1, "cannot open the map pinned at '%s': %s", path,
				merr.msg);
	}
	close(fd);
	if (!ret && (ret = check_geometry(*map, path, err))) {
		bpfrt_map_free(*map);
		*map = NULL;
	}
	if (ret) {
		free(pm);
		return ret;
	}
	(*map)->pin = pm;
	return 0;
}

BPFRT_API int bpfrt_map_get_pin_info(const struct bpfrt_map *map,
				     struct bpfrt_map_pin_info *info)
{
	const struct pin_meta *pm = map->pin;

	memset(info, 0, sizeof(*info));
	if (!pm || !pm->t.id)
		return -ENOENT;
	info->id = pm->t.id;
	info->uid = pm->t.uid;
	info->created = pm->t.created;
	info->btf = pm->t.btf_len ? pm->btf : NULL;
	info->btf_len = pm->t.btf_len;
	info->key_type_id = pm->t.key_type;
	info->value_type_id = pm->t.value_type;
	return 0;
}
