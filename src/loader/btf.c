/* btf.c — an object's type information: .BTF through libbpf's BTF API, .BTF.ext (line info, CO-RE) parsed here. */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/loader.h"
#include "util/error.h"

/* ---- .BTF ------------------------------------------------------------------------- */

/*
 * libbpf reports why it rejects BTF through its global print hook. While we
 * parse, a hook of ours keeps the last warning (per thread) for our message;
 * the caller's hook is put back afterwards. The swap is serialised, but a
 * message another thread's libbpf call prints during it is lost.
 */
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread char libbpf_said[160];

static int capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	size_t n;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(libbpf_said, sizeof(libbpf_said), fmt, ap);
	n = strlen(libbpf_said);
	while (n && (libbpf_said[n - 1] == '\n' || libbpf_said[n - 1] == '.'))
		libbpf_said[--n] = '\0';
	return 0;
}

static int parse_btf(struct bpfrt_obj *obj, const struct ld_sec *sec,
		     struct bpfrt_error *err)
{
	libbpf_print_fn_t prev;
	int code;

	if (!sec->data || sec->size > UINT32_MAX)
		return err_set(err, -EINVAL, -1, "section '.BTF' cannot be read");
	libbpf_said[0] = '\0';
	pthread_mutex_lock(&print_lock);
	prev = libbpf_set_print(capture);
	obj->btf = btf__new(sec->data, (uint32_t)sec->size);
	code = errno;
	libbpf_set_print(prev);
	pthread_mutex_unlock(&print_lock);
	if (obj->btf)
		return 0;
	code = code > 0 ? -code : -EINVAL;
	return err_set(err, code, -1, "section '.BTF' is not valid BTF (%s)%s%s",
		       strerror(-code), libbpf_said[0] ? ": " : "", libbpf_said);
}

const char *ld_btf_str(const struct bpfrt_obj *obj, uint32_t off)
{
	const char *s = obj->btf ? btf__name_by_offset(obj->btf, off) : NULL;

	return s ? s : "";
}

int ld_btf_var_size(const struct bpfrt_obj *obj, const char *sec, const char *name,
		    uint64_t *size)
{
	const struct btf_type *ds;
	const struct btf_var_secinfo *vs;
	int id;

	if (!obj->btf)
		return 0;
	id = btf__find_by_name_kind(obj->btf, sec, BTF_KIND_DATASEC);
	ds = id > 0 ? btf__type_by_id(obj->btf, id) : NULL;
	if (!ds)
		return 0;
	vs = btf_var_secinfos(ds);
	for (unsigned i = 0; i < btf_vlen(ds); i++) {
		const struct btf_type *v = btf__type_by_id(obj->btf, vs[i].type);
		int64_t sz;

		if (!v || !btf_is_var(v) || strcmp(ld_btf_str(obj, v->name_off), name))
			continue;
		sz = btf__resolve_size(obj->btf, v->type);
		if (sz < 0)
			return (int)sz;
		*size = (uint64_t)sz;
		return 1;
	}
	return 0;
}

/* ---- .BTF.ext ---------------------------------------------------------------------- */

/*
 * .BTF.ext: a header (magic 0xeB9F, version 1, hdr_len, then offset/length
 * pairs of the func_info, line_info and — if hdr_len allows — core_relo
 * parts, relative to the header's end). Each part is a record size, then
 * blocks of { section name (BTF string), record count, records }; records
 * begin with the byte offset of their instruction in that section.
 */
struct ext_hdr {
	uint16_t magic;
	uint8_t version, flags;
	uint32_t hdr_len;
	uint32_t func_off, func_len, line_off, line_len;
	uint32_t core_off, core_len;
};

enum ext_part { EXT_LINE, EXT_CORE };

static const struct {
	const char *name;
	uint32_t min_rec;
} ext_parts[] = {
	[EXT_LINE] = { "line_info", 16 },
	[EXT_CORE] = { "core_relo", 16 },
};

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Make room for element n of *p: capacity doubles at powers of two (from 8). */
static int grow(void **p, size_t n, size_t elem)
{
	void *q;

	if (n && (n < 8 || (n & (n - 1))))
		return 0;
	q = realloc(*p, (n ? 2 * n : 8) * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	return 0;
}

/* Append one record of part to section sec's tables. */
static int ext_add(struct ld_sec *sec, enum ext_part part, const uint8_t *rec)
{
	uint32_t insn = rd32(rec) / sizeof(struct bpfrt_insn);

	if (part == EXT_LINE) {
		if (grow((void **)&sec->lines, sec->nlines, sizeof(*sec->lines)))
			return -ENOMEM;
		sec->lines[sec->nlines++] = (struct ld_line){ insn, rd32(rec + 4),
							      rd32(rec + 8), rd32(rec + 12) };
	} else {
		if (grow((void **)&sec->core, sec->ncore, sizeof(*sec->core)))
			return -ENOMEM;
		sec->core[sec->ncore++] = insn;
	}
	return 0;
}

static struct ld_sec *sec_by_name(struct bpfrt_obj *obj, const char *name)
{
	for (size_t i = 1; i < obj->nsecs; i++)
		if (obj->secs[i].kind == LD_SEC_PROG && !strcmp(obj->secs[i].name, name))
			return &obj->secs[i];
	return NULL;
}

/* One block: records of part for one section. Returns its length, or < 0. */
static int64_t ext_block(struct bpfrt_obj *obj, enum ext_part part, const uint8_t *p,
			 size_t left, uint32_t rec, struct bpfrt_error *err)
{
	const char *what = ext_parts[part].name, *name;
	uint32_t cnt;
	struct ld_sec *sec;
	int ret;

	if (left < 8)
		return err_set(err, -EINVAL, -1, ".BTF.ext: a %s block is truncated", what);
	name = ld_btf_str(obj, rd32(p));
	cnt = rd32(p + 4);
	if ((uint64_t)cnt * rec > left - 8)
		return err_set(err, -EINVAL, -1,
			       ".BTF.ext: the %s block of section '%s' says %u records "
			       "of %u bytes, more than the %zu bytes left", what, name,
			       cnt, rec, left - 8);
	sec = sec_by_name(obj, name);
	for (uint32_t i = 0; sec && i < cnt; i++) {
		const uint8_t *r = p + 8 + (size_t)i * rec;

		if (rd32(r) % sizeof(struct bpfrt_insn) || rd32(r) >= sec->size)
			return err_set(err, -EINVAL, -1,
				       ".BTF.ext: %s record %u of section '%s' is for "
				       "byte %u, which is not an instruction of it",
				       what, i, name, rd32(r));
		ret = ext_add(sec, part, r);
		if (ret)
			return err_set(err, ret, -1, "out of memory");
	}
	return 8 + (int64_t)cnt * rec;
}

static int ext_part(struct bpfrt_obj *obj, enum ext_part part, const uint8_t *p,
		    size_t len, struct bpfrt_error *err)
{
	uint32_t rec;
	int64_t used;

	if (!len)
		return 0;
	if (len < 4 || (rec = rd32(p)) < ext_parts[part].min_rec || rec > 1024)
		return err_set(err, -EINVAL, -1,
			       ".BTF.ext: the %s part has a bad record size",
			       ext_parts[part].name);
	for (size_t off = 4; off < len; off += (size_t)used) {
		used = ext_block(obj, part, p + off, len - off, rec, err);
		if (used < 0)
			return (int)used;
	}
	return 0;
}

static int cmp_line(const void *a, const void *b)
{
	const struct ld_line *x = a, *y = b;

	return x->insn < y->insn ? -1 : x->insn > y->insn;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Is [off, off+len) inside the n bytes after the header? */
static bool ext_range_ok(uint32_t off, uint32_t len, size_t n)
{
	return off <= n && len <= n - off;
}

static int parse_ext(struct bpfrt_obj *obj, const struct ld_sec *s,
		     struct bpfrt_error *err)
{
	struct ext_hdr h = { 0 };
	const uint8_t *body;
	size_t n;
	int ret;

	if (!s->data || s->size < 24)
		return err_set(err, -EINVAL, -1, "section '.BTF.ext' is too short");
	memcpy(&h, s->data, s->size < sizeof(h) ? 24 : sizeof(h));
	if (h.magic != 0xeB9F || h.version != 1)
		return err_set(err, -EINVAL, -1,
			       "section '.BTF.ext' has magic %#x version %u, not 0xeb9f "
			       "version 1", h.magic, h.version);
	if (h.hdr_len < 24 || h.hdr_len > s->size)
		return err_set(err, -EINVAL, -1, "section '.BTF.ext' has a bad header size");
	if (h.hdr_len < 32)
		h.core_off = h.core_len = 0;
	body = s->data + h.hdr_len;
	n = s->size - h.hdr_len;
	if (!ext_range_ok(h.func_off, h.func_len, n) ||
	    !ext_range_ok(h.line_off, h.line_len, n) ||
	    !ext_range_ok(h.core_off, h.core_len, n))
		return err_set(err, -EINVAL, -1,
			       "section '.BTF.ext' has a part outside the section");
	ret = ext_part(obj, EXT_LINE, body + h.line_off, h.line_len, err);
	if (!ret)
		ret = ext_part(obj, EXT_CORE, body + h.core_off, h.core_len, err);
	for (size_t i = 1; !ret && i < obj->nsecs; i++) {
		struct ld_sec *sec = &obj->secs[i];

		if (sec->nlines)
			qsort(sec->lines, sec->nlines, sizeof(*sec->lines), cmp_line);
		if (sec->ncore)
			qsort(sec->core, sec->ncore, sizeof(*sec->core), cmp_u32);
	}
	return ret;
}

/* ---- Entry points ---------------------------------------------------------------------- */

int ld_btf_read(struct bpfrt_obj *obj, struct bpfrt_error *err)
{
	const struct ld_sec *btf = NULL, *ext = NULL;
	int ret;

	for (size_t i = 1; i < obj->nsecs; i++) {
		if (obj->secs[i].kind == LD_SEC_BTF)
			btf = &obj->secs[i];
		else if (obj->secs[i].kind == LD_SEC_BTF_EXT)
			ext = &obj->secs[i];
	}
	if (!btf)
		return 0;	/* legacy objects: no types, no line info */
	ret = parse_btf(obj, btf, err);
	if (!ret && ext)
		ret = parse_ext(obj, ext, err);
	return ret;
}

void ld_btf_free(struct bpfrt_obj *obj)
{
	btf__free(obj->btf);
	obj->btf = NULL;
}
