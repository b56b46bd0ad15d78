/* switch.c — finding compare trees and evaluating them into jump tables (see switch.h). */
#include <stdlib.h>
#include <string.h>

#include "isa/isa.h"
#include "isa/semantics.h"
#include "switch.h"

#define JSW_MAX_STEPS 64	/* instructions one way may pass through */

enum { ORDER_ANY = -1, ORDER_UNSIGNED, ORDER_SIGNED };

struct tree {
	const struct bpfrt_insn *insns;
	size_t n;
	unsigned reg;
	bool w64;
	int order;
	uint8_t *acc;		/* per slot: a compare of the tree */
};

/* The order a compare needs: ORDER_ANY for (in)equality, -2 for jset. */
static int order_of(unsigned op)
{
	switch (op) {
	case BPF_JEQ: case BPF_JNE:
		return ORDER_ANY;
	case BPF_JGT: case BPF_JGE: case BPF_JLT: case BPF_JLE:
		return ORDER_UNSIGNED;
	case BPF_JSGT: case BPF_JSGE: case BPF_JSLT: case BPF_JSLE:
		return ORDER_SIGNED;
	default:
		return -2;
	}
}

/* The form of slot s; the second slot of an lddw decodes as no form. */
static const struct isa_form *form_of(const struct tree *t, size_t s)
{
	enum isa_form_id id = isa_decode(&t->insns[s]);

	return id == ISA_INVALID ? NULL : &isa_forms[id];
}

static bool in_range(const struct tree *t, int64_t s)
{
	return s >= 0 && (size_t)s < t->n;
}

/* A compare of the tree's register with a constant, of its width, both ways in the program. */
static bool is_compare(const struct tree *t, size_t s)
{
	const struct bpfrt_insn *in = &t->insns[s];

	return form_of(t, s) && form_of(t, s)->shape == SH_JCOND_IMM && in->dst_reg == t->reg &&
	       !isa_is_jmp32(in->code) == t->w64 && order_of(BPF_OP(in->code)) != -2 &&
	       in_range(t, (int64_t)s + 1) && in_range(t, isa_branch_target(t->insns, s));
}

/* An unconditional jump inside the program. */
static bool is_goto(const struct tree *t, size_t s)
{
	const struct isa_form *f = form_of(t, s);

	return f && (f->shape == SH_JA || f->shape == SH_JA32) &&
	       in_range(t, isa_branch_target(t->insns, s));
}

/*
 * A constant moved into another register, with an instruction after it; or
 * a copy of the tree's register, whose value each way knows (jmp32: the low
 * half only, so only a 32-bit copy).
 */
static bool is_mov(const struct tree *t, size_t s)
{
	const struct bpfrt_insn *in = &t->insns[s];
	enum isa_form_id id = isa_decode(in);
	bool copy = in->src_reg == t->reg && in->off == 0 &&
		    (id == ISA_MOV32_REG || (id == ISA_MOV64_REG && t->w64));

	return (id == ISA_MOV64_IMM || id == ISA_MOV32_IMM || copy) && in->dst_reg != t->reg &&
	       s + 1 < t->n;
}

/* The constant of compare s as a value of the tree's order and width. */
static uint64_t key_of(const struct tree *t, size_t s)
{
	int32_t imm = t->insns[s].imm;

	if (t->w64)
		return (uint64_t)(int64_t)imm;
	return t->order == ORDER_SIGNED ? (uint64_t)(int64_t)imm : (uint64_t)(uint32_t)imm;
}

static bool less(const struct tree *t, uint64_t a, uint64_t b)
{
	return t->order == ORDER_SIGNED ? (int64_t)a < (int64_t)b : a < b;
}

/*
 * Collect the compares reachable from root without passing anything else
 * than gotos and constant moves; the first inequality fixes the order, and a
 * compare of the other order is not part of the tree. Their slots go to
 * list (at most JSW_MAX_NODES); false if there are more.
 */
static bool collect(struct tree *t, size_t root, uint32_t *list, uint32_t *nlist)
{
	uint32_t stack[2 * JSW_MAX_NODES + 2], sp = 0;
	uint8_t *seen = calloc(t->n, 1);
	bool ok = true;

	if (!seen)
		return false;
	*nlist = 0;
	stack[sp++] = (uint32_t)root;
	while (sp && ok) {
		size_t s = stack[--sp];
		unsigned steps = 0;

		/* follow gotos and moves until a compare or anything else */
		while (!seen[s] && steps++ < JSW_MAX_STEPS) {
			seen[s] = 1;
			if (is_compare(t, s)) {
				int o = order_of(BPF_OP(t->insns[s].code));

				if (o != ORDER_ANY && t->order != ORDER_ANY && o != t->order)
					break;
				if (o != ORDER_ANY)
					t->order = o;
				if (*nlist == JSW_MAX_NODES) {
					ok = false;
					break;
				}
				t->acc[s] = 1;
				list[(*nlist)++] = (uint32_t)s;
				stack[sp++] = (uint32_t)(s + 1);
				stack[sp++] = (uint32_t)isa_branch_target(t->insns, s);
				break;
			}
			if (is_goto(t, s))
				s = (size_t)isa_branch_target(t->insns, s);
			else if (is_mov(t, s))
				s++;
			else
				break;
		}
	}
	free(seen);
	return ok;
}

/*
 * Where value v goes from root: the moves on the way, then the slot. A move
 * overwritten by a later one on the way does nothing, so only live ones
 * are kept (and count against JSW_MAX_MOVS).
 */
static struct jsw_path walk(const struct tree *t, size_t root, uint64_t v)
{
	struct jsw_path p = { 0 };
	unsigned steps = 0;
	size_t s = root;

	while (steps++ < JSW_MAX_STEPS) {
		const struct bpfrt_insn *in = &t->insns[s];

		if (t->acc[s]) {
			bool taken = sem_jcond(BPF_OP(in->code), !t->w64, v,
					       (uint64_t)(int64_t)in->imm);

			s = taken ? (size_t)isa_branch_target(t->insns, s) : s + 1;
		} else if (is_goto(t, s)) {
			s = (size_t)isa_branch_target(t->insns, s);
		} else if (is_mov(t, s)) {
			unsigned k = 0;

			while (k < p.nmov && t->insns[p.mov[k]].dst_reg != in->dst_reg)
				k++;
			if (k < p.nmov) {		/* overwritten: drop it */
				memmove(&p.mov[k], &p.mov[k + 1],
					(p.nmov - k - 1) * sizeof(p.mov[0]));
				p.nmov--;
			}
			if (p.nmov == JSW_MAX_MOVS)
				break;
			p.mov[p.nmov++] = (uint32_t)s;
			s++;
		} else {
			break;
		}
	}
	p.leaf = (uint32_t)s;
	return p;
}

static bool same_path(const struct jsw_path *a, const struct jsw_path *b)
{
	return a->leaf == b->leaf && a->nmov == b->nmov &&
	       !memcmp(a->mov, b->mov, a->nmov * sizeof(a->mov[0]));
}

/* The index of p among sw's paths, added if new. */
static uint32_t path_index(struct jswitch *sw, const struct jsw_path *p)
{
	for (uint32_t k = 0; k < sw->npaths; k++)
		if (same_path(&sw->paths[k], p))
			return k;
	sw->paths[sw->npaths] = *p;
	return sw->npaths++;
}

/* The value a move of the way of value v leaves in its register. */
static uint64_t mov_value(const struct bpfrt_insn *in, uint64_t v)
{
	switch (isa_decode(in)) {
	case ISA_MOV64_IMM: return (uint64_t)(int64_t)in->imm;
	case ISA_MOV32_IMM: return (uint32_t)in->imm;
	case ISA_MOV32_REG: return (uint32_t)v;
	default:            return v;	/* ISA_MOV64_REG of a 64-bit tree */
	}
}

/* The register path p's move mov[k] writes, or -1. */
static int find_reg(const struct bpfrt_insn *insns, const struct jsw_path *p, unsigned reg)
{
	for (unsigned k = 0; k < p->nmov; k++)
		if (insns[p->mov[k]].dst_reg == reg)
			return (int)k;
	return -1;
}

/*
 * Can the table hold values: do all ways of values in it go on at one slot,
 * setting the same registers (each once, as dead moves are gone)?
 */
static bool make_values(const struct bpfrt_insn *insns, struct jswitch *sw)
{
	const struct jsw_path *p0 = &sw->paths[sw->entry[0]];

	for (uint32_t k = 1; k < sw->count; k++) {
		const struct jsw_path *p = &sw->paths[sw->entry[k]];

		if (p->leaf != p0->leaf || p->nmov != p0->nmov)
			return false;
		for (unsigned m = 0; m < p0->nmov; m++)
			if (find_reg(insns, p, insns[p0->mov[m]].dst_reg) < 0)
				return false;
	}
	sw->nval = p0->nmov;
	sw->leaf = p0->leaf;
	for (unsigned m = 0; m < p0->nmov; m++)
		sw->vreg[m] = insns[p0->mov[m]].dst_reg;
	sw->val = calloc((size_t)sw->count * (sw->nval ? sw->nval : 1), sizeof(*sw->val));
	if (!sw->val)
		return false;
	for (uint32_t k = 0; k < sw->count; k++) {
		const struct jsw_path *p = &sw->paths[sw->entry[k]];

		for (unsigned m = 0; m < sw->nval; m++)
			sw->val[(size_t)k * sw->nval + m] =
				mov_value(&insns[p->mov[find_reg(insns, p, sw->vreg[m])]],
					  sw->lo + k);
	}
	return true;
}

void jswitch_free(struct jswitch *sw)
{
	free(sw->val);
	free(sw->entry);
	free(sw->paths);
	free(sw->label);
	memset(sw, 0, sizeof(*sw));
}

bool jswitch_find(const struct bpfrt_insn *insns, size_t n, size_t root,
		  struct jswitch *sw, uint8_t *node)
{
	struct tree t = { .insns = insns, .n = n, .reg = insns[root].dst_reg,
			  .w64 = !isa_is_jmp32(insns[root].code), .order = ORDER_ANY };
	uint32_t list[JSW_MAX_NODES], nlist = 0;
	uint64_t lo, hi, dmin, dmax, span;
	bool found = false;

	memset(sw, 0, sizeof(*sw));
	if (!is_compare(&t, root) || !(t.acc = calloc(n, 1)))
		return false;
	if (!collect(&t, root, list, &nlist) || nlist < JSW_MIN_NODES)
		goto out;
	if (t.order == ORDER_ANY)
		t.order = ORDER_SIGNED;
	lo = hi = key_of(&t, list[0]);
	for (uint32_t k = 1; k < nlist; k++) {
		uint64_t key = key_of(&t, list[k]);

		if (less(&t, key, lo))
			lo = key;
		if (less(&t, hi, key))
			hi = key;
	}
	span = hi - lo;		/* in either order, as both wrap alike */
	/* lo must be a sign-extended imm32: the code subtracts it */
	if (span >= JSW_MAX_VALUES || span > 8u * nlist + 16 ||
	    (int64_t)lo != (int32_t)lo)
		goto out;
	if (t.order == ORDER_SIGNED) {
		dmin = t.w64 ? (uint64_t)INT64_MIN : (uint64_t)(int64_t)INT32_MIN;
		dmax = t.w64 ? (uint64_t)INT64_MAX : (uint64_t)INT32_MAX;
	} else {
		dmin = 0;
		dmax = t.w64 ? UINT64_MAX : UINT32_MAX;
	}
	sw->root = (uint32_t)root;
	sw->reg = (uint8_t)t.reg;
	sw->w64 = t.w64;
	sw->sign = t.order == ORDER_SIGNED;
	sw->lo = lo;
	sw->count = (uint32_t)span + 1;
	sw->nodes = nlist;
	sw->has_below = lo != dmin;
	sw->has_above = hi != dmax;
	sw->entry = calloc(sw->count + 2, sizeof(*sw->entry));
	sw->paths = calloc(sw->count + 2, sizeof(*sw->paths));
	sw->label = calloc(sw->count + 2, sizeof(*sw->label));
	if (!sw->entry || !sw->paths || !sw->label) {
		jswitch_free(sw);
		goto out;
	}
	for (uint32_t k = 0; k < sw->count; k++) {
		struct jsw_path p = walk(&t, root, lo + k);

		sw->entry[k] = path_index(sw, &p);
	}
	for (unsigned k = 0; k < 2; k++) {
		bool has = k ? sw->has_above : sw->has_below;
		struct jsw_path p = walk(&t, root, k ? hi + 1 : lo - 1);

		if (has)
			sw->entry[sw->count + k] = path_index(sw, &p);
	}
	sw->values = make_values(insns, sw);
	for (uint32_t k = 0; k < nlist; k++)
		node[list[k]] = 1;
	found = true;
out:
	free(t.acc);
	return found;
}
