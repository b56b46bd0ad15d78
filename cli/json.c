/* json.c — a small streaming JSON writer for -j / -p output. */
#include <inttypes.h>

#include "cli.h"

#define JSON_MAX_DEPTH 64

static struct {
	unsigned depth;
	bool first[JSON_MAX_DEPTH];	/* no element yet at this level */
	bool after_key;			/* a value completes "key": */
} w = { .first = { true } };

static void newline_indent(void)
{
	if (!cli.pretty)
		return;
	putchar('\n');
	for (unsigned i = 0; i < w.depth; i++)
		fputs("    ", stdout);
}

/* Before any value or key: the comma and layout it needs. */
static void element(void)
{
	if (w.after_key) {
		w.after_key = false;
		return;
	}
	if (!w.first[w.depth])
		putchar(',');
	w.first[w.depth] = false;
	if (w.depth)
		newline_indent();
}

static void open(char c)
{
	element();
	putchar(c);
	if (w.depth + 1 < JSON_MAX_DEPTH)
		w.depth++;
	w.first[w.depth] = true;
}

static void close(char c)
{
	bool empty = w.first[w.depth];

	if (w.depth)
		w.depth--;
	if (!empty)
		newline_indent();
	putchar(c);
}

void json_begin_object(void) { open('{'); }
void json_end_object(void) { close('}'); }
void json_begin_array(void) { open('['); }
void json_end_array(void) { close(']'); }

static void put_escaped(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		case '\r': fputs("\\r", stdout); break;
		default:
			if (*p < 0x20 || *p >= 0x7f)
				printf("\\u%04x", *p);
			else
				putchar(*p);
		}
	}
	putchar('"');
}

void json_key(const char *key)
{
	element();
	put_escaped(key);
	fputs(cli.pretty ? ": " : ":", stdout);
	w.after_key = true;
}

void json_string(const char *s)
{
	element();
	put_escaped(s ? s : "");
}

void json_u64(uint64_t v)
{
	element();
	printf("%" PRIu64, v);
}

void json_i64(int64_t v)
{
	element();
	printf("%" PRId64, v);
}

void json_bool(bool v)
{
	element();
	fputs(v ? "true" : "false", stdout);
}

void json_null(void)
{
	element();
	fputs("null", stdout);
}

void json_hex_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	bool pretty = cli.pretty;

	json_begin_array();
	cli.pretty = false;	/* bytes stay on one line, as in bpftool */
	for (size_t i = 0; i < n; i++) {
		element();
		printf("\"0x%02x\"", b[i]);
	}
	close(']');
	cli.pretty = pretty;
}

void json_finish(void)
{
	putchar('\n');
	w.depth = 0;
	w.first[0] = true;
	w.after_key = false;
}
