/* fuzz_maps.c — libFuzzer target: the input is a sequence of map operations, checked against simple models. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"
#include "maps/map.h"

/*
 * Each operation is 4 bytes: which map and what to do, a key byte, a value
 * byte, a flags byte. Hash and array maps are compared with a plain table,
 * the LPM trie with a brute-force longest match, queue and stack with an
 * array, the bloom filter must know everything pushed, the LRU map must
 * never refuse BPF_ANY and must hold what it was just given, the ring buffer
 * must hand back exactly the submitted records, in order.
 */
#define NKEYS 32
#define CHECK(c) do { if (!(c)) abort(); } while (0)

struct model {
	struct bpfrt_map *hash, *lru, *array, *lpm, *queue, *stack, *bloom, *rb;
	bool has[NKEYS];
	uint64_t val[NKEYS];
	uint64_t arr[8];
	struct { uint32_t plen; uint8_t d[4]; uint32_t v; bool used; } lpm_m[16];
	uint32_t q[8], qn, s[8], sn;
	bool pushed[256];
	uint32_t rb_reserved, rb_submitted, rb_consumed;
	int64_t rb_last;
	void *pending[4];
};

static struct bpfrt_map *mk(enum bpfrt_map_type t, uint32_t ks, uint32_t vs, uint32_t max,
			    uint32_t flags, uint64_t extra)
{
	BPFRT_OPTS(bpfrt_map_opts, o, .type = t, .key_size = ks, .value_size = vs,
		   .max_entries = max, .map_flags = flags, .map_extra = extra);
	struct bpfrt_map *m = NULL;

	CHECK(bpfrt_map_create(&o, &m, NULL) == 0);
	return m;
}

/* ---- Hash and array ------------------------------------------------------------ */

static int model_count(const struct model *md)
{
	int n = 0;

	for (int i = 0; i < NKEYS; i++)
		n += md->has[i];
	return n;
}

static void op_hash(struct model *md, unsigned op, uint32_t k, uint64_t v, uint64_t flags)
{
	uint64_t out = 0;
	int r, want;

	k %= NKEYS;
	switch (op % 4) {
	case 0:
		r = bpfrt_map_update(md->hash, &k, &v, flags);
		want = flags > 2 ? -EINVAL : md->has[k] && flags == 1 ? -EEXIST :
		       !md->has[k] && flags == 2 ? -ENOENT :
		       !md->has[k] && model_count(md) == 16 ? -E2BIG : 0;
		CHECK(r == want);
		if (!r)
			md->has[k] = true, md->val[k] = v;
		break;
	case 1:
		r = bpfrt_map_lookup(md->hash, &k, &out);
		CHECK(r == (md->has[k] ? 0 : -ENOENT) && (r || out == md->val[k]));
		break;
	case 2:
		r = bpfrt_map_delete(md->hash, &k);
		CHECK(r == (md->has[k] ? 0 : -ENOENT));
		md->has[k] = false;
		break;
	default: {	/* iterate: exactly the model's keys */
		uint32_t cur, next;
		int n = 0;
		bool seen[NKEYS] = { false };

		for (r = bpfrt_map_get_next_key(md->hash, NULL, &next); r == 0;
		     r = bpfrt_map_get_next_key(md->hash, &cur, &next)) {
			CHECK(next < NKEYS && md->has[next] && !seen[next]);
			seen[next] = true;
			cur = next;
			n++;
		}
		CHECK(r == -ENOENT && n == model_count(md));
	}
	}
}

static void op_array(struct model *md, unsigned op, uint32_t k, uint64_t v, uint64_t flags)
{
	uint64_t out;
	int r;

	k %= 10;
	if (op & 1) {
		r = bpfrt_map_update(md->array, &k, &v, flags);
		CHECK(r == (flags > 2 ? -EINVAL : k >= 8 ? -E2BIG : flags == 1 ? -EEXIST : 0));
		if (!r)
			md->arr[k] = v;
	} else {
		r = bpfrt_map_lookup(md->array, &k, &out);
		CHECK(r == (k >= 8 ? -ENOENT : 0) && (r || out == md->arr[k]));
	}
}

static void op_lru(struct model *md, uint32_t k, uint64_t v)
{
	uint64_t out = 0;

	k %= NKEYS;
	CHECK(bpfrt_map_update(md->lru, &k, &v, 0) == 0);
	CHECK(bpfrt_map_lookup(md->lru, &k, &out) == 0 && out == v);
	map_lookup_elem(md->lru, &(uint32_t){ (k * 7) % NKEYS });
}

/* ---- LPM trie --------------------------------------------------------------------- */

static bool prefix_matches(const uint8_t *a, const uint8_t *b, uint32_t plen)
{
	for (uint32_t i = 0; i < plen; i++)
		if ((a[i / 8] >> (7 - i % 8) & 1) != (b[i / 8] >> (7 - i % 8) & 1))
			return false;
	return true;
}

static int lpm_find(const struct model *md, uint32_t plen, const uint8_t *d)
{
	for (int i = 0; i < 16; i++)
		if (md->lpm_m[i].used && md->lpm_m[i].plen == plen &&
		    prefix_matches(md->lpm_m[i].d, d, plen))
			return i;
	return -1;
}

static void op_lpm(struct model *md, unsigned op, uint8_t kb, uint32_t v, uint64_t flags)
{
	struct { uint32_t plen; uint8_t d[4]; } key = { kb % 33, { 10, (uint8_t)(kb * 37), (uint8_t)(v << 4), 0 } };
	int i = lpm_find(md, key.plen, key.d), n = 0, best = -1, r;
	uint32_t out;

	for (int j = 0; j < 16; j++)
		n += md->lpm_m[j].used;
	if (op & 1) {
		r = bpfrt_map_update(md->lpm, &key, &v, flags);
		CHECK(r == (flags > 2 ? -EINVAL : i >= 0 && flags == 1 ? -EEXIST :
			    i < 0 && flags == 2 ? -ENOENT : i < 0 && n == 16 ? -ENOSPC : 0));
		for (int j = 0; !r && i < 0 && j < 16; j++)
			if (!md->lpm_m[j].used)
				i = j;
		if (!r)
			md->lpm_m[i].used = true, md->lpm_m[i].plen = key.plen,
			memcpy(md->lpm_m[i].d, key.d, 4), md->lpm_m[i].v = v;
		return;
	}
	if (op & 2) {
		r = bpfrt_map_delete(md->lpm, &key);
		CHECK(r == (i >= 0 ? 0 : -ENOENT));
		if (i >= 0)
			md->lpm_m[i].used = false;
		return;
	}
	key.plen = 32;
	for (int j = 0; j < 16; j++)
		if (md->lpm_m[j].used && prefix_matches(md->lpm_m[j].d, key.d, md->lpm_m[j].plen) &&
		    (best < 0 || md->lpm_m[j].plen > md->lpm_m[best].plen))
			best = j;
	r = bpfrt_map_lookup(md->lpm, &key, &out);
	CHECK(r == (best >= 0 ? 0 : -ENOENT) && (r || out == md->lpm_m[best].v));
}

/* ---- Queue, stack, bloom, ring buffer --------------------------------------------- */

static void op_queue_stack(struct model *md, unsigned op, uint32_t v)
{
	uint32_t out;

	if (op & 1) {
		CHECK(bpfrt_map_update(md->queue, NULL, &v, 0) == (md->qn == 8 ? -E2BIG : 0));
		CHECK(map_push_elem(md->stack, &v, 0) == (md->sn == 8 ? -E2BIG : 0));
		if (md->qn < 8)
			md->q[md->qn++] = v;
		if (md->sn < 8)
			md->s[md->sn++] = v;
		return;
	}
	CHECK(map_pop_elem(md->queue, &out) == (md->qn ? 0 : -ENOENT));
	if (md->qn) {
		CHECK(out == md->q[0]);
		memmove(md->q, md->q + 1, --md->qn * sizeof(md->q[0]));
	}
	CHECK(bpfrt_map_lookup_and_delete(md->stack, NULL, &out) == (md->sn ? 0 : -ENOENT));
	CHECK(!md->sn || out == md->s[--md->sn]);
}

static void op_bloom(struct model *md, unsigned op, uint8_t v)
{
	if (op & 1) {
		CHECK(map_push_elem(md->bloom, &v, 0) == 0);
		md->pushed[v] = true;
	}
	CHECK(!md->pushed[v] || bpfrt_map_lookup(md->bloom, NULL, &v) == 0);
}

static int rb_take(void *ctx, void *data, size_t size)
{
	struct model *md = ctx;
	uint32_t v;

	memcpy(&v, data, 4);
	CHECK(size >= 4 && (int64_t)v > md->rb_last);	/* reservation order */
	md->rb_last = v;
	md->rb_consumed++;
	return 0;
}

static void op_ringbuf(struct model *md, unsigned op, uint8_t size, uint8_t slot)
{
	void **p = &md->pending[slot % 4];

	if (op & 1 && !*p) {	/* reserve: records are numbered in reservation order */
		*p = map_ringbuf_reserve(md->rb, 4 + size * 4u, 0);
		if (*p)
			memcpy(*p, &md->rb_reserved, 4), md->rb_reserved++;
		return;
	}
	if (*p && (op & 2)) {
		map_ringbuf_submit(*p, 0);
		md->rb_submitted++;
		*p = NULL;
		if (md->pending[0] || md->pending[1] || md->pending[2] || md->pending[3])
			return;	/* earlier reservations may still block the consumer */
		CHECK(bpfrt_ringbuf_consume(md->rb, rb_take, md) >= 0);
		CHECK(md->rb_consumed == md->rb_submitted);
		return;
	}
	if (*p) {
		map_ringbuf_discard(*p, 0);
		*p = NULL;
	}
}

/* ---- The target ------------------------------------------------------------------ */

static void setup(struct model *md)
{
	memset(md, 0, sizeof(*md));
	md->rb_last = -1;
	md->hash = mk(BPFRT_MAP_HASH, 4, 8, 16, 0, 0);
	md->lru = mk(BPFRT_MAP_LRU_HASH, 4, 8, 8, 0, 0);
	md->array = mk(BPFRT_MAP_ARRAY, 4, 8, 8, 0, 0);
	md->lpm = mk(BPFRT_MAP_LPM_TRIE, 8, 4, 16, 1, 0);
	md->queue = mk(BPFRT_MAP_QUEUE, 0, 4, 8, 0, 0);
	md->stack = mk(BPFRT_MAP_STACK, 0, 4, 8, 0, 0);
	md->bloom = mk(BPFRT_MAP_BLOOM_FILTER, 0, 1, 64, 0, 3);
	md->rb = mk(BPFRT_MAP_RINGBUF, 0, 0, 4096, 0, 0);
}

static void teardown(struct model *md)
{
	for (int i = 0; i < 4; i++)
		if (md->pending[i])
			map_ringbuf_discard(md->pending[i], 0);
	bpfrt_map_free(md->hash);
	bpfrt_map_free(md->lru);
	bpfrt_map_free(md->array);
	bpfrt_map_free(md->lpm);
	bpfrt_map_free(md->queue);
	bpfrt_map_free(md->stack);
	bpfrt_map_free(md->bloom);
	bpfrt_map_free(md->rb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t flag_of[8] = { 0, 0, 0, 1, 2, 2, 3, 4 };
	struct model md;

	setup(&md);
	for (size_t i = 0; i + 4 <= size; i += 4) {
		unsigned which = data[i] & 7, op = data[i] >> 3;
		uint64_t flags = flag_of[data[i + 3] & 7];

		switch (which) {
		case 0: op_hash(&md, op, data[i + 1], data[i + 2] * 0x0101010101ull, flags); break;
		case 1: op_array(&md, op, data[i + 1], data[i + 2], flags); break;
		case 2: op_lru(&md, data[i + 1], data[i + 2]); break;
		case 3: op_lpm(&md, op, data[i + 1], data[i + 2], flags); break;
		case 4: op_queue_stack(&md, op, data[i + 1]); break;
		case 5: op_bloom(&md, op, data[i + 1]); break;
		default: op_ringbuf(&md, op, data[i + 1], data[i + 2]); break;
		}
	}
	teardown(&md);
	return 0;
}
