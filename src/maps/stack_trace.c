/* stack_trace.c — stack_trace: call stacks stored by bpf_get_stackid, read by id from user space. */
#include <errno.h>
#include <string.h>

#include "maps/map.h"
#include "maps/sync.h"
#include "util/error.h"

/*
 * Like the kernel's: value_size / 8 instruction pointers per stack, in
 * round_up_pow2(max_entries) buckets; a stack's id is its hash masked to a
 * bucket. A bucket holding another stack is -EEXIST unless the caller asks
 * for BPF_F_REUSE_STACKID. User space reads a stack by id (shorter stacks
 * are zero-padded), deletes it, or walks the ids; it cannot update one
 * (-EINVAL). Programs cannot look stacks up (the kernel's verifier refuses
 * it). One lock guards the buckets.
 *
 * Block: [header page][bucket 0]..[bucket n-1], each bucket { nr, hash, ips }.
 */
#define STACK_MAX_DEPTH 127u		/* the kernel's perf_event_max_stack */
#define STACK_F_BUILD_ID (1u << 5)	/* BPF_F_STACK_BUILD_ID: not supported */

struct st_hdr {
	plock_t lock;
	uint32_t nbuckets;
	uint32_t bucket_size;
};

struct st_bucket {
	uint32_t nr;	/* frames; 0: empty */
	uint32_t hash;
	uint64_t ips[];
};

static struct st_hdr *sthdr(const struct bpfrt_map *m)
{
	return (struct st_hdr *)(m->base + MAP_FAMILY_OFF);
}

static struct st_bucket *bucket(const struct bpfrt_map *m, uint32_t id)
{
	return (struct st_bucket *)(m->area + (size_t)id * m->elem_size);
}

static uint32_t round_pow2(uint32_t n)
{
	return n <= 1 ? 1 : 1u << (32 - __builtin_clz(n - 1));
}

static int64_t st_check(struct map_block *b, const struct bpfrt_map_opts *o,
			struct bpfrt_error *err)
{
	uint64_t size = MAP_PAGE;
	int ret;

	(void)o;
	if (b->map_flags & STACK_F_BUILD_ID)
		return err_set(err, -ENOTSUP, -1, "stack trace maps of build ids "
			       "(BPF_F_STACK_BUILD_ID) are not supported");
	if (b->key_size != 4 || b->value_size < 8 || b->value_size % 8 || !b->max_entries)
		return err_set(err, -EINVAL, -1, "stack trace maps need key_size 4, value_size a "
			       "multiple of 8 and max_entries > 0");
	if (b->value_size / 8 > STACK_MAX_DEPTH)
		return err_set(err, -EINVAL, -1, "value_size %u holds %u frames; at most %u",
			       b->value_size, b->value_size / 8, STACK_MAX_DEPTH);
	if (b->max_entries > 1u << 31)
		return err_set(err, -E2BIG, -1, "max_entries %u is too big", b->max_entries);
	ret = map_check_flags(b, MAP_F_NUMA_NODE | MAP_F_RDONLY | MAP_F_WRONLY, err);
	if (ret)
		return ret;
	if (!map_size_add(&size, round_pow2(b->max_entries), 8 + b->value_size))
		return err_set(err, -E2BIG, -1, "the stack trace map would be too big");
	return (int64_t)size;
}

static void st_init(struct bpfrt_map *m)
{
	sthdr(m)->nbuckets = round_pow2(m->max_entries);
	sthdr(m)->bucket_size = 8 + m->value_size;
}

static int st_attach(struct bpfrt_map *m)
{
	m->area = m->base + MAP_PAGE;
	m->elem_size = sthdr(m)->bucket_size;
	m->mask = sthdr(m)->nbuckets - 1;
	return 0;
}

/* FNV-1a over the frames, then mixed: any hash will do, ids are bpfrt's own. */
static uint32_t stack_hash(const uint64_t *ips, uint32_t nr)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint32_t i = 0; i < nr; i++)
		h = (h ^ ips[i]) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	return (uint32_t)(h ^ h >> 29);
}

long map_stack_trace_put(struct bpfrt_map *m, const uint64_t *ips, uint32_t nr,
			 uint64_t flags)
{
	uint32_t hash, id, max = m->value_size / 8;
	struct st_bucket *b;
	long ret;

	if (m->type != BPFRT_MAP_STACK_TRACE)
		return -EINVAL;
	if (nr > max)
		nr = max;
	if (!nr)
		return -EFAULT;
	hash = stack_hash(ips, nr);
	id = hash & m->mask;
	b = bucket(m, id);
	plock_lock(&sthdr(m)->lock);
	if (b->nr == nr && b->hash == hash &&
	    ((flags & MAP_F_FAST_STACK_CMP) || !memcmp(b->ips, ips, nr * 8ull))) {
		ret = id;
	} else if (b->nr && !(flags & MAP_F_REUSE_STACKID)) {
		ret = -EEXIST;
	} else {
		memcpy(b->ips, ips, nr * 8ull);
		b->hash = hash;
		b->nr = nr;
		ret = id;
	}
	plock_unlock(&sthdr(m)->lock);
	return ret;
}

static uint32_t index_of(const void *key)
{
	uint32_t i;

	memcpy(&i, key, sizeof(i));
	return i;
}

static int st_sys_lookup(struct bpfrt_map *m, const void *key, void *value)
{
	uint32_t id = index_of(key);
	struct st_bucket *b;
	int ret = -ENOENT;

	if (id > m->mask)
		return -ENOENT;
	b = bucket(m, id);
	plock_lock(&sthdr(m)->lock);
	if (b->nr) {
		memcpy(value, b->ips, b->nr * 8ull);
		memset((uint8_t *)value + b->nr * 8ull, 0, m->value_size - b->nr * 8ull);
		ret = 0;
	}
	plock_unlock(&sthdr(m)->lock);
	return ret;
}

static long st_delete(struct bpfrt_map *m, const void *key)
{
	uint32_t id = index_of(key);
	struct st_bucket *b;
	long ret = -ENOENT;

	if (id > m->mask)
		return -E2BIG;
	b = bucket(m, id);
	plock_lock(&sthdr(m)->lock);
	if (b->nr) {
		b->nr = 0;
		ret = 0;
	}
	plock_unlock(&sthdr(m)->lock);
	return ret;
}

/* The kernel's order: ascending ids; a key not in the map starts over. */
static int st_get_next_key(struct bpfrt_map *m, const void *key, void *next)
{
	uint32_t id = 0;

	if (key) {
		id = index_of(key);
		id = id > m->mask || !bucket(m, id)->nr ? 0 : id + 1;
	}
	while (id <= m->mask && !bucket(m, id)->nr)
		id++;
	if (id > m->mask)
		return -ENOENT;
	memcpy(next, &id, sizeof(id));
	return 0;
}

const struct map_ops stack_trace_ops = {
	.check = st_check,
	.init = st_init,
	.attach = st_attach,
	.delete = st_delete,
	.sys_lookup = st_sys_lookup,
	.get_next_key = st_get_next_key,
	.sys_update_err = -EINVAL,
};
