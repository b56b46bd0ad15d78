/* test_maps_pcache.c — hash maps' per-CPU caches of free elements: used, exact when the map fills, consistent under threads, forks and kills. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpfrt.h"
#include "maps/htab.h"
#include "t.h"

static struct bpfrt_map *mk(enum bpfrt_map_type type, uint32_t max)
{
	BPFRT_OPTS(bpfrt_map_opts, o, .type = type, .key_size = 4, .value_size = 8,
		   .max_entries = max);
	struct bpfrt_map *m = NULL;
	struct bpfrt_error err;

	CHECK(bpfrt_map_create(&o, &m, &err) == 0, "create: %s", err.msg);
	return m;
}

/* A map big enough for caches on this machine, or NULL with the reason printed. */
static struct bpfrt_map *mk_cached(enum bpfrt_map_type type, uint32_t *max)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);
	struct bpfrt_map *m;

	if (pcache_cpu() < 0) {
		printf("  skipped: no restartable sequences here (the maps use free lists)\n");
		return NULL;
	}
	*max = (uint32_t)n * PCACHE_CAP * 8;
	m = mk(type, *max);
	if (m && !CHECK(hhdr(m)->npcache == (uint32_t)n, "%u caches for %ld CPUs",
			hhdr(m)->npcache, n)) {
		bpfrt_map_free(m);
		return NULL;
	}
	return m;
}

static long count_keys(struct bpfrt_map *m)
{
	uint32_t key, next;
	long n = 0;

	for (int r = bpfrt_map_get_next_key(m, NULL, &next); r == 0 && n < 10000000; n++) {
		key = next;
		r = bpfrt_map_get_next_key(m, &key, &next);
	}
	return n;
}

TEST(maps_pcache_small_maps_have_none)
{
	struct bpfrt_map *m = mk(BPFRT_MAP_HASH, 64);

	if (m)
		CHECK(hhdr(m)->npcache == 0 && hhdr(m)->pcache_off == 0, "no caches for 64 entries");
	bpfrt_map_free(m);
}

/* ---- Filling up from another CPU takes the first CPU's cache too ------------------------- */

struct fill_arg {
	struct bpfrt_map *m;
	int cpu;
	uint32_t first, n;	/* keys [first, first + n) */
	bool del;		/* then delete them all again */
	uint32_t inserted;
	int pinned;
};

static void *fill_on_cpu(void *p)
{
	struct fill_arg *a = p;
	struct bpfrt_map_info info;
	cpu_set_t one;
	uint64_t *v;

	/* One value for each CPU slot: per-CPU maps take them all. */
	bpfrt_map_get_info(a->m, &info);
	v = calloc(info.ncpus, sizeof(*v));
	if (!v)
		return NULL;

	CPU_ZERO(&one);
	CPU_SET(a->cpu, &one);
	a->pinned = sched_setaffinity(0, sizeof(one), &one) == 0;
	for (uint32_t k = a->first; a->pinned && k < a->first + a->n; k++) {
		int r = bpfrt_map_update(a->m, &k, v, BPFRT_NOEXIST);

		if (r == -E2BIG)
			break;
		a->inserted += r == 0;
	}
	for (uint32_t k = a->first; a->pinned && a->del && k < a->first + a->n; k++)
		bpfrt_map_delete(a->m, &k);
	free(v);
	return NULL;
}

static void run_on(struct fill_arg *a)
{
	pthread_t t;

	pthread_create(&t, NULL, fill_on_cpu, a);
	pthread_join(t, NULL);
}

/* On CPU 0: deletes go to its cache (up to its capacity) and inserts take from it first. */
static void *used_on_cpu0(void *p)
{
	struct bpfrt_map *m = p;
	uint64_t v = 1;
	uint32_t held;
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (sched_setaffinity(0, sizeof(one), &one)) {
		printf("  skipped: cannot run on CPU 0\n");
		return NULL;
	}
	for (uint32_t k = 0; k < 100; k++)
		bpfrt_map_update(m, &k, &v, BPFRT_NOEXIST);
	for (uint32_t k = 0; k < 100; k++)
		bpfrt_map_delete(m, &k);
	held = (uint32_t)(atomic_load(&htab_pcache(m)[0].word) >> 32);
	CHECK(held == PCACHE_CAP && pcache_held(htab_pcache(m), hhdr(m)->npcache) == held,
	      "CPU 0's cache holds %u of the 100 freed (capacity %u)", held, PCACHE_CAP);
	CHECK(htab_elems_in_use(m) == 0, "none in use: %u", htab_elems_in_use(m));
	for (uint32_t k = 0; k < 10; k++)
		bpfrt_map_update(m, &k, &v, BPFRT_NOEXIST);
	held = (uint32_t)(atomic_load(&htab_pcache(m)[0].word) >> 32);
	CHECK(held == PCACHE_CAP - 10, "inserts took from the cache (%u left)", held);
	CHECK(htab_elems_in_use(m) == 10 && count_keys(m) == 10, "10 in use, 10 keys");
	return NULL;
}

TEST(maps_pcache_used)
{
	uint32_t max;
	struct bpfrt_map *m = mk_cached(BPFRT_MAP_HASH, &max);
	pthread_t t;

	if (!m)
		return;
	pthread_create(&t, NULL, used_on_cpu0, m);
	pthread_join(t, NULL);
	bpfrt_map_free(m);
}

TEST(maps_pcache_fills_exactly)
{
	static const enum bpfrt_map_type types[] = { BPFRT_MAP_HASH, BPFRT_MAP_PERCPU_HASH };

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("  skipped: one CPU, no other cache to steal from\n");
		return;
	}
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		uint32_t max, held0;
		struct bpfrt_map *m = mk_cached(types[t], &max);
		struct fill_arg a = { m, 0, 0, 1000, true, 0, 0 };
		struct fill_arg b = { m, 1, 1000000, 0, false, 0, 0 };

		if (!m)
			return;
		run_on(&a);	/* on CPU 0: 1000 inserts, then deletes: the first 64 freed stay there */
		if (!a.pinned) {
			printf("  skipped: cannot run on CPU 0 and 1\n");
			bpfrt_map_free(m);
			return;
		}
		held0 = (uint32_t)(atomic_load(&htab_pcache(m)[0].word) >> 32);
		CHECK(held0 == PCACHE_CAP, "type %d: CPU 0's cache holds %u", types[t], held0);
		b.n = max + 10;
		run_on(&b);	/* on CPU 1: insert until the map is full */
		CHECK(b.pinned && b.inserted == max, "type %d: CPU 1 inserted %u of max_entries %u",
		      types[t], b.inserted, max);
		CHECK(count_keys(m) == max && htab_elems_in_use(m) == max &&
		      pcache_held(htab_pcache(m), hhdr(m)->npcache) == 0,
		      "type %d: every element in use, no cache holds any", types[t]);
		CHECK(sched_getcpu() >= 0, "this thread's affinity is its own");
		bpfrt_map_free(m);
	}
}

/* ---- The program face (the copies of update and delete per key size and type) ------------- */

struct face_arg {
	struct bpfrt_map *m;
	uint32_t max, first, n;	/* phase 0: fill [0, max); phase 1: insert [first, first + n) */
	int cpu, phase;
	long bad, inserted;
	bool pinned;
};

static bool pin_to(int cpu)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return sched_setaffinity(0, sizeof(one), &one) == 0;
}

static void *face_on_cpu(void *p)
{
	struct face_arg *a = p;
	struct bpfrt_map *m = a->m;
	uint64_t v = 7, *got;

	a->pinned = pin_to(a->cpu);
	if (!a->pinned)
		return NULL;
	if (a->phase == 1) {	/* insert until full: the other CPU's cache must be reached */
		for (uint32_t k = a->first; k < a->first + a->n; k++) {
			long r = m->ops->update(m, &k, &v, BPFRT_NOEXIST);

			if (r == -E2BIG)
				break;
			a->inserted += r == 0;
			a->bad += r != 0;
		}
		return NULL;
	}
	for (uint32_t k = 0; k < a->max; k++)
		a->bad += m->ops->update(m, &k, &v, BPFRT_NOEXIST) != 0;
	CHECK(a->bad == 0, "type %d: %u inserts through the program face", m->type, a->max);
	{
		uint32_t absent = a->max + 5, k0 = 3;
		uint64_t w = 99;

		CHECK(m->ops->update(m, &absent, &v, BPFRT_NOEXIST) == -E2BIG &&
		      m->ops->update(m, &absent, &v, BPFRT_ANY) == -E2BIG, "type %d: full: -E2BIG",
		      m->type);
		CHECK(m->ops->update(m, &absent, &v, BPFRT_EXIST) == -ENOENT,
		      "type %d: EXIST on an absent key: -ENOENT", m->type);
		CHECK(m->ops->update(m, &k0, &w, BPFRT_NOEXIST) == -EEXIST,
		      "type %d: NOEXIST on a present key: -EEXIST", m->type);
		CHECK(m->ops->update(m, &k0, &w, 4) == -EINVAL, "type %d: bad flags", m->type);
		CHECK(m->ops->update(m, &k0, &w, BPFRT_EXIST) == 0 &&
		      (got = m->ops->lookup(m, &k0)) && *got == 99,
		      "type %d: a full map updates in place", m->type);
		CHECK(m->ops->delete(m, &absent) == -ENOENT, "type %d: delete absent", m->type);
	}
	for (uint32_t k = 0; k < 100; k++)
		a->bad += m->ops->delete(m, &k) != 0;
	for (uint32_t k = 0; k < 100; k++)
		a->bad += m->ops->delete(m, &k) != -ENOENT || m->ops->lookup(m, &k) != NULL;
	CHECK(a->bad == 0, "type %d: 100 deletes, then each key is gone", m->type);
	CHECK((uint32_t)(atomic_load(&htab_pcache(m)[a->cpu].word) >> 32) == PCACHE_CAP &&
	      htab_elems_in_use(m) == a->max - 100,
	      "type %d: CPU %d's cache holds %d of the 100 freed, %u in use", m->type, a->cpu,
	      PCACHE_CAP, htab_elems_in_use(m));
	return NULL;
}

/*
 * hash.c's copies for programs (what helpers and the JIT call) on a map with
 * caches: the kernel's error codes when full and otherwise, and after 100
 * deletes on CPU 0 (64 of them into its cache) a thread on CPU 1 inserts
 * exactly 100 before -E2BIG.
 */
TEST(maps_pcache_program_face)
{
	static const enum bpfrt_map_type types[] = { BPFRT_MAP_HASH, BPFRT_MAP_PERCPU_HASH };

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		printf("  skipped: one CPU, no other cache to steal from\n");
		return;
	}
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		uint32_t max;
		struct bpfrt_map *m = mk_cached(types[t], &max);
		struct face_arg a = { .m = m, .cpu = 0, .phase = 0 };
		struct face_arg b = { .m = m, .cpu = 1, .phase = 1 };
		pthread_t th;

		if (!m)
			return;
		a.max = max;
		pthread_create(&th, NULL, face_on_cpu, &a);
		pthread_join(th, NULL);
		if (!a.pinned) {
			printf("  skipped: cannot run on CPU 0 and 1\n");
			bpfrt_map_free(m);
			return;
		}
		b.first = 1000000, b.n = 200;
		pthread_create(&th, NULL, face_on_cpu, &b);
		pthread_join(th, NULL);
		CHECK(b.pinned && b.inserted == 100 && b.bad == 0,
		      "type %d: CPU 1 inserted %ld of the 100 free (then -E2BIG)", types[t],
		      b.inserted);
		CHECK(count_keys(m) == max && htab_elems_in_use(m) == max,
		      "type %d: full again, every element in use", types[t]);
		bpfrt_map_free(m);
	}
}

/* ---- Threads on every CPU ----------------------------------------------------------------- */

struct churn {
	struct bpfrt_map *m;
	int i;
	long inserted, deleted;
};

static void *churn(void *p)
{
	struct churn *c = p;
	uint64_t s = 88172645463325252ull + (uint64_t)c->i, v = 3;

	for (int n = 0; n < 200000; n++) {
		uint32_t k;

		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		k = (uint32_t)(s % 3000);
		if (s >> 40 & 1)
			c->inserted += bpfrt_map_update(c->m, &k, &v, BPFRT_NOEXIST) == 0;
		else
			c->deleted += bpfrt_map_delete(c->m, &k) == 0;
		if (n % 4096 == 0)
			sched_yield();	/* migrations, preemptions inside the sequences */
	}
	return NULL;
}

TEST(maps_pcache_threads)
{
	uint32_t max;
	struct bpfrt_map *m = mk_cached(BPFRT_MAP_HASH, &max);
	struct churn c[4];
	pthread_t t[4];
	long live = 0;

	if (!m)
		return;
	for (int i = 0; i < 4; i++) {
		c[i] = (struct churn){ m, i, 0, 0 };
		pthread_create(&t[i], NULL, churn, &c[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		live += c[i].inserted - c[i].deleted;
	}
	CHECK(count_keys(m) == live && htab_elems_in_use(m) == live,
	      "%ld keys = inserts - deletes, %u elements in use", count_keys(m),
	      htab_elems_in_use(m));
	bpfrt_map_free(m);
}

/* ---- Writers killed: nothing torn, at most one element lost per kill ----------------------- */

TEST(maps_pcache_writers_killed)
{
	uint32_t max;
	struct bpfrt_map *m = mk_cached(BPFRT_MAP_HASH, &max);
	int kills = 0;
	long live, leaked;
	uint64_t v = 1;

	if (!m)
		return;
	for (int round = 0; round < 20; round++) {
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			struct churn c = { m, round, 0, 0 };

			for (;;)
				churn(&c);
		}
		usleep(2000 + (unsigned)round * 300);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		kills += WIFSIGNALED(st);
	}
	live = count_keys(m);
	leaked = (long)htab_elems_in_use(m) - live;
	CHECK(kills == 20, "%d writers killed", kills);
	CHECK(leaked >= 0 && leaked <= kills, "%u elements in use for %ld keys after %d kills",
	      htab_elems_in_use(m), live, kills);
	/* The dead left free elements in their CPUs' caches, not their own: all can be had. */
	for (uint32_t k = 100000; k < 100000 + max; k++)
		bpfrt_map_update(m, &k, &v, BPFRT_NOEXIST);
	CHECK(htab_elems_in_use(m) == max && count_keys(m) == max - leaked,
	      "filled: %u in use, %ld keys, %ld lost, max %u", htab_elems_in_use(m),
	      count_keys(m), leaked, max);
	bpfrt_map_free(m);
}
