/* check.c — the abstract interpreter: the program's shape (functions, liveness, prune points) and the walk over every path. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "isa/semantics.h"
#include "util/error.h"

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
		if (isa_forms[e->form[k]].shape == SH_LDDW && k + 1 < e->n)
			e->live[++k] = 0xffff;
	while (changed) {
		changed = false;
		for (size_t k = e->n; k-- > 0;) {
			if (e->live[k] == 0xffff)
				continue;	/* the second slot of an lddw */
			const struct isa_form *f = &isa_forms[e->form[k]];
			uint16_t use, def, out = 0;
			uses_defs(&ins[k], f, &use, &def);
			switch (f->shape) {
			case SH_EXIT:
				break;
			case SH_JA: case SH_JA32:
				out = e->live[isa_branch_target(ins, k)];
				break;
			case SH_JCOND_IMM: case SH_JCOND_REG: case SH_MAY_GOTO:
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
uint16_t chk_live_mask(const struct env *e, const struct vstate *st, unsigned fi, uint32_t insn)
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
		ret = chk_fail(e, -ENOMEM, "out of memory");
		goto out;
	}
	e->fstart[0] = 1;
	for (size_t i = 0; i < n; i++) {
		const struct isa_form *f = &isa_forms[e->form[i]];
		if (f->shape == SH_CALL_LOCAL ||
		    (f->shape == SH_LDDW && ins[i].src_reg == BPF_PSEUDO_FUNC))
			e->fstart[isa_branch_target(ins, i)] = 1;
		if (f->shape == SH_CALL && (ins[i].imm == 181 || ins[i].imm == 164))
			e->prune[i] = 1;	/* bpf_loop, for_each_map_elem: the callback returns here */
		if (f->shape == SH_LDDW && (ins[i].src_reg == BPF_PSEUDO_MAP_IDX ||
					    ins[i].src_reg == BPF_PSEUDO_MAP_IDX_VALUE)) {
			/* reachable or not: the engines resolve every one before running */
			e->cur_insn = (int)i;
			if ((ret = chk_lddw_map(e, &ins[i])))
				goto out;
			e->cur_insn = -1;
		}
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
		const struct isa_form *f = &isa_forms[e->form[i]];
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
		case SH_MAY_GOTO:
			next[0] = i + 1;
			next[1] = isa_branch_target(ins, i);
			e->prune[i + 1] = 1;
			e->prune[next[1]] = 1;
			if (f->shape == SH_MAY_GOTO)
				e->prune[i] = 1;	/* where a loop's iterations are compared */
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
				ret = chk_fail(e, -EINVAL, "the path runs past the last instruction");
				goto out;
			}
			if (e->func_of[next[k]] != e->func_of[i]) {
				ret = chk_fail(e, -EINVAL, "jump out of the function that starts at insn %u "
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
			ret = chk_fail(e, -EINVAL, "unreachable instruction: no path leads to it");
			goto out;
		}
		if (isa_forms[e->form[i]].shape == SH_LDDW)
			i++;
	}
	compute_liveness(e);
out:
	free(seen);
	free(work);
	return ret;
}

/* ---- The walk --------------------------------------------------------------------------------------- */

int chk_push(struct env *e, struct vstate *st, uint32_t insn, uint32_t from)
{
	if (e->nstack == MAX_PENDING)
		return chk_fail(e, -E2BIG, "more than %u branches pending: the program is too complex",
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
	struct frame *f = chk_frame_new(0);

	if (!st || !f) {
		free(st);
		free(f);
		return NULL;
	}
	e->mem += sizeof(*st) + chk_frame_bytes(0);
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

/* ---- Precision: what each instruction decides, and what its history entry records ------------------ */

/* Helper arguments whose value the verifier does not look at (any other number's is checked). */
static bool arg_value_unused(unsigned kind)
{
	return kind == A_NONE || kind == A_ANY || kind == A_SCALAR || kind == A_PTR;
}

/* The slots that size bytes at stack pointer p + off may touch (clamped to the frame). */
static uint64_t stack_slots(const struct reg *p, int64_t off, uint64_t size)
{
	int64_t lo = -(int64_t)BPFRT_STACK_SIZE, hi = 0;	/* unbounded: refused anyway */

	if (p->s.smin >= -MAX_VAR_OFF && p->s.smax <= MAX_VAR_OFF && size <= BPFRT_STACK_SIZE) {
		lo = (int64_t)p->off + off + p->s.smin;
		hi = (int64_t)p->off + off + p->s.smax;
	}
	hi += (int64_t)size;
	if (lo < -(int64_t)BPFRT_STACK_SIZE)
		lo = -(int64_t)BPFRT_STACK_SIZE;
	if (hi > 0)
		hi = 0;
	if (lo >= hi)
		return 0;
	unsigned first = slot_of(hi - 1), last = slot_of(lo);
	uint64_t m = last >= 63 ? ~0ull : (1ull << (last + 1)) - 1;
	return m & ~((1ull << first) - 1);
}

/* Helper call: the stack it reads through its arguments. */
static int helper_reads(struct env *e, struct vstate *st, const struct vproto *pr)
{
	const struct frame *fr = cur(st);
	const struct vmap *map = NULL;
	int ret = 0;

	for (unsigned k = 0; k < 5 && !ret; k++) {
		const struct reg *r = &fr->regs[R1 + k];
		unsigned kind = pr->args[k];
		if (kind == A_MAP && r->type == T_MAP_PTR)
			map = r->map;
		if (r->type != T_STACK || r->frame >= st->nfr)
			continue;
		uint64_t size;
		switch (kind) {
		case A_UMEM: case A_UVALUE:
			continue;	/* written, not read */
		case A_KEY:
			size = map ? map->key_size : BPFRT_STACK_SIZE;
			break;
		case A_VALUE:
			size = map ? map->value_size : BPFRT_STACK_SIZE;
			break;
		case A_MEM: case A_MEM_NULL:
			size = k < 4 && fr->regs[R2 + k].type == T_SCALAR ? fr->regs[R2 + k].s.umax
									: BPFRT_STACK_SIZE;
			break;
		default:
			size = BPFRT_STACK_SIZE;	/* whatever it may read: up to the frame's top */
			break;
		}
		ret = chk_read_slots(e, st, r->frame, stack_slots(r, 0, size));
	}
	return ret;
}

/*
 * Before instruction in runs: mark precise the numbers its checks decide
 * on (see check_prec.c for the list; conditional jumps are done after
 * them, when it is known whether one outcome is impossible), and fill in
 * what its history entry h must record (the stack slot it touches).
 */
static int prec_before(struct env *e, struct vstate *st, const struct bpfrt_insn *in,
		       const struct isa_form *f, struct hent *h)
{
	struct frame *fr = cur(st);
	const struct reg *d = &fr->regs[in->dst_reg], *sr = &fr->regs[in->src_reg];
	int ret = 0;

	switch (f->shape) {
	case SH_ALU_REG:
		/* a number added to (subtracted from) a pointer: the pointer's offset */
		if (BPF_OP(in->code) == BPF_MOV)
			break;
		if (is_ptr(d) && sr->type == T_SCALAR)
			ret = chk_precise_reg(e, st, in->src_reg);
		else if (is_ptr(sr) && d->type == T_SCALAR)
			ret = chk_precise_reg(e, st, in->dst_reg);
		break;
	case SH_LDX: case SH_ST: case SH_STX: case SH_ATOMIC: {
		const struct reg *p = f->shape == SH_LDX ? sr : d;
		if (p->type != T_STACK)
			break;
		if ((f->shape == SH_LDX || f->shape == SH_ATOMIC) && p->frame < st->nfr &&
		    (ret = chk_read_slots(e, st, p->frame, stack_slots(p, in->off, isa_size(in->code)))))
			break;
		if (!sc_is_const(&p->s))
			break;
		int64_t off = (int64_t)p->off + (int64_t)p->s.t.v + in->off;
		if (off < -(int64_t)BPFRT_STACK_SIZE || off >= 0 || p->frame >= st->nfr)
			break;
		unsigned slot = slot_of(off);
		const struct frame *pf = st->fr[p->frame];
		h->flags |= H_STACK;
		h->sframe = p->frame;
		h->slot = (uint8_t)slot;
		if (f->shape == SH_LDX && slot < pf->nslots && pf->slots[slot].ssize)
			h->flags |= H_FILL;
		if ((f->shape == SH_ST || f->shape == SH_STX) && isa_size(in->code) == 8)
			h->flags |= H_FULL;
		/* a narrow store of 0 makes "zero" bytes, which a load reads as 0 */
		if (f->shape == SH_STX && isa_size(in->code) < 8 && sr->type == T_SCALAR &&
		    sc_is_const(&sr->s) && sr->s.t.v == 0)
			ret = chk_precise_reg(e, st, in->src_reg);
		break;
	}
	case SH_CALL: {
		if (in->imm == 181 || in->imm == 164) {	/* the callback's ctx: NULL or a pointer */
			h->flags |= H_CBENTER;
			ret = chk_precise_reg(e, st, R3);
			break;
		}
		const struct vproto *pr = proto_get((uint32_t)in->imm);
		if (!pr)
			break;
		ret = helper_reads(e, st, pr);
		for (unsigned k = 0; k < 5 && !ret; k++)
			if (!arg_value_unused(pr->args[k]))
				ret = chk_precise_reg(e, st, R1 + k);
		/* an array's element at a known key is not NULL: the key decides */
		const struct reg *m = &fr->regs[R1], *key = &fr->regs[R2];
		if (!ret && in->imm == 1 && m->type == T_MAP_PTR && m->map &&
		    (m->map->type == 2 || m->map->type == 6) && key->type == T_STACK &&
		    sc_is_const(&key->s) && key->frame < st->nfr) {
			int64_t off = (int64_t)key->off + (int64_t)key->s.t.v;
			const struct frame *kf = st->fr[key->frame];
			unsigned slot = off >= -(int64_t)BPFRT_STACK_SIZE && off < 0 ? slot_of(off) : NSLOTS;
			/* (a key that is not a known number decides nothing: the result may be NULL) */
			if (slot < kf->nslots && kf->slots[slot].ssize &&
			    kf->slots[slot].spill.type == T_SCALAR && sc_is_const(&kf->slots[slot].spill.s))
				ret = chk_precise_slot(e, st, key->frame, slot);
		}
		break;
	}
	case SH_CALL_LOCAL:
		h->flags |= H_ENTER;
		break;
	case SH_EXIT: {
		int64_t lo, hi;
		if (st->nfr > 1)
			h->flags |= fr->cb ? H_CBRET : H_RET;
		/* a return value that is checked */
		if (st->nfr > 1 ? fr->cb : ctx_retval_range(e->in->type, &lo, &hi))
			ret = chk_precise_reg(e, st, R0);
		break;
	}
	default:
		break;
	}
	return ret;
}

/*
 * After a conditional jump: if one outcome is impossible, the operands'
 * values decided it. A number compared with a pointer always decides.
 */
static int prec_jump(struct env *e, struct vstate *st, const struct bpfrt_insn *in, bool reg,
		     uint8_t dtype, uint8_t stype, bool take, bool fall)
{
	bool mixed = reg && (dtype == T_SCALAR) != (stype == T_SCALAR);
	int ret = 0;

	if (take && fall && !mixed)
		return 0;
	if (dtype == T_SCALAR)
		ret = chk_precise_reg(e, st, in->dst_reg);
	if (!ret && reg && stype == T_SCALAR)
		ret = chk_precise_reg(e, st, in->src_reg);
	return ret;
}

static int walk(struct env *e)
{
	struct vstate *st = initial_state(e);
	uint32_t i = 0, from = 0;
	uint64_t limit = e->in->max_processed && e->in->max_processed < MAX_PROCESSED ?
			 e->in->max_processed : MAX_PROCESSED;
	int ret = 0;
	char buf[160];

	if (!st)
		return chk_fail(e, -ENOMEM, "out of memory");
	for (;;) {
		const struct bpfrt_insn *in = &e->insns[i];
		const struct isa_form *f = &isa_forms[e->form[i]];
		bool end = false;

		e->cur_insn = (int)i;
		e->fresh = NULL;
		if (e->prune[i]) {
			ret = chk_visit(e, st, i);
			if (ret < 0)
				break;
			if (ret == 1) {
				ret = 0;
				if (e->in->log_level)
					chk_vlog(e, "%u: safe (a verified state contains this one)\n", i);
				end = true;
				goto next;
			}
		}
		if (++e->processed > limit) {
			ret = chk_fail(e, -E2BIG, "more than %llu instructions processed: the program is "
				   "too complex (a loop that does not end soon enough?)",
				   (unsigned long long)limit);
			break;
		}
		if (e->in->log_level) {
			isa_disasm(e->insns, e->n, i, buf, sizeof(buf));
			chk_vlog(e, "%u: %s\n", i, buf);
		}
		struct hent h = { .insn = i, .frame = (uint8_t)(st->nfr - 1) };
		st->nlinked = 0;
		if ((ret = prec_before(e, st, in, f, &h)))
			break;
		switch (f->shape) {
		case SH_ALU_IMM: case SH_ALU_REG: case SH_NEG: case SH_END:
			ret = chk_do_alu(e, st, in, f);
			i++;
			break;
		case SH_LDDW:
			ret = chk_do_lddw(e, st, in, i);
			i += 2;
			break;
		case SH_LDX: case SH_ST: case SH_STX: case SH_ATOMIC:
			ret = chk_do_mem(e, st, in, f);
			i++;
			break;
		case SH_LDABS: case SH_LDIND: {
			struct frame *fr = cur(st);
			if (!ctx_has_ld_abs(e->in->type)) {
				ret = chk_fail(e, -EINVAL, "%s programs cannot use packet loads (LD_ABS/LD_IND)",
					   bpfrt_prog_type_name(e->in->type));
				break;
			}
			if (fr->regs[R6].type != T_CTX) {
				ret = chk_fail(e, -EINVAL, "LD_ABS/LD_IND need the context in R6");
				break;
			}
			if (f->shape == SH_LDIND && (ret = chk_read_reg(e, st, in->src_reg)))
				break;
			if (f->shape == SH_LDIND && fr->regs[in->src_reg].type != T_SCALAR) {
				ret = chk_fail(e, -EACCES, "LD_IND: R%u must be a number", in->src_reg);
				break;
			}
			if (st->nrefs || st->lock_map) {	/* (vrules: and a spin lock) */
				ret = chk_fail(e, -EINVAL, "LD_ABS/LD_IND while holding a %s",
					       st->nrefs ? "reference" : "bpf_spin_lock");
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
			bool take = false, fall = false, isreg = f->shape == SH_JCOND_REG;
			uint32_t target = (uint32_t)isa_branch_target(e->insns, i);
			uint8_t dtype = cur(st)->regs[in->dst_reg].type;
			uint8_t stype = isreg ? cur(st)->regs[in->src_reg].type : T_SCALAR;
			e->jumps++;
			ret = chk_do_jcond(e, st, in, f, &t, &take, &fall);
			if (!ret)
				ret = prec_jump(e, st, in, isreg, dtype, stype, take, fall);
			if (!ret && t)
				chk_prec_share(t, st);	/* t was copied before the marks */
			if (ret) {
				chk_st_free(e, t);
				break;
			}
			if (take && fall) {
				struct hent ht = h;
				ht.nlinked = t->nlinked;
				memcpy(ht.linked, t->linked, sizeof(ht.linked));
				if ((ret = chk_hist_push(e, t, &ht)) || (ret = chk_push(e, t, target, i))) {
					chk_st_free(e, t);
					break;
				}
				i++;
			} else if (take) {
				if (t) {
					chk_st_free(e, st);
					st = t;
				}
				i = target;	/* (st's entry is appended below, with its own copies) */
			} else if (fall) {
				chk_st_free(e, t);
				i++;
			} else {
				chk_st_free(e, t);
				end = true;	/* cannot happen at all: a dead path */
			}
			break;
		}
		case SH_MAY_GOTO: {
			/*
			 * As the kernel does: this path goes on where the budget is
			 * spent; the fall-through (one more iteration) is explored
			 * later, one may_goto deeper, with the numbers that changed
			 * since the previous visit here and that nothing relied on
			 * made unknown, so that its iterations converge (chk_visit).
			 */
			struct vstate *prev = NULL, *t;
			for (struct vstate *p = st->parent; p && !prev; p = p->parent)
				if (p->insn == i && p != e->fresh && p->branches && chk_same_callsites(p, st))
					prev = p;
			e->jumps++;
			if (!(t = chk_st_copy(e, st))) {
				ret = chk_fail(e, -ENOMEM, "out of memory");
				break;
			}
			t->may_goto_depth++;
			if (prev)
				chk_widen_imprecise(t, prev);
			if ((ret = chk_hist_push(e, t, &h)) || (ret = chk_push(e, t, i + 1, i))) {
				chk_st_free(e, t);
				break;
			}
			i = (uint32_t)isa_branch_target(e->insns, i);
			break;
		}
		case SH_CALL:
			if (in->imm == 181 || in->imm == 164) {
				size_t pend = e->nstack;
				ret = chk_do_callback(e, st, i, (uint32_t)in->imm, &i);
				if (!ret && e->nstack == pend + 1) {
					/* the path where the helper returns: a plain call */
					struct hent hd = h;
					hd.flags &= (uint8_t)~H_CBENTER;
					ret = chk_hist_push(e, e->stack[pend].st, &hd);
				}
				break;
			}
			ret = chk_do_helper(e, st, in);
			i++;
			break;
		case SH_CALL_LOCAL:
			ret = chk_do_call(e, st, i, (uint32_t)isa_branch_target(e->insns, i));
			i = (uint32_t)isa_branch_target(e->insns, i);
			break;
		case SH_CALLX:
			ret = chk_fail(e, -EINVAL, "callx (an indirect call through R%u) is not allowed, "
				       "as in Linux (\"unknown opcode 8d\"): call the function "
				       "directly, or use a tail call", in->dst_reg);
			break;
		case SH_EXIT:
			ret = chk_do_exit(e, st, &i);
			if (ret == 1) {
				ret = 0;
				end = true;
			}
			break;
		default:
			ret = chk_fail(e, -EINVAL, "unknown instruction");
			break;
		}
		if (ret)
			break;
		if (h.flags & (H_ENTER | H_CBENTER))
			st->rdone[st->nfr - 1] = 0;	/* a new frame: none of its slots was read */
		if (!end) {
			h.nlinked = st->nlinked;
			memcpy(h.linked, st->linked, sizeof(h.linked));
			if ((ret = chk_hist_push(e, st, &h)))
				break;
		}
		if (e->in->log_level > 1 && !end)
			chk_log_state(e, st);
next:
		if (!end)
			continue;
		chk_path_done(e, st->parent);
		chk_st_free(e, st);
		st = NULL;
		if (!e->nstack)
			break;
		struct pending p = e->stack[--e->nstack];
		st = p.st;
		i = p.insn;
		from = p.from;
		if (e->in->log_level) {
			chk_vlog(e, "from %u to %u:", from, i);
			chk_log_state(e, st);
		}
	}
	chk_st_free(e, st);
	while (e->nstack)
		chk_st_free(e, e->stack[--e->nstack].st);
	if (ret)
		return ret;
	return chk_check_stack_depth(e);
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
	e.form = malloc(in->n * sizeof(*e.form));
	e.visited = calloc(in->n, sizeof(*e.visited));
	e.stack = malloc(MAX_PENDING * sizeof(*e.stack));
	if (!e.prune || !e.fstart || !e.func_of || !e.depth || !e.live || !e.visited || !e.stack ||
	    !e.form) {
		ret = err_set(err, -ENOMEM, -1, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < in->n; i++)
		e.form[i] = (uint16_t)isa_decode(&in->insns[i]);
	if (in->log_buf && in->log_size)
		in->log_buf[0] = 0;
	ret = check_cfg(&e);
	if (!ret)
		ret = walk(&e);
	if (!ret)
		chk_vlog(&e, "processed %llu insns, %llu states (peak %llu)\n",
		     (unsigned long long)e.processed, (unsigned long long)e.states,
		     (unsigned long long)e.peak_states);
out:
	if (res) {
		res->insns_processed = e.processed;
		res->states = e.states;
		res->peak_states = e.peak_states;
		res->prec_steps = e.bt_steps;
		res->peak_mem_bytes = e.peak_mem + in->n * (2 + 2 * sizeof(uint32_t) + sizeof(void *));
	}
	if (e.visited)
		for (size_t i = 0; i < in->n; i++)
			for (struct vstate *v = e.visited[i], *nx; v; v = nx) {
				nx = v->next;
				chk_st_free(&e, v);
			}
	free(e.prune);
	free(e.fstart);
	free(e.func_of);
	free(e.depth);
	free(e.live);
	free(e.form);
	free(e.visited);
	free(e.stack);
	free(e.edges);
	return ret;
}
