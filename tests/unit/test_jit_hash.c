/* test_jit_hash.c — the JIT's direct calls of hash-map operations and hash.c's key-size copies: every engine agrees, with a model, under threads and across processes. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpfrt.h"
#include "maps/htab.h"
#include "t.h"

#define I(c, d, s, o, i) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) }
#define MOV(d, k)	I(0xb7, d, 0, 0, k)
#define MOVR(d, s)	I(0xbf, d, s, 0, 0)
#define ADDI(d, k)	I(0x07, d, 0, 0, k)
#define LDXW(d, s, o)	I(0x61, d, s, o, 0)
#define LDXDW(d, s, o)	I(0x79, d, s, o, 0)
#define STXDW(d, s, o)	I(0x7b, d, s, o, 0)
#define XADDDW(d, s, o)	I(0xdb, d, s, o, 0)
#define JEQI(d, k, o)	I(0x15, d, 0, o, k)
#define CALL(id)	I(0x85, 0, 0, 0, id)
#define EXIT		I(0x95, 0, 0, 0, 0)
#define LDDW(d, src, lo, hi) I(0x18, d, src, 0, lo), I(0, 0, 0, 0, hi)
#define MAP0		LDDW(1, 5, 0, 0)	/* r1 = the program's map 0 */
#define R1_R9		MOVR(1, 9), MOVR(1, 9)	/* the same two slots, the map from r9 */

/*
 * ctx: u32 op (0 lookup, 1 update, 2 delete), u32 flags, the value (32
 * bytes) at 8, the key (32 bytes) at 40. A lookup adds 1 to the value's
 * first u64 in place and returns it (-1 if missed); update and delete return
 * the helper's result.
 */
struct op_ctx {
	uint32_t op, flags;
	uint8_t value[32];
	uint8_t key[32];
};

#define OPS_BODY(MAPREG) \
	MOVR(6, 1), \
	LDXW(7, 6, 0), \
	MOVR(2, 6), \
	ADDI(2, 40), \
	JEQI(7, 1, 12), \
	JEQI(7, 2, 18), \
	MAPREG,			/* 6: lookup */ \
	CALL(1), \
	JEQI(0, 0, 5), \
	LDXDW(1, 0, 0), \
	ADDI(1, 1), \
	STXDW(0, 1, 0), \
	MOVR(0, 1), \
	EXIT, \
	MOV(0, -1),		/* 15: missed */ \
	EXIT, \
	MOVR(3, 6),		/* 17: update */ \
	ADDI(3, 8), \
	LDXW(4, 6, 4), \
	MAPREG, \
	CALL(2), \
	EXIT, \
	MAPREG,			/* 24: delete */ \
	CALL(3), \
	EXIT

/* The map named by an lddw in the block of each call: the JIT knows it. */
static const struct bpfrt_insn ops_known[] = { MOV(9, 0), MOV(9, 0), OPS_BODY(MAP0) };
/* The map in r9 since the entry: the JIT does not know which map a call gets. */
static const struct bpfrt_insn ops_unknown[] = { LDDW(9, 5, 0, 0), OPS_BODY(R1_R9) };
#define NOPS (sizeof(ops_known) / sizeof(ops_known[0]))

_Static_assert(sizeof(ops_known) == sizeof(ops_unknown), "same layout");

static struct bpfrt_map *mkmap(enum bpfrt_map_type type, uint32_t ks, uint32_t vs,
			       uint32_t n)
{
	BPFRT_OPTS(bpfrt_map_opts, o, .type = type, .key_size = ks, .value_size = vs,
		   .max_entries = n);
	struct bpfrt_map *m = NULL;
	struct bpfrt_error err;

	CHECK(bpfrt_map_create(&o, &m, &err) == 0, "map type %d ks %u: %s", type, ks, err.msg);
	return m;
}

static struct bpfrt_prog *mkprog(const struct bpfrt_insn *insns, size_t n,
				 struct bpfrt_map *m)
{
	BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &m, .nmaps = 1);
	struct bpfrt_prog *p = NULL;
	struct bpfrt_error err;

	if (!CHECK(bpfrt_prog_new(insns, n, &po, &p, &err) == 0, "prog: %s", err.msg))
		return NULL;
	bpfrt_prog_use_builtin_helpers(p);
	return p;
}

static int run(struct bpfrt_prog *p, bool jit, bool checked, void *ctx, size_t len,
	       uint64_t *r0)
{
	BPFRT_OPTS(bpfrt_run_opts, ro, .checked = checked, .ctx = ctx, .ctx_len = len,
		   .engine = jit ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP);
	struct bpfrt_error err;
	int ret = bpfrt_prog_run(p, &ro, &err);

	*r0 = ro.retval;
	if (ret)
		CHECK(0, "run (%s %s): %s", jit ? "jit" : "interp",
		      checked ? "checked" : "unchecked", err.msg);
	return ret;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
	return *s;
}

/*
 * Key number k as ks bytes: keys differ only in their first and last byte,
 * so a compare that skips any word of the key finds the wrong element.
 */
static void make_key(uint8_t *key, uint32_t ks, uint32_t k)
{
	memset(key, 0x5a, ks);
	key[0] = (uint8_t)(k >> 8 ^ 0x5a);
	key[ks - 1] = (uint8_t)k;
}

static bool has_bytes(const void *hay, size_t n, const void *needle, size_t len)
{
	for (size_t i = 0; i + len <= n; i++)
		if (!memcmp((const uint8_t *)hay + i, needle, len))
			return true;
	return false;
}

static bool code_has_addr(struct bpfrt_prog *p, bool checked, const void *fn)
{
	const void *code;
	size_t len;
	uint64_t a = (uintptr_t)fn;
	struct bpfrt_error err;

	return !bpfrt_prog_jited(p, checked, &code, &len, NULL, &err) &&
	       has_bytes(code, len, &a, sizeof(a));
}

/* ---- Every engine and mode, and a model --------------------------------------------------- */

enum { COMBOS = 8 };	/* {known, unknown map} x {interp, jit} x {checked, unchecked} */
#define KEYS_MAX 64

struct model {
	bool present[KEYS_MAX];
	uint64_t val[KEYS_MAX];
	uint32_t n;
};

/* The kernel's answer for one op on a map that never evicts (first u64 of the value only). */
static int64_t model_op(struct model *md, uint32_t max, uint32_t op, uint32_t flags,
			uint32_t k, uint64_t v)
{
	switch (op) {
	case 0:
		return md->present[k] ? (int64_t)++md->val[k] : -1;
	case 1:
		if (flags > 2)
			return -EINVAL;
		if (md->present[k] && flags == 1)
			return -EEXIST;
		if (!md->present[k] && flags == 2)
			return -ENOENT;
		if (!md->present[k] && md->n == max)
			return -E2BIG;
		md->n += !md->present[k];
		md->present[k] = true;
		md->val[k] = v;
		return 0;
	default:
		if (!md->present[k])
			return -ENOENT;
		md->present[k] = false;
		md->n--;
		return 0;
	}
}

struct shape {
	enum bpfrt_map_type type;
	uint32_t ks, vs, max, keys;	/* keys: how many distinct keys the ops use */
};

/* All combos' maps hold the same keys with the same values (every CPU's). */
static void compare_contents(struct bpfrt_map **m, const struct shape *s, const char *what)
{
	uint8_t key[32], next[32], a[32 * 256], b[32 * 256];
	long n0 = 0;
	int r = bpfrt_map_get_next_key(m[0], NULL, next);

	for (; r == 0 && n0 < 100000; n0++) {
		memcpy(key, next, s->ks);
		memset(a, 0, sizeof(a));
		CHECK(bpfrt_map_lookup(m[0], key, a) == 0, "%s: lookup of an iterated key", what);
		for (int c = 1; c < COMBOS; c++) {
			memset(b, 0, sizeof(b));
			CHECK(bpfrt_map_lookup(m[c], key, b) == 0 && !memcmp(a, b, sizeof(a)),
			      "%s: combo %d holds the same key and value", what, c);
		}
		r = bpfrt_map_get_next_key(m[0], key, next);
	}
	for (int c = 1; c < COMBOS; c++) {
		long n = 0;

		for (r = bpfrt_map_get_next_key(m[c], NULL, next); r == 0 && n < 100000; n++) {
			memcpy(key, next, s->ks);
			r = bpfrt_map_get_next_key(m[c], key, next);
		}
		CHECK(n == n0, "%s: combo %d has %ld keys, combo 0 %ld", what, c, n, n0);
	}
}

/* old_hash: each map's header is made an older build's, whose 4-byte keys hash with map_hash. */
static void check_shape(const struct shape *s, unsigned nops, bool old_hash)
{
	struct bpfrt_map *m[COMBOS] = { 0 };
	struct bpfrt_prog *p[COMBOS] = { 0 };
	struct model md = { 0 };
	bool lru = s->type == BPFRT_MAP_LRU_HASH || s->type == BPFRT_MAP_LRU_PERCPU_HASH;
	bool use_model = !lru || s->keys <= s->max;
	bool inline_lookup = s->type == BPFRT_MAP_HASH && (s->ks == 4 || s->ks == 8);
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ s->ks * 131 ^ s->type * 7 ^ s->max;
	char what[96];
	long bad = 0;

	snprintf(what, sizeof(what), "type %d ks %u vs %u max %u%s", s->type, s->ks, s->vs, s->max,
		 old_hash ? " (older block)" : "");
	for (int c = 0; c < COMBOS; c++) {
		m[c] = mkmap(s->type, s->ks, s->vs, s->max);
		if (m[c] && old_hash)
			hhdr(m[c])->hash4 = 0;	/* still empty: as if an older build had made it */
		if (m[c])
			p[c] = mkprog(c & 4 ? ops_unknown : ops_known, NOPS, m[c]);
		if (!p[c])
			goto out;
	}
	for (unsigned i = 0; i < nops && bad < 5; i++) {
		uint64_t r = rnd(&seed), v = rnd(&seed), got[COMBOS];
		uint32_t k = (uint32_t)(r % s->keys), op = r >> 20 & 3, flags = r >> 24 & 3;
		struct op_ctx ctx;
		int64_t want;

		op = op == 3 ? 0 : op;			/* lookups twice as often */
		flags = (r >> 30 & 15) == 0 ? 4 : flags;	/* now and then a bad flag */
		flags = flags == 3 ? 0 : flags;
		for (int c = 0; c < COMBOS; c++) {
			memset(&ctx, 0, sizeof(ctx));
			ctx.op = op, ctx.flags = flags;
			memcpy(ctx.value, &v, sizeof(v));
			make_key(ctx.key, s->ks, k);
			if (run(p[c], c & 2, !(c & 1), &ctx, sizeof(ctx), &got[c]))
				goto out;
		}
		for (int c = 1; c < COMBOS; c++)
			if (got[c] != got[0])
				bad++, CHECK(0, "%s op %u (%u on key %u, flags %u): combo %d gave "
					     "%#llx, combo 0 %#llx", what, i, op, k, flags, c,
					     (unsigned long long)got[c], (unsigned long long)got[0]);
		if (use_model && (want = model_op(&md, s->max, op, flags, k, v)) != (int64_t)got[0])
			bad++, CHECK(0, "%s op %u (%u on key %u, flags %u): %#llx, the model says "
				     "%#llx", what, i, op, k, flags, (unsigned long long)got[0],
				     (unsigned long long)want);
	}
	CHECK(bad == 0, "%s: %u ops agree on all %d engines and modes%s", what, nops, COMBOS,
	      use_model ? " and with the model" : "");
	compare_contents(m, s, what);
	/*
	 * Unchecked code calls the map's own function when it knows the map,
	 * map.c's otherwise; a plain hash map with 4- or 8-byte keys is looked
	 * up inline (its bucket array is an immediate), behind a test of r1
	 * when the map is not known.
	 */
	if (inline_lookup) {
		const void *heads = m[2]->area + 4;

		CHECK(code_has_addr(p[2], false, heads) &&
		      !code_has_addr(p[2], false, m[2]->ops->lookup) &&
		      !code_has_addr(p[2], false, (const void *)map_lookup_elem),
		      "%s: unchecked code looks up inline", what);
		CHECK(code_has_addr(p[6], false, m[6]->area + 4) && code_has_addr(p[6], false, m[6]),
		      "%s: with the map unknown, inline behind a test of r1", what);
	} else {
		CHECK(code_has_addr(p[2], false, m[2]->ops->lookup),
		      "%s: unchecked code calls the map's lookup", what);
	}
	CHECK(code_has_addr(p[2], false, m[2]->ops->update) &&
	      code_has_addr(p[2], false, m[2]->ops->delete),
	      "%s: unchecked code calls the map's update and delete", what);
	CHECK(code_has_addr(p[6], false, (const void *)map_lookup_elem) &&
	      code_has_addr(p[6], false, (const void *)map_update_elem) &&
	      code_has_addr(p[6], false, (const void *)map_delete_elem),
	      "%s: with the map unknown, map.c's dispatchers", what);
	CHECK(!code_has_addr(p[2], true, m[2]->ops->lookup) &&
	      !code_has_addr(p[2], true, (const void *)map_lookup_elem),
	      "%s: checked code calls the helper", what);
out:
	for (int c = 0; c < COMBOS; c++) {
		bpfrt_prog_free(p[c]);
		bpfrt_map_free(m[c]);
	}
}

TEST(jit_hash_engines_agree)
{
	static const struct shape shapes[] = {
		/* each key size with its own copy of the code, and generic ones */
		{ BPFRT_MAP_HASH, 4, 8, 16, 24 },
		{ BPFRT_MAP_HASH, 8, 8, 16, 24 },
		{ BPFRT_MAP_HASH, 16, 16, 16, 24 },
		{ BPFRT_MAP_HASH, 12, 8, 16, 24 },
		{ BPFRT_MAP_HASH, 5, 8, 16, 24 },
		{ BPFRT_MAP_HASH, 32, 32, 16, 24 },
		{ BPFRT_MAP_HASH, 1, 8, 16, 24 },
		/* inline lookups multiply by 40- and 56-byte element sizes (32 is a shift) */
		{ BPFRT_MAP_HASH, 4, 16, 16, 24 },
		{ BPFRT_MAP_HASH, 8, 32, 16, 24 },
		/* one bucket: every key collides */
		{ BPFRT_MAP_HASH, 4, 8, 1, 3 },
		{ BPFRT_MAP_HASH, 16, 8, 1, 3 },
		/* more keys than buckets and elements: long chains, -E2BIG */
		{ BPFRT_MAP_HASH, 4, 8, 5, 40 },
		{ BPFRT_MAP_HASH, 8, 8, 5, 40 },
		/* the other hash families take the fast path too */
		{ BPFRT_MAP_PERCPU_HASH, 4, 8, 16, 24 },
		{ BPFRT_MAP_PERCPU_HASH, 16, 8, 16, 24 },
		{ BPFRT_MAP_LRU_HASH, 4, 8, 32, 24 },	/* never evicts: the model holds */
		{ BPFRT_MAP_LRU_HASH, 4, 8, 8, 40 },	/* evicts */
		{ BPFRT_MAP_LRU_HASH, 12, 8, 8, 40 },
		{ BPFRT_MAP_LRU_PERCPU_HASH, 8, 8, 32, 24 },
		{ BPFRT_MAP_LRU_PERCPU_HASH, 8, 8, 8, 40 },
	};
	/* blocks of older builds hash 4-byte keys with map_hash: C and JIT agree there too */
	static const struct shape older[] = {
		{ BPFRT_MAP_HASH, 4, 8, 16, 24 },
		{ BPFRT_MAP_HASH, 4, 8, 5, 40 },
		{ BPFRT_MAP_LRU_HASH, 4, 8, 8, 40 },
	};

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		check_shape(&shapes[i], 1500, false);
	for (size_t i = 0; i < sizeof(older) / sizeof(older[0]); i++)
		check_shape(&older[i], 1500, true);
}

/* A program that replaced bpf_map_lookup_elem keeps its own, in unchecked JIT code too. */
static uint64_t my_lookup(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			  struct bpfrt_run *run)
{
	(void)r1; (void)r2; (void)r3; (void)r4; (void)r5; (void)run;
	return 0;
}

TEST(jit_hash_own_helper_kept)
{
	struct bpfrt_map *m = mkmap(BPFRT_MAP_HASH, 4, 8, 8);
	struct bpfrt_prog *p = m ? mkprog(ops_known, NOPS, m) : NULL;
	struct op_ctx ctx = { 0 };
	uint32_t k = 0;
	uint64_t v = 41, r0 = 0;

	if (!p)
		goto out;
	make_key((uint8_t *)&k, 4, 3);
	bpfrt_map_update(m, &k, &v, BPFRT_ANY);
	bpfrt_prog_set_helper(p, 1, "mine", my_lookup);
	memcpy(ctx.key, &k, 4);
	for (int c = 0; c < 4; c++) {
		run(p, c & 2, c & 1, &ctx, sizeof(ctx), &r0);
		CHECK(r0 == (uint64_t)-1, "combo %d: the program's own lookup runs (%#llx)", c,
		      (unsigned long long)r0);
	}
	CHECK(code_has_addr(p, false, (const void *)(uintptr_t)my_lookup) &&
	      !code_has_addr(p, false, m->ops->lookup), "unchecked code calls it");
	CHECK(code_has_addr(p, false, m->ops->update), "and the map's update");
out:
	bpfrt_prog_free(p);
	bpfrt_map_free(m);
}

/* ---- Writers in threads while the JIT looks up -------------------------------------------- */

/* r0 = the value's first u64 at key ctx[40..44), or -1: lookups that write nothing. */
static const struct bpfrt_insn peek[] = {
	MOVR(2, 1),
	ADDI(2, 40),
	MAP0,
	CALL(1),
	JEQI(0, 0, 2),
	LDXDW(0, 0, 0),
	EXIT,
	MOV(0, -1),
	EXIT,
};

enum { WRITERS = 2 };
static uint32_t STABLE, CHURN;	/* keys never deleted, keys inserted and deleted (per run) */

struct churn_arg {
	struct bpfrt_prog *ops;		/* ops_known on the map */
	_Atomic int *stop;
	int i;
	long errors;
	_Atomic long done;
};

/* Insert (NOEXIST) and delete churn keys through the JIT, value = key * 1000. */
static void *churn_writer(void *a)
{
	struct churn_arg *c = a;
	uint64_t s = 0x1234567ull + (uint64_t)c->i * 77, r0;
	uint32_t k = STABLE, prev = STABLE;

	/* while the reader reads: insert a key, delete the one before (one stays in) */
	for (int n = 0; !atomic_load(c->stop); n++, atomic_fetch_add(&c->done, 1)) {
		struct op_ctx ctx = { 0 };
		uint64_t v;

		if (!(n & 1))
			prev = k, k = STABLE + (uint32_t)(rnd(&s) % CHURN);
		v = (uint64_t)(n & 1 ? prev : k) * 1000;
		ctx.op = n & 1 ? 2 : 1;
		ctx.flags = BPFRT_NOEXIST;
		memcpy(ctx.key, n & 1 ? &prev : &k, 4);
		memcpy(ctx.value, &v, 8);
		if (run(c->ops, true, false, &ctx, sizeof(ctx), &r0))
			c->errors++;
		else if (r0 != 0 && r0 != (uint64_t)-EEXIST && r0 != (uint64_t)-ENOENT &&
			 r0 != (uint64_t)-E2BIG)
			c->errors++;
	}
	return NULL;
}

static void lookups_under_writers(uint32_t max, uint32_t stable, uint32_t churn, int lookups)
{
	struct bpfrt_map *m = mkmap(BPFRT_MAP_HASH, 4, 8, max);
	struct bpfrt_prog *ops = m ? mkprog(ops_known, NOPS, m) : NULL;
	struct bpfrt_prog *pk = m ? mkprog(peek, sizeof(peek) / sizeof(peek[0]), m) : NULL;
	struct churn_arg args[WRITERS];
	pthread_t t[WRITERS];
	_Atomic int stop = 0;
	long missed = 0, wrong = 0, found_churn = 0;

	STABLE = stable, CHURN = churn;
	if (!ops || !pk)
		goto out;
	for (uint32_t k = 0; k < STABLE; k++) {
		uint64_t v = (uint64_t)k * 1000;

		bpfrt_map_update(m, &k, &v, BPFRT_NOEXIST);
	}
	for (int i = 0; i < WRITERS; i++) {
		args[i] = (struct churn_arg){ ops, &stop, i, 0, 0 };
		pthread_create(&t[i], NULL, churn_writer, &args[i]);
	}
	/* at least `lookups`, and on until each writer did 20000 operations (a loaded machine) */
	for (long n = 0; n < lookups || (n < 50L * lookups && (atomic_load(&args[0].done) < 20000 ||
							      atomic_load(&args[1].done) < 20000));
	     n++) {
		struct op_ctx ctx = { 0 };
		uint32_t k = (uint32_t)n % (STABLE + CHURN);
		uint64_t r0;

		memcpy(ctx.key, &k, 4);
		if (run(pk, true, false, &ctx, sizeof(ctx), &r0))
			break;
		if (k < STABLE) {
			missed += r0 == (uint64_t)-1;
			wrong += r0 != (uint64_t)-1 && r0 != (uint64_t)k * 1000;
		} else if (r0 != (uint64_t)-1) {
			/* a reused element may hold another churn key's value */
			found_churn++;
			wrong += r0 % 1000 || r0 / 1000 < STABLE || r0 / 1000 >= STABLE + CHURN;
		}
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < WRITERS; i++) {
		pthread_join(t[i], NULL);
		CHECK(args[i].errors == 0, "writer %d: %ld bad results", i, args[i].errors);
		CHECK(atomic_load(&args[i].done) >= 20000, "writer %d ran along: %ld operations", i,
		      atomic_load(&args[i].done));
	}
	CHECK(missed == 0, "a stable key was missed %ld times while chains changed", missed);
	CHECK(wrong == 0, "%ld lookups returned a value no key has", wrong);
	CHECK(found_churn > 0, "the lookups saw churn keys too (%ld)", found_churn);
	for (uint32_t k = 0; k < STABLE; k++) {
		uint64_t v = 0;

		CHECK(bpfrt_map_lookup(m, &k, &v) == 0 && v == (uint64_t)k * 1000,
		      "stable key %u intact", k);
	}
	{
		uint32_t key, next;
		long n = 0;

		for (int r = bpfrt_map_get_next_key(m, NULL, &next); r == 0 && n < 1000; n++) {
			key = next;
			r = bpfrt_map_get_next_key(m, &key, &next);
		}
		CHECK(htab_elems_in_use(m) == n, "every element in use is in a chain: %u, %ld keys",
		      htab_elems_in_use(m), n);
	}
out:
	bpfrt_prog_free(ops);
	bpfrt_prog_free(pk);
	bpfrt_map_free(m);
}

TEST(jit_hash_lookups_under_writers)
{
	/* 128 buckets for 256 keys: chains, and elements reused under the readers' feet */
	lookups_under_writers(128, 64, 192, 300000);
	/* 16 buckets and elements, 8 of them stable: chains that change all the time */
	lookups_under_writers(16, 8, 40, 1000000);
}

/* ---- A map shared with another process ---------------------------------------------------- */

/* Atomically add 1 to the value of the key at ctx[40..44); r0 = 0, or 1 if missed. */
static const struct bpfrt_insn count[] = {
	MOVR(2, 1),
	ADDI(2, 40),
	MAP0,
	CALL(1),
	JEQI(0, 0, 4),
	MOV(1, 1),
	XADDDW(0, 1, 0),
	MOV(0, 0),
	EXIT,
	MOV(0, 1),
	EXIT,
};

enum { SHARED_ADDS = 50000 };

/* Run count on key k n times (JIT, unchecked); the number of misses. */
static long count_n(struct bpfrt_prog *p, uint32_t k, int n)
{
	struct op_ctx ctx = { 0 };
	long missed = 0;
	uint64_t r0;

	memcpy(ctx.key, &k, 4);
	for (int i = 0; i < n; i++)
		missed += run(p, true, false, &ctx, sizeof(ctx), &r0) || r0;
	return missed;
}

TEST(jit_hash_shared_with_child)
{
	struct bpfrt_map *m = mkmap(BPFRT_MAP_HASH, 4, 8, 256);
	struct bpfrt_prog *pc = m ? mkprog(count, sizeof(count) / sizeof(count[0]), m) : NULL;
	struct bpfrt_prog *ops = m ? mkprog(ops_known, NOPS, m) : NULL;
	uint32_t k = 7;
	uint64_t v = 0;
	int status = -1;
	pid_t pid;

	if (!pc || !ops)
		goto out;
	bpfrt_map_update(m, &k, &v, BPFRT_ANY);
	k = 8;
	bpfrt_map_update(m, &k, &v, BPFRT_ANY);
	pid = fork();
	if (pid == 0) {	/* its own mapping of the block, its own programs and JIT code */
		struct bpfrt_map *c = NULL;
		struct bpfrt_prog *cc, *cops;
		int bad = map_open_block(map_block_fd(m), &c, NULL) != 0;

		cc = bad ? NULL : mkprog(count, sizeof(count) / sizeof(count[0]), c);
		cops = bad ? NULL : mkprog(ops_known, NOPS, c);
		bad |= !cc || !cops || c->base == m->base;
		bad |= !bad && count_n(cc, 7, SHARED_ADDS) != 0;
		for (uint32_t ck = 100; !bad && ck < 150; ck++) {	/* inserts */
			struct op_ctx ctx = { .op = 1, .flags = BPFRT_NOEXIST };
			uint64_t cv = ck * 3, r0 = 1;

			memcpy(ctx.value, &cv, 8);
			memcpy(ctx.key, &ck, 4);
			bad |= run(cops, true, false, &ctx, sizeof(ctx), &r0) || r0 != 0;
		}
		if (!bad) {	/* and a delete */
			struct op_ctx ctx = { .op = 2 };
			uint32_t ck = 8;
			uint64_t r0 = 1;

			memcpy(ctx.key, &ck, 4);
			bad |= run(cops, true, false, &ctx, sizeof(ctx), &r0) || r0 != 0;
		}
		_exit(bad);
	}
	CHECK(count_n(pc, 7, SHARED_ADDS) == 0, "the parent's lookups all hit");
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	k = 7;
	CHECK(bpfrt_map_lookup(m, &k, &v) == 0 && v == 2ull * SHARED_ADDS,
	      "both processes' atomic adds arrived: %llu", (unsigned long long)v);
	for (uint32_t ck = 100; ck < 150; ck++) {
		struct op_ctx ctx = { 0 };
		uint64_t r0 = 0;

		memcpy(ctx.key, &ck, 4);
		run(ops, true, false, &ctx, sizeof(ctx), &r0);
		CHECK(r0 == ck * 3 + 1, "the child's insert of %u seen by the parent's JIT", ck);
	}
	k = 8;
	CHECK(bpfrt_map_lookup(m, &k, &v) == -ENOENT, "the child's delete too");
out:
	bpfrt_prog_free(pc);
	bpfrt_prog_free(ops);
	bpfrt_map_free(m);
}

/* ---- The test of r1 in front of an inline lookup ------------------------------------------- */

/*
 * Two maps, one of them inline-able (a hash with 4-byte keys), the map in r9
 * (not known at translation): calls with the other map must take the usual
 * path, calls with it the inline one. Every engine and mode agrees.
 */
TEST(jit_hash_guard)
{
	struct bpfrt_map *maps[2] = { mkmap(BPFRT_MAP_HASH, 4, 8, 64),
				      mkmap(BPFRT_MAP_HASH, 4, 8, 64) };
	struct bpfrt_map *two[2] = { maps[0], NULL };
	struct bpfrt_insn insns[NOPS];
	struct bpfrt_prog *p[2] = { 0 };
	struct bpfrt_error err;

	if (!maps[0] || !maps[1])
		goto out;
	/* the second: 4-byte keys too, but LRU, so not inline-able */
	bpfrt_map_free(maps[1]);
	maps[1] = two[1] = mkmap(BPFRT_MAP_LRU_HASH, 4, 8, 64);
	for (uint32_t k = 0; k < 32; k++) {
		uint64_t a = k * 10, b = k * 100;

		bpfrt_map_update(maps[0], &k, &a, BPFRT_ANY);
		bpfrt_map_update(maps[1], &k, &b, BPFRT_ANY);
	}
	for (int w = 0; w < 2; w++) {	/* r9 = map w */
		BPFRT_OPTS(bpfrt_prog_opts, po, .maps = two, .nmaps = 2);

		memcpy(insns, ops_unknown, sizeof(insns));
		insns[0].imm = w;
		if (!CHECK(bpfrt_prog_new(insns, NOPS, &po, &p[w], &err) == 0, "prog: %s", err.msg))
			goto out;
		bpfrt_prog_use_builtin_helpers(p[w]);
		CHECK(code_has_addr(p[w], false, maps[0]) && code_has_addr(p[w], false,
							       maps[0]->area + 4),
		      "r9 = map %d: the inline lookup of map 0 behind a test", w);
	}
	for (uint32_t k = 0; k < 40; k++) {
		for (int w = 0; w < 2; w++) {
			uint64_t got[4];

			for (int c = 0; c < 4; c++) {	/* lookups add 1: each combo adds once */
				struct op_ctx ctx = { 0 };

				memcpy(ctx.key, &k, 4);
				run(p[w], c & 2, c & 1, &ctx, sizeof(ctx), &got[c]);
			}
			for (int c = 0; c < 4; c++) {
				uint64_t want = k < 32 ? k * (w ? 100 : 10) + 1 + (uint64_t)c :
							 (uint64_t)-1;

				CHECK(got[c] == want, "map %d key %u combo %d: %#llx, want %#llx", w, k,
				      c, (unsigned long long)got[c], (unsigned long long)want);
			}
		}
	}
out:
	bpfrt_prog_free(p[0]);
	bpfrt_prog_free(p[1]);
	bpfrt_map_free(maps[0]);
	bpfrt_map_free(maps[1]);
}
