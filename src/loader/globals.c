/* globals.c — global variables by name: set before loading (const volatile configuration), read and write after. */
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "loader/loader.h"
#include "util/error.h"

/* ---- Finding a variable ------------------------------------------------------------------ */

struct var {
	struct ld_map *map;	/* its section's map */
	uint64_t off, size;
	bool rodata;
};

static bool is_data(const struct ld_sec *s)
{
	return s->kind == LD_SEC_DATA || s->kind == LD_SEC_RODATA || s->kind == LD_SEC_BSS;
}

/* The variable's size: its BTF type's if BTF describes it, else its symbol's. */
static int var_size(const struct bpfrt_obj *obj, const struct ld_sec *s,
		    const struct ld_sym *y, uint64_t *size, struct bpfrt_error *err)
{
	int ret = ld_btf_var_size(obj, s->name, y->name, size);

	if (ret < 0)
		return err_set(err, ret, -1, "global '%s': its BTF type has no size", y->name);
	if (!ret)
		*size = y->size;
	if (!*size || y->value > s->size || *size > s->size - y->value)
		return err_set(err, -EINVAL, -1,
			       "global '%s' (offset %llu, %llu bytes) does not fit section '%s'",
			       y->name, (unsigned long long)y->value,
			       (unsigned long long)*size, s->name);
	return 0;
}

static int find_var(const struct bpfrt_obj *obj, const char *name, size_t size,
		    struct var *v, struct bpfrt_error *err)
{
	for (size_t i = 0; i < obj->nsyms; i++) {
		const struct ld_sym *y = &obj->syms[i];
		const struct ld_sec *s;
		int ret;

		if (y->shndx >= obj->nsecs || y->type == STT_SECTION || strcmp(y->name, name))
			continue;
		s = &obj->secs[y->shndx];
		if (!is_data(s) || s->map < 0)
			continue;
		v->map = &obj->maps[s->map];
		v->off = y->value;
		v->rodata = s->kind == LD_SEC_RODATA;
		ret = var_size(obj, s, y, &v->size, err);
		if (ret)
			return ret;
		if (v->size != size)
			return err_set(err, -EINVAL, -1,
				       "global '%s' is %llu bytes, not %zu", name,
				       (unsigned long long)v->size, size);
		return 0;
	}
	return err_set(err, -ENOENT, -1, "the object has no global variable '%s'", name);
}

/* ---- Reading and writing -------------------------------------------------------------------- */

/* The section's whole value, from the map after loading (malloc'ed). */
static int read_value(const struct var *v, uint8_t **buf, struct bpfrt_error *err)
{
	uint32_t zero = 0;
	int ret;

	*buf = malloc(v->map->def.value_size);
	if (!*buf)
		return err_set(err, -ENOMEM, -1, "out of memory");
	ret = bpfrt_map_lookup(v->map->map, &zero, *buf);
	if (ret) {
		free(*buf);
		*buf = NULL;
		return err_set(err, ret, -1, "cannot read map '%s'", v->map->name);
	}
	return 0;
}

BPFRT_API int bpfrt_obj_set_global(struct bpfrt_obj *obj, const char *name,
				   const void *val, size_t size, struct bpfrt_error *err)
{
	uint32_t zero = 0;
	uint8_t *buf;
	struct var v;
	int ret;

	err_clear(err);
	ret = find_var(obj, name, size, &v, err);
	if (ret)
		return ret;
	if (!v.map->map) {
		memcpy(v.map->image + v.off, val, size);
		return 0;
	}
	if (v.rodata)
		return err_set(err, -EPERM, -1,
			       "global '%s' is in read-only section '%s', which cannot "
			       "change once loaded", name, v.map->name);
	ret = read_value(&v, &buf, err);
	if (ret)
		return ret;
	memcpy(buf + v.off, val, size);
	ret = bpfrt_map_update(v.map->map, &zero, buf, BPFRT_ANY);
	free(buf);
	if (ret)
		return err_set(err, ret, -1, "cannot write map '%s'", v.map->name);
	return 0;
}

BPFRT_API int bpfrt_obj_get_global(const struct bpfrt_obj *obj, const char *name,
				   void *val, size_t size, struct bpfrt_error *err)
{
	uint8_t *buf;
	struct var v;
	int ret;

	err_clear(err);
	ret = find_var(obj, name, size, &v, err);
	if (ret)
		return ret;
	if (!v.map->map) {
		memcpy(val, v.map->image + v.off, size);
		return 0;
	}
	ret = read_value(&v, &buf, err);
	if (ret)
		return ret;
	memcpy(val, buf + v.off, size);
	free(buf);
	return 0;
}
