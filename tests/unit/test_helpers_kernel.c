/* test_helpers_kernel.c — deterministic helpers against the Linux kernel: one object, run in both, ctx compared. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfrt.h"
#include "t.h"

/*
 * tests/bpf/helpers_kern.bpf.c holds XDP programs that read their input
 * from and write their output to value 0 of an array map: the kernel runs
 * them through BPF_PROG_TEST_RUN, bpfrt on both engines and in both modes,
 * each from the same input; the whole value after the run must be the same.
 */

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct pair {
	struct bpf_object *kobj;	/* the kernel's, or NULL (skipped) */
	struct bpfrt_obj *obj;
};

static int silent(enum libbpf_print_level l, const char *f, va_list ap)
{
	(void)l; (void)f; (void)ap;
	return 0;
}

static bool open_pair(struct pair *p)
{
	char path[512];
	struct bpfrt_error err;
	int ret;

	snprintf(path, sizeof(path), "%s/tests/bpf/helpers_kern.o", t_builddir());
	memset(p, 0, sizeof(*p));
	ret = bpfrt_obj_open(path, NULL, &p->obj, &err);
	if (!CHECK(ret == 0, "open %s: %s", path, err.msg))
		return false;
	if (!CHECK(bpfrt_obj_load(p->obj, &err) == 0, "load: %s", err.msg))
		return false;
	for (size_t i = 0; i < bpfrt_obj_prog_count(p->obj); i++)
		CHECK(bpfrt_prog_use_builtin_helpers(bpfrt_obj_prog_at(p->obj, i, NULL)) == 0,
		      "helpers");
	libbpf_set_print(silent);
	p->kobj = bpf_object__open_file(path, NULL);
	if (!p->kobj || bpf_object__load(p->kobj)) {
		printf("  helpers_kernel: skipped the kernel side: cannot load %s (%s)\n", path,
		       strerror(errno));
		if (p->kobj)
			bpf_object__close(p->kobj);
		p->kobj = NULL;
	}
	return true;
}

static void close_pair(struct pair *p)
{
	if (p->kobj)
		bpf_object__close(p->kobj);
	bpfrt_obj_close(p->obj);
}

/*
 * Run prog in the kernel on kctx (in place); false if it could not. XDP
 * programs take their input and leave their output in map io's value 0.
 */
static bool kernel_run(struct pair *p, const char *name, const char *io, void *kctx,
		       size_t len)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(p->kobj, name);
	struct bpf_map *map = io ? bpf_object__find_map_by_name(p->kobj, io) : NULL;
	uint8_t pkt[64] = { 0 };
	uint32_t zero = 0;
	LIBBPF_OPTS(bpf_test_run_opts, o);

	if (!CHECK(prog != NULL && (!io || map), "kernel: no program %s", name))
		return false;
	if (io) {
		o.data_in = pkt;
		o.data_size_in = sizeof(pkt);
		if (!CHECK(bpf_map_update_elem(bpf_map__fd(map), &zero, kctx, 0) == 0,
			   "kernel: update %s: %s", io, strerror(errno)))
			return false;
	} else {
		o.ctx_in = kctx;
		o.ctx_size_in = (uint32_t)len;
	}
	if (!CHECK(bpf_prog_test_run_opts(bpf_program__fd(prog), &o) == 0 && o.retval == 0,
		   "kernel: test run of %s: %s, retval %u", name, strerror(errno), o.retval))
		return false;
	return !io || CHECK(bpf_map_lookup_elem(bpf_map__fd(map), &zero, kctx) == 0,
			    "kernel: lookup %s: %s", io, strerror(errno));
}

/*
 * Run prog in bpfrt on a copy of ctx (or of map io's value 0) for each
 * engine and mode; each must equal want.
 */
static unsigned bpfrt_runs(struct pair *p, const char *name, const char *io, const void *ctx,
			   size_t len, const void *want,
			   void (*explain)(const void *got, const void *want))
{
	struct bpfrt_prog *prog = bpfrt_obj_prog_by_name(p->obj, name);
	struct bpfrt_map *map = io ? bpfrt_obj_map_by_name(p->obj, io) : NULL;
	uint8_t *buf = malloc(len), pkt[64] = { 0 };
	uint32_t zero = 0;
	unsigned bad = 0;

	if (io && !CHECK(map != NULL, "bpfrt: no map %s", io)) {
		free(buf);
		return 1;
	}

	if (!CHECK(prog && buf, "bpfrt: no program %s", name)) {
		free(buf);
		return 1;
	}
	for (int e = 0; e < 2; e++) {
		for (int checked = 0; checked < 2; checked++) {
			BPFRT_OPTS(bpfrt_run_opts, o, .engine = e ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP,
				   .checked = checked, .ctx = io ? (void *)pkt : buf,
				   .ctx_len = io ? sizeof(pkt) : len);
			struct bpfrt_error err;
			int ret;

			memcpy(buf, ctx, len);
			if (io && !CHECK(bpfrt_map_update(map, &zero, buf, 0) == 0, "update %s", io))
				continue;
			ret = bpfrt_prog_run(prog, &o, &err);
			if (io && ret == 0)
				CHECK(bpfrt_map_lookup(map, &zero, buf) == 0, "lookup %s", io);
			if (!CHECK(ret == 0, "%s engine %d checked %d: %s", name, e, checked, err.msg)) {
				bad++;
				continue;
			}
			if (!CHECK(memcmp(buf, want, len) == 0, "%s engine %d checked %d: ctx differs "
				   "from the kernel's", name, e, checked)) {
				if (explain && bad++ < 3)
					explain(buf, want);
			}
		}
	}
	free(buf);
	return bad;
}

/* ---- csum_diff -------------------------------------------------------------- */

struct csum_ctx {
	uint32_t from_size, to_size, seed, pad;
	uint32_t from[160], to[160];
	int64_t ret;
};

static void csum_explain(const void *got, const void *want)
{
	const struct csum_ctx *g = got, *w = want;

	printf("    from_size %u to_size %u seed %#x: bpfrt %#llx, kernel %#llx\n",
	       w->from_size, w->to_size, w->seed, (unsigned long long)g->ret,
	       (unsigned long long)w->ret);
}

TEST(helpers_kernel_csum_diff)
{
	struct pair p;
	unsigned bad = 0;

	if (!open_pair(&p))
		return;
	for (int k = 0; k < 400; k++) {
		struct csum_ctx c, kc;
		uint32_t sizes[] = { 0, 4, 8, 12, 16, 20, 64, 128, 252, 256, 2, 3, 6, 255, 1, 7, 9, 511, 512, 513, 640 };

		memset(&c, 0, sizeof(c));
		c.from_size = sizes[rnd() % (k < 200 ? 10 : 21)];
		c.to_size = sizes[rnd() % (k < 200 ? 10 : 21)];
		switch (rnd() % 4) {
		case 0: c.seed = 0; break;
		case 1: c.seed = 0xffffffff; break;
		default: c.seed = (uint32_t)rnd(); break;
		}
		for (int i = 0; i < 160; i++) {
			uint64_t r = rnd();

			c.from[i] = k % 7 == 0 ? 0 : k % 7 == 1 ? 0xffffffff : (uint32_t)r;
			c.to[i] = k % 11 == 0 ? c.from[i] : (uint32_t)(r >> 32);
		}
		kc = c;
		if (p.kobj && !kernel_run(&p, "csum", "csum_io", &kc, sizeof(kc)))
			break;
		if (!p.kobj)
			break;
		bad += bpfrt_runs(&p, "csum", "csum_io", &c, sizeof(c), &kc, csum_explain);
		if (bad > 8)
			break;
	}
	CHECK(bad == 0, "csum_diff: %u runs differ from the kernel", bad);
	close_pair(&p);
}

/* ---- snprintf ------------------------------------------------------------------ */

#define NFMT 24
struct snp_ctx {
	uint64_t args[12];
	char str[32];
	uint8_t ip[16];
	uint32_t size, pad;
	int64_t ret[NFMT];
	char out[NFMT][64];
};

static void snp_explain(const void *got, const void *want)
{
	const struct snp_ctx *g = got, *w = want;

	for (int i = 0; i < NFMT; i++)
		if (g->ret[i] != w->ret[i] || memcmp(g->out[i], w->out[i], 64))
			printf("    format %d (size %u): bpfrt %lld \"%.64s\", kernel %lld \"%.64s\"\n",
			       i, w->size, (long long)g->ret[i], g->out[i], (long long)w->ret[i],
			       w->out[i]);
}

TEST(helpers_kernel_snprintf)
{
	static const char *const strs[] = { "", "a", "hello", "exactly 31 characters long ...!",
					    "tab\tin it" };
	struct pair p;
	unsigned bad = 0;

	if (!open_pair(&p))
		return;
	for (int k = 0; k < 150 && p.kobj; k++) {
		struct snp_ctx c, kc;

		memset(&c, 0, sizeof(c));
		for (int i = 0; i < 12; i++) {
			uint64_t r = rnd();

			switch (rnd() % 5) {
			case 0: c.args[i] = r & 0xff; break;
			case 1: c.args[i] = (uint64_t)-(int64_t)(r & 0xffff); break;
			case 2: c.args[i] = (uint32_t)r; break;
			default: c.args[i] = r; break;
			}
			if (rnd() % 3 == 0)	/* printable characters for %c */
				c.args[i] = 0x20 + r % 95;
		}
		snprintf(c.str, sizeof(c.str), "%s", strs[rnd() % 5]);
		for (int i = 0; i < 16; i++)
			c.ip[i] = (uint8_t)rnd();
		c.size = k % 5 == 0 ? (uint32_t)(rnd() % 12) : 64;
		kc = c;
		if (!kernel_run(&p, "snp", "snp_io", &kc, sizeof(kc)))
			break;
		bad += bpfrt_runs(&p, "snp", "snp_io", &c, sizeof(c), &kc, snp_explain);
		if (bad > 8)
			break;
	}
	CHECK(bad == 0, "snprintf: %u runs differ from the kernel", bad);
	close_pair(&p);
}

/* ---- strncmp --------------------------------------------------------------------- */

struct cmp_ctx {
	char s1[32];
	uint32_t n, pad;
	int64_t ret[4];
};

static void cmp_explain(const void *got, const void *want)
{
	const struct cmp_ctx *g = got, *w = want;

	printf("    \"%.32s\" n %u: bpfrt %lld %lld %lld %lld, kernel %lld %lld %lld %lld\n",
	       w->s1, w->n, (long long)g->ret[0], (long long)g->ret[1], (long long)g->ret[2],
	       (long long)g->ret[3], (long long)w->ret[0], (long long)w->ret[1],
	       (long long)w->ret[2], (long long)w->ret[3]);
}

TEST(helpers_kernel_strncmp)
{
	static const char *const s[] = { "hello", "hell", "hello world", "hellp", "", "\x80",
					 "hello world, longer", "hello world, longest" };
	struct pair p;
	unsigned bad = 0;

	if (!open_pair(&p))
		return;
	for (int k = 0; k < 120 && p.kobj; k++) {
		struct cmp_ctx c, kc;

		memset(&c, 0, sizeof(c));
		if (k % 4 == 3)
			for (int i = 0; i < 32; i++)
				c.s1[i] = (char)(rnd() % 3 ? 'h' + rnd() % 3 : 0);
		else
			snprintf(c.s1, sizeof(c.s1), "%s", s[rnd() % 8]);
		c.n = (uint32_t)(rnd() % 34);
		kc = c;
		if (!kernel_run(&p, "cmp", "cmp_io", &kc, sizeof(kc)))
			break;
		bad += bpfrt_runs(&p, "cmp", "cmp_io", &c, sizeof(c), &kc, cmp_explain);
		if (bad > 8)
			break;
	}
	CHECK(bad == 0, "strncmp: %u runs differ from the kernel", bad);
	close_pair(&p);
}

/* ---- probe_read_kernel_str: truncation, lengths, faults ----------------------------- */

struct str_ctx {
	char src[64];
	uint32_t size, off;
	char dst[64];
	char dst2[64];
	int64_t ret, ret2, ret3;
};

static void str_explain(const void *got, const void *want)
{
	const struct str_ctx *g = got, *w = want;

	printf("    size %u off %u: bpfrt %lld/%lld/%lld \"%.64s\", kernel %lld/%lld/%lld \"%.64s\"\n",
	       w->size, w->off, (long long)g->ret, (long long)g->ret2, (long long)g->ret3, g->dst,
	       (long long)w->ret, (long long)w->ret2, (long long)w->ret3, w->dst);
}

TEST(helpers_kernel_probe_read_str)
{
	struct pair p;
	unsigned bad = 0;

	if (!open_pair(&p))
		return;
	for (int k = 0; k < 150 && p.kobj; k++) {
		struct str_ctx c, kc;
		uint32_t len = (uint32_t)(rnd() % 64);

		memset(&c, 0, sizeof(c));
		for (uint32_t i = 0; i < 64; i++)
			c.src[i] = i < len ? (char)('a' + rnd() % 26) : 0;
		for (int i = 0; i < 64; i++)
			c.dst[i] = c.dst2[i] = (char)0xaa;	/* what is not written stays */
		c.size = (uint32_t)(rnd() % 66);
		c.off = (uint32_t)(rnd() % 64);
		kc = c;
		if (!kernel_run(&p, "pstr", "pstr_io", &kc, sizeof(kc)))
			break;
		bad += bpfrt_runs(&p, "pstr", "pstr_io", &c, sizeof(c), &kc, str_explain);
		if (bad > 8)
			break;
	}
	CHECK(bad == 0, "probe_read_kernel_str: %u runs differ from the kernel", bad);
	close_pair(&p);
}

/* ---- Format rules: the kernel's verifier checks constant formats ------------------ */

/*
 * snprintf(buf64, 64, fmt, data, 96) with fmt in a frozen read-only array:
 * the kernel's verifier runs its format check on the constant format, so a
 * program it accepts is one whose format is valid. bpfrt must answer
 * -EINVAL exactly for the formats the kernel rejects.
 */
static const char *const formats[] = {
	"%d", "%i", "%u", "%x", "%X", "%ld", "%lld", "%lu", "%llu", "%lx", "%llx", "%lX",
	"%li", "%lli", "%llX", "%c", "%s", "%%", "%p", "%pK", "%px", "%ps", "%pS", "%pB",
	"%pks", "%pus", "%pi4", "%pI4", "%pi6", "%pI6", "%5d", "%-5d", "%05d", "% d", "%+d",
	"%-+ 0d", "%0-8d", "%10s", "%-3c", "%123d", "%1234567d", "%12345678d", "%01d",
	"%hd", "%hhd", "%.2d", "%q", "%o", "%l", "%ll", "%lllx", "%*d", "%sx", "%s.", "%s1",
	"%s ", "%pI", "%pI5", "%pZ", "%p.", "%p1", "%pa", "%pI6c", "%pksx", "%pks.",
	"%lc", "%ls", "%Lu", "%zu", "%jd", "%#x", "%'d", "%010.3d", "%", "abc%", "\x01",
	"\xc3\xa9", "tab\there", "new\nline", "%d%d%d%d%d%d%d%d%d%d%d%d",
	"%d%d%d%d%d%d%d%d%d%d%d%d%d", "%%%d%%", "%e", "%f", "%n", "%pV", "%pE", "%pM",
	"%p%", "%0000000000d", "%+++++++++d", "%-0", "%5", "%l5d", "%5ld", "%5lld", "%-5lx",
	"%ds", "%dd", "%pks%pus", "\x7f", "\r\v\f", "%s\xe9", "%s\xa1", "%s\xa0", "\x85",
	"\xa0", "%p\xd7", "%p\xc0",
};

/* Load the format program in the kernel: 1 accepted, 0 rejected, -1 could not try. */
static int kernel_format_ok(const char *fmt)
{
	struct bpf_insn prog[24];
	char value[64] = { 0 };
	uint32_t zero = 0;
	int map, fd, n = 0;
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_RDONLY_PROG);

	snprintf(value, sizeof(value), "%s", fmt);
	map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "fmt", 4, sizeof(value), 1, &mo);
	if (map < 0)
		return -1;
	if (bpf_map_update_elem(map, &zero, value, 0) || bpf_map_freeze(map)) {
		close(map);
		return -1;
	}
	prog[n++] = (struct bpf_insn){ .code = 0xb7, .dst_reg = 6 };		/* r6 = 0 */
	for (int k = 1; k <= 12; k++)	/* data: 12 zero u64 at r10-96 */
		prog[n++] = (struct bpf_insn){ .code = 0x7b, .dst_reg = 10, .src_reg = 6,
					       .off = (int16_t)(-8 * k) };
	prog[n++] = (struct bpf_insn){ .code = 0xbf, .dst_reg = 1, .src_reg = 10 };
	prog[n++] = (struct bpf_insn){ .code = 0x07, .dst_reg = 1, .imm = -160 };
	prog[n++] = (struct bpf_insn){ .code = 0xb7, .dst_reg = 2, .imm = 64 };
	prog[n++] = (struct bpf_insn){ .code = 0x18, .dst_reg = 3, .src_reg = BPF_PSEUDO_MAP_VALUE,
				       .imm = map };
	prog[n++] = (struct bpf_insn){ 0 };
	prog[n++] = (struct bpf_insn){ .code = 0xbf, .dst_reg = 4, .src_reg = 10 };
	prog[n++] = (struct bpf_insn){ .code = 0x07, .dst_reg = 4, .imm = -96 };
	prog[n++] = (struct bpf_insn){ .code = 0xb7, .dst_reg = 5, .imm = 96 };
	prog[n++] = (struct bpf_insn){ .code = 0x85, .imm = 165 };
	prog[n++] = (struct bpf_insn){ .code = 0x95 };
	fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "fmt", "GPL", prog, (size_t)n, NULL);
	close(map);
	if (fd < 0)
		return errno == EINVAL || errno == EACCES ? 0 : -1;
	close(fd);
	return 1;
}

/* Run snprintf with fmt in bpfrt (an array map's value, lddw src 6); its r0. */
static int64_t bpfrt_format(const char *fmt, int engine, bool checked)
{
	BPFRT_OPTS(bpfrt_map_opts, mo, .type = BPFRT_MAP_ARRAY, .key_size = 4, .value_size = 64,
		   .max_entries = 1);
	struct bpfrt_insn insns[24];
	struct bpfrt_map *map = NULL;
	struct bpfrt_prog *prog = NULL;
	struct bpfrt_error err;
	char value[64] = { 0 };
	uint32_t zero = 0;
	int64_t r0 = INT64_MIN;
	size_t n = 0;

	snprintf(value, sizeof(value), "%s", fmt);
	if (bpfrt_map_create(&mo, &map, &err) || bpfrt_map_update(map, &zero, value, 0))
		return r0;
	insns[n++] = (struct bpfrt_insn){ .code = 0xb7, .dst_reg = 6 };
	for (int k = 1; k <= 12; k++)
		insns[n++] = (struct bpfrt_insn){ .code = 0x7b, .dst_reg = 10, .src_reg = 6,
						  .off = (int16_t)(-8 * k) };
	insns[n++] = (struct bpfrt_insn){ .code = 0xbf, .dst_reg = 1, .src_reg = 10 };
	insns[n++] = (struct bpfrt_insn){ .code = 0x07, .dst_reg = 1, .imm = -160 };
	insns[n++] = (struct bpfrt_insn){ .code = 0xb7, .dst_reg = 2, .imm = 64 };
	insns[n++] = (struct bpfrt_insn){ .code = 0x18, .dst_reg = 3, .src_reg = 6 };
	insns[n++] = (struct bpfrt_insn){ 0 };
	insns[n++] = (struct bpfrt_insn){ .code = 0xbf, .dst_reg = 4, .src_reg = 10 };
	insns[n++] = (struct bpfrt_insn){ .code = 0x07, .dst_reg = 4, .imm = -96 };
	insns[n++] = (struct bpfrt_insn){ .code = 0xb7, .dst_reg = 5, .imm = 96 };
	insns[n++] = (struct bpfrt_insn){ .code = 0x85, .imm = 165 };
	insns[n++] = (struct bpfrt_insn){ .code = 0x95 };
	{
		BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &map, .nmaps = 1);
		BPFRT_OPTS(bpfrt_run_opts, ro, .engine = engine ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP,
			   .checked = checked);

		if (bpfrt_prog_new(insns, n, &po, &prog, &err) == 0 &&
		    bpfrt_prog_use_builtin_helpers(prog) == 0 &&
		    CHECK(bpfrt_prog_run(prog, &ro, &err) == 0, "format \"%s\": %s", fmt, err.msg))
			r0 = (int64_t)ro.retval;
	}
	bpfrt_prog_free(prog);
	bpfrt_map_free(map);
	return r0;
}

TEST(helpers_kernel_format_rules)
{
	unsigned tried = 0, bad = 0;

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		int k = kernel_format_ok(formats[i]);

		if (k < 0) {
			printf("  helpers_kernel_format_rules: skipped: the kernel cannot load "
			       "programs here (%s)\n", strerror(errno));
			return;
		}
		tried++;
		for (int e = 0; e < 2; e++) {
			for (int checked = 0; checked < 2; checked++) {
				int64_t r0 = bpfrt_format(formats[i], e, checked);
				bool ok = r0 >= 0;

				if (!CHECK(ok == (k == 1) && (ok || r0 == -EINVAL),
					   "format \"%s\": the kernel %s it, bpfrt returns %lld",
					   formats[i], k ? "accepts" : "rejects", (long long)r0))
					bad++;
			}
		}
	}
	CHECK(tried > 0 && bad == 0, "%u of %u formats judged differently", bad, tried);
}

/* ---- The current task and user memory, from a syscall program in this thread ------------------ */

struct sys_ctx {
	uint64_t pid_tgid, uid_gid, cgid;
	uint64_t src;
	uint32_t comm_size, str_size, raw_size, pad;
	int64_t comm_ret, str_ret, raw_ret;
	char comm[16];
	char str[64];
	char raw[64];
};

static void sys_explain(const void *got, const void *want)
{
	const struct sys_ctx *g = got, *w = want;

	printf("    pid_tgid %#llx/%#llx uid_gid %#llx/%#llx cgroup %llu/%llu\n",
	       (unsigned long long)g->pid_tgid, (unsigned long long)w->pid_tgid,
	       (unsigned long long)g->uid_gid, (unsigned long long)w->uid_gid,
	       (unsigned long long)g->cgid, (unsigned long long)w->cgid);
	printf("    comm size %u: %lld \"%.16s\" / %lld \"%.16s\"%s\n", w->comm_size & 15 ? 0 : 0,
	       (long long)g->comm_ret, g->comm, (long long)w->comm_ret, w->comm,
	       memcmp(g->comm, w->comm, 16) ? " (bytes differ)" : "");
	printf("    str size %u: %lld / %lld%s; raw size %u: %lld / %lld%s\n", w->str_size & 63,
	       (long long)g->str_ret, (long long)w->str_ret,
	       memcmp(g->str, w->str, 64) ? " (bytes differ)" : "", w->raw_size & 63,
	       (long long)g->raw_ret, (long long)w->raw_ret,
	       memcmp(g->raw, w->raw, 64) ? " (bytes differ)" : "");
}

/*
 * BPF_PROG_TEST_RUN runs a syscall program in the calling thread, so the
 * kernel's `current` is this thread and user addresses are this process's:
 * pid/tgid, uid/gid, comm, the cgroup id and probe_read_user(_str) of our
 * own memory must come out the same in both.
 */
TEST(helpers_kernel_current_task)
{
	static const char *const strs[] = { "", "x", "short", "a string of exactly 31 bytes.!!",
					    "a string longer than sixty-three bytes, which is the most "
					    "it reads" };
	long page = sysconf(_SC_PAGESIZE);
	char *mem = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char name[16] = "";
	struct pair p;
	unsigned bad = 0;

	if (mem == MAP_FAILED || !open_pair(&p))
		return;
	mprotect(mem + page, (size_t)page, PROT_NONE);
	prctl(PR_GET_NAME, name);
	prctl(PR_SET_NAME, "helpers-kernel");
	for (int k = 0; k < 200 && p.kobj; k++) {
		struct sys_ctx c, kc;
		int which = (int)(rnd() % 7);

		memset(&c, 0, sizeof(c));
		c.comm_size = (uint32_t)rnd();
		c.str_size = (uint32_t)rnd();
		c.raw_size = (uint32_t)rnd();
		if (which < 5) {	/* a string somewhere in the page, maybe right at its end */
			size_t len = strlen(strs[which]) + 1;
			size_t off = rnd() % 2 ? (size_t)page - len : (size_t)(rnd() % 512);

			memset(mem, 'z', (size_t)page);
			memcpy(mem + off, strs[which], len);
			c.src = (uintptr_t)(mem + off);
		} else if (which == 5) {
			c.src = (uintptr_t)(mem + page - 3);	/* runs into no access */
			memset(mem + page - 3, 'q', 3);
		} else {
			c.src = 0;
		}
		kc = c;
		if (!kernel_run(&p, "sys", NULL, &kc, sizeof(kc)))
			break;
		bad += bpfrt_runs(&p, "sys", NULL, &c, sizeof(c), &kc, sys_explain);
		if (bad > 8)
			break;
	}
	CHECK(bad == 0, "the current task: %u runs differ from the kernel", bad);
	prctl(PR_SET_NAME, name);
	munmap(mem, (size_t)page * 2);
	close_pair(&p);
}

/* ---- trace_printk and trace_vprintk on random formats: the kernel checks them at run time ---- */

struct tp_ctx {
	char fmt[128];
	uint32_t fmt_size, data_len;
	uint64_t data[12];
	int64_t ret_v, ret_p;
};

static void tp_explain(const void *got, const void *want)
{
	const struct tp_ctx *g = got, *w = want;

	printf("    \"%.128s\" (fmt_size %u, data_len %u): vprintk %lld / %lld, printk %lld / %lld\n",
	       w->fmt, w->fmt_size, w->data_len, (long long)g->ret_v, (long long)w->ret_v,
	       (long long)g->ret_p, (long long)w->ret_p);
}

static void discard(void *ctx, const char *line, size_t len)
{
	(void)ctx; (void)line; (void)len;
}

/*
 * A random format: text (now and then a control or UTF-8 byte), %%, and
 * conversions with random flags, widths, lengths and letters, valid or
 * not. Arguments that a conversion would dereference are below 4096, so
 * both sides fail to read them the same way; %ps/%pS/%pB (the kernel
 * prints symbols) are left out, and %p and %pK (hashed) get no width.
 */
static void random_format(struct tp_ctx *c)
{
	static const char *const conv[] = { "d", "i", "u", "x", "X", "c", "s", "p", "pK", "px",
					    "pi4", "pI4", "pi6", "pI6", "pks", "pus", "o", "e",
					    "n", "q", ".3d", "*d", "pZ", "pa", "" };
	static const char *const len[] = { "", "", "", "l", "ll", "h", "lll", "L", "z" };
	size_t n = 0;
	unsigned arg = 0;

	memset(c, 0, sizeof(*c));
	while (n < 100) {
		unsigned r = (unsigned)(rnd() % 10);

		if (r < 4) {
			c->fmt[n++] = (char)(rnd() % 50 == 0 ? (rnd() % 2 ? 0x01 : 0xc3)
							     : 0x20 + rnd() % 95);
			if (c->fmt[n - 1] == '%')
				c->fmt[n - 1] = '#';
		} else if (r == 4) {
			c->fmt[n++] = '%';
			c->fmt[n++] = '%';
		} else if (r < 9) {
			const char *cv = conv[rnd() % (sizeof(conv) / sizeof(conv[0]))];
			bool deref = cv[0] == 's' || (cv[0] == 'p' && cv[1] && cv[1] != 'K' &&
						      cv[1] != 'x');

			/* A hashed pointer's width is the kernel's secret: none for %p, %pK. */
			bool hashed = !strcmp(cv, "p") || !strcmp(cv, "pK");

			c->fmt[n++] = '%';
			for (unsigned f = (unsigned)(rnd() % 4); f; f--)
				c->fmt[n++] = "0+- "[rnd() % 4];
			if (rnd() % 2 && !hashed)
				n += (size_t)sprintf(c->fmt + n, "%u", (unsigned)(rnd() % 40));
			if (cv[0] != 's' && cv[0] != 'p' && cv[0] != 'c')
				n += (size_t)sprintf(c->fmt + n, "%s", len[rnd() % 9]);
			n += (size_t)sprintf(c->fmt + n, "%s", cv);
			if (arg < 12)
				c->data[arg++] = deref ? rnd() % 4096 : rnd() % 3 ? rnd() : rnd() % 300;
		} else {
			break;
		}
	}
	c->fmt[n] = '\0';
	c->fmt_size = rnd() % 8 ? (uint32_t)n + 1 : (uint32_t)(rnd() % 128) + 1;
	c->data_len = rnd() % 6 ? arg * 8 : (uint32_t)(rnd() % 97);
	for (unsigned i = arg; i < 12; i++)
		c->data[i] = rnd() % 4096;
}

TEST(helpers_kernel_trace_formats)
{
	struct pair p;
	unsigned bad = 0, valid = 0;

	if (!open_pair(&p))
		return;
	bpfrt_trace_set_sink(discard, NULL);
	for (int k = 0; k < 2000 && p.kobj; k++) {
		struct tp_ctx c, kc;

		random_format(&c);
		kc = c;
		if (!kernel_run(&p, "tp", "tp_io", &kc, sizeof(kc)))
			break;
		valid += kc.ret_v >= 0;
		bad += bpfrt_runs(&p, "tp", "tp_io", &c, sizeof(c), &kc, tp_explain);
		if (bad > 8)
			break;
	}
	bpfrt_trace_set_sink(NULL, NULL);
	CHECK(bad == 0, "trace formats: %u runs differ from the kernel", bad);
	printf("  helpers_kernel_trace_formats: %u of 2000 formats valid in the kernel\n", valid);
	close_pair(&p);
}

/* ---- Ring buffers: results, positions and the records consumed ---------------------------- */

struct rbk_ctx {
	uint32_t out_size, mode;
	uint8_t data[64];
	int64_t ret[3];
	uint64_t q[5];
};

static void rbk_explain(const void *got, const void *want)
{
	const struct rbk_ctx *g = got, *w = want;

	printf("    size %u mode %u: output %lld/%lld reserve %lld/%lld big %lld/%lld; avail %llu/%llu "
	       "size %llu/%llu cons %llu/%llu prod %llu/%llu bad %llu/%llu\n", w->out_size & 63,
	       w->mode, (long long)g->ret[0], (long long)w->ret[0], (long long)g->ret[1],
	       (long long)w->ret[1], (long long)g->ret[2], (long long)w->ret[2],
	       (unsigned long long)g->q[0], (unsigned long long)w->q[0],
	       (unsigned long long)g->q[1], (unsigned long long)w->q[1],
	       (unsigned long long)g->q[2], (unsigned long long)w->q[2],
	       (unsigned long long)g->q[3], (unsigned long long)w->q[3],
	       (unsigned long long)g->q[4], (unsigned long long)w->q[4]);
}

/* Records as one stream: for each, its size and bytes. */
struct stream {
	uint8_t bytes[32768];
	size_t len;
	unsigned n;
};

static int to_stream(void *ctx, void *data, size_t size)
{
	struct stream *s = ctx;

	if (s->len + 4 + size <= sizeof(s->bytes)) {
		uint32_t sz = (uint32_t)size;

		memcpy(s->bytes + s->len, &sz, 4);
		memcpy(s->bytes + s->len + 4, data, size);
		s->len += 4 + size;
	}
	s->n++;
	return 0;
}

TEST(helpers_kernel_ringbuf)
{
	struct pair p;
	struct ring_buffer *krb = NULL;
	struct bpfrt_map *rb;
	unsigned bad = 0, full = 0;

	if (!open_pair(&p))
		return;
	rb = bpfrt_obj_map_by_name(p.obj, "rbk_rb");
	if (p.kobj) {
		static struct stream ks;

		krb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(p.kobj, "rbk_rb")),
				       to_stream, &ks, NULL);
		for (int k = 0; krb && rb && k < 400; k++) {
			static struct stream bs;
			struct rbk_ctx c, kc;

			memset(&c, 0, sizeof(c));
			c.out_size = (uint32_t)rnd();
			c.mode = (uint32_t)(rnd() % 4);
			for (int i = 0; i < 64; i++)
				c.data[i] = (uint8_t)rnd();
			kc = c;
			if (!kernel_run(&p, "rbk", "rbk_io", &kc, sizeof(kc)))
				break;
			full += kc.ret[0] != 0;
			/* One engine and mode per run: the ring's state carries over. */
			{
				struct bpfrt_prog *prog = bpfrt_obj_prog_by_name(p.obj, "rbk");
				struct bpfrt_map *io = bpfrt_obj_map_by_name(p.obj, "rbk_io");
				uint8_t pkt[64] = { 0 };
				uint32_t zero = 0;
				BPFRT_OPTS(bpfrt_run_opts, o, .engine = k & 1 ? BPFRT_ENGINE_JIT
									    : BPFRT_ENGINE_INTERP,
					   .checked = k & 2, .ctx = pkt, .ctx_len = sizeof(pkt));
				struct bpfrt_error err;

				bpfrt_map_update(io, &zero, &c, 0);
				if (!CHECK(bpfrt_prog_run(prog, &o, &err) == 0, "rbk: %s", err.msg))
					break;
				bpfrt_map_lookup(io, &zero, &c);
				if (!CHECK(!memcmp(&c, &kc, sizeof(c)), "run %d differs from the kernel's", k)) {
					rbk_explain(&c, &kc);
					if (++bad > 5)
						break;
				}
			}
			if (rnd() % 60 == 0) {	/* consume both, compare the records */
				ks.len = bs.len = 0;
				ks.n = bs.n = 0;
				ring_buffer__consume(krb);
				bpfrt_ringbuf_consume(rb, to_stream, &bs);
				CHECK(ks.n == bs.n && ks.len == bs.len && !memcmp(ks.bytes, bs.bytes, ks.len),
				      "run %d: consumed %u records (%zu bytes), the kernel's %u (%zu)", k,
				      bs.n, bs.len, ks.n, ks.len);
			}
		}
		ring_buffer__free(krb);
	}
	CHECK(bad == 0 && (!p.kobj || full > 0), "ring buffers: %u runs differ; the ring was full "
	      "%u times", bad, full);
	close_pair(&p);
}
