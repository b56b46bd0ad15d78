/* api.c — bpfrt_prog_verify: a program's maps and source lines in, a verdict and its costs out. */
#include <errno.h>
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

static void def_to_vmap(const struct ld_mapdef *d, struct vmap *v)
{
	*v = (struct vmap){ d->type, d->key_size, d->value_size, d->max_entries, NULL,
			    d->map_flags };
}

/*
 * The map table: vmaps[0..n) for the program's maps, their inner maps'
 * definitions after them.
 */
static int maps_of_obj(const struct bpfrt_obj *obj, size_t pi, struct vmap **out, size_t *n)
{
	const struct ld_prog *p = &obj->progs[pi];
	struct vmap *v = calloc(p->nmaps * 2 + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < p->nmaps; i++) {
		const struct ld_map *m = &obj->maps[p->maps[i]];
		def_to_vmap(&m->def, &v[i]);
		if (m->has_inner)
			def_to_vmap(&m->inner, &v[p->nmaps + i]);
		else if (m->inner_idx >= 0)
			def_to_vmap(&obj->maps[m->inner_idx].def, &v[p->nmaps + i]);
		else
			continue;
		v[i].inner = &v[p->nmaps + i];
	}
	*out = v;
	*n = p->nmaps;
	return 0;
}

static int maps_of_prog(const struct bpfrt_prog *prog, struct vmap **out, size_t *n)
{
	struct vmap *v = calloc(prog->nmaps * 2 + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < prog->nmaps; i++) {
		const struct bpfrt_map *m = prog->maps[i];
		v[i] = (struct vmap){ m->type, m->key_size, m->value_size, m->max_entries, NULL,
				      m->map_flags };
		if (m->type == BPFRT_MAP_ARRAY_OF_MAPS || m->type == BPFRT_MAP_HASH_OF_MAPS) {
			const struct map_meta *in = &((const struct map_block *)m->base)->inner;
			v[prog->nmaps + i] = (struct vmap){ in->type, in->key_size, in->value_size,
							    in->max_entries, NULL, in->map_flags };
			v[i].inner = &v[prog->nmaps + i];
		}
	}
	*out = v;
	*n = prog->nmaps;
	return 0;
}

BPFRT_API int bpfrt_prog_verify(const struct bpfrt_prog *prog, struct bpfrt_verify_opts *opts,
				struct bpfrt_error *err)
{
	struct vinput in = { 0 };
	struct vresult res = { 0 };
	struct line_src ls;
	struct vmap *maps = NULL;
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
		ret = maps_of_prog(prog, &maps, &in.nmaps);
	} else if (opts->obj) {
		const struct ld_prog *p = &opts->obj->progs[opts->prog_index];
		if (!p->insns)
			return err_set(err, -EINVAL, -1, "program %s cannot be verified: %s", p->name,
				       p->unsupported ? p->unsupported : "it has no instructions");
		in.insns = p->insns;
		in.n = p->n;
		ret = isa_validate(p->insns, p->n, opts->obj->cpu ? opts->obj->cpu : 4, err);
		if (ret)
			return ret;
		ret = maps_of_obj(opts->obj, opts->prog_index, &maps, &in.nmaps);
	} else {
		return err_set(err, -EINVAL, -1, "bpfrt_prog_verify needs a program or an object");
	}
	if (ret)
		return err_set(err, ret, -1, "out of memory");
	in.maps = maps;
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
	free(maps);
	opts->insns_processed = res.insns_processed;
	opts->states = res.states;
	opts->peak_states = res.peak_states;
	opts->peak_mem_bytes = res.peak_mem_bytes;
	opts->time_ns = now_ns() - t0;
	return ret;
}
