/* map_common.c — shared by the map and prog commands: map types by name, MAP arguments, DATA bytes, element printing, BTF formatting. */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "map_cli.h"

/* ---- Map types ------------------------------------------------------------ */

static const char *const type_names[] = {	/* bpftool's names, by the kernel's numbers */
	[1] = "hash", [2] = "array", [3] = "prog_array", [4] = "perf_event_array",
	[5] = "percpu_hash", [6] = "percpu_array", [7] = "stack_trace", [8] = "cgroup_array",
	[9] = "lru_hash", [10] = "lru_percpu_hash", [11] = "lpm_trie", [12] = "array_of_maps",
	[13] = "hash_of_maps", [14] = "devmap", [15] = "sockmap", [16] = "cpumap",
	[17] = "xskmap", [18] = "sockhash", [19] = "cgroup_storage",
	[20] = "reuseport_sockarray", [21] = "percpu_cgroup_storage", [22] = "queue",
	[23] = "stack", [24] = "sk_storage", [25] = "devmap_hash", [26] = "struct_ops",
	[27] = "ringbuf", [28] = "inode_storage", [29] = "task_storage", [30] = "bloom_filter",
	[31] = "user_ringbuf", [32] = "cgrp_storage", [33] = "arena",
};
#define NTYPES (sizeof(type_names) / sizeof(type_names[0]))

const char *cli_map_type_name(uint32_t type)
{
	return type < NTYPES ? type_names[type] : NULL;
}

int cli_map_type_parse(const char *name)
{
	for (size_t t = 1; t < NTYPES; t++)
		if (type_names[t] && !strcmp(name, type_names[t]))
			return (int)t;
	fprintf(stderr, "bpfrt: '%s' is not a map type; types:", name);
	for (size_t t = 1; t < NTYPES; t++)
		fprintf(stderr, "%s %s", t > 1 ? "," : "", type_names[t]);
	fputc('\n', stderr);
	return -1;
}

static bool is_percpu(uint32_t type)
{
	return type == BPFRT_MAP_PERCPU_HASH || type == BPFRT_MAP_PERCPU_ARRAY ||
	       type == BPFRT_MAP_LRU_PERCPU_HASH;
}

/* ---- MAP -------------------------------------------------------------------- */

struct find {
	bool by_id;
	uint32_t id;
	const char *name;
	char path[4096];
	int found;
};

static int find_one(void *ctx, const char *path)
{
	struct find *f = ctx;
	struct bpfrt_map *map;
	struct bpfrt_map_info info;
	struct bpfrt_map_pin_info pin;

	if (bpfrt_map_open_pinned(path, &map, NULL))
		return 0;
	bpfrt_map_get_info(map, &info);
	bpfrt_map_get_pin_info(map, &pin);
	bpfrt_map_free(map);
	if (f->by_id ? pin.id != f->id : strcmp(info.name, f->name))
		return 0;
	/* A map pinned at several paths counts once (the same id). */
	if (f->found && f->by_id)
		return 0;
	if (f->found++ && !f->by_id) {
		struct bpfrt_map *first;
		struct bpfrt_map_pin_info fp = { 0 };

		if (!bpfrt_map_open_pinned(f->path, &first, NULL)) {
			bpfrt_map_get_pin_info(first, &fp);
			bpfrt_map_free(first);
		}
		if (fp.id == pin.id)
			f->found--;
		return 0;
	}
	snprintf(f->path, sizeof(f->path), "%s", path);
	return 0;
}

int cli_map_open(int argc, char **argv, int *i, struct cli_map *m)
{
	struct bpfrt_error err;
	struct find f = { 0 };
	const char *kw, *arg;
	char *end;

	memset(m, 0, sizeof(*m));
	if (*i + 1 >= argc) {
		return cli_usage_err("expected MAP (pinned FILE | name NAME | id N)%s%s",
				     *i < argc ? " after " : "", *i < argc ? argv[*i] : "");
	}
	kw = argv[*i];
	arg = argv[*i + 1];
	*i += 2;
	if (cli_is_kw(kw, "pinned")) {
		snprintf(m->path, sizeof(m->path), "%s", arg);
	} else if (cli_is_kw(kw, "id") || cli_is_kw(kw, "name")) {
		f.by_id = kw[0] == 'i';
		if (f.by_id) {
			unsigned long v = strtoul(arg, &end, 0);

			if (!*arg || *end || v == 0 || v > UINT32_MAX)
				return cli_usage_err("'%s' is not a map id", arg);
			f.id = (uint32_t)v;
		}
		f.name = arg;
		bpfrt_pinned_maps(find_one, &f);
		if (!f.found)
			return cli_err("no map with %s %s in the state directory '%s'",
				       f.by_id ? "id" : "name", arg, bpfrt_state_dir());
		if (f.found > 1)
			return cli_err("%d maps are named '%s': give its id or pinned path",
				       f.found, arg);
		snprintf(m->path, sizeof(m->path), "%s", f.path);
	} else {
		return cli_usage_err("expected MAP (pinned FILE | name NAME | id N), got '%s'", kw);
	}
	if (bpfrt_map_open_pinned(m->path, &m->map, &err))
		return cli_err("%s", err.msg);
	bpfrt_map_get_info(m->map, &m->info);
	bpfrt_map_get_pin_info(m->map, &m->pin);
	return 0;
}

void cli_map_close(struct cli_map *m)
{
	bpfrt_map_free(m->map);
	m->map = NULL;
}

/* ---- DATA ------------------------------------------------------------------- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Is the word a byte of DATA (rather than the next keyword)? */
static bool is_number(const char *s, bool hex)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (hex ? hexval(*s) < 0 : !(*s >= '0' && *s <= '9') && (*s | 0x20) != 'x' &&
						   hexval(*s) < 0)
			return false;
	return true;
}

int cli_parse_data(int argc, char **argv, int *i, const char *what, const char *map_name,
		   uint8_t *out, size_t size)
{
	bool hex = false;
	size_t n = 0;

	if (*i < argc && !strcmp(argv[*i], "hex")) {
		hex = true;
		++*i;
	}
	for (; *i < argc && is_number(argv[*i], hex); ++*i) {
		const char *s = argv[*i];

		if (hex) {
			size_t len = strlen(s);

			if (len % 2 && len > 2)
				return cli_usage_err("%s: '%s' is not a whole number of hex bytes",
						     what, s);
			for (size_t k = 0; k < len; k += (len == 1 ? 1 : 2), n++) {
				int v = len == 1 ? hexval(s[0]) : hexval(s[k]) << 4 | hexval(s[k + 1]);

				if (n < size)
					out[n] = (uint8_t)v;
			}
		} else {
			char *end;
			unsigned long v = strtoul(s, &end, 0);

			if (*end || v > 255)
				return cli_usage_err("%s: '%s' is not a byte (0..255; use 'hex' "
						     "for hex digits)", what, s);
			if (n < size)
				out[n] = (uint8_t)v;
			n++;
		}
	}
	if (n != size)
		return cli_usage_err("%s has %zu byte%s, map '%s' needs %zu", what, n,
				     n == 1 ? "" : "s", map_name, size);
	return 0;
}

/* ---- Printing ---------------------------------------------------------------- */

void cli_print_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i && i % 16 == 0)
			putchar('\n');
		else if (i && i % 8 == 0)
			fputs("  ", stdout);
		else if (i)
			putchar(' ');
		printf("%02x", p[i]);
	}
}

bool cli_map_has_btf(const struct cli_map *m)
{
	return m->pin.btf && (m->pin.key_type_id || m->pin.value_type_id);
}

/* ---- BTF-formatted values (as bpftool's btf_dumper writes them) ---------------------- */

static uint64_t read_bits(const uint8_t *data, uint32_t bit_off, uint32_t bits)
{
	uint64_t v = 0;

	for (uint32_t b = 0; b < bits; b++) {
		uint32_t at = bit_off + b;

		v |= (uint64_t)((data[at / 8] >> (at % 8)) & 1) << b;
	}
	return v;
}

static bool dump_type(const struct btf *btf, uint32_t id, const uint8_t *data,
		      uint32_t bit_off, uint32_t bitfield, int depth);

/* As bpftool: an array of char that holds a NUL-terminated printable string is shown as one. */
static bool is_string(const struct btf *btf, const struct btf_array *a, const uint8_t *p)
{
	const struct btf_type *e = btf__type_by_id(btf, a->type);
	const char *name;

	while (e && (btf_is_typedef(e) || btf_is_const(e) || btf_is_volatile(e)))
		e = btf__type_by_id(btf, e->type);
	if (!e || !btf_is_int(e) || e->size != 1)
		return false;
	name = btf__name_by_offset(btf, e->name_off);
	if (!(btf_int_encoding(e) & BTF_INT_CHAR) && (!name || strcmp(name, "char")))
		return false;
	for (uint32_t k = 0; k < a->nelems; k++) {
		if (!p[k])
			return true;
		if (p[k] < 0x20 || p[k] > 0x7e)
			return false;
	}
	return false;	/* no NUL: not a C string */
}

static bool dump_int(const struct btf_type *t, const uint8_t *data, uint32_t bit_off,
		     uint32_t bitfield)
{
	uint32_t info = *(const uint32_t *)(t + 1);
	uint32_t enc = BTF_INT_ENCODING(info), bits = bitfield ? bitfield : BTF_INT_BITS(info);
	uint64_t v;

	bit_off += BTF_INT_OFFSET(info);
	if (bits > 64)
		return false;	/* __int128: shown as bytes */
	v = read_bits(data, bit_off, bits);
	if (bitfield) {	/* as bpftool: bitfields in hex */
		char hex[24];

		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)v);
		json_string(hex);
	} else if (enc & BTF_INT_BOOL)
		json_bool(v != 0);
	else if ((enc & BTF_INT_SIGNED) && bits < 64 && (v >> (bits - 1)) & 1)
		json_i64((int64_t)(v | ~0ull << bits));
	else if (enc & BTF_INT_SIGNED)
		json_i64((int64_t)v);
	else
		json_u64(v);
	return true;
}

static bool dump_type(const struct btf *btf, uint32_t id, const uint8_t *data,
		      uint32_t bit_off, uint32_t bitfield, int depth)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	if (!t || depth > 32)
		return false;
	switch (btf_kind(t)) {
	case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG:
		return dump_type(btf, t->type, data, bit_off, bitfield, depth + 1);
	case BTF_KIND_INT:
		return dump_int(t, data, bit_off, bitfield);
	case BTF_KIND_PTR:
		json_u64(read_bits(data, bit_off, 64));
		return true;
	case BTF_KIND_ENUM: {
		const struct btf_enum *e = btf_enum(t);
		uint32_t bits = bitfield ? bitfield : t->size * 8;
		int64_t v = (int64_t)read_bits(data, bit_off, bits);

		for (uint16_t k = 0; k < btf_vlen(t); k++)
			if (e[k].val == (int32_t)v) {
				json_string(btf__name_by_offset(btf, e[k].name_off));
				return true;
			}
		json_i64(v);
		return true;
	}
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array(t);
		int64_t esz = btf__resolve_size(btf, a->type);

		if (esz <= 0)
			return false;
		if (bit_off % 8 == 0 && is_string(btf, a, data + bit_off / 8)) {
			json_string((const char *)data + bit_off / 8);
			return true;
		}
		json_begin_array();
		for (uint32_t k = 0; k < a->nelems; k++)
			if (!dump_type(btf, a->type, data, bit_off + (uint32_t)(k * esz * 8), 0,
				       depth + 1))
				return false;
		json_end_array();
		return true;
	}
	case BTF_KIND_STRUCT: case BTF_KIND_UNION: {
		const struct btf_member *mb = btf_members(t);

		json_begin_object();
		for (uint16_t k = 0; k < btf_vlen(t); k++) {
			const char *name = btf__name_by_offset(btf, mb[k].name_off);

			json_key(name && name[0] ? name : "");
			if (!dump_type(btf, mb[k].type, data, bit_off + btf_member_bit_offset(t, k),
				       btf_member_bitfield_size(t, k), depth + 1))
				return false;
		}
		json_end_object();
		return true;
	}
	default:
		return false;
	}
}

/* Can dump_type write this type whole? (Checked first, so JSON is never left half-written.) */
static bool dumpable(const struct btf *btf, uint32_t id, int depth)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	if (!t || depth > 32)
		return false;
	switch (btf_kind(t)) {
	case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG:
		return dumpable(btf, t->type, depth + 1);
	case BTF_KIND_INT:
		return BTF_INT_BITS(*(const uint32_t *)(t + 1)) <= 64;
	case BTF_KIND_PTR: case BTF_KIND_ENUM:
		return true;
	case BTF_KIND_ARRAY:
		return btf__resolve_size(btf, btf_array(t)->type) > 0 &&
		       dumpable(btf, btf_array(t)->type, depth + 1);
	case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		for (uint16_t k = 0; k < btf_vlen(t); k++)
			if (!dumpable(btf, btf_members(t)[k].type, depth + 1))
				return false;
		return true;
	default:
		return false;
	}
}

bool cli_btf_json(const struct cli_map *m, uint32_t type_id, const uint8_t *data)
{
	static struct btf *btf;
	static const void *btf_of;

	if (!type_id || !m->pin.btf)
		return false;
	if (btf_of != m->pin.btf) {
		btf__free(btf);
		btf = btf__new(m->pin.btf, (uint32_t)m->pin.btf_len);
		if (libbpf_get_error(btf))
			btf = NULL;
		btf_of = m->pin.btf;
	}
	if (!btf || !dumpable(btf, type_id, 0))
		return false;
	return dump_type(btf, type_id, data, 0, 0, 0);
}

/* One key or value: as its BTF type formats it (if formatted and it can), else as bytes. */
static void json_datum(const struct cli_map *m, bool formatted, uint32_t type_id,
		       const uint8_t *data, uint32_t size)
{
	if (!formatted || !cli_btf_json(m, type_id, data))
		json_hex_bytes(data, size);
}

/* The members of an element: "key", then "value", or "values" per CPU. */
static void print_members(const struct cli_map *m, const uint8_t *key, const uint8_t *value,
			  bool formatted)
{
	uint32_t stride = (m->info.value_size + 7) & ~7u;

	if (key && m->info.key_size) {
		json_key("key");
		json_datum(m, formatted, m->pin.key_type_id, key, m->info.key_size);
	}
	if (value && is_percpu(m->info.type)) {
		json_key("values");
		json_begin_array();
		for (unsigned c = 0; c < m->info.ncpus; c++) {
			json_begin_object();
			json_key("cpu");
			json_u64(c);
			json_key("value");
			json_datum(m, formatted, m->pin.value_type_id, value + (size_t)c * stride,
				   m->info.value_size);
			json_end_object();
		}
		json_end_array();
	} else if (value) {
		json_key("value");
		json_datum(m, formatted, m->pin.value_type_id, value, m->info.value_size);
	}
}

/* The formatted member of an element: {"key":..., "value":...} or "values" per CPU. */
static void print_formatted(const struct cli_map *m, const uint8_t *key, const uint8_t *value)
{
	json_begin_object();
	print_members(m, key, value, true);
	json_end_object();
}

/* An element in JSON: its bytes, and with BTF the same members formatted under "formatted". */
static void print_json_elem(const struct cli_map *m, const uint8_t *key, const uint8_t *value)
{
	json_begin_object();
	print_members(m, key, value, false);
	if (cli_map_has_btf(m)) {
		json_key("formatted");
		print_formatted(m, key, value);
	}
	json_end_object();
}

static void print_plain_elem(const struct cli_map *m, const uint8_t *key, const uint8_t *value)
{
	uint32_t ks = m->info.key_size, vs = m->info.value_size;
	uint32_t stride = (vs + 7) & ~7u;

	if (!is_percpu(m->info.type)) {
		bool brk = ks > 16 || vs > 16, one_line = ks + vs <= 24 && !brk;

		if (key && ks) {
			printf("key:%c", brk ? '\n' : ' ');
			cli_print_hex(key, ks);
			fputs(one_line ? "  " : "\n", stdout);
		}
		if (value && vs) {
			printf("value:%c", brk ? '\n' : ' ');
			cli_print_hex(value, vs);
		}
		putchar('\n');
		return;
	}
	if (key && ks) {
		printf("key:\n");
		cli_print_hex(key, ks);
		putchar('\n');
	}
	for (unsigned c = 0; value && c < m->info.ncpus; c++) {
		printf("value (CPU %02u):%c", c, vs > 16 ? '\n' : ' ');
		cli_print_hex(value + (size_t)c * stride, vs);
		putchar('\n');
	}
}

void cli_print_elem(const struct cli_map *m, const uint8_t *key, const uint8_t *value)
{
	if (cli.json) {
		print_json_elem(m, key, value);
	} else if (cli_map_has_btf(m)) {
		/* As bpftool: with BTF, plain output is the formatted element, indented. */
		bool pretty = cli.pretty;

		cli.pretty = true;
		print_formatted(m, key, value);
		cli.pretty = pretty;
		json_finish();
	} else {
		print_plain_elem(m, key, value);
	}
}
