/* test_jit_blind.c — constant blinding (bpfrt_prog_opts.jit_blind): no program constant in the code, same results.
 *
 * The scan looks for the 4 little-endian bytes of every immediate that is
 * worth finding, that is, that cannot be there for another reason: |k| >=
 * 0x100 (smaller values, as bytes 00 00 00 or ff ff ff around one free byte,
 * turn up by chance in any code), not a power of two (the JIT's own
 * constants and masks are: 512-byte frames, alignment), not equal to an
 * instruction's offset (offsets are displacements, which are not blinded, as
 * in the kernel), and farther from 0 than the code's length plus JIT_OWN
 * (the rel32 of a jump, or the displacement of a field of the run, may take
 * any such value). Every other constant must be absent from blinded code
 * and, to show the scan finds what is there, present in unblinded code.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"
#include "exec/jit/jit.h"
#include "conformance.h"
#include "t.h"

/* ---- Constants worth finding -------------------------------------------- */

#define MAX_K 4096

struct consts {
	uint32_t k[MAX_K];
	size_t n;
};

static bool has_entropy(int32_t v)
{
	uint32_t u = (uint32_t)v;

	return (v >= 0x100 || v <= -0x100) && (u & (u - 1)) != 0;
}

static bool is_offset(const struct bpfrt_insn *insns, size_t n, int32_t v)
{
	for (size_t i = 0; i < n; i++)
		if (insns[i].off == v)
			return true;
	return false;
}

static void add_const(struct consts *c, const struct bpfrt_insn *insns, size_t n, int32_t v)
{
	if (!has_entropy(v) || is_offset(insns, n, v) || c->n == MAX_K)
		return;
	for (size_t i = 0; i < c->n; i++)
		if (c->k[i] == (uint32_t)v)
			return;
	c->k[c->n++] = (uint32_t)v;
}

/*
 * The immediates the JIT would emit: ALU and jump constants, stores,
 * LD_ABS/LD_IND, both halves of plain lddw (not map or function ones, whose
 * imm is an index: the JIT emits an address, blinded too but not known here).
 * Not calls (imm is a helper id), exits, ja (imm is an offset), byte swaps
 * and atomics (imm says the operation).
 */
static void collect(const struct bpfrt_insn *insns, size_t n, struct consts *c)
{
	c->n = 0;
	for (size_t i = 0; i < n; i++) {
		const struct bpfrt_insn *in = &insns[i];
		unsigned cls = in->code & 7, op = in->code & 0xf0, src = in->code & 8;

		switch (cls) {
		case 0x00:	/* LD */
			if (in->code == 0x18) {
				if (in->src_reg == 0 && i + 1 < n) {
					add_const(c, insns, n, in->imm);
					add_const(c, insns, n, insns[i + 1].imm);
				}
				i++;
			} else {
				add_const(c, insns, n, in->imm);	/* abs, ind */
			}
			break;
		case 0x02:	/* ST */
			add_const(c, insns, n, in->imm);
			break;
		case 0x04: case 0x07:	/* ALU, ALU64 */
			if (!src && op != 0x80 && op != 0xd0)	/* not neg, end */
				add_const(c, insns, n, in->imm);
			break;
		case 0x05: case 0x06:	/* JMP, JMP32 */
			if (!src && op != 0x00 && op != 0x80 && op != 0x90)	/* ja, call, exit */
				add_const(c, insns, n, in->imm);
			break;
		default:
			break;
		}
	}
}

static bool code_has(const uint8_t *code, size_t len, uint32_t k)
{
	uint8_t b[4] = { (uint8_t)k, (uint8_t)(k >> 8), (uint8_t)(k >> 16), (uint8_t)(k >> 24) };

	return memmem(code, len, b, 4) != NULL;
}

/*
 * Values the JIT's own displacements may take besides jumps (bounded by the
 * code's length): offsets into struct jit_env and the stack frames.
 */
#define JIT_OWN 0x400

/* Counts over many programs: constants looked for, found in plain and in blinded code. */
struct scan {
	size_t progs, consts, plain_hits, blind_hits;
};

/* The JIT's code of prog in one mode; false if it cannot translate it. */
static bool jited(struct bpfrt_prog *prog, bool checked, const uint8_t **code, size_t *len)
{
	struct bpfrt_error err;
	const void *c;

	if (bpfrt_prog_jited(prog, checked, &c, len, NULL, &err))
		return false;
	*code = c;
	return true;
}

/*
 * Scan plain and blind (the same instructions, blinded and not) in both
 * modes; what is found in blinded code is said with `what`.
 */
static void scan_pair(struct bpfrt_prog *plain, struct bpfrt_prog *blind, const char *what,
		      struct scan *s)
{
	struct consts c;
	size_t n = bpfrt_prog_insn_cnt(blind);

	collect(bpfrt_prog_insns(blind), n, &c);
	for (int checked = 0; checked < 2; checked++) {
		const uint8_t *pc, *bc;
		size_t pl, bl;

		if (!jited(plain, checked, &pc, &pl) || !jited(blind, checked, &bc, &bl))
			continue;
		s->progs++;
		for (size_t k = 0; k < c.n; k++) {
			int64_t v = (int32_t)c.k[k];
			bool hit;

			if (v > -(int64_t)bl - JIT_OWN && v < (int64_t)bl + JIT_OWN)
				continue;	/* could be a jump's or the JIT's own displacement */
			hit = code_has(bc, bl, c.k[k]);

			s->consts++;
			s->plain_hits += code_has(pc, pl, c.k[k]);
			s->blind_hits += hit;
			CHECK(!hit, "%s (%s): constant %#x in the blinded code", what,
			      checked ? "checked" : "unchecked", c.k[k]);
		}
	}
}

/* ---- The conformance suite ---------------------------------------------- */

static struct bpfrt_prog *new_prog(const struct bpfrt_insn *insns, size_t n, bool blind)
{
	BPFRT_OPTS(bpfrt_prog_opts, o, .jit_blind = blind);
	struct bpfrt_prog *prog = NULL;
	struct bpfrt_error err;

	if (bpfrt_prog_new(insns, n, &o, &prog, &err))
		return NULL;
	bpfrt_prog_set_helper(prog, 5, "conformance_helper", conf_helper_5);
	return prog;
}

static int run(struct bpfrt_prog *prog, const struct conf_case *c, enum bpfrt_engine engine,
	       bool checked, uint64_t *r0, struct bpfrt_error *err)
{
	BPFRT_OPTS(bpfrt_run_opts, opts, .engine = engine, .checked = checked);
	unsigned char mem[4096];
	int ret;

	memcpy(mem, c->mem, c->mem_len);
	opts.ctx = c->mem_len ? mem : NULL;
	opts.ctx_len = c->mem_len;
	ret = bpfrt_prog_run(prog, &opts, err);
	*r0 = opts.retval;
	return ret;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every case through the blinded JIT (both modes), its result the interpreter's; then the scan. */
TEST(jit_blind_conformance)
{
	char dir[512], path[1024], *names[1024];
	struct scan s = { 0 };
	size_t nnames = 0, ran = 0;
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/conformance", t_datadir());
	d = opendir(dir);
	if (!CHECK(d, "conformance data missing in %s", dir))
		return;
	while ((e = readdir(d)) && nnames < 1024)
		if (strstr(e->d_name, ".data"))
			names[nnames++] = strdup(e->d_name);
	closedir(d);
	qsort(names, nnames, sizeof(*names), cmp_names);
	CHECK(nnames == 313, "expected 313 conformance tests, found %zu", nnames);
	for (size_t i = 0; i < nnames; i++) {
		struct conf_case c = { 0 };
		struct bpfrt_insn *insns = NULL;
		struct bpfrt_prog *plain = NULL, *blind = NULL;
		struct bpfrt_error err;
		size_t n = 0;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (!CHECK(conf_parse(path, &c), "%s: unreadable", names[i]) ||
		    !CHECK(bpfrt_asm(c.asm_text, &insns, &n, &err) == 0, "%s: asm: %s", names[i],
			   err.msg))
			goto next;
		plain = new_prog(insns, n, false);
		blind = new_prog(insns, n, true);
		if (!CHECK(plain && blind, "%s: not created", names[i]))
			goto next;
		for (int checked = 0; checked < 2; checked++) {
			uint64_t want = 0, got = 0;
			int wret = run(plain, &c, BPFRT_ENGINE_INTERP, checked, &want, &err);
			int ret = run(blind, &c, BPFRT_ENGINE_JIT, checked, &got, &err);

			if (c.expect_error) {
				CHECK(ret != 0, "%s (blinded JIT, %s): should fail", names[i],
				      checked ? "checked" : "unchecked");
				continue;
			}
			CHECK(ret == 0 && got == c.result && wret == 0 && want == got,
			      "%s (blinded JIT, %s): got %#llx (%s), want %#llx", names[i],
			      checked ? "checked" : "unchecked", (unsigned long long)got,
			      ret ? err.msg : "ok", (unsigned long long)c.result);
			ran++;
		}
		scan_pair(plain, blind, names[i], &s);
next:
		bpfrt_prog_free(plain);
		bpfrt_prog_free(blind);
		free(insns);
		free(c.asm_text);
		free(names[i]);
	}
	printf("  jit_blind: %zu conformance runs; %zu constants in %zu codes: %zu found in "
	       "plain code, %zu in blinded\n", ran, s.consts, s.progs, s.plain_hits, s.blind_hits);
	CHECK(s.consts >= 200, "only %zu constants looked for", s.consts);
	CHECK(s.plain_hits * 10 >= s.consts * 9, "the scan found only %zu of %zu in plain code",
	      s.plain_hits, s.consts);
}

/* ---- Objects: the test programs and the corpus ---------------------------- */

static struct bpfrt_obj *load_obj(const char *path, bool blind)
{
	BPFRT_OPTS(bpfrt_obj_opts, o, .jit_blind = blind);
	struct bpfrt_obj *obj = NULL;
	struct bpfrt_error err;

	if (bpfrt_obj_open(path, &o, &obj, &err))
		return NULL;
	/* programs bpfrt cannot load (CO-RE, kfuncs) are left out, and any the load names */
	for (size_t i = 0; i < bpfrt_obj_prog_count(obj); i++) {
		struct bpfrt_obj_prog_info info;

		bpfrt_obj_prog_at(obj, i, &info);
		if (info.unsupported || info.core_relos)
			bpfrt_obj_prog_set_autoload(obj, i, false);
	}
	for (size_t tries = 0; bpfrt_obj_load(obj, &err); tries++) {
		bool named = false;

		for (size_t i = 0; i < bpfrt_obj_prog_count(obj) && !named; i++) {
			struct bpfrt_obj_prog_info info;

			bpfrt_obj_prog_at(obj, i, &info);
			if (info.autoload && strstr(err.msg, info.name)) {
				bpfrt_obj_prog_set_autoload(obj, i, false);
				named = true;
			}
		}
		if (!named || tries > 64) {
			bpfrt_obj_close(obj);
			return NULL;
		}
	}
	return obj;
}

static void scan_dir(const char *dirpath, const char *suffix, struct scan *s, size_t *objs)
{
	char path[1024];
	struct dirent *e;
	DIR *d = opendir(dirpath);

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct bpfrt_obj *po, *bo;
		size_t l = strlen(e->d_name), sl = strlen(suffix);

		if (l < sl || strcmp(e->d_name + l - sl, suffix))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirpath, e->d_name);
		po = load_obj(path, false);
		bo = load_obj(path, true);
		if (po && bo && bpfrt_obj_prog_count(po) == bpfrt_obj_prog_count(bo)) {
			(*objs)++;
			for (size_t i = 0; i < bpfrt_obj_prog_count(bo); i++) {
				struct bpfrt_prog *pp = bpfrt_obj_prog_at(po, i, NULL);
				struct bpfrt_prog *bp = bpfrt_obj_prog_at(bo, i, NULL);
				char what[1200];

				if (!pp || !bp)
					continue;
				bpfrt_prog_use_builtin_helpers(pp);
				bpfrt_prog_use_builtin_helpers(bp);
				snprintf(what, sizeof(what), "%s prog %zu", path, i);
				scan_pair(pp, bp, what, s);
			}
		}
		bpfrt_obj_close(po);
		bpfrt_obj_close(bo);
	}
	closedir(d);
}

TEST(jit_blind_objects)
{
	static const char *const corpus[] = { "linux", "ovs", "suricata", "prototype-kernel" };
	char dir[1024];
	struct scan s = { 0 };
	size_t objs = 0;

	snprintf(dir, sizeof(dir), "%s/tests/bpf", t_builddir());
	scan_dir(dir, ".o", &s, &objs);
	snprintf(dir, sizeof(dir), "%s/bench/workloads", t_builddir());
	scan_dir(dir, ".bpf.o", &s, &objs);
	for (size_t k = 0; k < sizeof(corpus) / sizeof(*corpus); k++) {
		snprintf(dir, sizeof(dir), "%s/../../shared/corpus/%s", t_datadir(), corpus[k]);
		scan_dir(dir, ".o", &s, &objs);
	}
	printf("  jit_blind: %zu objects, %zu codes, %zu constants: %zu found in plain code, "
	       "%zu in blinded\n", objs, s.progs, s.consts, s.plain_hits, s.blind_hits);
	/* the test objects alone have some 80 constants; with the corpus, 1400 */
	CHECK(objs >= 10 && s.consts >= (objs > 40 ? 500 : 50),
	      "only %zu objects, %zu constants scanned", objs, s.consts);
	CHECK(s.plain_hits * 10 >= s.consts * 8, "the scan found only %zu of %zu in plain code",
	      s.plain_hits, s.consts);
}

/* ---- Fresh randomness ----------------------------------------------------- */

TEST(jit_blind_fresh)
{
	static const char text[] =
		"lddw %r0, 0x1122334455667788\n"
		"mov %r1, 0x5a5a1234\n"
		"add %r0, %r1\n"
		"xor32 %r0, 0x7e7e4321\n"
		"jgt %r0, 0x31337, +1\n"
		"mov %r0, 0x4242\n"
		"exit\n";
	struct bpfrt_insn *insns = NULL;
	struct bpfrt_error err;
	size_t n = 0;

	if (!CHECK(bpfrt_asm(text, &insns, &n, &err) == 0, "asm: %s", err.msg))
		return;
	for (int checked = 0; checked < 2; checked++) {
		struct bpfrt_prog *a = new_prog(insns, n, true), *b = new_prog(insns, n, true);
		struct bpfrt_prog *p = new_prog(insns, n, false);
		const uint8_t *ca = NULL, *cb = NULL, *cp = NULL;
		size_t la = 0, lb = 0, lp = 0;
		struct conf_case c = { 0 };
		uint64_t ra = 0, rp = 1;

		if (CHECK(a && b && p && jited(a, checked, &ca, &la) && jited(b, checked, &cb, &lb) &&
			  jited(p, checked, &cp, &lp), "not translated")) {
			/* same layout, other values; and other than the plain code */
			CHECK(la == lb && memcmp(ca, cb, la) != 0,
			      "two blinded translations are the same (%zu, %zu bytes)", la, lb);
			CHECK(la > lp, "blinded code (%zu bytes) not longer than plain (%zu)", la, lp);
			CHECK(code_has(cp, lp, 0x55667788) && code_has(cp, lp, 0x7e7e4321) &&
			      !code_has(ca, la, 0x55667788) && !code_has(ca, la, 0x11223344) &&
			      !code_has(ca, la, 0x5a5a1234) && !code_has(ca, la, 0x7e7e4321) &&
			      !code_has(ca, la, 0x31337) && !code_has(ca, la, 0x4242),
			      "constants found where they should not be (%s)",
			      checked ? "checked" : "unchecked");
			CHECK(run(a, &c, BPFRT_ENGINE_JIT, checked, &ra, &err) == 0 &&
			      run(p, &c, BPFRT_ENGINE_INTERP, checked, &rp, &err) == 0 && ra == rp,
			      "blinded %#llx, interpreter %#llx", (unsigned long long)ra,
			      (unsigned long long)rp);
		}
		bpfrt_prog_free(a);
		bpfrt_prog_free(b);
		bpfrt_prog_free(p);
	}
	free(insns);
}

/* ---- Random programs: every immediate form, blinded and not ---------------- */

#define I(c, d, s, o, i) \
	((struct bpfrt_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

static uint32_t rnd_state = 2463534242u;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* Constants of every kind: 0, ±1, small, powers of two and their negations, any. */
static int32_t rnd_imm(void)
{
	switch (rnd() % 6) {
	case 0: return (int32_t)(rnd() % 3) - 1;
	case 1: return (int32_t)(rnd() % 512) - 256;
	case 2: return (int32_t)(1u << (rnd() % 32));
	case 3: return -(int32_t)(1u << (rnd() % 31));
	default: return (int32_t)rnd();
	}
}

/*
 * r1..r5 and r0 worked on by ALU immediates (every op, both widths, signed
 * division too), lddw, stores of immediates to the stack read back, LD_ABS
 * and LD_IND, and forward compares with immediates (jump tables and selects
 * included, in runs of compares on one register).
 */
static size_t gen_prog(struct bpfrt_insn *in, size_t max)
{
	static const uint8_t alu_ops[] = { 0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70,
					   0x90, 0xa0, 0xb0, 0xc0 };
	static const uint8_t jmp_ops[] = { 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0,
					   0xb0, 0xc0, 0xd0 };
	size_t n = 0;

	in[n++] = I(0x79, 6, 1, 0, 0);		/* r6 = *(u64 *)ctx: the input */
	for (unsigned r = 0; r <= 5; r++)
		in[n++] = I(0xbf, r, 6, 0, 0);
	while (n + 16 < max) {	/* a step adds up to 16 */
		unsigned d = rnd() % 6, op;

		switch (rnd() % 8) {
		case 0: case 1: case 2: {
			int32_t k = rnd_imm();

			op = alu_ops[rnd() % sizeof(alu_ops)];
			if (op == 0x60 || op == 0x70 || op == 0xc0)	/* shifts: in range */
				k &= 31;
			in[n++] = I((uint8_t)(op | (rnd() % 2 ? 0x07 : 0x04)), d, 0,
				    (op == 0x30 || op == 0x90) ? (int16_t)(rnd() % 2) : 0, k);
			break;
		}
		case 3:
			in[n++] = I(0x18, d, 0, 0, rnd_imm());
			in[n++] = I(0, 0, 0, 0, rnd_imm());
			break;
		case 4: {
			static const uint8_t sz[] = { 0x10, 0x08, 0x00, 0x18 };	/* h b w dw */
			uint8_t s = sz[rnd() % 4];

			in[n++] = I((uint8_t)(0x62 | s), 10, 0, -16, rnd_imm());
			in[n++] = I((uint8_t)(0x61 | s), d, 10, -16, 0);
			break;
		}
		case 5:
			in[n++] = I((uint8_t)(0x20 | (rnd() % 3) << 3), 0, 0, 0, (int32_t)(rnd() % 24));
			in[n++] = I(0x57, 2, 0, 0, 7);
			in[n++] = I((uint8_t)(0x40 | (rnd() % 3) << 3), 0, 2, 0, (int32_t)(rnd() % 16));
			break;
		default: {
			unsigned runs = 1 + rnd() % 8;

			for (unsigned k = 0; k < runs; k++) {
				op = jmp_ops[rnd() % sizeof(jmp_ops)];
				in[n++] = I((uint8_t)(op | (rnd() % 2 ? 0x05 : 0x06)), d, 0,
					    (int16_t)(rnd() % 2), rnd() % 2 ? rnd_imm() : (int32_t)k);
				in[n++] = I(0xb7, (rnd() % 5) + 1, 0, 0, rnd_imm());
			}
			break;
		}
		}
	}
	for (unsigned r = 1; r <= 5; r++)
		in[n++] = I(0xaf, 0, r, 0, 0);		/* r0 ^= r1..r5 */
	in[n++] = I(0x95, 0, 0, 0, 0);
	return n;
}

static int run_pkt(struct bpfrt_prog *prog, enum bpfrt_engine engine, bool checked,
		   uint64_t input, const uint8_t *pkt, uint64_t *r0)
{
	BPFRT_OPTS(bpfrt_run_opts, o, .engine = engine, .checked = checked, .ctx = &input,
		   .ctx_len = sizeof(input), .pkt = pkt, .pkt_len = 64);
	struct bpfrt_error err;
	int ret = bpfrt_prog_run(prog, &o, &err);

	*r0 = ret ? (uint64_t)ret : o.retval;
	return ret;
}

TEST(jit_blind_random)
{
	static struct bpfrt_insn in[200];
	uint8_t pkt[64];
	unsigned progs = 0, bad = 0;

	for (size_t k = 0; k < sizeof(pkt); k++)
		pkt[k] = (uint8_t)(k * 37 + 11);
	for (unsigned t = 0; t < 300 && bad < 10; t++) {
		size_t n = gen_prog(in, sizeof(in) / sizeof(*in) - 8);
		struct bpfrt_prog *p, *b;

		jit_no_bmi2 = t % 3 == 2;	/* shifts through cl */
		p = new_prog(in, n, false);
		b = new_prog(in, n, true);

		if (!CHECK(p && b, "program %u not created", t))
			break;
		progs++;
		for (unsigned v = 0; v < 4; v++) {
			uint64_t input = (uint64_t)rnd() << 32 | rnd(), want, got[3];
			int wret = run_pkt(p, BPFRT_ENGINE_INTERP, true, input, pkt, &want);
			int r0 = run_pkt(b, BPFRT_ENGINE_JIT, true, input, pkt, &got[0]);
			int r1 = run_pkt(b, BPFRT_ENGINE_JIT, false, input, pkt, &got[1]);
			int r2 = run_pkt(p, BPFRT_ENGINE_JIT, false, input, pkt, &got[2]);

			if (!CHECK(wret == r0 && wret == r1 && wret == r2 && want == got[0] &&
				   want == got[1] && want == got[2],
				   "program %u, input %#llx: interpreter %#llx, blinded JIT checked "
				   "%#llx, unchecked %#llx, plain JIT %#llx", t,
				   (unsigned long long)input, (unsigned long long)want,
				   (unsigned long long)got[0], (unsigned long long)got[1],
				   (unsigned long long)got[2]))
				bad++;
		}
		bpfrt_prog_free(p);
		bpfrt_prog_free(b);
	}
	jit_no_bmi2 = false;
	CHECK(progs == 300, "only %u programs", progs);
}
