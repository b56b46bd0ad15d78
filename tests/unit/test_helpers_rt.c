/* test_helpers_rt.c — the generic helpers in bpfrt: values, error codes, bounds, on both engines and in both modes. */
#define _GNU_SOURCE
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <linux/types.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpfrt.h"
#include "t.h"

struct bpf_spin_lock {
	__u32 val;
};
#include "../bpf/helpers_rt.h"

/* ---- Running helpers_rt.o's programs -------------------------------------------------- */

static struct bpfrt_obj *rt_open(void)
{
	struct bpfrt_obj *obj = NULL;
	struct bpfrt_error err;
	char path[512];

	snprintf(path, sizeof(path), "%s/tests/bpf/helpers_rt.o", t_builddir());
	if (!CHECK(bpfrt_obj_open(path, NULL, &obj, &err) == 0, "open %s: %s", path, err.msg))
		return NULL;
	if (!CHECK(bpfrt_obj_load(obj, &err) == 0, "load %s: %s", path, err.msg)) {
		bpfrt_obj_close(obj);
		return NULL;
	}
	for (size_t i = 0; i < bpfrt_obj_prog_count(obj); i++)
		bpfrt_prog_use_builtin_helpers(bpfrt_obj_prog_at(obj, i, NULL));
	return obj;
}

/* Run program name on c; engine 0/1, checked. Returns bpfrt_prog_run's result. */
static int rt_run(struct bpfrt_obj *obj, const char *name, struct rt_ctx *c, int engine,
		  bool checked, uint64_t *r0, struct bpfrt_error *err)
{
	struct bpfrt_prog *prog = bpfrt_obj_prog_by_name(obj, name);
	BPFRT_OPTS(bpfrt_run_opts, o, .engine = engine ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP,
		   .checked = checked, .ctx = c, .ctx_len = sizeof(*c));
	int ret;

	if (!prog) {
		snprintf(err->msg, sizeof(err->msg), "no program %s", name);
		return -ENOENT;
	}
	ret = bpfrt_prog_run(prog, &o, err);
	if (r0)
		*r0 = o.retval;
	return ret;
}

#define FOR_EACH_MODE(e, chk) \
	for (int e = 0; e < 2; e++) \
		for (int chk = 0; chk < 2; chk++)

static bool run_ok(struct bpfrt_obj *obj, const char *name, struct rt_ctx *c, int e, int chk)
{
	struct bpfrt_error err;
	int ret = rt_run(obj, name, c, e, chk, NULL, &err);

	return CHECK(ret == 0, "%s engine %d checked %d: %d %s", name, e, chk, ret, err.msg);
}

static uint64_t now(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- Clocks -------------------------------------------------------------------------- */

TEST(helpers_rt_clocks)
{
	struct bpfrt_obj *obj = rt_open();

	FOR_EACH_MODE(e, chk) {
		struct rt_ctx c = { 0 };
		uint64_t mono0 = now(CLOCK_MONOTONIC), boot0 = now(CLOCK_BOOTTIME);
		uint64_t tai0 = now(CLOCK_TAI), coarse0 = now(CLOCK_MONOTONIC_COARSE);
		uint64_t mono1, boot1, tai1, coarse1;

		if (!obj || !run_ok(obj, "clocks", &c, e, chk))
			break;
		mono1 = now(CLOCK_MONOTONIC);
		boot1 = now(CLOCK_BOOTTIME);
		tai1 = now(CLOCK_TAI);
		coarse1 = now(CLOCK_MONOTONIC_COARSE);
		CHECK((uint64_t)c.out[0] >= mono0 && (uint64_t)c.out[0] <= mono1 &&
		      c.out[5] >= c.out[0], "ktime_get_ns %lld outside [%llu, %llu]",
		      (long long)c.out[0], (unsigned long long)mono0, (unsigned long long)mono1);
		CHECK((uint64_t)c.out[1] >= boot0 && (uint64_t)c.out[1] <= boot1,
		      "ktime_get_boot_ns %lld", (long long)c.out[1]);
		CHECK((uint64_t)c.out[2] >= coarse0 && (uint64_t)c.out[2] <= coarse1,
		      "ktime_get_coarse_ns %lld", (long long)c.out[2]);
		CHECK((uint64_t)c.out[3] >= tai0 && (uint64_t)c.out[3] <= tai1,
		      "ktime_get_tai_ns %lld", (long long)c.out[3]);
		CHECK((uint64_t)c.out[4] >= mono0 / 1000000 && (uint64_t)c.out[4] <= mono1 / 1000000,
		      "jiffies64 %lld: monotonic milliseconds", (long long)c.out[4]);
	}
	bpfrt_obj_close(obj);
}

/* ---- The current task ---------------------------------------------------------------------- */

TEST(helpers_rt_ids)
{
	struct bpfrt_obj *obj = rt_open();
	char name[16] = "", root[512];
	uint32_t seen_bits = 0, bits_set[32] = { 0 };
	unsigned samples = 0;

	prctl(PR_GET_NAME, name);
	prctl(PR_SET_NAME, "bpfrt-ids-test");
	FOR_EACH_MODE(e, chk) {
		struct rt_ctx c;

		for (uint32_t size = 1; obj && size <= 20; size += (size < 4 ? 1 : 5)) {
			memset(&c, 0x55, sizeof(c));
			c.in[0] = size;
			if (!run_ok(obj, "ids", &c, e, chk))
				break;
			CHECK((uint64_t)c.out[0] == ((uint64_t)getpid() << 32 | (uint32_t)gettid()),
			      "pid_tgid %#llx", (unsigned long long)c.out[0]);
			CHECK((uint64_t)c.out[1] == ((uint64_t)getgid() << 32 | getuid()),
			      "uid_gid %#llx", (unsigned long long)c.out[1]);
			CHECK(c.out[2] >= 0 && c.out[2] < 4096, "cpu %lld", (long long)c.out[2]);
			CHECK(c.out[3] >= 0 && c.out[3] < 1024, "numa node %lld", (long long)c.out[3]);
			CHECK(c.out[4] == 0, "get_current_comm: %lld", (long long)c.out[4]);
			{
				char want[64];
				size_t n = strnlen("bpfrt-ids-test", size - 1);

				memset(want, 0, sizeof(want));
				memcpy(want, "bpfrt-ids-test", n);
				memset(want + size, 0x55, sizeof(want) - size);
				CHECK(memcmp(c.buf, want, sizeof(want)) == 0,
				      "comm of size %u: \"%.16s\" (truncated, NUL-padded to size, the "
				      "rest untouched)", size, c.buf);
			}
			CHECK(c.out[5] == 0 && c.out[9] == -EFAULT,
			      "get_current_task %lld, reading it %lld", (long long)c.out[5],
			      (long long)c.out[9]);
			for (int b = 0; b < 32; b++) {
				bits_set[b] += (uint32_t)c.out[7] >> b & 1;
				bits_set[b] += (uint32_t)c.out[8] >> b & 1;
			}
			seen_bits |= (uint32_t)c.out[7] ^ (uint32_t)c.out[8];
			samples += 2;
		}
	}
	CHECK(seen_bits == 0xffffffffu, "prandom: every bit changed at least once: %#x", seen_bits);
	for (int b = 0; b < 32; b++)
		CHECK(bits_set[b] > samples / 8 && bits_set[b] < samples - samples / 8,
		      "prandom: bit %d set %u times of %u", b, bits_set[b], samples);
	/* The cgroup id is the inode of this process's cgroup v2 directory. */
	{
		struct rt_ctx c = { .in = { 16 } };
		FILE *f = fopen("/proc/self/mountinfo", "r");
		char line[1024], rel[512] = "";
		struct stat sb;

		root[0] = '\0';
		while (f && fgets(line, sizeof(line), f))
			if (strstr(line, " - cgroup2 ") && sscanf(line, "%*s %*s %*s %*s %511s", root) == 1)
				break;
		if (f)
			fclose(f);
		f = fopen("/proc/self/cgroup", "r");
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "0::", 3) && sscanf(line + 3, "%511s", rel) == 1)
				break;
		if (f)
			fclose(f);
		snprintf(line, sizeof(line), "%s%s", root, rel);
		if (obj && root[0] && stat(line, &sb) == 0 && run_ok(obj, "ids", &c, 0, true))
			CHECK((uint64_t)c.out[6] == sb.st_ino, "cgroup id %lld, %s has inode %llu",
			      (long long)c.out[6], line, (unsigned long long)sb.st_ino);
	}
	prctl(PR_SET_NAME, name);
	bpfrt_obj_close(obj);
}

/* ---- probe_read*, probe_write_user ----------------------------------------------------------- */

TEST(helpers_rt_probes)
{
	struct bpfrt_obj *obj = rt_open();
	long page = sysconf(_SC_PAGESIZE);
	char *two = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *ro = mmap(NULL, (size_t)page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *edge, target[32];

	if (!obj || two == MAP_FAILED || ro == MAP_FAILED)
		return;
	/* The second page: no access (unmapping it would let the JIT's code land there). */
	mprotect(two + page, (size_t)page, PROT_NONE);
	memset(two + page - 8, 'x', 8);
	edge = two + page - 6;
	FOR_EACH_MODE(e, chk) {
		static const char src[] = "twenty-seven characters, ok";
		struct rt_ctx c;

		/* A good address: copies, and _str's lengths and truncation. */
		for (uint32_t size = 0; size <= 40; size += 5) {
			memset(&c, 0x55, sizeof(c));
			c.in[0] = (uintptr_t)src;
			c.in[1] = size;
			c.in[2] = (uintptr_t)target;
			c.in[3] = 8;
			memcpy(&c.in[4], "written!", 8);
			memset(target, 0, sizeof(target));
			if (!run_ok(obj, "probes", &c, e, chk))
				break;
			CHECK(c.out[0] == 0 && c.out[3] == 0 && !memcmp(c.buf, src, size < 28 ? size : 28),
			      "probe_read size %u: %lld", size, (long long)c.out[0]);
			CHECK(c.out[1] == (size == 0 ? 0 : size < 28 ? size : 28) && c.out[4] == c.out[1],
			      "probe_read_str size %u: %lld %lld", size, (long long)c.out[1],
			      (long long)c.out[4]);
			if (size)
				CHECK(strlen(c.buf2) == (size < 28 ? size - 1 : 27) &&
				      !strncmp(c.buf2, src, strlen(c.buf2)) &&
				      (size > 28 || (unsigned char)c.buf2[size] == 0x55),
				      "probe_read_str size %u: \"%s\"", size, c.buf2);
			CHECK(c.out[2] == 0 && !memcmp(target, "written!", 8),
			      "probe_write_user: %lld", (long long)c.out[2]);
		}
		/* NULL, unmapped, a string up to unmapped memory, a read-only target. */
		memset(&c, 0x55, sizeof(c));
		c.in[0] = 0;
		c.in[1] = 16;
		c.in[2] = (uintptr_t)ro;
		c.in[3] = 4;
		if (run_ok(obj, "probes", &c, e, chk)) {
			char zero[16] = { 0 };

			CHECK(c.out[0] == -EFAULT && c.out[1] == -EFAULT && c.out[3] == -EFAULT &&
			      c.out[4] == -EFAULT, "NULL: %lld %lld", (long long)c.out[0],
			      (long long)c.out[1]);
			CHECK(!memcmp(c.buf, zero, 16) && !memcmp(c.buf2, zero, 16),
			      "a failed probe read zeroes its destination");
			CHECK(c.out[2] == -EFAULT && ro[0] == 0, "write to read-only memory: %lld",
			      (long long)c.out[2]);
		}
		memset(&c, 0x55, sizeof(c));
		c.in[0] = (uintptr_t)(two + page - 4);	/* 4 bytes readable, then a hole */
		c.in[1] = 8;
		memset(two + page - 8, 'x', 8);
		if (run_ok(obj, "probes", &c, e, chk))
			CHECK(c.out[0] == -EFAULT && c.out[1] == -EFAULT,
			      "a read running into inaccessible memory: %lld %lld",
			      (long long)c.out[0], (long long)c.out[1]);
		memset(&c, 0x55, sizeof(c));
		memcpy(edge, "edge!", 6);		/* the string ends at the last byte */
		c.in[0] = (uintptr_t)edge;
		c.in[1] = 64;
		if (run_ok(obj, "probes", &c, e, chk))
			CHECK(c.out[1] == 6 && !strcmp(c.buf2, "edge!"),
			      "a string that ends just before unmapped memory: %lld",
			      (long long)c.out[1]);
		/* Checked runs refuse a destination the program may not write. */
		if (chk) {
			struct bpfrt_error err;
			uint64_t r0;
			int ret;

			memset(&c, 0, sizeof(c));
			c.in[0] = (uintptr_t)src;
			c.in[2] = (uintptr_t)target;
			ret = rt_run(obj, "probe_bad_dst", &c, e, true, &r0, &err);
			CHECK(ret == -EFAULT && strstr(err.msg, "bpf_probe_read_user: argument 1"),
			      "checked: bad destination: %d %s", ret, err.msg);
		}
	}
	munmap(two, (size_t)page);
	munmap(ro, (size_t)page);
	bpfrt_obj_close(obj);
}

/* ---- trace_printk, trace_vprintk, snprintf --------------------------------------------------- */

struct lines {
	char text[8][256];
	int n;
};

static void sink(void *ctx, const char *line, size_t len)
{
	struct lines *l = ctx;

	if (l->n < 8 && len < sizeof(l->text[0]) && strlen(line) == len)
		memcpy(l->text[l->n++], line, len + 1);
}

TEST(helpers_rt_trace)
{
	struct bpfrt_obj *obj = rt_open();

	prctl(PR_SET_NAME, "tracer");
	FOR_EACH_MODE(e, chk) {
		struct rt_ctx c;
		struct lines l = { .n = 0 };
		char want[128], *p;

		memset(&c, 0, sizeof(c));
		for (int i = 0; i < 5; i++)
			c.in[i] = (uint64_t)(i * 10 - 20);
		c.in[1] = 64;	/* also snprintf's size */
		strcpy(c.buf2, "bpfrt");
		bpfrt_trace_set_sink(sink, &l);
		if (!obj || !run_ok(obj, "traces", &c, e, chk))
			break;
		bpfrt_trace_set_sink(NULL, NULL);
		CHECK(c.out[0] == (long)strlen("hello -20 from bpfrt\n"), "trace_printk: %lld",
		      (long long)c.out[0]);
		CHECK(c.out[1] == -EINVAL, "4 conversions, 3 arguments: %lld", (long long)c.out[1]);
		CHECK(c.out[2] == (long)strlen("-20-64-0-10-20"), "trace_vprintk: %lld",
		      (long long)c.out[2]);
		CHECK(c.out[4] == -EINVAL, "a format without its NUL: %lld", (long long)c.out[4]);
		CHECK(c.out[5] == -EINVAL, "data_len not a multiple of 8: %lld", (long long)c.out[5]);
		CHECK(c.out[6] == (long)strlen("-20-64-0-10-20") + 1,
		      "snprintf(NULL, 0): the length it would need, %lld", (long long)c.out[6]);
		if (!CHECK(l.n == 2, "two lines reach the sink, not %d", l.n))
			continue;
		snprintf(want, sizeof(want), "          tracer-%-7d [", (int)gettid());
		CHECK(!strncmp(l.text[0], want, strlen(want)), "line: \"%s\"", l.text[0]);
		p = strstr(l.text[0], "] ..... ");
		CHECK(p && strstr(p, ": bpf_trace_printk: hello -20 from bpfrt\n") &&
		      strchr(l.text[0], '\n') == l.text[0] + strlen(l.text[0]) - 1,
		      "one line, the text's own newline dropped: \"%s\"", l.text[0]);
		CHECK(strstr(l.text[1], ": bpf_trace_printk: -20-64-0-10-20\n") != NULL,
		      "trace_vprintk: \"%s\"", l.text[1]);
		/* %p, %px, %pK (0), %p, a string at an unreadable address. */
		CHECK(c.out[3] == 75 && !strncmp(c.buf, "ffffffffffffffec|0000000000000040|"
						 "0000000000000000|000000000000000a|     |", 63) &&
		      strlen(c.buf) == 63, /* truncated to the 64-byte buffer */
		      "snprintf %%p: %lld \"%s\"", (long long)c.out[3], c.buf);
	}
	prctl(PR_SET_NAME, "bpfrt_tests");
	bpfrt_obj_close(obj);
}

/* ---- Ring buffers ------------------------------------------------------------------------- */

struct got {
	uint8_t data[4][64];
	size_t size[4];
	int n;
};

static int take(void *ctx, void *data, size_t size)
{
	struct got *g = ctx;

	if (g->n < 4 && size <= 64) {
		memcpy(g->data[g->n], data, size);
		g->size[g->n] = size;
	}
	g->n++;
	return 0;
}

TEST(helpers_rt_ringbuf)
{
	struct bpfrt_obj *obj = rt_open();
	struct bpfrt_map *rb = obj ? bpfrt_obj_map_by_name(obj, "rb") : NULL;

	FOR_EACH_MODE(e, chk) {
		struct rt_ctx c;
		struct got g = { .n = 0 };
		uint64_t r[2];

		memset(&c, 0, sizeof(c));
		c.in[0] = 24;
		c.in[1] = 0x1122334455667788ull;
		memcpy(c.buf, "ring buffer record #1...", 24);
		if (!rb || !run_ok(obj, "rings", &c, e, chk))
			break;
		CHECK(c.out[0] == 0 && c.out[1] == 1 && c.out[2] == 1, "output %lld, reserve %lld %lld",
		      (long long)c.out[0], (long long)c.out[1], (long long)c.out[2]);
		/* 24 + 8, 16 + 8, 8 + 8 bytes are taken; nothing consumed yet. */
		CHECK(c.out[3] == 72 && c.out[4] == 16384 && c.out[6] - c.out[5] == 72,
		      "query: avail %lld size %lld cons %lld prod %lld", (long long)c.out[3],
		      (long long)c.out[4], (long long)c.out[5], (long long)c.out[6]);
		CHECK(c.out[7] == 1 && c.out[8] == -EINVAL && c.out[9] == 1,
		      "bad flags, too big: %lld %lld %lld", (long long)c.out[7], (long long)c.out[8],
		      (long long)c.out[9]);
		CHECK(bpfrt_ringbuf_consume(rb, take, &g) == 2 && g.n == 2, "two records, not %d", g.n);
		memcpy(r, g.data[1], sizeof(r));
		CHECK(g.size[0] == 24 && !memcmp(g.data[0], "ring buffer record #1...", 24) &&
		      g.size[1] == 16 && r[0] == c.in[1] && r[1] == ~c.in[1],
		      "the records, in order; the discarded one is gone");
	}
	/* Checked runs refuse to submit what is not a reserved record, or twice. */
	for (int e = 0; rb && e < 2; e++) {
		struct rt_ctx c;
		struct bpfrt_error err;
		uint64_t r0;
		int ret;

		memset(&c, 0, sizeof(c));
		c.in[0] = (uintptr_t)c.buf + 8;
		ret = rt_run(obj, "ring_bad_submit", &c, e, true, &r0, &err);
		CHECK(ret == -EINVAL && strstr(err.msg, "bpf_ringbuf_submit: argument 1") &&
		      strstr(err.msg, "not a record reserved"), "engine %d: %d %s", e, ret, err.msg);
		c.in[1] = 1;
		ret = rt_run(obj, "ring_bad_submit", &c, e, true, &r0, &err);
		CHECK(ret == -EINVAL && strstr(err.msg, "not yet submitted"), "engine %d: twice: %d %s",
		      e, ret, err.msg);
		bpfrt_ringbuf_consume(rb, take, &(struct got){ .n = 0 });
	}
	bpfrt_obj_close(obj);
}

/* Producers on several threads, one consumer: every record exactly once, none torn. */
#define RB_THREADS 3
#define RB_PER_THREAD 20000

struct producer {
	struct bpfrt_obj *obj;
	int id, engine;
	unsigned full, failed;
};

static void *produce(void *arg)
{
	struct producer *p = arg;

	for (uint64_t seq = 0; seq < RB_PER_THREAD; seq++) {
		struct rt_ctx c = { .in = { (uint64_t)p->id, seq } };
		struct bpfrt_error err;
		uint64_t r0 = 1;

		while (r0) {
			if (rt_run(p->obj, "ring_produce", &c, p->engine, p->id & 1, &r0, &err)) {
				p->failed++;
				return NULL;
			}
			if (r0) {
				p->full++;
				sched_yield();
			}
		}
	}
	return NULL;
}

struct seen {
	uint64_t next[RB_THREADS];
	unsigned bad, total;
};

static int check_rec(void *ctx, void *data, size_t size)
{
	struct seen *s = ctx;
	struct rt_rec r;

	if (size != sizeof(r)) {
		s->bad++;
		return 0;
	}
	memcpy(&r, data, sizeof(r));
	if (r.thread >= RB_THREADS || r.check != ((r.thread * 31 + r.seq) ^ RT_REC_MAGIC) ||
	    r.seq != s->next[r.thread])
		s->bad++;
	else
		s->next[r.thread]++;
	s->total++;
	return 0;
}

TEST(helpers_rt_ringbuf_threads)
{
	struct bpfrt_obj *obj = rt_open();
	struct bpfrt_map *rb = obj ? bpfrt_obj_map_by_name(obj, "rb") : NULL;

	for (int e = 0; rb && e < 2; e++) {
		struct producer p[RB_THREADS];
		pthread_t th[RB_THREADS];
		struct seen s = { .bad = 0 };
		unsigned full = 0;

		bpfrt_ringbuf_consume(rb, take, &(struct got){ .n = 0 });
		for (int i = 0; i < RB_THREADS; i++) {
			p[i] = (struct producer){ .obj = obj, .id = i, .engine = e };
			pthread_create(&th[i], NULL, produce, &p[i]);
		}
		while (s.total < RB_THREADS * RB_PER_THREAD && s.bad == 0) {
			int n = bpfrt_ringbuf_poll(rb, check_rec, &s, 100);

			if (n < 0)
				break;
			if (n == 0) {	/* every producer may have finished or failed */
				bool done = true;

				for (int i = 0; i < RB_THREADS; i++)
					done &= p[i].failed > 0;
				if (done)
					break;
			}
		}
		for (int i = 0; i < RB_THREADS; i++) {
			pthread_join(th[i], NULL);
			CHECK(p[i].failed == 0, "engine %d: producer %d failed", e, i);
			full += p[i].full;
		}
		bpfrt_ringbuf_consume(rb, check_rec, &s);
		CHECK(s.bad == 0 && s.total == RB_THREADS * RB_PER_THREAD,
		      "engine %d: %u records, %u bad (the ring was full %u times)", e, s.total,
		      s.bad, full);
	}
	bpfrt_obj_close(obj);
}

/* ---- Perf event arrays ---------------------------------------------------------------------- */

struct perf_got {
	unsigned n, cpu[4];
	size_t size[4];
};

static int perf_take(void *ctx, unsigned cpu, void *data, size_t size)
{
	struct perf_got *g = ctx;

	(void)data;
	if (g->n < 4) {
		g->cpu[g->n] = cpu;
		g->size[g->n] = size;
	}
	g->n++;
	return 0;
}

TEST(helpers_rt_perf_event)
{
	struct bpfrt_obj *obj = rt_open();
	struct bpfrt_map *pe = obj ? bpfrt_obj_map_by_name(obj, "pe") : NULL;

	FOR_EACH_MODE(e, chk) {
		struct rt_ctx c;
		struct perf_got g = { 0 };
		uint32_t slot = 2, val = 7;

		if (!pe)
			break;
		/* Slot 2 closed: output -ENOENT, counters -ENOENT, the value zeroed. */
		memset(&c, 0x55, sizeof(c));
		c.in[0] = slot;
		bpfrt_map_delete(pe, &slot);
		if (!run_ok(obj, "perfs", &c, e, chk))
			break;
		CHECK(c.out[1] == -ENOENT && c.out[2] == -ENOENT && c.out[3] == -ENOENT &&
		      c.out[4] == -EINVAL && c.out[5] == -EINVAL,
		      "closed slot: %lld %lld %lld %lld %lld", (long long)c.out[1], (long long)c.out[2],
		      (long long)c.out[3], (long long)c.out[4], (long long)c.out[5]);
		CHECK(!memcmp(c.buf2, (char[24]){ 0 }, 24) && (uint8_t)c.buf2[24] == 0x55,
		      "perf_event_read_value zeroes exactly its 24 bytes");
		/* Open: output works; there is still no counter behind the slot. */
		CHECK(bpfrt_map_update(pe, &slot, &val, 0) == 0, "open slot 2");
		c.in[0] = slot;
		if (!run_ok(obj, "perfs", &c, e, chk))
			break;
		CHECK(c.out[1] == 0 && c.out[2] == -EINVAL && c.out[3] == -EINVAL,
		      "open slot: %lld %lld %lld", (long long)c.out[1], (long long)c.out[2],
		      (long long)c.out[3]);
		c.in[0] = 9;
		if (run_ok(obj, "perfs", &c, e, chk))
			CHECK(c.out[1] == -E2BIG && c.out[2] == -E2BIG, "slot 9 of 4: %lld %lld",
			      (long long)c.out[1], (long long)c.out[2]);
		bpfrt_perf_consume(pe, perf_take, NULL, &g);
		CHECK(g.n >= 1 && g.cpu[g.n > 4 ? 3 : g.n - 1] == 2, "records reached slot 2: %u", g.n);
		bpfrt_map_delete(pe, &slot);
	}
	bpfrt_obj_close(obj);
}

/* ---- bpf_spin_lock ------------------------------------------------------------------------- */

#define LOCK_THREADS 4
#define LOCK_RUNS 20000

struct locker {
	struct bpfrt_obj *obj;
	int engine, checked;
	unsigned failed;
};

static void *lock_loop(void *arg)
{
	struct locker *l = arg;

	for (int i = 0; i < LOCK_RUNS; i++) {
		struct rt_ctx c = { .in = { 0 } };
		struct bpfrt_error err;

		if (rt_run(l->obj, "lock_add", &c, l->engine, l->checked, NULL, &err))
			l->failed++;
	}
	return NULL;
}

TEST(helpers_rt_spin_lock)
{
	struct bpfrt_obj *obj = rt_open();
	struct bpfrt_map *m = obj ? bpfrt_obj_map_by_name(obj, "locked") : NULL;
	uint32_t zero = 0;

	for (int e = 0; m && e < 2; e++) {
		struct rt_locked v = { .counter = 0 };
		struct locker l[LOCK_THREADS];
		pthread_t th[LOCK_THREADS];
		pid_t child;
		int status = 0;

		bpfrt_map_update(m, &zero, &v, 0);
		/* A forked child counts too, through the same shared block. */
		child = fork();
		if (child == 0) {
			struct locker me = { .obj = obj, .engine = e, .checked = 1 };

			lock_loop(&me);
			_exit(me.failed ? 1 : 0);
		}
		for (int i = 0; i < LOCK_THREADS; i++) {
			l[i] = (struct locker){ .obj = obj, .engine = e, .checked = i & 1 };
			pthread_create(&th[i], NULL, lock_loop, &l[i]);
		}
		for (int i = 0; i < LOCK_THREADS; i++) {
			pthread_join(th[i], NULL);
			CHECK(l[i].failed == 0, "engine %d thread %d: %u runs failed", e, i, l[i].failed);
		}
		CHECK(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0, "engine %d: the child's runs", e);
		bpfrt_map_lookup(m, &zero, &v);
		CHECK(v.runs == (LOCK_THREADS + 1) * LOCK_RUNS && v.counter == v.runs && v.lock.val == 0,
		      "engine %d: counter %llu after %llu runs (4 threads and a process), lock %u", e,
		      (unsigned long long)v.counter, (unsigned long long)v.runs, v.lock.val);
	}
	for (int e = 0; m && e < 2; e++) {
		struct rt_ctx c = { .in = { 0 } };
		struct bpfrt_error err;
		int ret = rt_run(obj, "lock_bad", &c, e, true, NULL, &err);

		CHECK(ret == -EINVAL && strstr(err.msg, "bpf_spin_lock: argument 1") &&
		      strstr(err.msg, "aligned"), "engine %d: misaligned lock: %d %s", e, ret, err.msg);
	}
	bpfrt_obj_close(obj);
}

/* ---- map_lookup_percpu_elem --------------------------------------------------------------- */

TEST(helpers_rt_percpu)
{
	struct bpfrt_obj *obj = rt_open();
	struct bpfrt_map *m = obj ? bpfrt_obj_map_by_name(obj, "pc") : NULL;
	struct bpfrt_map_info info;
	uint64_t *vals;
	uint32_t key = 1;

	if (!m)
		goto out;
	bpfrt_map_get_info(m, &info);
	vals = calloc(info.ncpus, 8);
	for (unsigned i = 0; i < info.ncpus; i++)
		vals[i] = 1000 + i;
	CHECK(bpfrt_map_update(m, &key, vals, 0) == 0, "set every CPU's value");
	FOR_EACH_MODE(e, chk) {
		for (unsigned cpu = 0; cpu <= info.ncpus; cpu++) {
			struct rt_ctx c = { .in = { cpu, 1 } };

			if (!run_ok(obj, "percpu", &c, e, chk))
				break;
			CHECK(c.out[0] == (cpu < info.ncpus ? 1000 + (long)cpu : -1),
			      "cpu %u of %u: %lld", cpu, info.ncpus, (long long)c.out[0]);
		}
	}
	free(vals);
out:
	bpfrt_obj_close(obj);
}

/* ---- get_stackid, get_stack ------------------------------------------------------------------ */

/* Is ip among the n frames? */
static bool has_frame(const uint64_t *ips, size_t n, uint64_t ip)
{
	for (size_t i = 0; i < n; i++)
		if (ips[i] == ip)
			return true;
	return false;
}

TEST(helpers_rt_stacks)
{
	struct bpfrt_obj *obj = rt_open();
	struct bpfrt_map *st = obj ? bpfrt_obj_map_by_name(obj, "st") : NULL;
	void *mine[4];
	int nmine = backtrace(mine, 4);

	FOR_EACH_MODE(e, chk) {
		struct rt_ctx c;
		uint64_t stack[32], a[8], b[8];
		uint32_t id;

		memset(&c, 0x55, sizeof(c));
		if (!st || nmine < 2 || !run_ok(obj, "stacks", &c, e, chk))
			break;
		memcpy(a, c.buf, sizeof(a));
		memcpy(b, c.buf2, sizeof(b));
		/* The last get_stack (-EINVAL) zeroed the first 12 bytes of buf. */
		CHECK(c.out[4] == -EINVAL && c.out[5] == -EINVAL && a[0] == 0 && (uint32_t)a[1] == 0,
		      "bad flags, size not a multiple of 8: %lld %lld, buf zeroed",
		      (long long)c.out[4], (long long)c.out[5]);
		CHECK(c.out[6] == -EFAULT, "skipping every frame: %lld", (long long)c.out[6]);
		if (!CHECK(c.out[0] >= 0 && c.out[0] < 64 && c.out[2] > 0 && c.out[2] % 8 == 0,
			   "engine %d: stackid %lld, get_stack %lld", e, (long long)c.out[0],
			   (long long)c.out[2]))
			continue;
		id = (uint32_t)c.out[0];
		CHECK(bpfrt_map_lookup(st, &id, stack) == 0, "the stack %u is in the map", id);
		if (e == 0) {
			/*
			 * The interpreter calls every helper from one place, so both
			 * calls see the same stack: the same id, and skip 1 is the
			 * same frames one down. The stack reaches the test's caller.
			 */
			CHECK(c.out[1] == c.out[0], "the same stack, the same id: %lld %lld",
			      (long long)c.out[0], (long long)c.out[1]);
			CHECK(c.out[3] == 64 && !memcmp(b + 1, a + 2, 6 * 8),
			      "skip 1: %lld bytes, one frame down", (long long)c.out[3]);
			CHECK(has_frame(stack, 32, (uintptr_t)mine[1]),
			      "the stack reaches the frame that called this test (%p)", mine[1]);
		} else {
			CHECK(c.out[1] >= 0, "the JIT: a second stack id %lld", (long long)c.out[1]);
		}
	}
	bpfrt_obj_close(obj);
}

/* ---- current_task_under_cgroup, the cgroup_array map ---------------------------------------------- */

static bool cgroup2_root(char *root, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[1024];
	bool found = false;

	while (f && fgets(line, sizeof(line), f) && !found)
		if (strstr(line, " - cgroup2 ") && len >= 512)
			found = sscanf(line, "%*s %*s %*s %*s %511s", root) == 1;
	if (f)
		fclose(f);
	return found;
}

TEST(helpers_rt_cgroups)
{
	struct bpfrt_obj *obj = rt_open();
	struct bpfrt_map *cg = obj ? bpfrt_obj_map_by_name(obj, "cg") : NULL;
	char root[512], mine[1600] = "", child[1700], line[1024];
	uint32_t k0 = 0, k1 = 1, k2 = 2, k9 = 9;
	int fd_mine, fd_child, fd_tmp, val;
	FILE *f;

	if (!cg)
		goto out;
	if (!cgroup2_root(root, sizeof(root))) {
		printf("  helpers_rt_cgroups: skipped: no cgroup2 mount\n");
		goto out;
	}
	f = fopen("/proc/self/cgroup", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(mine, sizeof(mine), "%s%s", root, line + 3);
		}
	if (f)
		fclose(f);
	snprintf(child, sizeof(child), "%s/bpfrt-test-%d", mine, getpid());
	fd_mine = open(mine, O_RDONLY | O_DIRECTORY);
	fd_tmp = open("/tmp", O_RDONLY | O_DIRECTORY);
	if (mkdir(child, 0755)) {
		printf("  helpers_rt_cgroups: skipped: cannot make %s (%s)\n", child, strerror(errno));
		goto out;
	}
	fd_child = open(child, O_RDONLY | O_DIRECTORY);
	CHECK(bpfrt_map_update(cg, &k0, &fd_mine, 0) == 0, "slot 0: this process's cgroup");
	CHECK(bpfrt_map_update(cg, &k2, &fd_child, 0) == 0, "slot 2: a child cgroup");
	CHECK(bpfrt_map_update(cg, &k1, &fd_tmp, 0) == -EBADF, "/tmp is not a cgroup");
	val = -1;
	CHECK(bpfrt_map_update(cg, &k1, &val, 0) == -EBADF, "fd -1");
	CHECK(bpfrt_map_update(cg, &k9, &fd_mine, 0) == -E2BIG, "slot 9 of 4");
	CHECK(bpfrt_map_update(cg, &k1, &fd_mine, BPFRT_NOEXIST) == -EINVAL, "flags");
	CHECK(bpfrt_map_lookup(cg, &k0, &val) == -ENOTSUP, "user space cannot look up, like the kernel");
	FOR_EACH_MODE(e, chk) {
		struct rt_ctx c = { .in = { 0 } };

		if (!run_ok(obj, "cgroups", &c, e, chk))
			break;
		CHECK(c.out[0] == 1 && c.out[1] == -EAGAIN && c.out[2] == -E2BIG && c.out[3] == 0,
		      "under mine %lld, empty %lld, out of range %lld, under the child %lld",
		      (long long)c.out[0], (long long)c.out[1], (long long)c.out[2],
		      (long long)c.out[3]);
	}
	/* A forked child that moves into the child cgroup is under both. */
	{
		pid_t pid = fork();
		int status = 0;

		if (pid == 0) {
			struct rt_ctx c = { .in = { 0 } };
			char procs[1800];
			int pfd;

			snprintf(procs, sizeof(procs), "%s/cgroup.procs", child);
			pfd = open(procs, O_WRONLY);
			if (pfd < 0 || write(pfd, "0", 1) != 1)
				_exit(2);
			close(pfd);
			if (!run_ok(obj, "cgroups", &c, 1, true))
				_exit(3);
			_exit(c.out[0] == 1 && c.out[3] == 1 ? 0 : 4);
		}
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
			printf("  helpers_rt_cgroups: the child could not move into %s\n", child);
		else
			CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "the child in %s is under both cgroups (status %d)", child, status);
	}
	CHECK(bpfrt_map_delete(cg, &k2) == 0 && bpfrt_map_delete(cg, &k2) == -ENOENT,
	      "delete, then nothing to delete");
	close(fd_child);
	close(fd_mine);
	close(fd_tmp);
	for (int tries = 0; rmdir(child) && errno == EBUSY && tries < 100; tries++)
		usleep(10000);	/* the child's exit leaves the cgroup a moment later */
out:
	bpfrt_obj_close(obj);
}

/* ---- send_signal, send_signal_thread --------------------------------------------------------- */

static volatile sig_atomic_t got_usr1, got_usr2;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1++;
}

static void on_usr2(int sig)
{
	(void)sig;
	got_usr2++;
}

TEST(helpers_rt_signals)
{
	struct bpfrt_obj *obj = rt_open();
	struct sigaction sa1 = { .sa_handler = on_usr1 }, sa2 = { .sa_handler = on_usr2 }, o1, o2;

	sigaction(SIGUSR1, &sa1, &o1);
	sigaction(SIGUSR2, &sa2, &o2);
	FOR_EACH_MODE(e, chk) {
		struct rt_ctx c = { .in = { SIGUSR1, SIGUSR2 } };
		int before1 = got_usr1, before2 = got_usr2;

		if (!obj || !run_ok(obj, "signals", &c, e, chk))
			break;
		CHECK(c.out[0] == 0 && c.out[1] == 0, "send_signal %lld, _thread %lld",
		      (long long)c.out[0], (long long)c.out[1]);
		for (int i = 0; i < 100 && (got_usr1 == before1 || got_usr2 == before2); i++)
			usleep(1000);
		CHECK(got_usr1 == before1 + 1 && got_usr2 == before2 + 1,
		      "each signal arrived once: %d %d", got_usr1 - before1, got_usr2 - before2);
		c.in[0] = 65;
		c.in[1] = 1000;
		if (run_ok(obj, "signals", &c, e, chk))
			CHECK(c.out[0] == -EINVAL && c.out[1] == -EINVAL, "bad signals: %lld %lld",
			      (long long)c.out[0], (long long)c.out[1]);
	}
	sigaction(SIGUSR1, &o1, NULL);
	sigaction(SIGUSR2, &o2, NULL);
	bpfrt_obj_close(obj);
}

/* ---- Checked runs: every pointer argument is checked ---------------------------------------- */

/* Each program passes 4096 (memory no run may touch) where a helper wants memory. */
static const struct {
	const char *text, *msg;
} bad_pointers[] = {
	{ "mov %r1, 4096\nmov %r2, 16\ncall 16\nexit\n", "bpf_get_current_comm: argument 1" },
	{ "mov %r1, 4096\nmov %r2, 8\nmov %r3, 0\ncall 4\nexit\n", "bpf_probe_read: argument 1" },
	{ "mov %r1, 4096\nmov %r2, 8\nmov %r3, 0\ncall 115\nexit\n",
	  "bpf_probe_read_kernel_str: argument 1" },
	{ "mov %r1, 0\nmov %r2, 4096\nmov %r3, 8\ncall 36\nexit\n", "bpf_probe_write_user: argument 2" },
	{ "mov %r1, 4096\nmov %r2, 4\ncall 6\nexit\n", "bpf_trace_printk: argument 1" },
	{ "mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 4096\nmov %r4, 0\nmov %r5, 0\n"
	  "call 165\nexit\n", "bpf_snprintf: argument 3" },
	{ "mov %r1, 4096\nmov %r2, 8\nstw [%r10-8], 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\n"
	  "mov %r5, 0\ncall 165\nexit\n", "bpf_snprintf: argument 1" },
	{ "stw [%r10-8], 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 4\nmov %r3, %r10\nadd %r3, -8\n"
	  "mov %r4, 16\ncall 177\nexit\n", "bpf_trace_vprintk: argument 3" },
	{ "mov %r1, 4096\nmov %r2, 4\nmov %r3, 0\nmov %r4, 0\nmov %r5, 0\ncall 28\nexit\n",
	  "bpf_csum_diff: argument 1" },
	{ "mov %r1, %r10\nadd %r1, -8\nmov %r2, 4\nmov %r3, 4096\nmov %r4, 4\nmov %r5, 0\n"
	  "call 28\nexit\n", "bpf_csum_diff: argument 3" },
	{ "stdw [%r10-8], -1\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 4\nmov %r3, %r10\nadd %r3, -8\n"
	  "call 182\nexit\n", "bpf_strncmp: argument 3" },
	{ "mov %r1, 4096\nmov %r2, 4\nmov %r3, %r10\nadd %r3, -8\nstw [%r10-8], 0\ncall 182\nexit\n",
	  "bpf_strncmp: argument 1" },
	{ "mov %r1, 0\nmov %r2, 4096\nmov %r3, 16\nmov %r4, 0\ncall 67\nexit\n",
	  "bpf_get_stack: argument 2" },
	{ "mov %r1, 4096\ncall 93\nexit\n", "bpf_spin_lock: argument 1" },
	{ "mov %r1, 0\nmov %r2, 4096\nmov %r3, 0\ncall 27\nexit\n", "bpf_get_stackid: argument 2" },
	{ "mov %r1, 0\nmov %r2, 4096\nmov %r3, 0\nmov %r4, %r10\nadd %r4, -8\nmov %r5, 8\n"
	  "call 25\nexit\n", "bpf_perf_event_output: argument 2" },
	{ "mov %r1, 4096\nmov %r2, 8\nmov %r3, 0\ncall 131\nexit\n", "bpf_ringbuf_reserve: argument 1" },
	{ "mov %r1, 4096\nmov %r2, 0\ncall 37\nexit\n",
	  "bpf_current_task_under_cgroup: argument 1" },
	{ "mov %r1, 4096\nmov %r2, 0\ncall 22\nexit\n", "bpf_perf_event_read: argument 1" },
};

TEST(helpers_rt_checked_pointers)
{
	for (size_t i = 0; i < sizeof(bad_pointers) / sizeof(bad_pointers[0]); i++) {
		struct bpfrt_insn *insns;
		struct bpfrt_prog *prog = NULL;
		struct bpfrt_error err;
		size_t n;

		if (!CHECK(bpfrt_asm(bad_pointers[i].text, &insns, &n, &err) == 0, "asm %zu: %s", i,
			   err.msg))
			continue;
		if (CHECK(bpfrt_prog_new(insns, n, NULL, &prog, &err) == 0, "new: %s", err.msg) &&
		    CHECK(bpfrt_prog_use_builtin_helpers(prog) == 0, "helpers")) {
			for (int e = 0; e < 2; e++) {
				BPFRT_OPTS(bpfrt_run_opts, o, .checked = true,
					   .engine = e ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP);
				int ret = bpfrt_prog_run(prog, &o, &err);

				CHECK(ret < 0 && strstr(err.msg, bad_pointers[i].msg),
				      "engine %d: want \"%s\": %d %s", e, bad_pointers[i].msg, ret,
				      err.msg);
			}
		}
		bpfrt_prog_free(prog);
		free(insns);
	}
}

/* ---- Corpus programs that use these helpers run cleanly ---------------------------------------- */

/*
 * The kernel samples that needed stack_trace and cgroup_array maps, run
 * with a zeroed ctx in checked runs: each run must end, with a result or
 * with a clean failure (a message), never a crash.
 */
TEST(helpers_rt_corpus_runs)
{
	static const char *const objs[] = { "offwaketime_kern.o", "spintest_kern.o",
					    "trace_event_kern.o",
					    "test_current_task_under_cgroup_kern.o" };
	const char *dir = getenv("BPFRT_CORPUS") ? getenv("BPFRT_CORPUS") : "../shared/corpus";
	unsigned runs = 0, clean = 0;

	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		struct bpfrt_obj *obj = NULL;
		struct bpfrt_error err;
		char path[1024];

		snprintf(path, sizeof(path), "%s/linux/%s", dir, objs[i]);
		if (access(path, R_OK)) {
			printf("  helpers_rt_corpus_runs: skipped: no %s (set BPFRT_CORPUS)\n", path);
			return;
		}
		if (!CHECK(bpfrt_obj_open(path, NULL, &obj, &err) == 0 &&
			   bpfrt_obj_load(obj, &err) == 0, "%s: %s", objs[i], err.msg)) {
			bpfrt_obj_close(obj);
			continue;
		}
		for (size_t k = 0; k < bpfrt_obj_prog_count(obj); k++) {
			struct bpfrt_prog *prog = bpfrt_obj_prog_at(obj, k, NULL);

			CHECK(bpfrt_prog_use_builtin_helpers(prog) == 0, "helpers");
			for (int e = 0; e < 2; e++) {
				uint8_t ctx[512] = { 0 };
				BPFRT_OPTS(bpfrt_run_opts, o, .checked = true, .ctx = ctx,
					   .ctx_len = sizeof(ctx), .budget = 1000000,
					   .engine = e ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP);
				int ret = bpfrt_prog_run(prog, &o, &err);

				runs++;
				clean += ret == 0 || err.msg[0] != '\0';
				if (getenv("BPFRT_TEST_VERBOSE"))
					printf("  %s %zu engine %d: %d %s\n", objs[i], k, e, ret,
					       ret ? err.msg : "");
			}
		}
		bpfrt_obj_close(obj);
	}
	CHECK(runs > 0 && clean == runs, "%u of %u runs ended cleanly", clean, runs);
	printf("  helpers_rt_corpus_runs: %u runs of the samples' programs\n", runs);
}
