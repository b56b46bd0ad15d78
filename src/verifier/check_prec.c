/* check_prec.c — precision tracking: each path's instruction history, and marking what a decision depended on by walking it back. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "isa/semantics.h"

/*
 * Why (docs/verifier.md, "Paths and pruning"): a stored state prunes a new
 * one only if everything its own paths relied on holds for the new one too.
 * Most numbers a program computes are never *relied on* — they are stored,
 * passed to helpers as data, returned — and comparing them exactly makes
 * states that differ in such a number look different, so the same paths are
 * followed again and again. So numbers in stored states are *imprecise*
 * (they match any number) until a decision depends on one:
 *
 *	- a conditional jump that only one way is possible (its operands);
 *	- a number added to or subtracted from a pointer;
 *	- a helper argument whose value is checked (sizes, constants, NULL);
 *	- an array lookup whose key is a known constant (it is then not NULL);
 *	- the value returned where it is checked (program types, callbacks);
 *	- a narrow store of 0 to the stack (its bytes become "zero").
 *
 * Then the number, and through the path's history every number it was
 * computed from (registers, spilled stack slots, in this frame or another),
 * are marked precise in the stored states the path went through, up to the
 * first where they already were (everything before that was marked then).
 *
 * The history of a path is kept per state (shared with the state's copies,
 * struct hseg): the instructions since its parent (the last stored state),
 * with what the instruction alone does not say — the stack slot a load or
 * store touched and whether the load read a spill, frame changes, and
 * which copies of a number a jump refined (copies share an id; refining
 * one refines all).
 *
 * A stored state is used to prune only once all its paths are finished, so
 * by then every decision below it has been propagated into it. A path that
 * is pruned relied on what the state that contains it relied on: its
 * precise numbers are marked in the pruned path too (chk_relied_from).
 */

/* ---- The history -------------------------------------------------------------------- */

/* What must be precise (or what was walked back already): registers and stack slots, per frame. */
struct bt {
	uint16_t regs[BPFRT_MAX_FRAMES];
	uint64_t slots[BPFRT_MAX_FRAMES];
};

/*
 * A path's history is a chain of pieces, newest first, back to the state
 * it was stored from: a copy of the state (a branch) shares the chain, and
 * each of the two then writes its own new pieces, so what came before the
 * branch is kept once, and what walks back through it learn is learnt for
 * both. A piece is written only by the one state that holds it (refs 1) and
 * ends where the next begins; `done` says what was walked back from its end.
 */
struct hseg {
	struct hseg *up;	/* the entries before, or NULL: the stored parent */
	uint32_t refs;		/* states and newer pieces that hold it */
	uint32_t n, cap;
	bool walked;		/* a walk went back from its end (done, read say what) */
	struct bt done;
	uint64_t read[BPFRT_MAX_FRAMES];	/* slots whose reads were walked back from its end */
	struct hent e[];
};

#define HSEG_MAX 64	/* entries of a piece at most (so walks meet a piece's end often) */

/*
 * A path that goes on for long without storing a state (a loop at the cap
 * of states per instruction) would keep a long history. Past HIST_MAX
 * entries it is dropped instead, and every state the path came from counts
 * everything (every number precise, every slot read): what precision would
 * have marked is then marked already, so nothing a walk back would need is
 * lost.
 */
#define HIST_MAX 512

static void saturate(struct vstate *st)
{
	for (struct vstate *p = st->parent; p && !p->saturated; p = p->parent) {
		p->saturated = true;
		for (unsigned fi = 0; fi < p->nfr; fi++) {
			struct frame *f = p->fr[fi];
			for (unsigned k = 0; k < ISA_NREGS; k++)
				f->regs[k].precise = 1;
			for (unsigned k = 0; k < f->nslots; k++) {
				f->slots[k].read = 1;
				f->slots[k].spill.precise = 1;
			}
		}
	}
}

static size_t seg_bytes(uint32_t cap)
{
	return sizeof(struct hseg) + cap * sizeof(struct hent);
}

static void seg_put(struct env *e, struct hseg *g)
{
	while (g && !--g->refs) {
		struct hseg *up = g->up;
		e->mem -= seg_bytes(g->cap);
		free(g);
		g = up;
	}
}

static bool bt_empty(const struct bt *b)
{
	uint64_t any = 0;

	for (unsigned f = 0; f < BPFRT_MAX_FRAMES; f++)
		any |= b->regs[f] | b->slots[f];
	return !any;
}

/* The current instruction moved: nothing is walked back from the new one yet. */
static void moved(struct vstate *st)
{
	memset(st->pdone, 0, sizeof(st->pdone));
	memset(st->psdone, 0, sizeof(st->psdone));
}

int chk_hist_push(struct env *e, struct vstate *st, const struct hent *h)
{
	struct hseg *g = st->hist;

	if (st->nhist == HIST_MAX) {
		saturate(st);
		chk_hist_free(e, st);
		g = NULL;
	}
	/* a piece another state holds, or whose end was walked from, stays as it is */
	if (!g || g->refs > 1 || g->n == HSEG_MAX || g->walked) {
		struct hseg *ng = malloc(seg_bytes(4));
		if (!ng)
			return chk_fail(e, -ENOMEM, "out of memory");
		memset(ng, 0, sizeof(*ng));
		ng->up = g;	/* (st's hold on g is now ng's) */
		ng->refs = 1;
		ng->cap = 4;
		e->mem += seg_bytes(ng->cap);
		st->hist = g = ng;
	} else if (g->n == g->cap) {
		uint32_t cap = g->cap * 2 < HSEG_MAX ? g->cap * 2 : HSEG_MAX;
		struct hseg *ng = realloc(g, seg_bytes(cap));
		if (!ng)
			return chk_fail(e, -ENOMEM, "out of memory");
		e->mem += seg_bytes(cap) - seg_bytes(ng->cap);
		ng->cap = cap;
		st->hist = g = ng;
	}
	if (e->mem > e->peak_mem)
		e->peak_mem = e->mem;
	struct hent *n = &g->e[g->n++];
	*n = *h;
	/* what was walked back from just before it */
	n->done = st->pdone[h->frame];
	st->nhist++;
	moved(st);
	return 0;
}

void chk_hist_free(struct env *e, struct vstate *st)
{
	seg_put(e, st->hist);
	st->hist = NULL;
	st->nhist = 0;
}

/* dst (a fresh copy of src, sharing its hist pointer) holds the history too. */
int chk_hist_copy(struct env *e, struct vstate *dst, const struct vstate *src)
{
	(void)e;
	dst->hist = NULL;
	dst->nhist = 0;
	if (!src->nhist || !src->hist)
		return 0;
	dst->hist = src->hist;
	dst->hist->refs++;
	dst->nhist = src->nhist;
	return 0;
}

void chk_hist_move(struct vstate *dst, struct vstate *src)
{
	dst->hist = src->hist;
	dst->nhist = src->nhist;
	src->hist = NULL;
	src->nhist = 0;
	moved(src);	/* (from the new state, nothing is walked back: it is not marked) */
}

void chk_prec_share(struct vstate *dst, const struct vstate *src)
{
	memcpy(dst->pdone, src->pdone, sizeof(dst->pdone));
	memcpy(dst->psdone, src->psdone, sizeof(dst->psdone));
}

/* ---- Backtracking ------------------------------------------------------------------- */

static bool bt_has_loc(const struct bt *b, uint16_t loc)
{
	unsigned f = loc >> 8, x = loc & 0xff;

	return x < 16 ? b->regs[f] >> x & 1 : b->slots[f] >> (x - 16) & 1;
}

static void bt_set_loc(struct bt *b, uint16_t loc)
{
	unsigned f = loc >> 8, x = loc & 0xff;

	if (x < 16)
		b->regs[f] |= (uint16_t)(1u << x);
	else
		b->slots[f] |= 1ull << (x - 16);
}

/* Drop from b what d says was walked back from here; d then holds b too. */
static void bt_seen(struct bt *b, struct bt *d)
{
	for (unsigned fi = 0; fi < BPFRT_MAX_FRAMES; fi++) {
		uint16_t r = b->regs[fi];
		uint64_t sl = b->slots[fi];
		b->regs[fi] &= (uint16_t)~d->regs[fi];
		b->slots[fi] &= ~d->slots[fi];
		d->regs[fi] |= r;
		d->slots[fi] |= sl;
	}
}

/*
 * One instruction, backwards: b says what must be precise after it; make
 * it say what must be precise before it.
 */
static void bt_insn(const struct env *e, const struct hent *h, struct bt *b)
{
	const struct bpfrt_insn *in = &e->insns[h->insn];
	const struct isa_form *f = &isa_forms[e->form[h->insn]];
	unsigned fi = h->frame, d = in->dst_reg, s = in->src_reg;
	uint16_t *r = &b->regs[fi], dm = (uint16_t)(1u << d), sm = (uint16_t)(1u << s);

	switch (f->shape) {
	case SH_ALU_IMM:
		if (BPF_OP(in->code) == BPF_MOV)
			*r &= (uint16_t)~dm;	/* a constant */
		break;			/* else dst depends on itself */
	case SH_NEG: case SH_END:
		break;
	case SH_ALU_REG:
		if (!(*r & dm))
			break;
		if (BPF_OP(in->code) == BPF_MOV)
			*r &= (uint16_t)~dm;
		*r |= sm;		/* dst op= src: both */
		break;
	case SH_LDDW:
		*r &= (uint16_t)~dm;
		break;
	case SH_LDX:
		if (!(*r & dm))
			break;
		*r &= (uint16_t)~dm;
		if (h->flags & H_FILL)	/* the spilled register; other memory is just "a number" */
			b->slots[h->sframe] |= 1ull << h->slot;
		break;
	case SH_ST: case SH_STX:
		if (!(h->flags & H_STACK) || !(b->slots[h->sframe] >> h->slot & 1))
			break;
		b->slots[h->sframe] &= ~(1ull << h->slot);
		if (f->shape == SH_STX)
			*r |= sm;	/* the register spilled there */
		break;
	case SH_ATOMIC:
		if (h->flags & H_STACK)
			b->slots[h->sframe] &= ~(1ull << h->slot);
		if ((unsigned)in->imm == BPF_CMPXCHG)
			*r &= (uint16_t)~1u;
		else if (in->imm & BPF_FETCH)
			*r &= (uint16_t)~sm;
		break;
	case SH_LDABS: case SH_LDIND:
		*r &= (uint16_t)~0x3fu;	/* r0 loaded, r1-r5 clobbered */
		break;
	case SH_JCOND_IMM: case SH_JCOND_REG: {
		/*
		 * The refined value of an operand depends on both operands
		 * (dst op imm: on dst alone); a copy it refined, on both too.
		 */
		bool reg = f->shape == SH_JCOND_REG, any = reg && (*r & (dm | sm));
		for (unsigned k = 0; k < h->nlinked && !any; k++)
			any = bt_has_loc(b, h->linked[k]);
		if (!any)
			break;
		*r |= dm;
		if (reg)
			*r |= sm;
		for (unsigned k = 0; k < h->nlinked; k++)
			bt_set_loc(b, h->linked[k]);
		break;
	}
	case SH_CALL:
		if (h->flags & H_CBENTER) {
			/* the callback's ctx argument is the caller's r3 (NULL or a pointer) */
			unsigned arg = in->imm == 164 ? R4 : R2;
			if (b->regs[fi + 1] >> arg & 1)
				*r |= 1u << R3;
			b->regs[fi + 1] = 0;
			b->slots[fi + 1] = 0;
		} else {
			*r &= (uint16_t)~0x3fu;	/* r0 the result, r1-r5 clobbered */
		}
		break;
	case SH_CALL_LOCAL:
		*r |= b->regs[fi + 1] & 0x3e;	/* the callee's r1-r5 are the caller's */
		b->regs[fi + 1] = 0;
		b->slots[fi + 1] = 0;
		break;
	case SH_EXIT:
		if (h->flags & H_RET) {
			uint16_t r0 = b->regs[fi - 1] & 1;
			b->regs[fi - 1] &= (uint16_t)~1u;
			b->regs[fi] = r0;	/* the caller's r0 is the callee's */
			b->slots[fi] = 0;
		} else if (h->flags & H_CBRET) {
			b->regs[fi] = 0;	/* nothing of the callback's frame lives on */
			b->slots[fi] = 0;
		}
		break;
	default:
		break;
	}
}

/*
 * Mark what b names precise in stored state p (b then names what was newly
 * marked: what p's own ancestors must mark). Pointers and registers p does
 * not keep (dead there) are always compared, or never: nothing to mark.
 */
static bool bt_mark(struct vstate *p, struct bt *b)
{
	bool any = false;

	for (unsigned fi = 0; fi < BPFRT_MAX_FRAMES; fi++) {
		if (fi >= p->nfr) {
			b->regs[fi] = 0;
			b->slots[fi] = 0;
			continue;
		}
		struct frame *f = p->fr[fi];
		for (uint16_t m = b->regs[fi]; m; m &= (uint16_t)(m - 1)) {
			unsigned k = (unsigned)__builtin_ctz(m);
			struct reg *x = &f->regs[k];
			if (x->type == T_SCALAR && !x->precise) {
				x->precise = 1;
				any = true;
			} else {
				b->regs[fi] &= (uint16_t)~(1u << k);
			}
		}
		for (uint64_t m = b->slots[fi]; m; m &= m - 1) {
			unsigned k = (unsigned)__builtin_ctzll(m);
			struct reg *x = k < f->nslots && f->slots[k].ssize ? &f->slots[k].spill : NULL;
			if (x && x->type == T_SCALAR && !x->precise) {
				x->precise = 1;
				any = true;
			} else {
				b->slots[fi] &= ~(1ull << k);
			}
		}
	}
	return any;
}

/*
 * Walk st's history back, then each stored ancestor's, marking as it goes.
 *
 * No walk goes again where one went before (marks are only ever added):
 * what was walked back from the current instruction (st->pdone, psdone),
 * from the end of a piece of history (hseg.done: the branches that share
 * it meet there), and, for the registers of its frame, from just before a
 * history entry (hent.done) is dropped from b, and the walk ends when
 * nothing is left. A loop that decides on its counter at each iteration
 * then walks back one iteration, not its whole path (docs/verifier.md,
 * "Precision"). Each step backwards, and each marking, acts on every
 * location alone (the set a jump adds is added for any of its operands),
 * so walking the parts of a set apart marks what walking it at once does:
 * leaving out parts walked before changes no mark, only the work.
 */
static int backtrack(struct env *e, struct vstate *st, struct bt *b)
{
	struct bt d;

	e->marks++;
	memcpy(d.regs, st->pdone, sizeof(d.regs));
	memcpy(d.slots, st->psdone, sizeof(d.slots));
	bt_seen(b, &d);
	memcpy(st->pdone, d.regs, sizeof(d.regs));
	memcpy(st->psdone, d.slots, sizeof(d.slots));
	if (bt_empty(b))
		return 0;
	for (struct vstate *s = st; s; s = s->parent) {
		if (s != st && !bt_mark(s, b))
			return 0;	/* all already precise there (and so before) */
		for (struct hseg *g = s->hist; g; g = g->up) {
			if (g != st->hist) {
				g->walked = true;
				bt_seen(b, &g->done);
				if (bt_empty(b))
					return 0;
			}
			for (uint32_t k = g->n; k-- > 0;) {
				struct hent *h = &g->e[k];
				bt_insn(e, h, b);
				e->bt_steps++;
				uint16_t *r = &b->regs[h->frame], seen = *r & h->done;
				h->done |= *r;
				*r &= (uint16_t)~seen;
				if (bt_empty(b))
					return 0;
			}
		}
	}
	return 0;
}

int chk_precise_reg(struct env *e, struct vstate *st, unsigned regno)
{
	struct bt b;

	if (cur(st)->regs[regno].type != T_SCALAR)
		return 0;
	memset(&b, 0, sizeof(b));
	b.regs[st->nfr - 1] = (uint16_t)(1u << regno);
	return backtrack(e, st, &b);
}

int chk_precise_slot(struct env *e, struct vstate *st, unsigned fi, unsigned slot)
{
	struct bt b;

	if (fi >= st->nfr || slot >= NSLOTS)
		return 0;
	memset(&b, 0, sizeof(b));
	b.slots[fi] = 1ull << slot;
	return backtrack(e, st, &b);
}

/* ---- Stack liveness ----------------------------------------------------------------- */

/*
 * The same walk for reads of stack slots: a store of the whole slot on the
 * way back screens the read off (the value read is that store's); a frame
 * that begins (or ended) on the way has no slots before (after) that.
 */
static void live_insn(const struct hent *h, struct bt *b)
{
	if ((h->flags & (H_STACK | H_FULL)) == (H_STACK | H_FULL))
		b->slots[h->sframe] &= ~(1ull << h->slot);
	if (h->flags & (H_ENTER | H_CBENTER))
		b->slots[h->frame + 1] = 0;
	if (h->flags & (H_RET | H_CBRET))
		b->slots[h->frame] = 0;
}

/* Mark b's slots read in p; b keeps those newly marked. */
static bool live_mark(struct vstate *p, struct bt *b)
{
	bool any = false;

	for (unsigned fi = 0; fi < BPFRT_MAX_FRAMES; fi++) {
		if (fi >= p->nfr) {
			b->slots[fi] = 0;
			continue;
		}
		struct frame *f = p->fr[fi];
		for (uint64_t m = b->slots[fi]; m; m &= m - 1) {
			unsigned k = (unsigned)__builtin_ctzll(m);
			if (k < f->nslots && !f->slots[k].read) {
				f->slots[k].read = 1;
				any = true;
			} else {
				/* already marked (and so before), or p has no such slot (it matches anything) */
				b->slots[fi] &= ~(1ull << k);
			}
		}
	}
	return any;
}

static int live_walk(struct env *e, struct vstate *st, struct bt *b)
{
	for (struct vstate *s = st; s; s = s->parent) {
		if (s != st && !live_mark(s, b))
			return 0;
		for (struct hseg *g = s->hist; g; g = g->up) {
			if (g != st->hist) {
				g->walked = true;
				for (unsigned fi = 0; fi < BPFRT_MAX_FRAMES; fi++) {
					uint64_t m = b->slots[fi];
					b->slots[fi] &= ~g->read[fi];
					g->read[fi] |= m;
				}
				if (bt_empty(b))
					return 0;
			}
			for (uint32_t k = g->n; k-- > 0;) {
				const struct hent *h = &g->e[k];
				e->bt_steps++;
				if (!(h->flags & (H_FULL | H_ENTER | H_CBENTER | H_RET | H_CBRET)))
					continue;	/* nothing it does ends a read */
				live_insn(h, b);
				if (bt_empty(b))
					return 0;
			}
		}
	}
	return 0;
}

/*
 * A slot read again since the parent was stored needs no new walk: either
 * nothing wrote it whole in between (the walk would end where the first
 * one did) or something did (the walk would end there, marking nothing).
 * rdone is cleared when the frame at that depth changes (check.c).
 */
int chk_read_slots(struct env *e, struct vstate *st, unsigned fi, uint64_t slots)
{
	struct bt b;

	if (fi >= st->nfr || !st->parent || !(slots &= ~st->rdone[fi]))
		return 0;
	st->rdone[fi] |= slots;
	memset(&b, 0, sizeof(b));
	b.slots[fi] = slots;
	return live_walk(e, st, &b);
}

int chk_relied_from(struct env *e, struct vstate *st, const struct vstate *v, bool all)
{
	struct bt b, l;

	memset(&b, 0, sizeof(b));
	memset(&l, 0, sizeof(l));
	for (unsigned fi = 0; fi < v->nfr && fi < st->nfr; fi++) {
		const struct frame *f = v->fr[fi];
		for (unsigned k = 0; k < ISA_NREGS; k++)
			if (f->regs[k].type == T_SCALAR && (all || f->regs[k].precise))
				b.regs[fi] |= (uint16_t)(1u << k);
		for (unsigned k = 0; k < f->nslots && k < NSLOTS; k++) {
			const struct slot *sl = &f->slots[k];
			if (sl->ssize && sl->spill.type == T_SCALAR && (all || sl->spill.precise))
				b.slots[fi] |= 1ull << k;
			if (all || sl->read)
				l.slots[fi] |= 1ull << k;
		}
	}
	int ret = bt_empty(&b) ? 0 : backtrack(e, st, &b);
	if (!ret && !bt_empty(&l))
		ret = live_walk(e, st, &l);
	return ret;
}
