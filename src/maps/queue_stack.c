/* queue_stack.c — queue (FIFO) and stack (LIFO): a ring of max_entries + 1 value slots under one lock. */
#include <errno.h>
#include <string.h>

#include "maps/map.h"
#include "maps/sync.h"
#include "util/error.h"

/*
 * head is where the next push goes, tail the oldest value; head == tail is
 * empty, head + 1 == tail (modulo size) is full. A queue pops at tail, a
 * stack at head - 1. Pushing with BPF_EXIST onto a full map drops the
 * oldest value, for both, like the kernel.
 */
struct qs_hdr {
	plock_t lock;
	uint32_t head, tail, size;
	uint64_t data_off;
};

static struct qs_hdr *qhdr(const struct bpfrt_map *m)
{
	return (struct qs_hdr *)(m->base + MAP_FAMILY_OFF);
}

static uint8_t *slot(const struct bpfrt_map *m, uint32_t i)
{
	return m->area + (size_t)i * m->value_size;
}

static int64_t qs_check(struct map_block *b, const struct bpfrt_map_opts *o,
			struct bpfrt_error *err)
{
	uint64_t size = MAP_PAGE;
	int ret;

	(void)o;
	if (b->key_size || !b->value_size || !b->max_entries)
		return err_set(err, -EINVAL, -1,
			       "queues and stacks need key_size 0, value_size > 0 and max_entries > 0");
	ret = map_check_flags(b, MAP_F_NUMA_NODE | MAP_F_ACCESS_MASK, err);
	if (ret)
		return ret;
	if (!map_size_add(&size, (uint64_t)b->max_entries + 1, b->value_size))
		return err_set(err, -E2BIG, -1, "the map would be too big");
	return (int64_t)size;
}

static void qs_init(struct bpfrt_map *m)
{
	qhdr(m)->size = m->max_entries + 1;
	qhdr(m)->data_off = MAP_PAGE;
}

static int qs_attach(struct bpfrt_map *m)
{
	m->area = m->base + qhdr(m)->data_off;
	return 0;
}

static long qs_push(struct bpfrt_map *m, const void *value, uint64_t flags)
{
	struct qs_hdr *h = qhdr(m);
	long ret = 0;

	if (flags & ~(uint64_t)BPFRT_EXIST)
		return -EINVAL;
	plock_lock(&h->lock);
	if ((h->head + 1) % h->size == h->tail) {
		if (!(flags & BPFRT_EXIST)) {
			ret = -E2BIG;
			goto out;
		}
		h->tail = (h->tail + 1) % h->size;
	}
	memcpy(slot(m, h->head), value, m->value_size);
	h->head = (h->head + 1) % h->size;
out:
	plock_unlock(&h->lock);
	return ret;
}

/* Copy out the value a pop would take; remove it if `take`. */
static long qs_get(struct bpfrt_map *m, void *value, bool take)
{
	struct qs_hdr *h = qhdr(m);
	bool stack = m->type == BPFRT_MAP_STACK;
	uint32_t i;
	long ret = 0;

	plock_lock(&h->lock);
	if (h->head == h->tail) {
		ret = -ENOENT;
		goto out;
	}
	i = stack ? (h->head + h->size - 1) % h->size : h->tail;
	memcpy(value, slot(m, i), m->value_size);
	if (take && stack)
		h->head = i;
	else if (take)
		h->tail = (h->tail + 1) % h->size;
out:
	plock_unlock(&h->lock);
	return ret;
}

static long qs_pop(struct bpfrt_map *m, void *value)
{
	return qs_get(m, value, true);
}

static long qs_peek(struct bpfrt_map *m, void *value)
{
	return qs_get(m, value, false);
}

#define QS_OPS \
	.check = qs_check, \
	.init = qs_init, \
	.attach = qs_attach, \
	.push = qs_push, \
	.pop = qs_pop, \
	.peek = qs_peek, \
	.sys_delete_err = -EINVAL, \
	.get_next_err = -EINVAL

const struct map_ops queue_ops = { QS_OPS };
const struct map_ops stack_ops = { QS_OPS };
