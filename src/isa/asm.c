/* asm.c — text to instructions, in the bpf_conformance assembly syntax.
 *
 *	mov32 %r0, 1            add %r0, %r1          neg %r0
 *	ldxw %r0, [%r1+4]       stw [%r10-8], 7       stxdw [%r10-8], %r1
 *	lock fetch add32 [%r10-8], %r1               lddw %r0, 0x1122334455667788
 *	jeq %r1, 0xb, label     ja +2                 ja32 label
 *	call 5                  call %r2              call local func
 *	may_goto +3             may_goto label        (jumps once the loop budget is spent)
 *	exit                    label:                # comment
 *
 * Each line is matched against the forms of the instruction table whose
 * mnemonic it names, by the kinds of its operands. Labels are resolved in a
 * second pass; a jump to the label "exit", when no such label is defined,
 * goes to the program's first exit instruction, as in bpf_conformance's
 * own assembler.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isa.h"
#include "util/error.h"

enum opnd_kind { O_REG, O_IMM, O_MEM, O_LABEL };

struct opnd {
	enum opnd_kind kind;
	unsigned reg;
	int64_t val;		/* immediate, memory offset, or numeric jump */
	bool is_signed_num;	/* "+3" / "-3": a relative jump, not a value */
	char label[64];
};

struct fixup {
	size_t slot;
	int line;
	bool wide;		/* offset goes in imm (gotol, call local) */
	char label[64];
};

struct labeldef {
	char name[64];
	size_t slot;
};

struct as {
	struct bpfrt_insn *insns;
	size_t n, cap;
	struct fixup *fix;
	size_t nfix, capfix;
	struct labeldef *labels;
	size_t nlabels, caplabels;
	int line;
	struct bpfrt_error *err;
};

static __attribute__((format(printf, 3, 4))) int fail(struct as *as, int code,
						       const char *fmt, ...)
{
	va_list ap;
	char msg[200];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_set(as->err, code, -1, "line %d: %s", as->line, msg);
	if (as->err)
		as->err->line = as->line;
	return code;
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 16;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	p = realloc(p, c * elem);
	if (p)
		*cap = c;
	return p;
}

static int emit(struct as *as, struct bpfrt_insn in)
{
	struct bpfrt_insn *p = grow(as->insns, &as->cap, as->n + 1, sizeof(*p));

	if (!p)
		return fail(as, -ENOMEM, "out of memory");
	as->insns = p;
	as->insns[as->n++] = in;
	return 0;
}

/* ---- Lexing operands --------------------------------------------------- */

static char *skip_ws(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static int parse_reg(struct as *as, char **s, unsigned *reg)
{
	char *p = *s, *end;
	unsigned long r;

	if (*p == '%')
		p++;
	if (*p != 'r')
		return fail(as, -EINVAL, "expected a register at '%s'", *s);
	r = strtoul(p + 1, &end, 10);
	if (end == p + 1)
		return fail(as, -EINVAL, "expected a register number at '%s'", *s);
	if (r >= ISA_NREGS)
		return fail(as, -EINVAL, "register r%lu does not exist (r0..r10)", r);
	*reg = (unsigned)r;
	*s = end;
	return 0;
}

/* A number: decimal or 0x hex, optionally signed, up to 64 bits either way. */
static int parse_num(struct as *as, char **s, int64_t *val, bool *has_sign)
{
	char *p = *s, *end;
	bool neg = false;
	unsigned long long u;

	*has_sign = *p == '+' || *p == '-';
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!isdigit((unsigned char)*p))
		return fail(as, -EINVAL, "expected a number at '%s'", *s);
	errno = 0;
	u = strtoull(p, &end, 0);
	if (errno == ERANGE || isalnum((unsigned char)*end) || *end == '_')
		return fail(as, -ERANGE, "bad or oversized number '%.*s'",
			    (int)(end - *s + (isalnum((unsigned char)*end) ? 1 : 0)), *s);
	if (neg && u > (unsigned long long)INT64_MAX + 1)
		return fail(as, -ERANGE, "number '-%llu' does not fit in 64 bits", u);
	*val = neg ? (int64_t)(0 - u) : (int64_t)u;
	*s = end;
	return 0;
}

static int parse_opnd(struct as *as, char **s, struct opnd *o)
{
	char *p = skip_ws(*s);
	int ret;

	memset(o, 0, sizeof(*o));
	if (*p == '%' || (*p == 'r' && isdigit((unsigned char)p[1]))) {
		o->kind = O_REG;
		ret = parse_reg(as, &p, &o->reg);
	} else if (*p == '[') {
		bool sign;

		o->kind = O_MEM;
		p = skip_ws(p + 1);
		ret = parse_reg(as, &p, &o->reg);
		if (ret)
			return ret;
		p = skip_ws(p);
		if (*p == '+' || *p == '-') {
			char *q = p + 1;
			bool neg = *p == '-';

			q = skip_ws(q);
			ret = parse_num(as, &q, &o->val, &sign);
			if (ret)
				return ret;
			if (neg)
				o->val = -o->val;
			p = skip_ws(q);
		}
		if (*p != ']')
			return fail(as, -EINVAL, "expected ']' in memory operand");
		p++;
		if (o->val < INT16_MIN || o->val > INT16_MAX)
			return fail(as, -ERANGE, "memory offset %lld does not fit "
				    "in 16 bits", (long long)o->val);
	} else if (*p == '+' || *p == '-' || isdigit((unsigned char)*p)) {
		o->kind = O_IMM;
		ret = parse_num(as, &p, &o->val, &o->is_signed_num);
	} else if (isalpha((unsigned char)*p) || *p == '_' || *p == '.') {
		size_t len = 0;

		o->kind = O_LABEL;
		while (isalnum((unsigned char)p[len]) || p[len] == '_' || p[len] == '.')
			len++;
		if (len >= sizeof(o->label))
			return fail(as, -EINVAL, "label '%.*s' is too long", (int)len, p);
		memcpy(o->label, p, len);
		p += len;
		ret = 0;
	} else {
		return fail(as, -EINVAL, "unexpected '%s'", p);
	}
	*s = p;
	return ret;
}

/* ---- Matching a line to a form ----------------------------------------- */

/* Operand kinds each shape takes; 'T' is a jump target (label or number). */
static const char *const shape_sig[] = {
	[SH_ALU_IMM] = "RI", [SH_ALU_REG] = "RR", [SH_NEG] = "R", [SH_END] = "R",
	[SH_LDDW] = "RI", [SH_LDX] = "RM", [SH_ST] = "MI", [SH_STX] = "MR",
	[SH_ATOMIC] = "MR", [SH_LDABS] = "I", [SH_LDIND] = "RI",
	[SH_JA] = "T", [SH_JA32] = "T", [SH_JCOND_IMM] = "RIT",
	[SH_JCOND_REG] = "RRT", [SH_CALL] = "I", [SH_CALL_LOCAL] = "T",
	[SH_CALLX] = "R", [SH_EXIT] = "", [SH_MAY_GOTO] = "T",
};

static bool kind_fits(char want, const struct opnd *o)
{
	switch (want) {
	case 'R': return o->kind == O_REG;
	case 'I': return o->kind == O_IMM;
	case 'M': return o->kind == O_MEM;
	case 'T': return o->kind == O_LABEL || o->kind == O_IMM;
	}
	return false;
}

static const char *const aliases[][2] = {
	{ "swap16", "bswap16" }, { "swap32", "bswap32" }, { "swap64", "bswap64" },
	{ "gotol", "ja32" }, { "callx", "call" },
};

static int find_form(const char *mnem, bool local, const struct opnd *ops,
		     int nops)
{
	for (int f = 0; f < ISA_NFORMS; f++) {
		const struct isa_form *form = &isa_forms[f];
		const char *sig = shape_sig[form->shape];

		if (strcmp(form->mnem, mnem) || (int)strlen(sig) != nops)
			continue;
		if (local != (form->shape == SH_CALL_LOCAL))
			continue;
		if (form->shape == SH_LDDW && f != ISA_LDDW)
			continue;	/* pseudo forms come from the loader */
		bool ok = true;
		for (int i = 0; i < nops && ok; i++)
			ok = kind_fits(sig[i], &ops[i]);
		if (ok)
			return f;
	}
	return -1;
}

static bool mnem_known(const char *mnem)
{
	for (int f = 0; f < ISA_NFORMS; f++)
		if (!strcmp(isa_forms[f].mnem, mnem))
			return true;
	return false;
}

static int check_imm32(struct as *as, const char *mnem, int64_t v)
{
	if (v < INT32_MIN || v > (int64_t)UINT32_MAX)
		return fail(as, -ERANGE, "immediate %lld of '%s' does not fit in 32 bits",
			    (long long)v, mnem);
	return 0;
}

static int add_fixup(struct as *as, const char *label, bool wide)
{
	struct fixup *f = grow(as->fix, &as->capfix, as->nfix + 1, sizeof(*f));

	if (!f)
		return fail(as, -ENOMEM, "out of memory");
	as->fix = f;
	f = &as->fix[as->nfix++];
	f->slot = as->n;
	f->line = as->line;
	f->wide = wide;
	snprintf(f->label, sizeof(f->label), "%s", label);
	return 0;
}

/* Encode one matched instruction. */
static int encode(struct as *as, int id, const struct opnd *ops)
{
	const struct isa_form *f = &isa_forms[id];
	struct bpfrt_insn in = { .code = f->code };
	const struct opnd *tgt = NULL;
	int ret;

	switch (f->disc) {
	case D_OFF: in.off = (int16_t)f->dval; break;
	case D_IMM: in.imm = f->dval; break;
	case D_SRC: in.src_reg = (uint8_t)f->dval; break;
	default: break;
	}
	switch (f->shape) {
	case SH_ALU_IMM: case SH_LDIND:
		if (f->shape == SH_ALU_IMM)
			in.dst_reg = ops[0].reg;
		else
			in.src_reg = ops[0].reg;
		ret = check_imm32(as, f->mnem, ops[1].val);
		if (ret)
			return ret;
		in.imm = (int32_t)(uint32_t)ops[1].val;
		break;
	case SH_ALU_REG:
		in.dst_reg = ops[0].reg;
		in.src_reg = ops[1].reg;
		break;
	case SH_NEG: case SH_END: case SH_CALLX:
		in.dst_reg = ops[0].reg;
		break;
	case SH_LDDW: {
		struct bpfrt_insn hi = { .imm = (int32_t)((uint64_t)ops[1].val >> 32) };

		in.dst_reg = ops[0].reg;
		in.imm = (int32_t)(uint32_t)ops[1].val;
		ret = emit(as, in);
		return ret ? ret : emit(as, hi);
	}
	case SH_LDX:
		in.dst_reg = ops[0].reg;
		in.src_reg = ops[1].reg;
		in.off = (int16_t)ops[1].val;
		break;
	case SH_ST:
		in.dst_reg = ops[0].reg;
		in.off = (int16_t)ops[0].val;
		ret = check_imm32(as, f->mnem, ops[1].val);
		if (ret)
			return ret;
		in.imm = (int32_t)(uint32_t)ops[1].val;
		break;
	case SH_STX: case SH_ATOMIC:
		in.dst_reg = ops[0].reg;
		in.off = (int16_t)ops[0].val;
		in.src_reg = ops[1].reg;
		break;
	case SH_LDABS: case SH_CALL:
		ret = check_imm32(as, f->mnem, ops[0].val);
		if (ret)
			return ret;
		in.imm = (int32_t)(uint32_t)ops[0].val;
		break;
	case SH_JA: case SH_JA32: case SH_CALL_LOCAL: case SH_MAY_GOTO:
		tgt = &ops[0];
		break;
	case SH_JCOND_IMM:
		in.dst_reg = ops[0].reg;
		ret = check_imm32(as, f->mnem, ops[1].val);
		if (ret)
			return ret;
		in.imm = (int32_t)(uint32_t)ops[1].val;
		tgt = &ops[2];
		break;
	case SH_JCOND_REG:
		in.dst_reg = ops[0].reg;
		in.src_reg = ops[1].reg;
		tgt = &ops[2];
		break;
	case SH_EXIT:
		break;
	}
	if (tgt) {
		bool wide = f->shape == SH_JA32 || f->shape == SH_CALL_LOCAL;

		if (tgt->kind == O_LABEL) {
			ret = add_fixup(as, tgt->label, wide);
			if (ret)
				return ret;
		} else if (wide) {
			ret = check_imm32(as, f->mnem, tgt->val);
			if (ret)
				return ret;
			in.imm = (int32_t)tgt->val;
		} else if (tgt->val < INT16_MIN || tgt->val > INT16_MAX) {
			return fail(as, -ERANGE, "jump offset %lld does not fit in 16 bits",
				    (long long)tgt->val);
		} else {
			in.off = (int16_t)tgt->val;
		}
	}
	return emit(as, in);
}

/* Read the mnemonic, which may be several words ("lock fetch add32"). */
static int read_mnem(struct as *as, char **s, char *mnem, size_t len, bool *local)
{
	char *p = *s;
	size_t m = 0;

	*local = false;
	for (;;) {
		size_t w = 0;

		while (isalnum((unsigned char)p[w]) || p[w] == '_')
			w++;
		if (w == 0 || m + w + 2 > len)
			return fail(as, -EINVAL, "expected an instruction at '%s'", *s);
		if (m)
			mnem[m++] = ' ';
		memcpy(mnem + m, p, w);
		m += w;
		mnem[m] = '\0';
		p = skip_ws(p + w);
		/* "lock" and "lock fetch" continue with the operation's name. */
		if (!strcmp(mnem, "lock") || !strcmp(mnem, "lock fetch"))
			continue;
		break;
	}
	if (!strcmp(mnem, "call") && !strncmp(p, "local", 5) &&
	    (p[5] == ' ' || p[5] == '\t')) {
		*local = true;
		p = skip_ws(p + 5);
	}
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (!strcmp(mnem, aliases[i][0]))
			snprintf(mnem, len, "%s", aliases[i][1]);
	*s = p;
	return 0;
}

static int add_label(struct as *as, const char *name, size_t len)
{
	struct labeldef *l;

	if (len >= sizeof(l->name))
		return fail(as, -EINVAL, "label '%.*s' is too long", (int)len, name);
	for (size_t i = 0; i < as->nlabels; i++)
		if (strlen(as->labels[i].name) == len &&
		    !strncmp(as->labels[i].name, name, len))
			return fail(as, -EINVAL, "label '%.*s' is defined twice",
				    (int)len, name);
	l = grow(as->labels, &as->caplabels, as->nlabels + 1, sizeof(*l));
	if (!l)
		return fail(as, -ENOMEM, "out of memory");
	as->labels = l;
	l = &as->labels[as->nlabels++];
	memcpy(l->name, name, len);
	l->name[len] = '\0';
	l->slot = as->n;
	return 0;
}

static int assemble_line(struct as *as, char *s)
{
	struct opnd ops[3];
	char mnem[48];
	int nops = 0, id, ret;
	bool local;
	char *hash = strchr(s, '#');

	if (hash)
		*hash = '\0';
	s = skip_ws(s);
	/* Labels: "name:" possibly followed by an instruction. */
	for (;;) {
		size_t w = 0;

		while (isalnum((unsigned char)s[w]) || s[w] == '_' || s[w] == '.')
			w++;
		if (w == 0 || s[w] != ':')
			break;
		ret = add_label(as, s, w);
		if (ret)
			return ret;
		s = skip_ws(s + w + 1);
	}
	if (*s == '\0' || *s == '\n' || *s == '\r')
		return 0;
	ret = read_mnem(as, &s, mnem, sizeof(mnem), &local);
	if (ret)
		return ret;
	while (*s && *s != '\n' && *s != '\r') {
		if (nops == 3)
			return fail(as, -EINVAL, "too many operands for '%s'", mnem);
		ret = parse_opnd(as, &s, &ops[nops++]);
		if (ret)
			return ret;
		s = skip_ws(s);
		if (*s == ',')
			s = skip_ws(s + 1);
		else if (*s && *s != '\n' && *s != '\r')
			return fail(as, -EINVAL, "expected ',' before '%s'", s);
	}
	id = find_form(mnem, local, ops, nops);
	if (id < 0) {
		if (!mnem_known(mnem))
			return fail(as, -EINVAL, "unknown instruction '%s'", mnem);
		return fail(as, -EINVAL, "wrong operands for '%s%s'", mnem,
			    local ? " local" : "");
	}
	return encode(as, id, ops);
}

/* The program's first exit instruction, or -1. */
static int64_t first_exit(const struct as *as)
{
	for (size_t i = 0; i < as->n; i++)
		if (as->insns[i].code == 0x95)
			return (int64_t)i;
	return -1;
}

static int resolve(struct as *as)
{
	for (size_t i = 0; i < as->nfix; i++) {
		struct fixup *f = &as->fix[i];
		struct bpfrt_insn *in = &as->insns[f->slot];
		int64_t target = -1, rel;

		for (size_t l = 0; l < as->nlabels; l++)
			if (!strcmp(as->labels[l].name, f->label))
				target = (int64_t)as->labels[l].slot;
		if (target < 0 && !strcmp(f->label, "exit"))
			target = first_exit(as);
		as->line = f->line;
		if (target < 0)
			return fail(as, -EINVAL, "undefined label '%s'", f->label);
		rel = target - (int64_t)f->slot - 1;
		if (f->wide)
			in->imm = (int32_t)rel;
		else if (rel < INT16_MIN || rel > INT16_MAX)
			return fail(as, -ERANGE, "label '%s' is %lld instructions "
				    "away, too far for a 16-bit jump offset (use ja32)",
				    f->label, (long long)rel);
		else
			in->off = (int16_t)rel;
	}
	return 0;
}

BPFRT_API int bpfrt_asm(const char *text, struct bpfrt_insn **insns, size_t *n,
			struct bpfrt_error *err)
{
	struct as as = { .err = err };
	const char *p = text;
	char *line = NULL;
	size_t cap = 0;
	int ret = 0;

	err_clear(err);
	*insns = NULL;
	*n = 0;
	while (*p && !ret) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		as.line++;
		if (len + 1 > cap) {
			char *l = realloc(line, len + 1);

			if (!l) {
				ret = fail(&as, -ENOMEM, "out of memory");
				break;
			}
			line = l;
			cap = len + 1;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		ret = assemble_line(&as, line);
		p += len + (eol ? 1 : 0);
	}
	if (!ret)
		ret = resolve(&as);
	free(line);
	free(as.fix);
	free(as.labels);
	if (ret) {
		free(as.insns);
		return ret;
	}
	*insns = as.insns;
	*n = as.n;
	return 0;
}
