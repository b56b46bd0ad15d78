/* test_jit_inline.c — the JIT's inline array lookups: the helper's results, without its call, only where they may stand for it. */
#include <errno.h>
#include <string.h>

#include "bpfrt.h"
#include "t.h"

#define I(c, d, s, o, i) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) }
#define MOV(d, k)	I(0xb7, d, 0, 0, k)
#define MOVR(d, s)	I(0xbf, d, s, 0, 0)
#define ADDI(d, k)	I(0x07, d, 0, 0, k)
#define LDXW(d, s, o)	I(0x61, d, s, o, 0)
#define STXW(d, s, o)	I(0x63, d, s, o, 0)
#define JEQI(d, k, o)	I(0x15, d, 0, o, k)
#define JA(o)		I(0x05, 0, 0, o, 0)
#define CALL(id)	I(0x85, 0, 0, 0, id)
#define EXIT		I(0x95, 0, 0, 0, 0)
#define LDDW(d, src, lo, hi) I(0x18, d, src, 0, lo), I(0, 0, 0, 0, hi)

static struct bpfrt_map *mkmap(enum bpfrt_map_type type, uint32_t vs, uint32_t n)
{
	BPFRT_OPTS(bpfrt_map_opts, o, .type = type, .key_size = 4, .value_size = vs,
		   .max_entries = n);
	struct bpfrt_map *m = NULL;
	struct bpfrt_error err;

	CHECK(bpfrt_map_create(&o, &m, &err) == 0, "map: %s", err.msg);
	return m;
}

/* The key is ctx's first u32; r0 = the pointer (or 0). */
static const struct bpfrt_insn straight[] = {
	LDXW(2, 1, 0),
	STXW(10, 2, -4),
	MOVR(2, 10),
	ADDI(2, -4),
	LDDW(1, 5, 0, 0),
	CALL(1),
	EXIT,
};

/* The same, but the lddw is in another block than the call. */
static const struct bpfrt_insn split[] = {
	LDXW(2, 1, 0),
	STXW(10, 2, -4),
	LDDW(1, 5, 0, 0),
	JEQI(2, 12345, 0),	/* a block ends here */
	MOVR(2, 10),
	ADDI(2, -4),
	CALL(1),
	EXIT,
};

static bool has_bytes(const void *hay, size_t n, const void *needle, size_t len)
{
	for (size_t i = 0; i + len <= n; i++)
		if (!memcmp((const uint8_t *)hay + i, needle, len))
			return true;
	return false;
}

static uint64_t lookup_fn(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			  struct bpfrt_run *run)
{
	(void)r1; (void)r2; (void)r3; (void)r4; (void)r5; (void)run;
	return 4242;
}

/*
 * Each key, each engine and mode: the pointer the interpreter's helper call
 * gives (NULL past the end). Then: the unchecked JIT code calls a helper
 * (call r11) unless want_inline; checked code always does.
 */
static void compare(const struct bpfrt_insn *insns, size_t n, struct bpfrt_map *m,
		    bool user_helper, bool want_inline, const char *what)
{
	BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &m, .nmaps = 1);
	struct bpfrt_prog *p = NULL;
	struct bpfrt_error err;
	struct bpfrt_map_info info;

	if (!CHECK(bpfrt_prog_new(insns, n, &po, &p, &err) == 0, "%s: %s", what, err.msg))
		return;
	bpfrt_map_get_info(m, &info);
	bpfrt_prog_use_builtin_helpers(p);
	if (user_helper)	/* replaces the builtin lookup */
		bpfrt_prog_set_helper(p, 1, "mine", lookup_fn);
	for (uint32_t key = 0; key < info.max_entries + 3; key++) {
		uint64_t want = 0;

		for (int engine = 0; engine < 2; engine++) {
			for (int checked = 1; checked >= 0; checked--) {
				uint32_t ctx = key;
				BPFRT_OPTS(bpfrt_run_opts, ro, .checked = checked, .ctx = &ctx,
					   .ctx_len = sizeof(ctx),
					   .engine = engine ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP);
				int ret = bpfrt_prog_run(p, &ro, &err);

				if (engine == 0 && checked == 1)
					want = ro.retval;
				CHECK(ret == 0 && ro.retval == want, "%s key %u %s %s: %d %#llx, "
				      "want %#llx %s", what, key, engine ? "jit" : "interp",
				      checked ? "checked" : "unchecked", ret,
				      (unsigned long long)ro.retval, (unsigned long long)want,
				      ret ? err.msg : "");
			}
		}
		if (user_helper)
			CHECK(want == 4242, "%s: the program's own helper 1 runs", what);
		else if (key < info.max_entries)
			CHECK(want != 0, "%s key %u: found", what, key);
		else
			CHECK(want == 0, "%s key %u: NULL past the end", what, key);
	}
	if (user_helper) {
		const void *code;
		size_t len;
		uint64_t fn = (uintptr_t)lookup_fn;

		CHECK(!bpfrt_prog_jited(p, false, &code, &len, NULL, &err) &&
		      has_bytes(code, len, &fn, sizeof(fn)),
		      "%s: unchecked code calls the program's own helper", what);
	}
	{
		const void *cu, *cc;
		size_t lu, lc;

		if (!bpfrt_prog_jited(p, false, &cu, &lu, NULL, &err) &&
		    !bpfrt_prog_jited(p, true, &cc, &lc, NULL, &err)) {
			/* ff d3: call r11, how the JIT calls helpers */
			static const uint8_t call_r11[] = { 0x41, 0xff, 0xd3 };
			bool calls = has_bytes(cu, lu, call_r11, sizeof(call_r11));

			CHECK(calls == !want_inline, "%s: the unchecked code %s the helper",
			      what, calls ? "calls" : "does not call");
			CHECK(has_bytes(cc, lc, call_r11, sizeof(call_r11)),
			      "%s: checked code calls the helper", what);
		}
	}
	bpfrt_prog_free(p);
}

TEST(jit_inline_array_lookup)
{
	struct bpfrt_map *a8 = mkmap(BPFRT_MAP_ARRAY, 8, 4);	/* stride 8: a shift */
	struct bpfrt_map *a12 = mkmap(BPFRT_MAP_ARRAY, 12, 5);	/* stride 16 */
	struct bpfrt_map *a24 = mkmap(BPFRT_MAP_ARRAY, 20, 7);	/* stride 24: imul */
	struct bpfrt_map *pc = mkmap(BPFRT_MAP_PERCPU_ARRAY, 8, 4);
	size_t ns = sizeof(straight) / sizeof(straight[0]);
	size_t nsp = sizeof(split) / sizeof(split[0]);

	if (a8 && a12 && a24 && pc) {
		compare(straight, ns, a8, false, true, "stride 8");
		compare(straight, ns, a12, false, true, "stride 16");
		compare(straight, ns, a24, false, true, "stride 24");
		compare(straight, ns, pc, false, false, "percpu array");
		compare(split, nsp, a8, false, false, "lddw in another block");
		compare(straight, ns, a8, true, false, "the program's own helper 1");
	}
	bpfrt_map_free(a8);
	bpfrt_map_free(a12);
	bpfrt_map_free(a24);
	bpfrt_map_free(pc);
}
