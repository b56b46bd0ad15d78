/* check.c — the abstract interpreter: every path, register and stack states, memory rules, calls, pruning. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isa/isa.h"
#include "isa/semantics.h"
#include "scalar.h"
#include "util/error.h"
#include "verifier.h"

/*
 * How it works (docs/verifier.md says it in more words):
 *
 * A depth-first walk over every path from instruction 0, carrying an
 * abstract state: what each register holds (a number as a struct scalar, or
 * a pointer of a kind with an offset), every stack byte's state, the call
 * frames and the references held. A conditional jump splits the state in
 * two, each refined by its outcome; an outcome that cannot happen is not
 * followed. At prune points (jump targets and the instructions after
 * conditional jumps) the state is compared with those already verified
 * there: if one of them contains it, the path is safe and ends. States
 * whose own paths are still being explored (ancestors of the current one:
 * a loop) are never used for pruning, so loops are unrolled until they
 * end, up to the budget of processed instructions.
 */

#define MAX_PROCESSED 1000000u
#define MAX_PENDING 8192u
#define MAX_VAR_OFF (1ll << 29)
#define MAX_PKT_OFF 0xffff
#define MAX_REFS 16
#define NSLOTS (BPFRT_STACK_SIZE / 8)

enum rtype {
	T_NOT_INIT = 0, T_SCALAR, T_CTX, T_STACK, T_MAP_PTR, T_MAP_VALUE,
	T_PKT, T_PKT_END, T_PKT_META, T_MEM, T_FUNC,
	T_MAP_KEY,		/* a bpf_for_each_map_elem callback's key: read-only, key_size bytes */
};

struct reg {
	uint8_t type;		/* enum rtype */
	bool null;		/* may be NULL (nullable pointers) */
	uint8_t frame;		/* T_STACK: the frame it points into */
	int32_t off;		/* pointers: the fixed part of the offset */
	uint32_t id;		/* shared by copies: nullable pointers, packet pointers, linked scalars */
	uint32_t ref;		/* an acquired reference it carries (ringbuf), or 0 */
	uint32_t range;		/* T_PKT/T_PKT_META: bytes proven present; T_MEM: size */
	int32_t origin;		/* instruction that made it (for messages), -1 */
	const struct vmap *map;	/* T_MAP_PTR, T_MAP_VALUE, T_MAP_KEY */
	struct scalar s;	/* numbers: the value; pointers: the variable part of the offset */
};

enum { S_INVALID = 0, S_MISC, S_ZERO, S_SPILL };

struct slot {
	uint8_t t[8];		/* per byte, from the lowest address */
	uint8_t ssize, sbyte;	/* the spill: 8 bytes at 0, or 4 at 0 or 4 */
	struct reg spill;
};

struct frame {
	struct reg regs[ISA_NREGS];
	int32_t callsite;	/* the call that made this frame, -1 for the program */
	bool cb;		/* a callback (bpf_loop): it returns to its callsite */
	uint8_t cb_refs;	/* references held when the callback was called */
	uint32_t func;		/* the function's first instruction */
	uint32_t nslots;
	struct slot slots[];	/* slots[i] covers bytes -8(i+1) .. -8i-1 */
};

struct ref_rec {
	uint32_t id;
	int32_t insn;
};

struct vstate {
	struct frame *fr[BPFRT_MAX_FRAMES];
	unsigned nfr;
	struct ref_rec refs[MAX_REFS];
	unsigned nrefs;
	/* the tree of stored states, for loops and branch counting */
	struct vstate *parent;
	uint32_t branches;
	uint32_t insn;
	struct vstate *next;	/* in its instruction's list */
	uint64_t hash;		/* of what state_sub(exact) compares, ids aside */
	uint64_t types, wild;	/* the top frame's register types, 4 bits each; wild: unset ones */
	uint32_t epoch;		/* callback calls so far on this path */
	uint32_t hits, misses;	/* how often it pruned, and did not */
};

struct pending {
	struct vstate *st;
	uint32_t insn, from;
};

struct env {
	const struct vinput *in;
	struct bpfrt_error *err;
	const struct bpfrt_insn *insns;
	size_t n;
	uint8_t *prune;		/* per instruction: a prune point */
	uint8_t *fstart;	/* per instruction: a function starts here */
	uint32_t *func_of;	/* per instruction: its function's first instruction */
	uint32_t *depth;	/* per function start: deepest stack byte used */
	uint16_t *live;		/* per instruction: registers read before written from here */
	uint32_t (*edges)[2];	/* calls seen: caller's first insn, callee's */
	size_t nedges, edge_cap;
	struct vstate **visited;
	struct pending *stack;
	size_t nstack;
	uint32_t next_id;
	uint64_t processed, states, live_states, peak_states, mem, peak_mem;
	uint64_t jumps, prev_processed, prev_jumps;	/* when the last state was stored */
	size_t logpos;
	int cur_insn;
	bool cb_return;		/* the state has just come back from a callback */
};

/* ---- Messages --------------------------------------------------------------------- */

static void vlog(struct env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vlog(struct env *e, const char *fmt, ...)
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

static const char *type_name(const struct reg *r)
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
		return snprintf(buf, len, "%s(%s,r=%u,id=%u)", type_name(r), s, r->range, r->id);
	case T_MAP_VALUE: case T_MAP_PTR: case T_MAP_KEY:
		return snprintf(buf, len, "%s(%s,ks=%u,vs=%u%s)", type_name(r), s,
				r->map ? r->map->key_size : 0, r->map ? r->map->value_size : 0,
				r->null ? ",id" : "");
	case T_MEM:
		return snprintf(buf, len, "%s(%s,sz=%u%s)", type_name(r), s, r->range,
				r->ref ? ",ref" : "");
	default:
		return snprintf(buf, len, "%s(%s)", type_name(r), s);
	}
}

/* "insn 12 (prog.c:41: `x = *p;`)" */
static void where(struct env *e, int insn, char *buf, size_t len)
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

static int fail(struct env *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct env *e, int code, const char *fmt, ...)
{
	char w[200], m[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	where(e, e->cur_insn, w, sizeof(w));
	vlog(e, "%s: %s\n", w, m);
	return err_set(e->err, code, e->cur_insn, "%s: %s", w, m);
}

/* "R3=map_value_or_null(...)" for a message. */
static const char *rstr(const struct reg *r, unsigned regno, char *buf, size_t len)
{
	int k = snprintf(buf, len, "R%u=", regno);
	if (k > 0 && (size_t)k < len)
		reg_format(r, buf + k, len - (size_t)k);
	return buf;
}

static void log_state(struct env *e, const struct vstate *st)
{
	char b[300];
	const struct frame *f = st->fr[st->nfr - 1];

	if (!e->in->log_buf)
		return;
	for (unsigned i = 0; i < ISA_NREGS; i++) {
		if (f->regs[i].type == T_NOT_INIT)
			continue;
		vlog(e, " %s", rstr(&f->regs[i], i, b, sizeof(b)));
	}
	vlog(e, "\n");
}

/* ---- States ----------------------------------------------------------------------- */

static size_t frame_bytes(uint32_t nslots)
{
	return sizeof(struct frame) + nslots * sizeof(struct slot);
}

static struct frame *frame_new(uint32_t nslots)
{
	struct frame *f = calloc(1, frame_bytes(nslots));

	if (f)
		f->nslots = nslots;
	return f;
}

static void st_free(struct env *e, struct vstate *st)
{
	if (!st)
		return;
	for (unsigned i = 0; i < st->nfr; i++) {
		e->mem -= frame_bytes(st->fr[i]->nslots);
		free(st->fr[i]);
	}
	e->mem -= sizeof(*st);
	free(st);
}

static struct vstate *st_copy(struct env *e, const struct vstate *src)
{
	struct vstate *st = malloc(sizeof(*st));

	if (!st)
		return NULL;
	*st = *src;
	st->next = NULL;
	e->mem += sizeof(*st);
	for (unsigned i = 0; i < src->nfr; i++) {
		size_t b = frame_bytes(src->fr[i]->nslots);
		st->fr[i] = malloc(b);
		if (!st->fr[i]) {
			st->nfr = i;
			st_free(e, st);
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
static int grow(struct env *e, struct vstate *st, unsigned fi, uint32_t nslots)
{
	struct frame *f = st->fr[fi];

	if (f->nslots >= nslots)
		return 0;
	struct frame *g = realloc(f, frame_bytes(nslots));
	if (!g)
		return fail(e, -ENOMEM, "out of memory");
	memset(&g->slots[g->nslots], 0, (nslots - g->nslots) * sizeof(struct slot));
	e->mem += frame_bytes(nslots) - frame_bytes(g->nslots);
	if (e->mem > e->peak_mem)
		e->peak_mem = e->mem;
	g->nslots = nslots;
	st->fr[fi] = g;
	return 0;
}

static struct frame *cur(struct vstate *st) { return st->fr[st->nfr - 1]; }

static void mark_unknown(struct reg *r)
{
	memset(r, 0, sizeof(*r));
	r->type = T_SCALAR;
	r->origin = -1;
	r->s = sc_unknown();
}

static void mark_scalar(struct reg *r, struct scalar s)
{
	memset(r, 0, sizeof(*r));
	r->type = T_SCALAR;
	r->origin = -1;
	r->s = s;
}

static void mark_ptr(struct reg *r, enum rtype t)
{
	memset(r, 0, sizeof(*r));
	r->type = (uint8_t)t;
	r->origin = -1;
	r->s = sc_const(0);
}

static bool is_ptr(const struct reg *r) { return r->type > T_SCALAR; }

/* Apply fn to every register and spilled register of every frame. */
#define FOR_EACH_REG(st, r, body) do { \
	for (unsigned fi_ = 0; fi_ < (st)->nfr; fi_++) { \
		struct frame *f_ = (st)->fr[fi_]; \
		for (unsigned ri_ = 0; ri_ < ISA_NREGS; ri_++) { \
			struct reg *r = &f_->regs[ri_]; \
			body; \
		} \
		for (unsigned si_ = 0; si_ < f_->nslots; si_++) { \
			if (!f_->slots[si_].ssize) \
				continue; \
			struct reg *r = &f_->slots[si_].spill; \
			body; \
		} \
	} \
} while (0)

/* ---- The program's shape: functions, reachability, prune points ------------------------------ */

/* Registers an instruction reads (use) and writes (def), as bit masks. */
static void uses_defs(const struct bpfrt_insn *in, const struct isa_form *f, uint16_t *use,
		      uint16_t *def)
{
	uint16_t d = (uint16_t)(1u << in->dst_reg), sr = (uint16_t)(1u << in->src_reg);
	const uint16_t args = 0x3e, clobber = 0x3f;	/* r1-r5; r0-r5 */

	*use = *def = 0;
	switch (f->shape) {
	case SH_ALU_IMM: case SH_NEG: case SH_END:
		*use = BPF_OP(in->code) == BPF_MOV ? 0 : d;
		*def = d;
		break;
	case SH_ALU_REG:
		*use = (BPF_OP(in->code) == BPF_MOV ? 0 : d) | sr;
		*def = d;
		break;
	case SH_LDDW:
		*def = d;
		break;
	case SH_LDX:
		*use = sr;
		*def = d;
		break;
	case SH_ST:
		*use = d;
		break;
	case SH_STX:
		*use = d | sr;
		break;
	case SH_ATOMIC:
		*use = d | sr | ((unsigned)in->imm == BPF_CMPXCHG ? 1 : 0);
		*def = (unsigned)in->imm == BPF_CMPXCHG ? 1 : (in->imm & BPF_FETCH) ? sr : 0;
		break;
	case SH_LDABS:
		*use = 1u << R6;
		*def = clobber;
		break;
	case SH_LDIND:
		*use = 1u << R6 | sr;
		*def = clobber;
		break;
	case SH_JCOND_IMM:
		*use = d;
		break;
	case SH_JCOND_REG:
		*use = d | sr;
		break;
	case SH_CALL: case SH_CALL_LOCAL:
		*use = args;
		*def = clobber;
		break;
	case SH_CALLX:
		*use = args | d;
		*def = clobber;
		break;
	case SH_EXIT:
		*use = 1;
		break;
	default:
		break;
	}
}

/*
 * Which registers may be read (before being written) from each instruction
 * on, within its function: a register that is not can be ignored when
 * comparing states there.
 */
static void compute_liveness(struct env *e)
{
	const struct bpfrt_insn *ins = e->insns;
	bool changed = true;

	/* the second slots of lddws are not instructions; 0xffff marks them (never a real mask) */
	for (size_t k = 0; k < e->n; k++)
		if (isa_forms[isa_decode(&ins[k])].shape == SH_LDDW && k + 1 < e->n)
			e->live[++k] = 0xffff;
	while (changed) {
		changed = false;
		for (size_t k = e->n; k-- > 0;) {
			if (e->live[k] == 0xffff)
				continue;	/* the second slot of an lddw */
			const struct isa_form *f = &isa_forms[isa_decode(&ins[k])];
			uint16_t use, def, out = 0;
			uses_defs(&ins[k], f, &use, &def);
			switch (f->shape) {
			case SH_EXIT:
				break;
			case SH_JA: case SH_JA32:
				out = e->live[isa_branch_target(ins, k)];
				break;
			case SH_JCOND_IMM: case SH_JCOND_REG:
				out = e->live[k + 1] | e->live[isa_branch_target(ins, k)];
				break;
			case SH_LDDW:
				out = k + 2 < e->n ? e->live[k + 2] : 0;
				break;
			default:
				out = k + 1 < e->n ? e->live[k + 1] : 0;
				break;
			}
			uint16_t in = (uint16_t)(use | (out & ~def) | 1u << R10);
			if (in != e->live[k]) {
				e->live[k] = in;
				changed = true;
			}
		}
	}
}

/* The registers of frame fi that matter in st at insn. */
static uint16_t live_mask(const struct env *e, const struct vstate *st, unsigned fi, uint32_t insn)
{
	if (fi + 1 == st->nfr)
		return e->live[insn];
	/* an older frame resumes after its call, which sets r0 and clears r1-r5 */
	const struct frame *callee = st->fr[fi + 1];
	if (callee->cb)		/* ... or, after a callback, at the helper call again */
		return e->live[callee->callsite];
	return e->live[callee->callsite + 1] & ~0x3fu;
}

static int check_cfg(struct env *e)
{
	size_t n = e->n;
	const struct bpfrt_insn *ins = e->insns;
	uint8_t *seen = calloc(n, 1);
	uint32_t *work = malloc(n * sizeof(*work));
	size_t nw = 0;
	int ret = 0;

	if (!seen || !work) {
		ret = fail(e, -ENOMEM, "out of memory");
		goto out;
	}
	e->fstart[0] = 1;
	for (size_t i = 0; i < n; i++) {
		const struct isa_form *f = &isa_forms[isa_decode(&ins[i])];
		if (f->shape == SH_CALL_LOCAL ||
		    (f->shape == SH_LDDW && ins[i].src_reg == BPF_PSEUDO_FUNC))
			e->fstart[isa_branch_target(ins, i)] = 1;
		if (f->shape == SH_CALL && (ins[i].imm == 181 || ins[i].imm == 164))
			e->prune[i] = 1;	/* bpf_loop, for_each_map_elem: the callback returns here */
		if (f->shape == SH_LDDW)
			i++;
	}
	uint32_t fn = 0;
	for (size_t i = 0; i < n; i++) {
		if (e->fstart[i])
			fn = (uint32_t)i;
		e->func_of[i] = fn;
	}
	/* every function start is a root; everything else must be reachable from one */
	for (size_t i = 0; i < n; i++)
		if (e->fstart[i]) {
			seen[i] = 1;
			work[nw++] = (uint32_t)i;
		}
	while (nw) {
		uint32_t i = work[--nw];
		const struct isa_form *f = &isa_forms[isa_decode(&ins[i])];
		int64_t next[2] = { -1, -1 };

		e->cur_insn = (int)i;
		switch (f->shape) {
		case SH_EXIT:
			break;
		case SH_JA:
		case SH_JA32:
			next[0] = isa_branch_target(ins, i);
			break;
		case SH_JCOND_IMM:
		case SH_JCOND_REG:
			next[0] = i + 1;
			next[1] = isa_branch_target(ins, i);
			e->prune[i + 1] = 1;
			e->prune[next[1]] = 1;
			break;
		case SH_LDDW:
			next[0] = i + 2;
			break;
		default:
			next[0] = i + 1;
			break;
		}
		if (next[0] >= 0 && (f->shape == SH_JA || f->shape == SH_JA32))
			e->prune[next[0]] = 1;
		for (int k = 0; k < 2; k++) {
			if (next[k] < 0)
				continue;
			if (next[k] >= (int64_t)n) {
				ret = fail(e, -EINVAL, "the path runs past the last instruction");
				goto out;
			}
			if (e->func_of[next[k]] != e->func_of[i]) {
				ret = fail(e, -EINVAL, "jump out of the function that starts at insn %u "
					   "(to insn %lld)", e->func_of[i], (long long)next[k]);
				goto out;
			}
			if (!seen[next[k]]) {
				seen[next[k]] = 1;
				work[nw++] = (uint32_t)next[k];
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!seen[i]) {
			e->cur_insn = (int)i;
			ret = fail(e, -EINVAL, "unreachable instruction: no path leads to it");
			goto out;
		}
		if (isa_forms[isa_decode(&ins[i])].shape == SH_LDDW)
			i++;
	}
	compute_liveness(e);
out:
	free(seen);
	free(work);
	return ret;
}

/* ---- Registers ------------------------------------------------------------------------------ */

static int read_reg(struct env *e, struct vstate *st, unsigned r)
{
	if (cur(st)->regs[r].type == T_NOT_INIT)
		return fail(e, -EACCES, "R%u is read before anything was written to it (!read_ok)", r);
	return 0;
}

/* Copies of a number share an id, so what a jump learns about one holds for all. */
static void link_scalar(struct env *e, struct reg *src)
{
	if (!src->id)
		src->id = ++e->next_id;
}

static void sync_linked(struct vstate *st, const struct reg *r)
{
	if (r->type != T_SCALAR || !r->id)
		return;
	FOR_EACH_REG(st, x, {
		if (x != r && x->type == T_SCALAR && x->id == r->id)
			x->s = r->s;
	});
}

/* ---- Memory ---------------------------------------------------------------------------------- */

static inline unsigned slot_of(int64_t off) { return (unsigned)((-off - 1) / 8); }
static inline unsigned byte_of(int64_t off) { return (unsigned)(((off % 8) + 8) % 8); }

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
			return fail(e, -EACCES, "%s reads stack byte fp%lld, which was never written "
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
		return fail(e, -EACCES, "R%u's offset into %s is unbounded: add a bounds check; %s",
			    regno, what, rstr(p, regno, b, sizeof(b)));
	int64_t lo = p->off + insn_off + p->s.smin, hi = p->off + insn_off + p->s.smax;
	if (lo < 0 || hi + size > limit)
		return fail(e, -EACCES, "R%u: access of %u bytes at offset %lld..%lld is outside "
			    "the %lld bytes of %s; %s", regno, size, (long long)lo, (long long)hi,
			    (long long)limit, what, rstr(p, regno, b, sizeof(b)));
	return 0;
}

struct access {
	unsigned regno;		/* the pointer */
	int64_t off;		/* the instruction's offset */
	unsigned size;
	bool write, sx;
	const struct reg *val;	/* STX: the value stored (else NULL) */
	bool imm;		/* ST: the value is imm */
	int64_t immv;
	struct reg *dst;	/* LDX: where the result goes */
	bool atomic;
};

static int stack_access(struct env *e, struct vstate *st, const struct reg *p,
			struct access *a)
{
	unsigned fi = p->frame;
	char b[300];

	if (p->s.smin < -MAX_VAR_OFF || p->s.smax > MAX_VAR_OFF)
		return fail(e, -EACCES, "R%u's stack offset is unbounded; %s", a->regno,
			    rstr(p, a->regno, b, sizeof(b)));
	int64_t lo = p->off + a->off + p->s.smin, hi = p->off + a->off + p->s.smax;
	if (lo < -(int64_t)BPFRT_STACK_SIZE || hi + a->size > 0)
		return fail(e, -EACCES, "R%u: stack access of %u bytes at fp%lld%s is outside the "
			    "512-byte frame; %s", a->regno, a->size, (long long)lo,
			    lo == hi ? "" : " (or further)", rstr(p, a->regno, b, sizeof(b)));
	/* the kernel demands aligned stack accesses, whatever the variable part */
	uint64_t low = a->size - 1;
	if (((uint64_t)(p->off + a->off) & low) || ((p->s.t.v | p->s.t.m) & low))
		return fail(e, -EACCES, "R%u: misaligned stack access of %u bytes at fp%lld",
			    a->regno, a->size, (long long)lo);
	uint32_t need = (uint32_t)((-lo + 7) / 8);
	int ret = grow(e, st, fi, need);
	if (ret)
		return ret;
	struct frame *f = st->fr[fi];
	uint32_t fn = f->func;
	if ((uint32_t)-lo > e->depth[fn])
		e->depth[fn] = (uint32_t)-lo;

	if (lo != hi) {		/* variable offset */
		if (a->write || a->atomic) {
			if (a->val && is_ptr(a->val))
				return fail(e, -EACCES, "R%u: storing a pointer at a variable stack "
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
			return fail(e, -EACCES, "atomic operation on a spilled pointer at fp%lld",
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
			return fail(e, -EACCES, "cannot store a pointer to the stack of a called "
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
			return fail(e, -EACCES, "R%u: a pointer can be stored on the stack only as 8 "
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
		return fail(e, -EACCES, "a read of %u bytes at fp%lld takes part of a spilled pointer",
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
			return fail(e, -EACCES, "R%u: the map is read-only for programs "
				    "(BPF_F_RDONLY_PROG: .rodata, const data)", a->regno);
		ret = bounds_ok(e, p, a->regno, a->off, a->size, p->map->value_size, "the map value");
		break;
	case T_MEM:
		if (p->null)
			goto null;
		ret = bounds_ok(e, p, a->regno, a->off, a->size, p->range, "the memory");
		break;
	case T_MAP_KEY:
		if (a->write || a->atomic)
			return fail(e, -EACCES, "R%u: the key a bpf_for_each_map_elem callback gets "
				    "is read-only", a->regno);
		ret = bounds_ok(e, p, a->regno, a->off, a->size, p->map->key_size, "the map key");
		break;
	case T_CTX: {
		if (!sc_is_const(&p->s) || p->s.t.v != 0 || p->off != 0)
			return fail(e, -EACCES, "R%u: the context may be accessed only through its "
				    "original pointer with a constant offset; %s", a->regno,
				    rstr(p, a->regno, b, sizeof(b)));
		if (a->atomic)
			return fail(e, -EACCES, "atomic operations on the context are not allowed");
		why[0] = 0;
		enum vfield k = ctx_access(e->in->type, e->in->ctx_size, a->off, a->size,
					   a->write, why, sizeof(why));
		if (k == F_NONE)
			return fail(e, -EACCES, "invalid context access: %s of %u bytes at offset "
				    "%lld of the %s context%s%s", a->write ? "write" : "read",
				    a->size, (long long)a->off, bpfrt_prog_type_name(e->in->type),
				    why[0] ? ": " : "", why);
		if (a->write) {
			if (a->val && is_ptr(a->val))
				return fail(e, -EACCES, "R%u: storing a pointer into the context is "
					    "not allowed", a->regno);
			return 0;
		}
		if (k == F_SCALAR)
			mark_scalar(a->dst, sc_load(a->size, a->sx));
		else {
			mark_ptr(a->dst, k == F_PKT ? T_PKT : k == F_PKT_END ? T_PKT_END : T_PKT_META);
			a->dst->origin = e->cur_insn;
		}
		return 0;
	}
	case T_PKT:
	case T_PKT_META: {
		if (a->atomic)
			return fail(e, -EACCES, "atomic operations on packet data are not allowed");
		if (a->write && !ctx_pkt_writable(e->in->type))
			return fail(e, -EACCES, "%s programs cannot write packet data",
				    bpfrt_prog_type_name(e->in->type));
		if (a->write && a->val && is_ptr(a->val))
			return fail(e, -EACCES, "R%u: storing a pointer into the packet is not allowed",
				    a->regno);
		if (p->s.smin < 0 || p->s.umax > MAX_PKT_OFF)
			return fail(e, -EACCES, "R%u: the packet offset is not bounded to 0..%d; %s",
				    a->regno, MAX_PKT_OFF, rstr(p, a->regno, b, sizeof(b)));
		int64_t lo = p->off + a->off, hi = lo + a->size;
		if (lo < 0 || hi > (int64_t)p->range)
			return fail(e, -EACCES, "R%u: packet access of %u bytes at offset %lld is not "
				    "proven in bounds (checked: %u bytes): compare against data_end "
				    "first; %s", a->regno, a->size, (long long)lo, p->range,
				    rstr(p, a->regno, b, sizeof(b)));
		ret = 0;
		break;
	}
	case T_NOT_INIT:
		return fail(e, -EACCES, "R%u is read before anything was written to it (!read_ok)",
			    a->regno);
	case T_SCALAR:
		return fail(e, -EACCES, "R%u is a number, not a pointer: it cannot be dereferenced; %s",
			    a->regno, rstr(p, a->regno, b, sizeof(b)));
	default:
		return fail(e, -EACCES, "R%u (%s) cannot be dereferenced", a->regno, type_name(p));
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
		where(e, p->origin, w2, sizeof(w2));
		snprintf(o, sizeof(o), ": it is the result of %s", w2);
	}
	return fail(e, -EACCES, "R%u may be NULL here%s, dereferenced without a NULL check; %s",
		    a->regno, o, rstr(p, a->regno, b, sizeof(b)));
}

/*
 * Memory [p, p+size) that a helper reads (init) or writes; size is a scalar
 * whose maximum counts (its minimum, for what a write surely initialises).
 */
static int check_helper_mem(struct env *e, struct vstate *st, unsigned regno,
			    const struct scalar *size_in, bool write, bool init, const char *what)
{
	/* copies: growing the stack below may move the frame they live in */
	struct reg preg = cur(st)->regs[regno], *p = &preg;
	struct scalar sz = *size_in, *size = &sz;
	char b[300];

	if (size->umax > (1u << 29))
		return fail(e, -EACCES, "R%u: the size of %s is unbounded", regno + 1, what);
	unsigned umax = (unsigned)size->umax, umin = (unsigned)size->umin;
	if (umax == 0)
		return 0;
	if (p->type == T_STACK) {
		if (p->s.smin < -MAX_VAR_OFF || p->s.smax > MAX_VAR_OFF)
			return fail(e, -EACCES, "R%u's stack offset is unbounded; %s", regno,
				    rstr(p, regno, b, sizeof(b)));
		int64_t lo = p->off + p->s.smin, hi = p->off + p->s.smax;
		if (lo < -(int64_t)BPFRT_STACK_SIZE || hi + umax > 0)
			return fail(e, -EACCES, "R%u: %s (%u bytes at fp%lld) is outside the stack "
				    "frame", regno, what, umax, (long long)lo);
		int ret = grow(e, st, p->frame, (uint32_t)((-lo + 7) / 8));
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
	struct access a = { .regno = regno, .off = 0, .size = 1, .write = write };
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
		return fail(e, -EACCES, "R%u: the context cannot be passed as %s", regno, what);
	default:
		break;
	}
	return fail(e, -EACCES, "R%u must point to %s (stack, map value, packet or memory), "
		    "but it is %s; %s", regno, what, type_name(p), rstr(p, regno, b, sizeof(b)));
}

/* ---- ALU ----------------------------------------------------------------------------------- */

/* Pointer kinds the kernel lets programs add numbers to. */
static bool ptr_arith_ok(const struct reg *p)
{
	switch (p->type) {
	case T_CTX: case T_STACK: case T_PKT: case T_PKT_META: case T_MAP_KEY:
		return true;
	case T_MAP_VALUE: case T_MEM:
		return !p->null;
	default:
		return false;
	}
}

/* dst = ptr +/- k (k a scalar); dst may alias ptr. */
static int ptr_add(struct env *e, struct reg *dst, const struct reg *ptr, const struct scalar *k,
		   bool sub, unsigned dregno)
{
	char b[300];
	struct reg r = *ptr;

	if (!ptr_arith_ok(ptr))
		return fail(e, -EACCES, "R%u: arithmetic on %s is not allowed%s; %s", dregno,
			    type_name(ptr), ptr->null ? " (check it against NULL first)" : "",
			    rstr(ptr, dregno, b, sizeof(b)));
	if (sc_is_const(k)) {
		int64_t v = (int64_t)k->t.v;
		if (sub)
			v = -v;
		if (v < -MAX_VAR_OFF || v > MAX_VAR_OFF)
			return fail(e, -EACCES, "R%u: adding %lld to a pointer is out of range",
				    dregno, (long long)v);
		int64_t no = (int64_t)r.off + v;
		if (no < -MAX_VAR_OFF || no > MAX_VAR_OFF)
			return fail(e, -EACCES, "R%u: pointer offset %lld is out of range", dregno,
				    (long long)no);
		r.off = (int32_t)no;
	} else {
		if (r.type == T_CTX)
			return fail(e, -EACCES, "R%u: variable offsets into the context are not allowed",
				    dregno);
		r.s = sc_alu(sub ? BPF_SUB : BPF_ADD, false, false, 0, &ptr->s, k);
		if (r.type == T_PKT || r.type == T_PKT_META) {
			r.id = ++e->next_id;	/* a new variable part: nothing proven for it yet */
			r.range = 0;
		}
	}
	*dst = r;
	return 0;
}

static int do_alu(struct env *e, struct vstate *st, const struct bpfrt_insn *in,
		  const struct isa_form *f)
{
	struct frame *fr = cur(st);
	unsigned op = BPF_OP(in->code), d = in->dst_reg;
	bool is32 = isa_is_alu32(in->code);
	struct reg *dst = &fr->regs[d], src;
	char b[300];
	int ret;

	if (f->shape == SH_ALU_REG) {
		if ((ret = read_reg(e, st, in->src_reg)))
			return ret;
		src = fr->regs[in->src_reg];
	} else {
		mark_scalar(&src, sc_const(sem_imm(is32, in->imm)));
		/* the kernel refuses these constant operands, which no compiler emits */
		if ((op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH) &&
		    (in->imm < 0 || in->imm >= (is32 ? 32 : 64)))
			return fail(e, -EINVAL, "invalid shift by %d", in->imm);
		if ((op == BPF_DIV || op == BPF_MOD) && in->imm == 0)
			return fail(e, -EINVAL, "division by the constant 0");
	}
	if (f->shape == SH_END) {
		if ((ret = read_reg(e, st, d)))
			return ret;
		if (is_ptr(dst))
			return fail(e, -EACCES, "R%u: byte swap of a pointer is not allowed", d);
		mark_scalar(dst, sc_end(BPF_CLASS(in->code) == BPF_ALU64 || BPF_SRC(in->code),
					(unsigned)in->imm, &dst->s));
		return 0;
	}
	if (op == BPF_MOV) {
		unsigned sx = f->disc == D_OFF ? (unsigned)in->off : 0;
		if (src.type == T_SCALAR) {
			if (!is32 && !sx && f->shape == SH_ALU_REG) {
				link_scalar(e, &fr->regs[in->src_reg]);
				*dst = fr->regs[in->src_reg];
			} else {
				mark_scalar(dst, sc_alu(BPF_MOV, false, is32, sx, &src.s, &src.s));
			}
		} else if (is32 || sx) {
			mark_unknown(dst);	/* part of an address: a number (root may read it) */
			if (is32)
				dst->s = sc_urange(0xffffffffull);
		} else {
			*dst = src;
		}
		return 0;
	}
	if ((ret = read_reg(e, st, d)))
		return ret;
	bool sign = (op == BPF_DIV || op == BPF_MOD) && f->disc == D_OFF && in->off == 1;
	if (dst->type == T_SCALAR && src.type == T_SCALAR) {
		struct scalar r = sc_alu(op, sign, is32, 0, &dst->s, &src.s);
		mark_scalar(dst, r);
		return 0;
	}
	/* pointers: negation and 32-bit subtraction give numbers (as for root in the kernel) */
	if (op == BPF_NEG) {
		mark_unknown(dst);
		if (is32)
			dst->s = sc_urange(0xffffffffull);
		return 0;
	}
	if (is32) {
		if (op == BPF_SUB) {
			mark_scalar(dst, sc_urange(0xffffffffull));
			return 0;
		}
		return fail(e, -EACCES, "R%u: 32-bit arithmetic on a pointer is not allowed; %s", d,
			    rstr(is_ptr(dst) ? dst : &src, is_ptr(dst) ? d : in->src_reg, b, sizeof(b)));
	}
	if (op == BPF_ADD) {
		if (is_ptr(dst) && is_ptr(&src))
			return fail(e, -EACCES, "R%u: adding two pointers is not allowed", d);
		if (is_ptr(dst))
			return ptr_add(e, dst, dst, &src.s, false, d);
		struct scalar k = dst->s;
		return ptr_add(e, dst, &src, &k, false, d);
	}
	if (op == BPF_SUB) {
		if (dst->type == T_STACK && src.type == T_SCALAR)
			return fail(e, -EACCES, "R%u: subtracting from the stack pointer is not allowed "
				    "(add a negative number instead)", d);
		if (is_ptr(dst) && is_ptr(&src)) {
			/* the distance between two pointers is a number (root may learn it) */
			mark_unknown(dst);
			return 0;
		}
		if (is_ptr(dst))
			return ptr_add(e, dst, dst, &src.s, true, d);
		return fail(e, -EACCES, "R%u: subtracting a pointer from a number is not allowed", d);
	}
	return fail(e, -EACCES, "R%u: this operation on a pointer is not allowed (only adding and "
		    "subtracting numbers); %s", d,
		    rstr(is_ptr(dst) ? dst : &src, is_ptr(dst) ? d : in->src_reg, b, sizeof(b)));
}

/* ---- Loads and stores ---------------------------------------------------------------------- */

static int do_mem(struct env *e, struct vstate *st, const struct bpfrt_insn *in,
		  const struct isa_form *f)
{
	struct frame *fr = cur(st);
	struct access a = { .off = in->off, .size = isa_size(in->code) };
	struct reg val;
	int ret;

	switch (f->shape) {
	case SH_LDX:
		if ((ret = read_reg(e, st, in->src_reg)))
			return ret;
		a.regno = in->src_reg;
		a.sx = BPF_MODE(in->code) == BPF_MEMSX;
		a.dst = &val;
		if ((ret = check_access(e, st, &a)))
			return ret;
		cur(st)->regs[in->dst_reg] = val;
		return 0;
	case SH_ST:
		if ((ret = read_reg(e, st, in->dst_reg)))
			return ret;
		a.regno = in->dst_reg;
		a.write = true;
		a.imm = true;
		a.immv = a.size == 8 ? (int64_t)in->imm : (int64_t)(uint64_t)((uint32_t)in->imm &
			(a.size == 4 ? 0xffffffffu : a.size == 2 ? 0xffffu : 0xffu));
		return check_access(e, st, &a);
	case SH_STX:
		if ((ret = read_reg(e, st, in->dst_reg)) || (ret = read_reg(e, st, in->src_reg)))
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
		if ((ret = read_reg(e, st, in->dst_reg)) || (ret = read_reg(e, st, in->src_reg)))
			return ret;
		if (op == BPF_CMPXCHG && (ret = read_reg(e, st, R0)))
			return ret;
		struct reg *p = &fr->regs[in->dst_reg];
		if (p->type != T_STACK && p->type != T_MAP_VALUE && p->type != T_MEM)
			return fail(e, -EACCES, "atomic operations are allowed on the stack and map "
				    "values, not on %s", type_name(p));
		/* atomics must be aligned to their size, whatever the variable part */
		uint64_t low = a.size - 1;
		if (((uint64_t)(p->off + in->off) & low) || ((p->s.t.v | p->s.t.m) & low))
			return fail(e, -EACCES, "R%u: atomic access of %u bytes at offset %d is not "
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

static int do_lddw(struct env *e, struct vstate *st, const struct bpfrt_insn *in, size_t i)
{
	struct reg *r = &cur(st)->regs[in->dst_reg];
	uint32_t idx = (uint32_t)in[0].imm;

	switch (in->src_reg) {
	case 0:
		mark_scalar(r, sc_const(isa_imm64(in)));
		return 0;
	case BPF_PSEUDO_MAP_IDX:
	case BPF_PSEUDO_MAP_IDX_VALUE:
		if (idx >= e->in->nmaps)
			return fail(e, -EINVAL, "lddw refers to map %u; the program has %zu", idx,
				    e->in->nmaps);
		if (in->src_reg == BPF_PSEUDO_MAP_IDX) {
			mark_ptr(r, T_MAP_PTR);
			r->map = &e->in->maps[idx];
			return 0;
		}
		mark_ptr(r, T_MAP_VALUE);
		r->map = &e->in->maps[idx];
		if ((uint32_t)in[1].imm >= r->map->value_size)
			return fail(e, -EACCES, "lddw: offset %u is past the map's %u-byte value",
				    (uint32_t)in[1].imm, r->map->value_size);
		r->off = in[1].imm;
		return 0;
	case BPF_PSEUDO_FUNC:
		mark_ptr(r, T_FUNC);
		r->off = (int32_t)isa_branch_target(e->insns, i);
		return 0;
	default:
		return fail(e, -EINVAL, "lddw with source %u (%s) is not resolved", in->src_reg,
			    in->src_reg == BPF_PSEUDO_MAP_FD ? "a map fd" : "unsupported");
	}
}

/* ---- Jumps --------------------------------------------------------------------------------- */

/* Packet pointers with r's id are proven to have `range` bytes. */
static void set_pkt_range(struct vstate *st, const struct reg *r, uint32_t range)
{
	uint8_t type = r->type;
	uint32_t id = r->id;

	FOR_EACH_REG(st, x, {
		if (x->type == type && x->id == id && x->range < range)
			x->range = range;
	});
}

/* The nullable pointers with id are NULL (null) or not. */
static void mark_null(struct vstate *st, uint32_t id, bool null)
{
	uint32_t ref = 0;

	FOR_EACH_REG(st, x, {
		if (is_ptr(x) && x->null && x->id == id) {
			if (null) {
				ref = x->ref ? x->ref : ref;
				mark_scalar(x, sc_const(0));
			} else {
				x->null = false;
			}
		}
	});
	if (null && ref) {	/* a NULL reservation holds nothing */
		for (unsigned i = 0; i < st->nrefs; i++)
			if (st->refs[i].id == ref) {
				st->refs[i] = st->refs[--st->nrefs];
				break;
			}
	}
}

/*
 * Pointers that are never NULL: the stack, maps, checked map values and
 * ringbuf memory. The context and the packet may be (a caller may run a
 * program with no context), so comparing them with 0 decides nothing.
 */
static bool never_null(const struct reg *r)
{
	switch (r->type) {
	case T_STACK: case T_MAP_PTR: case T_MAP_VALUE: case T_FUNC: case T_MAP_KEY:
		return !r->null;
	case T_MEM:
		return !r->null && r->ref;
	default:
		return false;
	}
}

/*
 * Learn from `a op b` being true (taken) or false about pointers: NULL checks
 * and packet bounds. Returns 0 = both outcomes possible, 1 = only taken,
 * -1 = only not taken.
 */
static int ptr_cond(struct vstate *st, unsigned op, bool jmp32, struct reg *a, struct reg *b,
		    bool taken)
{
	bool bz = b->type == T_SCALAR && sc_is_const(&b->s) && b->s.t.v == 0;

	if (jmp32)
		return 0;
	if (is_ptr(a) && bz && (op == BPF_JEQ || op == BPF_JNE)) {
		bool isnull = (op == BPF_JEQ) == taken;
		if (a->null) {
			mark_null(st, a->id, isnull);
			return 0;
		}
		if (!never_null(a))
			return 0;
		/* a pointer that cannot be NULL */
		return isnull ? (taken ? -1 : 1) : 0;
	}
	/* p op end, with p a packet pointer: normalise to `lhs <= rhs` being known */
	struct reg *p = NULL;
	bool le = false, strict = false;
	if (a->type == T_PKT && b->type == T_PKT_END) {
		p = a;
		switch (op) {
		case BPF_JGT: le = !taken; break;		/* p > end false: p <= end */
		case BPF_JGE: le = !taken; strict = true; break;	/* p < end */
		case BPF_JLE: le = taken; break;
		case BPF_JLT: le = taken; strict = true; break;
		}
	} else if (a->type == T_PKT_END && b->type == T_PKT) {
		p = b;
		switch (op) {
		case BPF_JLT: le = !taken; break;		/* end < p false: p <= end */
		case BPF_JLE: le = !taken; strict = true; break;
		case BPF_JGE: le = taken; break;
		case BPF_JGT: le = taken; strict = true; break;
		}
	} else if (a->type == T_PKT_META && b->type == T_PKT && b->off == 0 &&
		   sc_is_const(&b->s) && b->s.t.v == 0) {
		p = a;
		switch (op) {
		case BPF_JGT: le = !taken; break;
		case BPF_JGE: le = !taken; strict = true; break;
		case BPF_JLE: le = taken; break;
		case BPF_JLT: le = taken; strict = true; break;
		}
	} else if (b->type == T_PKT_META && a->type == T_PKT && a->off == 0 &&
		   sc_is_const(&a->s) && a->s.t.v == 0) {
		p = b;
		switch (op) {
		case BPF_JLT: le = !taken; break;
		case BPF_JLE: le = !taken; strict = true; break;
		case BPF_JGE: le = taken; break;
		case BPF_JGT: le = taken; strict = true; break;
		}
	}
	if (p && le && p->off >= 0 && p->s.smin >= 0)
		set_pkt_range(st, p, (uint32_t)p->off + (strict ? 1 : 0));
	return 0;
}

/*
 * A conditional jump: refine the state for each outcome; *take / *fall say
 * which are possible. st becomes the fall-through state, *tst the taken one.
 */
static int do_jcond(struct env *e, struct vstate *st, const struct bpfrt_insn *in,
		    const struct isa_form *f, struct vstate **tst, bool *take, bool *fall)
{
	unsigned op = BPF_OP(in->code);
	bool jmp32 = isa_is_jmp32(in->code), isreg = f->shape == SH_JCOND_REG;
	int ret;

	if ((ret = read_reg(e, st, in->dst_reg)) || (isreg && (ret = read_reg(e, st, in->src_reg))))
		return ret;
	/* numbers against numbers: when only one outcome is possible, no copy is needed */
	struct reg *ra = &cur(st)->regs[in->dst_reg];
	if (ra->type == T_SCALAR && (!isreg || (cur(st)->regs[in->src_reg].type == T_SCALAR &&
						in->src_reg != in->dst_reg))) {
		struct scalar bk = isreg ? cur(st)->regs[in->src_reg].s
					 : sc_const(sem_imm(jmp32, in->imm));
		struct scalar xt = ra->s, yt = bk, xf = ra->s, yf = bk;
		bool ct = sc_refine(op, jmp32, false, &xt, &yt);
		bool cf = sc_refine(op, jmp32, true, &xf, &yf);
		if (!(ct && cf)) {
			*take = ct;
			*fall = cf;
			*tst = NULL;
			if (ct || cf) {
				ra->s = ct ? xt : xf;
				sync_linked(st, ra);
				if (isreg) {
					struct reg *rb = &cur(st)->regs[in->src_reg];
					rb->s = ct ? yt : yf;
					sync_linked(st, rb);
				}
			}
			return 0;
		}
	}
	struct vstate *t = st_copy(e, st);
	if (!t)
		return fail(e, -ENOMEM, "out of memory");
	*take = *fall = true;
	for (int k = 0; k < 2; k++) {
		struct vstate *s = k ? t : st;
		bool taken = k == 1;
		struct frame *fr = cur(s);
		struct reg *a = &fr->regs[in->dst_reg], bimm, *b;
		if (isreg) {
			b = &fr->regs[in->src_reg];
		} else {
			mark_scalar(&bimm, sc_const(sem_imm(jmp32, in->imm)));
			b = &bimm;
		}
		bool ok = true;
		if (a->type == T_SCALAR && b->type == T_SCALAR) {
			if (isreg && in->src_reg == in->dst_reg) {
				struct scalar x = a->s, y = a->s;
				bool same = sem_jcond(op, jmp32, 0, 0);
				(void)x; (void)y;
				/* x op x: equality-like ops are always true, strict ones always false */
				ok = same == taken;
				if (op == BPF_JSET)
					ok = sc_refine(op, jmp32, !taken, &x, &y);
			} else {
				struct scalar x = a->s, y = b->s;
				ok = sc_refine(op, jmp32, !taken, &x, &y);
				if (ok) {
					a->s = x;
					b->s = y;
					sync_linked(s, a);
					if (isreg)
						sync_linked(s, b);
				}
			}
		} else {
			int r = ptr_cond(s, op, jmp32, a, b, taken);
			if (r == 1 && !taken)
				ok = false;
			if (r == -1 && taken)
				ok = false;
			if (a->type == T_SCALAR && is_ptr(b) && isreg) {
				/* 0 op ptr: the mirror image */
				bool az = sc_is_const(&a->s) && a->s.t.v == 0;
				if (az && never_null(b) && (op == BPF_JEQ || op == BPF_JNE) && !jmp32)
					ok = (op == BPF_JNE) == taken;
				else if (az && b->null && (op == BPF_JEQ || op == BPF_JNE) && !jmp32)
					mark_null(s, b->id, (op == BPF_JEQ) == taken);
			}
		}
		if (!ok) {
			if (taken)
				*take = false;
			else
				*fall = false;
		}
	}
	*tst = t;
	return 0;
}

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
	case 1:
		return mt != M_PROG_ARRAY && mt != M_PERF && mt != M_STACK_TRACE &&
		       mt != M_CGROUP_ARRAY && mt != M_RINGBUF && mt != M_QUEUE &&
		       mt != M_STACK && mt != M_BLOOM;
	case 2: case 3:
		return mt != M_PROG_ARRAY && mt != M_PERF && mt != M_STACK_TRACE &&
		       mt != M_CGROUP_ARRAY && mt != M_RINGBUF && mt != M_QUEUE &&
		       mt != M_STACK && mt != M_BLOOM && mt != M_AOM && mt != M_HOM;
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
		return fail(e, -EINVAL, "releasing a reference that is not held");
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

static int do_helper(struct env *e, struct vstate *st, const struct bpfrt_insn *in)
{
	uint32_t id = (uint32_t)in->imm;
	const struct vproto *p = proto_get(id);
	struct frame *fr = cur(st);
	const struct vmap *map = NULL;
	char b[300];
	int ret;

	if (!p)
		return fail(e, -EINVAL, "helper #%u is not known to bpfrt's verifier", id);
	if (!(p->types & proto_type_bit(e->in->type)))
		return fail(e, -EINVAL, "program of this type (%s) cannot use helper %s#%u",
			    bpfrt_prog_type_name(e->in->type), p->name, id);
	uint32_t rb_size = 0, release = 0, key = 0;
	bool known_key = id == 1 && const_key(st, &fr->regs[R2], &key);
	for (unsigned i = 0; i < 5 && p->args[i] != A_NONE; i++) {
		fr = cur(st);	/* checking memory may have grown (moved) the frame */
		unsigned regno = R1 + i;
		struct reg *r = &fr->regs[regno];
		unsigned kind = p->args[i];
		if (r->type == T_NOT_INIT)
			return fail(e, -EACCES, "%s: argument %u (R%u) is not initialised", p->name,
				    i + 1, regno);
		switch (kind) {
		case A_ANY:
			break;
		case A_SCALAR:
			if (r->type != T_SCALAR)
				return fail(e, -EACCES, "%s: argument %u (R%u) must be a number, not %s",
					    p->name, i + 1, regno, type_name(r));
			break;
		case A_CTX:
			if (r->type != T_CTX && !(ctx_is_mem(e->in->type) && r->type == T_MEM))
				return fail(e, -EACCES, "%s: argument %u (R%u) must be the context, not "
					    "%s", p->name, i + 1, regno, type_name(r));
			if (r->off || !sc_is_const(&r->s) || r->s.t.v)
				return fail(e, -EACCES, "%s: argument %u (R%u) must be the context's "
					    "start", p->name, i + 1, regno);
			break;
		case A_MAP:
			if (r->type != T_MAP_PTR || r->null)
				return fail(e, -EACCES, "%s: argument %u (R%u) must be a map, not %s%s",
					    p->name, i + 1, regno, type_name(r),
					    r->null ? " (check it against NULL first)" : "");
			map = r->map;
			if (!map_helper_ok(id, map->type))
				return fail(e, -EINVAL, "helper %s#%u cannot be used with a map of type "
					    "%u", p->name, id, map->type);
			break;
		case A_KEY:
		case A_VALUE:
		case A_UVALUE: {
			if (!map)
				return fail(e, -EINVAL, "%s: no map argument before argument %u",
					    p->name, i + 1);
			struct scalar sz = sc_const(kind == A_KEY ? map->key_size : map->value_size);
			if (kind == A_KEY && map->key_size == 0)
				break;
			ret = check_helper_mem(e, st, regno, &sz, kind == A_UVALUE, kind != A_UVALUE,
					       kind == A_KEY ? "the map's key" : "the map's value");
			if (ret)
				return ret;
			break;
		}
		case A_MEM:
		case A_UMEM:
		case A_MEM_NULL: {
			struct reg *sr = &fr->regs[regno + 1];
			if (i == 4 || (p->args[i + 1] != A_SIZE && p->args[i + 1] != A_SIZE0))
				return fail(e, -EINVAL, "%s: prototype without a size", p->name);
			if (sr->type != T_SCALAR)
				return fail(e, -EACCES, "%s: argument %u (R%u), a size, must be a number",
					    p->name, i + 2, regno + 1);
			if (kind == A_MEM_NULL && r->type == T_SCALAR && sc_is_const(&r->s) &&
			    r->s.t.v == 0)
				break;
			if (p->args[i + 1] == A_SIZE && sr->s.umin == 0 && sr->s.umax == 0)
				return fail(e, -EACCES, "%s: argument %u (R%u) must be a size above 0",
					    p->name, i + 2, regno + 1);
			if (sr->s.smin < 0)
				return fail(e, -EACCES, "%s: argument %u (R%u), a size, may be negative: "
					    "bound it with a check; %s", p->name, i + 2, regno + 1,
					    rstr(sr, regno + 1, b, sizeof(b)));
			ret = check_helper_mem(e, st, regno, &sr->s, kind == A_UMEM, kind != A_UMEM,
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
				return fail(e, -EACCES, "%s: argument %u (R%u) must be a known constant",
					    p->name, i + 1, regno);
			if (r->s.t.v > (1u << 30))
				return fail(e, -EACCES, "%s: argument %u (R%u) is too big: %llu", p->name,
					    i + 1, regno, (unsigned long long)r->s.t.v);
			rb_size = (uint32_t)r->s.t.v;
			break;
		case A_RB_MEM:
			if (r->type != T_MEM || !r->ref || r->null)
				return fail(e, -EACCES, "%s: argument %u (R%u) must be memory from "
					    "bpf_ringbuf_reserve, checked against NULL; it is %s",
					    p->name, i + 1, regno, type_name(r));
			if (r->off || !sc_is_const(&r->s) || r->s.t.v)
				return fail(e, -EACCES, "%s: argument %u (R%u) must point to the start "
					    "of the reservation", p->name, i + 1, regno);
			release = r->ref;
			break;
		case A_MAP_VALUE:
			if (r->type != T_MAP_VALUE || r->null)
				return fail(e, -EACCES, "%s: argument %u (R%u) must point into a map "
					    "value", p->name, i + 1, regno);
			break;
		case A_STACK_NULL:
			if (r->type == T_SCALAR && sc_is_const(&r->s) && r->s.t.v == 0)
				break;
			if (r->type != T_STACK)
				return fail(e, -EACCES, "%s: argument %u (R%u) must point to the stack",
					    p->name, i + 1, regno);
			break;
		case A_PTR:
			break;
		case A_FUNC:
			return fail(e, -ENOTSUP, "%s: callbacks are not verified by bpfrt yet",
				    p->name);
		}
	}
	if (id == 12 && st->nrefs)	/* tail_call */
		return fail(e, -EINVAL, "bpf_tail_call while holding a reference (from insn %d): "
			    "submit or discard it first", st->refs[0].insn);
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
				return fail(e, -EINVAL, "the map of maps has no inner map definition");
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
			return fail(e, -EINVAL, "too many references held at once");
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
			return fail(e, -ENOMEM, "out of memory");
		e->edges = p;
		e->edge_cap = cap;
	}
	e->edges[e->nedges][0] = from;
	e->edges[e->nedges][1] = to;
	e->nedges++;
	return 0;
}

static int push(struct env *e, struct vstate *st, uint32_t insn, uint32_t from);

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
static int do_callback(struct env *e, struct vstate *st, uint32_t i, uint32_t id, uint32_t *next)
{
	const struct vproto *p = proto_get(id);
	struct frame *fr = cur(st);
	struct reg *r = fr->regs;
	bool each = id == 164;
	char b[300];

	if (!(p->types & proto_type_bit(e->in->type)))
		return fail(e, -EINVAL, "program of this type (%s) cannot use helper %s#%u",
			    bpfrt_prog_type_name(e->in->type), p->name, id);
	for (unsigned k = R1; k <= R4; k++)
		if (r[k].type == T_NOT_INIT)
			return fail(e, -EACCES, "%s: argument %u (R%u) is not initialised", p->name,
				    k, k);
	if (each) {
		if (r[R1].type != T_MAP_PTR || r[R1].null)
			return fail(e, -EACCES, "%s: R1 must be a map, not %s%s", p->name,
				    type_name(&r[R1]), r[R1].null ? " (check it against NULL first)" : "");
		if (!for_each_map_ok(r[R1].map->type))
			return fail(e, -EINVAL, "%s: a map of type %u has no elements to walk (array, "
				    "percpu array and the hash maps have)", p->name, r[R1].map->type);
	}
	if ((!each && r[R1].type != T_SCALAR) || r[R4].type != T_SCALAR)
		return fail(e, -EACCES, "%s: %s must be numbers", p->name,
			    each ? "the flags (R4)" : "the count (R1) and flags (R4)");
	if (r[R2].type != T_FUNC)
		return fail(e, -EACCES, "%s: R2 must be a function (the callback), not %s; %s",
			    p->name, type_name(&r[R2]), rstr(&r[R2], R2, b, sizeof(b)));
	bool ctx_null = r[R3].type == T_SCALAR && sc_is_const(&r[R3].s) && r[R3].s.t.v == 0;
	if (r[R3].type != T_STACK && !ctx_null)
		return fail(e, -EACCES, "%s: the callback's context (R3) must point to the "
			    "stack or be NULL, not %s", p->name, type_name(&r[R3]));
	if (st->nfr == BPFRT_MAX_FRAMES)
		return fail(e, -E2BIG, "the callback nests %u functions deep; at most %u are "
			    "allowed", st->nfr + 1, BPFRT_MAX_FRAMES);
	/* the helper returns: r0 is the number of calls made, or an error */
	struct vstate *done = st_copy(e, st);
	if (!done)
		return fail(e, -ENOMEM, "out of memory");
	struct frame *df = cur(done);
	for (unsigned k = R1; k <= R5; k++)
		mark_ptr(&df->regs[k], T_NOT_INIT);
	mark_unknown(&df->regs[R0]);
	int ret = push(e, done, i + 1, i);
	if (ret) {
		st_free(e, done);
		return ret;
	}
	/* or calls the callback once more */
	uint32_t target = (uint32_t)r[R2].off;
	struct frame *f = frame_new(0);
	if (!f)
		return fail(e, -ENOMEM, "out of memory");
	e->mem += frame_bytes(0);
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
static void widen(struct vstate *st, const struct vstate *old)
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

static int do_call(struct env *e, struct vstate *st, size_t i, uint32_t target)
{
	if (st->nfr == BPFRT_MAX_FRAMES)
		return fail(e, -E2BIG, "the call nests %u functions deep; at most %u are allowed",
			    st->nfr + 1, BPFRT_MAX_FRAMES);
	struct frame *caller = cur(st), *f = frame_new(0);
	if (!f)
		return fail(e, -ENOMEM, "out of memory");
	e->mem += frame_bytes(0);
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
static int do_exit(struct env *e, struct vstate *st, uint32_t *next)
{
	struct frame *f = cur(st);
	char b[300];

	if (f->regs[R0].type == T_NOT_INIT)
		return fail(e, -EACCES, "R0 is not set at exit: the function must return a value "
			    "(!read_ok)");
	if (st->nfr > 1 && f->cb) {
		struct reg *r0 = &f->regs[R0];
		if (r0->type != T_SCALAR || r0->s.smin < 0 || r0->s.smax > 1)
			return fail(e, -EINVAL, "a callback (bpf_loop, bpf_for_each_map_elem) must "
				    "return 0 or 1; %s",
				    rstr(r0, 0, b, sizeof(b)));
		if (st->nrefs != f->cb_refs)
			return fail(e, -EINVAL, "the callback returns holding a reference it took (or "
				    "having released one it did not)");
		*next = (uint32_t)f->callsite;	/* the helper calls it again, or returns */
		e->cb_return = true;
		e->mem -= frame_bytes(f->nslots);
		free(f);
		st->fr[--st->nfr] = NULL;
		return 0;
	}
	if (st->nfr > 1) {
		struct reg *r0 = &f->regs[R0];
		if (r0->type == T_STACK && r0->frame == st->nfr - 1)
			return fail(e, -EACCES, "a function cannot return a pointer to its own stack");
		struct frame *caller = st->fr[st->nfr - 2];
		caller->regs[R0] = *r0;
		*next = (uint32_t)f->callsite + 1;
		e->mem -= frame_bytes(f->nslots);
		free(f);
		st->fr[--st->nfr] = NULL;
		return 0;
	}
	if (st->nrefs)
		return fail(e, -EINVAL, "reference from insn %d (bpf_ringbuf_reserve) is still held at "
			    "exit: submit or discard it on every path", st->refs[0].insn);
	int64_t lo, hi;
	if (ctx_retval_range(e->in->type, &lo, &hi)) {
		struct reg *r0 = &f->regs[R0];
		if (r0->type != T_SCALAR || r0->s.smin < lo || r0->s.smax > hi)
			return fail(e, -EINVAL, "at exit R0 must be in [%lld, %lld] for %s programs; "
				    "%s", (long long)lo, (long long)hi,
				    bpfrt_prog_type_name(e->in->type), rstr(r0, 0, b, sizeof(b)));
	}
	return 1;
}

static int check_stack_depth(struct env *e)
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
			return fail(e, -E2BIG, "the combined stack of %u nested calls is %u bytes; "
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
 * Is every concrete value of c one that o allows (and o's path was verified)?
 * exact: equal. A register o does not have (never written, or not read from
 * here on) allows anything.
 */
static bool reg_sub(const struct reg *o, const struct reg *c, struct idmap *m, bool exact)
{
	if (o->type == T_NOT_INIT)
		return true;
	if (o->type != c->type)
		return false;
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
	return true;
}

static bool frame_sub(const struct frame *o, const struct frame *c, struct idmap *m, bool exact)
{
	if (o->callsite != c->callsite)
		return false;
	for (unsigned r = 0; r < ISA_NREGS; r++)
		if (!reg_sub(&o->regs[r], &c->regs[r], m, exact))
			return false;
	uint32_t n = o->nslots > c->nslots ? o->nslots : c->nslots;
	static const struct slot empty;
	for (uint32_t i = 0; i < n; i++) {
		const struct slot *so = i < o->nslots ? &o->slots[i] : &empty;
		const struct slot *sc = i < c->nslots ? &c->slots[i] : &empty;
		uint64_t to8, tc8;
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
			    !reg_sub(&so->spill, &sc->spill, m, exact))
				return false;
		}
	}
	return true;
}

static bool state_sub(const struct vstate *o, const struct vstate *c, bool exact)
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
	for (unsigned i = 0; i < o->nfr; i++)
		if (!frame_sub(o->fr[i], c->fr[i], &m, exact))
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
		uint16_t live = live_mask(e, st, i, insn);
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

/* A path ended: its stored ancestors have one unfinished path fewer. */
static void path_done(struct vstate *parent)
{
	while (parent) {
		if (--parent->branches)
			break;
		parent = parent->parent;
	}
}

/*
 * At a prune point: 1 if a verified state there contains st (the path is
 * safe), 0 to go on (st was remembered), or an error (an endless loop).
 */
static int visit(struct env *e, struct vstate *st, uint32_t insn)
{
	bool looping = false;
	unsigned len = 0;
	uint64_t h = hash_state(e, st, insn), types, wild;

	type_key(st, &types, &wild);
	bool cb_return = e->cb_return;
	e->cb_return = false;
	for (struct vstate **link = &e->visited[insn], *v; (v = *link); link = &v->next) {
		/*
		 * A finished state that keeps failing to prune is dropped, as the
		 * kernel does (nothing points to it any more: its paths are done).
		 */
		if (!v->branches && v->misses > v->hits * 3 + 3) {
			*link = v->next;
			st_free(e, v);
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
			widen(st, v);
			if (state_sub(v, st, false))
				return 1;
			continue;
		}
		if (v->branches) {
			/* an ancestor still being explored: a loop; the same state again never ends */
			looping = true;
			if (v->epoch == st->epoch && v->hash == h && state_sub(v, st, true))
				return fail(e, -EINVAL, "infinite loop: the same state comes back to insn "
					    "%u", insn);
			continue;
		}
		if (state_sub(v, st, false)) {
			v->hits++;
			return 1;
		}
		v->misses++;
	}
	/*
	 * Remembering a state is optional (it only saves work later), so, as
	 * the kernel does, in loops only every 20 jumps or 100 instructions,
	 * and never more than 256 states at one instruction.
	 */
	if (cb_return)
		h = hash_state(e, st, insn);	/* widening changed it */
	uint64_t di = e->processed - e->prev_processed, dj = e->jumps - e->prev_jumps;
	if (looping && !cb_return && dj < 20 && di < 100)
		return 0;	/* (after a callback, always: the next iteration must find it) */
	if (len >= 256)
		return 0;
	e->prev_processed = e->processed;
	e->prev_jumps = e->jumps;
	struct vstate *copy = st_copy(e, st);
	if (!copy)
		return fail(e, -ENOMEM, "out of memory");
	/* what is never read from here on does not matter: it matches anything */
	for (unsigned fi = 0; fi < copy->nfr; fi++) {
		uint16_t live = live_mask(e, copy, fi, insn);
		for (unsigned r = 0; r < ISA_NREGS; r++)
			if (!(live >> r & 1))
				mark_ptr(&copy->fr[fi]->regs[r], T_NOT_INIT);
	}
	copy->insn = insn;
	copy->hash = h;
	type_key(copy, &copy->types, &copy->wild);
	copy->branches = 1;
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

/* ---- The walk --------------------------------------------------------------------------------------- */

static int push(struct env *e, struct vstate *st, uint32_t insn, uint32_t from)
{
	if (e->nstack == MAX_PENDING)
		return fail(e, -E2BIG, "more than %u branches pending: the program is too complex",
			    MAX_PENDING);
	e->stack[e->nstack++] = (struct pending){ st, insn, from };
	for (struct vstate *p = st->parent; p; p = p->parent) {
		p->branches++;
		break;	/* one more unfinished path below the nearest stored state */
	}
	return 0;
}

static struct vstate *initial_state(struct env *e)
{
	struct vstate *st = calloc(1, sizeof(*st));
	struct frame *f = frame_new(0);

	if (!st || !f) {
		free(st);
		free(f);
		return NULL;
	}
	e->mem += sizeof(*st) + frame_bytes(0);
	st->fr[0] = f;
	st->nfr = 1;
	f->callsite = -1;
	mark_ptr(&f->regs[R10], T_STACK);
	if (ctx_is_mem(e->in->type)) {
		mark_ptr(&f->regs[R1], T_MEM);
		f->regs[R1].range = e->in->ctx_size;
		mark_scalar(&f->regs[R2], sc_const(e->in->ctx_size));
	} else {
		mark_ptr(&f->regs[R1], T_CTX);
	}
	return st;
}

static int walk(struct env *e)
{
	struct vstate *st = initial_state(e);
	uint32_t i = 0, from = 0;
	int ret = 0;
	char buf[160];

	if (!st)
		return fail(e, -ENOMEM, "out of memory");
	for (;;) {
		const struct bpfrt_insn *in = &e->insns[i];
		const struct isa_form *f = &isa_forms[isa_decode(in)];
		bool end = false;

		e->cur_insn = (int)i;
		if (e->prune[i]) {
			ret = visit(e, st, i);
			if (ret < 0)
				break;
			if (ret == 1) {
				ret = 0;
				if (e->in->log_level)
					vlog(e, "%u: safe (a verified state contains this one)\n", i);
				end = true;
				goto next;
			}
		}
		if (++e->processed > MAX_PROCESSED) {
			ret = fail(e, -E2BIG, "more than %u instructions processed: the program is too "
				   "complex (a loop that does not end soon enough?)", MAX_PROCESSED);
			break;
		}
		if (e->in->log_level) {
			isa_disasm(e->insns, e->n, i, buf, sizeof(buf));
			vlog(e, "%u: %s\n", i, buf);
		}
		switch (f->shape) {
		case SH_ALU_IMM: case SH_ALU_REG: case SH_NEG: case SH_END:
			ret = do_alu(e, st, in, f);
			i++;
			break;
		case SH_LDDW:
			ret = do_lddw(e, st, in, i);
			i += 2;
			break;
		case SH_LDX: case SH_ST: case SH_STX: case SH_ATOMIC:
			ret = do_mem(e, st, in, f);
			i++;
			break;
		case SH_LDABS: case SH_LDIND: {
			struct frame *fr = cur(st);
			if (!ctx_has_ld_abs(e->in->type)) {
				ret = fail(e, -EINVAL, "%s programs cannot use packet loads (LD_ABS/LD_IND)",
					   bpfrt_prog_type_name(e->in->type));
				break;
			}
			if (fr->regs[R6].type != T_CTX) {
				ret = fail(e, -EINVAL, "LD_ABS/LD_IND need the context in R6");
				break;
			}
			if (f->shape == SH_LDIND && (ret = read_reg(e, st, in->src_reg)))
				break;
			if (f->shape == SH_LDIND && fr->regs[in->src_reg].type != T_SCALAR) {
				ret = fail(e, -EACCES, "LD_IND: R%u must be a number", in->src_reg);
				break;
			}
			if (st->nrefs) {
				ret = fail(e, -EINVAL, "LD_ABS/LD_IND while holding a reference");
				break;
			}
			for (unsigned r = R1; r <= R5; r++)
				mark_ptr(&fr->regs[r], T_NOT_INIT);
			mark_scalar(&fr->regs[R0], sc_load(isa_size(in->code), false));
			i++;
			break;
		}
		case SH_JA:
		case SH_JA32:
			e->jumps++;
			i = (uint32_t)isa_branch_target(e->insns, i);
			break;
		case SH_JCOND_IMM:
		case SH_JCOND_REG: {
			struct vstate *t = NULL;
			bool take = false, fall = false;
			uint32_t target = (uint32_t)isa_branch_target(e->insns, i);
			e->jumps++;
			ret = do_jcond(e, st, in, f, &t, &take, &fall);
			if (ret)
				break;
			if (take && fall) {
				if ((ret = push(e, t, target, i))) {
					st_free(e, t);
					break;
				}
				i++;
			} else if (take) {
				if (t) {
					st_free(e, st);
					st = t;
				}
				i = target;
			} else if (fall) {
				st_free(e, t);
				i++;
			} else {
				st_free(e, t);
				end = true;	/* cannot happen at all: a dead path */
			}
			break;
		}
		case SH_CALL:
			if (in->imm == 181 || in->imm == 164) {
				ret = do_callback(e, st, i, (uint32_t)in->imm, &i);
				break;
			}
			ret = do_helper(e, st, in);
			i++;
			break;
		case SH_CALL_LOCAL:
			ret = do_call(e, st, i, (uint32_t)isa_branch_target(e->insns, i));
			i = (uint32_t)isa_branch_target(e->insns, i);
			break;
		case SH_CALLX:
			ret = fail(e, -EINVAL, "callx (an indirect call) is not allowed by the verifier");
			break;
		case SH_EXIT:
			ret = do_exit(e, st, &i);
			if (ret == 1) {
				ret = 0;
				end = true;
			}
			break;
		default:
			ret = fail(e, -EINVAL, "unknown instruction");
			break;
		}
		if (ret)
			break;
		if (e->in->log_level > 1 && !end)
			log_state(e, st);
next:
		if (!end)
			continue;
		path_done(st->parent);
		st_free(e, st);
		st = NULL;
		if (!e->nstack)
			break;
		struct pending p = e->stack[--e->nstack];
		st = p.st;
		i = p.insn;
		from = p.from;
		if (e->in->log_level) {
			vlog(e, "from %u to %u:", from, i);
			log_state(e, st);
		}
	}
	st_free(e, st);
	while (e->nstack)
		st_free(e, e->stack[--e->nstack].st);
	if (ret)
		return ret;
	return check_stack_depth(e);
}

int verify(const struct vinput *in, struct vresult *res, struct bpfrt_error *err)
{
	struct env e;
	int ret = 0;

	memset(&e, 0, sizeof(e));
	e.in = in;
	e.err = err;
	e.insns = in->insns;
	e.n = in->n;
	e.cur_insn = -1;
	if (!in->n) {
		return err_set(err, -EINVAL, -1, "the program is empty");
	}
	e.prune = calloc(in->n, 1);
	e.fstart = calloc(in->n, 1);
	e.func_of = calloc(in->n, sizeof(*e.func_of));
	e.depth = calloc(in->n, sizeof(*e.depth));
	e.live = calloc(in->n, sizeof(*e.live));
	e.visited = calloc(in->n, sizeof(*e.visited));
	e.stack = malloc(MAX_PENDING * sizeof(*e.stack));
	if (!e.prune || !e.fstart || !e.func_of || !e.depth || !e.live || !e.visited || !e.stack) {
		ret = err_set(err, -ENOMEM, -1, "out of memory");
		goto out;
	}
	if (in->log_buf && in->log_size)
		in->log_buf[0] = 0;
	ret = check_cfg(&e);
	if (!ret)
		ret = walk(&e);
	if (!ret)
		vlog(&e, "processed %llu insns, %llu states (peak %llu)\n",
		     (unsigned long long)e.processed, (unsigned long long)e.states,
		     (unsigned long long)e.peak_states);
out:
	if (res) {
		res->insns_processed = e.processed;
		res->states = e.states;
		res->peak_states = e.peak_states;
		res->peak_mem_bytes = e.peak_mem + in->n * (2 + 2 * sizeof(uint32_t) + sizeof(void *));
	}
	if (e.visited)
		for (size_t i = 0; i < in->n; i++)
			for (struct vstate *v = e.visited[i], *nx; v; v = nx) {
				nx = v->next;
				st_free(&e, v);
			}
	free(e.prune);
	free(e.fstart);
	free(e.func_of);
	free(e.depth);
	free(e.live);
	free(e.visited);
	free(e.stack);
	free(e.edges);
	return ret;
}
