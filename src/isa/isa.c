/* isa.c — the instruction table, decoding and structural validation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "isa.h"
#include "util/error.h"

const struct isa_form isa_forms[ISA_NFORMS] = {
#define ISA_ROW(id, code_, disc_, dval_, mnem_, shape_, cpu_, group_) \
	[ISA_##id] = { .code = code_, .disc = disc_, .dval = dval_, \
		       .mnem = mnem_, .shape = shape_, .cpu = cpu_, \
		       .group = group_ },
	ISA_FORMS(ISA_ROW)
#undef ISA_ROW
};

/* ---- Decoding ---------------------------------------------------------- */

/* Forms sharing an opcode byte are chained: first[code], then next[form]. */
static uint8_t first_form[256];
static uint8_t next_form[ISA_NFORMS];

__attribute__((constructor)) static void isa_index(void)
{
	_Static_assert(ISA_NFORMS < 255, "form ids must fit a byte");
	memset(first_form, ISA_INVALID, sizeof(first_form));
	for (int f = ISA_NFORMS - 1; f >= 0; f--) {
		next_form[f] = first_form[isa_forms[f].code];
		first_form[isa_forms[f].code] = (uint8_t)f;
	}
}

static int32_t disc_value(const struct bpfrt_insn *insn, unsigned disc)
{
	switch (disc) {
	case D_OFF: return insn->off;
	case D_IMM: return insn->imm;
	case D_SRC: return insn->src_reg;
	default:    return 0;
	}
}

enum isa_form_id isa_decode(const struct bpfrt_insn *insn)
{
	for (unsigned f = first_form[insn->code]; f != ISA_INVALID; f = next_form[f]) {
		const struct isa_form *form = &isa_forms[f];

		if (form->disc == D_NONE || disc_value(insn, form->disc) == form->dval)
			return (enum isa_form_id)f;
	}
	return ISA_INVALID;
}

int64_t isa_branch_target(const struct bpfrt_insn *insns, size_t i)
{
	const struct bpfrt_insn *in = &insns[i];

	switch (isa_forms[isa_decode(in)].shape) {
	case SH_JA32:
	case SH_CALL_LOCAL:
	case SH_LDDW:		/* only for LDDW_FUNC */
		return (int64_t)i + in->imm + 1;
	default:
		return (int64_t)i + in->off + 1;
	}
}

/* ---- Per-instruction checks -------------------------------------------- */

/* Which fields each shape uses; the rest are reserved and must be zero. */
enum { U_DST = 1, U_SRC = 2, U_OFF = 4, U_IMM = 8 };
static const uint8_t shape_uses[] = {
	[SH_ALU_IMM] = U_DST | U_IMM,
	[SH_ALU_REG] = U_DST | U_SRC,
	[SH_NEG] = U_DST,
	[SH_END] = U_DST | U_IMM,
	[SH_LDDW] = U_DST | U_SRC | U_IMM,
	[SH_LDX] = U_DST | U_SRC | U_OFF,
	[SH_ST] = U_DST | U_OFF | U_IMM,
	[SH_STX] = U_DST | U_SRC | U_OFF,
	[SH_ATOMIC] = U_DST | U_SRC | U_OFF | U_IMM,
	[SH_LDABS] = U_IMM,
	[SH_LDIND] = U_SRC | U_IMM,
	[SH_JA] = U_OFF,
	[SH_JA32] = U_IMM,
	[SH_JCOND_IMM] = U_DST | U_OFF | U_IMM,
	[SH_JCOND_REG] = U_DST | U_SRC | U_OFF,
	[SH_CALL] = U_SRC | U_IMM,
	[SH_CALL_LOCAL] = U_SRC | U_IMM,
	[SH_CALLX] = U_DST,
	[SH_EXIT] = 0,
	[SH_MAY_GOTO] = U_OFF,
};

/* Does the form write its dst register (so dst may not be r10)? */
static int writes_dst(const struct isa_form *f)
{
	switch (f->shape) {
	case SH_ALU_IMM: case SH_ALU_REG: case SH_NEG: case SH_END:
	case SH_LDDW: case SH_LDX:
		return 1;
	default:
		return 0;
	}
}

static const char *class_name(uint8_t code)
{
	static const char *const names[] = {
		"ld", "ldx", "st", "stx", "alu", "jmp", "jmp32", "alu64",
	};
	return names[BPF_CLASS(code)];
}

/* Why is a slot whose opcode byte matches no form invalid? */
static int explain_unknown(const struct bpfrt_insn *in, size_t i,
			   struct bpfrt_error *err)
{
	unsigned f = first_form[in->code];

	if (f == ISA_INVALID)
		return err_set(err, -EINVAL, (int)i,
			       "insn %zu: unknown opcode 0x%02x (class %s)", i,
			       in->code, class_name(in->code));
	switch (isa_forms[f].disc) {
	case D_OFF:
		return err_set(err, -EINVAL, (int)i,
			       "insn %zu: opcode 0x%02x (%s) has invalid offset %d",
			       i, in->code, isa_forms[f].mnem, in->off);
	case D_IMM:
		return err_set(err, -EINVAL, (int)i,
			       "insn %zu: opcode 0x%02x has invalid immediate %d "
			       "(no such %s)", i, in->code, in->imm,
			       isa_forms[f].shape == SH_ATOMIC ? "atomic operation"
							       : "byte-swap width");
	case D_SRC:
		if (isa_forms[f].shape == SH_CALL && in->src_reg == BPF_PSEUDO_KFUNC_CALL)
			return err_set(err, -ENOTSUP, (int)i,
				       "insn %zu: a call of kernel function (kfunc) with BTF id "
				       "%d: kfuncs are the running kernel's own functions, which "
				       "bpfrt does not have; use a helper", i, in->imm);
		return err_set(err, -EINVAL, (int)i,
			       "insn %zu: opcode 0x%02x has invalid source kind %u",
			       i, in->code, in->src_reg);
	}
	return err_set(err, -EINVAL, (int)i, "insn %zu: invalid instruction", i);
}

/* Check one instruction's own fields (not its jump target). */
static int check_insn(const struct bpfrt_insn *insns, size_t n, size_t i,
		      unsigned cpu, struct bpfrt_error *err)
{
	const struct bpfrt_insn *in = &insns[i];
	enum isa_form_id id = isa_decode(in);
	const struct isa_form *f;
	unsigned uses;

	if (id == ISA_INVALID)
		return explain_unknown(in, i, err);
	f = &isa_forms[id];
	uses = shape_uses[f->shape];
	if (f->cpu > cpu)
		return err_set(err, -EINVAL, (int)i,
			       "insn %zu: %s needs cpu v%u (the program is limited to v%u)",
			       i, f->mnem, f->cpu, cpu);
	if (!(uses & U_DST) && in->dst_reg)
		return err_set(err, -EINVAL, (int)i,
			       "insn %zu: %s uses reserved field dst_reg (must be 0, is %u)",
			       i, f->mnem, in->dst_reg);
	if (!(uses & U_SRC) && in->src_reg)
		return err_set(err, -EINVAL, (int)i,
			       "insn %zu: %s uses reserved field src_reg (must be 0, is %u)",
			       i, f->mnem, in->src_reg);
	if (!(uses & U_OFF) && f->disc != D_OFF && in->off)
		return err_set(err, -EINVAL, (int)i,
			       "insn %zu: %s uses reserved field off (must be 0, is %d)",
			       i, f->mnem, in->off);
	if (!(uses & U_IMM) && f->disc != D_IMM && in->imm)
		return err_set(err, -EINVAL, (int)i,
			       "insn %zu: %s uses reserved field imm (must be 0, is %d)",
			       i, f->mnem, in->imm);
	if (f->shape != SH_LDDW && f->shape != SH_CALL && f->shape != SH_CALL_LOCAL) {
		if (in->dst_reg >= ISA_NREGS)
			return err_set(err, -EINVAL, (int)i,
				       "insn %zu: invalid register r%u", i, in->dst_reg);
		if (in->src_reg >= ISA_NREGS)
			return err_set(err, -EINVAL, (int)i,
				       "insn %zu: invalid register r%u", i, in->src_reg);
	} else if (in->dst_reg >= ISA_NREGS) {
		return err_set(err, -EINVAL, (int)i,
			       "insn %zu: invalid register r%u", i, in->dst_reg);
	}
	if (writes_dst(f) && in->dst_reg == R10)
		return err_set(err, -EACCES, (int)i,
			       "insn %zu: %s writes r10, the read-only frame pointer",
			       i, f->mnem);
	if (f->shape == SH_ATOMIC && (f->dval & BPF_FETCH) && in->src_reg == R10)
		return err_set(err, -EACCES, (int)i,
			       "insn %zu: %s writes r10, the read-only frame pointer",
			       i, f->mnem);
	if (f->shape == SH_LDDW) {
		const struct bpfrt_insn *hi = in + 1;

		if (i + 1 >= n)
			return err_set(err, -EINVAL, (int)i,
				       "insn %zu: lddw is missing its second slot "
				       "(it is the last instruction)", i);
		if (hi->code || hi->dst_reg || hi->src_reg || hi->off)
			return err_set(err, -EINVAL, (int)i,
				       "insn %zu: the second slot of lddw must have "
				       "opcode, registers and offset 0", i);
	}
	return 0;
}

/* ---- Whole programs ---------------------------------------------------- */

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

/*
 * Check jump targets and functions: every target lands on the first slot of
 * an instruction inside the same function, and every function (the main
 * program and each target of a local call or function pointer) ends in exit
 * or an unconditional jump, so control can never run off its end.
 */
static int check_flow(const struct bpfrt_insn *insns, size_t n, uint8_t *is_hi,
		      struct bpfrt_error *err)
{
	size_t *starts = NULL, nstarts = 1, fn;
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		enum isa_form_id id = isa_decode(&insns[i]);

		if (id == ISA_CALL_LOCAL || id == ISA_LDDW_FUNC)
			nstarts++;
		if (isa_forms[id].shape == SH_LDDW)
			is_hi[++i] = 1;
	}
	starts = malloc(nstarts * sizeof(*starts));
	if (!starts)
		return err_set(err, -ENOMEM, -1, "out of memory");
	starts[0] = 0;
	nstarts = 1;
	for (size_t i = 0; i < n; i++) {
		enum isa_form_id id = isa_decode(&insns[i]);
		const struct isa_form *f = &isa_forms[id];
		int64_t t;

		if (is_hi[i])
			continue;
		switch (f->shape) {
		case SH_JA: case SH_JA32: case SH_JCOND_IMM: case SH_JCOND_REG:
		case SH_CALL_LOCAL: case SH_MAY_GOTO:
			break;
		case SH_LDDW:
			if (id == ISA_LDDW_FUNC)
				break;
			continue;
		default:
			continue;
		}
		t = isa_branch_target(insns, i);
		if (t < 0 || t >= (int64_t)n) {
			ret = err_set(err, -EINVAL, (int)i,
				      "insn %zu: %s target %lld is out of range "
				      "(the program has %zu slots)", i,
				      f->shape == SH_CALL_LOCAL ? "call" :
				      f->shape == SH_LDDW ? "function pointer" : "jump",
				      (long long)t, n);
			goto out;
		}
		if (is_hi[t]) {
			ret = err_set(err, -EINVAL, (int)i,
				      "insn %zu: target %lld is the second slot of "
				      "the lddw at %lld", i, (long long)t,
				      (long long)t - 1);
			goto out;
		}
		if (f->shape == SH_CALL_LOCAL || f->shape == SH_LDDW)
			starts[nstarts++] = (size_t)t;
	}
	qsort(starts, nstarts, sizeof(*starts), cmp_size);

	/* Walk the functions in order, checking each one's jumps and end. */
	for (fn = 0; fn < nstarts; fn++) {
		size_t lo = starts[fn], hi = n, last = lo;

		if (fn > 0 && starts[fn - 1] == lo)
			continue;	/* called from several places */
		for (size_t k = fn + 1; k < nstarts && hi == n; k++)
			if (starts[k] > lo)
				hi = starts[k];
		for (size_t i = lo; i < hi; i++) {
			const struct isa_form *f;
			int64_t t;

			if (is_hi[i])
				continue;
			last = i;
			f = &isa_forms[isa_decode(&insns[i])];
			if (!isa_shape_jumps(f->shape))
				continue;
			t = isa_branch_target(insns, i);
			if (t < (int64_t)lo || t >= (int64_t)hi) {
				ret = err_set(err, -EINVAL, (int)i,
					      "insn %zu: jump to %lld leaves its "
					      "function (insns %zu..%zu)", i,
					      (long long)t, lo, hi - 1);
				goto out;
			}
		}
		switch (isa_forms[isa_decode(&insns[last])].shape) {
		case SH_EXIT: case SH_JA: case SH_JA32:
			break;
		default:
			ret = err_set(err, -EINVAL, (int)last,
				      "insn %zu: the function at insn %zu ends in "
				      "%s, not exit or an unconditional jump: "
				      "execution could run off its end", last, lo,
				      isa_forms[isa_decode(&insns[last])].mnem);
			goto out;
		}
	}
out:
	free(starts);
	return ret;
}

int isa_validate(const struct bpfrt_insn *insns, size_t n, unsigned cpu,
		 struct bpfrt_error *err)
{
	uint8_t *is_hi;
	int ret;

	if (n == 0)
		return err_set(err, -EINVAL, -1, "the program is empty");
	if (n > BPFRT_MAX_INSNS)
		return err_set(err, -E2BIG, -1,
			       "the program has %zu instructions; the limit is %u",
			       n, BPFRT_MAX_INSNS);
	if (cpu < 1 || cpu > 4)
		return err_set(err, -EINVAL, -1, "cpu version %u is not 1..4", cpu);
	for (size_t i = 0; i < n; i++) {
		ret = check_insn(insns, n, i, cpu, err);
		if (ret)
			return ret;
		if (isa_forms[isa_decode(&insns[i])].shape == SH_LDDW)
			i++;
	}
	is_hi = calloc(n, 1);
	if (!is_hi)
		return err_set(err, -ENOMEM, -1, "out of memory");
	ret = check_flow(insns, n, is_hi, err);
	free(is_hi);
	return ret;
}
