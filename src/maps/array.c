/* array.c — array and percpu_array: values at fixed offsets, copied under striped sequence locks. */
#include <errno.h>
#include <string.h>

#include "maps/map.h"
#include "maps/sync.h"
#include "util/error.h"

/*
 * Block: [header page: common header, stripes][values]. Value i is at
 * values + i * stride; per-CPU values are laid out [cpu][i], so each CPU's
 * values are contiguous. Programs read and write values in place, without
 * locks, as in the kernel. Copies in and out of user space take the value's
 * stripe (i % ARRAY_STRIPES): writers lock it and bump its sequence count,
 * readers retry until they copy between two equal even counts.
 */
#define ARRAY_STRIPES 32
#define PERCPU_VALUE_MAX 32768u	/* the kernel's per-CPU allocation limit */

struct array_stripe {
	plock_t lock;
	seq_t seq;
	uint8_t pad[56];
};

struct array_hdr {
	uint64_t values_off;
	uint64_t pad[7];
	struct array_stripe stripe[ARRAY_STRIPES];
};
_Static_assert(MAP_FAMILY_OFF + sizeof(struct array_hdr) <= MAP_PAGE, "array header");

static struct array_hdr *ahdr(const struct bpfrt_map *m)
{
	return (struct array_hdr *)(m->base + MAP_FAMILY_OFF);
}

static bool is_percpu(const struct bpfrt_map *m)
{
	return m->type == BPFRT_MAP_PERCPU_ARRAY;
}

static uint32_t key_index(const void *key)
{
	uint32_t i;

	memcpy(&i, key, sizeof(i));
	return i;
}

/* ---- Creation ------------------------------------------------------------ */

static int64_t array_check(struct map_block *b, const struct bpfrt_map_opts *o,
			   struct bpfrt_error *err)
{
	bool percpu = b->type == BPFRT_MAP_PERCPU_ARRAY;
	uint32_t allowed = MAP_F_NUMA_NODE | MAP_F_ACCESS_MASK | MAP_F_INNER_MAP |
			   (percpu ? 0 : MAP_F_MMAPABLE);
	uint64_t size = MAP_PAGE;
	int ret;

	(void)o;
	if (b->key_size != 4 || !b->value_size || !b->max_entries)
		return err_set(err, -EINVAL, -1,
			       "arrays need key_size 4, value_size > 0 and max_entries > 0");
	ret = map_check_flags(b, allowed, err);
	if (ret)
		return ret;
	if (percpu && b->value_size > PERCPU_VALUE_MAX)
		return err_set(err, -E2BIG, -1, "per-CPU values are at most %u bytes",
			       PERCPU_VALUE_MAX);
	if (!map_size_add(&size, (uint64_t)b->max_entries * (percpu ? b->ncpus : 1),
			  map_align(b->value_size, 8)))
		return err_set(err, -E2BIG, -1, "the array would be too big");
	return (int64_t)size;
}

static void array_init(struct bpfrt_map *m)
{
	ahdr(m)->values_off = MAP_PAGE;
}

static int array_attach(struct bpfrt_map *m)
{
	m->area = m->base + ahdr(m)->values_off;
	m->pcpu = m->area;
	return 0;
}

/* ---- The program face ---------------------------------------------------- */

static void *array_lookup(struct bpfrt_map *m, const void *key)
{
	uint32_t i = key_index(key);

	if (i >= m->max_entries)
		return NULL;
	return m->area + (size_t)i * m->stride;
}

static void *percpu_array_lookup_cpu(struct bpfrt_map *m, const void *key, uint32_t cpu)
{
	uint32_t i = key_index(key);

	return i < m->max_entries ? map_pcpu_value(m, i, cpu) : NULL;
}

static void *percpu_array_lookup(struct bpfrt_map *m, const void *key)
{
	return percpu_array_lookup_cpu(m, key, map_this_cpu(m));
}

/* Copy a value in: all CPUs' (user space, ncpus × stride bytes) or this CPU's. */
static void array_write(struct bpfrt_map *m, uint32_t i, const void *value, bool all)
{
	struct array_stripe *s = &ahdr(m)->stripe[i % ARRAY_STRIPES];

	plock_lock(&s->lock);
	seq_fix(&s->seq);	/* a writer that died mid-copy left it odd */
	seq_write_begin(&s->seq);
	if (!is_percpu(m))
		memcpy(m->area + (size_t)i * m->stride, value, m->value_size);
	else if (!all)
		memcpy(map_pcpu_value(m, i, map_this_cpu(m)), value, m->value_size);
	else
		for (uint32_t c = 0; c < m->ncpus; c++)
			memcpy(map_pcpu_value(m, i, c), (const uint8_t *)value + (size_t)c * m->stride,
			       m->stride);
	seq_write_end(&s->seq);
	plock_unlock(&s->lock);
}

static long array_update_common(struct bpfrt_map *m, const void *key, const void *value,
				uint64_t flags, bool all)
{
	uint32_t i = key_index(key);

	if ((flags & ~(uint64_t)BPFRT_F_LOCK) > BPFRT_EXIST || (flags & BPFRT_F_LOCK))
		return -EINVAL;	/* BPF_F_LOCK needs a bpf_spin_lock in the value */
	if (i >= m->max_entries)
		return -E2BIG;
	if (flags == BPFRT_NOEXIST)
		return -EEXIST;
	array_write(m, i, value, all);
	return 0;
}

static long array_update(struct bpfrt_map *m, const void *key, const void *value,
			 uint64_t flags)
{
	return array_update_common(m, key, value, flags, false);
}

static long array_delete(struct bpfrt_map *m, const void *key)
{
	(void)m, (void)key;
	return -EINVAL;
}

static long array_for_each(struct bpfrt_map *m, callback_fn_t fn, void *ctx)
{
	uint32_t cpu = map_this_cpu(m);
	long n = 0;

	for (uint32_t i = 0; i < m->max_entries; i++) {
		void *v = is_percpu(m) ? map_pcpu_value(m, i, cpu)
				       : m->area + (size_t)i * m->stride;

		n++;
		if (fn(m, &i, v, ctx))
			break;
	}
	return n;
}

static bool array_region(struct bpfrt_map *m, void **base, size_t *len)
{
	*base = m->area;
	*len = (size_t)m->max_entries * m->stride * (is_percpu(m) ? m->ncpus : 1);
	return true;
}

/* ---- The user-space face ------------------------------------------------- */

static void array_copy_out(struct bpfrt_map *m, uint32_t i, void *value)
{
	if (!is_percpu(m)) {
		memcpy(value, m->area + (size_t)i * m->stride, m->value_size);
		return;
	}
	for (uint32_t c = 0; c < m->ncpus; c++)
		memcpy((uint8_t *)value + (size_t)c * m->stride, map_pcpu_value(m, i, c),
		       m->stride);
}

static int array_sys_lookup(struct bpfrt_map *m, const void *key, void *value)
{
	uint32_t i = key_index(key), v;
	struct array_stripe *s;

	if (i >= m->max_entries)
		return -ENOENT;
	s = &ahdr(m)->stripe[i % ARRAY_STRIPES];
	for (int tries = 0; tries < SEQ_TRIES; tries++) {
		if (!seq_read_begin(&s->seq, &v)) {
			cpu_relax();
			continue;
		}
		array_copy_out(m, i, value);
		if (seq_read_ok(&s->seq, v))
			return 0;
	}
	plock_lock(&s->lock);
	seq_fix(&s->seq);
	array_copy_out(m, i, value);
	plock_unlock(&s->lock);
	return 0;
}

static int array_sys_update(struct bpfrt_map *m, const void *key, const void *value,
			    uint64_t flags)
{
	return (int)array_update_common(m, key, value, flags, true);
}

const struct map_ops array_ops = {
	.check = array_check,
	.init = array_init,
	.attach = array_attach,
	.lookup = array_lookup,
	.update = array_update,
	.delete = array_delete,
	.for_each = array_for_each,
	.value_region = array_region,
	.sys_lookup = array_sys_lookup,
	.sys_update = array_sys_update,
	.get_next_key = map_index_next_key,
};

const struct map_ops percpu_array_ops = {
	.check = array_check,
	.init = array_init,
	.attach = array_attach,
	.lookup = percpu_array_lookup,
	.update = array_update,
	.delete = array_delete,
	.lookup_percpu = percpu_array_lookup_cpu,
	.for_each = array_for_each,
	.value_region = array_region,
	.sys_lookup = array_sys_lookup,
	.sys_update = array_sys_update,
	.get_next_key = map_index_next_key,
};
