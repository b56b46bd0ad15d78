/* xdp_replay.c — `bpfrt xdp replay`: every packet of a capture through an XDP program, sorted by verdict. */
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char replay_usage[] =
	"usage: bpfrt xdp replay OBJ IN.pcap [name PROG] [pass FILE] [tx FILE] [drop FILE]\n"
	"                        [redirect FILE] [aborted FILE] [pinmaps DIR] [ringbuf MAP] [verdicts]\n"
	"                        [checked|unchecked] [--interpret|--jit] [--blind] [-j]\n"
	"  --blind: the JIT blinds the program's constants (for untrusted programs)\n";

static const char *const action_names[] = { "aborted", "drop", "pass", "tx", "redirect" };
#define NACTIONS 5

struct replay {
	const char *obj_file, *in_file, *name;
	const char *out_file[NACTIONS];
	const char *ringbuf, *pinmaps;
	bool verdicts, json;
	bool blind;			/* '--blind': the JIT blinds constants */
	bool want_checked;		/* 'checked': run unverified, every access checked */
	struct bpfrt_xdp_run_opts run;

	pcap_t *in;
	pcap_t *dead[NACTIONS];
	pcap_dumper_t *out[NACTIONS];
	struct bpfrt_map *rb;
	uint64_t count[NACTIONS], packets, records, index;
	bool events_open;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Read timestamps at the precision the capture has, so the outputs keep
 * them exactly: microseconds for classic pcap, nanoseconds for its
 * nanosecond variant and for pcapng (whose resolution is per interface).
 */
static int tstamp_precision(FILE *fp)
{
	uint8_t m[4];
	bool micro;

	if (fp == stdin || fread(m, 1, 4, fp) != 4) {
		if (fp != stdin)
			rewind(fp);
		return PCAP_TSTAMP_PRECISION_NANO;
	}
	rewind(fp);
	micro = (m[0] == 0xd4 && m[1] == 0xc3 && m[2] == 0xb2 && m[3] == 0xa1) ||
		(m[0] == 0xa1 && m[1] == 0xb2 && m[2] == 0xc3 && m[3] == 0xd4);
	return micro ? PCAP_TSTAMP_PRECISION_MICRO : PCAP_TSTAMP_PRECISION_NANO;
}

static int parse_args(struct replay *r, int argc, char **argv)
{
	if (argc < 2)
		return -1;
	r->obj_file = argv[0];
	r->in_file = argv[1];
	r->json = cli.json;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		bool found = false;

		if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			r->json = true;
			continue;
		}
		if (!strcmp(a, "--interpret") || !strcmp(a, "--jit")) {
			r->run.engine = a[2] == 'i' ? BPFRT_ENGINE_INTERP : BPFRT_ENGINE_JIT;
			continue;
		}
		if (!strcmp(a, "--blind")) {
			r->blind = true;
			continue;
		}
		if (cli_is_kw(a, "verdicts")) {
			r->verdicts = true;
			continue;
		}
		if (cli_is_kw(a, "checked") || cli_is_kw(a, "unchecked")) {
			r->want_checked = a[0] == 'c';	/* unchecked: the default, verified */
			continue;
		}
		if (i + 1 >= argc) {
			cli_usage_err("xdp replay: '%s' needs a value, or is unknown", a);
			return -1;
		}
		for (int k = 0; k < NACTIONS; k++)
			if (!strcmp(a, action_names[k])) {
				r->out_file[k] = argv[++i];
				found = true;
			}
		if (found)
			continue;
		if (cli_is_kw(a, "name")) {
			r->name = argv[++i];
		} else if (cli_is_kw(a, "pinmaps")) {
			r->pinmaps = argv[++i];
		} else if (cli_is_kw(a, "ringbuf")) {
			r->ringbuf = argv[++i];
		} else {
			cli_usage_err("xdp replay: unexpected '%s'", a);
			return -1;
		}
	}
	return 0;
}

/* Output captures: pcap, with the input's link type, snapshot length and timestamp precision. */
static int open_outputs(struct replay *r)
{
	int prec = pcap_get_tstamp_precision(r->in);

	for (int k = 0; k < NACTIONS; k++) {
		if (!r->out_file[k])
			continue;
		r->dead[k] = pcap_open_dead_with_tstamp_precision(pcap_datalink(r->in),
								   pcap_snapshot(r->in) ? pcap_snapshot(r->in)
								   : 262144, prec);
		if (!r->dead[k])
			return cli_err("out of memory for the %s capture", action_names[k]);
		r->out[k] = pcap_dump_open(r->dead[k], r->out_file[k]);
		if (!r->out[k])
			return cli_err("cannot write '%s': %s", r->out_file[k],
				       pcap_geterr(r->dead[k]));
	}
	return 0;
}

static void close_all(struct replay *r)
{
	for (int k = 0; k < NACTIONS; k++) {
		if (r->out[k])
			pcap_dump_close(r->out[k]);
		if (r->dead[k])
			pcap_close(r->dead[k]);
	}
	if (r->in)
		pcap_close(r->in);
}

static void events_begin(struct replay *r)
{
	if (r->json && !r->events_open) {
		json_key("events");
		json_begin_array();
		r->events_open = true;
	}
}

/* One ring buffer record, as it is produced: hex bytes, or a JSON object. */
static int print_record(void *ctx, void *data, size_t size)
{
	struct replay *r = ctx;
	const uint8_t *b = data;

	r->records++;
	if (r->json) {
		events_begin(r);
		json_begin_object();
		json_key("packet");
		json_u64(r->index);
		json_key("ringbuf");
		json_string(r->ringbuf);
		json_key("data");
		json_hex_bytes(data, size);
		json_end_object();
		return 0;
	}
	printf("ringbuf %s packet %" PRIu64 ":", r->ringbuf, r->index);
	for (size_t i = 0; i < size; i++)
		printf(" %02x", b[i]);
	putchar('\n');
	return 0;
}

static void print_verdict(struct replay *r, int act, uint32_t len_in, uint32_t len_out)
{
	if (r->json) {
		events_begin(r);
		json_begin_object();
		json_key("packet");
		json_u64(r->index);
		json_key("action");
		json_string(action_names[act]);
		json_key("len_in");
		json_u64(len_in);
		json_key("len_out");
		json_u64(len_out);
		json_end_object();
		return;
	}
	printf("%" PRIu64 " %s %u -> %u\n", r->index, action_names[act], len_in, len_out);
}

/* Every packet through the program; 0, or 1 after a message. */
static int replay_all(struct replay *r, struct bpfrt_prog *prog, double *elapsed)
{
	struct bpfrt_xdp_frame *f = NULL;
	struct pcap_pkthdr *hdr;
	const u_char *pkt;
	struct bpfrt_error err;
	double t0;
	int ret = 1, nx;

	if (bpfrt_xdp_frame_alloc(&f, &err))
		return cli_err("%s", err.msg);
	t0 = now_s();
	while ((nx = pcap_next_ex(r->in, &hdr, &pkt)) == 1) {
		struct pcap_pkthdr oh;
		int act;

		if (hdr->caplen > BPFRT_XDP_MAX_DATA) {
			cli_err("%s: packet %" PRIu64 " has %u bytes; an XDP frame holds at most %u",
				r->in_file, r->index, hdr->caplen, BPFRT_XDP_MAX_DATA);
			goto out;
		}
		if (bpfrt_xdp_frame_set(f, pkt, hdr->caplen, &err)) {
			cli_err("%s: packet %" PRIu64 ": %s", r->in_file, r->index, err.msg);
			goto out;
		}
		act = bpfrt_xdp_run(prog, f, &r->run, &err);
		if (act < 0) {
			cli_err("%s: packet %" PRIu64 ": %s", r->obj_file, r->index, err.msg);
			goto out;
		}
		r->count[act]++;
		r->packets++;
		if (r->out[act]) {
			oh = *hdr;
			oh.caplen = f->data_end - f->data;
			oh.len = hdr->len - hdr->caplen + oh.caplen;
			pcap_dump((u_char *)r->out[act], &oh, f->buf + f->data);
		}
		if (r->verdicts)
			print_verdict(r, act, hdr->caplen, f->data_end - f->data);
		if (r->rb && bpfrt_ringbuf_consume(r->rb, print_record, r) < 0) {
			cli_err("cannot read ring buffer '%s'", r->ringbuf);
			goto out;
		}
		r->index++;
	}
	if (nx == -1) {
		cli_err("%s: packet %" PRIu64 ": %s", r->in_file, r->index, pcap_geterr(r->in));
		goto out;
	}
	ret = 0;
out:
	*elapsed = now_s() - t0;
	bpfrt_xdp_frame_free(f);
	return ret;
}

static void print_summary(struct replay *r, double elapsed)
{
	double rate = elapsed > 0 ? (double)r->packets / elapsed : 0;

	if (r->json) {
		if (r->events_open)
			json_end_array();
		json_key("packets");
		json_u64(r->packets);
		for (int k = 0; k < NACTIONS; k++) {
			json_key(action_names[k]);
			json_u64(r->count[k]);
		}
		if (r->ringbuf) {
			json_key("records");
			json_u64(r->records);
		}
		json_key("duration_ns");
		json_u64((uint64_t)(elapsed * 1e9));
		json_key("rate");
		json_u64((uint64_t)rate);
		json_end_object();
		json_finish();
		return;
	}
	printf("%" PRIu64 " packets:", r->packets);
	for (int k = 0; k < NACTIONS; k++)
		printf(" %s %" PRIu64, action_names[k], r->count[k]);
	if (r->ringbuf)
		printf("; %" PRIu64 " ring buffer records", r->records);
	printf("\n%.3f s, %.0f packets/s\n", elapsed, rate);
}

int cmd_xdp_replay(int argc, char **argv)
{
	struct replay r = { 0 };
	char errbuf[PCAP_ERRBUF_SIZE];
	struct bpfrt_obj *obj = NULL;
	struct bpfrt_prog *prog;
	double elapsed = 0;
	int ret = 1;
	FILE *fp;

	r.run = (struct bpfrt_xdp_run_opts){ .sz = sizeof(r.run), .engine = BPFRT_ENGINE_JIT };
	if (parse_args(&r, argc, argv)) {
		fputs(replay_usage, stderr);
		return 2;
	}
	/*
	 * libpcap reads with two freads a packet: a big buffer and no stdio
	 * locking (this thread alone reads it) make that several times cheaper.
	 */
	fp = strcmp(r.in_file, "-") ? fopen(r.in_file, "rb") : stdin;
	if (!fp)
		return cli_err("cannot open '%s': %s", r.in_file, strerror(errno));
	setvbuf(fp, NULL, _IOFBF, 1 << 20);
	__fsetlocking(fp, FSETLOCKING_BYCALLER);
	r.in = pcap_fopen_offline_with_tstamp_precision(fp, tstamp_precision(fp), errbuf);
	if (!r.in) {
		if (fp != stdin)
			fclose(fp);
		return cli_err("%s: %s", r.in_file, errbuf);
	}
	if (pcap_datalink(r.in) != DLT_EN10MB) {
		cli_err("%s: link type %s (%d); XDP programs take Ethernet frames (EN10MB)",
			r.in_file, pcap_datalink_val_to_name(pcap_datalink(r.in)) ?
			pcap_datalink_val_to_name(pcap_datalink(r.in)) : "unknown",
			pcap_datalink(r.in));
		goto out;
	}
	obj = cli_obj_load(r.obj_file, r.pinmaps, r.blind);
	if (!obj || !(prog = cli_obj_pick_prog(obj, r.obj_file, r.name)))
		goto out;
	if (bpfrt_prog_get_type(prog) != BPFRT_PROG_XDP) {
		cli_err("%s: program is of type %s; replay runs XDP programs", r.obj_file,
			bpfrt_prog_type_name(bpfrt_prog_get_type(prog)));
		goto out;
	}
	if (cli_gate(obj, prog, BPFRT_PROG_XDP, 0, r.want_checked, &r.run.checked, r.obj_file))
		goto out;
	if (r.ringbuf) {
		struct bpfrt_map_info mi;

		r.rb = bpfrt_obj_map_by_name(obj, r.ringbuf);
		if (!r.rb) {
			cli_err("%s: no map named '%s'", r.obj_file, r.ringbuf);
			goto out;
		}
		bpfrt_map_get_info(r.rb, &mi);
		if (mi.type != BPFRT_MAP_RINGBUF) {
			cli_err("%s: map '%s' is not a ring buffer", r.obj_file, r.ringbuf);
			goto out;
		}
	}
	if (open_outputs(&r))
		goto out;
	if (r.json)
		json_begin_object();
	ret = replay_all(&r, prog, &elapsed);
	if (ret) {
		if (r.json) {	/* close the document that was begun */
			if (r.events_open)
				json_end_array();
			json_end_object();
			json_finish();
		}
		goto out;
	}
	print_summary(&r, elapsed);
out:
	close_all(&r);
	bpfrt_obj_close(obj);
	return ret;
}
