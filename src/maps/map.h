/* map.h — maps as helpers and engines see them: the map object, the block, the per-type vtable. */
#ifndef BPFRT_MAP_H
#define BPFRT_MAP_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfrt.h"

/*
 * Return conventions follow the kernel's helpers: a pointer or NULL, or a
 * long that is 0 (or a count) on success and a negative errno on failure.
 * Flag values are the kernel's (BPF_ANY, BPF_RB_*, BPF_F_*), spelled MAP_*
 * here so this header needs no <linux/bpf.h>.
 */

/* ---- Kernel numbers ----------------------------------------------------- */

enum {	/* map_flags (BPF_F_*) */
	MAP_F_NO_PREALLOC = 1u << 0,
	MAP_F_NO_COMMON_LRU = 1u << 1,
	MAP_F_NUMA_NODE = 1u << 2,
	MAP_F_RDONLY = 1u << 3,
	MAP_F_WRONLY = 1u << 4,
	MAP_F_ZERO_SEED = 1u << 6,
	MAP_F_RDONLY_PROG = 1u << 7,
	MAP_F_WRONLY_PROG = 1u << 8,
	MAP_F_MMAPABLE = 1u << 10,
	MAP_F_PRESERVE_ELEMS = 1u << 11,
	MAP_F_INNER_MAP = 1u << 12,
	MAP_F_ACCESS_MASK = MAP_F_RDONLY | MAP_F_WRONLY | MAP_F_RDONLY_PROG |
			    MAP_F_WRONLY_PROG,
};

enum {	/* ring buffer helper flags and query selectors (BPF_RB_*) */
	MAP_RB_NO_WAKEUP = 1u << 0,
	MAP_RB_FORCE_WAKEUP = 1u << 1,
	MAP_RB_AVAIL_DATA = 0,
	MAP_RB_RING_SIZE = 1,
	MAP_RB_CONS_POS = 2,
	MAP_RB_PROD_POS = 3,
};

/* bpf_perf_event_output flags: the slot index, or the current CPU. */
#define MAP_F_INDEX_MASK  0xffffffffull
#define MAP_F_CURRENT_CPU 0xffffffffull

/* ---- The block ---------------------------------------------------------- */

/*
 * Every map lives in one block of shared memory (a memfd mapped MAP_SHARED).
 * The block begins with this header; the family's own header follows at
 * MAP_FAMILY_OFF, then its data. Links inside the block are offsets (or
 * element numbers), never pointers, so any process may map it anywhere.
 */
#define MAP_BLOCK_MAGIC   0x314b4c4254524642ull	/* "BFRTBLK1" */
#define MAP_BLOCK_VERSION 1u
#define MAP_FAMILY_OFF    128u
#define MAP_PAGE          4096u

struct map_meta {		/* what a map of maps requires of its inner maps */
	uint32_t type, key_size, value_size, max_entries, map_flags;
};

struct map_block {
	uint64_t magic;
	uint32_t version;
	uint32_t type;
	uint32_t key_size, value_size, max_entries, map_flags;
	uint64_t map_extra;
	uint64_t size;			/* bytes of the block (the memfd's size) */
	uint32_t ncpus;
	uint32_t mirror;		/* bytes at the block's end mapped twice (ringbuf) */
	char name[16];
	struct map_meta inner;		/* maps of maps: the template */
	_Atomic uint32_t frozen;	/* bpfrt_map_freeze: user space may not write */
};
_Static_assert(sizeof(struct map_block) <= MAP_FAMILY_OFF, "block header too big");

/* ---- The map object (process-local) ------------------------------------- */

struct map_ops;

struct bpfrt_map {
	/* Read-only after creation: copies of the block's geometry. */
	const struct map_ops *ops;
	uint8_t *base;			/* the block in this process */
	uint32_t type, key_size, value_size, max_entries, map_flags;
	uint32_t stride;		/* value_size rounded up to 8 */
	uint32_t ncpus;			/* per-CPU value slots */
	uint64_t map_extra;
	/* Each family caches where its parts are (see the family's file). */
	uint8_t *area;			/* buckets, values, nodes, slots, ring data */
	uint8_t *elems;			/* hash elements */
	uint8_t *pcpu;			/* per-CPU values */
	uint8_t *lru;			/* LRU nodes */
	uint64_t seed;
	uint32_t mask;
	uint32_t elem_size;
	/* Process-local state. */
	_Atomic int refcnt;
	uint32_t id;
	int block_fd;			/* the memfd */
	int event_fd;			/* ringbuf, perf: wakeups; -1 otherwise */
	void *mapping;			/* munmap(mapping, mapping_len) */
	size_t mapping_len;
	void *_Atomic *side;		/* prog arrays, maps of maps: a slot per entry */
	struct pin_meta *pin;		/* pinned (src/pin): its id, BTF; malloc'ed; else NULL */
	char name[16];
};

typedef long (*callback_fn_t)(struct bpfrt_map *map, const void *key,
			      void *value, void *ctx);

/*
 * One vtable per map type. A NULL entry means "not for this type": the
 * dispatchers in map.c turn it into the kernel's error for that operation.
 * The sys_* entries are the user-space face (copying, all CPUs); the others
 * are the program face (pointers into the block, the current CPU).
 */
struct map_ops {
	/* Validate a new map's header (common fields already checked); return the block size or a negative errno. */
	int64_t (*check)(struct map_block *b, const struct bpfrt_map_opts *o,
			 struct bpfrt_error *err);
	void (*init)(struct bpfrt_map *m);	/* lay out a fresh block */
	int (*attach)(struct bpfrt_map *m);	/* process-local setup */
	void (*detach)(struct bpfrt_map *m);	/* undo attach */

	void *(*lookup)(struct bpfrt_map *m, const void *key);
	long (*update)(struct bpfrt_map *m, const void *key, const void *value,
		       uint64_t flags);
	long (*delete)(struct bpfrt_map *m, const void *key);
	long (*push)(struct bpfrt_map *m, const void *value, uint64_t flags);
	long (*pop)(struct bpfrt_map *m, void *value);
	long (*peek)(struct bpfrt_map *m, void *value);
	void *(*lookup_percpu)(struct bpfrt_map *m, const void *key, uint32_t cpu);
	long (*for_each)(struct bpfrt_map *m, callback_fn_t fn, void *ctx);
	bool (*value_region)(struct bpfrt_map *m, void **base, size_t *len);

	int (*sys_lookup)(struct bpfrt_map *m, const void *key, void *value);
	int (*sys_update)(struct bpfrt_map *m, const void *key, const void *value,
			  uint64_t flags);
	int (*sys_lookup_and_delete)(struct bpfrt_map *m, const void *key, void *value);
	int (*get_next_key)(struct bpfrt_map *m, const void *key, void *next);
	/* Errors the kernel gives for user-space calls this type lacks. */
	int sys_lookup_err, sys_update_err, sys_delete_err, get_next_err;
};

extern const struct map_ops array_ops, percpu_array_ops, hash_ops, percpu_hash_ops,
	lru_hash_ops, lru_percpu_hash_ops, lpm_trie_ops, queue_ops, stack_ops,
	bloom_ops, ringbuf_ops, perf_event_ops, prog_array_ops, array_of_maps_ops,
	hash_of_maps_ops, stack_trace_ops, cgroup_array_ops;
extern const struct map_ops devmap_ops, devmap_hash_ops, cpumap_ops, xskmap_ops;	/* XDP redirects */

/* ---- Common (map.c) ----------------------------------------------------- */

struct bpfrt_map *map_get(struct bpfrt_map *map);	/* take a reference */
void map_put(struct bpfrt_map *map);			/* drop one */

/*
 * The block's memfd (owned by the map). map_open_block maps such a memfd
 * again, at a new address, as a new map object sharing the same contents
 * (the fd is duplicated). Prog arrays and maps of maps hold process-local
 * references and cannot be opened this way (-ENOTSUP).
 */
int map_block_fd(const struct bpfrt_map *map);
int map_open_block(int fd, struct bpfrt_map **out, struct bpfrt_error *err);

/*
 * Replace the block's memory with fd's (a file holding a copy of it, same
 * size) at the same addresses, and make fd the map's block fd (owned). The
 * mapping at m->base is replaced atomically page by page: callers copy the
 * block first and switch before anyone else writes it. -errno on failure.
 */
int map_rebind_fd(struct bpfrt_map *m, int fd);
/* Prog arrays and maps of maps: their values are process-local references. */
bool map_holds_local_refs(uint32_t type);

/* This thread's CPU slot in map (see sync.h), and a wakeup on map's eventfd. */
uint32_t map_this_cpu(const struct bpfrt_map *map);
void map_event_signal(struct bpfrt_map *map);

/* Value slot of cpu in a per-CPU area: [cpu][entry], stride bytes each. */
static inline uint8_t *map_pcpu_value(const struct bpfrt_map *m, uint32_t entry,
				      uint32_t cpu)
{
	return m->pcpu + ((size_t)cpu * m->max_entries + entry) * m->stride;
}

/* Bytes of a user-space value: ncpus × stride for per-CPU maps, else value_size. */
static inline size_t map_user_value_size(const struct bpfrt_map *m, bool percpu)
{
	return percpu ? (size_t)m->ncpus * m->stride : m->value_size;
}

/* ---- The program face: what helpers and engines call -------------------- */

void *map_lookup_elem(struct bpfrt_map *map, const void *key);
long map_update_elem(struct bpfrt_map *map, const void *key, const void *value,
		     uint64_t flags);
long map_delete_elem(struct bpfrt_map *map, const void *key);
long map_push_elem(struct bpfrt_map *map, const void *value, uint64_t flags);
long map_pop_elem(struct bpfrt_map *map, void *value);
long map_peek_elem(struct bpfrt_map *map, void *value);
void *map_lookup_percpu_elem(struct bpfrt_map *map, const void *key, uint32_t cpu);
/* callback returns 0 to go on, 1 to stop; returns the number of elements visited. */
long map_for_each_elem(struct bpfrt_map *map, callback_fn_t fn, void *ctx,
		       uint64_t flags);

void *map_ringbuf_reserve(struct bpfrt_map *map, uint64_t size, uint64_t flags);
void map_ringbuf_submit(void *data, uint64_t flags);
void map_ringbuf_discard(void *data, uint64_t flags);
long map_ringbuf_output(struct bpfrt_map *map, const void *data, uint64_t size,
			uint64_t flags);
uint64_t map_ringbuf_query(struct bpfrt_map *map, uint64_t flags);

long map_perf_event_output(struct bpfrt_map *map, uint64_t flags, const void *data,
			   uint64_t size);
/* Is perf event array slot idx (< max_entries) open? */
bool map_perf_slot_open(struct bpfrt_map *map, uint32_t idx);

/*
 * Stack trace maps: store nr frames (truncated to value_size / 8) and
 * return the stack's id, or -EEXIST (its bucket holds another stack and
 * flags lack MAP_F_REUSE_STACKID), -EFAULT (no frames), -EINVAL.
 */
enum { MAP_F_SKIP_FIELD_MASK = 0xff, MAP_F_USER_STACK = 1u << 8,
       MAP_F_FAST_STACK_CMP = 1u << 9, MAP_F_REUSE_STACKID = 1u << 10 };
long map_stack_trace_put(struct bpfrt_map *map, const uint64_t *ips, uint32_t nr,
			 uint64_t flags);
/* Cgroup arrays: slot index's cgroup id; -E2BIG out of range, -EAGAIN empty. */
long map_cgroup_array_get(struct bpfrt_map *map, uint32_t index, uint64_t *id);

struct bpfrt_prog *map_prog_array_get(struct bpfrt_map *map, uint32_t index);
struct bpfrt_map *map_of_maps_lookup(struct bpfrt_map *map, const void *key);

/* The memory programs may reach through pointers this map hands out. */
bool map_value_region(struct bpfrt_map *map, void **base, size_t *len);

/* ---- Between families --------------------------------------------------- */

/* The largest block a map may need (bigger asks fail with -E2BIG). */
#define MAP_MAX_BLOCK (1ull << 40)

/* -EINVAL unless b->map_flags is within allowed (the family's create mask). */
int map_check_flags(const struct map_block *b, uint32_t allowed,
		    struct bpfrt_error *err);
/* *acc += n * each, false past MAP_MAX_BLOCK. */
bool map_size_add(uint64_t *acc, uint64_t n, uint64_t each);
/* get_next_key of maps indexed by a u32 below max_entries (arrays, fd arrays). */
int map_index_next_key(struct bpfrt_map *m, const void *key, void *next);
/* Side tables (prog arrays, maps of maps): one pointer per entry, process-local. */
int map_side_alloc(struct bpfrt_map *m);
static inline uint64_t map_align(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Hash maps (hash.c) as hash_of_maps builds on them: the element number of key. */
int64_t htab_slot_of(struct bpfrt_map *m, const void *key);
/* Insert or replace key; `swap` runs under the bucket lock with the element number. */
typedef void (*htab_swap_fn)(struct bpfrt_map *m, uint32_t slot, bool fresh, void *arg);
long htab_update_slot(struct bpfrt_map *m, const void *key, uint64_t flags,
		      htab_swap_fn swap, void *arg);
/* Delete key; `swap` runs under the bucket lock before the element is freed. */
long htab_delete_slot(struct bpfrt_map *m, const void *key, htab_swap_fn swap,
		      void *arg);
int64_t htab_check(struct map_block *b, bool percpu, bool lru,
		   struct bpfrt_error *err);
void htab_init(struct bpfrt_map *m);
int htab_attach(struct bpfrt_map *m);
int htab_get_next_key(struct bpfrt_map *m, const void *key, void *next);

/* Ring records (ringbuf.c) as perf_event.c writes them: 8-byte header, data, padding to 8. */
#define RING_BUSY    (1u << 31)
#define RING_DISCARD (1u << 30)
#define RING_HDR     8u
static inline uint64_t ring_rec_len(uint64_t size)
{
	return (size + RING_HDR + 7) & ~7ull;
}

#endif /* BPFRT_MAP_H */
