/* sync.h — process-shared locks, sequence counts, lock-free free lists and CPU slots for maps. */
#ifndef BPFRT_MAPS_SYNC_H
#define BPFRT_MAPS_SYNC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() atomic_signal_fence(memory_order_seq_cst)
#endif

/* ---- Locks -------------------------------------------------------------- */

/*
 * A lock is one 32-bit word inside the block: 0 when free, else the pid of
 * the process holding it. Waiters spin, then yield; every so often a waiter
 * checks that the holder's process still exists and, if it died, takes the
 * lock over (the structures it guards are changed so that every single
 * store leaves them consistent; see docs/maps.md). Locks never nest except
 * as each family documents, and are never held across a callback.
 */
typedef _Atomic uint32_t plock_t;

extern _Atomic uint32_t sync_cached_pid;	/* 0 until first use */
uint32_t sync_pid_slow(void);

/* getpid(), cached (reset on fork); inline, since every lock takes it. */
static inline uint32_t sync_pid(void)
{
	uint32_t p = atomic_load_explicit(&sync_cached_pid, memory_order_relaxed);

	return __builtin_expect(p != 0, 1) ? p : sync_pid_slow();
}
void plock_lock_slow(plock_t *l, uint32_t me);

static inline bool plock_trylock(plock_t *l)
{
	uint32_t free = 0;

	return atomic_compare_exchange_strong_explicit(l, &free, sync_pid(),
						       memory_order_acquire,
						       memory_order_relaxed);
}

static inline void plock_lock(plock_t *l)
{
	uint32_t free = 0, me = sync_pid();

	if (__builtin_expect(atomic_compare_exchange_weak_explicit(
				     l, &free, me, memory_order_acquire,
				     memory_order_relaxed), 1))
		return;
	plock_lock_slow(l, me);
}

static inline void plock_unlock(plock_t *l)
{
	atomic_store_explicit(l, 0, memory_order_release);
}

/* ---- Sequence counts ---------------------------------------------------- */

/*
 * A writer (holding the lock that guards the data) makes the count odd,
 * writes, and makes it even again; a reader copies between two reads of an
 * even count and retries if it changed. Readers give up after SEQ_TRIES
 * and take the lock instead, where seq_fix() repairs a count a dead writer
 * left odd.
 */
typedef _Atomic uint32_t seq_t;
#define SEQ_TRIES 64

static inline void seq_write_begin(seq_t *s)
{
	atomic_store_explicit(s, atomic_load_explicit(s, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static inline void seq_write_end(seq_t *s)
{
	atomic_store_explicit(s, atomic_load_explicit(s, memory_order_relaxed) + 1,
			      memory_order_release);
}

/* Start a read; false if a write is in progress. */
static inline bool seq_read_begin(seq_t *s, uint32_t *v)
{
	*v = atomic_load_explicit(s, memory_order_acquire);
	return !(*v & 1);
}

/* True if the data read since seq_read_begin is consistent. */
static inline bool seq_read_ok(seq_t *s, uint32_t v)
{
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(s, memory_order_relaxed) == v;
}

/* Under the lock: a count left odd by a writer that died is made even. */
static inline void seq_fix(seq_t *s)
{
	uint32_t v = atomic_load_explicit(s, memory_order_relaxed);

	if (v & 1)
		atomic_store_explicit(s, v + 1, memory_order_release);
}

/* ---- Free lists of pool entries ----------------------------------------- */

/*
 * A lock-free stack of entry numbers (a Treiber stack). The head holds
 * (tag << 32 | entry + 1), 0 in the low half meaning empty; the tag, bumped
 * by every change, defeats ABA. Entry i's link is the 32-bit word at
 * base + i * stride + link_off, and stays mapped forever, so a stale read
 * is harmless: the compare-and-swap then fails.
 */
struct pool {
	uint8_t *base;
	size_t stride, link_off;
};

static inline _Atomic uint32_t *pool_link(const struct pool *p, uint32_t i)
{
	return (_Atomic uint32_t *)(p->base + (size_t)i * p->stride + p->link_off);
}

static inline void flist_push(_Atomic uint64_t *head, const struct pool *p, uint32_t i)
{
	uint64_t old = atomic_load_explicit(head, memory_order_relaxed), new;

	do {
		atomic_store_explicit(pool_link(p, i), (uint32_t)old, memory_order_relaxed);
		new = ((old >> 32) + 1) << 32 | (i + 1);
	} while (!atomic_compare_exchange_weak_explicit(head, &old, new,
							memory_order_release,
							memory_order_relaxed));
}

static inline bool flist_pop(_Atomic uint64_t *head, const struct pool *p, uint32_t *i)
{
	uint64_t old = atomic_load_explicit(head, memory_order_acquire), new;

	do {
		if (!(uint32_t)old)
			return false;
		new = ((old >> 32) + 1) << 32 |
		      atomic_load_explicit(pool_link(p, (uint32_t)old - 1),
					   memory_order_relaxed);
	} while (!atomic_compare_exchange_weak_explicit(head, &old, new,
							memory_order_acquire,
							memory_order_acquire));
	*i = (uint32_t)old - 1;
	return true;
}

/* Entries never handed out yet come from a bump counter: pool pages stay untouched until used. */
static inline bool pool_bump(_Atomic uint32_t *bump, uint32_t n, uint32_t *i)
{
	uint32_t v = atomic_load_explicit(bump, memory_order_relaxed);

	do {
		if (v >= n)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(bump, &v, v + 1,
							memory_order_relaxed,
							memory_order_relaxed));
	*i = v;
	return true;
}

/* ---- CPU slots ---------------------------------------------------------- */

/*
 * "CPUs" are slots that threads claim: a thread's first per-CPU access
 * takes the lowest slot no live thread of this process holds, and thread
 * exit gives it back. A map with n CPUs uses slot % n.
 */
extern __thread int sync_tls_slot;
uint32_t sync_claim_slot(void);

static inline uint32_t sync_cpu_slot(void)
{
	int s = sync_tls_slot;

	return __builtin_expect(s >= 0, 1) ? (uint32_t)s : sync_claim_slot();
}

/* The machine's CPUs (the default number of per-CPU slots). */
uint32_t sync_ncpus(void);

#endif /* BPFRT_MAPS_SYNC_H */
