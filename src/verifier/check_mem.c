/* check_mem.c — the verifier's memory rules: stack slots and spills, map values, keys, packets, the context; loads and stores. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "isa/semantics.h"
#include "util/error.h"

/* ---- Memory ---------------------------------------------------------------------------------- */

/* A spilled register whose bytes get overwritten in part is gone: its bytes are just data. */
static void destroy_spill(struct slot *s)
{
	if (!s->ssize)
		return;
	for (unsigned b = 0; b < 8; b++)
		if (s->t[b] == S_SPILL)
			s->t[b] = S_MISC;
	s->ssize = 0;
}

/* Are frame f's stack bytes [off, off+size) initialised? off < 0. */
static int stack_readable(struct env *e, struct frame *f, int64_t off, int64_t size,
			  const char *what)
{
	for (int64_t o = off; o < off + size; o++) {
		unsigned si = slot_of(o);
		if (si >= f->nslots || f->slots[si].t[byte_of(o)] == S_INVALID)
			return chk_fail(e, -EACCES, "%s reads stack byte fp%lld, which was never written "
				    "(uninitialised stack)", what, (long long)o);
	}
	return 0;
}

/* Does [off, off+size) of the stack touch a spilled pointer? */
static bool stack_has_ptr(struct frame *f, int64_t off, int64_t size)
{
	for (int64_t o = off; o < off + size; o++) {
		unsigned si = slot_of(o);
		if (si < f->nslots && f->slots[si].t[byte_of(o)] == S_SPILL &&
		    is_ptr(&f->slots[si].spill))
			return true;
	}
	return false;
}

/* Bytes [off, off+size) may be written with unknown data (helpers, var offsets). */
static void stack_clobber(struct frame *f, int64_t off, int64_t size, bool definite)
{
	for (int64_t o = off; o < off + size; o++) {
		unsigned si = slot_of(o);
		if (si >= f->nslots)
			continue;
		struct slot *s = &f->slots[si];
		uint8_t *t = &s->t[byte_of(o)];
		if (*t == S_SPILL)
			destroy_spill(s);
		if (*t == S_ZERO || (definite && *t == S_INVALID))
			*t = S_MISC;
	}
}

/* Check a pointer's offset range [lo, hi] (+ size) against [0, limit). */
static int bounds_ok(struct env *e, const struct reg *p, unsigned regno, int64_t insn_off,
		     unsigned size, int64_t limit, const char *what)
{
	char b[300];

	if (p->s.smin < -MAX_VAR_OFF || p->s.smax > MAX_VAR_OFF)
		return chk_fail(e, -EACCES, "R%u's offset into %s is unbounded: add a bounds check; %s",
			    regno, what, chk_rstr(p, regno, b, sizeof(b)));
	int64_t lo = p->off + insn_off + p->s.smin, hi = p->off + insn_off + p->s.smax;
	if (lo < 0 || hi + size > limit)
		return chk_fail(e, -EACCES, "R%u: access of %u bytes at offset %lld..%lld is outside "
			    "the %lld bytes of %s; %s", regno, size, (long long)lo, (long long)hi,
			    (long long)limit, what, chk_rstr(p, regno, b, sizeof(b)));
	return 0;
}

static int stack_access(struct env *e, struct vstate *st, const struct reg *p,
			struct access *a)
{
	unsigned fi = p->frame;
	char b[300];

	if (p->s.smin < -MAX_VAR_OFF || p->s.smax > MAX_VAR_OFF)
		return chk_fail(e, -EACCES, "R%u's stack offset is unbounded; %s", a->regno,
			    chk_rstr(p, a->regno, b, sizeof(b)));
	int64_t lo = p->off + a->off + p->s.smin, hi = p->off + a->off + p->s.smax;
	if (lo < -(int64_t)BPFRT_STACK_SIZE || hi + a->size > 0)
		return chk_fail(e, -EACCES, "R%u: stack access of %u bytes at fp%lld%s is outside the "
			    "512-byte frame; %s", a->regno, a->size, (long long)lo,
			    lo == hi ? "" : " (or further)", chk_rstr(p, a->regno, b, sizeof(b)));
	/* the kernel demands aligned stack accesses, whatever the variable part */
	uint64_t low = a->size - 1;
	if (((uint64_t)(p->off + a->off) & low) || ((p->s.t.v | p->s.t.m) & low))
		return chk_fail(e, -EACCES, "R%u: misaligned stack access of %u bytes at fp%lld",
			    a->regno, a->size, (long long)lo);
	uint32_t need = (uint32_t)((-lo + 7) / 8);
	int ret = chk_grow(e, st, fi, need);
	if (ret)
		return ret;
	struct frame *f = st->fr[fi];
	uint32_t fn = f->func;
	if ((uint32_t)-lo > e->depth[fn])
		e->depth[fn] = (uint32_t)-lo;

	if (lo != hi) {		/* variable offset */
		if (a->write || a->atomic) {
			if (a->val && is_ptr(a->val))
				return chk_fail(e, -EACCES, "R%u: storing a pointer at a variable stack "
					    "offset is not allowed", a->regno);
			stack_clobber(f, lo, hi - lo + a->size, false);
		}
		if (!a->write || a->atomic) {
			ret = stack_readable(e, f, lo, hi - lo + a->size, "a variable-offset read");
			if (ret)
				return ret;
			if (a->dst)
				mark_scalar(a->dst, sc_load(a->size, a->sx));
		}
		return 0;
	}

	unsigned si = slot_of(lo), bi = byte_of(lo);
	struct slot *s = &f->slots[si];
	if (a->atomic) {
		if (stack_has_ptr(f, lo, a->size))
			return chk_fail(e, -EACCES, "atomic operation on a spilled pointer at fp%lld",
				    (long long)lo);
		ret = stack_readable(e, f, lo, a->size, "an atomic operation");
		if (ret)
			return ret;
		stack_clobber(f, lo, a->size, true);
		return 0;
	}
	if (a->write) {
		struct reg v;
		if (a->imm) {
			mark_scalar(&v, sc_const((uint64_t)a->immv));
		} else {
			v = *a->val;
		}
		/* a pointer into a frame may not be stored in an older frame */
		if (v.type == T_STACK && v.frame > fi)
			return chk_fail(e, -EACCES, "cannot store a pointer to the stack of a called "
				    "function (fp%u) in its caller's stack", v.frame);
		bool spill = (a->size == 8 && bi == 0) ||
			     (a->size == 4 && (bi == 0 || bi == 4) && v.type == T_SCALAR &&
			      v.s.umax <= 0xffffffffull);
		bool zero = v.type == T_SCALAR && sc_is_const(&v.s) && v.s.t.v == 0;
		/* whatever was spilled in the slots touched is overwritten or broken */
		for (int64_t o = lo; o < lo + a->size; o++)
			destroy_spill(&f->slots[slot_of(o)]);
		if (spill) {
			destroy_spill(s);
			/* a 4-byte spill next to a 4-byte something: the other half stays data */
			s->ssize = (uint8_t)a->size;
			s->sbyte = (uint8_t)bi;
			s->spill = v;
			for (unsigned k = 0; k < a->size; k++)
				s->t[bi + k] = S_SPILL;
			return 0;
		}
		if (is_ptr(&v))
			return chk_fail(e, -EACCES, "R%u: a pointer can be stored on the stack only as 8 "
				    "aligned bytes (this store is %u bytes at fp%lld)",
				    a->regno, a->size, (long long)lo);
		for (int64_t o = lo; o < lo + a->size; o++)
			f->slots[slot_of(o)].t[byte_of(o)] = zero ? S_ZERO : S_MISC;
		return 0;
	}
	/* read */
	if (s->ssize && s->t[bi] == S_SPILL && bi == s->sbyte) {
		if (a->size == s->ssize && !a->sx) {
			*a->dst = s->spill;
			return 0;
		}
		if (s->spill.type == T_SCALAR && a->size < s->ssize &&
		    s->spill.s.umax < (1ull << (8 * a->size))) {
			*a->dst = s->spill;
			a->dst->id = 0;
			if (a->sx) {
				struct scalar v = s->spill.s;
				mark_scalar(a->dst, sc_alu(BPF_MOV, false, false, a->size * 8, &v, &v));
			}
			return 0;
		}
	}
	if (stack_has_ptr(f, lo, a->size))
		return chk_fail(e, -EACCES, "a read of %u bytes at fp%lld takes part of a spilled pointer",
			    a->size, (long long)lo);
	ret = stack_readable(e, f, lo, a->size, "this load");
	if (ret)
		return ret;
	bool allzero = true;
	for (int64_t o = lo; o < lo + a->size; o++) {
		struct slot *x = &f->slots[slot_of(o)];
		uint8_t t = x->t[byte_of(o)];
		if (t == S_SPILL && x->spill.type == T_SCALAR && sc_is_const(&x->spill.s) &&
		    x->spill.s.t.v == 0)
			continue;
		if (t != S_ZERO)
			allzero = false;
	}
	mark_scalar(a->dst, allzero ? sc_const(0) : sc_load(a->size, a->sx));
	return 0;
}

/* A map value's struct bpf_spin_lock is only for bpf_spin_lock/unlock: no load, store or helper. */
static int lock_untouched(struct env *e, const struct reg *p, const struct access *a)
{
	int64_t lo = p->off + a->off + p->s.smin, hi = p->off + a->off + p->s.smax + a->size;
	int64_t l0 = p->map->lock_off, l1 = l0 + 4;

	if (hi <= l0 || lo >= l1)
		return 0;
	return chk_fail(e, -EACCES, "R%u: bytes %lld..%lld of the map value hold its struct "
			"bpf_spin_lock, which cannot be accessed %s (only by bpf_spin_lock/unlock)",
			a->regno, (long long)l0, (long long)l1 - 1,
			a->helper ? "by a helper" : "directly by a load or store");
}

/* struct bpf_sock from the context: read-only, 80 bytes (range 1: a full socket). */
static int sock_access(struct env *e, const struct reg *p, const struct access *a)
{
	char b[300], why[160];

	if (!sc_is_const(&p->s) || p->s.t.v != 0 || p->off != 0)
		return chk_fail(e, -EACCES, "R%u: a socket may be accessed only through its original "
				"pointer with a constant offset; %s", a->regno,
				chk_rstr(p, a->regno, b, sizeof(b)));
	why[0] = 0;
	if (a->atomic || a->helper || !ctx_sock_access(p->range == 1, a->off, a->size, a->write,
							why, sizeof(why)))
		return chk_fail(e, -EACCES, "invalid access to the socket (struct bpf_sock from the "
				"context): %s of %u bytes at offset %lld%s%s",
				a->write || a->atomic ? "write" : "read", a->size, (long long)a->off,
				why[0] ? ": " : "", why);
	mark_scalar(a->dst, sc_load(a->size, a->sx));
	return 0;
}

static int check_access(struct env *e, struct vstate *st, struct access *a)
{
	struct reg *p = &cur(st)->regs[a->regno];
	char b[300], why[160];
	int ret;

	switch (p->type) {
	case T_STACK:
		return stack_access(e, st, p, a);
	case T_MAP_VALUE:
		if (p->null)
			goto null;
		if ((a->write || a->atomic) && (p->map->map_flags & (1u << 7)))
			return chk_fail(e, -EACCES, "R%u: the map is read-only for programs "
				    "(BPF_F_RDONLY_PROG: .rodata, const data)", a->regno);
		ret = bounds_ok(e, p, a->regno, a->off, a->size, p->map->value_size, "the map value");
		if (!ret && p->map->has_lock)
			ret = lock_untouched(e, p, a);
		break;
	case T_MEM:
		if (p->null)
			goto null;
		ret = bounds_ok(e, p, a->regno, a->off, a->size, p->range, "the memory");
		break;
	case T_MAP_KEY:
		if (a->write || a->atomic)
			return chk_fail(e, -EACCES, "R%u: the key a bpf_for_each_map_elem callback gets "
				    "is read-only", a->regno);
		ret = bounds_ok(e, p, a->regno, a->off, a->size, p->map->key_size, "the map key");
		break;
	case T_CTX: {
		if (!sc_is_const(&p->s) || p->s.t.v != 0 || p->off != 0)
			return chk_fail(e, -EACCES, "R%u: the context may be accessed only through its "
				    "original pointer with a constant offset; %s", a->regno,
				    chk_rstr(p, a->regno, b, sizeof(b)));
		if (a->atomic)
			return chk_fail(e, -EACCES, "atomic operations on the context are not allowed");
		why[0] = 0;
		enum vfield k = ctx_access(e->in->type, e->in->ctx_size, a->off, a->size,
					   a->write, why, sizeof(why));
		if (k == F_NONE)
			return chk_fail(e, -EACCES, "invalid context access: %s of %u bytes at offset "
				    "%lld of the %s context%s%s", a->write ? "write" : "read",
				    a->size, (long long)a->off, bpfrt_prog_type_name(e->in->type),
				    why[0] ? ": " : "", why);
		if (a->write) {
			if (a->val && is_ptr(a->val))
				return chk_fail(e, -EACCES, "R%u: storing a pointer into the context is "
					    "not allowed", a->regno);
			return 0;
		}
		if (k == F_SCALAR)
			mark_scalar(a->dst, sc_load(a->size, a->sx));
		else if (k == F_SOCK || k == F_SOCK_FULL || k == F_SOCK_FULL_NN) {
			mark_ptr(a->dst, T_SOCK);
			a->dst->range = k != F_SOCK;	/* 1: a full socket */
			a->dst->null = k != F_SOCK_FULL_NN;
			a->dst->id = ++e->next_id;
			a->dst->origin = e->cur_insn;
		} else {
			mark_ptr(a->dst, k == F_PKT ? T_PKT : k == F_PKT_END ? T_PKT_END : T_PKT_META);
			a->dst->origin = e->cur_insn;
		}
		return 0;
	}
	case T_PKT:
	case T_PKT_META: {
		if (a->atomic)
			return chk_fail(e, -EACCES, "atomic operations on packet data are not allowed");
		if (a->write && !ctx_pkt_writable(e->in->type))
			return chk_fail(e, -EACCES, "%s programs cannot write packet data",
				    bpfrt_prog_type_name(e->in->type));
		if (a->write && a->val && is_ptr(a->val))
			return chk_fail(e, -EACCES, "R%u: storing a pointer into the packet is not allowed",
				    a->regno);
		if (p->s.smin < 0 || p->s.umax > MAX_PKT_OFF)
			return chk_fail(e, -EACCES, "R%u: the packet offset is not bounded to 0..%d; %s",
				    a->regno, MAX_PKT_OFF, chk_rstr(p, a->regno, b, sizeof(b)));
		int64_t lo = p->off + a->off, hi = lo + a->size;
		if (lo < 0 || hi > (int64_t)p->range)
			return chk_fail(e, -EACCES, "R%u: packet access of %u bytes at offset %lld is not "
				    "proven in bounds (checked: %u bytes): compare against data_end "
				    "first; %s", a->regno, a->size, (long long)lo, p->range,
				    chk_rstr(p, a->regno, b, sizeof(b)));
		ret = 0;
		break;
	}
	case T_SOCK:
		if (p->null)
			goto null;
		return sock_access(e, p, a);
	case T_NOT_INIT:
		return chk_fail(e, -EACCES, "R%u is read before anything was written to it (!read_ok)",
			    a->regno);
	case T_SCALAR:
		return chk_fail(e, -EACCES, "R%u is a number, not a pointer: it cannot be dereferenced; %s",
			    a->regno, chk_rstr(p, a->regno, b, sizeof(b)));
	default:
		return chk_fail(e, -EACCES, "R%u (%s) cannot be dereferenced", a->regno, chk_type_name(p));
	}
	if (ret)
		return ret;
	if (!a->write && !a->atomic)
		mark_scalar(a->dst, sc_load(a->size, a->sx));
	return 0;
null:;
	char o[230] = "";
	if (p->origin >= 0) {
		char w2[200];
		chk_where(e, p->origin, w2, sizeof(w2));
		snprintf(o, sizeof(o), ": it is the result of %s", w2);
	}
	return chk_fail(e, -EACCES, "R%u may be NULL here%s, dereferenced without a NULL check; %s",
		    a->regno, o, chk_rstr(p, a->regno, b, sizeof(b)));
}

/*
 * Memory [p, p+size) that a helper reads (init) or writes; size is a scalar
 * whose maximum counts (its minimum, for what a write surely initialises).
 */
int chk_helper_mem(struct env *e, struct vstate *st, unsigned regno,
			    const struct scalar *size_in, bool write, bool init, const char *what)
{
	/* copies: growing the stack below may move the frame they live in */
	struct reg preg = cur(st)->regs[regno], *p = &preg;
	struct scalar sz = *size_in, *size = &sz;
	char b[300];

	if (size->umax > (1u << 29))
		return chk_fail(e, -EACCES, "R%u: the size of %s is unbounded", regno + 1, what);
	unsigned umax = (unsigned)size->umax, umin = (unsigned)size->umin;
	if (umax == 0)
		return 0;
	if (p->type == T_STACK) {
		if (p->s.smin < -MAX_VAR_OFF || p->s.smax > MAX_VAR_OFF)
			return chk_fail(e, -EACCES, "R%u's stack offset is unbounded; %s", regno,
				    chk_rstr(p, regno, b, sizeof(b)));
		int64_t lo = p->off + p->s.smin, hi = p->off + p->s.smax;
		if (lo < -(int64_t)BPFRT_STACK_SIZE || hi + umax > 0)
			return chk_fail(e, -EACCES, "R%u: %s (%u bytes at fp%lld) is outside the stack "
				    "frame", regno, what, umax, (long long)lo);
		int ret = chk_grow(e, st, p->frame, (uint32_t)((-lo + 7) / 8));
		if (ret)
			return ret;
		struct frame *f = st->fr[p->frame];
		if ((uint32_t)-lo > e->depth[f->func])
			e->depth[f->func] = (uint32_t)-lo;
		if (init) {
			char w[120];
			snprintf(w, sizeof(w), "the helper (%s, R%u)", what, regno);
			ret = stack_readable(e, f, lo, hi - lo + umax, w);
			if (ret)
				return ret;
		}
		if (write) {
			stack_clobber(f, lo, hi - lo + umax, false);
			if (lo == hi)
				stack_clobber(f, lo, umin, true);
		}
		return 0;
	}
	struct access a = { .regno = regno, .off = 0, .size = 1, .write = write, .helper = true };
	struct reg dummy;
	a.dst = &dummy;
	switch (p->type) {
	case T_MAP_VALUE:
	case T_MAP_KEY:
	case T_MEM:
	case T_PKT:
	case T_PKT_META:
		if (p->null)
			break;
		/* the whole range, checked as one access of umax bytes */
		a.size = umax;
		if (p->type == T_PKT || p->type == T_PKT_META)
			a.write = false;	/* helpers may write packets where they take them */
		return check_access(e, st, &a);
	case T_CTX:
		if (ctx_is_mem(e->in->type))
			break;
		return chk_fail(e, -EACCES, "R%u: the context cannot be passed as %s", regno, what);
	default:
		break;
	}
	return chk_fail(e, -EACCES, "R%u must point to %s (stack, map value, packet or memory), "
		    "but it is %s; %s", regno, what, chk_type_name(p), chk_rstr(p, regno, b, sizeof(b)));
}

/* ---- Loads and stores ---------------------------------------------------------------------- */

int chk_do_mem(struct env *e, struct vstate *st, const struct bpfrt_insn *in,
		  const struct isa_form *f)
{
	struct frame *fr = cur(st);
	struct access a = { .off = in->off, .size = isa_size(in->code) };
	struct reg val;
	int ret;

	switch (f->shape) {
	case SH_LDX:
		if ((ret = chk_read_reg(e, st, in->src_reg)))
			return ret;
		a.regno = in->src_reg;
		a.sx = BPF_MODE(in->code) == BPF_MEMSX;
		a.dst = &val;
		if ((ret = check_access(e, st, &a)))
			return ret;
		cur(st)->regs[in->dst_reg] = val;
		return 0;
	case SH_ST:
		if ((ret = chk_read_reg(e, st, in->dst_reg)))
			return ret;
		a.regno = in->dst_reg;
		a.write = true;
		a.imm = true;
		a.immv = a.size == 8 ? (int64_t)in->imm : (int64_t)(uint64_t)((uint32_t)in->imm &
			(a.size == 4 ? 0xffffffffu : a.size == 2 ? 0xffffu : 0xffu));
		return check_access(e, st, &a);
	case SH_STX:
		if ((ret = chk_read_reg(e, st, in->dst_reg)) || (ret = chk_read_reg(e, st, in->src_reg)))
			return ret;
		a.regno = in->dst_reg;
		a.write = true;
		val = fr->regs[in->src_reg];
		if (a.size < 8 && val.type == T_SCALAR) {
			/* only the low bytes are stored */
			struct scalar v = val.s, m = sc_const(a.size == 4 ? 0xffffffffull :
							       a.size == 2 ? 0xffff : 0xff);
			mark_scalar(&val, sc_alu(BPF_AND, false, false, 0, &v, &m));
		}
		a.val = &val;
		return check_access(e, st, &a);
	default: {	/* SH_ATOMIC */
		unsigned op = (unsigned)in->imm;
		if ((ret = chk_read_reg(e, st, in->dst_reg)) || (ret = chk_read_reg(e, st, in->src_reg)))
			return ret;
		if (op == BPF_CMPXCHG && (ret = chk_read_reg(e, st, R0)))
			return ret;
		struct reg *p = &fr->regs[in->dst_reg];
		if (p->type != T_STACK && p->type != T_MAP_VALUE && p->type != T_MEM)
			return chk_fail(e, -EACCES, "atomic operations are allowed on the stack and map "
				    "values, not on %s", chk_type_name(p));
		/* atomics must be aligned to their size, whatever the variable part */
		uint64_t low = a.size - 1;
		if (((uint64_t)(p->off + in->off) & low) || ((p->s.t.v | p->s.t.m) & low))
			return chk_fail(e, -EACCES, "R%u: atomic access of %u bytes at offset %d is not "
				    "aligned to %u", in->dst_reg, a.size, p->off + in->off, a.size);
		a.regno = in->dst_reg;
		a.atomic = true;
		a.write = true;
		if ((ret = check_access(e, st, &a)))
			return ret;
		fr = cur(st);
		if (op == BPF_CMPXCHG)
			mark_scalar(&fr->regs[R0], sc_load(a.size, false));
		else if (op & BPF_FETCH)
			mark_scalar(&fr->regs[in->src_reg], sc_load(a.size, false));
		return 0;
	}
	}
}

/* Socket filters and the tracing types may not use maps with spin locks (as in Linux). */
static bool lock_map_ok(enum bpfrt_prog_type t)
{
	return t != BPFRT_PROG_SOCKET_FILTER && t != BPFRT_PROG_KPROBE &&
	       t != BPFRT_PROG_TRACEPOINT && t != BPFRT_PROG_PERF_EVENT &&
	       t != BPFRT_PROG_RAW_TRACEPOINT && t != BPFRT_PROG_RAW_TRACEPOINT_WRITABLE;
}

/*
 * An lddw of a map (src 5) or of a map value's address (src 6): is its map
 * one of the program's, and (src 6) an array with the offset inside its
 * value? The engines resolve every lddw before a run, reachable or not, so
 * check_cfg asks this of each one, as the kernel does before verifying.
 */
int chk_lddw_map(struct env *e, const struct bpfrt_insn *in)
{
	uint32_t idx = (uint32_t)in[0].imm;

	if (idx >= e->in->nmaps)
		return chk_fail(e, -EINVAL, "lddw refers to map %u; the program has %zu", idx,
			    e->in->nmaps);
	if (in->src_reg != BPF_PSEUDO_MAP_IDX_VALUE)
		return 0;
	/* the engines, like the kernel, have a direct value address only for arrays */
	if (e->in->maps[idx].type != BPFRT_MAP_ARRAY)
		return chk_fail(e, -EINVAL, "lddw: direct value access (src 6) needs an array "
			    "map; map %u is of type %u", idx, e->in->maps[idx].type);
	if ((uint32_t)in[1].imm >= e->in->maps[idx].value_size)
		return chk_fail(e, -EACCES, "lddw: offset %u is past the map's %u-byte value",
			    (uint32_t)in[1].imm, e->in->maps[idx].value_size);
	return 0;
}

int chk_do_lddw(struct env *e, struct vstate *st, const struct bpfrt_insn *in, size_t i)
{
	struct reg *r = &cur(st)->regs[in->dst_reg];
	uint32_t idx = (uint32_t)in[0].imm;

	switch (in->src_reg) {
	case 0:
		mark_scalar(r, sc_const(isa_imm64(in)));
		return 0;
	case BPF_PSEUDO_MAP_IDX:
	case BPF_PSEUDO_MAP_IDX_VALUE: {
		int ret = chk_lddw_map(e, in);

		if (ret)
			return ret;
		if (e->in->maps[idx].has_lock && !lock_map_ok(e->in->type))
			return chk_fail(e, -EINVAL, "%s programs cannot use a map whose value holds a "
					"bpf_spin_lock (the kernel's rule)",
					bpfrt_prog_type_name(e->in->type));
		if (in->src_reg == BPF_PSEUDO_MAP_IDX) {
			mark_ptr(r, T_MAP_PTR);
			r->map = &e->in->maps[idx];
			return 0;
		}
		mark_ptr(r, T_MAP_VALUE);
		r->map = &e->in->maps[idx];
		r->off = in[1].imm;
		return 0;
	}
	case BPF_PSEUDO_FUNC:
		mark_ptr(r, T_FUNC);
		r->off = (int32_t)isa_branch_target(e->insns, i);
		return 0;
	default:
		return chk_fail(e, -EINVAL, "lddw with source %u (%s) is not resolved", in->src_reg,
			    in->src_reg == BPF_PSEUDO_MAP_FD ? "a map fd" : "unsupported");
	}
}
