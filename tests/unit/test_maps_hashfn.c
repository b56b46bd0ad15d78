/* test_maps_hashfn.c — the hash maps' key hash: which function a block uses, where keys land, how evenly patterned keys spread. */
#include <errno.h>
#include <string.h>

#include "bpfrt.h"
#include "maps/hashfn.h"
#include "maps/htab.h"
#include "t.h"

static struct bpfrt_map *mk(uint32_t ks, uint32_t max, uint32_t flags)
{
	BPFRT_OPTS(bpfrt_map_opts, o, .type = BPFRT_MAP_HASH, .key_size = ks, .value_size = 8,
		   .max_entries = max, .map_flags = flags);
	struct bpfrt_map *m = NULL;
	struct bpfrt_error err;

	CHECK(bpfrt_map_create(&o, &m, &err) == 0, "create: %s", err.msg);
	return m;
}

/* Is the element holding key in bucket b's chain? */
static bool in_bucket(struct bpfrt_map *m, uint32_t b, const void *key)
{
	uint32_t link = atomic_load(&hbucket(m, b)->head);

	for (uint32_t n = 0; !(link & 1) && n <= m->max_entries; n++) {
		struct htab_elem *e = helem(m, link >> 1);

		if (!memcmp(e->key, key, m->key_size))
			return true;
		link = atomic_load(&e->next);
	}
	return false;
}

/*
 * New blocks hash 4-byte keys with map_hash4 (one multiply); a block whose
 * header says otherwise (an older build's) keeps map_hash, for every
 * operation of both faces. The placement is checked against the functions
 * themselves, so a face that used the other one would miss the key.
 */
TEST(maps_hashfn_which)
{
	for (int old = 0; old < 2; old++) {
		struct bpfrt_map *m = mk(4, 1024, 0);
		long misplaced = 0, missed = 0;

		if (!m)
			return;
		CHECK(htab_hash4_fast(m), "a new block hashes 4-byte keys with map_hash4");
		if (old)
			hhdr(m)->hash4 = 0;	/* empty: as if an older build had made it */
		for (uint32_t i = 0; i < 700; i++) {
			uint32_t k = i * 2654435761u, b;
			uint64_t v = i, got = 0;

			CHECK(bpfrt_map_update(m, &k, &v, BPFRT_NOEXIST) == 0, "insert %u", i);
			b = (old ? map_hash(&k, 4, m->seed) : map_hash4(&k, m->seed)) & m->mask;
			misplaced += !in_bucket(m, b, &k);
			missed += m->ops->lookup(m, &k) == NULL ||
				  bpfrt_map_lookup(m, &k, &got) != 0 || got != v;
		}
		CHECK(misplaced == 0, "%s: every key in its function's bucket (%ld not)",
		      old ? "older block, map_hash" : "map_hash4", misplaced);
		CHECK(missed == 0, "%s: both faces find every key (%ld missed)",
		      old ? "older block" : "new block", missed);
		for (uint32_t i = 0; i < 700; i += 2) {
			uint32_t k = i * 2654435761u;

			CHECK(bpfrt_map_delete(m, &k) == 0, "delete %u", i);
		}
		for (uint32_t i = 0; i < 700; i++) {
			uint32_t k = i * 2654435761u;
			uint64_t got;

			CHECK((bpfrt_map_lookup(m, &k, &got) == 0) == (i & 1),
			      "key %u %s after deleting the even ones", i, i & 1 ? "kept" : "gone");
		}
		bpfrt_map_free(m);
	}
}

static uint32_t bswap(uint32_t x)
{
	return __builtin_bswap32(x);
}

/*
 * Keys with structure (counters, shifted counters, network byte order,
 * addresses in one /16) must spread at least as well as random ones: 10,000
 * keys in 16,384 buckets leave about e^-0.61 = 54% of buckets empty (a
 * multiplicative hash often leaves fewer), and the longest chain stays short. Both seeds (random and BPF_F_ZERO_SEED), 4- and
 * 8-byte keys.
 */
TEST(maps_hashfn_spread)
{
	enum { N = 10000, B = 16384 };
	static const char *const names[] = { "i", "i << 4", "i << 12", "i << 18", "bswap(i)",
					     "10.1.x.y", "i * 2^32 (8 bytes)", "i (8 bytes)" };

	for (int zero = 0; zero < 2; zero++) {
		for (int pat = 0; pat < 8; pat++) {
			uint32_t ks = pat >= 6 ? 8 : 4, empty = 0, longest = 0;
			struct bpfrt_map *m = mk(ks, N, zero ? MAP_F_ZERO_SEED : 0);

			if (!m)
				return;
			for (uint32_t i = 0; i < N; i++) {
				uint64_t k, v = i;
				uint32_t k32[] = { i, i << 4, i << 12, i << 18, bswap(i),
						   bswap(0x0a010000u | i) };

				k = pat == 6 ? (uint64_t)i << 32 : pat == 7 ? i : k32[pat];
				CHECK(bpfrt_map_update(m, &k, &v, BPFRT_NOEXIST) == 0,
				      "%s: insert %u", names[pat], i);
			}
			for (uint32_t b = 0; b <= m->mask; b++) {
				uint32_t link = atomic_load(&hbucket(m, b)->head), len = 0;

				for (; !(link & 1); len++)
					link = atomic_load(&helem(m, link >> 1)->next);
				empty += len == 0;
				longest = len > longest ? len : longest;
			}
			CHECK(m->mask + 1 == B, "%u buckets", m->mask + 1);
			CHECK(empty < B * 59 / 100 && longest <= 12,
			      "%s%s: %u of %u buckets empty (random: about 8,900), longest chain %u",
			      names[pat], zero ? ", zero seed" : "", empty, B, longest);
			bpfrt_map_free(m);
		}
	}
}
