/* relo.c — one program's instructions: subprograms appended, calls, function pointers and lddw relocated, line info. */
#define _GNU_SOURCE	/* vasprintf */
#include <errno.h>
#include <gelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isa/isa.h"
#include "loader/loader.h"
#include "util/error.h"

/*
 * A program is its main function followed by every function it reaches,
 * each appended once, in the order they are first reached (as libbpf lays
 * programs out). A bpf-to-bpf call's imm then counts from the call to the
 * callee's copy, as does a function pointer's (lddw src 4). A map
 * reference becomes lddw src 5 (BPF_PSEUDO_MAP_IDX) with imm an index into
 * the program's own map table; a global variable becomes src 6
 * (BPF_PSEUDO_MAP_IDX_VALUE) with imm that index and the second slot's imm
 * the variable's offset in its section.
 */

struct build {
	struct bpfrt_obj *obj;
	struct ld_prog *p;
	int *placed;		/* per function: where this program has it, or -1 */
	int *order;		/* the functions placed, in program order */
	size_t cap;		/* of p->insns */
	struct bpfrt_error *err;
};

enum { OP_LDDW = 0x18, OP_CALL = 0x85 };

/* ---- Layout ---------------------------------------------------------------------------- */

static int append(struct build *b, int f)
{
	const struct ld_func *fn = &b->obj->funcs[f];
	const struct ld_sec *s = &b->obj->secs[fn->sec];
	struct ld_prog *p = b->p;
	size_t *fs;

	if (fn->n > BPFRT_MAX_INSNS - p->n)
		return err_set(b->err, -E2BIG, -1,
			       "program '%s' with its subprograms exceeds %u instructions",
			       p->name, BPFRT_MAX_INSNS);
	if (p->n + fn->n > b->cap) {
		size_t cap = 2 * (p->n + fn->n);
		struct bpfrt_insn *in = realloc(p->insns, cap * sizeof(*in));

		if (!in)
			return err_set(b->err, -ENOMEM, -1, "out of memory");
		p->insns = in;
		b->cap = cap;
	}
	fs = realloc(p->fstarts, (p->nfuncs + 1) * sizeof(*fs));
	if (!fs)
		return err_set(b->err, -ENOMEM, -1, "out of memory");
	p->fstarts = fs;
	b->order[p->nfuncs] = f;
	fs[p->nfuncs++] = p->n;
	memcpy(&p->insns[p->n], s->data + fn->start * 8, fn->n * 8);
	b->placed[f] = (int)p->n;
	p->n += fn->n;
	return 0;
}

/* Where function f is in this program, appending it if it is not yet. */
static int place(struct build *b, int f, size_t *pos)
{
	int ret = 0;

	if (b->placed[f] < 0)
		ret = append(b, f);
	*pos = (size_t)b->placed[f];
	return ret;
}

/* ---- Unsupported features (the program cannot load; the object still opens) ------------ */

static void unsupported(struct build *b, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (b->p->unsupported)
		return;	/* the first reason is enough */
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) >= 0)
		b->p->unsupported = msg;
	va_end(ap);
}

/* Remember a call of kernel function name at program insn `at` (the verifier names it). */
static void note_kfunc(struct build *b, size_t at, const char *name)
{
	struct ld_prog *p = b->p;
	struct ld_kfunc *k = realloc(p->kfuncs, (p->nkfuncs + 1) * sizeof(*k));

	if (!k)
		return;	/* only a message gets poorer */
	p->kfuncs = k;
	k[p->nkfuncs++] = (struct ld_kfunc){ at, name };
}

/* ---- Calls and function pointers ---------------------------------------------------------- */

struct site {		/* the instruction being relocated */
	int f;		/* its function */
	size_t i;	/* its index in the function */
	size_t at;	/* its index in the program */
};

static const char *func_sec(const struct build *b, int f)
{
	return b->obj->secs[b->obj->funcs[f].sec].name;
}

/* Point the call or function pointer at site to instruction insn of section sec. */
static int link_to(struct build *b, const struct site *st, uint32_t sec, int64_t insn,
		   const char *what)
{
	const struct ld_sec *s = &b->obj->secs[sec];
	int64_t n = (int64_t)(s->size / 8);
	int f = insn >= 0 && insn < n ? ld_func_at(b->obj, sec, (uint64_t)insn) : -1;
	size_t pos;
	int ret;

	if (f < 0)
		return err_set(b->err, -EINVAL, -1,
			       "%s at insn %zu of '%s' (section '%s') goes to insn %lld "
			       "of section '%s', which is not the start of a function",
			       what, st->i, b->obj->funcs[st->f].name, func_sec(b, st->f),
			       (long long)insn, s->name);
	ret = place(b, f, &pos);
	if (ret)
		return ret;
	b->p->insns[st->at].imm = (int32_t)((int64_t)pos - (int64_t)st->at - 1);
	return 0;
}

static int reloc_call(struct build *b, const struct site *st, const struct ld_rel *r)
{
	const struct ld_func *fn = &b->obj->funcs[st->f];
	const struct bpfrt_insn *in = &b->p->insns[st->at];
	const struct ld_sym *y;
	int64_t base;

	if (!r)	/* a call inside the section: imm is relative */
		return link_to(b, st, fn->sec, (int64_t)(fn->start + st->i) + in->imm + 1,
			       "call");
	y = &b->obj->syms[r->sym];
	if (y->shndx == SHN_UNDEF) {
		note_kfunc(b, st->at, y->name);
		unsupported(b, "program '%s' calls extern function '%s', which bpfrt "
			    "does not support", b->p->name, y->name);
		return 0;
	}
	if (y->shndx >= b->obj->nsecs || b->obj->secs[y->shndx].kind != LD_SEC_PROG ||
	    (y->value + (uint64_t)(r->rela ? r->addend : 0)) % 8)
		return err_set(b->err, -EINVAL, -1,
			       "relocation %u of section '%s' makes the call at insn %zu "
			       "of '%s' go to '%s', which is not code", r->no,
			       func_sec(b, st->f), st->i, fn->name, y->name);
	base = (int64_t)(y->value + (uint64_t)(r->rela ? r->addend : 0)) / 8;
	return link_to(b, st, y->shndx, base + in->imm + 1, "call");
}

/* lddw rX, function: a callback for bpf_loop() and the like. */
static int reloc_func_ptr(struct build *b, const struct site *st, const struct ld_sym *y,
			  int64_t off)
{
	struct bpfrt_insn *in = &b->p->insns[st->at];
	int ret;

	if (off < 0 || off % 8)
		return err_set(b->err, -EINVAL, -1,
			       "lddw at insn %zu of '%s' points %lld bytes into section "
			       "'%s', which is not an instruction", st->i,
			       b->obj->funcs[st->f].name, (long long)off,
			       b->obj->secs[y->shndx].name);
	ret = link_to(b, st, y->shndx, off / 8, "function pointer");
	in = &b->p->insns[st->at];
	in[0].src_reg = BPF_PSEUDO_FUNC;
	in[1].imm = 0;
	return ret;
}

/* ---- Maps and global data ---------------------------------------------------------------- */

/* The index of map m in the program's table, adding it if new. */
static int table_index(struct build *b, int m)
{
	struct ld_prog *p = b->p;
	int *t;

	for (size_t k = 0; k < p->nmaps; k++)
		if (p->maps[k] == m)
			return (int)k;
	t = realloc(p->maps, (p->nmaps + 1) * sizeof(*t));
	if (!t)
		return err_set(b->err, -ENOMEM, -1, "out of memory");
	p->maps = t;
	t[p->nmaps] = m;
	return (int)p->nmaps++;
}

static int reloc_map(struct build *b, const struct site *st, const struct ld_sym *y,
		     int64_t off)
{
	const struct ld_sec *s = &b->obj->secs[y->shndx];
	int m = off >= 0 ? ld_map_at(b->obj, y->shndx, (uint64_t)off) : -1, k;
	struct bpfrt_insn *in;

	if (m < 0 || b->obj->maps[m].off != (uint64_t)off)
		return err_set(b->err, -EINVAL, -1,
			       "lddw at insn %zu of '%s' refers to offset %lld of section "
			       "'%s', where no map begins", st->i,
			       b->obj->funcs[st->f].name, (long long)off, s->name);
	k = table_index(b, m);
	if (k < 0)
		return k;
	in = &b->p->insns[st->at];
	in[0].src_reg = BPF_PSEUDO_MAP_IDX;
	in[0].imm = k;
	in[1].imm = 0;
	return 0;
}

static int reloc_data(struct build *b, const struct site *st, const struct ld_sym *y,
		      int64_t off)
{
	const struct ld_sec *s = &b->obj->secs[y->shndx];
	struct bpfrt_insn *in;
	int k;

	if (s->map < 0 || off < 0 || (uint64_t)off > s->size)
		return err_set(b->err, -EINVAL, -1,
			       "lddw at insn %zu of '%s' refers to offset %lld of section "
			       "'%s', which is %zu bytes", st->i, b->obj->funcs[st->f].name,
			       (long long)off, s->name, s->size);
	k = table_index(b, s->map);
	if (k < 0)
		return k;
	in = &b->p->insns[st->at];
	in[0].src_reg = BPF_PSEUDO_MAP_IDX_VALUE;
	in[0].imm = k;
	in[1].imm = (int32_t)off;
	return 0;
}

static int reloc_lddw(struct build *b, const struct site *st, const struct ld_rel *r)
{
	const struct ld_sym *y = &b->obj->syms[r->sym];
	const struct bpfrt_insn *in = &b->p->insns[st->at];
	int64_t off;

	if (r->type != LD_R_BPF_64_64 && r->type != LD_R_BPF_NONE)
		return err_set(b->err, -EINVAL, -1,
			       "relocation %u of section '%s' (type %u, symbol '%s') is "
			       "on an lddw, which takes R_BPF_64_64", r->no,
			       func_sec(b, st->f), r->type, y->name);
	if (in->src_reg)
		return err_set(b->err, -EINVAL, -1,
			       "relocation %u of section '%s' is on an lddw that already "
			       "has src %u", r->no, func_sec(b, st->f), in->src_reg);
	if (y->shndx == SHN_UNDEF) {
		note_kfunc(b, st->at, y->name);
		unsupported(b, "program '%s' refers to extern '%s' (__kconfig / __ksym), "
			    "which bpfrt does not support yet", b->p->name, y->name);
		return 0;
	}
	off = (int64_t)y->value + (r->rela ? r->addend : in->imm);
	switch (y->shndx < b->obj->nsecs ? b->obj->secs[y->shndx].kind : LD_SEC_OTHER) {
	case LD_SEC_PROG:
		return reloc_func_ptr(b, st, y, off);
	case LD_SEC_MAPS: case LD_SEC_LEGACY_MAPS:
		return reloc_map(b, st, y, off);
	case LD_SEC_DATA: case LD_SEC_RODATA: case LD_SEC_BSS:
		return reloc_data(b, st, y, off);
	default:
		return err_set(b->err, -EINVAL, -1,
			       "lddw at insn %zu of '%s' refers to '%s', which is no map, "
			       "global variable or function (section %u)", st->i,
			       b->obj->funcs[st->f].name, y->name, y->shndx);
	}
}

/* ---- One function's instructions ------------------------------------------------------------ */

static int reloc_insn(struct build *b, const struct site *st, const struct ld_rel *r)
{
	const struct bpfrt_insn *in = &b->p->insns[st->at];

	if (in->code == OP_CALL && in->src_reg == BPF_PSEUDO_CALL)
		return reloc_call(b, st, r);
	if (!r)
		return 0;
	if (in->code == OP_LDDW)
		return reloc_lddw(b, st, r);
	if (in->code == OP_CALL && in->src_reg == BPF_PSEUDO_KFUNC_CALL) {
		note_kfunc(b, st->at, b->obj->syms[r->sym].name);
		unsupported(b, "program '%s' calls kernel function '%s' (kfunc), which "
			    "bpfrt does not support", b->p->name, b->obj->syms[r->sym].name);
		return 0;
	}
	return err_set(b->err, -EINVAL, -1,
		       "relocation %u of section '%s' is on insn %zu of '%s' (opcode "
		       "%#x), which is neither lddw nor a call", r->no, func_sec(b, st->f),
		       st->i, b->obj->funcs[st->f].name, in->code);
}

static int reloc_func(struct build *b, int f)
{
	const struct ld_func *fn = &b->obj->funcs[f];
	const struct ld_sec *s = &b->obj->secs[fn->sec];
	size_t base = (size_t)b->placed[f];
	int ret;

	for (size_t i = 0; i < fn->n; i++) {
		struct site st = { f, i, base + i };
		const struct ld_rel *r = ld_rel_at(s, (fn->start + i) * 8);
		bool wide = b->p->insns[base + i].code == OP_LDDW;

		if (wide && i + 1 >= fn->n)
			return err_set(b->err, -EINVAL, -1,
				       "lddw at insn %zu of '%s' is missing its second slot",
				       i, fn->name);
		ret = reloc_insn(b, &st, r);
		if (ret)
			return ret;
		i += wide;
	}
	return 0;
}

/* ---- Line info and CO-RE, per placed function ------------------------------------------------- */

static size_t first_at_or_after(const struct ld_sec *s, size_t insn)
{
	size_t lo = 0, hi = s->nlines;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->lines[mid].insn < insn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int add_lines(struct build *b, const struct ld_func *fn, size_t base)
{
	const struct ld_sec *s = &b->obj->secs[fn->sec];
	struct ld_prog *p = b->p;
	size_t k = first_at_or_after(s, fn->start), end = k;
	struct ld_pline *l;

	while (end < s->nlines && s->lines[end].insn < fn->start + fn->n)
		end++;
	if (end == k)
		return 0;
	l = realloc(p->lines, (p->nlines + end - k) * sizeof(*l));
	if (!l)
		return err_set(b->err, -ENOMEM, -1, "out of memory");
	p->lines = l;
	for (; k < end; k++) {
		const struct ld_line *r = &s->lines[k];

		l[p->nlines++] = (struct ld_pline){
			(uint32_t)(base + r->insn - fn->start),
			ld_btf_str(b->obj, r->file_off), ld_btf_str(b->obj, r->line_off),
			r->line_col >> 10, r->line_col & 0x3ff };
	}
	return 0;
}

static unsigned count_core(const struct ld_sec *s, const struct ld_func *fn)
{
	unsigned n = 0;

	for (size_t k = 0; k < s->ncore; k++)
		n += s->core[k] >= fn->start && s->core[k] < fn->start + fn->n;
	return n;
}

/* ---- Programs ---------------------------------------------------------------------------------- */

static int build_prog(struct bpfrt_obj *obj, struct ld_prog *p, int *placed,
		      struct bpfrt_error *err)
{
	struct build b = { obj, p, placed, placed + obj->nfuncs, 0, err };
	int ret;

	for (size_t i = 0; i < obj->nfuncs; i++)
		placed[i] = -1;
	ret = append(&b, p->func);
	/* Functions appended while relocating are relocated in turn. */
	for (size_t k = 0; !ret && k < p->nfuncs; k++) {
		const struct ld_func *fn = &obj->funcs[b.order[k]];

		ret = reloc_func(&b, b.order[k]);
		if (!ret)
			ret = add_lines(&b, fn, p->fstarts[k]);
		if (!ret)
			p->core_relos += count_core(&obj->secs[fn->sec], fn);
	}
	return ret;
}

int ld_relocate(struct bpfrt_obj *obj, struct bpfrt_error *err)
{
	int *placed = malloc((obj->nfuncs ? 2 * obj->nfuncs : 1) * sizeof(*placed));
	int ret = 0;

	if (!placed)
		return err_set(err, -ENOMEM, -1, "out of memory");
	for (size_t i = 0; i < obj->nprogs && !ret; i++)
		ret = build_prog(obj, &obj->progs[i], placed, err);
	free(placed);
	return ret;
}
