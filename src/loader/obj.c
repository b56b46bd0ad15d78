/* obj.c — the object API: opening from a file or memory, programs and maps by index or name, closing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader/loader.h"
#include "util/error.h"

/* ---- Opening ------------------------------------------------------------------------- */

static void obj_free(struct bpfrt_obj *obj)
{
	if (!obj)
		return;
	ld_unload(obj);
	for (size_t i = 0; i < obj->nprogs; i++) {
		struct ld_prog *p = &obj->progs[i];

		free(p->insns);
		free(p->maps);
		free(p->fstarts);
		free(p->lines);
		free(p->kfuncs);
		free(p->unsupported);
	}
	free(obj->progs);
	for (size_t i = 0; i < obj->nmaps; i++) {
		free(obj->maps[i].inits);
		free(obj->maps[i].image);
	}
	free(obj->maps);
	free(obj->funcs);
	ld_btf_free(obj);
	ld_elf_free(obj);
	free(obj->image);
	free(obj->name);
	free(obj->pin_dir);
	free(obj->path);
	free(obj);
}

static void take_opts(struct bpfrt_obj *obj, const struct bpfrt_obj_opts *o)
{
	if (!o)
		return;
	obj->default_type = o->default_type;
	obj->cpu = o->cpu;
	obj->ncpus = o->ncpus;
	if (o->sz >= offsetof(struct bpfrt_obj_opts, jit_blind) + sizeof(o->jit_blind))
		obj->jit_blind = o->jit_blind;
}

/* Parse obj->image: each stage reads what the ones before it found. */
static int parse(struct bpfrt_obj *obj, struct bpfrt_error *err)
{
	int ret = ld_elf_read(obj, err);

	if (!ret)
		ret = ld_btf_read(obj, err);
	if (!ret)
		ret = ld_progs_find(obj, err);
	if (!ret)
		ret = ld_maps_find(obj, err);
	if (!ret)
		ret = ld_maps_inits(obj, err);
	if (!ret)
		ret = ld_relocate(obj, err);
	return ret;
}

/* Open the image obj->image (ours), named name. */
static int open_image(struct bpfrt_obj *obj, const char *name,
		      const struct bpfrt_obj_opts *opts, struct bpfrt_obj **out,
		      struct bpfrt_error *err)
{
	int ret;

	if (opts && opts->sz < offsetof(struct bpfrt_obj_opts, ncpus) + sizeof(opts->ncpus)) {
		ret = err_set(err, -EINVAL, -1, "bpfrt_obj_opts has an unknown size "
			      "(declare it with BPFRT_OPTS)");
		goto fail;
	}
	take_opts(obj, opts);
	obj->name = strdup(name);
	if (!obj->name) {
		ret = err_set(err, -ENOMEM, -1, "out of memory");
		goto fail;
	}
	ret = parse(obj, err);
	if (ret)
		goto fail;
	*out = obj;
	return 0;
fail:
	obj_free(obj);
	return ret;
}

BPFRT_API int bpfrt_obj_open_mem(const void *buf, size_t len,
				 const struct bpfrt_obj_opts *opts,
				 struct bpfrt_obj **out, struct bpfrt_error *err)
{
	struct bpfrt_obj *obj;
	const char *name = "memory";

	err_clear(err);
	*out = NULL;
	if (!buf || !len)
		return err_set(err, -EINVAL, -1, "the object is empty");
	if (opts && opts->sz >= offsetof(struct bpfrt_obj_opts, name) + sizeof(opts->name) &&
	    opts->name)
		name = opts->name;
	obj = calloc(1, sizeof(*obj));
	if (obj)
		obj->image = malloc(len);
	if (!obj || !obj->image) {
		free(obj);
		return err_set(err, -ENOMEM, -1, "out of memory");
	}
	memcpy(obj->image, buf, len);
	obj->image_len = len;
	return open_image(obj, name, opts, out, err);
}

static int read_file(const char *path, uint8_t **buf, size_t *len, struct bpfrt_error *err)
{
	struct stat st;
	ssize_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	*buf = NULL;
	if (fd < 0)
		return err_set(err, -errno, -1, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		ret = err_set(err, -EINVAL, -1, "%s is not a regular, non-empty file", path);
		goto out;
	}
	*len = (size_t)st.st_size;
	*buf = malloc(*len);
	if (!*buf) {
		ret = err_set(err, -ENOMEM, -1, "out of memory");
		goto out;
	}
	for (size_t off = 0; off < *len; off += (size_t)got) {
		got = read(fd, *buf + off, *len - off);
		if (got <= 0) {
			ret = err_set(err, got ? -errno : -EIO, -1, "cannot read %s", path);
			goto out;
		}
	}
out:
	if (ret) {
		free(*buf);
		*buf = NULL;
	}
	close(fd);
	return ret;
}

BPFRT_API int bpfrt_obj_open(const char *path, const struct bpfrt_obj_opts *opts,
			     struct bpfrt_obj **out, struct bpfrt_error *err)
{
	struct bpfrt_obj *obj;
	const char *base;
	int ret;

	err_clear(err);
	*out = NULL;
	obj = calloc(1, sizeof(*obj));
	if (!obj)
		return err_set(err, -ENOMEM, -1, "out of memory");
	ret = read_file(path, &obj->image, &obj->image_len, err);
	if (ret) {
		free(obj);
		return ret;
	}
	obj->path = realpath(path, NULL);	/* for pinned program records */
	base = strrchr(path, '/');
	return open_image(obj, base ? base + 1 : path, opts, out, err);
}

BPFRT_API void bpfrt_obj_close(struct bpfrt_obj *obj)
{
	obj_free(obj);
}

BPFRT_API const char *bpfrt_obj_license(const struct bpfrt_obj *obj)
{
	return obj->license ? obj->license : "";
}

BPFRT_API uint32_t bpfrt_obj_kversion(const struct bpfrt_obj *obj)
{
	return obj->kversion;
}

/* ---- Programs -------------------------------------------------------------------------- */

BPFRT_API size_t bpfrt_obj_prog_count(const struct bpfrt_obj *obj)
{
	return obj->nprogs;
}

BPFRT_API struct bpfrt_prog *bpfrt_obj_prog_at(const struct bpfrt_obj *obj, size_t i,
					       struct bpfrt_obj_prog_info *info)
{
	const struct ld_prog *p;

	if (i >= obj->nprogs)
		return NULL;
	p = &obj->progs[i];
	if (info)
		*info = (struct bpfrt_obj_prog_info){
			.name = p->name, .section = obj->secs[p->sec].name,
			.type = p->type, .insns = p->insns, .insn_cnt = p->n,
			.nmaps = p->nmaps, .core_relos = p->core_relos,
			.unsupported = p->unsupported, .autoload = p->autoload,
			.prog = p->prog,
		};
	return p->prog;
}

BPFRT_API int bpfrt_obj_prog_find(const struct bpfrt_obj *obj, const char *name)
{
	for (size_t i = 0; i < obj->nprogs; i++)
		if (!strcmp(obj->progs[i].name, name))
			return (int)i;
	return -ENOENT;
}

BPFRT_API struct bpfrt_prog *bpfrt_obj_prog_by_name(const struct bpfrt_obj *obj,
						    const char *name)
{
	int i = bpfrt_obj_prog_find(obj, name);

	return i < 0 ? NULL : obj->progs[i].prog;
}

BPFRT_API int bpfrt_obj_prog_set_type(struct bpfrt_obj *obj, size_t i,
				      enum bpfrt_prog_type type)
{
	if (i >= obj->nprogs)
		return -EINVAL;
	if (obj->loaded)
		return -EBUSY;
	obj->progs[i].type = type;
	return 0;
}

BPFRT_API int bpfrt_obj_prog_set_autoload(struct bpfrt_obj *obj, size_t i, bool autoload)
{
	if (i >= obj->nprogs)
		return -EINVAL;
	if (obj->loaded)
		return -EBUSY;
	obj->progs[i].autoload = autoload;
	return 0;
}

BPFRT_API int bpfrt_obj_prog_line(const struct bpfrt_obj *obj, size_t i, size_t insn,
				  struct bpfrt_obj_line *line)
{
	const struct ld_prog *p = i < obj->nprogs ? &obj->progs[i] : NULL;
	size_t fstart = 0;
	const struct ld_pline *best = NULL;

	if (!p || insn >= p->n)
		return -EINVAL;
	for (size_t k = 0; k < p->nfuncs; k++)
		if (p->fstarts[k] <= insn && p->fstarts[k] >= fstart)
			fstart = p->fstarts[k];
	for (size_t k = 0; k < p->nlines && p->lines[k].insn <= insn; k++)
		if (p->lines[k].insn >= fstart)
			best = &p->lines[k];
	if (!best)
		return -ENOENT;
	*line = (struct bpfrt_obj_line){ best->file, best->src, best->line, best->col };
	return 0;
}

/* ---- Maps ------------------------------------------------------------------------------- */

BPFRT_API size_t bpfrt_obj_map_count(const struct bpfrt_obj *obj)
{
	return obj->nmaps;
}

BPFRT_API struct bpfrt_map *bpfrt_obj_map_at(const struct bpfrt_obj *obj, size_t i,
					     struct bpfrt_obj_map_info *info)
{
	const struct ld_map *m;

	if (i >= obj->nmaps)
		return NULL;
	m = &obj->maps[i];
	if (info)
		*info = (struct bpfrt_obj_map_info){
			.name = m->name, .section = obj->secs[m->sec].name,
			.type = (enum bpfrt_map_type)m->def.type,
			.key_size = m->def.key_size, .value_size = m->def.value_size,
			.max_entries = m->def.max_entries, .map_flags = m->def.map_flags,
			.pinning = m->def.pinning, .ninit = m->ninits, .map = m->map,
		};
	return m->map;
}

BPFRT_API int bpfrt_obj_map_find(const struct bpfrt_obj *obj, const char *name)
{
	for (size_t i = 0; i < obj->nmaps; i++)
		if (!strcmp(obj->maps[i].name, name))
			return (int)i;
	return -ENOENT;
}

BPFRT_API struct bpfrt_map *bpfrt_obj_map_by_name(const struct bpfrt_obj *obj,
						  const char *name)
{
	int i = bpfrt_obj_map_find(obj, name);

	return i < 0 ? NULL : obj->maps[i].map;
}
