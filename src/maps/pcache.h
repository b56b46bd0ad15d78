/* pcache.h — per-CPU caches of free pool entries: the fast paths, inline (restartable sequences; see pcache.c). */
#ifndef BPFRT_MAPS_PCACHE_H
#define BPFRT_MAPS_PCACHE_H

#include <stdalign.h>
#include <stddef.h>

#include "maps/sync.h"

/*
 * A pool may keep, beside its free list, up to PCACHE_CAP free entries per
 * CPU in caches that threads change with restartable sequences instead of
 * locked instructions (see pcache.c). Each call returns false where it
 * cannot serve (no rseq, a CPU past n, empty or full): the caller then uses
 * the free list.
 */
#define PCACHE_CAP 64

struct pcache {
	alignas(64) _Atomic uint64_t word;	/* count << 32 | first entry + 1 */
};

/* Pool empty: take an entry from another CPU's cache, running there for the moment. */
bool pcache_steal(struct pcache *c, uint32_t n, const struct pool *p, uint32_t *i);
/* Entries held by the n caches (a snapshot). */
uint32_t pcache_held(const struct pcache *c, uint32_t n);

#if defined(__x86_64__) && defined(__has_include)
#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#define HAVE_RSEQ 1
#endif
#endif

#ifdef HAVE_RSEQ

static inline struct rseq *pcache_rseq(void)
{
	return (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
}

/* This thread's CPU, or -1 where restartable sequences are not registered. */
static inline int pcache_cpu(void)
{
	int32_t c;

	if (__rseq_size < 20)	/* not registered: the original ABI is 20 bytes */
		return -1;
	c = (int32_t)__atomic_load_n(&pcache_rseq()->cpu_id, __ATOMIC_RELAXED);
	return c < 0 ? -1 : c;
}

/*
 * The sequences. 3: the descriptor (start, length up to the commit, abort
 * handler), 1..2: the critical section, its last instruction the commit;
 * 4: the abort handler, after the signature the kernel checks; 6: moved
 * or aborted, 7: empty (pop) or full (push). rseq_cs is cleared on the way
 * out, so no thread keeps pointing at this code.
 */
#define RSEQ_HEAD \
	".pushsection __rseq_cs, \"aw\"\n\t" \
	".balign 32\n" \
	"3:\n\t" \
	".long 0, 0\n\t" \
	".quad 1f, 2f - 1f, 4f\n\t" \
	".popsection\n\t" \
	"leaq 3b(%%rip), %[tmp]\n\t" \
	"movq %[tmp], %c[cs_off](%[rs])\n" \
	"1:\n\t" \
	"cmpl %[cpu], %c[cpu_off](%[rs])\n\t" \
	"jne 6f\n\t"
#define RSEQ_TAIL \
	"2:\n\t" \
	"xorl %k[st], %k[st]\n\t" \
	"jmp 8f\n\t" \
	".pushsection __rseq_failure, \"ax\"\n\t" \
	".byte 0x0f, 0xb9, 0x3d\n\t" \
	".long 0x53053053\n" \
	"4:\n\t" \
	"jmp 6f\n\t" \
	".popsection\n" \
	"6:\n\t" \
	"movl $2, %k[st]\n\t" \
	"jmp 8f\n" \
	"7:\n\t" \
	"movl $1, %k[st]\n" \
	"8:\n\t" \
	"movq $0, %c[cs_off](%[rs])\n\t"

_Static_assert(RSEQ_SIG == 0x53053053, "the signature in RSEQ_TAIL");

/* 0 popped into *i, 1 empty, 2 not on cpu or interrupted. */
static inline int pcache_pop_cs(struct rseq *rs, uint32_t cpu, _Atomic uint64_t *w, const uint8_t *links,
		  uint64_t stride, uint32_t *i)
{
	uint64_t old, new, tmp;
	int st;

	__asm__ __volatile__(
		RSEQ_HEAD
		"movq (%[w]), %[old]\n\t"
		"movl %k[old], %k[tmp]\n\t"
		"testl %k[tmp], %k[tmp]\n\t"
		"jz 7f\n\t"
		"decl %k[tmp]\n\t"
		"imulq %[stride], %[tmp]\n\t"
		"movl (%[links], %[tmp]), %k[new]\n\t"	/* the next entry + 1 */
		"movq %[old], %[tmp]\n\t"
		"shrq $32, %[tmp]\n\t"
		"decq %[tmp]\n\t"
		"shlq $32, %[tmp]\n\t"
		"orq %[tmp], %[new]\n\t"
		"movq %[new], (%[w])\n"			/* commit */
		RSEQ_TAIL
		: [st] "=&r"(st), [old] "=&r"(old), [new] "=&r"(new), [tmp] "=&r"(tmp)
		: [rs] "r"(rs), [cpu] "r"(cpu), [w] "r"(w), [links] "r"(links),
		  [stride] "r"(stride), [cs_off] "i"(offsetof(struct rseq, rseq_cs)),
		  [cpu_off] "i"(offsetof(struct rseq, cpu_id))
		: "memory", "cc");
	if (st == 0)
		*i = (uint32_t)old - 1;
	return st;
}

/* 0 pushed entry i (its link at `link`), 1 full, 2 not on cpu or interrupted. */
static inline int pcache_push_cs(struct rseq *rs, uint32_t cpu, _Atomic uint64_t *w, _Atomic uint32_t *link,
		   uint64_t entry1)
{
	uint64_t old, tmp;
	int st;

	__asm__ __volatile__(
		RSEQ_HEAD
		"movq (%[w]), %[old]\n\t"
		"movq %[old], %[tmp]\n\t"
		"shrq $32, %[tmp]\n\t"
		"cmpl %[cap], %k[tmp]\n\t"
		"jae 7f\n\t"
		"movl %k[old], (%[link])\n\t"		/* entry i's link: the old first */
		"incq %[tmp]\n\t"
		"shlq $32, %[tmp]\n\t"
		"orq %[entry1], %[tmp]\n\t"
		"movq %[tmp], (%[w])\n"			/* commit */
		RSEQ_TAIL
		: [st] "=&r"(st), [old] "=&r"(old), [tmp] "=&r"(tmp)
		: [rs] "r"(rs), [cpu] "r"(cpu), [w] "r"(w), [link] "r"(link),
		  [entry1] "r"(entry1), [cap] "i"(PCACHE_CAP),
		  [cs_off] "i"(offsetof(struct rseq, rseq_cs)),
		  [cpu_off] "i"(offsetof(struct rseq, cpu_id))
		: "memory", "cc");
	return st;
}

/* A few tries: each failure is a preemption or a migration, rare within a few instructions. */
#define PCACHE_TRIES 4

/*
 * One try, inline, for the writers' fast paths: 0 done, 1 empty (pop) or
 * full (push), 2 no rseq, a CPU past n, or interrupted (the caller then
 * goes to its slow path, which tries again with pcache_pop / pcache_push).
 */
static inline int pcache_pop_once(struct pcache *c, uint32_t n, const struct pool *p, uint32_t *i)
{
	int cpu = pcache_cpu();

	if (cpu < 0 || (uint32_t)cpu >= n)
		return 2;
	return pcache_pop_cs(pcache_rseq(), (uint32_t)cpu, &c[cpu].word, p->base + p->link_off,
			     p->stride, i);
}

static inline int pcache_push_once(struct pcache *c, uint32_t n, const struct pool *p, uint32_t i)
{
	int cpu = pcache_cpu();

	if (cpu < 0 || (uint32_t)cpu >= n)
		return 2;
	return pcache_push_cs(pcache_rseq(), (uint32_t)cpu, &c[cpu].word, pool_link(p, i),
			      (uint64_t)i + 1);
}

static inline bool pcache_pop(struct pcache *c, uint32_t n, const struct pool *p, uint32_t *i)
{
	for (int t = 0; t < PCACHE_TRIES; t++) {
		int st = pcache_pop_once(c, n, p, i);

		if (st != 2 || pcache_cpu() < 0)
			return st == 0;
	}
	return false;
}

static inline bool pcache_push(struct pcache *c, uint32_t n, const struct pool *p, uint32_t i)
{
	for (int t = 0; t < PCACHE_TRIES; t++) {
		int st = pcache_push_once(c, n, p, i);

		if (st != 2 || pcache_cpu() < 0)
			return st == 0;
	}
	return false;
}

#else /* no rseq: the callers use the free lists */

static inline int pcache_cpu(void)
{
	return -1;
}

static inline int pcache_pop_once(struct pcache *c, uint32_t n, const struct pool *p, uint32_t *i)
{
	(void)c; (void)n; (void)p; (void)i;
	return 2;
}

static inline int pcache_push_once(struct pcache *c, uint32_t n, const struct pool *p, uint32_t i)
{
	(void)c; (void)n; (void)p; (void)i;
	return 2;
}

static inline bool pcache_pop(struct pcache *c, uint32_t n, const struct pool *p, uint32_t *i)
{
	(void)c; (void)n; (void)p; (void)i;
	return false;
}

static inline bool pcache_push(struct pcache *c, uint32_t n, const struct pool *p, uint32_t i)
{
	(void)c; (void)n; (void)p; (void)i;
	return false;
}

#endif

#endif /* BPFRT_MAPS_PCACHE_H */
