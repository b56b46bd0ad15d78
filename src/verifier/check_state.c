/* check_state.c — the verifier's states: messages, frames, registers, and pruning (containment, hashes, visits). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "isa/semantics.h"
#include "util/error.h"

/* ---- Messages --------------------------------------------------------------------- */

void chk_vlog(struct env *e, const char *fmt, ...)
{
	const struct vinput *in = e->in;
	va_list ap;

	if (!in->log_buf || !in->log_size || e->logpos + 1 >= in->log_size)
		return;
	va_start(ap, fmt);
	int k = vsnprintf(in->log_buf + e->logpos, in->log_size - e->logpos, fmt, ap);
	va_end(ap);
	if (k > 0)
		e->logpos += (size_t)k;
	if (e->logpos >= in->log_size)
		e->logpos = in->log_size - 1;
}

const char *chk_type_name(const struct reg *r)
{
	switch (r->type) {
	case T_NOT_INIT:  return "not initialised";
	case T_SCALAR:    return "scalar";
	case T_CTX:       return "ctx";
	case T_STACK:     return "fp";
	case T_MAP_PTR:   return r->null ? "map_ptr_or_null" : "map_ptr";
	case T_MAP_VALUE: return r->null ? "map_value_or_null" : "map_value";
	case T_PKT:       return "pkt";
	case T_PKT_END:   return "pkt_end";
	case T_PKT_META:  return "pkt_meta";
	case T_MEM:       return r->null ? "mem_or_null" : "mem";
	case T_FUNC:      return "func";
	case T_MAP_KEY:   return "map_key";
	case T_SOCK:      return r->null ? "sock_common_or_null" : "sock_common";
	}
	return "?";
}

static int reg_format(const struct reg *r, char *buf, size_t len)
{
	char s[160];

	if (r->type == T_SCALAR) {
		sc_format(&r->s, s, sizeof(s));
		return snprintf(buf, len, "%s", s);
	}
	if (r->type == T_NOT_INIT)
		return snprintf(buf, len, "?");
	if (sc_is_const(&r->s))
		snprintf(s, sizeof(s), "off=%lld", (long long)(r->off + (int64_t)r->s.t.v));
	else {
		char v[140];
		sc_format(&r->s, v, sizeof(v));
		snprintf(s, sizeof(s), "off=%d,var=%s", r->off, v);
	}
	switch (r->type) {
	case T_STACK:
		return snprintf(buf, len, "fp%u(%s)", r->frame, s);
	case T_PKT: case T_PKT_META:
		return snprintf(buf, len, "%s(%s,r=%u,id=%u)", chk_type_name(r), s, r->range, r->id);
	case T_MAP_VALUE: case T_MAP_PTR: case T_MAP_KEY:
		return snprintf(buf, len, "%s(%s,ks=%u,vs=%u%s)", chk_type_name(r), s,
				r->map ? r->map->key_size : 0, r->map ? r->map->value_size : 0,
				r->null ? ",id" : "");
	case T_MEM:
		return snprintf(buf, len, "%s(%s,sz=%u%s)", chk_type_name(r), s, r->range,
				r->ref ? ",ref" : "");
	default:
		return snprintf(buf, len, "%s(%s)", chk_type_name(r), s);
	}
}

/* "insn 12 (prog.c:41: `x = *p;`)" */
void chk_where(struct env *e, int insn, char *buf, size_t len)
{
	struct bpfrt_obj_line l;

	if (insn >= 0 && e->in->line && e->in->line(e->in->line_arg, (size_t)insn, &l)) {
		const char *src = l.src ? l.src : "", *file = l.file ? l.file : "?";
		const char *slash = strrchr(file, '/');
		while (*src == ' ' || *src == '\t')
			src++;
		snprintf(buf, len, "insn %d (%s:%u%s%.48s%s)", insn, slash ? slash + 1 : file,
			 l.line, *src ? ": `" : "", src, *src ? "`" : "");
	} else {
		snprintf(buf, len, "insn %d", insn);
	}
}

int chk_fail(struct env *e, int code, const char *fmt, ...)
{
	char w[200], m[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	chk_where(e, e->cur_insn, w, sizeof(w));
	chk_vlog(e, "%s: %s\n", w, m);
	return err_set(e->err, code, e->cur_insn, "%s: %s", w, m);
}

/* "R3=map_value_or_null(...)" for a message. */
const char *chk_rstr(const struct reg *r, unsigned regno, char *buf, size_t len)
{
	int k = snprintf(buf, len, "R%u=", regno);
	if (k > 0 && (size_t)k < len)
		reg_format(r, buf + k, len - (size_t)k);
	return buf;
}

void chk_log_state(struct env *e, const struct vstate *st)
{
	char b[300];
	const struct frame *f = st->fr[st->nfr - 1];

	if (!e->in->log_buf)
		return;
	for (unsigned i = 0; i < ISA_NREGS; i++) {
		if (f->regs[i].type == T_NOT_INIT)
			continue;
		chk_vlog(e, " %s", chk_rstr(&f->regs[i], i, b, sizeof(b)));
	}
	chk_vlog(e, "\n");
}

/* ---- States ----------------------------------------------------------------------- */

size_t chk_frame_bytes(uint32_t nslots)
{
	return sizeof(struct frame) + nslots * sizeof(struct slot);
}

struct frame *chk_frame_new(uint32_t nslots)
{
	struct frame *f = calloc(1, chk_frame_bytes(nslots));

	if (f)
		f->nslots = nslots;
	return f;
}

void chk_st_free(struct env *e, struct vstate *st)
{
	if (!st)
		return;
	for (unsigned i = 0; i < st->nfr; i++) {
		e->mem -= chk_frame_bytes(st->fr[i]->nslots);
		free(st->fr[i]);
	}
	chk_hist_free(e, st);
	e->mem -= sizeof(*st);
	free(st);
}

struct vstate *chk_st_copy(struct env *e, const struct vstate *src)
{
	struct vstate *st = malloc(sizeof(*st));

	if (!st)
		return NULL;
	*st = *src;
	st->next = NULL;
	e->mem += sizeof(*st);
	if (chk_hist_copy(e, st, src)) {
		st->nfr = 0;
		chk_st_free(e, st);
		return NULL;
	}
	for (unsigned i = 0; i < src->nfr; i++) {
		size_t b = chk_frame_bytes(src->fr[i]->nslots);
		st->fr[i] = malloc(b);
		if (!st->fr[i]) {
			st->nfr = i;
			chk_st_free(e, st);
			return NULL;
		}
		memcpy(st->fr[i], src->fr[i], b);
		e->mem += b;
	}
	if (e->mem > e->peak_mem)
		e->peak_mem = e->mem;
	return st;
}

/* Make frame fi of st have at least nslots slots. */
int chk_grow(struct env *e, struct vstate *st, unsigned fi, uint32_t nslots)
{
	struct frame *f = st->fr[fi];

	if (f->nslots >= nslots)
		return 0;
	struct frame *g = realloc(f, chk_frame_bytes(nslots));
	if (!g)
		return chk_fail(e, -ENOMEM, "out of memory");
	memset(&g->slots[g->nslots], 0, (nslots - g->nslots) * sizeof(struct slot));
	e->mem += chk_frame_bytes(nslots) - chk_frame_bytes(g->nslots);
	if (e->mem > e->peak_mem)
		e->peak_mem = e->mem;
	g->nslots = nslots;
	st->fr[fi] = g;
	return 0;
}

/* ---- Registers ------------------------------------------------------------------------------ */

int chk_read_reg(struct env *e, struct vstate *st, unsigned r)
{
	if (cur(st)->regs[r].type == T_NOT_INIT)
		return chk_fail(e, -EACCES, "R%u is read before anything was written to it (!read_ok)", r);
	return 0;
}

/* Copies of a number share an id, so what a jump learns about one holds for all. */
void chk_link_scalar(struct env *e, struct reg *src)
{
	if (!src->id)
		src->id = ++e->next_id;
}

/* Copy r's value to x, a copy of it at location loc; false if it cannot be recorded. */
static bool sync_one(struct vstate *st, struct reg *x, const struct reg *r, uint16_t loc)
{
	if (sc_equal(&x->s, &r->s))
		return true;	/* nothing learnt: nothing to record */
	unsigned k;
	for (k = 0; k < st->nlinked && st->linked[k] != loc; k++)
		;
	if (k == st->nlinked) {
		/* precision must know every copy a jump refined; beyond that, leave it be */
		if (k == HLINKED)
			return false;
		st->linked[st->nlinked++] = loc;
	}
	x->s = r->s;
	return true;
}

void chk_sync_linked(struct vstate *st, const struct reg *r)
{
	if (r->type != T_SCALAR || !r->id)
		return;
	for (unsigned fi = 0; fi < st->nfr; fi++) {
		struct frame *f = st->fr[fi];
		for (unsigned k = 0; k < ISA_NREGS; k++) {
			struct reg *x = &f->regs[k];
			if (x != r && x->type == T_SCALAR && x->id == r->id)
				sync_one(st, x, r, (uint16_t)(fi << 8 | k));
		}
		for (unsigned k = 0; k < f->nslots && k < NSLOTS; k++) {
			struct reg *x = &f->slots[k].spill;
			if (f->slots[k].ssize && x != r && x->type == T_SCALAR && x->id == r->id)
				sync_one(st, x, r, (uint16_t)(fi << 8 | (16 + k)));
		}
	}
}

/* ---- Pruning ------------------------------------------------------------------------------------- */

struct idmap {
	uint32_t old[64], cur[64];
	unsigned n;
	bool overflow;
};

/* Ids must correspond one to one between the old and the current state. */
static bool id_match(struct idmap *m, uint32_t o, uint32_t c)
{
	if (!o && !c)
		return true;
	if (!o || !c)
		return false;
	for (unsigned i = 0; i < m->n; i++) {
		if (m->old[i] == o)
			return m->cur[i] == c;
		if (m->cur[i] == c)
			return false;
	}
	if (m->n == 64)
		return false;
	m->old[m->n] = o;
	m->cur[m->n] = c;
	m->n++;
	return true;
}

/*
 * How states are compared: EXACT (the same state: an endless loop), FULL
 * (containment, every number), PRECISE (containment, only the numbers o's
 * paths relied on: o's paths must all be finished, see check_prec.c).
 */
enum cmp { CMP_EXACT, CMP_FULL, CMP_PRECISE };

/*
 * Is every concrete value of c one that o allows (and o's path was verified)?
 * exact: equal. A register o does not have (never written, or not read from
 * here on) allows anything, and so does a number o's paths did not rely on.
 */
static bool reg_sub(const struct reg *o, const struct reg *c, struct idmap *m, enum cmp mode)
{
	bool exact = mode == CMP_EXACT;

	if (o->type == T_NOT_INIT)
		return true;
	if (o->type != c->type)
		return false;
	if (o->type == T_SCALAR && mode == CMP_PRECISE && !o->precise)
		return true;
	if (exact ? !sc_equal(&o->s, &c->s) : !sc_in(&o->s, &c->s))
		return false;
	if (o->type == T_SCALAR)
		return !o->id || id_match(m, o->id, c->id);
	if (o->off != c->off || o->map != c->map || o->frame != c->frame)
		return false;
	if (exact ? o->null != c->null : (!o->null && c->null))
		return false;
	switch (o->type) {
	case T_PKT:
	case T_PKT_META:
		if (exact ? o->range != c->range : o->range > c->range)
			return false;
		return id_match(m, o->id, c->id);
	case T_MEM:
		if (o->range != c->range || !id_match(m, o->ref, c->ref))
			return false;
		break;
	}
	if (o->null || c->null)
		return id_match(m, o->id, c->id);
	/* which value a spin lock was taken through matters (vrules: the lock's identity) */
	if (o->type == T_MAP_VALUE && o->map && o->map->has_lock)
		return id_match(m, o->id, c->id);
	return true;
}

static bool frame_sub(const struct frame *o, const struct frame *c, struct idmap *m, enum cmp mode)
{
	bool exact = mode == CMP_EXACT;

	if (o->callsite != c->callsite)
		return false;
	for (unsigned r = 0; r < ISA_NREGS; r++)
		if (!reg_sub(&o->regs[r], &c->regs[r], m, mode))
			return false;
	uint32_t n = o->nslots > c->nslots ? o->nslots : c->nslots;
	static const struct slot empty;
	for (uint32_t i = 0; i < n; i++) {
		const struct slot *so = i < o->nslots ? &o->slots[i] : &empty;
		const struct slot *sc = i < c->nslots ? &c->slots[i] : &empty;
		uint64_t to8, tc8;
		if (mode == CMP_PRECISE && !so->read)
			continue;	/* no path from o reads it before writing it whole */
		memcpy(&to8, so->t, 8);
		memcpy(&tc8, sc->t, 8);
		if (!so->ssize && (to8 == tc8 || (!exact && to8 == 0)))
			continue;	/* the same kinds of bytes, or nothing old relied on */
		for (unsigned k = 0; k < 8; k++) {
			uint8_t to = so->t[k], tc = sc->t[k];
			if (exact && to != tc)
				return false;
			switch (to) {
			case S_INVALID:
				break;
			case S_MISC:
				if (tc == S_MISC || tc == S_ZERO)
					break;
				if (tc == S_SPILL && sc->spill.type == T_SCALAR)
					break;
				return false;
			case S_ZERO:
				if (tc != S_ZERO)
					return false;
				break;
			case S_SPILL:
				if (tc != S_SPILL)
					return false;
				break;
			}
		}
		if (so->ssize) {
			if (sc->ssize != so->ssize || sc->sbyte != so->sbyte ||
			    !reg_sub(&so->spill, &sc->spill, m, mode))
				return false;
		}
	}
	return true;
}

static bool state_sub(const struct vstate *o, const struct vstate *c, enum cmp mode)
{
	struct idmap m;

	m.n = 0;
	if (o->nfr != c->nfr || o->nrefs != c->nrefs)
		return false;
	for (unsigned i = 0; i < o->nrefs; i++) {
		unsigned j;
		for (j = 0; j < c->nrefs; j++)
			if (id_match(&m, o->refs[i].id, c->refs[j].id))
				break;
		if (j == c->nrefs)
			return false;
	}
	/* the same spin lock held, or none (vrules) */
	if (o->lock_map != c->lock_map || !id_match(&m, o->lock_id, c->lock_id))
		return false;
	for (unsigned i = 0; i < o->nfr; i++)
		if (!frame_sub(o->fr[i], c->fr[i], &m, mode))
			return false;
	return true;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

static uint64_t hash_reg(uint64_t h, const struct reg *r)
{
	h = mix(h, r->type | (uint64_t)r->null << 8 | (uint64_t)r->frame << 16);
	if (r->type == T_NOT_INIT)
		return h;
	h = mix(h, (uint64_t)(uint32_t)r->off << 32 | r->range);
	h = mix(h, (uintptr_t)r->map);
	h = mix(h, r->s.t.v);
	h = mix(h, r->s.t.m);
	h = mix(h, r->s.umin ^ (r->s.umax << 1));
	h = mix(h, (uint64_t)r->s.smin ^ ((uint64_t)r->s.smax << 1));
	return mix(h, (uint64_t)r->s.u32min << 32 ^ r->s.u32max ^ (uint64_t)(uint32_t)r->s.s32min);
}

/* Equal states hash alike; unequal ones almost never do (infinite-loop checks). */
static uint64_t hash_state(const struct env *e, const struct vstate *st, uint32_t insn)
{
	uint64_t h = mix(st->nfr, st->nrefs);

	for (unsigned i = 0; i < st->nfr; i++) {
		const struct frame *f = st->fr[i];
		uint16_t live = chk_live_mask(e, st, i, insn);
		h = mix(h, (uint64_t)(uint32_t)f->callsite);
		for (unsigned r = 0; r < ISA_NREGS; r++)
			if (live >> r & 1)
				h = hash_reg(h, &f->regs[r]);
		uint32_t n = f->nslots;
		while (n && !f->slots[n - 1].ssize && !memcmp(f->slots[n - 1].t, "\0\0\0\0\0\0\0\0", 8))
			n--;	/* trailing invalid slots are as if never allocated */
		for (uint32_t k = 0; k < n; k++) {
			uint64_t t;
			memcpy(&t, f->slots[k].t, 8);
			h = mix(h, t);
			if (f->slots[k].ssize)
				h = hash_reg(mix(h, f->slots[k].ssize | f->slots[k].sbyte << 8),
					     &f->slots[k].spill);
		}
	}
	return h;
}

/* The top frame's register types, and a mask of those that are not set (they match any). */
static void type_key(const struct vstate *st, uint64_t *types, uint64_t *wild)
{
	const struct frame *f = st->fr[st->nfr - 1];

	*types = *wild = 0;
	for (unsigned r = 0; r < ISA_NREGS; r++) {
		*types |= (uint64_t)f->regs[r].type << (4 * r);
		if (f->regs[r].type == T_NOT_INIT)
			*wild |= 0xfull << (4 * r);
	}
}

bool chk_same_callsites(const struct vstate *a, const struct vstate *b)
{
	if (a->nfr != b->nfr)
		return false;
	for (unsigned i = 0; i < a->nfr; i++)
		if (a->fr[i]->callsite != b->fr[i]->callsite)
			return false;
	return true;
}

/* A number of st differs from old's, which no path from old relied on: any number. */
static void widen_reg(struct reg *c, const struct reg *o)
{
	if (c->type == T_SCALAR && o->type == T_SCALAR && !o->precise && !sc_equal(&c->s, &o->s))
		mark_unknown(c);
}

void chk_widen_imprecise(struct vstate *st, const struct vstate *old)
{
	for (unsigned fi = 0; fi < st->nfr && fi < old->nfr; fi++) {
		struct frame *f = st->fr[fi];
		const struct frame *o = old->fr[fi];
		for (unsigned r = 0; r < ISA_NREGS; r++)
			widen_reg(&f->regs[r], &o->regs[r]);
		for (uint32_t k = 0; k < f->nslots && k < o->nslots; k++)
			if (f->slots[k].ssize && o->slots[k].ssize)
				widen_reg(&f->slots[k].spill, &o->slots[k].spill);
	}
}

/*
 * A path ended: its stored ancestors have one unfinished path fewer. A
 * state with none left is finished: its history is no longer needed (only
 * unfinished states' histories are walked back).
 */
void chk_path_done(struct env *e, struct vstate *parent)
{
	while (parent) {
		if (--parent->branches)
			break;
		chk_hist_free(e, parent);
		parent = parent->parent;
	}
}

/*
 * st is contained in v, an ancestor still being explored (a loop that
 * converged). v's marks are not complete yet, so the states st's path went
 * through since v must count everything st has; v and the states before it
 * need nothing more: v's own paths, which cover st's, mark what they rely on
 * there as they find it. (The kernel marks the same way, through its loop
 * entries.) The walk is cut at v by unlinking it for a moment.
 */
static int relied_since(struct env *e, struct vstate *st, struct vstate *v)
{
	struct vstate *x = st;

	while (x->parent && x->parent != v)
		x = x->parent;
	if (!x->parent)
		return chk_relied_from(e, st, v, true);
	x->parent = NULL;
	int ret = chk_relied_from(e, st, v, true);
	x->parent = v;
	return ret;
}

/*
 * At a prune point: 1 if a verified state there contains st (the path is
 * safe), 0 to go on (st was remembered), or an error (an endless loop).
 */
int chk_visit(struct env *e, struct vstate *st, uint32_t insn)
{
	bool looping = false;
	unsigned len = 0;
	uint64_t h = 0, types, wild;	/* st's hash, computed when first needed */
	bool hashed = false;

	type_key(st, &types, &wild);
	bool may_goto = e->form[insn] == ISA_MAY_GOTO;
	bool cb_return = e->cb_return;
	e->cb_return = false;
	for (struct vstate **link = &e->visited[insn], *v; (v = *link); link = &v->next) {
		/*
		 * A finished state that keeps failing to prune is dropped, as the
		 * kernel does (nothing points to it any more: its paths are done).
		 */
		if (!v->branches && v->misses > v->hits * 3 + 3) {
			*link = v->next;
			chk_st_free(e, v);
			e->live_states--;
			if (!(v = *link))
				break;
		}
		len++;
		if (v->nfr != st->nfr || ((v->types ^ types) & ~v->wild))
			continue;	/* a register of another kind: it cannot contain st */
		if (v->branches && cb_return) {
			/*
			 * Back from a callback at the bpf_loop call: the helper bounds
			 * the iterations, so a state an ancestor contains adds nothing.
			 */
			looping = true;
			chk_widen(st, v);
			if (state_sub(v, st, CMP_FULL)) {
				/* v is not finished: its marks are not complete, so every number counts */
				int ret = chk_relied_from(e, st, v, true);
				return ret ? ret : 1;
			}
			continue;
		}
		if (v->branches && may_goto && v->may_goto_depth != st->may_goto_depth) {
			/*
			 * An earlier iteration of a may_goto loop: the budget bounds
			 * the iterations (as the kernel's "range within" rule), so a
			 * state it contains adds nothing: the loop has converged.
			 */
			looping = true;
			if (state_sub(v, st, CMP_FULL)) {
				int ret = relied_since(e, st, v);
				return ret ? ret : 1;
			}
			continue;
		}
		if (v->branches) {
			/* an ancestor still being explored: a loop; the same state again never ends */
			looping = true;
			if (v->epoch == st->epoch && !hashed) {
				h = hash_state(e, st, insn);
				hashed = true;
			}
			if (v->epoch == st->epoch && !v->hashed) {
				v->hash = hash_state(e, v, insn);	/* (v keeps only live registers: the same) */
				v->hashed = true;
			}
			if (v->epoch == st->epoch && v->may_goto_depth == st->may_goto_depth &&
			    v->hash == h && state_sub(v, st, CMP_EXACT))
				return chk_fail(e, -EINVAL, "infinite loop: the same state comes back to insn "
					    "%u", insn);
			continue;
		}
		if (state_sub(v, st, CMP_PRECISE)) {
			v->hits++;
			int ret = chk_relied_from(e, st, v, false);
			return ret ? ret : 1;
		}
		v->misses++;
	}
	/*
	 * Remembering a state is optional (it only saves work later), so, as
	 * the kernel does, in loops only every 20 jumps or 100 instructions,
	 * and never more than 256 states at one instruction.
	 */
	if (e->mem > MAX_STATE_MEM)
		return chk_fail(e, -E2BIG, "the verifier's states take more than %u MB: the program is "
			    "too complex", MAX_STATE_MEM >> 20);
	uint64_t di = e->processed - e->prev_processed, dj = e->jumps - e->prev_jumps;
	if (looping && !cb_return && !may_goto && dj < 20 && di < 100)
		return 0;	/* (after a callback or at may_goto, always: the next iteration must find it) */
	if (len >= 256)
		return 0;
	e->prev_processed = e->processed;
	e->prev_jumps = e->jumps;
	/* the history so far leads to the copy; st's starts again from it */
	uint32_t nhist = st->nhist;
	st->nhist = 0;
	struct vstate *copy = chk_st_copy(e, st);
	st->nhist = nhist;
	if (!copy)
		return chk_fail(e, -ENOMEM, "out of memory");
	chk_hist_move(copy, st);
	memset(st->rdone, 0, sizeof(st->rdone));
	/* what is never read from here on does not matter: it matches anything */
	for (unsigned fi = 0; fi < copy->nfr; fi++) {
		uint16_t live = chk_live_mask(e, copy, fi, insn);
		for (unsigned r = 0; r < ISA_NREGS; r++)
			if (!(live >> r & 1))
				mark_ptr(&copy->fr[fi]->regs[r], T_NOT_INIT);
	}
	copy->insn = insn;
	copy->hash = h;
	copy->hashed = hashed && !cb_return;	/* (widening changes it) */
	type_key(copy, &copy->types, &copy->wild);
	copy->branches = 1;
	e->fresh = copy;
	copy->parent = st->parent;
	copy->next = e->visited[insn];
	e->visited[insn] = copy;
	st->parent = copy;
	e->states++;
	e->live_states++;
	if (e->live_states > e->peak_states)
		e->peak_states = e->live_states;
	return 0;
}
