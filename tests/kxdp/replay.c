/* replay.c — kreplay / breplay: an XDP object over a capture; verdicts, pcaps and map dumps out.
 *
 *   kreplay OBJ IN.pcap [prog NAME] [rules FILE] [pass FILE] [tx FILE] [drop FILE]
 *           [aborted FILE] [redirect FILE] [ringbuf MAP] [dumpdir DIR] [repeat N]
 *           [global NAME=VALUE]...
 *   breplay ... the same ... [jit] [unchecked] [frames]
 *
 * kreplay runs in the Linux kernel (BPF_PROG_TEST_RUN), breplay in bpfrt
 * (bpfrt_prog_test_run, or with `frames` bpfrt_xdp_run on one reused frame; the
 * interpreter unless `jit`, checked unless `unchecked`).
 * Both open OBJ, set its globals (`const volatile` settings) as asked, load it, apply the
 * map updates of the rules FILE (lines "MAP key [hex] BYTES value [hex] BYTES
 * [any|exist|noexist]", bpftool's grammar, '#' comments), then run every packet of
 * IN.pcap through the XDP program (the only one, or NAME), maps persisting from packet to
 * packet, and print per packet:
 *
 *   INDEX ACTION LEN_IN LEN_OUT         e.g. "3 XDP_DROP 74 74"; ACTION is "error -E" when
 *                                       the packet was refused
 *   ringbuf HEX                         each record of the ringbuf MAP, after its packet
 *
 * The packets each verdict left go to that verdict's pcap FILE (the input's link type, snap
 * length, timestamp precision and timestamps). Then a summary line, and with dumpdir DIR
 * every map but ring buffers and read-only data is written to DIR/NAME.json in bpftool's
 * `map dump -j` shape: [{"key":["0x0a",...],"value":[...]},...]; global data maps by their
 * section's name without the dot (bss.json, data.json).
 *
 * On stderr the time per packet, measured around each run call; repeat N runs each packet
 * N times (maps see all N runs) and adds the backend's own average per run.
 *
 * Exit status: 0 done, 1 failure, 2 usage, 77 when the backend cannot run here (skip).
 */
#include <errno.h>
/* pcap/bpf.h (classic BPF) clashes with linux/bpf.h, which the backends include. */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "replay.h"

#define MAX_FRAME 4096
#define MAX_BYTES 512
#define NR_ACTIONS 5

enum { RP_ANY = 0, RP_NOEXIST = 1, RP_EXIST = 2 };	/* BPF_ANY, BPF_NOEXIST, BPF_EXIST */

static const char *const action_names[NR_ACTIONS] = {
	"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX", "XDP_REDIRECT",
};

int rp_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%creplay: ", rp_backend[0]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* ---- Arguments -------------------------------------------------------------- */

static int parse_args(int argc, char **argv, struct rp_args *a)
{
	static const char *const out_kw[NR_ACTIONS] = { "aborted", "drop", "pass", "tx", "redirect" };

	memset(a, 0, sizeof(*a));
	a->repeat = 1;
	if (argc < 3)
		return -1;
	a->obj = argv[1];
	a->in = argv[2];
	for (int i = 3; i < argc; i++) {
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool known = false;

		if (!strcmp(kw, "jit")) {
			a->jit = true;
			continue;
		}
		if (!strcmp(kw, "unchecked")) {
			a->unchecked = true;
			continue;
		}
		if (!strcmp(kw, "frames")) {
			a->frames = true;
			continue;
		}
		if (!val)
			return rp_fail("'%s' needs a value", kw), -1;
		i++;
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
		else if (!strcmp(kw, "global")) {
			char *eq = strchr(argv[i], '='), *end;

			if (!eq || eq == val || a->nglobals == (int)(sizeof(a->globals) / sizeof(a->globals[0])))
				return rp_fail("'global %s': expected NAME=VALUE (at most 8)", val), -1;
			a->globals[a->nglobals].value = strtoull(eq + 1, &end, 0);
			if (*end || !eq[1])
				return rp_fail("'global %s': VALUE is not a number", val), -1;
			*eq = 0;	/* the name, in place */
			a->globals[a->nglobals++].name = val;
		} else if (!strcmp(kw, "repeat"))
			a->repeat = (unsigned int)strtoul(val, NULL, 0);
		else
			return rp_fail("unknown keyword '%s'", kw), -1;
	}
	if (!a->repeat)
		return rp_fail("repeat must be at least 1"), -1;
	return 0;
}

static int find_map(const char *name)
{
	struct rp_map m;

	for (int i = 0; i < rp_map_count(); i++) {
		rp_map_info(i, &m);
		if (!strcmp(m.name, name))
			return i;
	}
	return -1;
}

/* ---- Rules: map updates in bpftool's grammar --------------------------------- */

static bool is_flag(const char *t)
{
	return !strcmp(t, "any") || !strcmp(t, "exist") || !strcmp(t, "noexist");
}

/* Parse BYTES (after an optional "hex") from tok[*i] up to stop or a flag word; the count or -1. */
static int parse_bytes(char **tok, int ntok, int *i, unsigned char *buf, const char *stop)
{
	int base = 0, n = 0;

	if (*i < ntok && !strcmp(tok[*i], "hex"))
		base = 16, (*i)++;
	for (; *i < ntok && (!stop || strcmp(tok[*i], stop)) && !is_flag(tok[*i]); (*i)++) {
		char *end;
		unsigned long v = strtoul(tok[*i], &end, base);

		if (*end || v > 255 || n == MAX_BYTES)
			return -1;
		buf[n++] = (unsigned char)v;
	}
	return n;
}

static int apply_rule(char *line, const char *file, int lineno)
{
	unsigned char key[MAX_BYTES], value[MAX_BYTES];
	char *tok[2 * MAX_BYTES + 8];
	int ntok = 0, i, nk, nv, m, err;
	uint64_t flags = RP_ANY;
	struct rp_map info;

	for (char *t = strtok(line, " \t\r\n"); t && ntok < (int)(sizeof(tok) / sizeof(tok[0]));
	     t = strtok(NULL, " \t\r\n"))
		tok[ntok++] = t;
	if (!ntok)
		return 0;
	if (ntok < 5 || strcmp(tok[1], "key"))
		return rp_fail("%s:%d: expected 'MAP key BYTES value BYTES'", file, lineno);
	m = find_map(tok[0]);
	if (m < 0)
		return rp_fail("%s:%d: the object has no map '%s'", file, lineno, tok[0]);
	rp_map_info(m, &info);
	i = 2;
	nk = parse_bytes(tok, ntok, &i, key, "value");
	if (nk < 0 || i >= ntok)
		return rp_fail("%s:%d: bad key bytes", file, lineno);
	i++;
	nv = parse_bytes(tok, ntok, &i, value, NULL);
	if (nv < 0)
		return rp_fail("%s:%d: bad value bytes", file, lineno);
	if (i < ntok)
		flags = !strcmp(tok[i], "exist") ? RP_EXIST : !strcmp(tok[i], "noexist") ? RP_NOEXIST : RP_ANY;
	if ((uint32_t)nk != info.key_size || (uint32_t)nv != info.value_size)
		return rp_fail("%s:%d: map '%s' needs a %u-byte key and a %u-byte value, the line has %d and %d",
			       file, lineno, tok[0], info.key_size, info.value_size, nk, nv);
	err = rp_map_update(m, key, value, flags);
	if (err)
		return rp_fail("%s:%d: updating map '%s': %s", file, lineno, tok[0], strerror(-err));
	return 0;
}

static int apply_rules(const char *file)
{
	char line[4 * MAX_BYTES + 256];
	int lineno = 0, rc = 0;
	FILE *f = fopen(file, "r");

	if (!f)
		return rp_fail("cannot open rules '%s': %s", file, strerror(errno));
	while (!rc && fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#');

		lineno++;
		if (hash)
			*hash = 0;
		rc = apply_rule(line, file, lineno);
	}
	fclose(f);
	return rc;
}

/* ---- Map dumps, in bpftool's JSON shape ------------------------------------------ */

static void json_bytes(FILE *f, const unsigned char *b, uint32_t n)
{
	fputc('[', f);
	for (uint32_t i = 0; i < n; i++)
		fprintf(f, "%s\"0x%02x\"", i ? "," : "", b[i]);
	fputc(']', f);
}

static int dump_map(int m, const char *dir)
{
	struct rp_map info;
	unsigned char *key, *next, *val;
	const char *name;
	char path[4096];
	bool first = true;
	int rc = 0;
	FILE *f;

	rp_map_info(m, &info);
	key = calloc(1, info.key_size);
	next = calloc(1, info.key_size);
	val = calloc(1, info.value_size);
	/* Global data: libbpf says "OBJNAME.bss", bpfrt ".bss"; the file is bss.json. */
	name = strchr(info.name, '.');
	name = name ? name + 1 : info.name;
	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	f = fopen(path, "w");
	if (!f || !key || !next || !val) {
		rc = rp_fail("cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	fputc('[', f);
	for (void *prev = NULL; !rp_map_next_key(m, prev, next); prev = key) {
		memcpy(key, next, info.key_size);
		if (rp_map_lookup(m, key, val))
			continue;
		fprintf(f, "%s{\"key\":", first ? "" : ",");
		json_bytes(f, key, info.key_size);
		fputs(",\"value\":", f);
		json_bytes(f, val, info.value_size);
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

static int dump_maps(const char *dir)
{
	struct rp_map info;

	for (int m = 0; m < rp_map_count(); m++) {
		rp_map_info(m, &info);
		if (!info.ringbuf && !info.rdonly && dump_map(m, dir))
			return 1;
	}
	return 0;
}

/* ---- Replay ---------------------------------------------------------------------- */

static void print_record(const void *data, size_t size)
{
	fputs("ringbuf ", stdout);
	for (size_t i = 0; i < size; i++)
		printf("%02x", ((const unsigned char *)data)[i]);
	fputc('\n', stdout);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

struct stats {
	unsigned long packets, errors, actions[NR_ACTIONS + 1];
	double run_ns, wall_ns;
};

static int replay(const struct rp_args *a, pcap_t *in, pcap_dumper_t **out, struct stats *st)
{
	unsigned char buf[MAX_FRAME];
	struct pcap_pkthdr *hdr;
	const unsigned char *pkt;
	int r;

	while ((r = pcap_next_ex(in, &hdr, &pkt)) == 1) {
		uint32_t out_len = sizeof(buf), retval = 0;
		unsigned long idx = st->packets++;
		uint64_t ns = 0;
		double t0 = now_ns();
		int err = rp_run(pkt, hdr->caplen, buf, &out_len, a->repeat, &retval, &ns);

		st->wall_ns += now_ns() - t0;
		if (err) {
			st->errors++;
			printf("%lu error %d %u 0\n", idx, err, hdr->caplen);
			continue;
		}
		st->run_ns += ns;
		printf("%lu %s %u %u\n", idx, retval < NR_ACTIONS ? action_names[retval] : "XDP_UNKNOWN",
		       hdr->caplen, out_len);
		st->actions[retval < NR_ACTIONS ? retval : NR_ACTIONS]++;
		if (a->ringbuf && rp_ringbuf_consume(print_record) < 0)
			return rp_fail("reading ring buffer '%s' failed", a->ringbuf);
		if (retval < NR_ACTIONS && out[retval]) {
			struct pcap_pkthdr oh = *hdr;

			oh.caplen = out_len;
			oh.len = out_len + (hdr->len - hdr->caplen);
			pcap_dump((unsigned char *)out[retval], &oh, buf);
		}
	}
	if (r == -1)
		return rp_fail("reading '%s': %s", a->in, pcap_geterr(in));
	return 0;
}

static void report_speed(const struct rp_args *a, const struct stats *st)
{
	unsigned long ran = st->packets - st->errors;

	if (!st->packets)
		return;
	fprintf(stderr, "%s: %.0f ns per packet measured around each run (%.2f M packets/s)",
		rp_backend, st->wall_ns / st->packets / a->repeat,
		st->wall_ns ? st->packets * a->repeat / st->wall_ns * 1e3 : 0.0);
	if (a->repeat > 1 && ran && st->run_ns)
		fprintf(stderr, "; %.1f ns per run by the backend's own clock, over %u repeats",
			st->run_ns / ran, a->repeat);
	fputc('\n', stderr);
}

int main(int argc, char **argv)
{
	pcap_dumper_t *out[NR_ACTIONS] = { 0 };
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *in = NULL, *dead = NULL;
	struct stats st = { 0 };
	struct rp_args a;
	int rc;

	if (parse_args(argc, argv, &a)) {
		fprintf(stderr, "usage: %creplay OBJ IN.pcap [prog NAME] [rules FILE] [pass|tx|drop|aborted|"
			"redirect FILE] [ringbuf MAP] [dumpdir DIR] [repeat N] [global NAME=VALUE]...%s\n",
			rp_backend[0], rp_backend[0] == 'b' ? " [jit] [unchecked] [frames]" : "");
		return 2;
	}
	rc = rp_open(&a);
	if (rc)
		return rc;
	rc = 1;
	if (a.rules && apply_rules(a.rules))
		goto out;
	if (a.ringbuf) {
		int m = find_map(a.ringbuf);
		struct rp_map info;

		if (m >= 0)
			rp_map_info(m, &info);
		if (m < 0 || !info.ringbuf) {
			rp_fail("'%s' has no ring buffer map '%s'", a.obj, a.ringbuf);
			goto out;
		}
		if (rp_ringbuf_open(m))
			goto out;
	}
	in = pcap_open_offline_with_tstamp_precision(a.in, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
	if (!in) {
		rp_fail("cannot read '%s': %s", a.in, errbuf);
		goto out;
	}
	dead = pcap_open_dead_with_tstamp_precision(pcap_datalink(in), pcap_snapshot(in),
						    pcap_get_tstamp_precision(in));
	for (size_t k = 0; k < NR_ACTIONS; k++) {
		if (a.out[k] && !(out[k] = pcap_dump_open(dead, a.out[k]))) {
			rp_fail("cannot write '%s': %s", a.out[k], pcap_geterr(dead));
			goto out;
		}
	}
	if (replay(&a, in, out, &st))
		goto out;
	printf("%lu packets: %lu aborted, %lu drop, %lu pass, %lu tx, %lu redirect, %lu errors\n",
	       st.packets, st.actions[0], st.actions[1], st.actions[2], st.actions[3], st.actions[4],
	       st.errors);
	fflush(stdout);
	report_speed(&a, &st);
	if (a.dumpdir && dump_maps(a.dumpdir))
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
	rp_close();
	return rc;
}
