/* btf_maps.c — BTF-defined maps in section .maps: their attributes, inner map templates and __array initialisers. */
#include <bpf/btf.h>
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "loader/loader.h"
#include "util/error.h"

/*
 * A map is a variable of .maps whose BTF type is a struct of attributes,
 * as libbpf's macros declare them:
 *	__uint(name, N)		int (*name)[N]		the number is the array's length
 *	__type(name, T)		typeof(T) *name		key, value: the size of T
 *	__array(values, T)	typeof(T) *values[]	T is an inner map's definition
 *						(maps of maps) or a function
 *						prototype (prog arrays)
 * Newer libbpf writes __ulong(name, N) as an enum whose one value is N.
 */

#define MAX_DEPTH 32	/* typedef / modifier chains followed at most */

/* ---- Types ------------------------------------------------------------------------- */

/* Follow typedefs and modifiers from id; NULL for an invalid id or chain. */
static const struct btf_type *skip_mods(const struct btf *btf, uint32_t id)
{
	for (int i = 0; i < MAX_DEPTH; i++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (!t)
			return NULL;
		switch (btf_kind(t)) {
		case BTF_KIND_TYPEDEF: case BTF_KIND_CONST: case BTF_KIND_VOLATILE:
		case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG:
			id = t->type;
			break;
		default:
			return t;
		}
	}
	return NULL;
}

struct def_ctx {
	const struct bpfrt_obj *obj;
	const char *map;		/* its name, for messages */
	struct bpfrt_error *err;
};

static int attr_uint(const struct def_ctx *c, const char *attr, uint32_t type,
		     uint64_t *val)
{
	const struct btf_type *t = skip_mods(c->obj->btf, type), *a;

	if (t && btf_is_ptr(t) && (a = skip_mods(c->obj->btf, t->type)) && btf_is_array(a)) {
		*val = btf_array(a)->nelems;
		return 0;
	}
	if (t && btf_is_enum(t) && btf_vlen(t)) {
		*val = (uint32_t)btf_enum(t)[0].val;
		return 0;
	}
	if (t && btf_is_enum64(t) && btf_vlen(t)) {
		*val = btf_enum64_value(btf_enum64(t));
		return 0;
	}
	return err_set(c->err, -EINVAL, -1,
		       "map '%s': attribute '%s' is not a number declared with __uint()",
		       c->map, attr);
}

static int attr_size(const struct def_ctx *c, const char *attr, uint32_t type,
		     uint32_t *size)
{
	const struct btf_type *t = skip_mods(c->obj->btf, type);
	int64_t sz;

	if (!t || !btf_is_ptr(t))
		return err_set(c->err, -EINVAL, -1,
			       "map '%s': attribute '%s' is not a type declared with __type()",
			       c->map, attr);
	sz = btf__resolve_size(c->obj->btf, t->type);
	if (sz < 0 || sz > UINT32_MAX)
		return err_set(c->err, -EINVAL, -1,
			       "map '%s': the size of its %s type cannot be resolved",
			       c->map, attr);
	if (*size && *size != (uint32_t)sz)
		return err_set(c->err, -EINVAL, -1,
			       "map '%s': %s is %lld bytes but %s_size says %u",
			       c->map, attr, (long long)sz, attr, *size);
	*size = (uint32_t)sz;
	return 0;
}

/* ---- Attributes ---------------------------------------------------------------------- */

static int parse_def(const struct def_ctx *c, uint32_t type, struct ld_map *m,
		     struct ld_mapdef *def);

/* __array(values, T): T is an inner map (m gets the template) or a program type. */
static int attr_values(const struct def_ctx *c, const struct btf_type *st, unsigned i,
		       struct ld_map *m)
{
	const struct btf_member *mb = &btf_members(st)[i];
	const struct btf_type *a = skip_mods(c->obj->btf, mb->type), *p, *t;
	uint32_t bits = btf_member_bit_offset(st, i);

	if (!m)
		return err_set(c->err, -EINVAL, -1,
			       "map '%s': an inner map cannot have values", c->map);
	if (!a || !btf_is_array(a) || !(p = skip_mods(c->obj->btf, btf_array(a)->type)) ||
	    !btf_is_ptr(p) || !(t = skip_mods(c->obj->btf, p->type)) ||
	    (!btf_is_struct(t) && !btf_is_func_proto(t)) || bits % 8)
		return err_set(c->err, -EINVAL, -1,
			       "map '%s': 'values' is not declared with __array() of "
			       "a map definition or a function type", c->map);
	m->has_values = true;
	m->values_off = bits / 8;
	if (btf_is_func_proto(t))
		return 0;
	m->has_inner = true;
	return parse_def(c, p->type, NULL, &m->inner);
}

static int attr_number(const struct def_ctx *c, const char *name, uint32_t type,
		       struct ld_mapdef *def)
{
	static const struct {
		const char *name;
		size_t off;
	} nums[] = {
		{ "type", offsetof(struct ld_mapdef, type) },
		{ "key_size", offsetof(struct ld_mapdef, key_size) },
		{ "value_size", offsetof(struct ld_mapdef, value_size) },
		{ "max_entries", offsetof(struct ld_mapdef, max_entries) },
		{ "map_flags", offsetof(struct ld_mapdef, map_flags) },
		{ "pinning", offsetof(struct ld_mapdef, pinning) },
		{ "numa_node", SIZE_MAX },
		{ "map_extra", offsetof(struct ld_mapdef, map_extra) },
	};
	uint64_t v = 0;
	int ret;

	for (size_t k = 0; k < ARRAY_SIZE(nums); k++) {
		if (strcmp(name, nums[k].name))
			continue;
		ret = attr_uint(c, name, type, &v);
		if (ret || nums[k].off == SIZE_MAX)
			return ret;
		if (nums[k].off == offsetof(struct ld_mapdef, map_extra))
			def->map_extra = v;
		else if (v > UINT32_MAX)
			return err_set(c->err, -EINVAL, -1,
				       "map '%s': %s %llu does not fit 32 bits", c->map,
				       name, (unsigned long long)v);
		else
			*(uint32_t *)((char *)def + nums[k].off) = (uint32_t)v;
		return 0;
	}
	return 1;	/* not a number */
}

static int attr(const struct def_ctx *c, const struct btf_type *st, unsigned i,
		struct ld_map *m, struct ld_mapdef *def)
{
	const struct btf_member *mb = &btf_members(st)[i];
	const char *name = ld_btf_str(c->obj, mb->name_off);
	int ret = attr_number(c, name, mb->type, def);

	if (ret <= 0)
		return ret;
	if (!strcmp(name, "key") || !strcmp(name, "value")) {
		const struct btf_type *pt = skip_mods(c->obj->btf, mb->type);
		bool key = name[0] == 'k';

		if (pt && btf_is_ptr(pt))
			*(key ? &def->key_type : &def->value_type) = pt->type;
		return attr_size(c, name, mb->type, key ? &def->key_size : &def->value_size);
	}
	if (!strcmp(name, "values"))
		return attr_values(c, st, i, m);
	return err_set(c->err, -EINVAL, -1, "map '%s': unknown attribute '%s'",
		       c->map, name);
}

/* What values (prog arrays, maps of maps) imply: 4-byte values; a matching type. */
static int check_values(const struct def_ctx *c, const struct ld_map *m,
			struct ld_mapdef *def)
{
	bool of_maps = ld_map_is_of_maps(def->type);

	if (of_maps && !m->has_inner)
		return err_set(c->err, -EINVAL, -1,
			       "map '%s' is a map of maps but does not describe its "
			       "inner map with __array(values, ...)", c->map);
	if (!m->has_values)
		return 0;
	if (m->has_inner ? !of_maps : def->type != BPFRT_MAP_PROG_ARRAY)
		return err_set(c->err, -EINVAL, -1,
			       "map '%s' is a %s map, whose values cannot be %s", c->map,
			       ld_map_type_name(def->type),
			       m->has_inner ? "maps" : "programs");
	if (def->value_size && def->value_size != 4)
		return err_set(c->err, -EINVAL, -1,
			       "map '%s': value_size must be 4 for %s", c->map,
			       ld_map_type_name(def->type));
	def->value_size = 4;
	return 0;
}

/* A definition: m is the map (NULL for an inner map's template). */
static int parse_def(const struct def_ctx *c, uint32_t type, struct ld_map *m,
		     struct ld_mapdef *def)
{
	const struct btf_type *st = skip_mods(c->obj->btf, type);
	int ret;

	if (!st || !btf_is_struct(st))
		return err_set(c->err, -EINVAL, -1,
			       "map '%s': its BTF definition is not a struct", c->map);
	for (unsigned i = 0; i < btf_vlen(st); i++) {
		ret = attr(c, st, i, m, def);
		if (ret)
			return ret;
	}
	if (!def->type)
		return err_set(c->err, -EINVAL, -1, "map '%s' has no type%s", c->map,
			       m ? "" : " for its inner map");
	return m ? check_values(c, m, def) : 0;
}

/* ---- Maps of .maps ---------------------------------------------------------------------- */

/* The BTF type of variable `name` in DATASEC .maps, or 0. */
static uint32_t var_type(const struct bpfrt_obj *obj, const struct btf_type *ds,
			 const char *name)
{
	const struct btf_var_secinfo *vs = btf_var_secinfos(ds);

	for (unsigned i = 0; i < btf_vlen(ds); i++) {
		const struct btf_type *v = btf__type_by_id(obj->btf, vs[i].type);

		if (v && btf_is_var(v) && !strcmp(ld_btf_str(obj, v->name_off), name))
			return v->type;
	}
	return 0;
}

static int btf_map(struct bpfrt_obj *obj, uint32_t sec, const struct btf_type *ds,
		   const struct ld_sym *y, uint64_t end, struct bpfrt_error *err)
{
	struct def_ctx c = { obj, y->name, err };
	uint32_t type = var_type(obj, ds, y->name);
	struct ld_map *m;

	if (!type)
		return err_set(err, -EINVAL, -1,
			       "map '%s' in section '.maps' has no BTF description", y->name);
	m = ld_map_add(obj);
	if (!m)
		return err_set(err, -ENOMEM, -1, "out of memory");
	m->name = y->name;
	m->sec = sec;
	m->kind = LD_MAP_BTF;
	m->off = y->value;
	m->size = y->size ? y->size : end - y->value;
	if (m->off > obj->secs[sec].size || m->size > obj->secs[sec].size - m->off)
		return err_set(err, -EINVAL, -1,
			       "map '%s' lies outside section '.maps'", y->name);
	return parse_def(&c, type, m, &m->def);
}

int ld_btf_maps(struct bpfrt_obj *obj, uint32_t sec, struct bpfrt_error *err)
{
	const struct btf_type *ds = NULL;
	size_t n, *idx = NULL;
	int id, ret = 0;

	if (!obj->btf)
		return err_set(err, -EINVAL, -1,
			       "section '.maps' needs BTF to describe its maps "
			       "(compile with clang -g)");
	id = btf__find_by_name_kind(obj->btf, ".maps", BTF_KIND_DATASEC);
	if (id > 0)
		ds = btf__type_by_id(obj->btf, id);
	if (!ds)
		return err_set(err, -EINVAL, -1, "BTF has no DATASEC '.maps'");
	idx = ld_section_vars(obj, sec, &n);
	if (!idx)
		return err_set(err, -ENOMEM, -1, "out of memory");
	for (size_t k = 0; k < n && !ret; k++) {
		uint64_t end = k + 1 < n ? obj->syms[idx[k + 1]].value : obj->secs[sec].size;

		ret = btf_map(obj, sec, ds, &obj->syms[idx[k]], end, err);
	}
	free(idx);
	return ret;
}

/* ---- __array initialisers ----------------------------------------------------------------- */

/* The program or map symbol y stands for, as the target of a slot of map m. */
static int init_target(const struct bpfrt_obj *obj, const struct ld_map *m,
		       const struct ld_sym *y, struct bpfrt_error *err)
{
	const struct ld_sec *s = y->shndx < obj->nsecs ? &obj->secs[y->shndx] : NULL;
	int t = -1;

	if (m->def.type == BPFRT_MAP_PROG_ARRAY && s && s->kind == LD_SEC_PROG &&
	    !(y->value % 8)) {
		t = ld_func_at(obj, y->shndx, y->value / 8);
		t = t < 0 ? -1 : obj->funcs[t].prog;
	} else if (m->has_inner && s && s->kind == LD_SEC_MAPS) {
		t = ld_map_at(obj, y->shndx, y->value);
		t = t >= 0 && obj->maps[t].off == y->value ? t : -1;
	}
	if (t < 0)
		return err_set(err, -EINVAL, -1,
			       "map '%s': initial value '%s' is not a %s of this object",
			       m->name, y->name, m->has_inner ? "map" : "program");
	return t;
}

static int add_init(struct bpfrt_obj *obj, const struct ld_sec *s, const struct ld_rel *r,
		    struct bpfrt_error *err)
{
	int mi = ld_map_at(obj, (uint32_t)(s - obj->secs), r->off), t;
	struct ld_map *m = mi >= 0 ? &obj->maps[mi] : NULL;
	uint64_t rel = m ? r->off - m->off : 0;
	struct ld_init *ni;

	if (!m || !m->has_values || rel < m->values_off || (rel - m->values_off) % 8 ||
	    (r->type != LD_R_BPF_64_ABS64 && r->type != LD_R_BPF_64_64))
		return err_set(err, -EINVAL, -1,
			       "relocation %u of section '.maps' (type %u, offset %#llx) "
			       "is not a slot of a map's values", r->no, r->type,
			       (unsigned long long)r->off);
	if ((rel - m->values_off) / 8 >= m->def.max_entries)
		return err_set(err, -E2BIG, -1,
			       "map '%s' has %u entries but an initial value for slot %llu",
			       m->name, m->def.max_entries,
			       (unsigned long long)(rel - m->values_off) / 8);
	t = init_target(obj, m, &obj->syms[r->sym], err);
	if (t < 0)
		return t;
	ni = realloc(m->inits, (m->ninits + 1) * sizeof(*ni));
	if (!ni)
		return err_set(err, -ENOMEM, -1, "out of memory");
	m->inits = ni;
	ni[m->ninits++] = (struct ld_init){ (uint32_t)((rel - m->values_off) / 8), t };
	return 0;
}

int ld_maps_inits(struct bpfrt_obj *obj, struct bpfrt_error *err)
{
	for (size_t i = 1; i < obj->nsecs; i++) {
		const struct ld_sec *s = &obj->secs[i];

		for (size_t k = 0; s->kind == LD_SEC_MAPS && k < s->nrels; k++) {
			int ret = add_init(obj, s, &s->rels[k], err);

			if (ret)
				return ret;
		}
	}
	return 0;
}
