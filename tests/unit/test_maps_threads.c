/* test_maps_threads.c — maps under threads and processes: no lost update, no torn copy, shared blocks, dead lock owners. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpfrt.h"
#include "maps/htab.h"
#include "maps/map.h"
#include "t.h"

enum { THREADS = 4 };

static struct bpfrt_map *mk(enum bpfrt_map_type type, uint32_t ks, uint32_t vs, uint32_t max,
			    uint32_t flags, unsigned ncpus)
{
	BPFRT_OPTS(bpfrt_map_opts, o, .type = type, .key_size = ks, .value_size = vs,
		   .max_entries = max, .map_flags = flags, .ncpus = ncpus);
	struct bpfrt_error err;
	struct bpfrt_map *m;

	return CHECK(bpfrt_map_create(&o, &m, &err) == 0, "create: %s", err.msg) ? m : NULL;
}

static void run_threads(void *(*fn)(void *), void *arg)
{
	pthread_t t[THREADS];
	struct { void *arg; int i; } a[THREADS];

	for (int i = 0; i < THREADS; i++) {
		a[i].arg = arg;
		a[i].i = i;
		pthread_create(&t[i], NULL, fn, &a[i]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
}

struct targ {
	void *arg;
	int i;
};

/* ---- Counters: lookup + atomic add in the value ----------------------------- */

enum { COUNTER_KEYS = 16, COUNTER_OPS = 50000 };

static void *count_worker(void *p)
{
	struct bpfrt_map *m = ((struct targ *)p)->arg;

	for (uint32_t n = 0; n < COUNTER_OPS; n++) {
		uint32_t k = n % COUNTER_KEYS;
		_Atomic uint64_t *v = map_lookup_elem(m, &k);

		if (v)
			atomic_fetch_add_explicit(v, 1, memory_order_relaxed);
	}
	return NULL;
}

static uint64_t sum_all(struct bpfrt_map *m, bool percpu)
{
	uint64_t total = 0, vals[64];

	for (uint32_t k = 0; k < COUNTER_KEYS; k++) {
		memset(vals, 0, sizeof(vals));
		if (bpfrt_map_lookup(m, &k, vals))
			return 0;
		for (unsigned c = 0; c < (percpu ? m->ncpus : 1); c++)
			total += vals[c];
	}
	return total;
}

TEST(maps_threads_counters)
{
	static const enum bpfrt_map_type types[] = { BPFRT_MAP_HASH, BPFRT_MAP_ARRAY,
		BPFRT_MAP_PERCPU_ARRAY, BPFRT_MAP_PERCPU_HASH, BPFRT_MAP_LRU_HASH };

	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		bool percpu = types[t] == BPFRT_MAP_PERCPU_ARRAY || types[t] == BPFRT_MAP_PERCPU_HASH;
		/* Two CPU slots for four threads: threads share slots, atomics keep every add. */
		struct bpfrt_map *m = mk(types[t], 4, 8, 64, 0, 2);
		uint64_t zero[2] = { 0, 0 }, total;

		if (!m)
			return;
		for (uint32_t k = 0; k < COUNTER_KEYS; k++)
			bpfrt_map_update(m, &k, zero, 0);
		run_threads(count_worker, m);
		total = sum_all(m, percpu);
		CHECK(total == (uint64_t)THREADS * COUNTER_OPS, "type %d: %llu adds of %d",
		      types[t], (unsigned long long)total, THREADS * COUNTER_OPS);
		bpfrt_map_free(m);
	}
}

/* ---- Churn: inserts and deletes on shared keys ------------------------------- */

enum { CHURN_KEYS = 200, CHURN_OPS = 40000 };

struct churn {
	struct bpfrt_map *m;
	_Atomic long inserted, deleted, e2big;
};

static void *churn_worker(void *p)
{
	struct churn *c = ((struct targ *)p)->arg;
	uint64_t r = 88172645463325252ull + (uint64_t)((struct targ *)p)->i, v[2] = { 0, 0 };

	for (int n = 0; n < CHURN_OPS; n++) {
		uint64_t k;
		int ret;

		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		k = r % CHURN_KEYS;
		if (r >> 40 & 3) {	/* three inserts for each delete */
			ret = bpfrt_map_update(c->m, &k, v, BPFRT_NOEXIST);
			if (ret == 0)
				c->inserted++;
			else if (ret == -E2BIG)
				c->e2big++;
		} else if (bpfrt_map_delete(c->m, &k) == 0) {
			c->deleted++;
		}
	}
	return NULL;
}

static long count_keys(struct bpfrt_map *m, uint32_t ks)
{
	uint8_t key[64], next[64];
	long n = 0;
	int r = bpfrt_map_get_next_key(m, NULL, next);

	while (r == 0 && n < 1000000) {
		n++;
		memcpy(key, next, ks);
		r = bpfrt_map_get_next_key(m, key, next);
	}
	return n;
}

TEST(maps_threads_churn)
{
	/* 150 slots for 200 keys: the map fills up, so -E2BIG races are part of it. */
	struct churn c = { mk(BPFRT_MAP_HASH, 8, 16, 150, 0, 0), 0, 0, 0 };
	long live;

	if (!c.m)
		return;
	run_threads(churn_worker, &c);
	live = count_keys(c.m, 8);
	CHECK(live == c.inserted - c.deleted && live <= 150,
	      "%ld keys = %ld inserted - %ld deleted (%ld full)", live, (long)c.inserted,
	      (long)c.deleted, (long)c.e2big);
	CHECK(c.e2big > 0, "the map was full at times");
	CHECK((long)htab_elems_in_use(c.m) == live, "every element in use is in a chain (%u)",
	      htab_elems_in_use(c.m));
	bpfrt_map_free(c.m);
}

static void *lru_worker(void *p)
{
	struct bpfrt_map *m = ((struct targ *)p)->arg;
	uint64_t v = 1, k;
	long bad = 0;

	for (uint64_t n = 0; n < 20000; n++) {
		k = (n * 2654435761u + (uint64_t)((struct targ *)p)->i) % 500;
		bad += bpfrt_map_update(m, &k, &v, 0) != 0;
		map_lookup_elem(m, &k);
		if (n % 7 == 0)
			bpfrt_map_delete(m, &k);
	}
	return (void *)bad;
}

TEST(maps_threads_lru)
{
	struct bpfrt_map *m = mk(BPFRT_MAP_LRU_HASH, 8, 8, 64, 0, 0);
	long live;

	if (!m)
		return;
	run_threads(lru_worker, m);
	live = count_keys(m, 8);
	CHECK(live > 0 && live <= 64 && (long)htab_elems_in_use(m) == live,
	      "LRU stays consistent: %ld keys, %u elements in use", live, htab_elems_in_use(m));
	bpfrt_map_free(m);
}

/* ---- Copies never tear --------------------------------------------------------- */

enum { WORDS = 16, TEAR_OPS = 30000 };

struct tear {
	struct bpfrt_map *m;
	_Atomic int stop;
	_Atomic long torn, reads;
};

static void *tear_writer(void *p)
{
	struct tear *t = ((struct targ *)p)->arg;
	uint64_t v[WORDS * 2];
	uint32_t k = 3;

	for (uint64_t n = 1; n <= TEAR_OPS || atomic_load(&t->reads) < 1000; n++) {
		for (int w = 0; w < WORDS * 2; w++)
			v[w] = n * 1000 + (uint64_t)((struct targ *)p)->i;
		bpfrt_map_update(t->m, &k, v, 0);
		if (t->m->type == BPFRT_MAP_HASH && n % 64 == 0) {
			bpfrt_map_delete(t->m, &k);	/* the element gets reused */
			k ^= 1;
		}
	}
	return NULL;
}

static void *tear_reader(void *p)
{
	struct tear *t = ((struct targ *)p)->arg;
	uint64_t v[WORDS * 2];
	uint32_t k = 2;
	bool percpu = t->m->type == BPFRT_MAP_PERCPU_HASH || t->m->type == BPFRT_MAP_PERCPU_ARRAY;
	size_t words = map_user_value_size(t->m, percpu) / 8;

	while (!atomic_load(&t->stop)) {
		k ^= 1;	/* the writers move between keys 2 and 3 */
		if (bpfrt_map_lookup(t->m, &k, v) != 0)
			continue;
		t->reads++;
		for (size_t w = 1; w < words; w++)
			if (v[w] != v[0]) {
				t->torn++;
				break;
			}
	}
	return NULL;
}

static void *tear_stopper(void *p)
{
	struct targ *a = p;

	if (a->i < 2)
		tear_writer(p);
	else
		tear_reader(p);
	return NULL;
}

TEST(maps_threads_no_torn_copies)
{
	static const struct { enum bpfrt_map_type type; unsigned ncpus; } cases[] = {
		{ BPFRT_MAP_HASH, 0 }, { BPFRT_MAP_ARRAY, 0 }, { BPFRT_MAP_PERCPU_HASH, 2 },
		{ BPFRT_MAP_PERCPU_ARRAY, 2 },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		bool percpu = cases[c].ncpus != 0;
		/* Per-CPU: two CPUs of WORDS / 2 words; the others: WORDS words. */
		struct tear t = { mk(cases[c].type, 4, percpu ? WORDS * 4 : WORDS * 8, 8, 0,
				     cases[c].ncpus), 0, 0, 0 };
		pthread_t th[THREADS];
		struct targ a[THREADS];

		if (!t.m)
			return;
		for (int i = 0; i < THREADS; i++) {
			a[i] = (struct targ){ &t, i };
			pthread_create(&th[i], NULL, tear_stopper, &a[i]);
		}
		pthread_join(th[0], NULL);
		pthread_join(th[1], NULL);
		atomic_store(&t.stop, 1);
		pthread_join(th[2], NULL);
		pthread_join(th[3], NULL);
		CHECK(t.torn == 0 && t.reads > 0, "type %d: %ld torn of %ld copies", cases[c].type,
		      (long)t.torn, (long)t.reads);
		bpfrt_map_free(t.m);
	}
}

/* ---- LPM readers while writers change the trie ------------------------------ */

struct ip4 {
	uint32_t prefixlen;
	uint8_t a[4];
};

static void *lpm_worker(void *p)
{
	struct targ *a = p;
	struct bpfrt_map *m = a->arg;
	long misses = 0;
	uint32_t v = 7;

	for (uint32_t n = 0; n < 20000; n++) {
		struct ip4 k = { 24 + n % 9, { 10, (uint8_t)a->i, (uint8_t)n, (uint8_t)(n >> 8) } };
		struct ip4 probe = { 32, { 10, (uint8_t)a->i, (uint8_t)(n * 7), 1 } };
		uint32_t *found;

		if (a->i < 2) {
			bpfrt_map_update(m, &k, &v, 0);
			bpfrt_map_delete(m, &k);
		}
		found = map_lookup_elem(m, &probe);	/* 10.0.0.0/8 is always there */
		misses += !found;
	}
	return (void *)misses;
}

TEST(maps_threads_lpm)
{
	struct bpfrt_map *m = mk(BPFRT_MAP_LPM_TRIE, 8, 4, 64, 1, 0);
	struct ip4 base = { 8, { 10, 0, 0, 0 } };
	uint32_t v = 1;
	pthread_t th[THREADS];
	struct targ a[THREADS];
	long misses = 0;

	if (!m)
		return;
	bpfrt_map_update(m, &base, &v, 0);
	for (int i = 0; i < THREADS; i++) {
		a[i] = (struct targ){ m, i };
		pthread_create(&th[i], NULL, lpm_worker, &a[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		void *r;

		pthread_join(th[i], &r);
		misses += (long)r;
	}
	CHECK(misses == 0, "lock-free lookups never miss a stable prefix: %ld misses", misses);
	CHECK(count_keys(m, 8) == 1, "only 10/8 is left");
	bpfrt_map_free(m);
}

/* ---- Ring buffer: several producers, one consumer ----------------------------- */

enum { RB_RECORDS = 20000 };

struct rb_run {
	struct bpfrt_map *m;
	uint32_t next[THREADS];
	long bad, got;
	_Atomic int producers;
};

static int rb_check(void *ctx, void *data, size_t size)
{
	struct rb_run *r = ctx;
	uint32_t rec[2];

	memcpy(rec, data, sizeof(rec));
	if (size != 8 || rec[0] >= THREADS || rec[1] != r->next[rec[0]]++)
		r->bad++;
	r->got++;
	return 0;
}

static void *rb_worker(void *p)
{
	struct targ *a = p;
	struct rb_run *r = a->arg;

	if (a->i == 0) {	/* the consumer */
		while (atomic_load(&r->producers) || map_ringbuf_query(r->m, MAP_RB_AVAIL_DATA))
			bpfrt_ringbuf_poll(r->m, rb_check, r, 10);
		return NULL;
	}
	for (uint32_t n = 0; n < RB_RECORDS; n++) {
		uint32_t rec[2] = { (uint32_t)a->i, n };

		while (map_ringbuf_output(r->m, rec, sizeof(rec), 0) == -EAGAIN)
			sched_yield();
	}
	atomic_fetch_sub(&r->producers, 1);
	return NULL;
}

TEST(maps_threads_ringbuf)
{
	struct rb_run r = { mk(BPFRT_MAP_RINGBUF, 0, 0, 4096, 0, 0), { 0 }, 0, 0, THREADS - 1 };

	if (!r.m)
		return;
	run_threads(rb_worker, &r);
	CHECK(r.bad == 0 && r.got == (long)(THREADS - 1) * RB_RECORDS,
	      "%ld records, %ld out of order", r.got, r.bad);
	bpfrt_map_free(r.m);
}

/* ---- Processes: the same block mapped twice, in a child too ------------------ */

TEST(maps_shared_block)
{
	struct bpfrt_map *m = mk(BPFRT_MAP_HASH, 4, 8, 64, 0, 0), *m2 = NULL;
	struct bpfrt_error err;
	uint64_t v = 5, out = 0;
	uint32_t k = 1;
	int status = -1;
	pid_t pid;

	if (!m)
		return;
	bpfrt_map_update(m, &k, &v, 0);
	CHECK(map_open_block(map_block_fd(m), &m2, &err) == 0, "open: %s", err.msg);
	if (!m2)
		return;
	CHECK(m2->base != m->base, "mapped at another address");
	CHECK(bpfrt_map_lookup(m2, &k, &out) == 0 && out == 5, "the second mapping sees it");
	k = 2, v = 6;
	CHECK(bpfrt_map_update(m2, &k, &v, 0) == 0 && bpfrt_map_lookup(m, &k, &out) == 0 &&
	      out == 6, "and writes the same map");
	k = 3, v = 0;
	bpfrt_map_update(m, &k, &v, 0);
	pid = fork();
	if (pid == 0) {	/* the child: its own mapping, and the inherited one */
		struct bpfrt_map *c = NULL;
		uint32_t ck = 10;
		uint64_t cv = 77;
		_Atomic uint64_t *cnt;
		int bad = map_open_block(map_block_fd(m), &c, NULL) != 0;

		bad |= bad || bpfrt_map_update(c, &ck, &cv, 0) != 0;
		ck = 11;
		bad |= bpfrt_map_update(m, &ck, &cv, 0) != 0;
		ck = 3;
		for (int i = 0; !bad && i < 100000; i++)
			if ((cnt = map_lookup_elem(i & 1 ? c : m, &ck)))
				atomic_fetch_add(cnt, 1);
		_exit(bad);
	}
	for (int i = 0; i < 100000; i++) {	/* the parent counts along */
		_Atomic uint64_t *cnt = map_lookup_elem(m2, &k);

		if (cnt)
			atomic_fetch_add(cnt, 1);
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	k = 10;
	CHECK(bpfrt_map_lookup(m, &k, &out) == 0 && out == 77, "the child's insert (own mapping)");
	k = 11;
	CHECK(bpfrt_map_lookup(m2, &k, &out) == 0 && out == 77, "the child's insert (inherited)");
	k = 3;
	CHECK(bpfrt_map_lookup(m, &k, &out) == 0 && out == 200000, "200000 adds from two "
	      "processes: %llu", (unsigned long long)out);
	bpfrt_map_free(m);	/* m2 keeps the block alive */
	k = 1;
	CHECK(bpfrt_map_lookup(m2, &k, &out) == 0 && out == 5, "still there");
	bpfrt_map_free(m2);
}

static int rb_count(void *ctx, void *data, size_t size)
{
	(void)data;
	*(long *)ctx += size == 16;
	return 0;
}

TEST(maps_shared_ringbuf_and_queue)
{
	struct bpfrt_map *rb = mk(BPFRT_MAP_RINGBUF, 0, 0, 8192, 0, 0);
	struct bpfrt_map *q = mk(BPFRT_MAP_QUEUE, 0, 4, 100, 0, 0);
	struct bpfrt_map *tmpl = mk(BPFRT_MAP_ARRAY, 4, 4, 1, 0, 0), *x = NULL;
	BPFRT_OPTS(bpfrt_map_opts, o, .type = BPFRT_MAP_ARRAY_OF_MAPS, .key_size = 4,
		   .value_size = 4, .max_entries = 1, .inner = tmpl);
	struct bpfrt_map *aom = NULL;
	long got = 0;
	int status = -1;
	uint32_t v;
	pid_t pid;

	if (!rb || !q || !tmpl)
		return;
	pid = fork();
	if (pid == 0) {
		struct bpfrt_map *crb = NULL, *cq = NULL;
		uint8_t rec[16] = { 0 };
		int bad = map_open_block(map_block_fd(rb), &crb, NULL) ||
			  map_open_block(map_block_fd(q), &cq, NULL);

		for (uint32_t i = 0; !bad && i < 1000; i++) {
			while (map_ringbuf_output(crb, rec, sizeof(rec), 0) == -EAGAIN)
				usleep(100);
			bad |= bpfrt_map_update(cq, NULL, &i, 0) != 0 && i < 100;
		}
		_exit(bad);
	}
	while (got < 1000 && waitpid(pid, &status, WNOHANG) == 0)
		bpfrt_ringbuf_poll(rb, rb_count, &got, 5);	/* no wakeups across processes */
	bpfrt_ringbuf_consume(rb, rb_count, &got);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	CHECK(got == 1000, "1000 records from the child's mapping: %ld", got);
	CHECK(bpfrt_map_lookup_and_delete(q, NULL, &v) == 0 && v == 0, "the child's queue, in order");
	CHECK(bpfrt_map_create(&o, &aom, NULL) == 0 &&
	      map_open_block(map_block_fd(aom), &x, NULL) == -ENOTSUP,
	      "maps of maps hold process-local references: not shareable");
	bpfrt_map_free(aom);
	bpfrt_map_free(rb);
	bpfrt_map_free(q);
	bpfrt_map_free(tmpl);
}

TEST(maps_shared_dead_lock_owner)
{
	struct bpfrt_map *m = mk(BPFRT_MAP_HASH, 4, 8, 8, 0, 0);
	uint32_t k = 5;
	uint64_t v = 9, out = 0;
	int status;
	pid_t pid;

	if (!m)
		return;
	pid = fork();
	if (pid == 0) {	/* take every bucket lock and die holding them */
		for (uint32_t b = 0; b <= m->mask; b++)
			plock_lock(&hbucket(m, b)->lock);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	CHECK(atomic_load(&hbucket(m, 0)->lock) == (uint32_t)pid, "the dead child holds the lock");
	CHECK(bpfrt_map_update(m, &k, &v, 0) == 0 && bpfrt_map_lookup(m, &k, &out) == 0 &&
	      out == 9, "a waiter takes the lock over from a dead owner");
	bpfrt_map_free(m);
}
