/* bloom.c — bloom_filter: k bits per value in a power-of-two bit array, set with atomic ors. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "maps/hashfn.h"
#include "maps/map.h"
#include "util/error.h"

/*
 * The bit array has about max_entries * k * 7/5 bits (k hash functions,
 * map_extra's low 4 bits, 5 when 0), rounded up to a power of two, at
 * least 64. Bit j of a value is h1 + j * h2 of its 64-bit hash (double
 * hashing). Values are never removed; a lookup says "maybe" (0) or "no"
 * (-ENOENT), never "no" for a value pushed.
 */
#define BLOOM_MAX_BITS (1ull << 31)

struct bloom_hdr {
	uint64_t seed;
	uint64_t bits_off;
	uint32_t nhash;
	uint32_t mask;	/* bits - 1 */
};

static struct bloom_hdr *bhdr(const struct bpfrt_map *m)
{
	return (struct bloom_hdr *)(m->base + MAP_FAMILY_OFF);
}

static uint64_t bloom_bits(const struct map_block *b)
{
	uint32_t k = (b->map_extra & 0xf) ? (uint32_t)(b->map_extra & 0xf) : 5;
	uint64_t n = (uint64_t)b->max_entries * k * 7 / 5, bits = 64;

	while (bits < n && bits < BLOOM_MAX_BITS)
		bits <<= 1;
	return bits;
}

static int64_t bloom_check(struct map_block *b, const struct bpfrt_map_opts *o,
			   struct bpfrt_error *err)
{
	int ret;

	(void)o;
	if (b->key_size || !b->value_size || !b->max_entries || (b->map_extra & ~0xfull))
		return err_set(err, -EINVAL, -1, "bloom filters need key_size 0, value_size > 0, "
			       "max_entries > 0 and map_extra <= 15");
	ret = map_check_flags(b, MAP_F_NUMA_NODE | MAP_F_ZERO_SEED | MAP_F_ACCESS_MASK, err);
	return ret ? ret : (int64_t)(MAP_PAGE + bloom_bits(b) / 8);
}

static void bloom_init(struct bpfrt_map *m)
{
	const struct map_block *b = (const struct map_block *)m->base;
	struct bloom_hdr *h = bhdr(m);
	uint64_t seed = 0;

	if (!(b->map_flags & MAP_F_ZERO_SEED) &&
	    getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = (uint64_t)(uintptr_t)m ^ HASH_K2;
	h->seed = seed;
	h->bits_off = MAP_PAGE;
	h->nhash = (b->map_extra & 0xf) ? (uint32_t)(b->map_extra & 0xf) : 5;
	h->mask = (uint32_t)(bloom_bits(b) - 1);
}

static int bloom_attach(struct bpfrt_map *m)
{
	m->area = m->base + bhdr(m)->bits_off;
	m->mask = bhdr(m)->mask;
	m->seed = bhdr(m)->seed;
	return 0;
}

static _Atomic uint64_t *word(const struct bpfrt_map *m, uint32_t bit)
{
	return (_Atomic uint64_t *)m->area + bit / 64;
}

static long bloom_push(struct bpfrt_map *m, const void *value, uint64_t flags)
{
	uint64_t h = map_hash64(value, m->value_size, m->seed);
	uint32_t h1 = (uint32_t)h, h2 = (uint32_t)(h >> 32) | 1;

	if (flags != BPFRT_ANY)
		return -EINVAL;
	for (uint32_t j = 0; j < bhdr(m)->nhash; j++) {
		uint32_t bit = (h1 + j * h2) & m->mask;

		atomic_fetch_or_explicit(word(m, bit), 1ull << (bit % 64), memory_order_relaxed);
	}
	return 0;
}

static long bloom_peek(struct bpfrt_map *m, void *value)
{
	uint64_t h = map_hash64(value, m->value_size, m->seed);
	uint32_t h1 = (uint32_t)h, h2 = (uint32_t)(h >> 32) | 1;

	for (uint32_t j = 0; j < bhdr(m)->nhash; j++) {
		uint32_t bit = (h1 + j * h2) & m->mask;

		if (!(atomic_load_explicit(word(m, bit), memory_order_relaxed) &
		      1ull << (bit % 64)))
			return -ENOENT;
	}
	return 0;
}

const struct map_ops bloom_ops = {
	.check = bloom_check,
	.init = bloom_init,
	.attach = bloom_attach,
	.push = bloom_push,
	.peek = bloom_peek,
};
