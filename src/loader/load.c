/* load.c — bpfrt_obj_load: maps (with contents), then programs, then prog arrays; undone whole on failure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/loader.h"
#include "util/error.h"

/* ---- Maps ------------------------------------------------------------------------------ */

static int create(const struct bpfrt_obj *obj, const char *name, const struct ld_mapdef *d,
		  struct bpfrt_map *inner, struct bpfrt_map **out, struct bpfrt_error *err)
{
	BPFRT_OPTS(bpfrt_map_opts, o, .type = (enum bpfrt_map_type)d->type,
		   .key_size = d->key_size, .value_size = d->value_size,
		   .max_entries = d->max_entries, .map_flags = d->map_flags,
		   .map_extra = d->map_extra, .name = name, .inner = inner,
		   .ncpus = obj->ncpus);
	struct bpfrt_error merr;
	int ret = bpfrt_map_create(&o, out, &merr);

	if (ret)
		return err_set(err, ret, -1, "map '%s' (%s, type %u): %s", name,
			       ld_map_type_name(d->type), d->type, merr.msg);
	return 0;
}

static int create_map(struct bpfrt_obj *obj, struct ld_map *m, struct bpfrt_error *err)
{
	struct bpfrt_map *tmpl = NULL;
	uint32_t zero = 0;
	int ret;

	if (obj->pin_dir && m->kind != LD_MAP_DATA && !ld_map_is_of_maps(m->def.type) &&
	    m->def.type != BPFRT_MAP_PROG_ARRAY)
		return pin_obj_map(obj, m, err);
	if (m->has_inner) {
		ret = create(obj, m->name, &m->inner, NULL, &tmpl, err);
		if (ret)
			return ret;
	}
	ret = create(obj, m->name, &m->def,
		     m->inner_idx >= 0 ? obj->maps[m->inner_idx].map : tmpl, &m->map, err);
	bpfrt_map_free(tmpl);
	if (ret || !m->image)
		return ret;
	ret = bpfrt_map_update(m->map, &zero, m->image, BPFRT_ANY);
	if (ret)
		return err_set(err, ret, -1, "map '%s': cannot write its initial value (%s)",
			       m->name, strerror(-ret));
	/* .rodata is frozen once written, as libbpf does: its strings are then constant */
	if (m->kind == LD_MAP_DATA && (m->def.map_flags & (1u << 7)))
		bpfrt_map_freeze(m->map);
	return 0;
}

/* Maps of maps last: a legacy one's template is another map of the object. */
static int create_maps(struct bpfrt_obj *obj, struct bpfrt_error *err)
{
	int ret = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < obj->nmaps && !ret; i++) {
			struct ld_map *m = &obj->maps[i];

			if (ld_map_is_of_maps(m->def.type) == (pass == 1))
				ret = create_map(obj, m, err);
		}
	}
	return ret;
}

/* Slot init of map m gets value (a map or a program pointer). */
static int fill_slot(struct ld_map *m, const struct ld_init *init, const void *value,
		     struct bpfrt_error *err)
{
	int ret;

	if (m->def.key_size != sizeof(init->key))
		return err_set(err, -EINVAL, -1,
			       "map '%s': initial values need 4-byte keys, not %u",
			       m->name, m->def.key_size);
	ret = bpfrt_map_update(m->map, &init->key, value, BPFRT_ANY);
	if (ret)
		return err_set(err, ret, -1, "map '%s': cannot set slot %u (%s)", m->name,
			       init->key, strerror(-ret));
	return 0;
}

static int fill_maps_of_maps(struct bpfrt_obj *obj, struct bpfrt_error *err)
{
	for (size_t i = 0; i < obj->nmaps; i++) {
		struct ld_map *m = &obj->maps[i];

		for (size_t k = 0; m->has_inner && k < m->ninits; k++) {
			int ret = fill_slot(m, &m->inits[k], &obj->maps[m->inits[k].target].map,
					    err);

			if (ret)
				return ret;
		}
	}
	return 0;
}

/* Slots of prog arrays whose program was not loaded stay empty. */
static int fill_prog_arrays(struct bpfrt_obj *obj, struct bpfrt_error *err)
{
	for (size_t i = 0; i < obj->nmaps; i++) {
		struct ld_map *m = &obj->maps[i];

		for (size_t k = 0; !m->has_inner && k < m->ninits; k++) {
			struct ld_prog *p = &obj->progs[m->inits[k].target];
			int ret;

			if (!p->prog)
				continue;
			ret = fill_slot(m, &m->inits[k], &p->prog, err);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* ---- Programs ------------------------------------------------------------------------------ */

/* Prefix err's message with the program's name and the instruction's source line. */
static int prog_error(const struct bpfrt_obj *obj, size_t i, int code,
		      const struct bpfrt_error *perr, struct bpfrt_error *err)
{
	const struct ld_prog *p = &obj->progs[i];
	struct bpfrt_obj_line l;
	char where[96] = "";

	if (perr->insn >= 0 && !bpfrt_obj_prog_line(obj, i, (size_t)perr->insn, &l)) {
		const char *f = strrchr(l.file, '/');

		snprintf(where, sizeof(where), " (%s:%u)", f ? f + 1 : l.file, l.line);
	}
	return err_set(err, code, perr->insn, "program '%s': %s%s", p->name, perr->msg,
		       where);
}

static int create_prog(struct bpfrt_obj *obj, size_t i, struct bpfrt_error *err)
{
	struct ld_prog *p = &obj->progs[i];
	struct bpfrt_error perr;
	int ret;

	if (p->unsupported)
		return err_set(err, -ENOTSUP, -1, "%s", p->unsupported);
	if (p->core_relos)
		return err_set(err, -ENOTSUP, -1,
			       "program '%s' uses CO-RE relocations (%u), which bpfrt "
			       "does not support yet", p->name, p->core_relos);
	p->table = calloc(p->nmaps ? p->nmaps : 1, sizeof(*p->table));
	if (!p->table)
		return err_set(err, -ENOMEM, -1, "out of memory");
	for (size_t k = 0; k < p->nmaps; k++)
		p->table[k] = obj->maps[p->maps[k]].map;
	BPFRT_OPTS(bpfrt_prog_opts, o, .cpu = obj->cpu, .maps = p->table, .nmaps = p->nmaps,
		   .type = p->type, .jit_blind = obj->jit_blind);
	ret = bpfrt_prog_new(p->insns, p->n, &o, &p->prog, &perr);
	return ret ? prog_error(obj, i, ret, &perr, err) : 0;
}

/* ---- Loading and unloading --------------------------------------------------------------------- */

static bool is_ours(const struct bpfrt_obj *obj, const struct bpfrt_prog *prog)
{
	for (size_t i = 0; i < obj->nprogs; i++)
		if (obj->progs[i].prog == prog)
			return true;
	return false;
}

/* Prog arrays do not own their programs: take ours out before they go. */
static void forget_progs(struct bpfrt_obj *obj, struct bpfrt_map *map)
{
	struct bpfrt_map_info info;
	struct bpfrt_prog *prog;

	bpfrt_map_get_info(map, &info);
	if (info.type != BPFRT_MAP_PROG_ARRAY)
		return;
	for (uint32_t k = 0; k < info.max_entries; k++)
		if (!bpfrt_map_lookup(map, &k, &prog) && is_ours(obj, prog))
			bpfrt_map_delete(map, &k);
}

void ld_unload(struct bpfrt_obj *obj)
{
	pin_obj_unloaded(obj);
	for (size_t i = 0; i < obj->nmaps; i++)
		if (obj->maps[i].map)
			forget_progs(obj, obj->maps[i].map);
	for (size_t i = 0; i < obj->nprogs; i++) {
		bpfrt_prog_free(obj->progs[i].prog);
		obj->progs[i].prog = NULL;
		free(obj->progs[i].table);
		obj->progs[i].table = NULL;
	}
	for (size_t i = 0; i < obj->nmaps; i++) {
		bpfrt_map_free(obj->maps[i].map);
		obj->maps[i].map = NULL;
	}
	obj->loaded = false;
}

BPFRT_API int bpfrt_obj_load(struct bpfrt_obj *obj, struct bpfrt_error *err)
{
	int ret;

	err_clear(err);
	if (obj->loaded)
		return err_set(err, -EBUSY, -1, "the object is already loaded");
	ret = create_maps(obj, err);
	if (!ret)
		ret = fill_maps_of_maps(obj, err);
	for (size_t i = 0; !ret && i < obj->nprogs; i++)
		if (obj->progs[i].autoload)
			ret = create_prog(obj, i, err);
	if (!ret)
		ret = fill_prog_arrays(obj, err);
	if (ret) {
		ld_unload(obj);
		return ret;
	}
	obj->loaded = true;
	if (obj->pin_dir)
		pin_obj_loaded(obj);	/* best effort: `bpfrt prog show` lists them */
	return 0;
}
