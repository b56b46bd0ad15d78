/* obj_pin.c — bpfrt_obj_pin_maps: an object's maps shared through a directory of pinned maps. */
#define _GNU_SOURCE
#include <bpf/btf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/loader.h"
#include "maps/map.h"
#include "pin/pin.h"
#include "util/error.h"

BPFRT_API int bpfrt_obj_pin_maps(struct bpfrt_obj *obj, const char *dir,
				 struct bpfrt_error *err)
{
	char abs[PATH_MAX];
	int ret;

	err_clear(err);
	if (obj->loaded)
		return err_set(err, -EBUSY, -1,
			       "the object is already loaded: pin its maps before loading");
	if (!dir || !dir[0])
		return err_set(err, -EINVAL, -1, "no directory to pin the maps in");
	ret = pin_mkdirs(dir, 0700, err);
	if (ret)
		return ret;
	if (!realpath(dir, abs))
		return err_set(err, -errno, -1, "cannot resolve '%s': %s", dir, strerror(errno));
	free(obj->pin_dir);
	obj->pin_dir = strdup(abs);
	return obj->pin_dir ? 0 : err_set(err, -ENOMEM, -1, "out of memory");
}

/* Does the pinned map have the object's definition? */
static int check_same(const struct ld_map *m, const char *path, struct bpfrt_map *map,
		      struct bpfrt_error *err)
{
	const struct ld_mapdef *d = &m->def;
	const char *what = NULL;
	uint32_t have = 0, want = 0;

	if (map->type != d->type)
		return err_set(err, -EINVAL, -1,
			       "map '%s': the map pinned at '%s' is a %s map, the object "
			       "declares a %s map", m->name, path, ld_map_type_name(map->type),
			       ld_map_type_name(d->type));
	if (map->key_size != d->key_size)
		what = "key_size", have = map->key_size, want = d->key_size;
	else if (map->value_size != d->value_size)
		what = "value_size", have = map->value_size, want = d->value_size;
	else if (map->max_entries != d->max_entries)
		what = "max_entries", have = map->max_entries, want = d->max_entries;
	else if (map->map_flags != d->map_flags)
		what = "map_flags", have = map->map_flags, want = d->map_flags;
	if (what)
		return err_set(err, -EINVAL, -1,
			       "map '%s': the map pinned at '%s' has %s %u, the object "
			       "declares %u", m->name, path, what, have, want);
	return 0;
}

static int create_and_pin(struct bpfrt_obj *obj, struct ld_map *m, const char *path,
			  struct bpfrt_error *err)
{
	const struct ld_mapdef *d = &m->def;
	BPFRT_OPTS(bpfrt_map_opts, o, .type = (enum bpfrt_map_type)d->type,
		   .key_size = d->key_size, .value_size = d->value_size,
		   .max_entries = d->max_entries, .map_flags = d->map_flags,
		   .map_extra = d->map_extra, .name = m->name, .ncpus = obj->ncpus);
	const void *btf = NULL;
	uint32_t btf_len = 0;
	struct bpfrt_error merr;
	struct bpfrt_map *map;
	int ret = bpfrt_map_create(&o, &map, &merr);

	if (ret)
		return err_set(err, ret, -1, "map '%s' (%s): %s", m->name,
			       ld_map_type_name(d->type), merr.msg);
	if (obj->btf && (d->key_type || d->value_type))
		btf = btf__raw_data(obj->btf, &btf_len);
	map->pin = pin_meta_new(btf, btf ? btf_len : 0, d->key_type, d->value_type);
	if (!map->pin) {
		bpfrt_map_free(map);
		return err_set(err, -ENOMEM, -1, "out of memory");
	}
	ret = bpfrt_map_pin(map, path, &merr);
	if (ret) {
		bpfrt_map_free(map);
		if (ret == -EEXIST)
			return ret;	/* another process was faster: use its map */
		return err_set(err, ret, -1, "map '%s': %s", m->name, merr.msg);
	}
	m->map = map;
	return 0;
}

int pin_obj_map(struct bpfrt_obj *obj, struct ld_map *m, struct bpfrt_error *err)
{
	char path[PATH_MAX];
	struct bpfrt_error merr;
	int ret;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", obj->pin_dir, m->name) >= sizeof(path))
		return err_set(err, -ENAMETOOLONG, -1, "map '%s': its pin path is too long",
			       m->name);
	for (int tries = 0; tries < 8; tries++) {
		ret = bpfrt_map_open_pinned(path, &m->map, &merr);
		if (!ret) {
			ret = check_same(m, path, m->map, err);
			if (ret) {
				bpfrt_map_free(m->map);
				m->map = NULL;
			}
			return ret;
		}
		if (ret != -ENOENT)
			return err_set(err, ret, -1, "map '%s': %s", m->name, merr.msg);
		ret = create_and_pin(obj, m, path, err);
		if (ret != -EEXIST)
			return ret;
	}
	return err_set(err, -EAGAIN, -1, "map '%s': '%s' keeps appearing and vanishing",
		       m->name, path);
}
