/* disasm.c — instructions to text, in the notation of `bpftool prog dump xlated`. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "isa.h"
#include "util/error.h"

static const char *const alu_ops[16] = {
	[BPF_ADD >> 4] = "+=", [BPF_SUB >> 4] = "-=", [BPF_MUL >> 4] = "*=",
	[BPF_DIV >> 4] = "/=", [BPF_OR >> 4] = "|=", [BPF_AND >> 4] = "&=",
	[BPF_LSH >> 4] = "<<=", [BPF_RSH >> 4] = ">>=", [BPF_MOD >> 4] = "%=",
	[BPF_XOR >> 4] = "^=", [BPF_MOV >> 4] = "=", [BPF_ARSH >> 4] = "s>>=",
};

static const char *const jmp_ops[16] = {
	[BPF_JEQ >> 4] = "==", [BPF_JGT >> 4] = ">", [BPF_JGE >> 4] = ">=",
	[BPF_JSET >> 4] = "&", [BPF_JNE >> 4] = "!=", [BPF_JSGT >> 4] = "s>",
	[BPF_JSGE >> 4] = "s>=", [BPF_JLT >> 4] = "<", [BPF_JLE >> 4] = "<=",
	[BPF_JSLT >> 4] = "s<", [BPF_JSLE >> 4] = "s<=",
};

static const char *const atomic_names[16] = {
	[BPF_ADD >> 4] = "add", [BPF_OR >> 4] = "or", [BPF_AND >> 4] = "and",
	[BPF_XOR >> 4] = "xor",
};

static const char *size_type(uint8_t code, bool sx)
{
	static const char *const u[4] = { "u32", "u16", "u8", "u64" };
	static const char *const s[4] = { "s32", "s16", "s8", "s64" };

	return (sx ? s : u)[BPF_SIZE(code) >> 3];
}

struct out {
	char *buf;
	size_t len, pos;
};

static __attribute__((format(printf, 2, 3))) void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (o->pos >= o->len)
		return;
	va_start(ap, fmt);
	r = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	if (r > 0)
		o->pos += (size_t)r;
}

/* Like the kernel, atomics name registers r even when they are 32-bit. */
static void put_atomic(struct out *o, const struct bpfrt_insn *in)
{
	const char *bits = BPF_SIZE(in->code) == BPF_DW ? "64" : "";
	const char *ty = size_type(in->code, false);
	int op = in->imm;

	if (op == BPF_CMPXCHG)
		put(o, "r0 = atomic%s_cmpxchg((%s *)(r%u %+d), r0, r%u)", bits, ty,
		    in->dst_reg, in->off, in->src_reg);
	else if (op == BPF_XCHG)
		put(o, "r%u = atomic%s_xchg((%s *)(r%u %+d), r%u)", in->src_reg, bits,
		    ty, in->dst_reg, in->off, in->src_reg);
	else if (op & BPF_FETCH)
		put(o, "r%u = atomic%s_fetch_%s((%s *)(r%u %+d), r%u)", in->src_reg,
		    bits, atomic_names[(op & 0xf0) >> 4], ty, in->dst_reg, in->off,
		    in->src_reg);
	else
		put(o, "lock *(%s *)(r%u %+d) %s r%u", ty, in->dst_reg, in->off,
		    alu_ops[(op & 0xf0) >> 4], in->src_reg);
}

static void put_lddw(struct out *o, const struct bpfrt_insn *in)
{
	uint64_t imm = isa_imm64(in);

	switch (in->src_reg) {
	case BPF_PSEUDO_MAP_FD:
		put(o, "r%u = map[fd:%d]", in->dst_reg, in[0].imm);
		break;
	case BPF_PSEUDO_MAP_VALUE:
		put(o, "r%u = map[fd:%d][0]+%u", in->dst_reg, in[0].imm,
		    (uint32_t)in[1].imm);
		break;
	case BPF_PSEUDO_MAP_IDX:
		put(o, "r%u = map[idx:%d]", in->dst_reg, in[0].imm);
		break;
	case BPF_PSEUDO_MAP_IDX_VALUE:
		put(o, "r%u = map[idx:%d][0]+%u", in->dst_reg, in[0].imm,
		    (uint32_t)in[1].imm);
		break;
	case BPF_PSEUDO_BTF_ID:
		put(o, "r%u = btf_id[%d]", in->dst_reg, in[0].imm);
		break;
	case BPF_PSEUDO_FUNC:
		put(o, "r%u = func pc%+d", in->dst_reg, in[0].imm);
		break;
	default:
		put(o, "r%u = 0x%" PRIx64, in->dst_reg, imm);
		break;
	}
}

/* Disassemble a decoded form; the fields are known to be valid for it. */
static void put_form(struct out *o, const struct bpfrt_insn *in,
		     const struct isa_form *f)
{
	char w = isa_is_alu32(in->code) || isa_is_jmp32(in->code) ? 'w' : 'r';
	unsigned op = BPF_OP(in->code);

	switch (f->shape) {
	case SH_ALU_IMM:
	case SH_ALU_REG: {
		bool sign = (op == BPF_DIV || op == BPF_MOD) && in->off == 1;

		if (op == BPF_MOV && in->off) {
			put(o, "%c%u = (s%d)%c%u", w, in->dst_reg, in->off, w, in->src_reg);
			break;
		}
		put(o, "%c%u %s%s ", w, in->dst_reg, sign ? "s" : "", alu_ops[op >> 4]);
		if (f->shape == SH_ALU_IMM)
			put(o, "%d", in->imm);
		else
			put(o, "%c%u", w, in->src_reg);
		break;
	}
	case SH_NEG:
		put(o, "%c%u = -%c%u", w, in->dst_reg, w, in->dst_reg);
		break;
	case SH_END:
		put(o, "r%u = %s%d r%u", in->dst_reg,
		    BPF_CLASS(in->code) == BPF_ALU64 ? "bswap" :
		    BPF_SRC(in->code) == BPF_TO_BE ? "be" : "le", in->imm, in->dst_reg);
		break;
	case SH_LDDW:
		put_lddw(o, in);
		break;
	case SH_LDX:
		put(o, "r%u = *(%s *)(r%u %+d)", in->dst_reg,
		    size_type(in->code, BPF_MODE(in->code) == BPF_MEMSX),
		    in->src_reg, in->off);
		break;
	case SH_ST:
		put(o, "*(%s *)(r%u %+d) = %d", size_type(in->code, false),
		    in->dst_reg, in->off, in->imm);
		break;
	case SH_STX:
		put(o, "*(%s *)(r%u %+d) = r%u", size_type(in->code, false),
		    in->dst_reg, in->off, in->src_reg);
		break;
	case SH_ATOMIC:
		put_atomic(o, in);
		break;
	case SH_LDABS:
		put(o, "r0 = *(%s *)skb[%d]", size_type(in->code, false), in->imm);
		break;
	case SH_LDIND:
		put(o, "r0 = *(%s *)skb[r%u + %d]", size_type(in->code, false),
		    in->src_reg, in->imm);
		break;
	case SH_JA:
		put(o, "goto pc%+d", in->off);
		break;
	case SH_JA32:
		put(o, "gotol pc%+d", in->imm);
		break;
	case SH_JCOND_IMM:
		put(o, "if %c%u %s 0x%x goto pc%+d", w, in->dst_reg,
		    jmp_ops[op >> 4], (uint32_t)in->imm, in->off);
		break;
	case SH_JCOND_REG:
		put(o, "if %c%u %s %c%u goto pc%+d", w, in->dst_reg,
		    jmp_ops[op >> 4], w, in->src_reg, in->off);
		break;
	case SH_CALL:
		put(o, "call #%d", in->imm);
		break;
	case SH_CALL_LOCAL:
		put(o, "call pc%+d", in->imm);
		break;
	case SH_CALLX:
		put(o, "callx r%u", in->dst_reg);
		break;
	case SH_EXIT:
		put(o, "exit");
		break;
	case SH_MAY_GOTO:
		put(o, "may_goto pc%+d", in->off);
		break;
	}
}

int isa_disasm(const struct bpfrt_insn *insns, size_t n, size_t i, char *buf,
	       size_t len)
{
	struct out o = { buf, len, 0 };
	const struct bpfrt_insn *in;
	enum isa_form_id id;

	if (len)
		buf[0] = '\0';
	if (i >= n)
		return -EINVAL;
	in = &insns[i];
	id = isa_decode(in);
	if (id == ISA_INVALID || (isa_forms[id].shape == SH_LDDW && i + 1 >= n)) {
		put(&o, "invalid (code 0x%02x)", in->code);
		return -EINVAL;
	}
	/* Registers out of range would index past our tables' assumptions. */
	if (in->dst_reg >= ISA_NREGS || (in->src_reg >= ISA_NREGS &&
					 isa_forms[id].shape != SH_LDDW)) {
		put(&o, "invalid (register out of range)");
		return -EINVAL;
	}
	put_form(&o, in, &isa_forms[id]);
	return isa_forms[id].shape == SH_LDDW ? 2 : 1;
}

BPFRT_API int bpfrt_disasm_insn(const struct bpfrt_insn *insns, size_t n,
				size_t i, char *buf, size_t len)
{
	return isa_disasm(insns, n, i, buf, len);
}
