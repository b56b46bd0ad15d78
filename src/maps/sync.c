/* sync.c — the slow paths of sync.h: waiting for locks, dead-owner takeover, CPU slot claims. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include "sync.h"

/* ---- Our pid, cached ---------------------------------------------------- */

_Atomic uint32_t sync_cached_pid;
static pthread_once_t pid_once = PTHREAD_ONCE_INIT;

static void pid_after_fork(void)
{
	atomic_store(&sync_cached_pid, (uint32_t)getpid());
}

static void pid_init(void)
{
	atomic_store(&sync_cached_pid, (uint32_t)getpid());
	pthread_atfork(NULL, NULL, pid_after_fork);
}

uint32_t sync_pid_slow(void)
{
	pthread_once(&pid_once, pid_init);
	return atomic_load(&sync_cached_pid);
}

/* ---- Waiting for a lock ------------------------------------------------- */

#define SPINS_BEFORE_YIELD 128
#define YIELDS_BEFORE_CHECK 256

/* Does the process that holds the lock still exist? (EPERM: yes, not ours.) */
static bool owner_alive(uint32_t pid)
{
	return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

void plock_lock_slow(plock_t *l, uint32_t me)
{
	unsigned spins = 0, yields = 0;
	uint32_t owner;

	for (;;) {
		owner = atomic_load_explicit(l, memory_order_relaxed);
		if (owner == 0) {
			if (atomic_compare_exchange_weak_explicit(
				    l, &owner, me, memory_order_acquire,
				    memory_order_relaxed))
				return;
			continue;
		}
		if (spins < SPINS_BEFORE_YIELD) {
			spins++;
			cpu_relax();
			continue;
		}
		sched_yield();
		if (++yields % YIELDS_BEFORE_CHECK || owner == me || owner_alive(owner))
			continue;
		/* The holder died: take the lock over from it. */
		if (atomic_compare_exchange_strong_explicit(l, &owner, me,
							    memory_order_acquire,
							    memory_order_relaxed))
			return;
	}
}

/* ---- CPU slots ---------------------------------------------------------- */

#define MAX_SLOTS 1024

__thread int sync_tls_slot = -1;
static _Atomic uint64_t slot_bits[MAX_SLOTS / 64];
static _Atomic uint32_t slot_overflow;
static pthread_key_t slot_key;
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;

static void slot_release(void *v)
{
	uint32_t s = (uint32_t)(uintptr_t)v - 1;

	if (s < MAX_SLOTS)
		atomic_fetch_and(&slot_bits[s / 64], ~(1ull << (s % 64)));
}

static void slot_init(void)
{
	pthread_key_create(&slot_key, slot_release);
}

/* The lowest free slot, or (when over a thousand threads hold one) a shared one. */
uint32_t sync_claim_slot(void)
{
	pthread_once(&slot_once, slot_init);
	for (unsigned w = 0; w < MAX_SLOTS / 64; w++) {
		uint64_t bits = atomic_load(&slot_bits[w]);

		while (~bits) {
			unsigned b = (unsigned)__builtin_ctzll(~bits);

			if (atomic_compare_exchange_weak(&slot_bits[w], &bits,
							 bits | 1ull << b)) {
				sync_tls_slot = (int)(w * 64 + b);
				pthread_setspecific(slot_key,
						    (void *)(uintptr_t)(sync_tls_slot + 1));
				return (uint32_t)sync_tls_slot;
			}
		}
	}
	sync_tls_slot = (int)(atomic_fetch_add(&slot_overflow, 1) % MAX_SLOTS);
	return (uint32_t)sync_tls_slot;
}

uint32_t sync_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	return n > 0 ? (uint32_t)n : 1;
}
