/* trace.c — trace_printk, trace_vprintk, snprintf: the kernel's format rules, and the trace sink. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "exec/prog.h"
#include "helpers.h"
#include "maps/sync.h"

/*
 * The kernel's rules (bpf_bprintf_prepare): the format's ASCII characters
 * are printable or white space (bytes from 0x80 up are allowed: UTF-8);
 * each conversion is %% or "%[0 +-]*[width]" followed by
 * d i u x X (optionally l or ll before it), c, s, p (plain, or pK px ps pS
 * pB, pks pus, pi4 pI4 pi6 pI6); anything else — precision, h, o, an
 * unknown %p extension, a %s followed by a letter or digit, more
 * conversions than arguments — is -EINVAL. Strings (%s, %pks, %pus) are
 * read like probe_read_str (an unreadable one prints as ""), addresses of
 * %pI4/%pI6 like probe_read (unreadable: zeros). Output is the kernel's
 * (compared with it in tests/unit/test_helpers_kernel.c), including its
 * quirks: every letter and digit right after %p belongs to the conversion
 * (%pI4abc prints the address alone); %pks, %pus, %pB and the %pi/%pI forms
 * take no field width and are neither written nor counted once the output
 * is full. (The kernel then
 * also misreads the arguments after them; bpfrt does not copy that.)
 * Pointers print as the kernel's pointer_string() prints them: 16 hex
 * digits, or a hex number in the field width given. The kernel hashes %p
 * (and %pK, depending on kptr_restrict) and resolves %ps/%pS to symbols;
 * bpfrt prints the address itself.
 */
#define FMT_MAX_ARGS   12u	/* MAX_BPRINTF_VARARGS */
#define FMT_MAX_STR    512u	/* MAX_BPRINTF_BIN_ARGS: room for copied strings */
#define TRACE_BUF      1024u	/* MAX_BPRINTF_BUF */
#define TRACE_MAX_ARGS 3u	/* MAX_TRACE_PRINTK_VARARGS */

/* ---- Output: what fits is written, the would-be length is counted -------- */

struct out {
	char *buf;
	size_t cap;	/* bytes of buf; 0 for none */
	size_t len;	/* would-be length without the NUL */
};

__attribute__((format(printf, 2, 3)))
static void emit(struct out *o, const char *fmt, ...)
{
	size_t at = o->len < o->cap ? o->len : o->cap;
	char dummy[1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->cap ? o->buf + at : dummy, o->cap ? o->cap - at : 1, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/*
 * The kernel's <linux/ctype.h> classes, which are Latin-1: 0xa0 is a
 * space, 0xa1-0xbf, 0xd7 and 0xf7 are punctuation, the rest of 0xc0-0xff
 * letters; 0x80-0x9f are control characters.
 */
static bool is_space(unsigned c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}

static bool is_punct(unsigned c)
{
	if (c >= 0x80)
		return (c >= 0xa1 && c <= 0xbf) || c == 0xd7 || c == 0xf7;
	return c > 0x20 && c < 0x7f && !(c >= '0' && c <= '9') &&
	       !((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static bool is_print(unsigned c)
{
	return (c >= 0x20 && c < 0x7f) || c >= 0xa0;
}

static bool is_alnum(unsigned c)
{
	if (c >= 0x80)
		return c >= 0xc0 && c != 0xd7 && c != 0xf7;
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* What may follow %s (and %pks, %pus, %p): the end, a space or punctuation. */
static bool ends_conversion(char c)
{
	return !c || is_space((unsigned char)c) || is_punct((unsigned char)c);
}

#define FIELD_WIDTH_MAX ((1 << 23) - 1)	/* vsnprintf clamps wider fields */

/*
 * Text the kernel makes before formatting (%pks, %pus, %pi4, %pI4, %pi6,
 * %pI6): bstr_printf copies it without a field width, and only while there
 * is room left — past the end it is not even counted.
 */
static void emit_copied(struct out *o, const char *text)
{
	if (o->len < o->cap)
		emit(o, "%s", text);
}

/* An IPv4 or IPv6 address read from p, as %pi4 %pI4 %pi6 %pI6 print it. */
static void emit_ip(struct out *o, uint64_t p, char kind, char ver)
{
	uint8_t a[16] = { 0 };
	char s[48];
	size_t n = 0;

	if (probe_copy(a, (const void *)(uintptr_t)p, ver == '4' ? 4 : 16))
		memset(a, 0, sizeof(a));
	if (ver == '4') {
		snprintf(s, sizeof(s), kind == 'i' ? "%03u.%03u.%03u.%03u" : "%u.%u.%u.%u",
			 a[0], a[1], a[2], a[3]);
	} else {
		for (int i = 0; i < 16; i += 2)
			n += (size_t)snprintf(s + n, sizeof(s) - n, "%s%02x%02x",
					      kind == 'I' && i ? ":" : "", a[i], a[i + 1]);
	}
	emit_copied(o, s);
}

/*
 * Format fmt (NUL-terminated) with args into o. Returns 0 or -EINVAL; *why
 * is set to the reason (kept for the verifier's messages to come).
 */
static int format(struct out *o, const char *fmt, const uint64_t *args, uint32_t nargs,
		  const char **why)
{
	uint32_t spec_n = 0;

	for (size_t i = 0; fmt[i]; i++) {
		char spec[32], *sp = spec, str[FMT_MAX_STR];
		unsigned char c = (unsigned char)fmt[i];
		bool flag[4] = { false };	/* - + space 0 */
		uint64_t arg, width = 0;
		int lng = 0;

		if (c < 0x80 && !is_print(c) && !is_space(c))	/* UTF-8 is allowed */
			return *why = "has a control character", -EINVAL;
		if (c != '%') {
			emit(o, "%c", c);
			continue;
		}
		if (fmt[i + 1] == '%') {
			emit(o, "%%");
			i++;
			continue;
		}
		if (spec_n >= nargs)
			return *why = "has more conversions than arguments", -EINVAL;
		arg = args[spec_n++];
		*sp++ = '%';
		for (i++;; i++) {
			const char *f = strchr("-+ 0", fmt[i]);

			if (!fmt[i] || !f)
				break;
			flag[f - "-+ 0"] = true;
		}
		for (int f = 0; f < 4; f++)
			if (flag[f])
				*sp++ = "-+ 0"[f];
		if (fmt[i] >= '1' && fmt[i] <= '9') {
			while (fmt[i] >= '0' && fmt[i] <= '9') {
				width = width * 10 + (uint64_t)(fmt[i++] - '0');
				if (width > FIELD_WIDTH_MAX)
					width = FIELD_WIDTH_MAX;
			}
			sp += sprintf(sp, "%u", (unsigned)width);
		}
		switch (fmt[i]) {
		case 'p': {
			char n1 = fmt[i + 1];
			size_t at = i;

			if ((n1 == 'k' || n1 == 'u') && fmt[i + 2] == 's') {
				if (!ends_conversion(fmt[i + 3]))
					return *why = "has %pks or %pus followed by a letter or digit",
					       -EINVAL;
				if (probe_copy_str(str, (const void *)(uintptr_t)arg, sizeof(str)) < 0)
					str[0] = '\0';
				emit_copied(o, str);
			} else if (n1 == 'i' || n1 == 'I') {
				if (fmt[i + 2] != '4' && fmt[i + 2] != '6')
					return *why = "has %pi or %pI without 4 or 6", -EINVAL;
				emit_ip(o, arg, n1, fmt[i + 2]);
			} else if (n1 == 'B') {
				snprintf(str, sizeof(str), "%016llx", (unsigned long long)arg);
				emit_copied(o, str);
			} else if (n1 != 'K' && n1 != 'x' && n1 != 's' && n1 != 'S' &&
				   !ends_conversion(n1)) {
				return *why = "has an unknown %p extension", -EINVAL;
			} else if (!arg && n1 != 'K' && n1 != 'x') {
				strcpy(sp, "s");
				emit(o, spec, "(null)");
			} else if (width) {	/* the kernel's pointer_string(): a hex number */
				strcpy(sp, "llx");
				emit(o, spec, (unsigned long long)arg);
			} else {		/* ... zero-padded to 16 digits without a width */
				emit(o, "%016llx", (unsigned long long)arg);
			}
			/* Like vsnprintf, every letter and digit after the p belongs to it. */
			while (is_alnum((unsigned char)fmt[at + 1]))
				at++;
			i = at;
			continue;
		}
		case 's':
			if (!ends_conversion(fmt[i + 1]))
				return *why = "has %s followed by a letter or digit", -EINVAL;
			if (probe_copy_str(str, (const void *)(uintptr_t)arg, sizeof(str)) < 0)
				str[0] = '\0';
			strcpy(sp, "s");
			emit(o, spec, str);
			continue;
		case 'c':
			strcpy(sp, "c");
			emit(o, spec, (int)(unsigned char)arg);
			continue;
		}
		if (fmt[i] == 'l')
			lng++, i++;
		if (fmt[i] == 'l')
			lng++, i++;
		switch (fmt[i]) {
		case 'd': case 'i':
			strcpy(sp, lng ? "lld" : "d");
			if (lng)
				emit(o, spec, (long long)arg);
			else
				emit(o, spec, (int)(uint32_t)arg);
			break;
		case 'u': case 'x': case 'X':
			sp[0] = lng ? 'l' : fmt[i];
			sp[1] = lng ? 'l' : '\0';
			sp[2] = lng ? fmt[i] : '\0';
			sp[3] = '\0';
			if (lng)
				emit(o, spec, (unsigned long long)arg);
			else
				emit(o, spec, (unsigned)arg);
			break;
		default:
			return *why = "has a conversion the kernel does not allow", -EINVAL;
		}
	}
	return 0;
}

/* Check the whole format first (nothing is written on -EINVAL), then format into o. */
static long bprintf(struct out *o, const char *fmt, const uint64_t *data, uint32_t nargs)
{
	struct out dry = { 0 };
	const char *why = NULL;
	int ret = format(&dry, fmt, data, nargs, &why);

	if (ret)
		return ret;
	return format(o, fmt, data, nargs, &why);
}

int helper_format_check(const char *fmt, uint32_t nargs, const char **why)
{
	/* NULL strings and addresses: nothing is read. No more than fmt can convert. */
	size_t most = strlen(fmt) / 2 + 1;
	uint32_t n = nargs < most ? nargs : (uint32_t)most;
	uint64_t *zeros = calloc(n ? n : 1, sizeof(*zeros));
	struct out dry = { 0 };
	int ret;

	*why = NULL;
	if (!zeros)
		return -ENOMEM;
	ret = format(&dry, fmt, zeros, n, why);
	free(zeros);
	return ret;
}

/* ---- The sink ------------------------------------------------------------ */

static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static bpfrt_trace_fn sink_fn;
static void *sink_ctx;

BPFRT_API void bpfrt_trace_set_sink(bpfrt_trace_fn fn, void *ctx)
{
	pthread_mutex_lock(&sink_lock);
	sink_fn = fn;
	sink_ctx = ctx;
	pthread_mutex_unlock(&sink_lock);
}

/*
 * One trace_pipe-style line per call:
 * "<comm>-<tid> [cpu] ..... <time>: bpf_trace_printk: <text>"
 */
static void trace_line(const char *text, size_t len)
{
	char comm[17] = "", line[TRACE_BUF + 128];
	struct timespec ts;
	uint32_t cpu = sync_cpu_slot() % sync_ncpus();
	int n;

	if (len && text[len - 1] == '\n')
		len--;
	if (prctl(PR_GET_NAME, comm, 0, 0, 0))
		strcpy(comm, "<...>");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof(line), "%16s-%-7d [%03u] ..... %5llu.%06llu: "
		     "bpf_trace_printk: %.*s\n", comm, (int)gettid(), cpu,
		     (unsigned long long)ts.tv_sec, (unsigned long long)ts.tv_nsec / 1000,
		     (int)len, text);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	pthread_mutex_lock(&sink_lock);
	if (sink_fn)
		sink_fn(sink_ctx, line, (size_t)n);
	else if (write(STDERR_FILENO, line, (size_t)n) < 0)
		(void)0;	/* nowhere to say it */
	pthread_mutex_unlock(&sink_lock);
}

/* ---- The helpers --------------------------------------------------------- */

/* fmt of fmt_size bytes with a NUL in them; the format's checks; then the line. */
static uint64_t trace_common(struct bpfrt_run *run, const char *helper, uint64_t r1,
			     uint64_t fmt_size, const uint64_t *args, uint32_t nargs)
{
	const char *fmt = (const char *)(uintptr_t)r1;
	char buf[TRACE_BUF];
	struct out o = { buf, sizeof(buf), 0 };
	long ret;

	if (!helper_mem_ok(run, helper, 1, r1, (uint32_t)fmt_size, false))
		return HELPER_ERR(-EFAULT);
	if (!fmt_size || !memchr(fmt, 0, (uint32_t)fmt_size))
		return HELPER_ERR(-EINVAL);
	ret = bprintf(&o, fmt, args, nargs);
	if (ret)
		return HELPER_ERR(ret);
	trace_line(buf, o.len < sizeof(buf) ? o.len : sizeof(buf) - 1);
	return o.len;
}

/* (fmt, fmt_size, a1, a2, a3): the length of the text, or -EINVAL. */
HELPER_DEF(trace_printk)
{
	uint64_t args[TRACE_MAX_ARGS] = { r3, r4, r5 };

	return trace_common(run, "trace_printk", r1, r2, args, TRACE_MAX_ARGS);
}

/* data, data_len: a u64 array of at most 12 arguments. */
static bool data_ok(struct bpfrt_run *run, const char *helper, unsigned arg,
		    uint64_t data, uint64_t len, long *err)
{
	*err = -EINVAL;
	if ((uint32_t)len % 8 || (uint32_t)len > FMT_MAX_ARGS * 8 || ((uint32_t)len && !data))
		return false;
	*err = -EFAULT;
	return helper_mem_ok(run, helper, arg, data, (uint32_t)len, false);
}

/* (fmt, fmt_size, data, data_len). */
HELPER_DEF(trace_vprintk)
{
	long err;

	if (!data_ok(run, "trace_vprintk", 3, r3, r4, &err))
		return HELPER_ERR(err);
	return trace_common(run, "trace_vprintk", r1, r2, (const uint64_t *)(uintptr_t)r3,
			    (uint32_t)r4 / 8);
}

/* (str, str_size, fmt, data, data_len): the would-be length incl. the NUL. */
HELPER_DEF(snprintf_helper)
{
	uint32_t size = (uint32_t)r2;
	struct out o = { (char *)(uintptr_t)r1, size, 0 };
	long err;

	if (!helper_mem_ok(run, "snprintf", 1, r1, size, true) ||
	    helper_str_arg(run, "snprintf", 3, r3, SIZE_MAX) < 0)
		return HELPER_ERR(-EFAULT);
	if (!data_ok(run, "snprintf", 4, r4, r5, &err))
		return HELPER_ERR(err);
	err = bprintf(&o, (const char *)(uintptr_t)r3, (const uint64_t *)(uintptr_t)r4,
		      (uint32_t)r5 / 8);
	if (err)
		return HELPER_ERR(err);
	if (size)
		o.buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len + 1;
}

const struct helper_def helper_trace_defs[] = {
	{ HELPER_TRACE_PRINTK, "trace_printk", trace_printk },
	{ HELPER_TRACE_VPRINTK, "trace_vprintk", trace_vprintk },
	{ HELPER_SNPRINTF, "snprintf", snprintf_helper },
};
const size_t helper_trace_ndefs = HELPER_NDEFS(helper_trace_defs);
