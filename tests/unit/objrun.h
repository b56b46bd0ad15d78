/* objrun.h — one eBPF object's programs run on bpfrt (both engines, both modes) and in Linux (libbpf, BPF_PROG_TEST_RUN), results compared.
 *
 * For the tail call and callback tests. An object's programs report through
 * a u64 array map (`result`, up to OR_NRES entries) and their return value;
 * a setup function fills the object's other maps the same way on both
 * sides before every run. The kernel side is skipped, with the reason
 * printed once, where bpf() is unavailable.
 */
#ifndef BPFRT_TEST_OBJRUN_H
#define BPFRT_TEST_OBJRUN_H

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bpfrt.h"
#include "t.h"

#define OR_NRES 8

/* What one run produced. */
struct or_result {
	int ret;			/* bpfrt_prog_run's (kernel: test_run's) */
	uint64_t retval;
	uint64_t res[OR_NRES];
	uint64_t hash_n, hash_keys;	/* the map named "hash" after the run: count, key sum */
	char msg[256];
};

/* One map on one side: bpfrt's, or a kernel fd. */
struct or_map {
	struct bpfrt_map *m;
	int fd;
};

static int or_update(struct or_map m, uint32_t key, uint64_t value)
{
	return m.m ? bpfrt_map_update(m.m, &key, &value, BPFRT_ANY)
		   : (bpf_map_update_elem(m.fd, &key, &value, BPF_ANY) ? -errno : 0);
}

/* Per-CPU maps of u64 values: v in every CPU's slot. */
static __attribute__((unused)) int or_update_percpu(struct or_map m, uint32_t key, uint64_t v)
{
	uint64_t vals[1024];
	unsigned n = 0;

	if (m.m) {
		struct bpfrt_map_info info;

		bpfrt_map_get_info(m.m, &info);
		n = info.ncpus;
	} else if (m.fd >= 0) {
		int c = libbpf_num_possible_cpus();

		n = c > 0 ? (unsigned)c : 0;
	}
	if (n == 0 || n > 1024)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		vals[i] = v;
	return m.m ? bpfrt_map_update(m.m, &key, vals, BPFRT_ANY)
		   : (bpf_map_update_elem(m.fd, &key, vals, BPF_ANY) ? -errno : 0);
}

static int or_lookup(struct or_map m, uint32_t key, uint64_t *value)
{
	return m.m ? bpfrt_map_lookup(m.m, &key, value)
		   : (bpf_map_lookup_elem(m.fd, &key, value) ? -errno : 0);
}

static __attribute__((unused)) int or_delete(struct or_map m, uint32_t key)
{
	return m.m ? bpfrt_map_delete(m.m, &key)
		   : (bpf_map_delete_elem(m.fd, &key) ? -errno : 0);
}

/* Fills the maps before a run: lookup(name) gives each side's map (m.m and m.fd unset if absent). */
typedef void (*or_setup_fn)(struct or_map (*lookup)(void *side, const char *name), void *side);

struct objrun {
	struct bpfrt_obj *obj;
	struct bpf_object *kobj;	/* NULL: no kernel comparison */
	const char *name;
	or_setup_fn setup;
};

static struct or_map or_ours(void *side, const char *name)
{
	struct or_map m = { bpfrt_obj_map_by_name(side, name), -1 };

	return m;
}

static struct or_map or_kernels(void *side, const char *name)
{
	struct bpf_map *km = bpf_object__find_map_by_name(side, name);
	struct or_map m = { NULL, km ? bpf_map__fd(km) : -1 };

	return m;
}

static bool or_present(struct or_map m)
{
	return m.m || m.fd >= 0;
}

/* Zero the result map, let the test fill the others. */
static void or_prepare(struct objrun *o, struct or_map (*lookup)(void *, const char *),
		       void *side)
{
	struct or_map r = lookup(side, "result");

	for (uint32_t k = 0; or_present(r) && k < OR_NRES; k++)
		or_update(r, k, 0);
	if (o->setup)
		o->setup(lookup, side);
}

static void or_collect(struct or_map (*lookup)(void *, const char *), void *side,
		       struct or_result *res)
{
	struct or_map r = lookup(side, "result"), h = lookup(side, "hash");

	for (uint32_t k = 0; or_present(r) && k < OR_NRES; k++)
		or_lookup(r, k, &res->res[k]);
	for (uint32_t k = 0; or_present(h) && k < 64; k++) {
		uint64_t v;

		if (or_lookup(h, k, &v) == 0) {
			res->hash_n++;
			res->hash_keys += k;
		}
	}
}

/* libbpf's warnings, kept to be shown only if the kernel refuses the object. */
static char or_libbpf_log[4096];

static int or_libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	size_t used = strlen(or_libbpf_log);

	if (level == LIBBPF_WARN && used < sizeof(or_libbpf_log) - 1)
		vsnprintf(or_libbpf_log + used, sizeof(or_libbpf_log) - used, fmt, ap);
	return 0;
}

/* Open and load name.o on both sides; every program gets bpfrt's helpers. */
static bool or_open(struct objrun *o, const char *name, or_setup_fn setup)
{
	static bool said;
	struct bpfrt_error err;
	char path[512];
	int ret;

	memset(o, 0, sizeof(*o));
	o->name = name;
	o->setup = setup;
	snprintf(path, sizeof(path), "%s/tests/bpf/%s.o", t_builddir(), name);
	ret = bpfrt_obj_open(path, NULL, &o->obj, &err);
	if (!CHECK(ret == 0, "open %s: %s", path, err.msg))
		return false;
	ret = bpfrt_obj_load(o->obj, &err);
	if (!CHECK(ret == 0, "load %s: %s", path, err.msg)) {
		bpfrt_obj_close(o->obj);
		return false;
	}
	for (size_t i = 0; i < bpfrt_obj_prog_count(o->obj); i++) {
		struct bpfrt_prog *p = bpfrt_obj_prog_at(o->obj, i, NULL);

		if (p)
			CHECK(bpfrt_prog_use_builtin_helpers(p) == 0, "helpers");
	}
	or_libbpf_log[0] = '\0';
	libbpf_set_print(or_libbpf_quiet);
	o->kobj = bpf_object__open_file(path, NULL);
	if (!o->kobj || bpf_object__load(o->kobj)) {
		if (!said)
			printf("  (kernel comparison skipped: loading %s into Linux failed: %s)\n%s",
			       name, strerror(errno), or_libbpf_log);
		said = true;
		bpf_object__close(o->kobj);
		o->kobj = NULL;
	}
	return true;
}

static void or_close(struct objrun *o)
{
	bpfrt_obj_close(o->obj);
	bpf_object__close(o->kobj);
}

/* Run prog on bpfrt (engine, checked) after setting the maps up. */
static void or_run_ours(struct objrun *o, const char *prog, int engine, bool checked,
			uint64_t budget, struct or_result *res)
{
	struct bpfrt_prog *p = bpfrt_obj_prog_by_name(o->obj, prog);
	uint8_t ctx[64] = { 0 };
	struct bpfrt_error err;

	memset(res, 0, sizeof(*res));
	if (!CHECK(p != NULL, "%s: no program %s", o->name, prog)) {
		res->ret = -ENOENT;
		return;
	}
	or_prepare(o, or_ours, o->obj);
	BPFRT_OPTS(bpfrt_run_opts, ro, .engine = engine ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP,
		   .checked = checked, .ctx = ctx, .ctx_len = sizeof(ctx), .budget = budget);
	res->ret = bpfrt_prog_run(p, &ro, &err);
	res->retval = ro.retval;
	if (res->ret)
		snprintf(res->msg, sizeof(res->msg), "%s", err.msg);
	or_collect(or_ours, o->obj, res);
}

/* The same in Linux; false if there is no kernel side. */
static bool or_run_kernel(struct objrun *o, const char *prog, struct or_result *res)
{
	struct bpf_program *kp;
	uint8_t data[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = data, .data_size_in = sizeof(data),
		    .repeat = 1);

	memset(res, 0, sizeof(*res));
	if (!o->kobj)
		return false;
	kp = bpf_object__find_program_by_name(o->kobj, prog);
	if (!CHECK(kp != NULL, "%s: the kernel has no program %s", o->name, prog))
		return false;
	or_prepare(o, or_kernels, o->kobj);
	res->ret = bpf_prog_test_run_opts(bpf_program__fd(kp), &t) ? -errno : 0;
	res->retval = t.retval;
	or_collect(or_kernels, o->kobj, res);
	return true;
}

static bool or_same(const struct or_result *a, const struct or_result *b)
{
	return a->ret == b->ret && a->retval == b->retval &&
	       !memcmp(a->res, b->res, sizeof(a->res)) && a->hash_n == b->hash_n &&
	       a->hash_keys == b->hash_keys;
}

static const char *or_str(const struct or_result *r, char *buf, size_t len)
{
	snprintf(buf, len, "ret %d r0 %llu res [%llu %llu %llu %llu] hash %llu/%llu %s",
		 r->ret, (unsigned long long)r->retval, (unsigned long long)r->res[0],
		 (unsigned long long)r->res[1], (unsigned long long)r->res[2],
		 (unsigned long long)r->res[3], (unsigned long long)r->hash_n,
		 (unsigned long long)r->hash_keys, r->msg);
	return buf;
}

/*
 * Run prog on the four engine/mode pairs: each must give `want` (retval and
 * result[0..nwant)), and all the same; then in the kernel, which must agree.
 * Returns the interpreter's checked result.
 */
static struct or_result or_expect(struct objrun *o, const char *prog, uint64_t retval,
				  const uint64_t *want, size_t nwant)
{
	struct or_result first = { 0 }, r, k;
	char b1[400], b2[400];

	for (int engine = 0; engine < 2; engine++) {
		for (int checked = 1; checked >= 0; checked--) {
			or_run_ours(o, prog, engine, checked, 0, &r);
			CHECK(r.ret == 0 && r.retval == retval, "%s/%s on %s %s: %s, want r0 %llu",
			      o->name, prog, engine ? "jit" : "interp",
			      checked ? "checked" : "unchecked", or_str(&r, b1, sizeof(b1)),
			      (unsigned long long)retval);
			for (size_t i = 0; i < nwant; i++)
				CHECK(r.res[i] == want[i], "%s/%s on %s %s: result[%zu] = %llu, "
				      "want %llu", o->name, prog, engine ? "jit" : "interp",
				      checked ? "checked" : "unchecked", i,
				      (unsigned long long)r.res[i], (unsigned long long)want[i]);
			if (engine == 0 && checked == 1)
				first = r;
			else
				CHECK(or_same(&r, &first), "%s/%s: %s differs from interp checked: "
				      "%s vs %s", o->name, prog, engine ? "jit" : "interp",
				      or_str(&r, b1, sizeof(b1)), or_str(&first, b2, sizeof(b2)));
		}
	}
	if (or_run_kernel(o, prog, &k))
		CHECK(or_same(&k, &first), "%s/%s: the kernel says %s, bpfrt %s", o->name,
		      prog, or_str(&k, b1, sizeof(b1)), or_str(&first, b2, sizeof(b2)));
	return first;
}

#endif /* BPFRT_TEST_OBJRUN_H */
