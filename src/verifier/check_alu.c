/* check_alu.c — the verifier's ALU (numbers, pointer arithmetic) and conditional jumps (NULL checks, packet bounds, refinement). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "isa/semantics.h"
#include "util/error.h"

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
		return chk_fail(e, -EACCES, "R%u: arithmetic on %s is not allowed%s; %s", dregno,
			    chk_type_name(ptr), ptr->null ? " (check it against NULL first)" : "",
			    chk_rstr(ptr, dregno, b, sizeof(b)));
	if (sc_is_const(k)) {
		int64_t v = (int64_t)k->t.v;
		if (sub)
			v = -v;
		if (v < -MAX_VAR_OFF || v > MAX_VAR_OFF)
			return chk_fail(e, -EACCES, "R%u: adding %lld to a pointer is out of range",
				    dregno, (long long)v);
		int64_t no = (int64_t)r.off + v;
		if (no < -MAX_VAR_OFF || no > MAX_VAR_OFF)
			return chk_fail(e, -EACCES, "R%u: pointer offset %lld is out of range", dregno,
				    (long long)no);
		r.off = (int32_t)no;
	} else {
		if (r.type == T_CTX)
			return chk_fail(e, -EACCES, "R%u: variable offsets into the context are not allowed",
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

int chk_do_alu(struct env *e, struct vstate *st, const struct bpfrt_insn *in,
		  const struct isa_form *f)
{
	struct frame *fr = cur(st);
	unsigned op = BPF_OP(in->code), d = in->dst_reg;
	bool is32 = isa_is_alu32(in->code);
	struct reg *dst = &fr->regs[d], src;
	char b[300];
	int ret;

	if (f->shape == SH_ALU_REG) {
		if ((ret = chk_read_reg(e, st, in->src_reg)))
			return ret;
		src = fr->regs[in->src_reg];
	} else {
		mark_scalar(&src, sc_const(sem_imm(is32, in->imm)));
		/* the kernel refuses these constant operands, which no compiler emits */
		if ((op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH) &&
		    (in->imm < 0 || in->imm >= (is32 ? 32 : 64)))
			return chk_fail(e, -EINVAL, "invalid shift by %d", in->imm);
		if ((op == BPF_DIV || op == BPF_MOD) && in->imm == 0)
			return chk_fail(e, -EINVAL, "division by the constant 0");
	}
	if (f->shape == SH_END) {
		if ((ret = chk_read_reg(e, st, d)))
			return ret;
		if (is_ptr(dst))
			return chk_fail(e, -EACCES, "R%u: byte swap of a pointer is not allowed", d);
		mark_scalar(dst, sc_end(BPF_CLASS(in->code) == BPF_ALU64 || BPF_SRC(in->code),
					(unsigned)in->imm, &dst->s));
		return 0;
	}
	if (op == BPF_MOV) {
		unsigned sx = f->disc == D_OFF ? (unsigned)in->off : 0;
		if (src.type == T_SCALAR) {
			if (!is32 && !sx && f->shape == SH_ALU_REG) {
				chk_link_scalar(e, &fr->regs[in->src_reg]);
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
	if ((ret = chk_read_reg(e, st, d)))
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
		return chk_fail(e, -EACCES, "R%u: 32-bit arithmetic on a pointer is not allowed; %s", d,
			    chk_rstr(is_ptr(dst) ? dst : &src, is_ptr(dst) ? d : in->src_reg, b, sizeof(b)));
	}
	if (op == BPF_ADD) {
		if (is_ptr(dst) && is_ptr(&src))
			return chk_fail(e, -EACCES, "R%u: adding two pointers is not allowed", d);
		if (is_ptr(dst))
			return ptr_add(e, dst, dst, &src.s, false, d);
		struct scalar k = dst->s;
		return ptr_add(e, dst, &src, &k, false, d);
	}
	if (op == BPF_SUB) {
		if (dst->type == T_STACK && src.type == T_SCALAR)
			return chk_fail(e, -EACCES, "R%u: subtracting from the stack pointer is not allowed "
				    "(add a negative number instead)", d);
		if (is_ptr(dst) && is_ptr(&src)) {
			/* the distance between two pointers is a number (root may learn it) */
			mark_unknown(dst);
			return 0;
		}
		if (is_ptr(dst))
			return ptr_add(e, dst, dst, &src.s, true, d);
		return chk_fail(e, -EACCES, "R%u: subtracting a pointer from a number is not allowed", d);
	}
	return chk_fail(e, -EACCES, "R%u: this operation on a pointer is not allowed (only adding and "
		    "subtracting numbers); %s", d,
		    chk_rstr(is_ptr(dst) ? dst : &src, is_ptr(dst) ? d : in->src_reg, b, sizeof(b)));
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
	case T_STACK: case T_MAP_PTR: case T_MAP_VALUE: case T_FUNC: case T_MAP_KEY: case T_SOCK:
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
int chk_do_jcond(struct env *e, struct vstate *st, const struct bpfrt_insn *in,
		    const struct isa_form *f, struct vstate **tst, bool *take, bool *fall)
{
	unsigned op = BPF_OP(in->code);
	bool jmp32 = isa_is_jmp32(in->code), isreg = f->shape == SH_JCOND_REG;
	int ret;

	if ((ret = chk_read_reg(e, st, in->dst_reg)) || (isreg && (ret = chk_read_reg(e, st, in->src_reg))))
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
				chk_sync_linked(st, ra);
				if (isreg) {
					struct reg *rb = &cur(st)->regs[in->src_reg];
					rb->s = ct ? yt : yf;
					chk_sync_linked(st, rb);
				}
			}
			return 0;
		}
	}
	struct vstate *t = chk_st_copy(e, st);
	if (!t)
		return chk_fail(e, -ENOMEM, "out of memory");
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
					chk_sync_linked(s, a);
					if (isreg)
						chk_sync_linked(s, b);
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
