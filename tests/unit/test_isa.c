/* test_isa.c — structural validation: every rejection names the instruction and the cause. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"
#include "isa/isa.h"
#include "t.h"

#define I(c, d, s, o, i) ((struct bpfrt_insn){ .code = (c), .dst_reg = (d), \
					       .src_reg = (s), .off = (o), .imm = (i) })
#define EXIT_INSN I(0x95, 0, 0, 0, 0)

/* Expect bpfrt_prog_new to reject, at insn `at`, with a message containing `want`. */
static void rejects(const char *what, const struct bpfrt_insn *insns, size_t n,
		    unsigned cpu, int code, int at, const char *want)
{
	BPFRT_OPTS(bpfrt_prog_opts, opts, .cpu = cpu);
	struct bpfrt_prog *prog = NULL;
	struct bpfrt_error err;
	int ret = bpfrt_prog_new(insns, n, &opts, &prog, &err);

	CHECK(ret == code && err.insn == at && strstr(err.msg, want),
	      "%s: got %d at insn %d \"%s\"; want %d at insn %d containing \"%s\"",
	      what, ret, err.insn, err.msg, code, at, want);
	bpfrt_prog_free(prog);
}

static void accepts(const char *what, const struct bpfrt_insn *insns, size_t n)
{
	struct bpfrt_prog *prog = NULL;
	struct bpfrt_error err;

	CHECK(bpfrt_prog_new(insns, n, NULL, &prog, &err) == 0, "%s: %s", what, err.msg);
	bpfrt_prog_free(prog);
}

TEST(isa_table_is_consistent)
{
	/* Every form decodes back to itself, and no two forms collide. */
	for (int f = 0; f < ISA_NFORMS; f++) {
		const struct isa_form *form = &isa_forms[f];
		struct bpfrt_insn in = { .code = form->code };

		if (form->disc == D_OFF) in.off = (int16_t)form->dval;
		if (form->disc == D_IMM) in.imm = form->dval;
		if (form->disc == D_SRC) in.src_reg = (uint8_t)form->dval;
		if (form->shape == SH_END) in.imm = form->dval;
		CHECK(isa_decode(&in) == (enum isa_form_id)f, "form %d (%s) decodes to %d",
		      f, form->mnem, isa_decode(&in));
		CHECK(form->cpu >= 1 && form->cpu <= 4, "form %s: cpu %u", form->mnem, form->cpu);
	}
	/* Every opcode byte the table does not list is rejected. */
	int known = 0;
	for (int c = 0; c < 256; c++) {
		struct bpfrt_insn in = { .code = (uint8_t)c };
		bool listed = false;

		for (int f = 0; f < ISA_NFORMS; f++)
			listed |= isa_forms[f].code == c;
		known += listed;
		if (!listed)
			CHECK(isa_decode(&in) == ISA_INVALID, "opcode %#x decodes", c);
	}
	CHECK(known == 127, "the table covers %d opcode bytes, expected 127", known);	/* with may_goto */
}

TEST(isa_rejects_bad_programs)
{
	struct bpfrt_insn p[4] = { 0 };

	rejects("empty", p, 0, 0, -EINVAL, -1, "empty");
	p[0] = I(0x06 ^ 0xff, 0, 0, 0, 0); p[1] = EXIT_INSN;
	rejects("unknown opcode", p, 2, 0, -EINVAL, 0, "unknown opcode 0xf9");
	p[0] = I(0xb7, 11, 0, 0, 0); p[1] = EXIT_INSN;
	rejects("bad dst register", p, 2, 0, -EINVAL, 0, "invalid register r11");
	p[0] = I(0xbf, 1, 12, 0, 0);
	rejects("bad src register", p, 2, 0, -EINVAL, 0, "invalid register r12");
	p[0] = I(0xb7, 10, 0, 0, 1);
	rejects("write r10", p, 2, 0, -EACCES, 0, "read-only frame pointer");
	p[0] = I(0xdb, 1, 10, 0, BPF_ADD | BPF_FETCH);
	rejects("fetch into r10", p, 2, 0, -EACCES, 0, "read-only frame pointer");
	p[0] = I(0x07, 1, 3, 0, 1);
	rejects("reserved src", p, 2, 0, -EINVAL, 0, "reserved field src_reg");
	p[0] = I(0x0f, 1, 2, 0, 7);
	rejects("reserved imm", p, 2, 0, -EINVAL, 0, "reserved field imm");
	p[0] = I(0x07, 1, 0, 3, 1);
	rejects("reserved off", p, 2, 0, -EINVAL, 0, "reserved field off");
	p[0] = I(0x3f, 1, 2, 2, 0);
	rejects("div with off 2", p, 2, 0, -EINVAL, 0, "invalid offset 2");
	p[0] = I(0xbf, 1, 2, 7, 0);
	rejects("movsx 7", p, 2, 0, -EINVAL, 0, "invalid offset 7");
	p[0] = I(0xd4, 1, 0, 0, 17);
	rejects("le17", p, 2, 0, -EINVAL, 0, "byte-swap width");
	p[0] = I(0xdb, 1, 2, 0, 0x33);
	rejects("atomic 0x33", p, 2, 0, -EINVAL, 0, "atomic operation");
	p[0] = I(0x85, 0, 2, 0, 1);
	rejects("kfunc", p, 2, 0, -ENOTSUP, 0, "kfunc");
	p[0] = I(0x18, 1, 7, 0, 0); p[1] = I(0, 0, 0, 0, 0); p[2] = EXIT_INSN;
	rejects("lddw src 7", p, 3, 0, -EINVAL, 0, "source kind 7");
	p[0] = EXIT_INSN; p[1] = I(0x18, 1, 0, 0, 0);
	rejects("lddw at end", p, 2, 0, -EINVAL, 1, "missing its second slot");
	p[0] = I(0x18, 1, 0, 0, 0); p[1] = I(0x95, 0, 0, 0, 0); p[2] = EXIT_INSN;
	rejects("lddw bad high slot", p, 3, 0, -EINVAL, 0, "second slot of lddw");
	p[0] = I(0x05, 0, 0, 5, 0); p[1] = EXIT_INSN;
	rejects("jump out of range", p, 2, 0, -EINVAL, 0, "out of range");
	p[0] = I(0x05, 0, 0, -2, 0); p[1] = EXIT_INSN;
	rejects("jump before start", p, 2, 0, -EINVAL, 0, "target -1 is out of range");
	p[0] = I(0x05, 0, 0, 1, 0); p[1] = I(0x18, 1, 0, 0, 0); p[2] = I(0, 0, 0, 0, 0);
	p[3] = EXIT_INSN;
	rejects("jump into lddw", p, 4, 0, -EINVAL, 0, "second slot of the lddw at 1");
	p[0] = I(0xb7, 0, 0, 0, 0);
	rejects("no exit", p, 1, 0, -EINVAL, 0, "run off its end");
	p[0] = I(0xb7, 0, 0, 0, 0); p[1] = I(0x15, 0, 0, -2, 0);
	rejects("conditional last", p, 2, 0, -EINVAL, 1, "run off its end");
	/* A function reached by call local must end in exit too. */
	p[0] = I(0x85, 0, 1, 0, 1); p[1] = EXIT_INSN; p[2] = I(0xb7, 0, 0, 0, 0);
	rejects("callee runs off", p, 3, 0, -EINVAL, 2, "function at insn 2");
	/* Jumps may not cross into another function. */
	p[0] = I(0x85, 0, 1, 0, 2); p[1] = I(0x05, 0, 0, 1, 0); p[2] = EXIT_INSN;
	p[3] = EXIT_INSN;
	rejects("jump across functions", p, 4, 0, -EINVAL, 1, "leaves its function");
	p[0] = I(0x85, 0, 1, 0, 5); p[1] = EXIT_INSN;
	rejects("call out of range", p, 2, 0, -EINVAL, 0, "call target 6");
}

TEST(isa_cpu_versions)
{
	struct bpfrt_insn p[2] = { I(0x3f, 1, 2, 1, 0), EXIT_INSN };

	rejects("sdiv on v3", p, 2, 3, -EINVAL, 0, "sdiv needs cpu v4");
	p[0] = I(0x16, 1, 0, 0, 0);
	rejects("jmp32 on v2", p, 2, 2, -EINVAL, 0, "jeq32 needs cpu v3");
	p[0] = I(0xa5, 1, 0, 0, 0);
	rejects("jlt on v1", p, 2, 1, -EINVAL, 0, "jlt needs cpu v2");
	rejects("cpu 5", p, 2, 5, -EINVAL, -1, "cpu version 5");
	accepts("jlt on v4", p, 2);
}

TEST(isa_limits)
{
	size_t n = BPFRT_MAX_INSNS + 1;
	struct bpfrt_insn *p = calloc(n, sizeof(*p));

	for (size_t i = 0; i < n; i++)
		p[i] = EXIT_INSN;
	rejects("oversize", p, n, 0, -E2BIG, -1, "limit is 1000000");
	accepts("largest", p, n - 1);
	free(p);
}
