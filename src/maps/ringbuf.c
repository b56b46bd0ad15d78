/* ringbuf.c — ringbuf: variable-size records reserved, then submitted or discarded, read in order by one consumer. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "maps/map.h"
#include "maps/sync.h"
#include "util/error.h"

/*
 * Block: [header page][data: max_entries bytes], the data mapped twice in a
 * row (see map.c), so a record that wraps around the end is contiguous, as
 * in the kernel. Positions only grow; position p is at data + (p & mask).
 *
 * A record is an 8-byte header — its length with the BUSY bit while
 * reserved and the DISCARD bit if discarded, then its offset from the block
 * in 8-byte units (submit finds the map from the record alone) — and the
 * data, padded to 8 bytes. Producers reserve under the producer lock (the
 * header is written before producer_pos moves, so the consumer never reads
 * a header that is not there yet); submit and discard only clear BUSY.
 * The consumer stops at the first BUSY record, so records come out in
 * reservation order.
 *
 * Wakeups follow the kernel's rule: a submit signals the map's eventfd when
 * the consumer has caught up with that very record (it is, or soon will be,
 * waiting), or when forced; BPF_RB_NO_WAKEUP never signals. The eventfd is
 * per process: a consumer in another process must poll.
 */
#define RB_MAX_RECORD (RING_DISCARD - 1)

/*
 * Who holds a reserved record, for when a process dies between reserve and
 * submit: its record would stay BUSY and stop the consumer for good. Slot
 * (pos / 8) % RB_OWNERS remembers (pos + 1, pid) while the record is
 * reserved (if the slot is free); a consumer stopped at a BUSY record whose
 * owner no longer exists discards it and goes on.
 */
#define RB_OWNERS 64

struct rb_owner {
	_Atomic uint64_t pos1;		/* record position + 1; 0: free */
	_Atomic uint32_t pid;
	uint32_t pad;
};

struct rb_hdr {
	uint64_t data_off;
	uint64_t mask;
	alignas(64) _Atomic uint64_t consumer_pos;
	plock_t consumer_lock;
	alignas(64) _Atomic uint64_t producer_pos;
	plock_t producer_lock;
	alignas(64) struct rb_owner owners[RB_OWNERS];
};
_Static_assert(MAP_FAMILY_OFF + sizeof(struct rb_hdr) <= MAP_PAGE, "ringbuf header too big");

static struct rb_owner *rb_owner_of(struct rb_hdr *h, uint64_t pos)
{
	return &h->owners[(pos / 8) % RB_OWNERS];
}

struct rb_rec {
	_Atomic uint32_t len;
	uint32_t off8;		/* (record - block) / 8 */
};

static struct rb_hdr *rhdr(const struct bpfrt_map *m)
{
	return (struct rb_hdr *)(m->base + MAP_FAMILY_OFF);
}

static struct rb_rec *rec_at(const struct bpfrt_map *m, uint64_t pos)
{
	return (struct rb_rec *)(m->area + (pos & m->mask));
}

/* ---- Creation ------------------------------------------------------------- */

static int64_t rb_check(struct map_block *b, const struct bpfrt_map_opts *o,
			struct bpfrt_error *err)
{
	uint32_t n = b->max_entries;
	int ret;

	(void)o;
	if (b->key_size || b->value_size || !n || (n & (n - 1)) || n % MAP_PAGE)
		return err_set(err, -EINVAL, -1, "ring buffers need key_size 0, value_size 0 and "
			       "max_entries a power of 2 and a multiple of %u", MAP_PAGE);
	ret = map_check_flags(b, MAP_F_NUMA_NODE, err);
	if (ret)
		return ret;
	b->mirror = n;
	return (int64_t)MAP_PAGE + n;
}

static void rb_init(struct bpfrt_map *m)
{
	rhdr(m)->data_off = MAP_PAGE;
	rhdr(m)->mask = m->max_entries - 1;
}

static int rb_attach(struct bpfrt_map *m)
{
	m->area = m->base + rhdr(m)->data_off;
	m->mask = (uint32_t)rhdr(m)->mask;
	return 0;
}

/* ---- Producing ------------------------------------------------------------ */

void *map_ringbuf_reserve(struct bpfrt_map *m, uint64_t size, uint64_t flags)
{
	struct rb_hdr *h = rhdr(m);
	uint64_t len = ring_rec_len(size), prod;
	struct rb_rec *r = NULL;

	if (m->type != BPFRT_MAP_RINGBUF || flags || size > RB_MAX_RECORD ||
	    len > m->max_entries)
		return NULL;
	plock_lock(&h->producer_lock);
	prod = atomic_load_explicit(&h->producer_pos, memory_order_relaxed);
	if (prod + len - atomic_load_explicit(&h->consumer_pos, memory_order_acquire) <= m->mask) {
		struct rb_owner *o = rb_owner_of(h, prod);

		r = rec_at(m, prod);
		atomic_store_explicit(&r->len, (uint32_t)size | RING_BUSY, memory_order_relaxed);
		r->off8 = (uint32_t)(((uint8_t *)r - m->base) / 8);
		if (!atomic_load_explicit(&o->pos1, memory_order_relaxed)) {
			atomic_store_explicit(&o->pid, sync_pid(), memory_order_relaxed);
			atomic_store_explicit(&o->pos1, prod + 1, memory_order_release);
		}
		atomic_store_explicit(&h->producer_pos, prod + len, memory_order_release);
	}
	plock_unlock(&h->producer_lock);
	return r ? r + 1 : NULL;
}

static void rb_commit(void *data, uint64_t flags, bool discard)
{
	struct rb_rec *r = (struct rb_rec *)data - 1;
	uint8_t *base = (uint8_t *)r - (size_t)r->off8 * 8;
	struct bpfrt_map *m = *(struct bpfrt_map **)(base - MAP_PAGE);
	uint32_t len = atomic_load_explicit(&r->len, memory_order_relaxed) & ~RING_BUSY;
	uint64_t cons, pos = (uint64_t)((uint8_t *)r - m->area);
	struct rb_owner *o;

	/* Both sides are sequentially consistent: a submit and a consumer going to sleep see each other. */
	atomic_exchange(&r->len, discard ? len | RING_DISCARD : len);
	/* Forget the owner (slots hold whole positions; the low bits match ours). */
	o = rb_owner_of(rhdr(m), pos);
	if ((atomic_load_explicit(&o->pos1, memory_order_relaxed) - 1) % ((uint64_t)m->mask + 1) == pos)
		atomic_store_explicit(&o->pos1, 0, memory_order_release);
	if (flags & MAP_RB_FORCE_WAKEUP) {
		map_event_signal(m);
		return;
	}
	cons = atomic_load(&rhdr(m)->consumer_pos);
	if (!(flags & MAP_RB_NO_WAKEUP) && (cons & m->mask) == (uint64_t)((uint8_t *)r - m->area))
		map_event_signal(m);
}

void map_ringbuf_submit(void *data, uint64_t flags)
{
	rb_commit(data, flags, false);
}

void map_ringbuf_discard(void *data, uint64_t flags)
{
	rb_commit(data, flags, true);
}

long map_ringbuf_output(struct bpfrt_map *m, const void *data, uint64_t size, uint64_t flags)
{
	void *rec;

	if (flags & ~(uint64_t)(MAP_RB_NO_WAKEUP | MAP_RB_FORCE_WAKEUP))
		return -EINVAL;
	rec = map_ringbuf_reserve(m, size, 0);
	if (!rec)
		return -EAGAIN;
	memcpy(rec, data, size);
	map_ringbuf_submit(rec, flags);
	return 0;
}

uint64_t map_ringbuf_query(struct bpfrt_map *m, uint64_t flags)
{
	struct rb_hdr *h = rhdr(m);
	uint64_t cons = atomic_load(&h->consumer_pos), prod = atomic_load(&h->producer_pos);

	if (m->type != BPFRT_MAP_RINGBUF)
		return 0;
	switch (flags) {
	case MAP_RB_AVAIL_DATA:
		return prod - cons;
	case MAP_RB_RING_SIZE:
		return m->max_entries;
	case MAP_RB_CONS_POS:
		return cons;
	case MAP_RB_PROD_POS:
		return prod;
	default:
		return 0;
	}
}

/* ---- Consuming ------------------------------------------------------------ */

/* Drain the eventfd: a wakeup is pending only for records submitted after this. */
static void drain_events(struct bpfrt_map *m)
{
	uint64_t v;

	if (read(m->event_fd, &v, sizeof(v)) < 0)
		return;	/* nothing pending */
}

/*
 * A BUSY record at cons whose reserving process has died will never be
 * submitted: discard it (as the owner would have) so the consumer goes on.
 */
static bool owner_died(struct rb_hdr *h, uint64_t cons, struct rb_rec *r, uint32_t *len)
{
	struct rb_owner *o = rb_owner_of(h, cons);
	uint32_t pid, want = *len;

	if (atomic_load_explicit(&o->pos1, memory_order_acquire) != cons + 1)
		return false;
	pid = atomic_load_explicit(&o->pid, memory_order_relaxed);
	if (!pid || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
		return false;
	if (!atomic_compare_exchange_strong(&r->len, &want,
					     (want & ~RING_BUSY) | RING_DISCARD)) {
		*len = want;	/* submitted meanwhile after all */
		return !(want & RING_BUSY);
	}
	atomic_store_explicit(&o->pos1, 0, memory_order_release);
	*len = (want & ~RING_BUSY) | RING_DISCARD;
	return true;
}

/* Consume records in order until fn says stop or one is still busy. */
static int consume_locked(struct bpfrt_map *m, bpfrt_ringbuf_fn fn, void *ctx)
{
	struct rb_hdr *h = rhdr(m);
	uint64_t cons = atomic_load_explicit(&h->consumer_pos, memory_order_relaxed);
	int n = 0, ret = 0;

	while (cons < atomic_load_explicit(&h->producer_pos, memory_order_acquire)) {
		struct rb_rec *r = rec_at(m, cons);
		uint32_t len = atomic_load(&r->len);

		if ((len & RING_BUSY) && !owner_died(h, cons, r, &len))
			break;
		if (!(len & RING_DISCARD)) {
			ret = fn(ctx, r + 1, len & ~RING_DISCARD);
			n++;
		}
		cons += ring_rec_len(len & ~RING_DISCARD);
		atomic_store(&h->consumer_pos, cons);
		if (ret)
			break;
	}
	return ret < 0 ? ret : n;
}

BPFRT_API int bpfrt_ringbuf_consume(struct bpfrt_map *m, bpfrt_ringbuf_fn fn, void *ctx)
{
	int ret;

	if (m->type != BPFRT_MAP_RINGBUF || !fn)
		return -EINVAL;
	drain_events(m);
	plock_lock(&rhdr(m)->consumer_lock);
	ret = consume_locked(m, fn, ctx);
	plock_unlock(&rhdr(m)->consumer_lock);
	return ret;
}

BPFRT_API int bpfrt_ringbuf_poll(struct bpfrt_map *m, bpfrt_ringbuf_fn fn, void *ctx,
				 int timeout_ms)
{
	struct pollfd p = { .fd = m->event_fd, .events = POLLIN };
	int ret = bpfrt_ringbuf_consume(m, fn, ctx);

	if (ret != 0)
		return ret;
	if (poll(&p, 1, timeout_ms) < 0)
		return -errno;
	return bpfrt_ringbuf_consume(m, fn, ctx);
}

BPFRT_API int bpfrt_ringbuf_fd(struct bpfrt_map *m)
{
	return m->type == BPFRT_MAP_RINGBUF ? m->event_fd : -EINVAL;
}

static bool rb_region(struct bpfrt_map *m, void **base, size_t *len)
{
	*base = m->area;
	*len = 2 * (size_t)m->max_entries;
	return true;
}

const struct map_ops ringbuf_ops = {
	.check = rb_check,
	.init = rb_init,
	.attach = rb_attach,
	.value_region = rb_region,
	.sys_lookup_err = -EINVAL,
	.sys_update_err = -EINVAL,
	.sys_delete_err = -EINVAL,
	.get_next_err = -ENOTSUP,
};
