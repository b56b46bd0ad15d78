/* maps.c — an object's maps: legacy struct bpf_map_def records, global data sections, lookups shared by the stages. */
#define _GNU_SOURCE	/* qsort_r */
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "loader/loader.h"
#include "util/error.h"

#define MAP_F_RDONLY_PROG (1u << 7)	/* BPF_F_RDONLY_PROG */
#define MAX_DATA_SIZE (4u << 20)	/* the kernel's largest array value (KMALLOC_MAX_SIZE) */

/* ---- Shared ------------------------------------------------------------------------ */

const char *ld_map_type_name(uint32_t type)
{
	static const char *const names[] = {
		"unspec", "hash", "array", "prog_array", "perf_event_array",
		"percpu_hash", "percpu_array", "stack_trace", "cgroup_array",
		"lru_hash", "lru_percpu_hash", "lpm_trie", "array_of_maps",
		"hash_of_maps", "devmap", "sockmap", "cpumap", "xskmap", "sockhash",
		"cgroup_storage", "reuseport_sockarray", "percpu_cgroup_storage",
		"queue", "stack", "sk_storage", "devmap_hash", "struct_ops",
		"ringbuf", "inode_storage", "task_storage", "bloom_filter",
		"user_ringbuf", "cgrp_storage", "arena",
	};
	return type < ARRAY_SIZE(names) ? names[type] : "unknown";
}

bool ld_map_is_of_maps(uint32_t type)
{
	return type == BPFRT_MAP_ARRAY_OF_MAPS || type == BPFRT_MAP_HASH_OF_MAPS;
}

struct ld_map *ld_map_add(struct bpfrt_obj *obj)
{
	size_t n = obj->nmaps;
	struct ld_map *m;

	if (!n || (n >= 8 && !(n & (n - 1)))) {
		m = realloc(obj->maps, (n ? 2 * n : 8) * sizeof(*m));
		if (!m)
			return NULL;
		obj->maps = m;
	}
	m = &obj->maps[obj->nmaps++];
	memset(m, 0, sizeof(*m));
	m->inner_idx = -1;
	return m;
}

int ld_map_at(const struct bpfrt_obj *obj, uint32_t sec, uint64_t off)
{
	for (size_t i = 0; i < obj->nmaps; i++) {
		const struct ld_map *m = &obj->maps[i];

		if (m->sec == sec && off >= m->off && off - m->off < m->size)
			return (int)i;
	}
	return -1;
}

/* Is symbol y a variable of section sec (not the section's own symbol)? */
static bool is_var_of(const struct ld_sym *y, uint32_t sec)
{
	return y->shndx == sec && y->name[0] && y->type != STT_SECTION &&
	       y->type != STT_FILE && y->type != STT_FUNC;
}

static int cmp_sym_value(const void *a, const void *b, void *arg)
{
	const struct ld_sym *syms = arg;
	uint64_t x = syms[*(const size_t *)a].value, y = syms[*(const size_t *)b].value;

	return x < y ? -1 : x > y;
}

size_t *ld_section_vars(const struct bpfrt_obj *obj, uint32_t sec, size_t *n)
{
	size_t *idx = malloc((obj->nsyms ? obj->nsyms : 1) * sizeof(*idx));

	*n = 0;
	if (!idx)
		return NULL;
	for (size_t i = 0; i < obj->nsyms; i++)
		if (is_var_of(&obj->syms[i], sec))
			idx[(*n)++] = i;
	qsort_r(idx, *n, sizeof(*idx), cmp_sym_value, obj->syms);
	return idx;
}

/* ---- Legacy maps: struct bpf_map_def in section "maps" ------------------------------- */

/*
 * Every symbol of the section is a map; the records are all the same size:
 * the section's size over the number of symbols. Known layouts:
 *   16..35 bytes  type, key_size, value_size, max_entries[, map_flags
 *                 [, inner_map_idx[, numa_node]]] (the kernel samples' bpf_load)
 *   36+ bytes     iproute2's struct bpf_elf_map: ..., flags, id, pinning,
 *                 inner_id, inner_idx (pinning is recorded)
 * inner_map_idx counts maps in offset order.
 */
static int legacy_record(struct bpfrt_obj *obj, uint32_t sec, const struct ld_sym *y,
			 size_t rec, struct bpfrt_error *err)
{
	const struct ld_sec *s = &obj->secs[sec];
	uint32_t f[9] = { 0 };
	struct ld_map *m;

	if (y->value % 4 || y->value > s->size - rec)
		return err_set(err, -EINVAL, -1,
			       "map '%s' at offset %#llx of section 'maps' does not hold "
			       "a whole %zu-byte record", y->name,
			       (unsigned long long)y->value, rec);
	memcpy(f, s->data + y->value, rec < sizeof(f) ? rec : sizeof(f));
	m = ld_map_add(obj);
	if (!m)
		return err_set(err, -ENOMEM, -1, "out of memory");
	m->name = y->name;
	m->sec = sec;
	m->kind = LD_MAP_LEGACY;
	m->off = y->value;
	m->size = rec;
	m->def = (struct ld_mapdef){ .type = f[0], .key_size = f[1], .value_size = f[2],
				     .max_entries = f[3], .map_flags = f[4] };
	if (ld_map_is_of_maps(f[0]) && !f[2])
		m->def.value_size = 4;	/* what bpf_load gave maps of maps */
	if (rec >= 36)
		m->def.pinning = f[6];
	else if (rec >= 24 && ld_map_is_of_maps(f[0]))
		m->inner_idx = (int)f[5];
	if (rec >= 36 && ld_map_is_of_maps(f[0]))
		return err_set(err, -ENOTSUP, -1,
			       "map '%s': maps of maps in iproute2's struct bpf_elf_map "
			       "layout are not supported", y->name);
	return 0;
}

/* Turn inner_map_idx (a position in the section) into a map index. */
static int legacy_inner(struct bpfrt_obj *obj, size_t first, size_t n,
			struct bpfrt_error *err)
{
	for (size_t i = first; i < first + n; i++) {
		struct ld_map *m = &obj->maps[i];

		if (!ld_map_is_of_maps(m->def.type))
			continue;
		if (m->inner_idx < 0 || (size_t)m->inner_idx >= n)
			return err_set(err, -EINVAL, -1,
				       "map '%s' is a map of maps whose inner_map_idx %d "
				       "is not one of the %zu maps", m->name, m->inner_idx, n);
		m->inner_idx += (int)first;
		if (ld_map_is_of_maps(obj->maps[m->inner_idx].def.type))
			return err_set(err, -EINVAL, -1,
				       "map '%s': its inner map '%s' is itself a map of maps",
				       m->name, obj->maps[m->inner_idx].name);
	}
	return 0;
}

static int legacy_maps(struct bpfrt_obj *obj, uint32_t sec, struct bpfrt_error *err)
{
	const struct ld_sec *s = &obj->secs[sec];
	size_t n, rec, first = obj->nmaps, *idx = ld_section_vars(obj, sec, &n);
	int ret = 0;

	if (!idx)
		return err_set(err, -ENOMEM, -1, "out of memory");
	if (!n || !s->data) {
		if (s->size)
			ret = err_set(err, -EINVAL, -1,
				      "section 'maps' has %zu bytes but no map symbols",
				      s->size);
		goto out;
	}
	rec = s->size / n;
	if (s->size % n || rec < 16) {
		ret = err_set(err, -EINVAL, -1,
			      "section 'maps' is %zu bytes for %zu map symbols: it must "
			      "hold records of one size, at least 16 bytes", s->size, n);
		goto out;
	}
	for (size_t k = 0; k < n && !ret; k++)
		ret = legacy_record(obj, sec, &obj->syms[idx[k]], rec, err);
	if (!ret)
		ret = legacy_inner(obj, first, n, err);
out:
	free(idx);
	return ret;
}

/* ---- Global data: one single-entry array per section ---------------------------------- */

static int data_map(struct bpfrt_obj *obj, uint32_t sec, struct bpfrt_error *err)
{
	struct ld_sec *s = &obj->secs[sec];
	struct ld_map *m;

	if (s->size > MAX_DATA_SIZE)
		return err_set(err, -E2BIG, -1,
			       "section '%s' is %zu bytes, more than the %u a map value "
			       "may have", s->name, s->size, MAX_DATA_SIZE);
	m = ld_map_add(obj);
	if (!m)
		return err_set(err, -ENOMEM, -1, "out of memory");
	m->name = s->name;
	m->sec = sec;
	m->kind = LD_MAP_DATA;
	m->def = (struct ld_mapdef){ .type = BPFRT_MAP_ARRAY, .key_size = 4,
				     .value_size = (uint32_t)s->size, .max_entries = 1 };
	if (s->kind == LD_SEC_RODATA)
		m->def.map_flags = MAP_F_RDONLY_PROG;
	m->image = calloc(1, s->size);
	if (!m->image)
		return err_set(err, -ENOMEM, -1, "out of memory");
	if (s->data)
		memcpy(m->image, s->data, s->size);
	s->map = (int)(m - obj->maps);
	return 0;
}

/* ---- Entry point ---------------------------------------------------------------------- */

int ld_maps_find(struct bpfrt_obj *obj, struct bpfrt_error *err)
{
	int ret = 0;

	for (uint32_t i = 1; i < obj->nsecs && !ret; i++) {
		switch (obj->secs[i].kind) {
		case LD_SEC_MAPS:
			ret = ld_btf_maps(obj, i, err);
			break;
		case LD_SEC_LEGACY_MAPS:
			ret = legacy_maps(obj, i, err);
			break;
		case LD_SEC_DATA: case LD_SEC_RODATA: case LD_SEC_BSS:
			ret = data_map(obj, i, err);
			break;
		default:
			break;
		}
	}
	return ret;
}
