/* verifier_corpus.h — the corpus soundness harness: real programs, mutated, verified with their own type and maps, and what is accepted run on both engines against every oracle. */
#ifndef BPFRT_VERIFIER_CORPUS_H
#define BPFRT_VERIFIER_CORPUS_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bpfrt.h"
#include "exec/prog.h"
#include "maps/map.h"
#include "prog_mutate.h"

/*
 * fuzz_verifier_corpus.c (libFuzzer) and tests/unit/test_verifier_fuzz.c
 * (fixed seeds, in `make test`) share this. An input is
 *
 *	byte 0-1   the program (index into the corpus, modulo its size)
 *	byte 2     bits 0-1: mutations - 1; bits 2-4: the packet's length class
 *	byte 3..   the mutations' choices; from the end backwards, the bytes
 *	           XORed over the packet (or context) template
 *
 * A program the verifier accepts is run, from the same map contents each
 * time, with a context of exactly its type's size (XDP: a frame through
 * bpfrt_prog_test_run; skb types: an Ethernet frame, the same way; UNSPEC,
 * tracing, sock_ops, cgroup_sock: the bytes or the struct in one static
 * buffer, read-only except the writable fields, as hooks pass it). Any of
 * these is a finding:
 *
 *  - a checked run on either engine fails (an access outside what the
 *    verifier allowed, a helper refusing its arguments, call depth, a run
 *    longer than VC_RUN_BUDGET instructions of a program without callbacks);
 *  - the unchecked result depends on what the stack held before the run
 *    (the interpreter's result changes when the stack under it is painted
 *    differently: an uninitialised read);
 *  - the engines disagree (result, output packet, maps), where the result
 *    does not depend on addresses (a second checked run at another stack
 *    depth gives the same; pointers may be leaked to r0 or maps);
 *  - the verifier rejects without a message.
 */

#define VC_VERIFY_BUDGET 200000u	/* processed instructions per verification */
#define VC_RUN_BUDGET 1000000u		/* instructions per checked run */
#define VC_MAX_INSNS 8192u		/* mutated programs never grow past this */
#define VC_PAINT 32768u			/* bytes of stack painted under a run */
#define VC_HASH_LIMIT (4u << 20)	/* maps hashed for comparisons up to this size */

struct vc_prog {
	char name[200];			/* object/section */
	enum bpfrt_prog_type type;
	const struct bpfrt_insn *insns;	/* the object's, relocated */
	size_t n;
	struct bpfrt_map **maps;	/* the loaded program's map table */
	size_t nmaps;
	size_t obj;			/* index into vc_corpus.objs */
};

struct vc_snap {
	struct bpfrt_map *map;
	uint8_t *copy;			/* the block as loaded */
	size_t size;
};

struct vc_obj {
	struct bpfrt_obj *obj;
	char path[1024];
	struct vc_snap *snaps;
	size_t nsnaps;
	size_t bytes;			/* of all snapshots */
};

struct vc_stats {
	uint64_t inputs, invalid, rejected, accepted, runs, addr_dependent, not_runnable,
		 over_budget, bad_input, no_helper;
};

struct vc_corpus {
	struct vc_prog *progs;
	size_t nprogs;
	struct vc_obj *objs;
	size_t nobjs;
	struct bpfrt_prog *trivial[BPFRT_PROG_NETFILTER + 1];	/* `return 0`, per type: is an input valid? */
	struct bpfrt_prog *painter[BPFRT_PROG_NETFILTER + 1][2][4];	/* [type][engine][pattern*2 + leaf] */
	struct vc_stats st;
	/* The last input: its program (if bpfrt_prog_new took it) and the verdict. */
	const struct vc_prog *last_prog;
	const struct bpfrt_insn *last_insns;
	size_t last_n;
	bool last_valid, last_accepted;
	char last_msg[256];		/* bpfrt's reason for a rejection */
	char last_mut[1024];		/* the mutations */
};

/* A finding: what went wrong and the program, for the person who reads it. */
struct vc_finding {
	char text[16384];
};

static void vc_say(struct vc_finding *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vc_say(struct vc_finding *f, const char *fmt, ...)
{
	size_t used = strlen(f->text);
	va_list ap;

	if (used + 1 >= sizeof(f->text))
		return;
	va_start(ap, fmt);
	vsnprintf(f->text + used, sizeof(f->text) - used, fmt, ap);
	va_end(ap);
}

/* ---- Loading the corpus ------------------------------------------------ */

static enum bpfrt_prog_type vc_type_by_name(const char *name)
{
	for (int t = 0; t <= BPFRT_PROG_NETFILTER; t++)
		if (!strcmp(bpfrt_prog_type_name((enum bpfrt_prog_type)t), name))
			return (enum bpfrt_prog_type)t;
	return BPFRT_PROG_UNSPEC;
}

/* The object at path, opened (not loaded) once. */
static long vc_obj_get(struct vc_corpus *c, const char *path)
{
	struct vc_obj *v;
	struct bpfrt_error err;

	for (size_t i = 0; i < c->nobjs; i++)
		if (!strcmp(c->objs[i].path, path))
			return (long)i;
	v = realloc(c->objs, (c->nobjs + 1) * sizeof(*v));
	if (!v)
		return -1;
	c->objs = v;
	v = &c->objs[c->nobjs];
	memset(v, 0, sizeof(*v));
	snprintf(v->path, sizeof(v->path), "%s", path);
	if (bpfrt_obj_open(path, NULL, &v->obj, &err))
		return -1;
	return (long)c->nobjs++;
}

static int vc_snapshot(struct vc_obj *o)
{
	size_t n = bpfrt_obj_map_count(o->obj);

	o->snaps = calloc(n ? n : 1, sizeof(*o->snaps));
	if (!o->snaps)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct bpfrt_map *m = bpfrt_obj_map_at(o->obj, i, NULL);
		struct vc_snap *s = &o->snaps[o->nsnaps];

		if (!m)
			continue;
		s->map = m;
		s->size = ((const struct map_block *)(const void *)m->base)->size;
		s->copy = malloc(s->size);
		if (!s->copy)
			return -ENOMEM;
		memcpy(s->copy, m->base, s->size);
		o->bytes += s->size;
		o->nsnaps++;
	}
	return 0;
}

/* Every map of the object back as it was loaded. */
static void vc_restore(const struct vc_obj *o)
{
	for (size_t i = 0; i < o->nsnaps; i++)
		memcpy(o->snaps[i].map->base, o->snaps[i].copy, o->snaps[i].size);
}

static __attribute__((unused)) void vc_free(struct vc_corpus *c)
{
	for (size_t i = 0; i < c->nobjs; i++) {
		for (size_t k = 0; k < c->objs[i].nsnaps; k++)
			free(c->objs[i].snaps[k].copy);
		free(c->objs[i].snaps);
		bpfrt_obj_close(c->objs[i].obj);
	}
	for (size_t t = 0; t <= BPFRT_PROG_NETFILTER; t++) {
		bpfrt_prog_free(c->trivial[t]);
		for (int e = 0; e < 2; e++)
			for (int k = 0; k < 4; k++)
				bpfrt_prog_free(c->painter[t][e][k]);
	}
	free(c->objs);
	free(c->progs);
	memset(c, 0, sizeof(*c));
}

static uint64_t vc_fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* ---- Runs ------------------------------------------------------------------ */

/* Helpers whose results change from call to call, made the same for every run. */
static uint64_t vc_clock, vc_rand;

static uint64_t vc_time(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
			struct bpfrt_run *run)
{
	(void)a; (void)b; (void)c; (void)d; (void)e; (void)run;
	return vc_clock += 1000;
}

static uint64_t vc_prandom(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
			   struct bpfrt_run *run)
{
	(void)a; (void)b; (void)c; (void)d; (void)e; (void)run;
	vc_rand ^= vc_rand << 13;
	vc_rand ^= vc_rand >> 7;
	vc_rand ^= vc_rand << 17;
	return (uint32_t)vc_rand;
}

static void vc_quiet(void *ctx, const char *line, size_t len)
{
	(void)ctx; (void)line; (void)len;
}

/* What one run gave: compared between runs. */
struct vc_result {
	int ret;
	uint64_t r0;
	uint64_t out;			/* hash of the output packet or context */
	uint64_t maps;			/* hash of the program's maps afterwards (0: not hashed) */
	char msg[256];
};

struct vc_job {
	const struct vc_corpus *c;
	const struct vc_prog *vp;
	struct bpfrt_prog *prog;
	const uint8_t *in;		/* the packet or context */
	uint32_t in_len;
	enum bpfrt_engine engine;
	bool checked;
};

static size_t vc_ctx_size(enum bpfrt_prog_type type)
{
	switch (type) {
	case BPFRT_PROG_KPROBE:		return 168;
	case BPFRT_PROG_PERF_EVENT:	return 184;
	case BPFRT_PROG_TRACEPOINT:	return 2048;
	case BPFRT_PROG_RAW_TRACEPOINT:	return 96;
	case BPFRT_PROG_SOCK_OPS:	return 224;
	case BPFRT_PROG_CGROUP_SOCK:	return 80;
	default:			return 0;
	}
}

static bool vc_is_skb(enum bpfrt_prog_type t)
{
	return t == BPFRT_PROG_SCHED_CLS || t == BPFRT_PROG_SCHED_ACT ||
	       t == BPFRT_PROG_SOCKET_FILTER || t == BPFRT_PROG_CGROUP_SKB ||
	       t == BPFRT_PROG_LWT_IN || t == BPFRT_PROG_LWT_OUT || t == BPFRT_PROG_LWT_XMIT;
}

static bool vc_runnable(enum bpfrt_prog_type t)
{
	return t == BPFRT_PROG_XDP || vc_is_skb(t) || t == BPFRT_PROG_UNSPEC ||
	       vc_ctx_size(t) != 0;
}

/* One run of the job; the maps are reset first. */
static void vc_run(const struct vc_job *j, struct vc_result *r)
{
	const struct vc_prog *vp = j->vp;
	struct bpfrt_error err;
	static uint8_t out[BPFRT_XDP_FRAME_SIZE];
	enum bpfrt_prog_type t = vp->type;

	if (vp->obj != SIZE_MAX)
		vc_restore(&j->c->objs[vp->obj]);
	vc_clock = 1000000000ull;
	vc_rand = 0x9e3779b97f4a7c15ull;
	memset(r, 0, sizeof(*r));
	if (!(t == BPFRT_PROG_XDP || vc_is_skb(t))) {
		/*
		 * Contexts without a packet, in one static buffer (its address the
		 * same in every run, so a pointer to it left in the result does
		 * not differ): UNSPEC's writable bytes (r2 = their number), or the
		 * struct as a read-only region but for its writable fields, as
		 * hooks give it (sock_ops and cgroup_sock are not test-runnable).
		 */
		static uint8_t ctx[2048];
		struct bpfrt_region rg[3];
		size_t nr = 0, size = t == BPFRT_PROG_UNSPEC ? j->in_len : vc_ctx_size(t);

		memcpy(ctx, j->in, size);
		if (t == BPFRT_PROG_SOCK_OPS) {
			rg[nr++] = (struct bpfrt_region){ ctx + 4, 16, true };	/* reply, replylong */
			rg[nr++] = (struct bpfrt_region){ ctx + 164, 4, true };	/* sk_txhash */
		} else if (t == BPFRT_PROG_CGROUP_SOCK) {
			rg[nr++] = (struct bpfrt_region){ ctx, 4, true };	/* bound_dev_if */
			rg[nr++] = (struct bpfrt_region){ ctx + 16, 8, true };	/* mark, priority */
		}
		rg[nr++] = (struct bpfrt_region){ ctx, size, false };
		BPFRT_OPTS(bpfrt_run_opts, ro, .engine = j->engine, .checked = j->checked,
			   .ctx = ctx, .ctx_len = t == BPFRT_PROG_UNSPEC ? size : 0,
			   .regions = t == BPFRT_PROG_UNSPEC ? NULL : rg,
			   .nregions = t == BPFRT_PROG_UNSPEC ? 0 : nr, .budget = VC_RUN_BUDGET);
		r->ret = bpfrt_prog_run(j->prog, &ro, &err);
		r->r0 = ro.retval;
		r->out = vc_fnv(0xcbf29ce484222325ull, ctx, size);
	} else {
		BPFRT_OPTS(bpfrt_test_run_opts, o, .engine = j->engine, .checked = j->checked,
			   .budget = VC_RUN_BUDGET);
		o.data_in = j->in;
		o.data_size_in = j->in_len;
		o.data_out = out;
		o.data_size_out = sizeof(out);
		r->ret = bpfrt_prog_test_run(j->prog, &o, &err);
		r->r0 = o.retval;
		if (o.data_out)
			r->out = vc_fnv(vc_fnv(0xcbf29ce484222325ull, &o.data_size_out,
					       sizeof(o.data_size_out)), out,
					o.data_size_out < sizeof(out) ? o.data_size_out : sizeof(out));
	}
	if (r->ret)
		snprintf(r->msg, sizeof(r->msg), "%s", err.msg);
	if (vp->obj == SIZE_MAX || j->c->objs[vp->obj].bytes <= VC_HASH_LIMIT) {
		r->maps = 0xcbf29ce484222325ull;
		for (size_t i = 0; i < vp->nmaps; i++) {
			const struct bpfrt_map *m = vp->maps[i];

			if (m->type == BPFRT_MAP_PERF_EVENT_ARRAY || m->type == BPFRT_MAP_PROG_ARRAY ||
			    m->type == BPFRT_MAP_ARRAY_OF_MAPS || m->type == BPFRT_MAP_HASH_OF_MAPS)
				continue;	/* their slots are process-local pointers */
			r->maps = vc_fnv(r->maps, m->base,
					 ((const struct map_block *)(const void *)m->base)->size);
		}
	}
}

/*
 * Is ASan's fake stack on (use-after-return detection, `make asan`)? Then
 * each call's frame comes from a pool, not from where the stack pointer is:
 * runs cannot be moved on the stack or painted, and only faults are judged.
 * The fuzzers turn it off.
 */
extern void *__asan_get_current_fake_stack(void) __attribute__((weak));
static bool vc_fake_stack(void)
{
	return __asan_get_current_fake_stack && __asan_get_current_fake_stack();
}

/*
 * The run, pad bytes deeper on the stack; with pad, also with the heap and
 * low memory where the last run's context and packet were taken, so that
 * they land elsewhere: a result that holds an address then changes.
 */
static __attribute__((noinline)) void vc_run_at(size_t pad, const struct vc_job *j,
						struct vc_result *r)
{
	volatile uint8_t *p = __builtin_alloca(pad + 16);
	void *held[3] = { NULL, NULL, MAP_FAILED };

	p[0] = 0;
	if (pad) {
		held[0] = malloc(j->in_len ? j->in_len : 1);
		held[1] = malloc(vc_ctx_size(j->vp->type) + 1);
		held[2] = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	}
	vc_run(j, r);
	free(held[0]);
	free(held[1]);
	if (held[2] != MAP_FAILED)
		munmap(held[2], 1 << 16);
	__asm__ volatile("" : : "r"(p) : "memory");
}

/*
 * Two painters per pattern, both run unchecked the same way: one that calls
 * a helper (so it runs as a whole call stack, RUN_STACK_SIZE bytes, where
 * programs that call anything get theirs), then a leaf (which the JIT runs
 * in a 512-byte frame on the native stack, where leaf programs get theirs;
 * painting more there would overwrite the caller's frames).
 */
static void vc_paint_one(struct vc_corpus *c, const struct vc_job *j, int pattern, int leaf)
{
	struct bpfrt_prog **pp = &c->painter[j->vp->type][j->engine][pattern * 2 + leaf];
	struct bpfrt_error err;
	struct vc_result r;

	if (!*pp) {
		uint64_t v = pattern ? 0x5a5a5a5a5a5a5a5aull : 0xa5a5a5a5a5a5a5a5ull;
		int32_t size = leaf ? (int32_t)BPFRT_STACK_SIZE : (int32_t)RUN_STACK_SIZE;
		const struct bpfrt_insn insns[] = {
			{ .code = 0x85, .imm = 7 },				/* call get_prandom_u32 */
			{ .code = 0xbf, .dst_reg = 1, .src_reg = 10 },		/* r1 = r10 */
			{ .code = 0x07, .dst_reg = 1, .imm = -size },
			{ .code = 0x18, .dst_reg = 2, .imm = (int32_t)v },	/* r2 = the paint */
			{ .imm = (int32_t)(v >> 32) },
			{ .code = 0x7b, .dst_reg = 1, .src_reg = 2 },		/* *(u64 *)r1 = r2 */
			{ .code = 0x07, .dst_reg = 1, .imm = 8 },
			{ .code = 0x5d, .dst_reg = 1, .src_reg = 10, .off = -3 },	/* to the top */
			{ .code = 0xb7 },
			{ .code = 0x95 },
		};
		BPFRT_OPTS(bpfrt_prog_opts, po, .type = j->vp->type);
		if (bpfrt_prog_new(insns + leaf, sizeof(insns) / sizeof(insns[0]) - (size_t)leaf, &po,
				   pp, &err))
			return;
		bpfrt_prog_use_builtin_helpers(*pp);
	}
	struct vc_prog pv = *j->vp;
	struct vc_job pj = *j;

	pv.obj = SIZE_MAX;
	pv.nmaps = 0;
	pj.vp = &pv;
	pj.prog = *pp;
	pj.checked = false;
	vc_run_at(0, &pj, &r);
}

/*
 * Fill the stack the next unchecked run of the job's engine and type will
 * get (the same call path, so the same frame, on the real stack or ASan's
 * fake one) with paint. What a run then reads without writing it first is
 * paint, where calls in between have not overwritten it.
 */
static void vc_paint(struct vc_corpus *c, const struct vc_job *j, int pattern)
{
	vc_paint_one(c, j, pattern, 0);
	vc_paint_one(c, j, pattern, 1);
}

static bool vc_same(const struct vc_result *a, const struct vc_result *b)
{
	return a->ret == b->ret && a->r0 == b->r0 && a->out == b->out && a->maps == b->maps;
}

static void vc_say_result(struct vc_finding *f, const char *what, const struct vc_result *r)
{
	vc_say(f, "  %-22s ret %d r0 %#llx out %016llx maps %016llx%s%s\n", what, r->ret,
	       (unsigned long long)r->r0, (unsigned long long)r->out,
	       (unsigned long long)r->maps, r->ret ? ": " : "", r->ret ? r->msg : "");
}

/*
 * Load the corpus of dir (kernel_verdicts.tsv and the objects): each row's
 * program, as the type the kernel loaded it as, in a loaded object. Rows
 * whose object or program bpfrt cannot load are left out. 0 or -errno.
 */
static int vc_load(struct vc_corpus *c, const char *dir)
{
	char path[1024], line[4096];
	FILE *f;

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "%s/kernel_verdicts.tsv", dir);
	f = fopen(path, "r");
	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		char project[32], object[64], section[96], type[32];
		struct vc_prog *v;
		long o;

		if (sscanf(line, "%31[^\t]\t%63[^\t]\t%95[^\t]\t%31[^\t]", project, object,
			   section, type) != 4 || !strcmp(project, "project"))
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", dir, project, object);
		if ((o = vc_obj_get(c, path)) < 0)
			continue;
		struct bpfrt_obj *obj = c->objs[o].obj;
		for (size_t i = 0; i < bpfrt_obj_prog_count(obj); i++) {
			struct bpfrt_obj_prog_info info;

			bpfrt_obj_prog_at(obj, i, &info);
			if (strcmp(info.section, section))
				continue;
			v = realloc(c->progs, (c->nprogs + 1) * sizeof(*v));
			if (!v)
				break;
			c->progs = v;
			v = &c->progs[c->nprogs++];
			memset(v, 0, sizeof(*v));
			snprintf(v->name, sizeof(v->name), "%s/%s/%s", project, object, section);
			v->type = vc_type_by_name(type);
			v->obj = (size_t)o;
			/* n holds the program's index in its object until the objects are loaded */
			v->n = i;
			bpfrt_obj_prog_set_type(obj, i, v->type);
			break;
		}
	}
	fclose(f);
	/* Load each object with the programs that can be loaded; keep the rows that loaded. */
	for (size_t k = 0; k < c->nobjs; k++) {
		struct bpfrt_obj *obj = c->objs[k].obj;
		struct bpfrt_error err;

		for (size_t i = 0; i < bpfrt_obj_prog_count(obj); i++) {
			struct bpfrt_obj_prog_info info;

			bpfrt_obj_prog_at(obj, i, &info);
			if (info.unsupported)
				bpfrt_obj_prog_set_autoload(obj, i, false);
		}
		if (bpfrt_obj_load(obj, &err) || vc_snapshot(&c->objs[k]))
			c->objs[k].nsnaps = 0, c->objs[k].bytes = (size_t)-1;
	}
	size_t kept = 0;
	for (size_t k = 0; k < c->nprogs; k++) {
		struct vc_prog *v = &c->progs[k];
		struct bpfrt_obj_prog_info info;
		struct bpfrt_prog *p;

		if (c->objs[v->obj].bytes == (size_t)-1)
			continue;
		p = bpfrt_obj_prog_at(c->objs[v->obj].obj, v->n, &info);
		if (!p || !info.insns || info.insn_cnt > VC_MAX_INSNS / 2)
			continue;
		v->insns = info.insns;
		v->n = info.insn_cnt;
		v->maps = p->maps;
		v->nmaps = p->nmaps;
		c->progs[kept++] = *v;
	}
	c->nprogs = kept;
	bpfrt_trace_set_sink(vc_quiet, NULL);
	return c->nprogs ? 0 : -ENOENT;
}

/* ---- One input ---------------------------------------------------------- */

/* The packet (or context) the runs get: a template XORed with the input's last bytes. */
static uint32_t vc_input(enum bpfrt_prog_type t, const uint8_t *d, size_t size, uint8_t cls,
			 uint8_t *buf, size_t cap)
{
	static const uint32_t lens[8] = { 14, 34, 42, 54, 60, 98, 256, 1514 };
	static const uint8_t tmpl[54] = {
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,		/* Ethernet, IPv4 */
		0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,	/* IPv4, TCP */
		0x04, 0xd2, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
	};
	uint32_t len = (uint32_t)vc_ctx_size(t);

	if (!len)
		len = t == BPFRT_PROG_UNSPEC ? 64 : lens[cls & 7];
	if (len > cap)
		len = (uint32_t)cap;
	memset(buf, 0, len);
	if (t == BPFRT_PROG_XDP || vc_is_skb(t)) {
		memcpy(buf, tmpl, len < sizeof(tmpl) ? len : sizeof(tmpl));
		if (len < 34)	/* too short for IPv4: the test run wants a whole header */
			buf[12] = 0x88, buf[13] = 0xb5;
	}
	for (size_t i = 0; i < len && i + 3 < size; i++)
		buf[i] ^= d[size - 1 - i];
	return len;
}

static void vc_say_prog(struct vc_finding *f, const struct bpfrt_insn *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char buf[128];
		int k = bpfrt_disasm_insn(p, n, i, buf, sizeof(buf));

		vc_say(f, "%4zu: %s\n", i, buf);
		if (k == 2)
			i++;
	}
}

/* Does the program call a helper that calls back (its runs may be long)? */
static bool vc_calls_back(const struct bpfrt_insn *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].code == 0x85 && p[i].src_reg == 0 && prog_helper_calls_back((uint32_t)p[i].imm))
			return true;
	return false;
}

/* Is the input one the type's test run takes (a trivial program of the type runs on it)? */
static bool vc_input_ok(struct vc_corpus *c, const struct vc_prog *vp, const uint8_t *in,
			uint32_t in_len)
{
	static const struct bpfrt_insn ret0[] = { { .code = 0xb7 }, { .code = 0x95 } };
	struct bpfrt_prog **t = &c->trivial[vp->type];
	struct bpfrt_error err;
	struct vc_result r;

	if (!*t) {
		BPFRT_OPTS(bpfrt_prog_opts, po, .type = vp->type);
		if (bpfrt_prog_new(ret0, 2, &po, t, &err))
			return false;
	}
	struct vc_prog tv = *vp;
	struct vc_job j = { c, &tv, *t, in, in_len, BPFRT_ENGINE_INTERP, true };

	tv.obj = SIZE_MAX;
	tv.nmaps = 0;
	vc_run(&j, &r);
	return r.ret == 0;
}

/*
 * Run prog (accepted by the verifier, of vp's type with vp's maps) on the
 * input, checked and unchecked on both engines, and judge the results. shift
 * (0..15) moves the address-dependence run deeper by a varying amount (1,088 bytes or
 * more: the engines align their stacks to 64).
 * True, with f saying why, for a finding.
 */
static bool vc_judge(struct vc_corpus *c, const struct vc_prog *vp, struct bpfrt_prog *prog,
		     const uint8_t *in, uint32_t in_len, unsigned shift, struct vc_finding *f)
{
	const struct bpfrt_insn *p = bpfrt_prog_insns(prog);
	size_t n = bpfrt_prog_insn_cnt(prog);
	struct vc_result ci, cj, ci2, ua, ub, uj;
	bool found = false, unchecked = false;

	if (!vc_runnable(vp->type)) {
		c->st.not_runnable++;
		return false;
	}
	if (!vc_input_ok(c, vp, in, in_len)) {
		c->st.bad_input++;
		return false;
	}
	bpfrt_prog_use_builtin_helpers(prog);
	static const uint32_t clocks[] = { 5, 118, 125, 160, 208 };
	for (size_t k = 0; k < sizeof(clocks) / sizeof(clocks[0]); k++)
		bpfrt_prog_set_helper(prog, clocks[k], "fuzz_clock", vc_time);
	bpfrt_prog_set_helper(prog, 7, "fuzz_prandom", vc_prandom);

	struct vc_job j = { c, vp, prog, in, in_len, BPFRT_ENGINE_INTERP, true };
	bool long_ok = vc_calls_back(p, n);

	c->st.runs++;
	vc_run_at(0, &j, &ci);
	j.engine = BPFRT_ENGINE_JIT;
	vc_run_at(0, &j, &cj);
	j.engine = BPFRT_ENGINE_INTERP;
	vc_run_at(1088 + 64 * (shift % 3), &j, &ci2);	/* the stack is 64-aligned */
	for (int k = 0; k < 2; k++) {
		const struct vc_result *r = k ? &cj : &ci;

		if (r->ret == -ELOOP && long_ok) {
			c->st.over_budget++;
			return false;
		}
		if (r->ret == -ENOENT && strstr(r->msg, "which is not available")) {
			c->st.no_helper++;	/* the verifier knows it, bpfrt does not run it */
			return false;
		}
		if (r->ret && !found) {
			vc_say(f, "accepted, but the checked %s run failed\n",
			       k ? "JIT" : "interpreter");
			found = true;
		}
	}
	memset(&ua, 0, sizeof(ua));
	memset(&ub, 0, sizeof(ub));
	memset(&uj, 0, sizeof(uj));
	if (!found) {
		/* unchecked: the stack holds what was there before (painted deeper down) */
		j.checked = false;
		unchecked = true;
		/* each painter made and run once first: the paired runs then allocate alike */
		for (int e = 0; e < 2; e++) {
			struct vc_job pj = j;

			pj.engine = (enum bpfrt_engine)e;
			vc_paint(c, &pj, 0);
			vc_paint(c, &pj, 1);
		}
		vc_paint(c, &j, 0);
		vc_run_at(0, &j, &ua);
		vc_paint(c, &j, 1);
		vc_run_at(0, &j, &ub);
		j.engine = BPFRT_ENGINE_JIT;
		vc_paint(c, &j, 0);
		vc_run_at(0, &j, &uj);
		bool addr = !vc_same(&ci, &ci2) || vc_fake_stack();

		c->st.addr_dependent += addr;
		if (addr) {
			/* a pointer reached the result: runs differ anyway (the ctx moves too) */
		} else if (!vc_same(&ua, &ub)) {
			vc_say(f, "accepted, but the unchecked result depends on what the stack held "
			       "before the run (an uninitialised read)\n");
			found = true;
		} else if (!vc_same(&ci, &cj)) {
			vc_say(f, "accepted, but the checked runs of the two engines disagree\n");
			found = true;
		} else if (!vc_same(&ci, &ua) || !vc_same(&ci, &uj)) {
			vc_say(f, "accepted, but unchecked runs (stack not zeroed) differ from checked "
			       "ones (stack zeroed): an uninitialised read, or the modes disagree\n");
			found = true;
		}
	}
	if (found) {
		vc_say_result(f, "checked interpreter", &ci);
		vc_say_result(f, "checked JIT", &cj);
		vc_say_result(f, "checked interp, deeper", &ci2);
		if (unchecked) {
			vc_say_result(f, "unchecked interp 0xa5", &ua);
			vc_say_result(f, "unchecked interp 0x5a", &ub);
			vc_say_result(f, "unchecked JIT 0xa5", &uj);
		}
	}
	return found;
}

/*
 * Mutate, verify, run, judge one input. Returns true (f filled in) for a
 * finding. Stats go to c->st.
 */
static bool vc_one(struct vc_corpus *c, const uint8_t *d, size_t size, struct vc_finding *f)
{
	static struct bpfrt_insn p[VC_MAX_INSNS];
	static uint8_t in[BPFRT_XDP_MAX_DATA];
	char log[1024] = "";
	struct mbytes b = { d, size, 3 };
	struct bpfrt_prog *prog = NULL;
	struct bpfrt_error err;
	uint32_t in_len = 0;
	bool found = false;

	f->text[0] = '\0';
	if (size < 3 || !c->nprogs)
		return false;
	c->st.inputs++;
	const struct vc_prog *vp = &c->progs[(d[0] | d[1] << 8) % c->nprogs];
	size_t n = vp->n;
	memcpy(p, vp->insns, n * sizeof(*p));
	for (unsigned k = 0, nm = 1 + (d[2] & 3); k < nm && b.i < b.n; k++)
		mutate_once(p, &n, VC_MAX_INSNS, vp->nmaps, &b, log, sizeof(log));

	c->last_prog = vp;
	c->last_insns = p;
	c->last_n = n;
	c->last_valid = c->last_accepted = false;
	BPFRT_OPTS(bpfrt_prog_opts, po, .maps = vp->maps, .nmaps = vp->nmaps, .type = vp->type);
	if (bpfrt_prog_new(p, n, &po, &prog, &err)) {
		c->st.invalid++;
		return false;
	}
	c->last_valid = true;
	snprintf(c->last_mut, sizeof(c->last_mut), "%s", log[0] ? log : "none");
	BPFRT_OPTS(bpfrt_verify_opts, vo, .type = vp->type, .max_insns = VC_VERIFY_BUDGET,
		   .ctx_size = vp->type == BPFRT_PROG_UNSPEC ? 64 : 0);
	memset(&err, 0, sizeof(err));
	c->last_accepted = bpfrt_prog_verify(prog, &vo, &err) == 0;
	snprintf(c->last_msg, sizeof(c->last_msg), "%s", c->last_accepted ? "" : err.msg);
	if (!c->last_accepted) {
		c->st.rejected++;
		if (!err.msg[0]) {
			vc_say(f, "%s (%s): rejected without a message\n", vp->name, log);
			found = true;
		}
		goto out;
	}
	c->st.accepted++;
	in_len = vc_input(vp->type, d, size, (uint8_t)(d[2] >> 2), in, sizeof(in));
	found = vc_judge(c, vp, prog, in, in_len, (d[2] >> 4) & 15, f);
out:
	if (found) {
		vc_say(f, "program: %s\nmutations: %s\ntype %s, input of %u bytes:", vp->name, log[0] ? log : "none",
		       bpfrt_prog_type_name(vp->type), in_len);
		for (uint32_t k = 0; k < in_len && k < 128; k++)
			vc_say(f, "%s%02x", k % 32 ? "" : "\n  ", in[k]);
		vc_say(f, "\n");
		vc_say_prog(f, p, n);
	}
	bpfrt_prog_free(prog);
	return found;
}

#endif /* BPFRT_VERIFIER_CORPUS_H */
