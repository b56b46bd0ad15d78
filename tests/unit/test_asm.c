/* test_asm.c — the assembler (every form, every error) and the disassembler's notation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"
#include "isa/isa.h"
#include "t.h"

/* Assembly text that should produce form f, built from the table itself. */
static void sample_text(int f, char *buf, size_t len)
{
	const struct isa_form *form = &isa_forms[f];
	const char *m = form->mnem;

	switch (form->shape) {
	case SH_ALU_IMM:     snprintf(buf, len, "%s %%r1, -7", m); break;
	case SH_ALU_REG:     snprintf(buf, len, "%s %%r1, %%r2", m); break;
	case SH_NEG:
	case SH_END:
	case SH_CALLX:       snprintf(buf, len, "%s %%r3", m); break;
	case SH_LDDW:        snprintf(buf, len, "%s %%r4, 0x123456789", m); break;
	case SH_LDX:         snprintf(buf, len, "%s %%r1, [%%r2-8]", m); break;
	case SH_ST:          snprintf(buf, len, "%s [%%r10-8], 5", m); break;
	case SH_STX:
	case SH_ATOMIC:      snprintf(buf, len, "%s [%%r10+16], %%r6", m); break;
	case SH_LDABS:       snprintf(buf, len, "%s 12", m); break;
	case SH_LDIND:       snprintf(buf, len, "%s %%r7, 2", m); break;
	case SH_JA:
	case SH_JA32:        snprintf(buf, len, "%s +0", m); break;
	case SH_JCOND_IMM:   snprintf(buf, len, "%s %%r1, 3, +0", m); break;
	case SH_JCOND_REG:   snprintf(buf, len, "%s %%r1, %%r2, +0", m); break;
	case SH_CALL:        snprintf(buf, len, "%s 7", m); break;
	case SH_CALL_LOCAL:  snprintf(buf, len, "%s local +0", m); break;
	case SH_EXIT:        snprintf(buf, len, "%s", m); break;
	case SH_MAY_GOTO:    snprintf(buf, len, "%s +0", m); break;
	}
}

TEST(asm_every_form)
{
	for (int f = 0; f < ISA_NFORMS; f++) {
		struct bpfrt_insn *insns;
		struct bpfrt_error err;
		char text[96];
		size_t n;

		if (isa_forms[f].shape == SH_LDDW && f != ISA_LDDW)
			continue;	/* pseudo lddw forms come from the loader */
		sample_text(f, text, sizeof(text));
		if (!CHECK(bpfrt_asm(text, &insns, &n, &err) == 0, "'%s': %s", text, err.msg))
			continue;
		CHECK(isa_decode(insns) == (enum isa_form_id)f, "'%s' assembled to form %d, not %d",
		      text, isa_decode(insns), f);
		free(insns);
	}
}

static void asm_fails(const char *text, int line, const char *want)
{
	struct bpfrt_insn *insns = (void *)1;
	struct bpfrt_error err;
	size_t n = 99;
	int ret = bpfrt_asm(text, &insns, &n, &err);

	CHECK(ret < 0 && err.line == line && strstr(err.msg, want) && !insns && n == 0,
	      "asm \"%s\": got %d line %d \"%s\"; want line %d containing \"%s\"",
	      text, ret, err.line, err.msg, line, want);
}

TEST(asm_errors)
{
	asm_fails("exit\nfoo %r1\n", 2, "unknown instruction 'foo'");
	asm_fails("add %r1\n", 1, "wrong operands for 'add'");
	asm_fails("mov %r11, 1\n", 1, "register r11 does not exist");
	asm_fails("mov %r1, 0x100000000\n", 1, "does not fit in 32 bits");
	asm_fails("mov %r1, -0x80000001\n", 1, "does not fit in 32 bits");
	asm_fails("lddw %r1, 0x10000000000000000\n", 1, "oversized number");
	asm_fails("ldxw %r1, [%r2+40000]\n", 1, "does not fit in 16 bits");
	asm_fails("ldxw %r1, [%r2+4\n", 1, "expected ']'");
	asm_fails("ja nowhere\nexit\n", 1, "undefined label 'nowhere'");
	asm_fails("a:\na:\nexit\n", 2, "defined twice");
	asm_fails("mov %r1, 1 2\n", 1, "expected ','");
	asm_fails("mov %r1, 12abc\n", 1, "bad or oversized number");
	asm_fails("add %r1, %r2, %r3, %r4\n", 1, "too many operands");
	asm_fails("lock frob [%r1], %r2\n", 1, "unknown instruction 'lock frob'");
	asm_fails("ja +40000\n", 1, "does not fit in 16 bits");
}

TEST(asm_syntax)
{
	struct bpfrt_insn *insns;
	struct bpfrt_error err;
	size_t n;
	const char *text =
		"start: mov r1, 5        # registers without %, label on the line\n"
		"  ldxdw %r2, [ %r10 - 8 ]\n"
		"\tjeq %r1, 5, done\n"
		"ja32 start\n"
		"call local done\n"
		"swap16 %r3\n"
		"done:\n"
		"exit\n";

	if (!CHECK(bpfrt_asm(text, &insns, &n, &err) == 0, "%s", err.msg))
		return;
	CHECK(n == 7, "n = %zu", n);
	CHECK(insns[1].off == -8 && insns[1].src_reg == 10, "memory operand with spaces");
	CHECK(insns[2].off == 3, "label jump offset %d", insns[2].off);
	CHECK(insns[3].code == 0x06 && insns[3].imm == -4, "ja32 back to start: imm %d",
	      insns[3].imm);
	CHECK(insns[4].src_reg == 1 && insns[4].imm == 1, "call local imm %d", insns[4].imm);
	CHECK(insns[5].code == 0xd7 && insns[5].imm == 16, "swap16 alias");
	free(insns);
}

/* The disassembler speaks bpftool's notation (`bpftool prog dump xlated`). */
TEST(disasm_notation)
{
	static const struct {
		const char *src, *want;
	} cases[] = {
		{ "mov %r0, 2", "r0 = 2" },
		{ "mov32 %r1, -1", "w1 = -1" },
		{ "add %r1, %r2", "r1 += r2" },
		{ "sub32 %r1, %r2", "w1 -= w2" },
		{ "arsh %r3, 7", "r3 s>>= 7" },
		{ "sdiv %r1, %r2", "r1 s/= r2" },
		{ "smod32 %r1, 3", "w1 s%= 3" },
		{ "neg %r4", "r4 = -r4" },
		{ "neg32 %r4", "w4 = -w4" },
		{ "movsx864 %r1, %r2", "r1 = (s8)r2" },
		{ "movsx1632 %r1, %r2", "w1 = (s16)w2" },
		{ "be16 %r1", "r1 = be16 r1" },
		{ "le64 %r1", "r1 = le64 r1" },
		{ "bswap32 %r1", "r1 = bswap32 r1" },
		{ "lddw %r1, 0x1122334455667788", "r1 = 0x1122334455667788" },
		{ "lddw %r1, 0", "r1 = 0x0" },
		{ "ldxw %r0, [%r1+4]", "r0 = *(u32 *)(r1 +4)" },
		{ "ldxdw %r0, [%r10-8]", "r0 = *(u64 *)(r10 -8)" },
		{ "ldxsb %r0, [%r1]", "r0 = *(s8 *)(r1 +0)" },
		{ "stw [%r10-4], 7", "*(u32 *)(r10 -4) = 7" },
		{ "stxb [%r1+3], %r2", "*(u8 *)(r1 +3) = r2" },
		{ "lock add [%r1], %r2", "lock *(u64 *)(r1 +0) += r2" },
		{ "lock xor32 [%r1+8], %r2", "lock *(u32 *)(r1 +8) ^= r2" },
		{ "lock fetch add [%r1], %r2", "r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)" },
		{ "lock fetch or32 [%r1], %r2", "r2 = atomic_fetch_or((u32 *)(r1 +0), r2)" },
		{ "lock xchg [%r1-8], %r3", "r3 = atomic64_xchg((u64 *)(r1 -8), r3)" },
		{ "lock cmpxchg32 [%r1], %r3", "r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r3)" },
		{ "ldabsh 12", "r0 = *(u16 *)skb[12]" },
		{ "ldindb %r1, 2", "r0 = *(u8 *)skb[r1 + 2]" },
		{ "ja +3", "goto pc+3" },
		{ "ja32 -1", "gotol pc-1" },
		{ "jeq %r1, 0, +1", "if r1 == 0x0 goto pc+1" },
		{ "jsgt32 %r1, %r2, -2", "if w1 s> w2 goto pc-2" },
		{ "jset %r1, 0x80, +1", "if r1 & 0x80 goto pc+1" },
		{ "jne %r1, -1, +1", "if r1 != 0xffffffff goto pc+1" },
		{ "call 1", "call #1" },
		{ "call local +2", "call pc+2" },
		{ "call %r2", "callx r2" },
		{ "exit", "exit" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bpfrt_insn *insns;
		struct bpfrt_error err;
		char text[128];
		size_t n;

		if (!CHECK(bpfrt_asm(cases[i].src, &insns, &n, &err) == 0, "%s: %s",
			   cases[i].src, err.msg))
			continue;
		bpfrt_disasm_insn(insns, n, 0, text, sizeof(text));
		CHECK(!strcmp(text, cases[i].want), "'%s' -> '%s', want '%s'", cases[i].src,
		      text, cases[i].want);
		free(insns);
	}
}

TEST(disasm_invalid)
{
	struct bpfrt_insn bad[2] = { { .code = 0xff }, { .code = 0x18 } };
	char text[64];

	CHECK(bpfrt_disasm_insn(bad, 2, 0, text, sizeof(text)) == -EINVAL &&
	      strstr(text, "invalid"), "0xff: %s", text);
	CHECK(bpfrt_disasm_insn(bad, 2, 1, text, sizeof(text)) == -EINVAL,
	      "lddw without its second slot");
	CHECK(bpfrt_disasm_insn(bad, 2, 2, text, sizeof(text)) == -EINVAL, "past the end");
	CHECK(bpfrt_disasm_insn(bad, 2, 0, text, 4) == -EINVAL && strlen(text) == 3,
	      "truncates to the buffer");
}
