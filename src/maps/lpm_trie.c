/* lpm_trie.c — lpm_trie: a path-compressed binary trie of prefixes, longest-prefix-match lookups. */
#include <errno.h>
#include <string.h>

#include "maps/map.h"
#include "maps/sync.h"
#include "util/error.h"

/*
 * Keys are { u32 prefixlen; u8 data[key_size - 4]; } with data in network
 * order. Every node holds a prefix; a child's prefix extends its parent's,
 * child[b] being the side whose next bit is b. Intermediate nodes (no value,
 * exactly two children) exist only where two prefixes part. The shape is a
 * function of the set of prefixes, so get_next_key walks the same order as
 * the kernel's: post-order, child 0 first, more specific prefixes first.
 * A node keeps the whole data it was given, bits past the prefix included,
 * as the kernel's does (get_next_key returns them).
 *
 * Writers hold the trie lock and bump its sequence count around every
 * change. Program lookups are lock-free: they walk, then retry if the count
 * moved (a walk of a changing trie is bounded and stays inside the pool).
 * Nodes (2 * max_entries: values plus intermediates) come from a free list.
 */
#define LPM_DATA_MAX 256u
#define LPM_VALUE_MAX (1u << 20)
#define LPM_MAX_BITS (LPM_DATA_MAX * 8)
#define NODE_IM 1u

struct lpm_hdr {
	plock_t lock;
	seq_t seq;
	_Atomic uint32_t root;		/* node number + 1; 0: empty */
	uint32_t entries;
	uint64_t nodes_off;
	uint32_t node_size, data_size, max_bits, nnodes;
	_Atomic uint64_t free_head;
	_Atomic uint32_t bump;
};

struct lpm_node {
	_Atomic uint32_t child[2];	/* node number + 1; 0: none */
	_Atomic uint32_t prefixlen;
	_Atomic uint32_t flags;
	_Atomic uint32_t free_next;
	uint32_t pad;
	uint8_t data[];			/* data_size rounded up to 8, then the value */
};

struct lpm_key {
	uint32_t prefixlen;
	uint8_t data[];
};

static struct lpm_hdr *lhdr(const struct bpfrt_map *m)
{
	return (struct lpm_hdr *)(m->base + MAP_FAMILY_OFF);
}

static struct lpm_node *node_at(const struct bpfrt_map *m, uint32_t link)
{
	return (struct lpm_node *)(m->area + (size_t)(link - 1) * m->elem_size);
}

static uint8_t *node_value(const struct bpfrt_map *m, struct lpm_node *n)
{
	return n->data + map_align(lhdr(m)->data_size, 8);
}

static uint32_t plen(const struct lpm_node *n)
{
	return atomic_load_explicit(&n->prefixlen, memory_order_relaxed);
}

static uint32_t child(const struct lpm_node *n, unsigned b)
{
	return atomic_load_explicit(&n->child[b], memory_order_acquire);
}

static unsigned bit_at(const uint8_t *data, uint32_t i)
{
	return data[i / 8] >> (7 - i % 8) & 1;
}

/* How many leading bits node and key share, at most min(both prefix lengths, max_bits). */
static uint32_t match_len(const struct bpfrt_map *m, const struct lpm_node *n,
			  const struct lpm_key *k)
{
	uint32_t limit = plen(n), i = 0;

	if (k->prefixlen < limit)
		limit = k->prefixlen;
	if (m->mask < limit)	/* m->mask holds max_bits */
		limit = m->mask;
	for (; i + 8 <= limit && n->data[i / 8] == k->data[i / 8]; i += 8)
		;
	while (i < limit && bit_at(n->data, i) == bit_at(k->data, i))
		i++;
	return i;
}

/* ---- Creation ------------------------------------------------------------- */

static int64_t lpm_check(struct map_block *b, const struct bpfrt_map_opts *o,
			 struct bpfrt_error *err)
{
	uint64_t size = MAP_PAGE, node;
	int ret;

	(void)o;
	if (b->key_size < 5 || b->key_size > 4 + LPM_DATA_MAX || !b->value_size ||
	    !b->max_entries)
		return err_set(err, -EINVAL, -1, "LPM tries need key_size 5..%u, "
			       "value_size > 0 and max_entries > 0", 4 + LPM_DATA_MAX);
	if (!(b->map_flags & MAP_F_NO_PREALLOC))
		return err_set(err, -EINVAL, -1, "LPM tries must be created with BPF_F_NO_PREALLOC");
	ret = map_check_flags(b, MAP_F_NO_PREALLOC | MAP_F_NUMA_NODE | MAP_F_ACCESS_MASK, err);
	if (ret)
		return ret;
	node = sizeof(struct lpm_node) + map_align(b->key_size - 4, 8) +
	       map_align(b->value_size, 8);
	if (b->value_size > LPM_VALUE_MAX || b->max_entries > 1u << 30 ||
	    !map_size_add(&size, 2ull * b->max_entries, node))
		return err_set(err, -E2BIG, -1, "the trie would be too big");
	return (int64_t)size;
}

static void lpm_init(struct bpfrt_map *m)
{
	struct lpm_hdr *h = lhdr(m);

	h->nodes_off = MAP_PAGE;
	h->data_size = m->key_size - 4;
	h->node_size = (uint32_t)(sizeof(struct lpm_node) + map_align(h->data_size, 8) +
				  m->stride);
	h->max_bits = h->data_size * 8;
	h->nnodes = 2 * m->max_entries;
}

static int lpm_attach(struct bpfrt_map *m)
{
	m->area = m->base + lhdr(m)->nodes_off;
	m->elem_size = lhdr(m)->node_size;
	m->mask = lhdr(m)->max_bits;
	return 0;
}

static struct pool node_pool(const struct bpfrt_map *m)
{
	return (struct pool){ m->area, m->elem_size, offsetof(struct lpm_node, free_next) };
}

/*
 * A fresh node (its link) holding prefixlen bits of data, or 0. The pool
 * cannot run dry (see above) unless a process died in the middle of an
 * update and leaked nodes.
 */
static uint32_t node_new(struct bpfrt_map *m, uint32_t prefixlen, const uint8_t *data,
			 uint32_t flags)
{
	struct pool p = node_pool(m);
	struct lpm_node *n;
	uint32_t i;

	if (!flist_pop(&lhdr(m)->free_head, &p, &i) &&
	    !pool_bump(&lhdr(m)->bump, lhdr(m)->nnodes, &i))
		return 0;
	n = node_at(m, i + 1);
	atomic_store_explicit(&n->child[0], 0, memory_order_relaxed);
	atomic_store_explicit(&n->child[1], 0, memory_order_relaxed);
	atomic_store_explicit(&n->prefixlen, prefixlen, memory_order_relaxed);
	atomic_store_explicit(&n->flags, flags, memory_order_relaxed);
	memcpy(n->data, data, lhdr(m)->data_size);
	return i + 1;
}

static void node_free(struct bpfrt_map *m, uint32_t link)
{
	struct pool p = node_pool(m);

	flist_push(&lhdr(m)->free_head, &p, link - 1);
}

/* ---- Lookups -------------------------------------------------------------- */

static const struct lpm_key *checked_key(const struct bpfrt_map *m, const void *key)
{
	const struct lpm_key *k = key;

	return k->prefixlen > lhdr(m)->max_bits ? NULL : k;
}


/* The node with the longest prefix matching key, or NULL; safe on a trie that changes meanwhile. */
static struct lpm_node *walk(const struct bpfrt_map *m, const struct lpm_key *k)
{
	uint32_t link = atomic_load_explicit(&lhdr(m)->root, memory_order_acquire);
	struct lpm_node *found = NULL;

	for (uint32_t depth = 0; link && link <= lhdr(m)->nnodes && depth <= m->mask; depth++) {
		struct lpm_node *n = node_at(m, link);
		uint32_t len = match_len(m, n, k), p = plen(n);

		if (len < p)
			break;
		if (!(atomic_load_explicit(&n->flags, memory_order_relaxed) & NODE_IM))
			found = n;
		if (p >= m->mask)
			break;
		link = child(n, bit_at(k->data, p));
	}
	return found;
}

static void *lpm_lookup(struct bpfrt_map *m, const void *key)
{
	struct lpm_hdr *h = lhdr(m);
	struct lpm_node *n;
	uint32_t v;

	if (!checked_key(m, key))
		return NULL;	/* a prefix longer than the key matches nothing */
	for (int tries = 0; tries < SEQ_TRIES; tries++) {
		if (!seq_read_begin(&h->seq, &v)) {
			cpu_relax();
			continue;
		}
		n = walk(m, key);
		if (seq_read_ok(&h->seq, v))
			return n ? node_value(m, n) : NULL;
	}
	plock_lock(&h->lock);
	seq_fix(&h->seq);
	n = walk(m, key);
	plock_unlock(&h->lock);
	return n ? node_value(m, n) : NULL;
}

static int lpm_sys_lookup(struct bpfrt_map *m, const void *key, void *value)
{
	struct lpm_hdr *h = lhdr(m);
	struct lpm_node *n;

	if (!checked_key(m, key))
		return -ENOENT;
	plock_lock(&h->lock);
	seq_fix(&h->seq);
	n = walk(m, key);
	if (n)
		memcpy(value, node_value(m, n), m->value_size);
	plock_unlock(&h->lock);
	return n ? 0 : -ENOENT;
}

/* ---- Updates -------------------------------------------------------------- */

/*
 * Where key belongs: *slot is the link to follow from the root down to the
 * first node that does not extend a prefix of key (or an empty slot);
 * *parent the slot that points to its parent (or the root). Returns that
 * node's link (0 if the slot is empty) and its match length.
 */
static uint32_t descend(struct bpfrt_map *m, const struct lpm_key *k,
			_Atomic uint32_t **slot, _Atomic uint32_t **parent,
			uint32_t *parent_link, uint32_t *len)
{
	_Atomic uint32_t *s = &lhdr(m)->root, *ps = s;
	uint32_t link, plink = 0;

	while ((link = atomic_load_explicit(s, memory_order_relaxed))) {
		struct lpm_node *n = node_at(m, link);

		*len = match_len(m, n, k);
		if (plen(n) != *len || plen(n) == k->prefixlen)
			break;
		ps = s;
		plink = link;
		s = &n->child[bit_at(k->data, plen(n))];
	}
	*slot = s;
	if (parent)
		*parent = ps;
	if (parent_link)
		*parent_link = plink;
	return link;
}

/* May a new entry be added? The kernel's checks, in its order. */
static long may_add(struct bpfrt_map *m, uint64_t flags)
{
	if (flags == BPFRT_EXIST)
		return -ENOENT;
	if (lhdr(m)->entries >= m->max_entries)
		return -ENOSPC;
	lhdr(m)->entries++;
	return 0;
}

static void set_leaf(struct bpfrt_map *m, struct lpm_node *n, const struct lpm_key *k,
		     const void *value)
{
	memcpy(n->data, k->data, lhdr(m)->data_size);
	memcpy(node_value(m, n), value, m->value_size);
	atomic_store_explicit(&n->flags, 0, memory_order_relaxed);
}

static long update_locked(struct bpfrt_map *m, const struct lpm_key *k, const void *value,
			  uint64_t flags)
{
	_Atomic uint32_t *slot;
	uint32_t len = 0, link = descend(m, k, &slot, NULL, NULL, &len), fresh, im;
	struct lpm_node *n = link ? node_at(m, link) : NULL;
	long ret;

	if (n && plen(n) == len) {	/* the same prefix: fill in or replace */
		if (!(n->flags & NODE_IM) && flags == BPFRT_NOEXIST)
			return -EEXIST;
		if ((n->flags & NODE_IM) && (ret = may_add(m, flags)))
			return ret;
		set_leaf(m, n, k, value);
		return 0;
	}
	if ((ret = may_add(m, flags)))
		return ret;
	fresh = node_new(m, k->prefixlen, k->data, 0);
	im = n && len != k->prefixlen ? node_new(m, len, n->data, NODE_IM) : 0;
	if (!fresh || (n && len != k->prefixlen && !im)) {
		if (fresh)
			node_free(m, fresh);
		lhdr(m)->entries--;
		return -ENOMEM;
	}
	memcpy(node_value(m, node_at(m, fresh)), value, m->value_size);
	if (!n) {
		atomic_store_explicit(slot, fresh, memory_order_release);
	} else if (len == k->prefixlen) {	/* the new prefix is n's parent */
		atomic_store(&node_at(m, fresh)->child[bit_at(n->data, len)], link);
		atomic_store_explicit(slot, fresh, memory_order_release);
	} else {			/* they part at bit len: an intermediate above both */
		unsigned side = bit_at(k->data, len);

		atomic_store(&node_at(m, im)->child[side], fresh);
		atomic_store(&node_at(m, im)->child[!side], link);
		atomic_store_explicit(slot, im, memory_order_release);
	}
	return 0;
}

static long lpm_update(struct bpfrt_map *m, const void *key, const void *value,
		       uint64_t flags)
{
	const struct lpm_key *k = checked_key(m, key);
	struct lpm_hdr *h = lhdr(m);
	long ret;

	if (flags > BPFRT_EXIST || !k)
		return -EINVAL;
	plock_lock(&h->lock);
	seq_fix(&h->seq);
	seq_write_begin(&h->seq);
	ret = update_locked(m, k, value, flags);
	seq_write_end(&h->seq);
	plock_unlock(&h->lock);
	return ret;
}

/* ---- Deletes -------------------------------------------------------------- */

static long delete_locked(struct bpfrt_map *m, const struct lpm_key *k)
{
	_Atomic uint32_t *slot, *pslot;
	uint32_t len = 0, plink, link = descend(m, k, &slot, &pslot, &plink, &len);
	struct lpm_node *n = link ? node_at(m, link) : NULL, *p;
	uint32_t c0, c1;

	if (!n || plen(n) != k->prefixlen || plen(n) != len || (n->flags & NODE_IM))
		return -ENOENT;
	lhdr(m)->entries--;
	c0 = child(n, 0);
	c1 = child(n, 1);
	if (c0 && c1) {			/* still needed where its children part */
		atomic_store(&n->flags, NODE_IM);
		return 0;
	}
	p = plink ? node_at(m, plink) : NULL;
	if (p && (p->flags & NODE_IM) && !c0 && !c1) {	/* the parent goes too */
		atomic_store_explicit(pslot, child(p, child(p, 0) == link),
				      memory_order_release);
		node_free(m, plink);
	} else {
		atomic_store_explicit(slot, c0 ? c0 : c1, memory_order_release);
	}
	node_free(m, link);
	return 0;
}

static long lpm_delete(struct bpfrt_map *m, const void *key)
{
	const struct lpm_key *k = checked_key(m, key);
	struct lpm_hdr *h = lhdr(m);
	long ret;

	if (!k)
		return -EINVAL;
	plock_lock(&h->lock);
	seq_fix(&h->seq);
	seq_write_begin(&h->seq);
	ret = delete_locked(m, k);
	seq_write_end(&h->seq);
	plock_unlock(&h->lock);
	return ret;
}

/* ---- Iteration ------------------------------------------------------------ */

/* The first node in post-order under link that holds a value. */
static uint32_t leftmost(const struct bpfrt_map *m, uint32_t link)
{
	uint32_t found = 0;

	while (link) {
		struct lpm_node *n = node_at(m, link);

		if (!(n->flags & NODE_IM))
			found = link;
		link = child(n, 0) ? child(n, 0) : child(n, 1);
	}
	return found;
}

/* The node after key's in post-order, 0 at the end; -1 if key is not in the trie. */
static int64_t next_after(const struct bpfrt_map *m, const struct lpm_key *k)
{
	uint32_t path[LPM_MAX_BITS + 2], depth = 0, link = lhdr(m)->root, len = 0;

	while (link && depth < LPM_MAX_BITS + 2) {
		struct lpm_node *n = node_at(m, link);

		len = match_len(m, n, k);
		path[depth++] = link;
		if (plen(n) != len || plen(n) == k->prefixlen)
			break;
		link = child(n, bit_at(k->data, plen(n)));
	}
	/* Only an exact match has a successor; anything else starts over. */
	if (!link || plen(node_at(m, link)) != len || plen(node_at(m, link)) != k->prefixlen ||
	    (node_at(m, link)->flags & NODE_IM))
		return -1;
	for (depth--; depth > 0; depth--) {
		struct lpm_node *parent = node_at(m, path[depth - 1]);

		if (child(parent, 0) == path[depth] && child(parent, 1))
			return leftmost(m, child(parent, 1));
		if (!(parent->flags & NODE_IM))
			return path[depth - 1];
	}
	return 0;
}

static int lpm_get_next_key(struct bpfrt_map *m, const void *key, void *next)
{
	struct lpm_hdr *h = lhdr(m);
	struct lpm_key *out = next;
	int64_t link = -1;

	plock_lock(&h->lock);
	if (key && ((const struct lpm_key *)key)->prefixlen <= h->max_bits)
		link = next_after(m, key);
	if (link < 0)
		link = leftmost(m, h->root);
	if (link > 0) {
		out->prefixlen = plen(node_at(m, (uint32_t)link));
		memcpy(out->data, node_at(m, (uint32_t)link)->data, h->data_size);
	}
	plock_unlock(&h->lock);
	return link > 0 ? 0 : -ENOENT;
}

static bool lpm_region(struct bpfrt_map *m, void **base, size_t *len)
{
	*base = m->area;
	*len = (size_t)lhdr(m)->nnodes * m->elem_size;
	return true;
}

const struct map_ops lpm_trie_ops = {
	.check = lpm_check,
	.init = lpm_init,
	.attach = lpm_attach,
	.lookup = lpm_lookup,
	.update = lpm_update,
	.delete = lpm_delete,
	.value_region = lpm_region,
	.sys_lookup = lpm_sys_lookup,
	.get_next_key = lpm_get_next_key,
};
