/* kernel.c — kreplay's backend: the object loaded into Linux with libbpf, packets through BPF_PROG_TEST_RUN. */
#include <errno.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "replay.h"

#define MAX_MAPS 64

const char rp_backend[] = "kernel";

static struct bpf_object *obj;
static struct bpf_program *prog;
static struct bpf_map *maps[MAX_MAPS];
static int nmaps;
static struct ring_buffer *rb;
static void (*record_fn)(const void *, size_t);

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN || getenv("KREPLAY_VERBOSE"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static struct bpf_program *find_prog(const char *name)
{
	struct bpf_program *p, *found = NULL;

	if (name)
		return bpf_object__find_program_by_name(obj, name);
	bpf_object__for_each_program(p, obj) {
		if (bpf_program__type(p) != BPF_PROG_TYPE_XDP)
			continue;
		if (found)
			return NULL;
		found = p;
	}
	return found;
}

/*
 * Set global NAME in the initial value of the global data map whose section's BTF has it,
 * before loading: its offset and size from the section's DATASEC.
 */
static int set_global(const char *name, uint64_t value)
{
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		const char *sec = strchr(bpf_map__name(m), '.');
		const struct btf_var_secinfo *vi;
		const struct btf_type *t;
		unsigned char *init;
		size_t size;
		int id;

		if (!btf || !sec || (id = btf__find_by_name_kind(btf, sec, BTF_KIND_DATASEC)) < 0)
			continue;
		t = btf__type_by_id(btf, id);
		vi = btf_var_secinfos(t);
		for (int i = 0; i < btf_vlen(t); i++, vi++) {
			const struct btf_type *var = btf__type_by_id(btf, vi->type);

			if (strcmp(btf__name_by_offset(btf, var->name_off), name))
				continue;
			if (vi->size > 8 || vi->size & (vi->size - 1))
				return rp_fail("global '%s' is %u bytes, not an integer", name, vi->size);
			init = malloc(bpf_map__value_size(m));
			if (!init)
				return 1;
			memcpy(init, bpf_map__initial_value(m, &size), bpf_map__value_size(m));
			memcpy(init + vi->offset, &value, vi->size);
			if (bpf_map__set_initial_value(m, init, bpf_map__value_size(m))) {
				free(init);
				return rp_fail("cannot set global '%s'", name);
			}
			free(init);
			return 0;
		}
	}
	return rp_fail("the object has no global variable '%s'", name);
}

int rp_open(const struct rp_args *a)
{
	struct bpf_map *m;
	int err;

	if (a->jit || a->unchecked || a->frames)
		return rp_fail("'jit', 'unchecked' and 'frames' are breplay's; the kernel decides for itself");
	libbpf_set_print(libbpf_quiet);
	obj = bpf_object__open_file(a->obj, NULL);
	if (!obj)
		return rp_fail("cannot open '%s': %s", a->obj, strerror(errno));
	for (int g = 0; g < a->nglobals; g++)
		if (set_global(a->globals[g].name, a->globals[g].value))
			return 1;
	err = bpf_object__load(obj);
	if (err) {
		bool skip = err == -EPERM || err == -ENOSYS;

		rp_fail("the kernel would not load '%s': %s%s", a->obj, strerror(-err),
			skip ? " (bpf() unavailable: skip)" : "");
		return skip ? 77 : 1;
	}
	prog = find_prog(a->prog);
	if (!prog)
		return a->prog ? rp_fail("'%s' has no program '%s'", a->obj, a->prog)
			       : rp_fail("'%s' has not exactly one XDP program", a->obj);
	bpf_object__for_each_map(m, obj) {
		if (nmaps == MAX_MAPS)
			return rp_fail("'%s' has more than %d maps", a->obj, MAX_MAPS);
		maps[nmaps++] = m;
	}
	return 0;
}

void rp_close(void)
{
	ring_buffer__free(rb);
	bpf_object__close(obj);
}

int rp_map_count(void)
{
	return nmaps;
}

void rp_map_info(int i, struct rp_map *m)
{
	m->name = bpf_map__name(maps[i]);
	m->key_size = bpf_map__key_size(maps[i]);
	m->value_size = bpf_map__value_size(maps[i]);
	m->ringbuf = bpf_map__type(maps[i]) == BPF_MAP_TYPE_RINGBUF;
	m->rdonly = bpf_map__map_flags(maps[i]) & BPF_F_RDONLY_PROG;
}

int rp_map_update(int i, const void *key, const void *value, uint64_t flags)
{
	return bpf_map_update_elem(bpf_map__fd(maps[i]), key, value, flags) ? -errno : 0;
}

int rp_map_next_key(int i, const void *prev, void *next)
{
	return bpf_map_get_next_key(bpf_map__fd(maps[i]), prev, next) ? -errno : 0;
}

int rp_map_lookup(int i, const void *key, void *value)
{
	return bpf_map_lookup_elem(bpf_map__fd(maps[i]), key, value) ? -errno : 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	record_fn(data, size);
	return 0;
}

int rp_ringbuf_open(int i)
{
	rb = ring_buffer__new(bpf_map__fd(maps[i]), on_record, NULL, NULL);
	if (!rb)
		return rp_fail("cannot read ring buffer '%s': %s", bpf_map__name(maps[i]), strerror(errno));
	return 0;
}

int rp_ringbuf_consume(void (*fn)(const void *data, size_t size))
{
	record_fn = fn;
	return ring_buffer__consume(rb) < 0 ? -EIO : 0;
}

int rp_run(const void *in, uint32_t len, void *out, uint32_t *out_len, unsigned int repeat,
	   uint32_t *retval, uint64_t *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len, .data_out = out,
		    .data_size_out = *out_len, .repeat = repeat);

	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
		return -errno;
	*out_len = opts.data_size_out;
	*retval = opts.retval;
	*ns = opts.duration;
	return 0;
}
