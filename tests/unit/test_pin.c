/* test_pin.c — pinned maps: round trips for every pinnable type, permissions, -EEXIST, objects sharing maps, processes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpfrt.h"
#include "maps/htab.h"
#include "t.h"

/* ---- Helpers ------------------------------------------------------------------------ */

/* A fresh temporary directory, also made the state directory (BPFRT_ROOT). */
static const char *fresh_root(void)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/bpfrt_pin_XXXXXX");
	if (!mkdtemp(dir))
		return NULL;
	setenv("BPFRT_ROOT", dir, 1);
	return dir;
}

static void rm_rf(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static struct bpfrt_map *new_map(enum bpfrt_map_type type, uint32_t ksz, uint32_t vsz,
				 uint32_t n, uint32_t flags, const char *name)
{
	BPFRT_OPTS(bpfrt_map_opts, o, .type = type, .key_size = ksz, .value_size = vsz,
		   .max_entries = n, .map_flags = flags, .name = name, .ncpus = 4);
	struct bpfrt_map *m = NULL;
	struct bpfrt_error err;
	int ret = bpfrt_map_create(&o, &m, &err);

	CHECK(ret == 0, "create %s: %d %s", name, ret, err.msg);
	return m;
}

static struct bpfrt_map *pin_and_open(struct bpfrt_map *m, const char *path)
{
	struct bpfrt_map *o = NULL;
	struct bpfrt_error err;
	int ret = bpfrt_map_pin(m, path, &err);

	if (!CHECK(ret == 0, "pin %s: %d %s", path, ret, err.msg))
		return NULL;
	ret = bpfrt_map_open_pinned(path, &o, &err);
	CHECK(ret == 0, "open %s: %d %s", path, ret, err.msg);
	return o;
}

/* ---- Round trips ---------------------------------------------------------------------- */

/* Keyed maps: a key written before pinning, one through each side after. */
static void keyed_round_trip(enum bpfrt_map_type type, uint32_t ksz, uint32_t flags,
			     bool percpu, const char *dir, const char *name)
{
	uint8_t key[8] = { 0 }, v[4 * 8], got[4 * 8];
	uint32_t vsz = percpu ? 4 * 8 : 8;
	char path[256];
	struct bpfrt_map *a = new_map(type, ksz, 8, 16, flags, name), *b;
	struct bpfrt_map_info ia, ib;
	int ret;

	if (!a)
		return;
	/* The byte that varies: the last address byte of an LPM key, else the low byte. */
	uint32_t vary = type == BPFRT_MAP_LPM_TRIE ? ksz - 1 : 0;

	if (type == BPFRT_MAP_LPM_TRIE)
		key[0] = 32;	/* prefix length, then 4 address bytes */
	key[vary] = 3;
	for (uint32_t i = 0; i < vsz; i++)
		v[i] = (uint8_t)(i * 7 + 1);
	ret = bpfrt_map_update(a, key, v, BPFRT_ANY);
	CHECK(ret == 0, "%s: update before pin: %d", name, ret);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	b = pin_and_open(a, path);
	if (!b)
		goto out;
	bpfrt_map_get_info(a, &ia);
	bpfrt_map_get_info(b, &ib);
	CHECK(ia.type == ib.type && ia.key_size == ib.key_size && ia.value_size == ib.value_size &&
	      ia.max_entries == ib.max_entries && ia.map_flags == ib.map_flags &&
	      ia.ncpus == ib.ncpus && !strcmp(ia.name, ib.name),
	      "%s: the opened map has the same geometry", name);
	memset(got, 0, sizeof(got));
	ret = bpfrt_map_lookup(b, key, got);
	CHECK(ret == 0 && !memcmp(got, v, vsz), "%s: value written before pin seen: %d", name, ret);
	/* Through the other side, both ways. */
	key[vary] = 9;
	v[0] = 0xee;
	ret = bpfrt_map_update(b, key, v, BPFRT_ANY);
	CHECK(ret == 0, "%s: update through the opened map: %d", name, ret);
	ret = bpfrt_map_lookup(a, key, got);
	CHECK(ret == 0 && !memcmp(got, v, vsz), "%s: pinner sees it: %d", name, ret);
	v[0] = 0x11;
	ret = bpfrt_map_update(a, key, v, BPFRT_EXIST);
	CHECK(ret == 0, "%s: update by pinner: %d", name, ret);
	ret = bpfrt_map_lookup(b, key, got);
	CHECK(ret == 0 && got[0] == 0x11, "%s: opener sees it: %d %#x", name, ret, got[0]);
	bpfrt_map_free(b);
out:
	bpfrt_map_free(a);
}

TEST(pin_round_trip_keyed)
{
	const char *dir = fresh_root();

	if (!CHECK(dir, "mkdtemp"))
		return;
	keyed_round_trip(BPFRT_MAP_HASH, 4, 0, false, dir, "hash");
	keyed_round_trip(BPFRT_MAP_HASH, 8, MAP_F_NO_PREALLOC, false, dir, "hash_np");
	keyed_round_trip(BPFRT_MAP_ARRAY, 4, 0, false, dir, "array");
	keyed_round_trip(BPFRT_MAP_PERCPU_HASH, 4, 0, true, dir, "percpu_hash");
	keyed_round_trip(BPFRT_MAP_PERCPU_ARRAY, 4, 0, true, dir, "percpu_array");
	keyed_round_trip(BPFRT_MAP_LRU_HASH, 4, 0, false, dir, "lru_hash");
	keyed_round_trip(BPFRT_MAP_LRU_PERCPU_HASH, 4, 0, true, dir, "lru_percpu");
	keyed_round_trip(BPFRT_MAP_LPM_TRIE, 8, MAP_F_NO_PREALLOC, false, dir, "lpm");
	rm_rf(dir);
}

TEST(pin_round_trip_keyless)
{
	const char *dir = fresh_root();
	char path[256];
	uint32_t v, got;
	struct bpfrt_map *a, *b;
	int ret;

	if (!CHECK(dir, "mkdtemp"))
		return;
	/* Queue and stack: pushed by one side, popped by the other, in their orders. */
	for (int stack = 0; stack < 2; stack++) {
		a = new_map(stack ? BPFRT_MAP_STACK : BPFRT_MAP_QUEUE, 0, 4, 8, 0,
			    stack ? "stack" : "queue");
		for (v = 1; v <= 3; v++)
			bpfrt_map_update(a, NULL, &v, BPFRT_ANY);
		snprintf(path, sizeof(path), "%s/%s", dir, stack ? "stack" : "queue");
		b = pin_and_open(a, path);
		if (b) {
			v = 4;
			CHECK(bpfrt_map_update(b, NULL, &v, BPFRT_ANY) == 0, "push through opener");
			for (uint32_t i = 0; i < 4; i++) {
				ret = bpfrt_map_lookup_and_delete(i % 2 ? a : b, NULL, &got);
				CHECK(ret == 0 && got == (stack ? 4 - i : i + 1),
				      "%s: pop %u gives %u (%d)", stack ? "stack" : "queue", i,
				      got, ret);
			}
			CHECK(bpfrt_map_lookup_and_delete(a, NULL, &got) == -ENOENT, "empty");
			bpfrt_map_free(b);
		}
		bpfrt_map_free(a);
	}
	/* Bloom filter: what one side adds, the other finds. */
	a = new_map(BPFRT_MAP_BLOOM_FILTER, 0, 4, 100, 0, "bloom");
	snprintf(path, sizeof(path), "%s/bloom", dir);
	v = 77;
	bpfrt_map_update(a, NULL, &v, BPFRT_ANY);
	b = pin_and_open(a, path);
	if (b) {
		CHECK(bpfrt_map_lookup(b, NULL, &v) == 0, "bloom: 77 maybe present");
		v = 78;
		bpfrt_map_update(b, NULL, &v, BPFRT_ANY);
		CHECK(bpfrt_map_lookup(a, NULL, &v) == 0, "bloom: 78 maybe present");
		bpfrt_map_free(b);
	}
	bpfrt_map_free(a);
	rm_rf(dir);
}

static int rb_collect(void *ctx, void *data, size_t size)
{
	uint32_t *sum = ctx;

	if (size == 4)
		*sum += *(uint32_t *)data;
	return 0;
}

TEST(pin_round_trip_ringbuf)
{
	const char *dir = fresh_root();
	char path[256];
	uint32_t sum = 0;
	struct bpfrt_map *a, *b;
	int ret;

	if (!CHECK(dir, "mkdtemp"))
		return;
	a = new_map(BPFRT_MAP_RINGBUF, 0, 0, 4096, 0, "rb");
	snprintf(path, sizeof(path), "%s/rb", dir);
	b = pin_and_open(a, path);
	if (b) {
		/* Enough records to wrap the 4 KiB ring several times: the mirror must follow the file. */
		for (uint32_t i = 1; i <= 1000; i++) {
			CHECK(map_ringbuf_output(a, &i, 4, 0) == 0, "output %u", i);
			if (i % 100 == 0) {
				ret = bpfrt_ringbuf_consume(b, rb_collect, &sum);
				CHECK(ret == 100, "consume through the opener: %d", ret);
			}
		}
		CHECK(sum == 500500, "sum of records %u", sum);
		bpfrt_map_free(b);
	}
	bpfrt_map_free(a);
	a = new_map(BPFRT_MAP_PERF_EVENT_ARRAY, 4, 4, 2, 0, "perf");
	snprintf(path, sizeof(path), "%s/perf", dir);
	b = pin_and_open(a, path);
	bpfrt_map_free(b);
	bpfrt_map_free(a);
	rm_rf(dir);
}

/* ---- Rules of pinning -------------------------------------------------------------------- */

TEST(pin_rules)
{
	const char *dir = fresh_root();
	char path[256], path2[640];
	struct bpfrt_map *a, *b = NULL, *pa, *inner, *aom;
	struct bpfrt_map_pin_info pi;
	struct bpfrt_error err;
	struct stat st;
	int ret, fd;

	if (!CHECK(dir, "mkdtemp"))
		return;
	a = new_map(BPFRT_MAP_HASH, 4, 4, 8, 0, "h");
	snprintf(path, sizeof(path), "%s/h", dir);
	CHECK(bpfrt_map_get_pin_info(a, &pi) == -ENOENT, "not pinned yet");
	ret = bpfrt_map_pin(a, path, &err);
	CHECK(ret == 0, "pin: %d %s", ret, err.msg);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode %o", st.st_mode & 0777);
	CHECK(bpfrt_map_get_pin_info(a, &pi) == 0 && pi.id >= 1 && pi.uid == geteuid() &&
	      pi.created > 0, "pin info: id %u", pi.id);
	/* A second pin of the same path: EEXIST; of another path: a hard link, same id. */
	ret = bpfrt_map_pin(a, path, &err);
	CHECK(ret == -EEXIST && strstr(err.msg, path), "pin over a file: %d %s", ret, err.msg);
	snprintf(path2, sizeof(path2), "%s/h2", dir);
	ret = bpfrt_map_pin(a, path2, &err);
	CHECK(ret == 0, "pin again: %d %s", ret, err.msg);
	ret = bpfrt_map_open_pinned(path2, &b, &err);
	if (CHECK(ret == 0, "open second pin: %d %s", ret, err.msg)) {
		struct bpfrt_map_pin_info pj;
		uint32_t k = 1, v = 5, got = 0;

		bpfrt_map_get_pin_info(b, &pj);
		CHECK(pj.id == pi.id, "same map, same id: %u %u", pj.id, pi.id);
		bpfrt_map_update(a, &k, &v, 0);
		CHECK(bpfrt_map_lookup(b, &k, &got) == 0 && got == 5, "shared through the link");
		bpfrt_map_free(b);
	}
	/* A file that is not ours, a missing one, a directory. */
	ret = bpfrt_map_open_pinned("/nonexistent/bpfrt/x", &b, &err);
	CHECK(ret == -ENOENT && strstr(err.msg, "no map pinned at '/nonexistent/bpfrt/x'"),
	      "missing: %d %s", ret, err.msg);
	snprintf(path2, sizeof(path2), "%s/junk", dir);
	fd = open(path2, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0 && write(fd, "hello, world", 12) == 12, "junk file");
	close(fd);
	ret = bpfrt_map_open_pinned(path2, &b, &err);
	CHECK(ret == -EINVAL && strstr(err.msg, "not a pinned bpfrt map"), "junk: %d %s", ret,
	      err.msg);
	ret = bpfrt_map_open_pinned(dir, &b, &err);
	CHECK(ret < 0 && b == NULL, "directory: %d %s", ret, err.msg);
	/* A truncated pinned file (a crash while pinning) is refused, not mapped. */
	snprintf(path2, sizeof(path2), "cp '%s' '%s/cut' && truncate -s 4096 '%s/cut'", path,
		 dir, dir);
	CHECK(system(path2) == 0, "make a cut copy");
	snprintf(path2, sizeof(path2), "%s/cut", dir);
	ret = bpfrt_map_open_pinned(path2, &b, &err);
	CHECK(ret == -EINVAL, "cut file: %d %s", ret, err.msg);
	/* Prog arrays and maps of maps: -ENOTSUP, and no file left behind. */
	pa = new_map(BPFRT_MAP_PROG_ARRAY, 4, 4, 4, 0, "pa");
	snprintf(path2, sizeof(path2), "%s/pa", dir);
	ret = bpfrt_map_pin(pa, path2, &err);
	CHECK(ret == -ENOTSUP && strstr(err.msg, "process"), "prog array: %d %s", ret, err.msg);
	CHECK(access(path2, F_OK) != 0, "no file for the prog array");
	inner = new_map(BPFRT_MAP_ARRAY, 4, 4, 1, 0, "inner");
	BPFRT_OPTS(bpfrt_map_opts, o, .type = BPFRT_MAP_ARRAY_OF_MAPS, .key_size = 4,
		   .value_size = 4, .max_entries = 2, .name = "aom", .inner = inner);
	ret = bpfrt_map_create(&o, &aom, &err);
	if (CHECK(ret == 0, "aom: %s", err.msg)) {
		ret = bpfrt_map_pin(aom, path2, &err);
		CHECK(ret == -ENOTSUP, "map of maps: %d", ret);
		bpfrt_map_free(aom);
	}
	bpfrt_map_free(inner);
	bpfrt_map_free(pa);
	/* The pin outlives the map object. */
	bpfrt_map_free(a);
	ret = bpfrt_map_open_pinned(path, &b, &err);
	if (CHECK(ret == 0, "reopen after free: %d %s", ret, err.msg)) {
		uint32_t k = 1, got = 0;

		CHECK(bpfrt_map_lookup(b, &k, &got) == 0 && got == 5, "contents persist");
		bpfrt_map_free(b);
	}
	rm_rf(dir);
}

TEST(pin_state_dir)
{
	char *old = getenv("BPFRT_ROOT") ? strdup(getenv("BPFRT_ROOT")) : NULL;
	char *oldx = getenv("XDG_RUNTIME_DIR") ? strdup(getenv("XDG_RUNTIME_DIR")) : NULL;
	char want[64];

	setenv("BPFRT_ROOT", "/some/where", 1);
	CHECK(!strcmp(bpfrt_state_dir(), "/some/where"), "BPFRT_ROOT: %s", bpfrt_state_dir());
	unsetenv("BPFRT_ROOT");
	setenv("XDG_RUNTIME_DIR", "/run/user/1234", 1);
	if (geteuid() == 0) {
		CHECK(!strcmp(bpfrt_state_dir(), "/run/bpfrt"), "root: %s", bpfrt_state_dir());
	} else {
		CHECK(!strcmp(bpfrt_state_dir(), "/run/user/1234/bpfrt"), "xdg: %s",
		      bpfrt_state_dir());
		unsetenv("XDG_RUNTIME_DIR");
		snprintf(want, sizeof(want), "/tmp/bpfrt-%u", (unsigned)geteuid());
		CHECK(!strcmp(bpfrt_state_dir(), want), "fallback: %s", bpfrt_state_dir());
	}
	if (old)
		setenv("BPFRT_ROOT", old, 1);
	if (oldx)
		setenv("XDG_RUNTIME_DIR", oldx, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	free(old);
	free(oldx);
}

static int count_path(void *ctx, const char *path)
{
	(void)path;
	++*(int *)ctx;
	return 0;
}

TEST(pin_registry_and_ids)
{
	const char *dir = fresh_root();
	char path[256];
	struct bpfrt_map *m[3];
	struct bpfrt_map_pin_info pi;
	uint32_t ids[3];
	int n = 0;

	if (!CHECK(dir, "mkdtemp"))
		return;
	for (int i = 0; i < 3; i++) {
		m[i] = new_map(BPFRT_MAP_ARRAY, 4, 4, 1, 0, "a");
		snprintf(path, sizeof(path), "%s/m%d", dir, i);
		CHECK(bpfrt_map_pin(m[i], path, NULL) == 0, "pin m%d", i);
		bpfrt_map_get_pin_info(m[i], &pi);
		ids[i] = pi.id;
	}
	CHECK(ids[0] == 1 && ids[1] == 2 && ids[2] == 3, "ids %u %u %u", ids[0], ids[1], ids[2]);
	CHECK(bpfrt_pinned_maps(count_path, &n) == 0 && n == 3, "registry lists %d", n);
	snprintf(path, sizeof(path), "%s/m1", dir);
	unlink(path);
	n = 0;
	CHECK(bpfrt_pinned_maps(count_path, &n) == 0 && n == 2, "unpinned ones are dropped: %d", n);
	for (int i = 0; i < 3; i++)
		bpfrt_map_free(m[i]);
	/* Ids stay unique across processes. */
	pid_t pid = fork();

	if (pid == 0) {
		struct bpfrt_map *c = new_map(BPFRT_MAP_ARRAY, 4, 4, 1, 0, "c");
		char p[256];

		snprintf(p, sizeof(p), "%s/child", dir);
		_exit(bpfrt_map_pin(c, p, NULL) == 0 && bpfrt_map_get_pin_info(c, &pi) == 0 &&
		      pi.id == 4 ? 0 : 1);
	}
	int st = 0;

	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child's map got id 4");
	rm_rf(dir);
}

/* ---- Objects sharing maps through a directory ---------------------------------------------- */

static struct bpfrt_obj *open_pin_obj(const char *dir, struct bpfrt_error *err, int *ret)
{
	struct bpfrt_obj *obj = NULL;
	char path[512];

	snprintf(path, sizeof(path), "%s/tests/bpf/pin.o", t_builddir());
	*ret = bpfrt_obj_open(path, NULL, &obj, err);
	if (!CHECK(*ret == 0, "open %s: %s", path, err->msg))
		return NULL;
	*ret = bpfrt_obj_pin_maps(obj, dir, err);
	CHECK(*ret == 0, "pin_maps %s: %s", dir, err->msg);
	return obj;
}

static int run_count(struct bpfrt_obj *obj, size_t len, enum bpfrt_engine engine)
{
	uint32_t buf[64] = { (uint32_t)len };	/* __sk_buff: len first */
	struct bpfrt_prog *prog = bpfrt_obj_prog_by_name(obj, "count");
	struct bpfrt_error err;
	int ret;

	if (!prog)
		return -ENOENT;
	bpfrt_prog_use_builtin_helpers(prog);
	BPFRT_OPTS(bpfrt_run_opts, r, .engine = engine, .checked = true, .ctx = buf,
		   .ctx_len = sizeof(buf));
	ret = bpfrt_prog_run(prog, &r, &err);
	CHECK(ret == 0, "run: %s", err.msg);
	return ret;
}

TEST(pin_obj_maps_shared)
{
	const char *root = fresh_root();
	char dir[256];
	struct bpfrt_obj *o1, *o2;
	struct bpfrt_error err;
	struct bpfrt_map_pin_info pi;
	uint64_t st[2] = { 0, 0 }, total = 0;
	uint32_t key = 1, zero = 0;
	int ret;

	if (!CHECK(root, "mkdtemp"))
		return;
	snprintf(dir, sizeof(dir), "%s/sub/maps", root);	/* created, parents too */
	o1 = open_pin_obj(dir, &err, &ret);
	o2 = open_pin_obj(dir, &err, &ret);
	if (!o1 || !o2)
		goto out;
	ret = bpfrt_obj_load(o1, &err);
	CHECK(ret == 0, "load 1: %s", err.msg);
	ret = bpfrt_obj_load(o2, &err);
	CHECK(ret == 0, "load 2: %s", err.msg);
	/* Programs of both objects count into the same maps, on both engines. */
	for (int i = 0; i < 10; i++)
		run_count(i % 2 ? o1 : o2, 100, i % 3 ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP);
	ret = bpfrt_map_lookup(bpfrt_obj_map_by_name(o1, "flows"), &key, st);
	CHECK(ret == 0 && st[0] == 10 && st[1] == 1000, "flows[1] = {%llu, %llu} (%d)",
	      (unsigned long long)st[0], (unsigned long long)st[1], ret);
	ret = bpfrt_map_lookup(bpfrt_obj_map_by_name(o2, "totals"), &zero, &total);
	CHECK(ret == 0 && total == 10, "totals[0] = %llu", (unsigned long long)total);
	/* The map carries the object's BTF and the key and value types. */
	ret = bpfrt_map_get_pin_info(bpfrt_obj_map_by_name(o2, "flows"), &pi);
	CHECK(ret == 0 && pi.btf && pi.btf_len > 0 && pi.key_type_id && pi.value_type_id,
	      "BTF kept: %d len %zu key %u value %u", ret, pi.btf_len, pi.key_type_id,
	      pi.value_type_id);
	bpfrt_obj_close(o1);
	bpfrt_obj_close(o2);
	/* A third object, loaded after both are gone, finds the counts. */
	o1 = open_pin_obj(dir, &err, &ret);
	if (o1 && CHECK(bpfrt_obj_load(o1, &err) == 0, "load 3: %s", err.msg)) {
		ret = bpfrt_map_lookup(bpfrt_obj_map_by_name(o1, "flows"), &key, st);
		CHECK(ret == 0 && st[0] == 10, "counts persist: %llu", (unsigned long long)st[0]);
	}
	bpfrt_obj_close(o1);
	/* A map pinned under the name with another shape: the load fails and says why. */
	snprintf(dir, sizeof(dir), "%s/other", root);
	mkdir(dir, 0700);
	{
		struct bpfrt_map *m = new_map(BPFRT_MAP_HASH, 4, 8, 64, 0, "flows");
		char p[300];

		snprintf(p, sizeof(p), "%s/flows", dir);
		CHECK(m && bpfrt_map_pin(m, p, NULL) == 0, "pin a wrong 'flows'");
		bpfrt_map_free(m);
		o1 = open_pin_obj(dir, &err, &ret);
		ret = o1 ? bpfrt_obj_load(o1, &err) : -1;
		CHECK(ret == -EINVAL && strstr(err.msg, "'flows'") &&
		      strstr(err.msg, "value_size 8, the object declares 16"),
		      "mismatch: %d %s", ret, err.msg);
		bpfrt_obj_close(o1);
	}
	o1 = o2 = NULL;
out:
	bpfrt_obj_close(o1);
	bpfrt_obj_close(o2);
	rm_rf(root);
}

/* ---- Processes sharing a pinned map -------------------------------------------------------- */

#define PROC_N 20000

/* Child: open the object with maps pinned in dir and run its counting program n times. */
static int child_count(const char *dir, int n)
{
	struct bpfrt_error err;
	struct bpfrt_obj *obj;
	char path[512];

	snprintf(path, sizeof(path), "%s/tests/bpf/pin.o", t_builddir());
	if (bpfrt_obj_open(path, NULL, &obj, &err) || bpfrt_obj_pin_maps(obj, dir, &err) ||
	    bpfrt_obj_load(obj, &err))
		return 1;
	for (int i = 0; i < n; i++)
		if (run_count(obj, 70, i % 2 ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP))
			return 1;
	bpfrt_obj_close(obj);
	return 0;
}

/* Child: write keys base..base+n-1 of the pinned map with self-checking values {i, ~i}. */
static int child_update(const char *path, uint32_t base, uint32_t n)
{
	struct bpfrt_map *m;

	if (bpfrt_map_open_pinned(path, &m, NULL))
		return 1;
	for (uint32_t round = 0; round < 20; round++)
		for (uint32_t i = 0; i < n; i++) {
			uint32_t k = base + i;
			uint64_t v[2] = { round * 1000000ull + i, ~(round * 1000000ull + i) };

			if (bpfrt_map_update(m, &k, v, BPFRT_ANY))
				return 1;
		}
	bpfrt_map_free(m);
	return 0;
}

TEST(pin_processes_concurrent)
{
	const char *root = fresh_root();
	char dir[256], path[300];
	struct bpfrt_map *m = NULL, *flows = NULL, *totals = NULL;
	pid_t pids[4];
	int st, torn = 0, reads = 0;

	if (!CHECK(root, "mkdtemp"))
		return;
	snprintf(dir, sizeof(dir), "%s/maps", root);
	snprintf(path, sizeof(path), "%s/kv", root);
	m = new_map(BPFRT_MAP_HASH, 4, 16, 2048, 0, "kv");
	if (!m || !CHECK(bpfrt_map_pin(m, path, NULL) == 0, "pin kv"))
		goto out;
	/* The object's maps exist before the children race to load it. */
	if (!CHECK(child_count(dir, 0) == 0, "first load"))
		goto out;
	for (int c = 0; c < 4; c++) {
		pids[c] = fork();
		if (pids[c] == 0)
			_exit(c < 2 ? child_count(dir, PROC_N) : child_update(path, (c - 2) * 1000, 1000));
	}
	/* Meanwhile, read live: values are never torn. */
	for (int spin = 0; spin < 200; spin++) {
		uint32_t k = (uint32_t)(spin * 7919) % 2000;
		uint64_t v[2];

		if (bpfrt_map_lookup(m, &k, v) == 0) {
			reads++;
			torn += v[1] != ~v[0];
		}
		usleep(500);
	}
	for (int c = 0; c < 4; c++) {
		waitpid(pids[c], &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d: status %#x", c, st);
	}
	CHECK(torn == 0, "%d torn values in %d live reads", torn, reads);
	/* No update lost: both counters saw every run of both children. */
	snprintf(path, sizeof(path), "%s/flows", dir);
	CHECK(bpfrt_map_open_pinned(path, &flows, NULL) == 0, "open flows");
	snprintf(path, sizeof(path), "%s/totals", dir);
	CHECK(bpfrt_map_open_pinned(path, &totals, NULL) == 0, "open totals");
	if (flows && totals) {
		uint32_t k1 = 1, zero = 0;
		uint64_t s[2] = { 0, 0 }, t = 0;

		bpfrt_map_lookup(flows, &k1, s);
		bpfrt_map_lookup(totals, &zero, &t);
		CHECK(s[0] == 2 * PROC_N && s[1] == 70ull * 2 * PROC_N && t == 2 * PROC_N,
		      "counts: packets %llu bytes %llu total %llu, want %d",
		      (unsigned long long)s[0], (unsigned long long)s[1],
		      (unsigned long long)t, 2 * PROC_N);
	}
	/* Both writers' keys are there with their last values. */
	{
		int bad = 0;

		for (uint32_t k = 0; k < 2000; k++) {
			uint64_t v[2];

			if (bpfrt_map_lookup(m, &k, v) || v[0] != 19 * 1000000ull + k % 1000 ||
			    v[1] != ~v[0])
				bad++;
		}
		CHECK(bad == 0, "%d keys missing or wrong", bad);
	}
out:
	bpfrt_map_free(flows);
	bpfrt_map_free(totals);
	bpfrt_map_free(m);
	rm_rf(root);
}

/* Writer that never stops: inserts, updates and deletes keys 0..255 of a small map. */
static void writer_forever(const char *path, unsigned seed)
{
	struct bpfrt_map *m;

	if (bpfrt_map_open_pinned(path, &m, NULL))
		_exit(1);
	for (uint64_t x = seed;; x = x * 6364136223846793005ull + 1442695040888963407ull) {
		uint32_t k = (uint32_t)(x >> 33) % 256;
		uint64_t v[2] = { x, ~x };

		if ((x >> 20) % 4 == 0)
			bpfrt_map_delete(m, &k);
		else
			bpfrt_map_update(m, &k, v, BPFRT_ANY);
	}
}

/* The map is whole: every element consistent, the walk ends, updates and deletes work. */
static int check_whole(struct bpfrt_map *m, uint32_t max, int *torn)
{
	uint32_t k, next, n = 0;
	uint64_t v[2];
	int ret;

	for (ret = bpfrt_map_get_next_key(m, NULL, &next); ret == 0;
	     ret = bpfrt_map_get_next_key(m, &k, &next)) {
		k = next;
		if (++n > max)
			return -ELOOP;
		if (bpfrt_map_lookup(m, &k, v) == 0 && v[1] != ~v[0])
			++*torn;
	}
	if (ret != -ENOENT)
		return ret;
	for (k = 0; k < 256; k++) {
		v[0] = k;
		v[1] = ~(uint64_t)k;
		ret = bpfrt_map_update(m, &k, v, BPFRT_ANY);
		if (ret && ret != -E2BIG)
			return ret;
		if (k % 2)
			bpfrt_map_delete(m, &k);
	}
	return 0;
}

TEST(pin_writer_killed)
{
	const char *root = fresh_root();
	static const struct { enum bpfrt_map_type type; const char *name; } kinds[] = {
		{ BPFRT_MAP_HASH, "hash" }, { BPFRT_MAP_LRU_HASH, "lru" },
	};
	int torn = 0, kills = 0;

	if (!CHECK(root, "mkdtemp"))
		return;
	srand((unsigned)time(NULL));
	for (size_t t = 0; t < sizeof(kinds) / sizeof(kinds[0]); t++) {
		char path[300];
		struct bpfrt_map *m = new_map(kinds[t].type, 4, 16, 128, 0, kinds[t].name);

		snprintf(path, sizeof(path), "%s/%s", root, kinds[t].name);
		if (!m || !CHECK(bpfrt_map_pin(m, path, NULL) == 0, "pin %s", path))
			continue;
		for (int round = 0; round < 40; round++) {
			pid_t pids[2];
			int st, ret;

			for (int c = 0; c < 2; c++) {
				pids[c] = fork();
				if (pids[c] == 0)
					writer_forever(path, (unsigned)(round * 2 + c + 1));
			}
			usleep(200 + (unsigned)(rand() % 3000));
			for (int c = 0; c < 2; c++) {
				kill(pids[c], SIGKILL);
				waitpid(pids[c], &st, 0);
				kills += WIFSIGNALED(st);
			}
			ret = check_whole(m, 128, &torn);
			if (!CHECK(ret == 0, "%s, round %d: the map after the kill: %d",
				   kinds[t].name, round, ret))
				break;
		}
		bpfrt_map_free(m);
	}
	CHECK(kills == 160, "%d writers killed", kills);
	/* A writer killed inside a value copy may leave that one value torn (docs/pinning.md). */
	CHECK(torn <= 2, "%d torn values after 160 kills", torn);
	rm_rf(root);
}

/* A list a dead process left damaged: the LRU map rebuilds it from its chains instead of hanging. */
TEST(pin_lru_list_repaired)
{
	struct bpfrt_map *m = new_map(BPFRT_MAP_LRU_HASH, 4, 8, 8, 0, "lru");
	struct htab_hdr *h;
	uint32_t k, next, n = 0;
	uint64_t v = 1;

	if (!m)
		return;
	for (k = 0; k < 8; k++)
		bpfrt_map_update(m, &k, &v, BPFRT_ANY);
	h = hhdr(m);
	h->lru_head = h->lru_tail = LRU_NONE;	/* every element in a chain, none on the list */
	k = 100;
	CHECK(bpfrt_map_update(m, &k, &v, BPFRT_ANY) == 0, "insert into the full map");
	k = 2;
	lnode(m, 5)->prev = 2;	/* a stale link: element 2 is its own neighbour's */
	h->lru_tail = 5;
	for (k = 200; k < 220; k++)
		CHECK(bpfrt_map_update(m, &k, &v, BPFRT_ANY) == 0, "insert %u", k);
	for (int ret = bpfrt_map_get_next_key(m, NULL, &next); ret == 0 && n < 100;
	     ret = bpfrt_map_get_next_key(m, &k, &next), n++)
		k = next;
	CHECK(n == 8, "%u elements, want 8", n);
	bpfrt_map_free(m);
}

/* ---- Program records ------------------------------------------------------------------------- */

TEST(pin_prog_record)
{
	const char *root = fresh_root();
	char dir[256], rec[256], rec2[256];
	struct bpfrt_obj *obj = NULL, *o2 = NULL;
	struct bpfrt_prog *prog;
	struct bpfrt_prog_record r, r2;
	struct bpfrt_error err;
	uint8_t tag[8];
	char hex[17];
	struct stat st;
	int ret;

	if (!CHECK(root, "mkdtemp"))
		return;
	snprintf(dir, sizeof(dir), "%s/maps", root);
	snprintf(rec, sizeof(rec), "%s/count", root);
	snprintf(rec2, sizeof(rec2), "%s/count2", root);
	obj = open_pin_obj(dir, &err, &ret);
	if (!obj || !CHECK(bpfrt_obj_load(obj, &err) == 0, "load: %s", err.msg))
		goto out;
	ret = bpfrt_obj_pin_prog(obj, 0, rec, &err);
	CHECK(ret == 0, "pin prog: %d %s", ret, err.msg);
	CHECK(stat(rec, &st) == 0 && (st.st_mode & 0777) == 0600, "record mode %o",
	      st.st_mode & 0777);
	ret = bpfrt_obj_pin_prog(obj, 0, rec, &err);
	CHECK(ret == -EEXIST, "pin over a record: %d", ret);
	ret = bpfrt_prog_record_read(rec, &r, &err);
	if (!CHECK(ret == 0, "read record: %s", err.msg))
		goto out;
	bpfrt_prog_tag(bpfrt_obj_prog_at(obj, 0, NULL), tag);
	for (int k = 0; k < 8; k++)
		snprintf(hex + 2 * k, 3, "%02x", tag[k]);
	CHECK(r.id == 1 && !strcmp(r.name, "count") && r.type == BPFRT_PROG_SOCKET_FILTER &&
	      !strcmp(r.tag, hex) && r.gpl && r.bytes_xlated == 8 * bpfrt_prog_insn_cnt(
						bpfrt_obj_prog_at(obj, 0, NULL)) &&
	      r.bytes_jited > 0 && r.nmap_ids == 2 && strstr(r.object, "/tests/bpf/pin.o") &&
	      !strcmp(r.maps_dir, dir), "record: id %u name %s tag %s/%s maps %u dir %s",
	      r.id, r.name, r.tag, hex, r.nmap_ids, r.maps_dir);
	/* Re-created elsewhere (here: a forked child), it counts into the same maps. */
	pid_t pid = fork();

	if (pid == 0) {
		struct bpfrt_obj *co;
		struct bpfrt_prog *cp;

		if (bpfrt_prog_open_pinned(rec, &co, &cp, NULL))
			_exit(1);
		bpfrt_prog_use_builtin_helpers(cp);
		for (int i = 0; i < 5; i++) {
			uint32_t buf[64] = { 10 };
			BPFRT_OPTS(bpfrt_run_opts, ro, .engine = i % 2 ? BPFRT_ENGINE_JIT
							       : BPFRT_ENGINE_INTERP,
				   .checked = true, .ctx = buf, .ctx_len = sizeof(buf));

			if (bpfrt_prog_run(cp, &ro, NULL))
				_exit(2);
		}
		bpfrt_obj_close(co);
		_exit(0);
	}
	int status = 0;
	uint32_t zero = 0, key0 = 0;
	uint64_t total = 0, s[2] = { 0, 0 };

	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %#x", status);
	bpfrt_map_lookup(bpfrt_obj_map_by_name(obj, "totals"), &zero, &total);
	bpfrt_map_lookup(bpfrt_obj_map_by_name(obj, "flows"), &key0, s);
	CHECK(total == 5 && s[0] == 5 && s[1] == 50, "the child's runs: total %llu flows {%llu,%llu}",
	      (unsigned long long)total, (unsigned long long)s[0], (unsigned long long)s[1]);
	/* Pinned twice: the same id. */
	ret = bpfrt_prog_record_pin(rec, rec2, &err);
	CHECK(ret == 0 && bpfrt_prog_record_read(rec2, &r2, NULL) == 0 && r2.id == r.id,
	      "second pin: %d %s", ret, err.msg);
	/* A record whose tag no longer matches the object: refused. */
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "sed -i 's/^tag .*/tag 0000000000000000/' '%s'", rec2);
		CHECK(system(cmd) == 0, "edit the record");
		ret = bpfrt_prog_open_pinned(rec2, &o2, &prog, &err);
		CHECK(ret == -ESTALE && strstr(err.msg, "changed"), "stale: %d %s", ret, err.msg);
	}
	ret = bpfrt_prog_record_read(dir, &r2, &err);
	CHECK(ret < 0, "a directory is no record: %d", ret);
	snprintf(rec2, sizeof(rec2), "%s/maps/flows", root);
	ret = bpfrt_prog_record_read(rec2, &r2, &err);
	CHECK(ret == -EINVAL && strstr(err.msg, "not a pinned bpfrt program"), "a map is no record: %d %s",
	      ret, err.msg);
out:
	bpfrt_obj_close(obj);
	rm_rf(root);
}

/* Loaded programs of objects with pinned maps are listed while their process runs them. */
struct live_scan {
	int mine, total;
	uint32_t id;
};

static int scan_live(void *ctx, const char *path)
{
	struct live_scan *s = ctx;
	struct bpfrt_prog_record r;

	if (bpfrt_prog_record_read(path, &r, NULL))
		return 0;
	s->total++;
	if (r.pid == getpid()) {
		s->mine++;
		s->id = r.id;
	}
	return 0;
}

TEST(pin_prog_live)
{
	const char *root = fresh_root();
	char dir[256], rec[256];
	struct live_scan s = { 0 };
	struct bpfrt_prog_record r;
	struct bpfrt_error err;
	struct bpfrt_obj *obj;
	int ret, fds[2];

	if (!CHECK(root, "mkdtemp"))
		return;
	snprintf(dir, sizeof(dir), "%s/maps", root);
	snprintf(rec, sizeof(rec), "%s/rec", root);
	obj = open_pin_obj(dir, &err, &ret);
	if (!obj || !CHECK(bpfrt_obj_load(obj, &err) == 0, "load: %s", err.msg))
		goto out;
	bpfrt_pinned_progs(scan_live, &s);
	CHECK(s.mine == 1 && s.total == 1, "a live record of ours: %d of %d", s.mine, s.total);
	/* Pinned, it keeps its id. */
	ret = bpfrt_obj_pin_prog(obj, 0, rec, &err);
	CHECK(ret == 0 && bpfrt_prog_record_read(rec, &r, NULL) == 0 && r.id == s.id && r.pid == 0,
	      "pinned with the live id %u: %u, pid %d", s.id, r.id, r.pid);
	bpfrt_obj_close(obj);
	obj = NULL;
	memset(&s, 0, sizeof(s));
	bpfrt_pinned_progs(scan_live, &s);
	CHECK(s.mine == 0 && s.total == 1, "closed: only the pinned record: %d of %d", s.mine,
	      s.total);
	/* A process killed while it runs the program: its record is dropped by the next reader. */
	if (!CHECK(pipe(fds) == 0, "pipe"))
		goto out;
	pid_t pid = fork();

	if (pid == 0) {
		struct bpfrt_obj *co;

		co = open_pin_obj(dir, &err, &ret);
		if (!co || bpfrt_obj_load(co, &err))
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	char c;

	CHECK(read(fds[0], &c, 1) == 1, "child loaded");
	memset(&s, 0, sizeof(s));
	bpfrt_pinned_progs(scan_live, &s);
	CHECK(s.total == 2, "the child's live record: %d", s.total);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	memset(&s, 0, sizeof(s));
	bpfrt_pinned_progs(scan_live, &s);
	CHECK(s.total == 1, "the dead child's record is dropped: %d", s.total);
	close(fds[0]);
	close(fds[1]);
out:
	bpfrt_obj_close(obj);
	rm_rf(root);
}

/* Pinning a map its programs already use: their pointers stay valid, their updates reach the file. */
TEST(pin_map_in_use)
{
	const char *root = fresh_root();
	char path[256], opath[512];
	struct bpfrt_obj *obj = NULL;
	struct bpfrt_map *flows, *copy = NULL;
	struct bpfrt_error err;
	uint32_t key = 1;
	uint64_t s[2] = { 0, 0 };
	int ret;

	if (!CHECK(root, "mkdtemp"))
		return;
	snprintf(opath, sizeof(opath), "%s/tests/bpf/pin.o", t_builddir());
	snprintf(path, sizeof(path), "%s/flows", root);
	ret = bpfrt_obj_open(opath, NULL, &obj, &err);
	if (!CHECK(ret == 0 && bpfrt_obj_load(obj, &err) == 0, "load: %s", err.msg))
		goto out;
	for (int engine = 0; engine < 2; engine++) {
		run_count(obj, 100, (enum bpfrt_engine)engine);	/* prepares both engines */
		run_count(obj, 100, (enum bpfrt_engine)engine);
	}
	flows = bpfrt_obj_map_by_name(obj, "flows");
	ret = bpfrt_map_pin(flows, path, &err);
	CHECK(ret == 0, "pin in use: %d %s", ret, err.msg);
	for (int i = 0; i < 6; i++)
		run_count(obj, 100, i % 2 ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP);
	ret = bpfrt_map_open_pinned(path, &copy, &err);
	if (CHECK(ret == 0, "open: %s", err.msg)) {
		ret = bpfrt_map_lookup(copy, &key, s);
		CHECK(ret == 0 && s[0] == 10 && s[1] == 1000,
		      "the file has every run, before and after pinning: {%llu, %llu}",
		      (unsigned long long)s[0], (unsigned long long)s[1]);
		bpfrt_map_free(copy);
	}
out:
	bpfrt_obj_close(obj);
	rm_rf(root);
}

/* A process that dies holding a reserved ring buffer record does not stop the consumer for good. */
TEST(pin_ringbuf_reserver_killed)
{
	const char *root = fresh_root();
	char path[256];
	struct bpfrt_map *rb = NULL;
	uint32_t sum = 0, v;
	int fds[2], ret;

	if (!CHECK(root, "mkdtemp") || !CHECK(pipe(fds) == 0, "pipe"))
		return;
	snprintf(path, sizeof(path), "%s/rb", root);
	rb = new_map(BPFRT_MAP_RINGBUF, 0, 0, 4096, 0, "rb");
	if (!rb || !CHECK(bpfrt_map_pin(rb, path, NULL) == 0, "pin"))
		goto out;
	v = 1;
	map_ringbuf_output(rb, &v, 4, 0);
	pid_t pid = fork();

	if (pid == 0) {
		struct bpfrt_map *c;
		uint32_t *rec;

		if (bpfrt_map_open_pinned(path, &c, NULL) || !(rec = map_ringbuf_reserve(c, 4, 0)))
			_exit(1);
		*rec = 1000;
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		pause();	/* killed before submitting */
		_exit(0);
	}
	char c;

	CHECK(read(fds[0], &c, 1) == 1, "child reserved");
	v = 2;
	map_ringbuf_output(rb, &v, 4, 0);
	ret = bpfrt_ringbuf_consume(rb, rb_collect, &sum);
	CHECK(ret == 1 && sum == 1, "stops at the live reserver's record: %d records, sum %u", ret,
	      sum);
	ret = bpfrt_ringbuf_consume(rb, rb_collect, &sum);
	CHECK(ret == 0, "still waiting for it: %d", ret);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ret = bpfrt_ringbuf_consume(rb, rb_collect, &sum);
	CHECK(ret == 1 && sum == 3, "past the dead reserver's record: %d records, sum %u", ret, sum);
	/* And the ring goes on working, around its end several times. */
	for (v = 1; v <= 600; v++)
		map_ringbuf_output(rb, &v, 4, 0), bpfrt_ringbuf_consume(rb, rb_collect, &sum);
	CHECK(sum == 3 + 180300, "600 more records: sum %u", sum);
out:
	close(fds[0]);
	close(fds[1]);
	bpfrt_map_free(rb);
	rm_rf(root);
}

/* Damaged block headers: refused with a message, or opened and usable — never a crash. */
TEST(pin_damaged_files)
{
	static const struct { enum bpfrt_map_type type; uint32_t k, v, n; } kinds[] = {
		{ BPFRT_MAP_HASH, 4, 8, 64 }, { BPFRT_MAP_ARRAY, 4, 8, 16 },
		{ BPFRT_MAP_LRU_PERCPU_HASH, 4, 8, 32 }, { BPFRT_MAP_LPM_TRIE, 8, 8, 16 },
		{ BPFRT_MAP_QUEUE, 0, 8, 16 }, { BPFRT_MAP_RINGBUF, 0, 0, 4096 },
	};
	const char *root = fresh_root();
	char good[256], bad[300];
	struct bpfrt_error err;
	int refused = 0, opened = 0, crashed = 0;

	if (!CHECK(root, "mkdtemp"))
		return;
	srand(12345);
	for (size_t t = 0; t < sizeof(kinds) / sizeof(kinds[0]); t++) {
		struct bpfrt_map *m = new_map(kinds[t].type, kinds[t].k, kinds[t].v, kinds[t].n,
					      kinds[t].type == BPFRT_MAP_LPM_TRIE ? MAP_F_NO_PREALLOC : 0,
					      "d");

		snprintf(good, sizeof(good), "%s/good%zu", root, t);
		if (!m || !CHECK(bpfrt_map_pin(m, good, NULL) == 0, "pin %zu", t))
			continue;
		bpfrt_map_free(m);
		for (int round = 0; round < 60; round++) {
			uint8_t buf[4096];
			int fd, st;
			pid_t pid;

			snprintf(bad, sizeof(bad), "%s/bad", root);
			fd = open(good, O_RDONLY);
			if (fd < 0 || pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf)) {
				CHECK(0, "read %s", good);
				break;
			}
			close(fd);
			/*
			 * One to three bytes of the block header (the geometry); the
			 * family header after it is live shared state, trusted like
			 * shared memory (docs/pinning.md).
			 */
			for (int k = rand() % 3; k >= 0; k--)
				buf[8 + rand() % (MAP_FAMILY_OFF - 8)] ^= (uint8_t)(1 + rand() % 255);
			char cmd[700];

			snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", good, bad);
			if (system(cmd) != 0)
				break;
			fd = open(bad, O_WRONLY);
			if (fd < 0 || pwrite(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
				break;
			close(fd);
			pid = fork();
			if (pid == 0) {
				struct bpfrt_map *d;
				uint8_t key[8] = { 32 }, val[4096 * 8] = { 0 }, next[8];

				alarm(10);
				if (bpfrt_map_open_pinned(bad, &d, &err))
					_exit(3);
				for (uint32_t i = 0; i < 20; i++) {
					key[kinds[t].k ? kinds[t].k - 1 : 0] = (uint8_t)i;
					bpfrt_map_update(d, kinds[t].k ? key : NULL, val, 0);
					bpfrt_map_lookup(d, kinds[t].k ? key : NULL, val);
					bpfrt_map_get_next_key(d, key, next);
				}
				bpfrt_map_free(d);
				_exit(0);
			}
			waitpid(pid, &st, 0);
			if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
				refused++;
			else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
				opened++;
			else
				crashed++, CHECK(0, "type %u, round %d: the damaged map crashed or hung "
						 "(status %#x)", kinds[t].type, round, st);
			unlink(bad);
		}
	}
	CHECK(crashed == 0 && refused > 0, "%d refused, %d opened, %d crashed", refused, opened,
	      crashed);
	rm_rf(root);
}

/* Frozen: no user-space writes in any process sharing the map; programs still write. */
TEST(pin_freeze)
{
	const char *root = fresh_root();
	char dir[256], path[300];
	struct bpfrt_obj *obj = NULL;
	struct bpfrt_map *flows, *other = NULL;
	struct bpfrt_error err;
	uint32_t key = 1;
	uint64_t v[2] = { 5, 5 };
	int ret;

	if (!CHECK(root, "mkdtemp"))
		return;
	snprintf(dir, sizeof(dir), "%s/maps", root);
	obj = open_pin_obj(dir, &err, &ret);
	if (!obj || !CHECK(bpfrt_obj_load(obj, &err) == 0, "load: %s", err.msg))
		goto out;
	flows = bpfrt_obj_map_by_name(obj, "flows");
	CHECK(!bpfrt_map_frozen(flows) && bpfrt_map_update(flows, &key, v, 0) == 0, "writable");
	CHECK(bpfrt_map_freeze(flows) == 0 && bpfrt_map_frozen(flows), "freeze");
	CHECK(bpfrt_map_freeze(flows) == -EBUSY, "freeze twice: -EBUSY");
	CHECK(bpfrt_map_update(flows, &key, v, 0) == -EPERM, "update: -EPERM");
	CHECK(bpfrt_map_delete(flows, &key) == -EPERM, "delete: -EPERM");
	CHECK(bpfrt_map_lookup_and_delete(flows, &key, v) == -EPERM, "lookup_and_delete: -EPERM");
	snprintf(path, sizeof(path), "%s/flows", dir);
	if (CHECK(bpfrt_map_open_pinned(path, &other, &err) == 0, "open: %s", err.msg)) {
		CHECK(bpfrt_map_frozen(other) && bpfrt_map_update(other, &key, v, 0) == -EPERM,
		      "frozen for the other opener too");
	}
	for (int i = 0; i < 4; i++)
		run_count(obj, 100, i % 2 ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP);
	CHECK(bpfrt_map_lookup(other, &key, v) == 0 && v[0] == 9 && v[1] == 405,
	      "programs still write: {%llu, %llu}", (unsigned long long)v[0],
	      (unsigned long long)v[1]);
	bpfrt_map_free(other);
out:
	bpfrt_obj_close(obj);
	rm_rf(root);
}

/*
 * A writer killed inside a value copy leaves its sequence count odd. The
 * next writer must repair it before writing, or every later write would
 * leave the count odd and, while it writes, even: readers could then copy
 * half-written values without noticing.
 */
TEST(pin_dead_writer_seq)
{
	struct bpfrt_map *h = new_map(BPFRT_MAP_HASH, 4, 8, 8, 0, "h");
	struct bpfrt_map *a = new_map(BPFRT_MAP_ARRAY, 4, 8, 8, 0, "a");
	uint32_t k = 1;
	uint64_t v = 7, got = 0;

	if (!h || !a)
		goto out;
	CHECK(bpfrt_map_update(h, &k, &v, 0) == 0, "hash insert");
	int64_t slot = htab_slot_of(h, &k);
	seq_t *hs = &helem(h, (uint32_t)slot)->seq;
	/* The array's stripe of index 1: after values_off and padding, {lock, seq} per 64 bytes. */
	seq_t *as = (seq_t *)(a->base + MAP_FAMILY_OFF + 64 + 64 * 1 + sizeof(plock_t));

	CHECK(slot >= 0 && !(atomic_load(hs) & 1) && !(atomic_load(as) & 1), "even to start with");
	atomic_fetch_add(hs, 1);	/* what a writer killed mid-copy leaves */
	atomic_fetch_add(as, 1);
	v = 8;
	CHECK(bpfrt_map_update(h, &k, &v, BPFRT_EXIST) == 0, "hash update after the dead writer");
	CHECK(bpfrt_map_update(a, &k, &v, 0) == 0, "array update after the dead writer");
	CHECK(!(atomic_load(hs) & 1), "hash: the count is even after the update: %u", atomic_load(hs));
	CHECK(!(atomic_load(as) & 1), "array: the count is even after the update: %u", atomic_load(as));
	CHECK(bpfrt_map_lookup(h, &k, &got) == 0 && got == 8, "hash value %llu", (unsigned long long)got);
	CHECK(bpfrt_map_lookup(a, &k, &got) == 0 && got == 8, "array value %llu", (unsigned long long)got);
out:
	bpfrt_map_free(h);
	bpfrt_map_free(a);
}
