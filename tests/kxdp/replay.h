/* replay.h — one XDP replay over a capture, two backends: the kernel (kreplay), bpfrt (breplay).
 *
 * replay.c reads the arguments, the rules file and the capture, and writes the per-packet
 * lines, the per-verdict pcaps and the map dumps; a backend (kernel.c through libbpf and
 * BPF_PROG_TEST_RUN, bpfrt.c through libbpfrt and bpfrt_prog_test_run) loads the object and
 * runs packets. Each tool links replay.o with one backend, so both sides of a comparison go
 * through the same code for everything but the run itself.
 */
#ifndef KXDP_REPLAY_H
#define KXDP_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the command line asked for; the backend reads obj, prog, engine and checked. */
struct rp_args {
	const char *obj, *in, *prog, *rules, *ringbuf, *dumpdir;
	const char *out[5];		/* pcap file per XDP action */
	unsigned int repeat;
	bool jit;			/* breplay: the JIT, else the interpreter */
	bool unchecked;			/* breplay: unchecked mode, else checked */
	bool frames;			/* breplay: bpfrt_xdp_run on one frame, not test runs */
	/* global NAME=VALUE: set before loading (const volatile settings), as an integer. */
	struct { const char *name; uint64_t value; } globals[8];
	int nglobals;
};

struct rp_map {
	const char *name;		/* as the object names it */
	uint32_t key_size, value_size;
	bool ringbuf;			/* a ring buffer: read, never dumped */
	bool rdonly;			/* read-only data (.rodata): not dumped */
};

/* The backend's name for messages ("kernel", "bpfrt"). */
extern const char rp_backend[];

/*
 * Open a->obj, set a->globals, load it and find its XDP program: 0, 77 when the backend
 * cannot run (skip), else 1.
 */
int rp_open(const struct rp_args *a);
void rp_close(void);

int rp_map_count(void);
void rp_map_info(int i, struct rp_map *m);
/* 0 or a negative errno; flags as BPF_ANY / BPF_NOEXIST / BPF_EXIST. */
int rp_map_update(int i, const void *key, const void *value, uint64_t flags);
/* The key after prev (NULL: the first) into next: 0, or -ENOENT at the end. */
int rp_map_next_key(int i, const void *prev, void *next);
int rp_map_lookup(int i, const void *key, void *value);

/* Ring buffer map i: start reading it; then hand each new record to fn. 0 or a negative errno. */
int rp_ringbuf_open(int i);
int rp_ringbuf_consume(void (*fn)(const void *data, size_t size));

/*
 * Run the program once on (or `repeat` times from) the packet in[0..len): the result in
 * out (capacity *out_len, then its length), the action in *retval, the backend's own
 * average time per run in *ns. 0 or a negative errno (the packet was refused).
 */
int rp_run(const void *in, uint32_t len, void *out, uint32_t *out_len, unsigned int repeat,
	   uint32_t *retval, uint64_t *ns);

/* Report a failure on stderr, prefixed with the tool's name; returns 1. */
int rp_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* KXDP_REPLAY_H */
