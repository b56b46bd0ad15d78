/* test_loader.c — the object loader: programs, subprograms, BTF and legacy maps, globals, line info, CO-RE, bad input, the corpus. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"
#include "t.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Helpers ------------------------------------------------------------------------ */

static void test_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/tests/bpf/%s.o", t_builddir(), name);
}

static struct bpfrt_obj *open_test(const char *name, const struct bpfrt_obj_opts *opts)
{
	struct bpfrt_obj *obj = NULL;
	struct bpfrt_error err;
	char path[512];
	int ret;

	test_path(name, path, sizeof(path));
	ret = bpfrt_obj_open(path, opts, &obj, &err);
	CHECK(ret == 0, "open %s: %d %s", path, ret, err.msg);
	return obj;
}

static bool load(struct bpfrt_obj *obj)
{
	struct bpfrt_error err;
	int ret = bpfrt_obj_load(obj, &err);

	return CHECK(ret == 0, "load: %d %s", ret, err.msg);
}

/*
 * Run program name with ctx = &in on engine; *ok is false (and says why) on
 * failure. Checked runs, except where a test says why not.
 */
static bool unchecked;

static int32_t run_on(struct bpfrt_obj *obj, const char *name, uint32_t in,
		      enum bpfrt_engine engine, bool *ok)
{
	struct bpfrt_prog *prog = bpfrt_obj_prog_by_name(obj, name);
	struct bpfrt_error err;
	uint32_t ctx = in;
	int ret;

	BPFRT_OPTS(bpfrt_run_opts, o, .engine = engine, .checked = !unchecked, .ctx = &ctx,
		   .ctx_len = sizeof(ctx));
	*ok = CHECK(prog != NULL, "program %s is not loaded", name);
	if (!*ok)
		return 0;
	bpfrt_prog_use_builtin_helpers(prog);	/* -EBUSY after the first run: fine */
	ret = bpfrt_prog_run(prog, &o, &err);
	*ok = CHECK(ret == 0, "run %s (%s): %d %s", name,
		    engine == BPFRT_ENGINE_JIT ? "jit" : "interp", ret, err.msg);
	return (int32_t)o.retval;
}

/*
 * Run on the interpreter, then the JIT: the first must give want, the second
 * want + step (programs that count in their maps give a step of 1).
 */
static void expect_runs(struct bpfrt_obj *obj, const char *name, uint32_t in, int32_t want,
			int32_t step)
{
	static const enum bpfrt_engine engines[] = { BPFRT_ENGINE_INTERP, BPFRT_ENGINE_JIT };

	for (size_t e = 0; e < 2; e++) {
		bool ok;
		int32_t got = run_on(obj, name, in, engines[e], &ok);

		if (ok)
			CHECK(got == want + (int32_t)e * step, "%s(%u) on %s = %d, want %d",
			      name, in, e ? "jit" : "interp", got, want + (int32_t)e * step);
	}
}

static void expect_run(struct bpfrt_obj *obj, const char *name, uint32_t in, int32_t want)
{
	expect_runs(obj, name, in, want, 0);
}

static struct bpfrt_obj_prog_info prog_info(struct bpfrt_obj *obj, const char *name)
{
	struct bpfrt_obj_prog_info info = { 0 };
	int i = bpfrt_obj_prog_find(obj, name);

	if (CHECK(i >= 0, "no program %s", name))
		bpfrt_obj_prog_at(obj, (size_t)i, &info);
	return info;
}

static struct bpfrt_obj_map_info map_info(struct bpfrt_obj *obj, const char *name)
{
	struct bpfrt_obj_map_info info = { 0 };
	int i = bpfrt_obj_map_find(obj, name);

	if (CHECK(i >= 0, "no map %s", name))
		bpfrt_obj_map_at(obj, (size_t)i, &info);
	return info;
}

/* ---- Programs and sections ----------------------------------------------------------- */

TEST(loader_prog_sections)
{
	static const struct {
		const char *name, *section;
		enum bpfrt_prog_type type;
	} want[] = {
		{ "twice", ".text", BPFRT_PROG_SOCKET_FILTER },	/* default_type */
		{ "scaled", ".text", BPFRT_PROG_SOCKET_FILTER },
		{ "tc_main", "tc", BPFRT_PROG_SCHED_CLS },
		{ "xdp_a", "xdp", BPFRT_PROG_XDP },
		{ "xdp_b", "xdp", BPFRT_PROG_XDP },
		{ "xdp_loop", "xdp", BPFRT_PROG_XDP },
		{ "xdp_fact", "xdp.frags", BPFRT_PROG_XDP },
		{ "p_socket", "socket", BPFRT_PROG_SOCKET_FILTER },
		{ "p_classifier", "classifier", BPFRT_PROG_SCHED_CLS },
		{ "p_tc_ingress", "tc/ingress", BPFRT_PROG_SCHED_CLS },
		{ "p_kprobe", "kprobe/do_sys_open", BPFRT_PROG_KPROBE },
		{ "p_kretprobe", "kretprobe/do_sys_open", BPFRT_PROG_KPROBE },
		{ "p_uprobe", "uprobe//bin/true:main", BPFRT_PROG_KPROBE },
		{ "p_uretprobe", "uretprobe//bin/true:main", BPFRT_PROG_KPROBE },
		{ "p_tracepoint", "tracepoint/syscalls/sys_enter_openat", BPFRT_PROG_TRACEPOINT },
		{ "p_tp", "tp/sched/sched_switch", BPFRT_PROG_TRACEPOINT },
		{ "p_raw_tracepoint", "raw_tracepoint/sched_switch", BPFRT_PROG_RAW_TRACEPOINT },
		{ "p_raw_tp", "raw_tp/sched_wakeup", BPFRT_PROG_RAW_TRACEPOINT },
		{ "p_perf_event", "perf_event", BPFRT_PROG_PERF_EVENT },
		{ "p_cgroup_skb", "cgroup/skb", BPFRT_PROG_CGROUP_SKB },
		{ "p_cgroup_sock", "cgroup/sock_create", BPFRT_PROG_CGROUP_SOCK },
		{ "p_cgroup_connect4", "cgroup/connect4", BPFRT_PROG_CGROUP_SOCK_ADDR },
		{ "p_cgroup_dev", "cgroup/dev", BPFRT_PROG_CGROUP_DEVICE },
		{ "p_sockops", "sockops", BPFRT_PROG_SOCK_OPS },
		{ "p_lwt_in", "lwt_in", BPFRT_PROG_LWT_IN },
		{ "p_lwt_out", "lwt_out", BPFRT_PROG_LWT_OUT },
		{ "p_lwt_xmit", "lwt_xmit", BPFRT_PROG_LWT_XMIT },
		{ "p_lwt_seg6local", "lwt_seg6local", BPFRT_PROG_LWT_SEG6LOCAL },
		{ "p_syscall", "syscall", BPFRT_PROG_SYSCALL },
		{ "p_sk_skb", "sk_skb/stream_parser", BPFRT_PROG_SK_SKB },
		{ "p_flow_dissector", "flow_dissector", BPFRT_PROG_FLOW_DISSECTOR },
		{ "p_mystery", "mystery", BPFRT_PROG_SOCKET_FILTER },	/* default_type */
	};
	BPFRT_OPTS(bpfrt_obj_opts, opts, .default_type = BPFRT_PROG_SOCKET_FILTER);
	struct bpfrt_obj *obj = open_test("progs", &opts);

	if (!obj)
		return;
	CHECK(bpfrt_obj_prog_count(obj) == ARRAY_LEN(want), "%zu programs, want %zu",
	      bpfrt_obj_prog_count(obj), ARRAY_LEN(want));
	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		struct bpfrt_obj_prog_info info = prog_info(obj, want[i].name);

		CHECK(info.section && !strcmp(info.section, want[i].section),
		      "%s: section %s, want %s", want[i].name, info.section, want[i].section);
		CHECK(info.type == want[i].type, "%s: type %s, want %s", want[i].name,
		      bpfrt_prog_type_name(info.type), bpfrt_prog_type_name(want[i].type));
		CHECK(info.prog == NULL && info.autoload, "%s: loaded before load", want[i].name);
	}
	/* Static functions are subprograms, not programs. */
	CHECK(bpfrt_obj_prog_find(obj, "add3") == -ENOENT, "add3 is a program");
	CHECK(bpfrt_obj_prog_find(obj, "tc_sub") == -ENOENT, "tc_sub is a program");
	CHECK(!strcmp(bpfrt_obj_license(obj), "GPL"), "license %s", bpfrt_obj_license(obj));
	CHECK(bpfrt_obj_prog_at(obj, 1000, NULL) == NULL, "program 1000 exists");
	CHECK(!strcmp(bpfrt_prog_type_name(BPFRT_PROG_SOCK_OPS), "sock_ops"), "type name");
	bpfrt_obj_close(obj);
}

/* ---- Subprograms ----------------------------------------------------------------------- */

TEST(loader_subprograms)
{
	struct bpfrt_obj *obj = open_test("progs", NULL);

	if (!obj)
		return;
	/* xdp_a (5) + twice (3) + add3 (3); xdp_b (17) + add3 + tc_sub (3) + tc_main (4). */
	CHECK(prog_info(obj, "xdp_a").insn_cnt == 11, "xdp_a: %zu insns",
	      prog_info(obj, "xdp_a").insn_cnt);
	CHECK(prog_info(obj, "xdp_b").insn_cnt == 27, "xdp_b: %zu insns",
	      prog_info(obj, "xdp_b").insn_cnt);
	if (!load(obj))
		goto out;
	expect_run(obj, "xdp_a", 5, 13);
	expect_run(obj, "xdp_b", 5, 6);
	expect_run(obj, "tc_main", 5, -4);
	expect_run(obj, "scaled", 21, 43);
	expect_run(obj, "xdp_fact", 4, 24);
	expect_run(obj, "p_kprobe", 5, 6);
out:
	bpfrt_obj_close(obj);
}

TEST(loader_function_pointer)
{
	struct bpfrt_obj *obj = open_test("progs", NULL);
	struct bpfrt_obj_prog_info info;
	int found = 0;

	if (!obj)
		return;
	info = prog_info(obj, "xdp_loop");
	for (size_t i = 0; i + 1 < info.insn_cnt; i++) {
		const struct bpfrt_insn *in = &info.insns[i];
		int64_t t;

		if (in->code != 0x18 || in->src_reg != 4)
			continue;
		found++;
		t = (int64_t)i + in->imm + 1;
		CHECK(t > (int64_t)i && t < (int64_t)info.insn_cnt, "target %lld", (long long)t);
		/* loop_cb begins with r3 = *(u32 *)(r2 + 0). */
		if (t > 0 && t < (int64_t)info.insn_cnt)
			CHECK(info.insns[t].code == 0x61 && info.insns[t].dst_reg == 3 &&
			      info.insns[t].src_reg == 2, "insn %lld is not loop_cb's first",
			      (long long)t);
		CHECK(info.insns[i + 1].imm == 0, "second slot imm %d", info.insns[i + 1].imm);
	}
	CHECK(found == 1, "%d function pointers", found);
	bpfrt_obj_close(obj);
}

/* ---- Line info ------------------------------------------------------------------------------ */

TEST(loader_line_info)
{
	struct bpfrt_obj *obj = open_test("progs", NULL);
	struct bpfrt_obj_prog_info info;
	struct bpfrt_obj_line l;
	bool seen_add3 = false;
	int i;

	if (!obj)
		return;
	i = bpfrt_obj_prog_find(obj, "xdp_a");
	bpfrt_obj_prog_at(obj, (size_t)i, &info);
	CHECK(bpfrt_obj_prog_line(obj, (size_t)i, 0, &l) == 0, "no line info for insn 0");
	CHECK(strstr(l.file, "progs.bpf.c") && l.line > 0, "insn 0: %s:%u", l.file, l.line);
	CHECK(strstr(l.src, "twice"), "insn 0 source: '%s'", l.src);
	for (size_t k = 0; k < info.insn_cnt; k++)
		if (!bpfrt_obj_prog_line(obj, (size_t)i, k, &l) && strstr(l.src, "x + 3"))
			seen_add3 = k >= 5;	/* add3 is appended after xdp_a's 5 */
	CHECK(seen_add3, "add3's line is not in xdp_a's appended code");
	CHECK(bpfrt_obj_prog_line(obj, (size_t)i, info.insn_cnt, &l) == -EINVAL,
	      "insn past the end");
	bpfrt_obj_close(obj);
	/* Objects with legacy maps built with -g have line info too. */
	obj = open_test("legacy", NULL);
	if (obj && CHECK(bpfrt_obj_prog_count(obj) > 0, "legacy: no programs"))
		CHECK(bpfrt_obj_prog_line(obj, 0, 0, &l) == 0, "legacy has -g line info");
	bpfrt_obj_close(obj);
}

/* ---- BTF-defined maps ------------------------------------------------------------------------ */

static void check_map(struct bpfrt_obj *obj, const char *name, enum bpfrt_map_type type,
		      uint32_t ks, uint32_t vs, uint32_t max, uint32_t flags)
{
	struct bpfrt_obj_map_info m = map_info(obj, name);

	CHECK(m.type == type && m.key_size == ks && m.value_size == vs &&
	      m.max_entries == max && m.map_flags == flags,
	      "%s: type %d key %u value %u max %u flags %#x", name, m.type, m.key_size,
	      m.value_size, m.max_entries, m.map_flags);
}

TEST(loader_btf_maps)
{
	struct bpfrt_obj *obj = open_test("maps", NULL);

	if (!obj)
		return;
	CHECK(bpfrt_obj_map_count(obj) == 11, "%zu maps", bpfrt_obj_map_count(obj));
	check_map(obj, "arr", BPFRT_MAP_ARRAY, 4, 8, 4, 0);
	check_map(obj, "counts", BPFRT_MAP_HASH, 4, 8, 16, 1);
	check_map(obj, "pcpu", BPFRT_MAP_PERCPU_ARRAY, 4, 24, 2, 0);
	check_map(obj, "lru", BPFRT_MAP_LRU_HASH, 8, 8, 32, 0);
	check_map(obj, "rb", BPFRT_MAP_RINGBUF, 0, 0, 4096, 0);
	check_map(obj, "q", BPFRT_MAP_QUEUE, 0, 4, 8, 0);
	check_map(obj, "in_a", BPFRT_MAP_ARRAY, 4, 4, 1, 0);
	check_map(obj, "outer_arr", BPFRT_MAP_ARRAY_OF_MAPS, 4, 4, 4, 0);
	check_map(obj, "outer_hash", BPFRT_MAP_HASH_OF_MAPS, 4, 4, 4, 0);
	check_map(obj, "jmp", BPFRT_MAP_PROG_ARRAY, 4, 4, 8, 0);
	CHECK(map_info(obj, "counts").pinning == 1, "counts is pinned by name");
	CHECK(map_info(obj, "outer_arr").ninit == 2 && map_info(obj, "jmp").ninit == 2 &&
	      map_info(obj, "outer_hash").ninit == 1, "initial values");
	CHECK(!strcmp(map_info(obj, "arr").section, ".maps"), "section");
	/* Each program's table holds the maps it uses, in first-use order. */
	CHECK(prog_info(obj, "count").nmaps == 2, "count: %zu maps", prog_info(obj, "count").nmaps);
	CHECK(prog_info(obj, "others").nmaps == 5, "others: %zu maps",
	      prog_info(obj, "others").nmaps);
	CHECK(bpfrt_obj_map_by_name(obj, "arr") == NULL, "a map before load");
	bpfrt_obj_close(obj);
}

static void check_slot(struct bpfrt_map *map, uint32_t key, const void *want, const char *what)
{
	void *got = NULL;
	int ret = bpfrt_map_lookup(map, &key, &got);

	if (want)
		CHECK(ret == 0 && got == want, "%s[%u]: %d %p, want %p", what, key, ret, got, want);
	else
		CHECK(ret == -ENOENT, "%s[%u]: %d, want empty", what, key, ret);
}

TEST(loader_btf_maps_load)
{
	struct bpfrt_obj *obj = open_test("maps", NULL);
	struct bpfrt_map *in_a, *in_b, *arr;
	uint32_t key = 1, v32 = 42;
	uint64_t v = 0;

	if (!obj || !load(obj))
		goto out;
	in_a = bpfrt_obj_map_by_name(obj, "in_a");
	in_b = bpfrt_obj_map_by_name(obj, "in_b");
	arr = bpfrt_obj_map_by_name(obj, "arr");
	check_slot(bpfrt_obj_map_by_name(obj, "outer_arr"), 0, in_a, "outer_arr");
	check_slot(bpfrt_obj_map_by_name(obj, "outer_arr"), 1, NULL, "outer_arr");
	check_slot(bpfrt_obj_map_by_name(obj, "outer_arr"), 3, in_b, "outer_arr");
	check_slot(bpfrt_obj_map_by_name(obj, "outer_hash"), 1, in_b, "outer_hash");
	check_slot(bpfrt_obj_map_by_name(obj, "jmp"), 2, bpfrt_obj_prog_by_name(obj, "tail_a"),
		   "jmp");
	check_slot(bpfrt_obj_map_by_name(obj, "jmp"), 5, bpfrt_obj_prog_by_name(obj, "tail_b"),
		   "jmp");
	check_slot(bpfrt_obj_map_by_name(obj, "jmp"), 0, NULL, "jmp");
	/* Programs reach their maps through their tables. */
	expect_runs(obj, "count", 1, 1, 1);
	expect_runs(obj, "count", 1, 3, 1);
	CHECK(bpfrt_map_lookup(arr, &key, &v) == 0 && v == 4, "arr[1] = %llu", (unsigned long long)v);
	CHECK(bpfrt_map_lookup(bpfrt_obj_map_by_name(obj, "counts"), &key, &v) == 0 && v == 1,
	      "counts[1] = %llu", (unsigned long long)v);
	key = 0;
	CHECK(bpfrt_map_update(in_a, &key, &v32, BPFRT_ANY) == 0, "in_a[0] = 42");
	/*
	 * Checked runs accept only the maps of the program's table as helper
	 * arguments, not inner maps found through a map of maps: unchecked.
	 */
	unchecked = true;
	expect_run(obj, "via_outer", 0, 42);
	expect_run(obj, "via_outer", 3, 0);
	expect_run(obj, "via_outer", 1, -1);
	unchecked = false;
out:
	bpfrt_obj_close(obj);
}

/* ---- Legacy maps ------------------------------------------------------------------------------- */

TEST(loader_legacy_maps)
{
	struct bpfrt_obj *obj = open_test("legacy", NULL);
	struct bpfrt_map *port_a, *outer;
	uint32_t key = 5;
	uint64_t n = 0;

	if (!obj)
		return;
	CHECK(bpfrt_obj_map_count(obj) == 3, "%zu maps", bpfrt_obj_map_count(obj));
	check_map(obj, "port_a", BPFRT_MAP_ARRAY, 4, 4, 4, 0);
	check_map(obj, "hits", BPFRT_MAP_HASH, 4, 8, 64, 1);
	check_map(obj, "a_of_port", BPFRT_MAP_ARRAY_OF_MAPS, 4, 4, 2, 0);
	CHECK(!strcmp(map_info(obj, "hits").section, "maps"), "section");
	CHECK(bpfrt_obj_kversion(obj) == 0x050a00, "version %#x", bpfrt_obj_kversion(obj));
	CHECK(prog_info(obj, "legacy_prog").type == BPFRT_PROG_SOCKET_FILTER, "socket1 type");
	CHECK(prog_info(obj, "legacy_outer").type == BPFRT_PROG_KPROBE, "kprobe type");
	if (!load(obj))
		goto out;
	expect_runs(obj, "legacy_prog", 5, 1, 1);
	CHECK(bpfrt_map_lookup(bpfrt_obj_map_by_name(obj, "hits"), &key, &n) == 0 && n == 2,
	      "hits[5] = %llu", (unsigned long long)n);
	/* port_a is the template of a_of_port, so it fits as an inner map. */
	port_a = bpfrt_obj_map_by_name(obj, "port_a");
	outer = bpfrt_obj_map_by_name(obj, "a_of_port");
	key = 1;
	CHECK(bpfrt_map_update(outer, &key, &port_a, BPFRT_ANY) == 0, "a_of_port[1] = port_a");
	expect_run(obj, "legacy_outer", 1, 1);
	expect_run(obj, "legacy_outer", 0, 0);
out:
	bpfrt_obj_close(obj);
}

/* ---- Global data ---------------------------------------------------------------------------------- */

TEST(loader_globals)
{
	static const char *const sections[] = {
		".rodata", ".rodata.cfg", ".data", ".data.custom", ".rodata.str1.1", ".bss",
	};
	struct bpfrt_obj *obj = open_test("globals", NULL);
	uint32_t u32 = 0;
	uint64_t u64 = 100;
	struct bpfrt_error err;
	int ret;

	if (!obj)
		return;
	CHECK(bpfrt_obj_map_count(obj) == ARRAY_LEN(sections), "%zu maps",
	      bpfrt_obj_map_count(obj));
	for (size_t i = 0; i < ARRAY_LEN(sections); i++) {
		struct bpfrt_obj_map_info m = map_info(obj, sections[i]);
		bool ro = !strncmp(sections[i], ".rodata", 7);

		CHECK(m.type == BPFRT_MAP_ARRAY && m.max_entries == 1 && m.key_size == 4 &&
		      (m.map_flags == (ro ? 0x80u : 0)), "%s: type %d flags %#x", sections[i],
		      m.type, m.map_flags);
	}
	CHECK(bpfrt_obj_get_global(obj, "cfg_mult", &u32, 4, &err) == 0 && u32 == 2,
	      "cfg_mult = %u (%s)", u32, err.msg);
	ret = bpfrt_obj_set_global(obj, "cfg_mult", &u64, 8, &err);
	CHECK(ret == -EINVAL && strstr(err.msg, "4 bytes"), "size check: %d %s", ret, err.msg);
	ret = bpfrt_obj_set_global(obj, "nope", &u32, 4, &err);
	CHECK(ret == -ENOENT && strstr(err.msg, "nope"), "unknown: %d %s", ret, err.msg);
	u32 = 3;
	CHECK(bpfrt_obj_set_global(obj, "cfg_mult", &u32, 4, &err) == 0, "%s", err.msg);
	CHECK(bpfrt_obj_set_global(obj, "cfg_add", &u64, 8, &err) == 0, "%s", err.msg);
	if (!load(obj))
		goto out;
	/* 2 * 3 + 100 + 5 + 11 + 'c' */
	expect_run(obj, "calc", 2, 6 + 100 + 5 + 11 + 'c');
	CHECK(bpfrt_obj_get_global(obj, "bss_val", &u32, 4, &err) == 0 && u32 == 4,
	      "bss_val = %u %s", u32, err.msg);
	CHECK(bpfrt_obj_get_global(obj, "hits", &u32, 4, &err) == 0 && u32 == 2,
	      "hits = %u %s", u32, err.msg);
	expect_run(obj, "get_hits", 1, 3);
	ret = bpfrt_obj_set_global(obj, "cfg_mult", &u32, 4, &err);
	CHECK(ret == -EPERM, "set .rodata after load: %d %s", ret, err.msg);
	u32 = 50;
	CHECK(bpfrt_obj_set_global(obj, "data_val", &u32, 4, &err) == 0, "%s", err.msg);
	expect_run(obj, "calc", 2, 6 + 100 + 50 + 11 + 'c');
out:
	bpfrt_obj_close(obj);
}

/* ---- What bpfrt cannot load yet -------------------------------------------------------------------- */

TEST(loader_core_rejected)
{
	struct bpfrt_obj *obj = open_test("core", NULL);
	struct bpfrt_error err;
	int ret;

	if (!obj)
		return;
	CHECK(prog_info(obj, "uses_core").core_relos == 2, "core relos: %u",
	      prog_info(obj, "uses_core").core_relos);
	CHECK(prog_info(obj, "plain").core_relos == 0, "plain has CO-RE relocations");
	CHECK(prog_info(obj, "uses_kconfig").unsupported &&
	      strstr(prog_info(obj, "uses_kconfig").unsupported, "LINUX_KERNEL_VERSION"),
	      "kconfig: %s", prog_info(obj, "uses_kconfig").unsupported);
	ret = bpfrt_obj_load(obj, &err);
	CHECK(ret == -ENOTSUP && !strcmp(err.msg, "program 'uses_core' uses CO-RE relocations "
					 "(2), which bpfrt does not support yet"),
	      "load: %d %s", ret, err.msg);
	CHECK(bpfrt_obj_prog_by_name(obj, "plain") == NULL, "a failed load left programs");
	bpfrt_obj_prog_set_autoload(obj, (size_t)bpfrt_obj_prog_find(obj, "uses_core"), false);
	ret = bpfrt_obj_load(obj, &err);
	CHECK(ret == -ENOTSUP && strstr(err.msg, "extern 'LINUX_KERNEL_VERSION'"),
	      "load: %d %s", ret, err.msg);
	bpfrt_obj_prog_set_autoload(obj, (size_t)bpfrt_obj_prog_find(obj, "uses_kconfig"), false);
	if (load(obj))
		expect_run(obj, "plain", 0, 2);
	CHECK(bpfrt_obj_prog_by_name(obj, "uses_core") == NULL, "uses_core loaded");
	ret = bpfrt_obj_load(obj, &err);
	CHECK(ret == -EBUSY, "second load: %d", ret);
	CHECK(bpfrt_obj_prog_set_autoload(obj, 0, true) == -EBUSY, "autoload after load");
	bpfrt_obj_close(obj);
}

/* ---- Bad input --------------------------------------------------------------------------------------- */

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) > 0 && !fseek(f, 0, SEEK_SET)) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

/* Are the object's maps small (a mutated max_entries can ask for gigabytes)? */
static bool maps_small(struct bpfrt_obj *obj)
{
	for (size_t i = 0; i < bpfrt_obj_map_count(obj); i++) {
		struct bpfrt_obj_map_info m;

		bpfrt_obj_map_at(obj, i, &m);
		if (m.max_entries > 4096 || m.key_size > 4096 || m.value_size > 65536)
			return false;
	}
	return true;
}

/* Open (and load, if it opens) buf; any failure must be an errno with a message. */
static int try_open(const uint8_t *buf, size_t len, struct bpfrt_error *err)
{
	struct bpfrt_obj *obj = NULL;
	int ret = bpfrt_obj_open_mem(buf, len, NULL, &obj, err);

	if (ret == 0) {
		if (maps_small(obj))
			ret = bpfrt_obj_load(obj, err);
		bpfrt_obj_close(obj);
	}
	if (ret)
		CHECK(ret < 0 && err->msg[0], "failure %d without a message", ret);
	return ret;
}

/* Make the symbol of the first call relocation (R_BPF_64_32) out of range. */
static bool break_call_reloc(uint8_t *buf, size_t len)
{
	for (size_t off = 0; off + 16 <= len; off += 8) {
		uint64_t r_off, info;

		memcpy(&r_off, buf + off, 8);
		memcpy(&info, buf + off + 8, 8);
		if ((info & 0xffffffff) == 10 && info >> 32 && info >> 32 < 200 &&
		    r_off % 8 == 0 && r_off < 4096) {
			info = (uint64_t)0xfffff << 32 | 10;
			memcpy(buf + off + 8, &info, 8);
			return true;
		}
	}
	return false;
}

TEST(loader_bad_input)
{
	struct bpfrt_obj *obj = NULL;
	struct bpfrt_error err;
	char path[512];
	uint8_t *buf;
	size_t len = 0;
	int ret;

	ret = bpfrt_obj_open("/nonexistent/x.o", NULL, &obj, &err);
	CHECK(ret == -ENOENT && strstr(err.msg, "cannot open"), "%d %s", ret, err.msg);
	ret = bpfrt_obj_open_mem("hello", 5, NULL, &obj, &err);
	CHECK(ret == -EINVAL && strstr(err.msg, "not an ELF file"), "%d %s", ret, err.msg);
	ret = bpfrt_obj_open("/proc/self/exe", NULL, &obj, &err);
	CHECK(ret == -EINVAL && strstr(err.msg, "not eBPF"), "%d %s", ret, err.msg);
	test_path("progs", path, sizeof(path));
	buf = read_all(path, &len);
	if (!CHECK(buf != NULL, "cannot read %s", path))
		return;
	BPFRT_OPTS(bpfrt_obj_opts, small, .name = "x");
	small.sz = 8;
	ret = bpfrt_obj_open_mem(buf, len, &small, &obj, &err);
	CHECK(ret == -EINVAL && strstr(err.msg, "size"), "small opts: %d %s", ret, err.msg);
	for (size_t cut = 0; cut < len; cut += len / 64 + 1)
		CHECK(try_open(buf, cut, &err) < 0, "truncated to %zu bytes opens", cut);
	if (CHECK(break_call_reloc(buf, len), "no call relocation found")) {
		ret = bpfrt_obj_open_mem(buf, len, NULL, &obj, &err);
		CHECK(ret == -EINVAL && strstr(err.msg, "relocation") &&
		      strstr(err.msg, "refers to symbol"), "%d %s", ret, err.msg);
	}
	free(buf);
}

/* Deterministic byte mutations of every test object: errors, never crashes. */
TEST(loader_mutations)
{
	static const char *const names[] = { "progs", "maps", "globals", "legacy", "core" };
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned opened = 0, total = 0;

	for (size_t o = 0; o < ARRAY_LEN(names); o++) {
		char path[512];
		size_t len = 0;
		uint8_t *orig, *buf;

		test_path(names[o], path, sizeof(path));
		orig = read_all(path, &len);
		buf = orig ? malloc(len) : NULL;
		if (!CHECK(buf != NULL, "cannot read %s", path)) {
			free(orig);
			continue;
		}
		for (int round = 0; round < 400; round++) {
			struct bpfrt_error err;

			memcpy(buf, orig, len);
			for (int k = 0; k < 1 + round % 4; k++) {
				seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
				buf[seed % len] ^= (uint8_t)(1u << (seed >> 40) % 8);
			}
			opened += try_open(buf, len, &err) == 0;
			total++;
		}
		free(buf);
		free(orig);
	}
	printf("loader_mutations: %u of %u mutated objects open\n", opened, total);
}

/* ---- The corpus of real-world objects ------------------------------------------------------------------ */

struct verdict {
	char project[32], object[64], section[96], type[32];
	unsigned insns;
	bool seen;	/* one of our programs is this one */
};

/* kernel_verdicts.tsv: project, object, section, prog_type, verdict, insns, ... */
static struct verdict *read_verdicts(const char *dir, size_t *n)
{
	char path[512], line[1024];
	struct verdict *v = NULL;
	FILE *f;

	*n = 0;
	snprintf(path, sizeof(path), "%s/kernel_verdicts.tsv", dir);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		struct verdict r = { .seen = false };
		struct verdict *nv;

		if (sscanf(line, "%31[^\t]\t%63[^\t]\t%95[^\t]\t%31[^\t]\t%*[^\t]\t%u",
			   r.project, r.object, r.section, r.type, &r.insns) != 5 ||
		    !(nv = realloc(v, (*n + 1) * sizeof(*v))))
			continue;
		v = nv;
		v[(*n)++] = r;
	}
	if (f)
		fclose(f);
	return v;
}

/*
 * What the kernel loaded: the types we recognise from section names must be
 * its, and each program (subprograms included) as many instructions.
 */
static void check_verdicts(struct bpfrt_obj *obj, const char *project, const char *object,
			   struct verdict *v, size_t nv)
{
	for (size_t i = 0; i < bpfrt_obj_prog_count(obj); i++) {
		struct bpfrt_obj_prog_info info;

		bpfrt_obj_prog_at(obj, i, &info);
		for (size_t k = 0; k < nv; k++) {
			if (strcmp(v[k].project, project) || strcmp(v[k].object, object) ||
			    strcmp(v[k].section, info.section))
				continue;
			v[k].seen = true;
			if (info.type != BPFRT_PROG_UNSPEC)
				CHECK(!strcmp(v[k].type, bpfrt_prog_type_name(info.type)),
				      "%s %s: type %s, the kernel's %s", object, info.section,
				      bpfrt_prog_type_name(info.type), v[k].type);
			CHECK(info.insn_cnt == v[k].insns, "%s %s: %zu insns, the kernel's %u",
			      object, info.section, info.insn_cnt, v[k].insns);
		}
	}
}

/* Load, leaving out programs that cannot load; returns how many loaded, or -1. */
static int load_what_loads(struct bpfrt_obj *obj, char *why, size_t len)
{
	struct bpfrt_error err;
	size_t n = bpfrt_obj_prog_count(obj), off = 0;

	why[0] = '\0';
	for (size_t tries = 0; tries <= n; tries++) {
		char name[128];
		int i;

		if (bpfrt_obj_load(obj, &err) == 0)
			return (int)(n - tries);
		off += (size_t)snprintf(why + off, off < len ? len - off : 0, "%s%s",
					off ? "; " : "", err.msg);
		if (off >= len || sscanf(err.msg, "program '%127[^']'", name) != 1 ||
		    (i = bpfrt_obj_prog_find(obj, name)) < 0)
			return -1;
		bpfrt_obj_prog_set_autoload(obj, (size_t)i, false);
	}
	return -1;
}

static void corpus_object(const char *dir, const char *project, const char *file,
			  struct verdict *v, size_t nv, unsigned counts[3])
{
	char path[1024], why[1024];
	struct bpfrt_obj *obj = NULL;
	struct bpfrt_error err;
	int ret, loaded;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, project, file);
	ret = bpfrt_obj_open(path, NULL, &obj, &err);
	counts[0]++;
	if (!CHECK(ret == 0, "corpus %s/%s does not open: %s", project, file, err.msg))
		return;
	counts[1]++;
	check_verdicts(obj, project, file, v, nv);
	loaded = load_what_loads(obj, why, sizeof(why));
	if (loaded == (int)bpfrt_obj_prog_count(obj))
		counts[2]++;
	else if (loaded >= 0)
		printf("  %s/%s: %d of %zu programs load: %s\n", project, file, loaded,
		       bpfrt_obj_prog_count(obj), why);
	else
		printf("  %s/%s: does not load: %s\n", project, file, why);
	bpfrt_obj_close(obj);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void corpus_project(const char *dir, const char *project, struct verdict *v,
			   size_t nv, unsigned counts[3])
{
	char path[512], *names[256];
	size_t n = 0;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, project);
	d = opendir(path);
	while (d && (e = readdir(d)) && n < ARRAY_LEN(names)) {
		size_t l = strlen(e->d_name);

		if (l > 2 && !strcmp(e->d_name + l - 2, ".o"))
			names[n++] = strdup(e->d_name);
	}
	if (d)
		closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (names[i])
			corpus_object(dir, project, names[i], v, nv, counts);
		free(names[i]);
	}
}

TEST(loader_corpus)
{
	static const char *const projects[] = { "linux", "prototype-kernel", "ovs", "suricata" };
	const char *dir = getenv("BPFRT_CORPUS") ? getenv("BPFRT_CORPUS") : "../shared/corpus";
	unsigned counts[3] = { 0 };	/* objects, opened, loaded whole */
	struct verdict *v;
	size_t nv;
	DIR *d = opendir(dir);

	if (!d) {
		printf("loader_corpus: skipped: no corpus at %s (set BPFRT_CORPUS)\n", dir);
		return;
	}
	closedir(d);
	v = read_verdicts(dir, &nv);
	for (size_t i = 0; i < ARRAY_LEN(projects); i++)
		corpus_project(dir, projects[i], v, nv, counts);
	for (size_t k = 0; k < nv; k++)
		CHECK(v[k].seen, "the kernel loaded %s %s %s, which we did not find",
		      v[k].project, v[k].object, v[k].section);
	printf("loader_corpus: %u objects, %u open, %u load with every program; "
	       "%zu programs match the kernel's table\n", counts[0], counts[1], counts[2], nv);
	CHECK(counts[0] > 0, "no objects in %s", dir);
	free(v);
}
