/* kreplay.c — the kernel side of the examples' comparison: an XDP object over a capture via BPF_PROG_TEST_RUN.
 *
 *   kreplay OBJ IN.pcap [prog NAME] [rules FILE] [pass FILE] [tx FILE] [drop FILE]
 *           [aborted FILE] [redirect FILE] [ringbuf MAP] [dumpdir DIR] [repeat N]
 *
 * Loads OBJ into the running kernel with libbpf, applies the map updates of the rules FILE
 * (lines "MAP key [hex] BYTES value [hex] BYTES [any|exist|noexist]", bpftool's grammar, '#'
 * comments), then runs every packet of IN.pcap through the XDP program (the only one, or
 * NAME) with bpf_prog_test_run_opts, maps persisting from packet to packet, and prints one
 * line per packet:
 *
 *   INDEX ACTION LEN_IN LEN_OUT         e.g. "3 XDP_DROP 74 74"; ACTION is "error -E" when
 *                                       the kernel refused to run the packet
 *   ringbuf HEX                         each record of the ringbuf MAP, after its packet
 *
 * The packets each verdict left are written to that verdict's pcap FILE (the input's link
 * type, snap length, timestamp precision and timestamps). At the end a summary line, and
 * with dumpdir DIR every map but ring buffers and read-only data is written to DIR/NAME.json
 * in bpftool's `map dump -j` shape: [{"key":["0x0a",...],"value":[...]},...]; global data
 * maps by their section's name without the dot (bss.json, data.json).
 *
 * On stderr the time per packet, measured around each bpf() call; repeat N runs each packet
 * N times in the kernel (maps see all N runs) and adds the kernel's own average per run.
 *
 * Exit status: 0 done, 1 failure, 2 usage, 77 when bpf() is unavailable (skip).
 */
#include <errno.h>
#include <linux/bpf.h>
/* pcap/bpf.h (classic BPF) clashes with linux/bpf.h; kreplay needs neither its struct bpf_insn nor bpf_program. */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define MAX_FRAME 4096
#define MAX_BYTES 512

static const char *const action_names[] = {
	"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT",
};
#define NR_ACTIONS (sizeof(action_names) / sizeof(action_names[0]))

struct args {
	const char *obj, *in, *prog, *rules, *ringbuf, *dumpdir;
	const char *out[NR_ACTIONS];	/* pcap file per action */
	unsigned int repeat;
};

static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("kreplay: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN || getenv("KREPLAY_VERBOSE"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* ---- Arguments -------------------------------------------------------------- */

static int parse_args(int argc, char **argv, struct args *a)
{
	static const char *const out_kw[NR_ACTIONS] = { "aborted", "drop", "pass", "tx", "redirect" };

	memset(a, 0, sizeof(*a));
	a->repeat = 1;
	if (argc < 3)
		return -1;
	a->obj = argv[1];
	a->in = argv[2];
	for (int i = 3; i < argc; i += 2) {
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool known = false;

		if (!val)
			return fail("'%s' needs a value", kw), -1;
		for (size_t k = 0; k < NR_ACTIONS; k++)
			if (!strcmp(kw, out_kw[k]))
				a->out[k] = val, known = true;
		if (known)
			continue;
		if (!strcmp(kw, "prog"))
			a->prog = val;
		else if (!strcmp(kw, "rules"))
			a->rules = val;
		else if (!strcmp(kw, "ringbuf"))
			a->ringbuf = val;
		else if (!strcmp(kw, "dumpdir"))
			a->dumpdir = val;
		else if (!strcmp(kw, "repeat"))
			a->repeat = (unsigned int)strtoul(val, NULL, 0);
		else
			return fail("unknown keyword '%s'", kw), -1;
	}
	if (!a->repeat)
		return fail("repeat must be at least 1"), -1;
	return 0;
}

/* ---- Rules: map updates in bpftool's grammar --------------------------------- */

/* Parse BYTES (after an optional "hex") from tok[*i] up to stop or a flag word; the count or -1. */
static int parse_bytes(char **tok, int ntok, int *i, unsigned char *buf, const char *stop)
{
	int base = 0, n = 0;

	if (*i < ntok && !strcmp(tok[*i], "hex"))
		base = 16, (*i)++;
	for (; *i < ntok && (!stop || strcmp(tok[*i], stop)); (*i)++) {
		char *end;
		unsigned long v;

		if (!strcmp(tok[*i], "any") || !strcmp(tok[*i], "exist") || !strcmp(tok[*i], "noexist"))
			break;
		v = strtoul(tok[*i], &end, base);
		if (*end || v > 255 || n == MAX_BYTES)
			return -1;
		buf[n++] = (unsigned char)v;
	}
	return n;
}

static int apply_rule(struct bpf_object *obj, char *line, const char *file, int lineno)
{
	unsigned char key[MAX_BYTES], value[MAX_BYTES];
	char *tok[2 * MAX_BYTES + 8];
	int ntok = 0, i = 1, nk, nv;
	__u64 flags = BPF_ANY;
	struct bpf_map *map;

	for (char *t = strtok(line, " \t\r\n"); t && ntok < (int)(sizeof(tok) / sizeof(tok[0]));
	     t = strtok(NULL, " \t\r\n"))
		tok[ntok++] = t;
	if (!ntok)
		return 0;
	if (ntok < 5 || strcmp(tok[1], "key"))
		return fail("%s:%d: expected 'MAP key BYTES value BYTES'", file, lineno);
	map = bpf_object__find_map_by_name(obj, tok[0]);
	if (!map)
		return fail("%s:%d: the object has no map '%s'", file, lineno, tok[0]);
	i = 2;
	nk = parse_bytes(tok, ntok, &i, key, "value");
	if (nk < 0 || i >= ntok)
		return fail("%s:%d: bad key bytes", file, lineno);
	i++;
	nv = parse_bytes(tok, ntok, &i, value, NULL);
	if (nv < 0)
		return fail("%s:%d: bad value bytes", file, lineno);
	if (i < ntok)
		flags = !strcmp(tok[i], "exist") ? BPF_EXIST : !strcmp(tok[i], "noexist") ? BPF_NOEXIST : BPF_ANY;
	if ((__u32)nk != bpf_map__key_size(map) || (__u32)nv != bpf_map__value_size(map))
		return fail("%s:%d: map '%s' needs a %u-byte key and a %u-byte value, the line has %d and %d",
			    file, lineno, tok[0], bpf_map__key_size(map), bpf_map__value_size(map), nk, nv);
	if (bpf_map_update_elem(bpf_map__fd(map), key, value, flags))
		return fail("%s:%d: updating map '%s': %s", file, lineno, tok[0], strerror(errno));
	return 0;
}

static int apply_rules(struct bpf_object *obj, const char *file)
{
	char line[4 * MAX_BYTES + 256];
	int lineno = 0, rc = 0;
	FILE *f = fopen(file, "r");

	if (!f)
		return fail("cannot open rules '%s': %s", file, strerror(errno));
	while (!rc && fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#');

		lineno++;
		if (hash)
			*hash = 0;
		rc = apply_rule(obj, line, file, lineno);
	}
	fclose(f);
	return rc;
}

/* ---- Map dump, in bpftool's JSON shape ----------------------------------------- */

static void json_bytes(FILE *f, const unsigned char *b, __u32 n)
{
	fputc('[', f);
	for (__u32 i = 0; i < n; i++)
		fprintf(f, "%s\"0x%02x\"", i ? "," : "", b[i]);
	fputc(']', f);
}

static int dump_map(struct bpf_map *map, const char *dir)
{
	__u32 ks = bpf_map__key_size(map), vs = bpf_map__value_size(map);
	unsigned char *key = calloc(1, ks), *next = calloc(1, ks), *val = calloc(1, vs);
	const char *name;
	char path[4096];
	bool first = true;
	int fd = bpf_map__fd(map), rc = 0;
	FILE *f;

	/* Global data: libbpf says "OBJNAME.bss", bpfrt ".bss"; the file is bss.json. */
	name = strchr(bpf_map__name(map), '.');
	name = name ? name + 1 : bpf_map__name(map);
	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	f = fopen(path, "w");
	if (!f || !key || !next || !val) {
		rc = fail("cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	fputc('[', f);
	for (void *prev = NULL; !bpf_map_get_next_key(fd, prev, next); prev = key) {
		memcpy(key, next, ks);
		if (bpf_map_lookup_elem(fd, key, val))
			continue;
		fprintf(f, "%s{\"key\":", first ? "" : ",");
		json_bytes(f, key, ks);
		fputs(",\"value\":", f);
		json_bytes(f, val, vs);
		fputc('}', f);
		first = false;
	}
	fputs("]\n", f);
out:
	if (f)
		fclose(f);
	free(key);
	free(next);
	free(val);
	return rc;
}

static int dump_maps(struct bpf_object *obj, const char *dir)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj) {
		if (bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF ||
		    (bpf_map__map_flags(map) & BPF_F_RDONLY_PROG))
			continue;
		if (dump_map(map, dir))
			return 1;
	}
	return 0;
}

/* ---- Replay ---------------------------------------------------------------------- */

static int print_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	fputs("ringbuf ", stdout);
	for (size_t i = 0; i < size; i++)
		printf("%02x", ((unsigned char *)data)[i]);
	fputc('\n', stdout);
	return 0;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

struct stats {
	unsigned long packets, errors, actions[NR_ACTIONS + 1];
	double prog_ns, wall_ns;
};

static int replay(struct args *a, struct bpf_program *prog, struct ring_buffer *rb, pcap_t *in,
		  pcap_dumper_t **out, struct stats *st)
{
	unsigned char buf[MAX_FRAME];
	struct pcap_pkthdr *hdr;
	const unsigned char *pkt;
	int fd = bpf_program__fd(prog), r;

	while ((r = pcap_next_ex(in, &hdr, &pkt)) == 1) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = hdr->caplen,
			    .data_out = buf, .data_size_out = sizeof(buf), .repeat = a->repeat);
		unsigned long idx = st->packets++;
		double t0 = now_ns();
		int err = bpf_prog_test_run_opts(fd, &opts) ? -errno : 0;

		st->wall_ns += now_ns() - t0;
		if (err) {
			st->errors++;
			printf("%lu error %d %u 0\n", idx, err, hdr->caplen);
			continue;
		}
		st->prog_ns += opts.duration;
		printf("%lu %s %u %u\n", idx, opts.retval < NR_ACTIONS ? action_names[opts.retval] : "XDP_UNKNOWN",
		       hdr->caplen, opts.data_size_out);
		st->actions[opts.retval < NR_ACTIONS ? opts.retval : NR_ACTIONS]++;
		if (rb && ring_buffer__consume(rb) < 0)
			return fail("reading ring buffer '%s' failed", a->ringbuf);
		if (opts.retval < NR_ACTIONS && out[opts.retval]) {
			struct pcap_pkthdr oh = *hdr;

			oh.caplen = opts.data_size_out;
			oh.len = opts.data_size_out + (hdr->len - hdr->caplen);
			pcap_dump((unsigned char *)out[opts.retval], &oh, buf);
		}
	}
	if (r == -1)
		return fail("reading '%s': %s", a->in, pcap_geterr(in));
	return 0;
}

static struct bpf_program *find_prog(struct bpf_object *obj, const char *name)
{
	struct bpf_program *p, *found = NULL;

	if (name)
		return bpf_object__find_program_by_name(obj, name);
	bpf_object__for_each_program(p, obj) {
		if (bpf_program__type(p) != BPF_PROG_TYPE_XDP)
			continue;
		if (found)
			return NULL;
		found = p;
	}
	return found;
}

int main(int argc, char **argv)
{
	pcap_dumper_t *out[NR_ACTIONS] = { 0 };
	char errbuf[PCAP_ERRBUF_SIZE];
	struct ring_buffer *rb = NULL;
	struct bpf_object *obj = NULL;
	struct bpf_program *prog;
	struct stats st = { 0 };
	pcap_t *in = NULL, *dead = NULL;
	struct args a;
	int rc = 1, err;

	if (parse_args(argc, argv, &a)) {
		fprintf(stderr, "usage: kreplay OBJ IN.pcap [prog NAME] [rules FILE] [pass|tx|drop|aborted|"
			"redirect FILE] [ringbuf MAP] [dumpdir DIR] [repeat N]\n");
		return 2;
	}
	libbpf_set_print(libbpf_quiet);
	obj = bpf_object__open_file(a.obj, NULL);
	if (!obj)
		return fail("cannot open '%s': %s", a.obj, strerror(errno));
	err = bpf_object__load(obj);
	if (err) {
		rc = (err == -EPERM || err == -ENOSYS) ? 77 : 1;
		fail("the kernel would not load '%s': %s%s", a.obj, strerror(-err),
		     rc == 77 ? " (bpf() unavailable: skip)" : "");
		goto out;
	}
	prog = find_prog(obj, a.prog);
	if (!prog) {
		fail(a.prog ? "'%s' has no program '%s'" : "'%s' has not exactly one XDP program", a.obj, a.prog);
		goto out;
	}
	if (a.rules && apply_rules(obj, a.rules))
		goto out;
	if (a.ringbuf) {
		struct bpf_map *m = bpf_object__find_map_by_name(obj, a.ringbuf);

		if (!m || bpf_map__type(m) != BPF_MAP_TYPE_RINGBUF) {
			fail("'%s' has no ring buffer map '%s'", a.obj, a.ringbuf);
			goto out;
		}
		rb = ring_buffer__new(bpf_map__fd(m), print_record, NULL, NULL);
		if (!rb) {
			fail("cannot read ring buffer '%s': %s", a.ringbuf, strerror(errno));
			goto out;
		}
	}
	in = pcap_open_offline_with_tstamp_precision(a.in, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
	if (!in) {
		fail("cannot read '%s': %s", a.in, errbuf);
		goto out;
	}
	dead = pcap_open_dead_with_tstamp_precision(pcap_datalink(in), pcap_snapshot(in),
						    pcap_get_tstamp_precision(in));
	for (size_t k = 0; k < NR_ACTIONS; k++) {
		if (a.out[k] && !(out[k] = pcap_dump_open(dead, a.out[k]))) {
			fail("cannot write '%s': %s", a.out[k], pcap_geterr(dead));
			goto out;
		}
	}
	if (replay(&a, prog, rb, in, out, &st))
		goto out;
	printf("%lu packets: %lu aborted, %lu drop, %lu pass, %lu tx, %lu redirect, %lu errors\n",
	       st.packets, st.actions[0], st.actions[1], st.actions[2], st.actions[3], st.actions[4],
	       st.errors);
	if (a.repeat > 1 && st.packets)
		fprintf(stderr, "kernel: %.1f ns per run in the program (test_run's average over %u repeats), "
			"%.0f ns per run measured around the bpf() call\n",
			st.prog_ns / (st.packets - st.errors ? st.packets - st.errors : 1), a.repeat,
			st.wall_ns / st.packets / a.repeat);
	else if (st.packets)
		fprintf(stderr, "kernel: %.0f ns per packet measured around the bpf() call\n",
			st.wall_ns / st.packets);
	if (a.dumpdir && dump_maps(obj, a.dumpdir))
		goto out;
	rc = 0;
out:
	for (size_t k = 0; k < NR_ACTIONS; k++)
		if (out[k])
			pcap_dump_close(out[k]);
	if (dead)
		pcap_close(dead);
	if (in)
		pcap_close(in);
	ring_buffer__free(rb);
	bpf_object__close(obj);
	return rc;
}
