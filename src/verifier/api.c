/* api.c — bpfrt_prog_verify: a program's maps and source lines in, a verdict and its costs out. */
#include <bpf/btf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec/prog.h"
#include "isa/isa.h"
#include "loader/loader.h"
#include "maps/map.h"
#include "util/error.h"
#include "verifier.h"

struct line_src {
	const struct bpfrt_obj *obj;
	size_t prog;
};

static bool line_of(void *arg, size_t insn, struct bpfrt_obj_line *line)
{
	struct line_src *l = arg;

	return bpfrt_obj_prog_line(l->obj, l->prog, insn, line) == 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct vmap vmap_of(uint32_t type, uint32_t key_size, uint32_t value_size,
			   uint32_t max_entries, uint32_t map_flags)
{
	return (struct vmap){ .type = type, .key_size = key_size, .value_size = value_size,
			      .max_entries = max_entries, .map_flags = map_flags };
}

static void def_to_vmap(const struct ld_mapdef *d, struct vmap *v)
{
	*v = vmap_of(d->type, d->key_size, d->value_size, d->max_entries, d->map_flags);
}

/* Is BTF type id (modifiers and typedefs aside) struct bpf_spin_lock? */
static bool is_spin_lock(const struct btf *btf, uint32_t id)
{
	int r = btf__resolve_type(btf, id);
	const struct btf_type *t = r > 0 ? btf__type_by_id(btf, (uint32_t)r) : NULL;

	return t && btf_is_struct(t) && !strcmp(btf__name_by_offset(btf, t->name_off),
						"bpf_spin_lock");
}

/*
 * What the object's BTF says about map m's value: that it is known, and
 * where its struct bpf_spin_lock is — a member of the value's struct at the
 * top level, or, for global data, a variable of the section (as the kernel
 * wants them).
 */
static void btf_facts(const struct bpfrt_obj *obj, const struct ld_map *m, struct vmap *v)
{
	const struct btf *btf = obj->btf;
	const struct btf_type *t;

	if (!btf)
		return;
	if (m->kind == LD_MAP_DATA) {
		int id = btf__find_by_name_kind(btf, obj->secs[m->sec].name, BTF_KIND_DATASEC);
		t = id > 0 ? btf__type_by_id(btf, (uint32_t)id) : NULL;
		if (!t)
			return;
		v->btf = true;
		const struct btf_var_secinfo *vs = btf_var_secinfos(t);
		for (unsigned i = 0; i < btf_vlen(t); i++) {
			const struct btf_type *var = btf__type_by_id(btf, vs[i].type);
			if (var && btf_is_var(var) && is_spin_lock(btf, var->type)) {
				v->has_lock = true;
				v->lock_off = vs[i].offset;
				return;
			}
		}
		return;
	}
	if (!m->def.value_type)
		return;
	t = btf__type_by_id(btf, (uint32_t)btf__resolve_type(btf, m->def.value_type));
	if (!t)
		return;
	v->btf = true;
	if (!btf_is_struct(t))
		return;
	const struct btf_member *mb = btf_members(t);
	for (unsigned i = 0; i < btf_vlen(t); i++, mb++)
		if (is_spin_lock(btf, mb->type)) {
			v->has_lock = true;
			v->lock_off = btf_member_bit_offset(t, i) / 8;
			return;
		}
}

/* The map table's maps and the values copied for it (frozen .rodata), freed after. */
struct vmaps {
	struct vmap *v;
	size_t n;
	uint8_t **copies;
};

static void vmaps_free(struct vmaps *t)
{
	for (size_t i = 0; t->copies && i < t->n; i++)
		free(t->copies[i]);
	free(t->copies);
	free(t->v);
}

/*
 * The map table: v[0..n) for the program's maps, their inner maps'
 * definitions after them.
 */
static int maps_of_obj(const struct bpfrt_obj *obj, size_t pi, struct vmaps *t)
{
	const struct ld_prog *p = &obj->progs[pi];
	struct vmap *v = calloc(p->nmaps * 2 + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < p->nmaps; i++) {
		const struct ld_map *m = &obj->maps[p->maps[i]];
		def_to_vmap(&m->def, &v[i]);
		btf_facts(obj, m, &v[i]);
		/* .rodata: its image is what the map will hold, frozen at load */
		if (m->kind == LD_MAP_DATA && (m->def.map_flags & (1u << 7)) && m->image)
			v[i].data = m->image;
		if (m->has_inner)
			def_to_vmap(&m->inner, &v[p->nmaps + i]);
		else if (m->inner_idx >= 0)
			def_to_vmap(&obj->maps[m->inner_idx].def, &v[p->nmaps + i]);
		else
			continue;
		v[i].inner = &v[p->nmaps + i];
	}
	t->v = v;
	t->n = p->nmaps;
	return 0;
}

/* The object's map that became map m, or NULL. */
static const struct ld_map *obj_map_of(const struct bpfrt_obj *obj, const struct bpfrt_map *m)
{
	for (size_t i = 0; obj && i < obj->nmaps; i++)
		if (obj->maps[i].map == m)
			return &obj->maps[i];
	return NULL;
}

static int maps_of_prog(const struct bpfrt_prog *prog, const struct bpfrt_obj *obj,
			struct vmaps *t)
{
	struct vmap *v = calloc(prog->nmaps * 2 + 1, sizeof(*v));
	uint8_t **copies = calloc(prog->nmaps + 1, sizeof(*copies));
	uint32_t zero = 0;

	if (!v || !copies) {
		free(v);
		free(copies);
		return -ENOMEM;
	}
	t->v = v;
	t->n = prog->nmaps;
	t->copies = copies;
	for (size_t i = 0; i < prog->nmaps; i++) {
		struct bpfrt_map *m = prog->maps[i];
		const struct ld_map *lm = obj_map_of(obj, m);
		v[i] = vmap_of(m->type, m->key_size, m->value_size, m->max_entries, m->map_flags);
		if (lm)
			btf_facts(obj, lm, &v[i]);
		/* a frozen read-only single-element array cannot change: its value is known */
		if ((m->map_flags & (1u << 7)) && m->type == BPFRT_MAP_ARRAY && m->max_entries == 1 &&
		    bpfrt_map_frozen(m)) {
			copies[i] = malloc(m->value_size ? m->value_size : 1);
			if (!copies[i])
				return -ENOMEM;
			if (bpfrt_map_lookup(m, &zero, copies[i]) == 0)
				v[i].data = copies[i];
		}
		if (m->type == BPFRT_MAP_ARRAY_OF_MAPS || m->type == BPFRT_MAP_HASH_OF_MAPS) {
			const struct map_meta *in = &((const struct map_block *)m->base)->inner;
			v[prog->nmaps + i] = vmap_of(in->type, in->key_size, in->value_size,
						     in->max_entries, in->map_flags);
			v[i].inner = &v[prog->nmaps + i];
		}
	}
	return 0;
}

/*
 * Kernel functions (kfuncs) are the running kernel's, found by the ids of
 * its BTF, which a user-space runtime does not have: a program that calls
 * one is refused before it is walked (the kernel, too, resolves every kfunc
 * call first), naming the call, its line and the function.
 */
static int refuse_kfunc(const struct bpfrt_obj *obj, size_t pi, struct bpfrt_error *err)
{
	const struct ld_prog *p = &obj->progs[pi];
	const struct ld_kfunc *k = &p->kfuncs[0];
	struct bpfrt_obj_line l;
	char where[160];

	if (!bpfrt_obj_prog_line(obj, pi, k->insn, &l)) {
		const char *f = l.file ? strrchr(l.file, '/') : NULL, *src = l.src ? l.src : "";
		while (*src == ' ' || *src == '\t')
			src++;
		snprintf(where, sizeof(where), "insn %zu (%s:%u%s%.48s%s)", k->insn,
			 f ? f + 1 : l.file ? l.file : "?", l.line, *src ? ": `" : "", src,
			 *src ? "`" : "");
	} else {
		snprintf(where, sizeof(where), "insn %zu", k->insn);
	}
	return err_set(err, -ENOTSUP, (int)k->insn, "%s: calls kernel function '%s' (a kfunc): "
		       "bpfrt runs outside the kernel and has no kfuncs; use a helper, or load "
		       "the program into Linux", where, k->name);
}

BPFRT_API int bpfrt_prog_verify(const struct bpfrt_prog *prog, struct bpfrt_verify_opts *opts,
				struct bpfrt_error *err)
{
	struct vinput in = { 0 };
	struct vresult res = { 0 };
	struct line_src ls;
	struct vmaps maps = { 0 };
	uint64_t t0 = now_ns();
	int ret;

	err_clear(err);
	if (!opts || opts->sz < offsetof(struct bpfrt_verify_opts, insns_processed))
		return err_set(err, -EINVAL, -1, "bpfrt_prog_verify needs options (BPFRT_OPTS)");
	if (opts->obj && opts->prog_index >= bpfrt_obj_prog_count(opts->obj))
		return err_set(err, -EINVAL, -1, "the object has no program %zu", opts->prog_index);
	if (prog) {
		in.insns = prog->insns;
		in.n = prog->n;
		ret = maps_of_prog(prog, opts->obj, &maps);
	} else if (opts->obj) {
		const struct ld_prog *p = &opts->obj->progs[opts->prog_index];
		if (!p->insns)
			return err_set(err, -EINVAL, -1, "program %s cannot be verified: %s", p->name,
				       p->unsupported ? p->unsupported : "it has no instructions");
		if (p->nkfuncs)
			return refuse_kfunc(opts->obj, opts->prog_index, err);
		in.insns = p->insns;
		in.n = p->n;
		ret = isa_validate(p->insns, p->n, opts->obj->cpu ? opts->obj->cpu : 4, err);
		if (ret)
			return ret;
		ret = maps_of_obj(opts->obj, opts->prog_index, &maps);
	} else {
		return err_set(err, -EINVAL, -1, "bpfrt_prog_verify needs a program or an object");
	}
	if (ret) {
		vmaps_free(&maps);
		return err_set(err, ret, -1, "out of memory");
	}
	in.maps = maps.v;
	in.nmaps = maps.n;
	in.type = opts->type;
	in.ctx_size = opts->ctx_size;
	in.log_level = opts->log_level;
	in.log_buf = opts->log_buf;
	in.log_size = opts->log_size;
	if (opts->sz >= offsetof(struct bpfrt_verify_opts, max_insns) + sizeof(opts->max_insns))
		in.max_processed = opts->max_insns;
	if (opts->obj) {
		ls.obj = opts->obj;
		ls.prog = opts->prog_index;
		in.line = line_of;
		in.line_arg = &ls;
	}
	ret = verify(&in, &res, err);
	vmaps_free(&maps);
	opts->insns_processed = res.insns_processed;
	opts->states = res.states;
	opts->peak_states = res.peak_states;
	opts->peak_mem_bytes = res.peak_mem_bytes;
	opts->time_ns = now_ns() - t0;
	return ret;
}
