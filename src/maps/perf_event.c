/* perf_event.c — perf_event_array: one output ring per slot ("CPU"), records copied in, lost ones counted. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "maps/map.h"
#include "maps/sync.h"
#include "util/error.h"

/*
 * The kernel's slots hold perf event fds; bpf_perf_event_output() writes a
 * sample into the event's ring. Here each slot owns its ring inside the
 * block. A slot is opened by a user-space update (the u32 value stands in
 * for the perf event fd and is kept) and closed by a delete; output to a
 * closed slot is -ENOENT, like an empty slot in the kernel.
 *
 * Each ring is map_extra bytes (a power of 2, a multiple of 4096; 0: 64 KiB).
 * A record is the 8-byte ring header (ringbuf.c) and the data; a record that
 * would cross the end is preceded by a discarded padding record that fills
 * the rest, so records never wrap. When a record does not fit, it is dropped
 * and counted; the consumer learns of drops through its `lost` callback, as
 * from perf's PERF_RECORD_LOST. Producers of a slot copy under the slot's
 * lock (two threads may share a slot); the consumer side is one consumer at
 * a time, under the map's consumer lock.
 */
#define PERF_DEFAULT_RING (64u * 1024)

struct perf_slot {
	plock_t lock;
	_Atomic uint32_t open;
	uint32_t value;
	alignas(64) _Atomic uint64_t head;	/* producer position */
	_Atomic uint64_t lost;
	alignas(64) _Atomic uint64_t tail;	/* consumer position */
	uint64_t lost_seen;
	uint8_t pad[48];
};

struct perf_hdr {
	plock_t consumer_lock;
	uint32_t ring_size;
	uint64_t slots_off, rings_off;
};

static struct perf_hdr *phdr(const struct bpfrt_map *m)
{
	return (struct perf_hdr *)(m->base + MAP_FAMILY_OFF);
}

static struct perf_slot *pslot(const struct bpfrt_map *m, uint32_t i)
{
	return (struct perf_slot *)m->elems + i;
}

static uint8_t *pring(const struct bpfrt_map *m, uint32_t i)
{
	return m->area + (size_t)i * (m->mask + 1ull);
}

/* ---- Creation ------------------------------------------------------------- */

static uint64_t ring_size(const struct map_block *b)
{
	return b->map_extra ? b->map_extra : PERF_DEFAULT_RING;
}

static int64_t perf_check(struct map_block *b, const struct bpfrt_map_opts *o,
			  struct bpfrt_error *err)
{
	uint64_t size = MAP_PAGE, rs = ring_size(b);
	int ret;

	(void)o;
	if (b->key_size != 4 || b->value_size != 4 || !b->max_entries)
		return err_set(err, -EINVAL, -1, "perf event arrays need key_size 4, value_size 4 "
			       "and max_entries > 0");
	if ((rs & (rs - 1)) || rs % MAP_PAGE || rs > 1u << 30)
		return err_set(err, -EINVAL, -1, "map_extra (the ring size per slot) must be a "
			       "power of 2 and a multiple of %u", MAP_PAGE);
	ret = map_check_flags(b, MAP_F_NUMA_NODE | MAP_F_ACCESS_MASK | MAP_F_PRESERVE_ELEMS, err);
	if (ret)
		return ret;
	if (!map_size_add(&size, b->max_entries, sizeof(struct perf_slot)) ||
	    !map_size_add(&size, b->max_entries, rs + MAP_PAGE))
		return err_set(err, -E2BIG, -1, "the perf event array would be too big");
	return (int64_t)size;
}

static void perf_init(struct bpfrt_map *m)
{
	const struct map_block *b = (const struct map_block *)m->base;
	struct perf_hdr *h = phdr(m);

	h->ring_size = (uint32_t)ring_size(b);
	h->slots_off = MAP_PAGE;
	h->rings_off = map_align(MAP_PAGE + (uint64_t)m->max_entries * sizeof(struct perf_slot),
				 MAP_PAGE);
}

static int perf_attach(struct bpfrt_map *m)
{
	m->elems = m->base + phdr(m)->slots_off;
	m->area = m->base + phdr(m)->rings_off;
	m->mask = phdr(m)->ring_size - 1;
	return 0;
}

/* ---- Output --------------------------------------------------------------- */

/* Copy one record into slot s's ring (lock held); false if it does not fit. */
static bool ring_put(struct bpfrt_map *m, uint32_t i, const void *data, uint32_t size)
{
	struct perf_slot *s = pslot(m, i);
	uint64_t head = atomic_load_explicit(&s->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&s->tail, memory_order_acquire);
	uint64_t len = ring_rec_len(size), off = head & m->mask, pad = 0;
	uint8_t *ring = pring(m, i);

	if (off + len > m->mask + 1ull)
		pad = m->mask + 1ull - off;
	if (head + pad + len - tail > m->mask + 1ull)
		return false;
	if (pad) {
		uint32_t hdr[2] = { (uint32_t)(pad - RING_HDR) | RING_DISCARD, 0 };

		memcpy(ring + off, hdr, sizeof(hdr));
		off = 0;
	}
	memcpy(ring + off, &(uint32_t[2]){ size, 0 }, RING_HDR);
	memcpy(ring + off + RING_HDR, data, size);
	atomic_store(&s->head, head + pad + len);	/* seq_cst: see the tail load after it */
	return true;
}

long map_perf_event_output(struct bpfrt_map *m, uint64_t flags, const void *data,
			   uint64_t size)
{
	uint64_t idx = flags & MAP_F_INDEX_MASK;
	struct perf_slot *s;
	uint64_t tail, head;
	bool ok;

	if (m->type != BPFRT_MAP_PERF_EVENT_ARRAY || (flags & ~MAP_F_INDEX_MASK))
		return -EINVAL;
	if (idx == MAP_F_CURRENT_CPU)
		idx = map_this_cpu(m);
	if (idx >= m->max_entries)
		return -E2BIG;
	s = pslot(m, (uint32_t)idx);
	if (!atomic_load_explicit(&s->open, memory_order_acquire))
		return -ENOENT;
	if (ring_rec_len(size) > m->mask + 1ull) {
		atomic_fetch_add(&s->lost, 1);
		return -ENOSPC;
	}
	plock_lock(&s->lock);
	head = atomic_load_explicit(&s->head, memory_order_relaxed);
	ok = ring_put(m, (uint32_t)idx, data, (uint32_t)size);
	if (!ok)
		atomic_fetch_add(&s->lost, 1);
	plock_unlock(&s->lock);
	tail = atomic_load(&s->tail);
	if (tail == head)	/* the consumer had caught up: it may be waiting */
		map_event_signal(m);
	return ok ? 0 : -ENOSPC;
}

bool map_perf_slot_open(struct bpfrt_map *m, uint32_t idx)
{
	return atomic_load_explicit(&pslot(m, idx)->open, memory_order_acquire) != 0;
}

/* ---- The user-space face -------------------------------------------------- */

static uint32_t index_of(const void *key)
{
	uint32_t i;

	memcpy(&i, key, sizeof(i));
	return i;
}

static int perf_sys_update(struct bpfrt_map *m, const void *key, const void *value,
			   uint64_t flags)
{
	uint32_t i = index_of(key);

	if (flags != BPFRT_ANY)
		return -EINVAL;
	if (i >= m->max_entries)
		return -E2BIG;
	memcpy(&pslot(m, i)->value, value, sizeof(uint32_t));
	atomic_store_explicit(&pslot(m, i)->open, 1, memory_order_release);
	return 0;
}

static long perf_delete(struct bpfrt_map *m, const void *key)
{
	uint32_t i = index_of(key);

	if (i >= m->max_entries)
		return -E2BIG;
	return atomic_exchange(&pslot(m, i)->open, 0) ? 0 : -ENOENT;
}

/* One slot: report drops, then every record. */
static int consume_slot(struct bpfrt_map *m, uint32_t i, bpfrt_perf_fn fn,
			bpfrt_perf_lost_fn lost_fn, void *ctx, int *n)
{
	struct perf_slot *s = pslot(m, i);
	uint64_t lost = atomic_load(&s->lost), tail = atomic_load(&s->tail);
	uint8_t *ring = pring(m, i);
	int ret = 0;

	if (lost != s->lost_seen && lost_fn)
		lost_fn(ctx, i, lost - s->lost_seen);
	s->lost_seen = lost;
	while (!ret && tail < atomic_load(&s->head)) {
		uint32_t hdr[2];

		memcpy(hdr, ring + (tail & m->mask), sizeof(hdr));
		if (!(hdr[0] & RING_DISCARD)) {
			ret = fn(ctx, i, ring + (tail & m->mask) + RING_HDR, hdr[0]);
			(*n)++;
		}
		tail += ring_rec_len(hdr[0] & ~RING_DISCARD);
		atomic_store(&s->tail, tail);
	}
	return ret;
}

BPFRT_API int bpfrt_perf_consume(struct bpfrt_map *m, bpfrt_perf_fn fn,
				 bpfrt_perf_lost_fn lost_fn, void *ctx)
{
	uint64_t v;
	int n = 0, ret = 0;

	if (m->type != BPFRT_MAP_PERF_EVENT_ARRAY || !fn)
		return -EINVAL;
	if (read(m->event_fd, &v, sizeof(v)) < 0)
		v = 0;	/* no wakeup pending */
	plock_lock(&phdr(m)->consumer_lock);
	for (uint32_t i = 0; !ret && i < m->max_entries; i++)
		ret = consume_slot(m, i, fn, lost_fn, ctx, &n);
	plock_unlock(&phdr(m)->consumer_lock);
	return ret < 0 ? ret : n;
}

BPFRT_API int bpfrt_perf_poll(struct bpfrt_map *m, bpfrt_perf_fn fn,
			      bpfrt_perf_lost_fn lost_fn, void *ctx, int timeout_ms)
{
	struct pollfd p = { .fd = m->event_fd, .events = POLLIN };
	int ret = bpfrt_perf_consume(m, fn, lost_fn, ctx);

	if (ret != 0)
		return ret;
	if (poll(&p, 1, timeout_ms) < 0)
		return -errno;
	return bpfrt_perf_consume(m, fn, lost_fn, ctx);
}

BPFRT_API int bpfrt_perf_fd(struct bpfrt_map *m)
{
	return m->type == BPFRT_MAP_PERF_EVENT_ARRAY ? m->event_fd : -EINVAL;
}

const struct map_ops perf_event_ops = {
	.check = perf_check,
	.init = perf_init,
	.attach = perf_attach,
	.delete = perf_delete,
	.sys_update = perf_sys_update,
	.get_next_key = map_index_next_key,
};
