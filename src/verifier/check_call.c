/* check_call.c — the verifier's calls: helper prototypes applied, local calls, callbacks (bpf_loop, for_each_map_elem), exits. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "helpers/helpers.h"
#include "isa/semantics.h"
#include "util/error.h"

/* ---- Helper calls ------------------------------------------------------------------------------ */

enum {
	M_HASH = 1, M_ARRAY = 2, M_PROG_ARRAY = 3, M_PERF = 4, M_PHASH = 5, M_PARRAY = 6,
	M_STACK_TRACE = 7, M_CGROUP_ARRAY = 8, M_LRU = 9, M_LRU_P = 10, M_LPM = 11,
	M_AOM = 12, M_HOM = 13, M_DEVMAP = 14, M_SOCKMAP = 15, M_CPUMAP = 16, M_XSKMAP = 17,
	M_SOCKHASH = 18, M_QUEUE = 22, M_STACK = 23, M_DEVMAP_HASH = 25, M_RINGBUF = 27,
	M_BLOOM = 30,
};

/* May helper id be used with a map of this type (the kernel's pairings)? */
static bool map_helper_ok(uint32_t id, uint32_t mt)
{
	switch (id) {
	case 12: return mt == M_PROG_ARRAY;			/* tail_call */
	case 25: case 22: case 55: return mt == M_PERF;	/* perf_event_output/read/_value */
	case 27: case 67: return mt == M_STACK_TRACE;		/* get_stackid, get_stack? */
	case 51: return mt == M_DEVMAP || mt == M_DEVMAP_HASH || mt == M_CPUMAP ||
			mt == M_XSKMAP;				/* redirect_map */
	case 33: case 37: return mt == M_CGROUP_ARRAY;		/* skb/current_task_under_cgroup */
	case 130: case 131: case 132: case 133: case 134:
		return mt == M_RINGBUF;				/* ringbuf_* */
	case 87: case 88: case 89: return mt == M_QUEUE || mt == M_STACK || mt == M_BLOOM;
	case 1:	/* a cpumap's entries are for bpf_redirect_map only */
		return mt != M_PROG_ARRAY && mt != M_PERF && mt != M_STACK_TRACE &&
		       mt != M_CGROUP_ARRAY && mt != M_RINGBUF && mt != M_QUEUE &&
		       mt != M_STACK && mt != M_BLOOM && mt != M_CPUMAP;
	case 2: case 3:	/* redirect maps are filled from user space only */
		return mt != M_PROG_ARRAY && mt != M_PERF && mt != M_STACK_TRACE &&
		       mt != M_CGROUP_ARRAY && mt != M_RINGBUF && mt != M_QUEUE &&
		       mt != M_STACK && mt != M_BLOOM && mt != M_AOM && mt != M_HOM &&
		       mt != M_CPUMAP && mt != M_DEVMAP && mt != M_DEVMAP_HASH && mt != M_XSKMAP;
	default: return true;
	}
}

/* Anything holding packet pointers loses them (the packet may have moved). */
static void clear_pkt(struct vstate *st)
{
	FOR_EACH_REG(st, x, {
		if (x->type == T_PKT || x->type == T_PKT_END || x->type == T_PKT_META)
			mark_unknown(x);
	});
}

static int release_ref(struct env *e, struct vstate *st, uint32_t ref)
{
	unsigned i;

	for (i = 0; i < st->nrefs; i++)
		if (st->refs[i].id == ref)
			break;
	if (i == st->nrefs)
		return chk_fail(e, -EINVAL, "releasing a reference that is not held");
	st->refs[i] = st->refs[--st->nrefs];
	FOR_EACH_REG(st, x, {
		if (x->ref == ref)
			mark_unknown(x);
	});
	return 0;
}

/* The 4-byte key at the stack pointer r, if the stack holds a known value there. */
static bool const_key(struct vstate *st, const struct reg *r, uint32_t *key)
{
	if (r->type != T_STACK || !sc_is_const(&r->s))
		return false;
	int64_t off = r->off + (int64_t)r->s.t.v;
	struct frame *f = st->fr[r->frame];
	unsigned si = slot_of(off), bi = byte_of(off);
	if (off < -(int64_t)BPFRT_STACK_SIZE || off + 4 > 0 || si >= f->nslots)
		return false;
	struct slot *s = &f->slots[si];
	if (bi + 4 <= 8 && s->ssize && s->sbyte == bi && s->spill.type == T_SCALAR &&
	    sc_is_const(&s->spill.s)) {
		*key = (uint32_t)s->spill.s.t.v;
		return true;
	}
	for (int64_t o = off; o < off + 4; o++) {
		unsigned sj = slot_of(o);
		if (sj >= f->nslots || f->slots[sj].t[byte_of(o)] != S_ZERO)
			return false;
	}
	*key = 0;
	return true;
}

/*
 * ARG_PTR_TO_CONST_STR (bpf_snprintf's fmt, bpf_strncmp's s2): a pointer into
 * the value of a read-only, frozen map (.rodata) at a constant offset, with a
 * NUL before the value ends. *str: the string, as the map holds it.
 */
static int const_str(struct env *e, const struct vproto *p, unsigned i, unsigned regno,
		     const struct reg *r, const char **str)
{
	if (r->type != T_MAP_VALUE || r->null)
		return chk_fail(e, -EACCES, "%s: argument %u (R%u) must point to a constant string in "
				"a read-only map (.rodata), not %s", p->name, i + 1, regno,
				chk_type_name(r));
	if (!(r->map->map_flags & (1u << 7)) || !r->map->data)
		return chk_fail(e, -EACCES, "%s: argument %u (R%u) points into a map %s; the string "
				"must be in a frozen read-only map such as .rodata", p->name, i + 1,
				regno, !(r->map->map_flags & (1u << 7)) ? "that programs may write" :
				"user space may still change (not frozen)");
	if (!sc_is_const(&r->s))
		return chk_fail(e, -EACCES, "%s: argument %u (R%u) must point to the string at a "
				"constant offset, not a variable one", p->name, i + 1, regno);
	int64_t off = r->off + (int64_t)r->s.t.v;
	if (off < 0 || off >= (int64_t)r->map->value_size)
		return chk_fail(e, -EACCES, "%s: argument %u (R%u) points to offset %lld, outside the "
				"%u-byte map value", p->name, i + 1, regno, (long long)off,
				r->map->value_size);
	const uint8_t *s = r->map->data + off;
	if (!memchr(s, 0, r->map->value_size - (size_t)off))
		return chk_fail(e, -EACCES, "%s: argument %u (R%u): the string at offset %lld of the "
				"map value is not NUL-terminated within its %u bytes", p->name, i + 1,
				regno, (long long)off, r->map->value_size);
	*str = (const char *)s;
	return 0;
}

/* bpf_snprintf: its format must be one the kernel accepts with data_len / 8 arguments. */
static int snprintf_format(struct env *e, const char *fmt, const struct reg *len)
{
	const char *why;

	if (!fmt)
		return 0;
	/* the kernel takes data_len's known bits (it is a bounded size, not a constant) */
	uint64_t n = len->s.t.v;
	if (n % 8)
		return chk_fail(e, -EINVAL, "bpf_snprintf: data_len (R5) is %llu, not a multiple of 8: "
				"data is an array of u64, one per conversion", (unsigned long long)n);
	int ret = helper_format_check(fmt, (uint32_t)(n / 8 > UINT32_MAX ? UINT32_MAX : n / 8),
				      &why);
	if (ret == -ENOMEM)
		return chk_fail(e, -ENOMEM, "out of memory");
	if (ret)
		return chk_fail(e, -EINVAL, "bpf_snprintf: the format \"%.40s\" %s (data_len %llu: %llu "
				"arguments)", fmt, why ? why : "is invalid", (unsigned long long)n,
				(unsigned long long)(n / 8));
	return 0;
}

/*
 * bpf_spin_lock / bpf_spin_unlock's argument: a map value (NULL-checked) at
 * the constant offset where its BTF puts the struct bpf_spin_lock.
 */
static int spin_lock_arg(struct env *e, const struct vproto *p, unsigned regno,
			 const struct reg *r)
{
	char b[300];

	if (r->type != T_MAP_VALUE || r->null)
		return chk_fail(e, -EACCES, "%s: R%u must point to the struct bpf_spin_lock of a map value%s,"
				" not %s", p->name, regno, r->null ? " checked against NULL" : "",
				chk_type_name(r));
	if (!sc_is_const(&r->s))
		return chk_fail(e, -EACCES, "%s: R%u has a variable offset: the bpf_spin_lock must be at "
				"a constant offset; %s", p->name, regno, chk_rstr(r, regno, b, sizeof(b)));
	if (!r->map->btf)
		return chk_fail(e, -EINVAL, "%s: the map has no BTF for its value, which bpf_spin_lock "
				"needs (define it in .maps with __type(value, struct ...))", p->name);
	if (!r->map->has_lock)
		return chk_fail(e, -EINVAL, "%s: the map's value type has no struct bpf_spin_lock field",
				p->name);
	int64_t off = r->off + (int64_t)r->s.t.v;
	if (off != r->map->lock_off)
		return chk_fail(e, -EACCES, "%s: R%u points to offset %lld of the map value, but its "
				"struct bpf_spin_lock is at offset %u", p->name, regno, (long long)off,
				r->map->lock_off);
	return 0;
}

/* Take (93) or release (94) the lock r points to: one at a time, released where taken. */
static int lock_state(struct env *e, struct vstate *st, uint32_t id, const struct reg *r)
{
	if (id == 93) {
		if (st->lock_map)
			return chk_fail(e, -EINVAL, "bpf_spin_lock while already holding the lock taken at "
					"insn %d: only one lock may be held at a time", st->lock_insn);
		st->lock_map = r->map;
		st->lock_id = r->id;
		st->lock_insn = e->cur_insn;
		return 0;
	}
	if (!st->lock_map)
		return chk_fail(e, -EINVAL, "bpf_spin_unlock without a bpf_spin_lock held");
	if (st->lock_map != r->map || st->lock_id != r->id)
		return chk_fail(e, -EINVAL, "bpf_spin_unlock of another lock than the one taken at insn "
				"%d (a different map or map value)", st->lock_insn);
	st->lock_map = NULL;
	st->lock_id = 0;
	st->lock_insn = 0;
	return 0;
}

int chk_do_helper(struct env *e, struct vstate *st, const struct bpfrt_insn *in)
{
	uint32_t id = (uint32_t)in->imm;
	const struct vproto *p = proto_get(id);
	struct frame *fr = cur(st);
	const struct vmap *map = NULL;
	char b[300];
	int ret;

	if (in->src_reg == BPF_PSEUDO_KFUNC_CALL)
		return chk_fail(e, -ENOTSUP, "a call of a kernel function (kfunc, BTF id %u): kfuncs "
				"are the running kernel's own functions, which a user-space runtime "
				"does not have; use a helper instead", id);
	if (st->lock_map && id != 93 && id != 94)	/* (lock_state says why for these) */
		return chk_fail(e, -EINVAL, "%s#%u is called while holding the bpf_spin_lock taken at "
				"insn %d: no function calls are allowed before bpf_spin_unlock",
				p ? p->name : "helper ", id, st->lock_insn);
	if (!p)
		return chk_fail(e, -EINVAL, "helper #%u is not known to bpfrt's verifier", id);
	if (!(p->types & proto_type_bit(e->in->type)))
		return chk_fail(e, -EINVAL, "program of this type (%s) cannot use helper %s#%u",
			    bpfrt_prog_type_name(e->in->type), p->name, id);
	uint32_t rb_size = 0, release = 0, key = 0;
	const char *cstr = NULL;	/* A_CONST_STR: the string */
	const struct reg *lock = NULL;	/* A_SPIN_LOCK: the pointer */
	bool known_key = id == 1 && const_key(st, &fr->regs[R2], &key);
	for (unsigned i = 0; i < 5 && p->args[i] != A_NONE; i++) {
		fr = cur(st);	/* checking memory may have grown (moved) the frame */
		unsigned regno = R1 + i;
		struct reg *r = &fr->regs[regno];
		unsigned kind = p->args[i];
		if (r->type == T_NOT_INIT)
			return chk_fail(e, -EACCES, "%s: argument %u (R%u) is not initialised", p->name,
				    i + 1, regno);
		switch (kind) {
		case A_ANY:
			break;
		case A_SCALAR:
			if (r->type != T_SCALAR)
				return chk_fail(e, -EACCES, "%s: argument %u (R%u) must be a number, not %s",
					    p->name, i + 1, regno, chk_type_name(r));
			break;
		case A_CTX:
			if (r->type != T_CTX && !(ctx_is_mem(e->in->type) && r->type == T_MEM))
				return chk_fail(e, -EACCES, "%s: argument %u (R%u) must be the context, not "
					    "%s", p->name, i + 1, regno, chk_type_name(r));
			if (r->off || !sc_is_const(&r->s) || r->s.t.v)
				return chk_fail(e, -EACCES, "%s: argument %u (R%u) must be the context's "
					    "start", p->name, i + 1, regno);
			break;
		case A_MAP:
			if (r->type != T_MAP_PTR || r->null)
				return chk_fail(e, -EACCES, "%s: argument %u (R%u) must be a map, not %s%s",
					    p->name, i + 1, regno, chk_type_name(r),
					    r->null ? " (check it against NULL first)" : "");
			map = r->map;
			if (!map_helper_ok(id, map->type))
				return chk_fail(e, -EINVAL, "helper %s#%u cannot be used with a map of type "
					    "%u", p->name, id, map->type);
			break;
		case A_KEY:
		case A_VALUE:
		case A_UVALUE: {
			if (!map)
				return chk_fail(e, -EINVAL, "%s: no map argument before argument %u",
					    p->name, i + 1);
			struct scalar sz = sc_const(kind == A_KEY ? map->key_size : map->value_size);
			if (kind == A_KEY && map->key_size == 0)
				break;
			ret = chk_helper_mem(e, st, regno, &sz, kind == A_UVALUE, kind != A_UVALUE,
					       kind == A_KEY ? "the map's key" : "the map's value");
			if (ret)
				return ret;
			break;
		}
		case A_MEM:
		case A_UMEM:
		case A_MEM_NULL:
		case A_UMEM_NULL: {
			bool wr = kind == A_UMEM || kind == A_UMEM_NULL;
			struct reg *sr = &fr->regs[regno + 1];
			if (i == 4 || (p->args[i + 1] != A_SIZE && p->args[i + 1] != A_SIZE0))
				return chk_fail(e, -EINVAL, "%s: prototype without a size", p->name);
			if (sr->type != T_SCALAR)
				return chk_fail(e, -EACCES, "%s: argument %u (R%u), a size, must be a number",
					    p->name, i + 2, regno + 1);
			/* NULL only with nothing to read (the kernel's rule: a zero-byte access) */
			if ((kind == A_MEM_NULL || kind == A_UMEM_NULL) && r->type == T_SCALAR && sc_is_const(&r->s) &&
			    r->s.t.v == 0) {
				if (sr->s.umax != 0)
					return chk_fail(e, -EACCES, "%s: argument %u (R%u) is NULL, so its "
						    "size (R%u) must be 0; %s", p->name, i + 1, regno,
						    regno + 1, chk_rstr(sr, regno + 1, b, sizeof(b)));
				break;
			}
			if (p->args[i + 1] == A_SIZE && sr->s.umin == 0 && sr->s.umax == 0)
				return chk_fail(e, -EACCES, "%s: argument %u (R%u) must be a size above 0",
					    p->name, i + 2, regno + 1);
			if (sr->s.smin < 0)
				return chk_fail(e, -EACCES, "%s: argument %u (R%u), a size, may be negative: "
					    "bound it with a check; %s", p->name, i + 2, regno + 1,
					    chk_rstr(sr, regno + 1, b, sizeof(b)));
			ret = chk_helper_mem(e, st, regno, &sr->s, wr, !wr,
					       "the helper's memory argument");
			if (ret)
				return ret;
			fr = cur(st);
			break;
		}
		case A_SIZE:
		case A_SIZE0:
			break;	/* checked with its memory */
		case A_CONST:
			if (r->type != T_SCALAR || !sc_is_const(&r->s))
				return chk_fail(e, -EACCES, "%s: argument %u (R%u) must be a known constant",
					    p->name, i + 1, regno);
			if (r->s.t.v > (1u << 30))
				return chk_fail(e, -EACCES, "%s: argument %u (R%u) is too big: %llu", p->name,
					    i + 1, regno, (unsigned long long)r->s.t.v);
			rb_size = (uint32_t)r->s.t.v;
			break;
		case A_RB_MEM:
			if (r->type != T_MEM || !r->ref || r->null)
				return chk_fail(e, -EACCES, "%s: argument %u (R%u) must be memory from "
					    "bpf_ringbuf_reserve, checked against NULL; it is %s",
					    p->name, i + 1, regno, chk_type_name(r));
			if (r->off || !sc_is_const(&r->s) || r->s.t.v)
				return chk_fail(e, -EACCES, "%s: argument %u (R%u) must point to the start "
					    "of the reservation", p->name, i + 1, regno);
			release = r->ref;
			break;
		case A_MAP_VALUE:
			if (r->type != T_MAP_VALUE || r->null)
				return chk_fail(e, -EACCES, "%s: argument %u (R%u) must point into a map "
					    "value", p->name, i + 1, regno);
			break;
		case A_CONST_STR:
			ret = const_str(e, p, i, regno, r, &cstr);
			if (ret)
				return ret;
			break;
		case A_SPIN_LOCK:
			ret = spin_lock_arg(e, p, regno, r);
			if (ret)
				return ret;
			lock = r;
			break;
		case A_STACK_NULL:
			if (r->type == T_SCALAR && sc_is_const(&r->s) && r->s.t.v == 0)
				break;
			if (r->type != T_STACK)
				return chk_fail(e, -EACCES, "%s: argument %u (R%u) must point to the stack",
					    p->name, i + 1, regno);
			break;
		case A_PTR:
			break;
		case A_FUNC:
			return chk_fail(e, -ENOTSUP, "%s: callbacks are not verified by bpfrt yet",
				    p->name);
		}
	}
	if (id == 12)	/* tail_call: not from a callback (Linux refuses it; the engines cannot) */
		for (unsigned k = 1; k < st->nfr; k++)
			if (st->fr[k]->cb)
				return chk_fail(e, -EINVAL, "bpf_tail_call inside a callback (called "
						"by the helper at insn %d) is not allowed",
						st->fr[k]->callsite);
	if (id == 12 && st->nrefs)	/* tail_call */
		return chk_fail(e, -EINVAL, "bpf_tail_call while holding a reference (from insn %d): "
			    "submit or discard it first", st->refs[0].insn);
	if (id == 165 && (ret = snprintf_format(e, cstr, &cur(st)->regs[R5])))
		return ret;
	if (lock && (ret = lock_state(e, st, id, lock)))
		return ret;
	if (release && (ret = release_ref(e, st, release)))
		return ret;
	if (p->pkt_change)
		clear_pkt(st);
	fr = cur(st);
	for (unsigned r = R1; r <= R5; r++)
		mark_ptr(&fr->regs[r], T_NOT_INIT);
	struct reg *r0 = &fr->regs[R0];
	switch (p->ret) {
	case RET_VOID:
		mark_ptr(r0, T_NOT_INIT);
		break;
	case RET_VALUE_NULL:
		if (map && (map->type == M_AOM || map->type == M_HOM)) {
			mark_ptr(r0, T_MAP_PTR);
			r0->map = map->inner;
			if (!r0->map)
				return chk_fail(e, -EINVAL, "the map of maps has no inner map definition");
		} else {
			mark_ptr(r0, T_MAP_VALUE);
			r0->map = map;
		}
		r0->null = true;
		/* an array's element at a known index in range always exists */
		if (known_key && (map->type == M_ARRAY || map->type == M_PARRAY) &&
		    key < map->max_entries)
			r0->null = false;
		r0->id = ++e->next_id;
		r0->origin = e->cur_insn;
		break;
	case RET_RB_NULL:
		if (st->nrefs == MAX_REFS)
			return chk_fail(e, -EINVAL, "too many references held at once");
		mark_ptr(r0, T_MEM);
		r0->null = true;
		r0->range = rb_size;
		r0->id = ++e->next_id;
		r0->ref = r0->id;
		r0->origin = e->cur_insn;
		st->refs[st->nrefs++] = (struct ref_rec){ r0->ref, e->cur_insn };
		break;
	default:
		mark_unknown(r0);
		if (id == 8 || id == 42)	/* get_smp_processor_id, get_numa_node_id */
			r0->s = sc_urange(0xffffffffull);
		break;
	}
	return 0;
}

/* ---- Calls and exits ------------------------------------------------------------------------------ */

static int add_edge(struct env *e, uint32_t from, uint32_t to)
{
	for (size_t i = 0; i < e->nedges; i++)
		if (e->edges[i][0] == from && e->edges[i][1] == to)
			return 0;
	if (e->nedges == e->edge_cap) {
		size_t cap = e->edge_cap ? e->edge_cap * 2 : 16;
		void *p = realloc(e->edges, cap * sizeof(*e->edges));
		if (!p)
			return chk_fail(e, -ENOMEM, "out of memory");
		e->edges = p;
		e->edge_cap = cap;
	}
	e->edges[e->nedges][0] = from;
	e->edges[e->nedges][1] = to;
	e->nedges++;
	return 0;
}

/* Map types bpf_for_each_map_elem walks (those with map_for_each_callback in the kernel). */
static bool for_each_map_ok(uint32_t mt)
{
	return mt == M_ARRAY || mt == M_PARRAY || mt == M_HASH || mt == M_PHASH ||
	       mt == M_LRU || mt == M_LRU_P;
}

/*
 * Helpers that call back: bpf_loop(nr, callback, ctx, flags) and
 * bpf_for_each_map_elem(map, callback, ctx, flags). Either the helper
 * returns (a pending state at i + 1), or it calls the callback (a new frame:
 * bpf_loop's gets r1 the index and r2 ctx; for_each's gets r1 the map, r2 a
 * read-only key, r3 the element's value, r4 ctx), which returns to i to be
 * called again or not. *next: the callback.
 */
int chk_do_callback(struct env *e, struct vstate *st, uint32_t i, uint32_t id, uint32_t *next)
{
	const struct vproto *p = proto_get(id);
	struct frame *fr = cur(st);
	struct reg *r = fr->regs;
	bool each = id == 164;
	char b[300];

	if (st->lock_map)
		return chk_fail(e, -EINVAL, "%s#%u is called while holding the bpf_spin_lock taken at "
				"insn %d: no function calls are allowed before bpf_spin_unlock",
				p->name, id, st->lock_insn);
	if (!(p->types & proto_type_bit(e->in->type)))
		return chk_fail(e, -EINVAL, "program of this type (%s) cannot use helper %s#%u",
			    bpfrt_prog_type_name(e->in->type), p->name, id);
	for (unsigned k = R1; k <= R4; k++)
		if (r[k].type == T_NOT_INIT)
			return chk_fail(e, -EACCES, "%s: argument %u (R%u) is not initialised", p->name,
				    k, k);
	if (each) {
		if (r[R1].type != T_MAP_PTR || r[R1].null)
			return chk_fail(e, -EACCES, "%s: R1 must be a map, not %s%s", p->name,
				    chk_type_name(&r[R1]), r[R1].null ? " (check it against NULL first)" : "");
		if (!for_each_map_ok(r[R1].map->type))
			return chk_fail(e, -EINVAL, "%s: a map of type %u has no elements to walk (array, "
				    "percpu array and the hash maps have)", p->name, r[R1].map->type);
	}
	if ((!each && r[R1].type != T_SCALAR) || r[R4].type != T_SCALAR)
		return chk_fail(e, -EACCES, "%s: %s must be numbers", p->name,
			    each ? "the flags (R4)" : "the count (R1) and flags (R4)");
	if (r[R2].type != T_FUNC)
		return chk_fail(e, -EACCES, "%s: R2 must be a function (the callback), not %s; %s",
			    p->name, chk_type_name(&r[R2]), chk_rstr(&r[R2], R2, b, sizeof(b)));
	bool ctx_null = r[R3].type == T_SCALAR && sc_is_const(&r[R3].s) && r[R3].s.t.v == 0;
	if (r[R3].type != T_STACK && !ctx_null)
		return chk_fail(e, -EACCES, "%s: the callback's context (R3) must point to the "
			    "stack or be NULL, not %s", p->name, chk_type_name(&r[R3]));
	if (st->nfr == BPFRT_MAX_FRAMES)
		return chk_fail(e, -E2BIG, "the callback nests %u functions deep; at most %u are "
			    "allowed", st->nfr + 1, BPFRT_MAX_FRAMES);
	/* the helper returns: r0 is the number of calls made, or an error */
	struct vstate *done = chk_st_copy(e, st);
	if (!done)
		return chk_fail(e, -ENOMEM, "out of memory");
	struct frame *df = cur(done);
	for (unsigned k = R1; k <= R5; k++)
		mark_ptr(&df->regs[k], T_NOT_INIT);
	mark_unknown(&df->regs[R0]);
	int ret = chk_push(e, done, i + 1, i);
	if (ret) {
		chk_st_free(e, done);
		return ret;
	}
	/* or calls the callback once more */
	uint32_t target = (uint32_t)r[R2].off;
	struct frame *f = chk_frame_new(0);
	if (!f)
		return chk_fail(e, -ENOMEM, "out of memory");
	e->mem += chk_frame_bytes(0);
	if (each) {
		const struct vmap *map = r[R1].map;
		f->regs[R1] = r[R1];
		mark_ptr(&f->regs[R2], T_MAP_KEY);
		f->regs[R2].map = map;
		f->regs[R2].origin = (int32_t)i;
		mark_ptr(&f->regs[R3], T_MAP_VALUE);
		f->regs[R3].map = map;
		f->regs[R3].origin = (int32_t)i;
		f->regs[R4] = r[R3];
	} else {
		mark_unknown(&f->regs[R1]);	/* the index, a number the callback must check */
		f->regs[R2] = r[R3];
	}
	mark_ptr(&f->regs[R10], T_STACK);
	f->regs[R10].frame = (uint8_t)st->nfr;
	f->callsite = (int32_t)i;
	f->func = target;
	f->cb = true;
	f->cb_refs = (uint8_t)st->nrefs;
	st->fr[st->nfr++] = f;
	st->epoch++;	/* a state seen in an earlier iteration is no infinite loop */
	*next = target;
	return add_edge(e, fr->func, target);
}

/*
 * Coming back from a callback to a state already seen at its call: numbers
 * (and offsets) that changed become unknown, so that the iterations reach a
 * state that contains the next one (a widening; always safe).
 */
void chk_widen(struct vstate *st, const struct vstate *old)
{
	for (unsigned fi = 0; fi < st->nfr && fi < old->nfr; fi++) {
		struct frame *f = st->fr[fi];
		const struct frame *o = old->fr[fi];
		for (unsigned r = 0; r < ISA_NREGS; r++) {
			struct reg *c = &f->regs[r];
			const struct reg *v = &o->regs[r];
			if (c->type == v->type && c->type != T_NOT_INIT && !sc_equal(&c->s, &v->s)) {
				if (c->type == T_SCALAR)
					mark_unknown(c);
				else
					c->s = sc_unknown();
			}
		}
		for (uint32_t k = 0; k < f->nslots && k < o->nslots; k++) {
			struct slot *cs = &f->slots[k];
			const struct slot *os = &o->slots[k];
			for (unsigned b = 0; b < 8; b++)
				if (cs->t[b] == S_ZERO && os->t[b] == S_MISC)
					cs->t[b] = S_MISC;
			if (cs->ssize && os->ssize && cs->spill.type == T_SCALAR &&
			    os->spill.type == T_SCALAR && !sc_equal(&cs->spill.s, &os->spill.s)) {
				cs->spill.s = sc_unknown();
				cs->spill.id = 0;
			}
		}
	}
}

int chk_do_call(struct env *e, struct vstate *st, size_t i, uint32_t target)
{
	if (st->nfr == BPFRT_MAX_FRAMES)
		return chk_fail(e, -E2BIG, "the call nests %u functions deep; at most %u are allowed",
			    st->nfr + 1, BPFRT_MAX_FRAMES);
	struct frame *caller = cur(st), *f = chk_frame_new(0);
	if (!f)
		return chk_fail(e, -ENOMEM, "out of memory");
	e->mem += chk_frame_bytes(0);
	for (unsigned r = R1; r <= R5; r++)
		f->regs[r] = caller->regs[r];
	mark_ptr(&f->regs[R10], T_STACK);
	f->regs[R10].frame = (uint8_t)st->nfr;
	f->callsite = (int32_t)i;
	f->func = target;
	st->fr[st->nfr++] = f;
	for (unsigned r = R1; r <= R5; r++)	/* the caller loses them */
		mark_ptr(&caller->regs[r], T_NOT_INIT);
	return add_edge(e, caller->func, target);
}

/* exit: returns 1 if the program ends, 0 if it returns to *next. */
int chk_do_exit(struct env *e, struct vstate *st, uint32_t *next)
{
	struct frame *f = cur(st);
	char b[300];

	/* a static function may leave r0 unset (its caller cannot read it then), as in Linux */
	if (f->regs[R0].type == T_NOT_INIT && (st->nfr == 1 || f->cb))
		return chk_fail(e, -EACCES, "R0 is not set at exit: the function must return a value "
			    "(!read_ok)");
	if (st->lock_map && (st->nfr == 1 || f->cb))
		return chk_fail(e, -EINVAL, "exit while holding the bpf_spin_lock taken at insn %d: "
				"call bpf_spin_unlock on every path first", st->lock_insn);
	if (st->nfr > 1 && f->cb) {
		struct reg *r0 = &f->regs[R0];
		if (r0->type != T_SCALAR || r0->s.smin < 0 || r0->s.smax > 1)
			return chk_fail(e, -EINVAL, "a callback (bpf_loop, bpf_for_each_map_elem) must "
				    "return 0 or 1; %s",
				    chk_rstr(r0, 0, b, sizeof(b)));
		if (st->nrefs != f->cb_refs)
			return chk_fail(e, -EINVAL, "the callback returns holding a reference it took (or "
				    "having released one it did not)");
		*next = (uint32_t)f->callsite;	/* the helper calls it again, or returns */
		e->cb_return = true;
		e->mem -= chk_frame_bytes(f->nslots);
		free(f);
		st->fr[--st->nfr] = NULL;
		return 0;
	}
	if (st->nfr > 1) {
		struct reg *r0 = &f->regs[R0];
		if (r0->type == T_STACK && r0->frame == st->nfr - 1)
			return chk_fail(e, -EACCES, "a function cannot return a pointer to its own stack");
		struct frame *caller = st->fr[st->nfr - 2];
		caller->regs[R0] = *r0;
		*next = (uint32_t)f->callsite + 1;
		e->mem -= chk_frame_bytes(f->nslots);
		free(f);
		st->fr[--st->nfr] = NULL;
		return 0;
	}
	if (st->nrefs)
		return chk_fail(e, -EINVAL, "reference from insn %d (bpf_ringbuf_reserve) is still held at "
			    "exit: submit or discard it on every path", st->refs[0].insn);
	int64_t lo, hi;
	if (ctx_retval_range(e->in->type, &lo, &hi)) {
		struct reg *r0 = &f->regs[R0];
		if (r0->type != T_SCALAR || r0->s.smin < lo || r0->s.smax > hi)
			return chk_fail(e, -EINVAL, "at exit R0 must be in [%lld, %lld] for %s programs; "
				    "%s", (long long)lo, (long long)hi,
				    bpfrt_prog_type_name(e->in->type), chk_rstr(r0, 0, b, sizeof(b)));
	}
	return 1;
}

int chk_check_stack_depth(struct env *e)
{
	/* the deepest chain of frames, each frame's depth rounded up to 32 as the kernel does */
	uint32_t path[BPFRT_MAX_FRAMES + 1];
	size_t idx[BPFRT_MAX_FRAMES + 1];
	unsigned top = 0;
	uint32_t total = 0, d;

	path[0] = 0;
	idx[0] = 0;
	d = (e->depth[0] + 31) & ~31u;
	total = d;
	for (;;) {
		if (total > BPFRT_STACK_SIZE) {
			e->cur_insn = (int)path[top];
			return chk_fail(e, -E2BIG, "the combined stack of %u nested calls is %u bytes; "
				    "at most %u are allowed", top + 1, total, BPFRT_STACK_SIZE);
		}
		size_t k;
		for (k = idx[top]; k < e->nedges; k++)
			if (e->edges[k][0] == path[top])
				break;
		if (k == e->nedges || top == BPFRT_MAX_FRAMES - 1) {
			total -= (e->depth[path[top]] + 31) & ~31u;
			if (top == 0)
				return 0;
			top--;
			continue;
		}
		idx[top] = k + 1;
		top++;
		path[top] = e->edges[k][1];
		idx[top] = 0;
		total += (e->depth[path[top]] + 31) & ~31u;
	}
}
