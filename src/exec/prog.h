/* prog.h — programs and runs as the engines see them (internal). */
#ifndef BPFRT_PROG_H
#define BPFRT_PROG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bpfrt.h"

#define PROG_MAX_HELPER_ID 0xffffu

struct helper_slot {
	bpfrt_helper_fn fn;
	char *name;
};

struct interp_code;
struct jit_code;

struct bpfrt_prog {
	struct bpfrt_insn *insns;
	size_t n;
	unsigned cpu;
	enum bpfrt_prog_type type;	/* bpfrt_prog_opts.type */

	struct helper_slot *helpers;	/* indexed by helper id */
	size_t nhelpers;

	struct bpfrt_map **maps;	/* referenced by lddw src 5 / 6; owned refs */
	size_t nmaps;

	pthread_mutex_t lock;		/* guards preparation */
	atomic_bool sealed;		/* a run has begun: no more helpers */
	struct interp_code *_Atomic interp[2];	/* [checked], made on first use */
	struct jit_code *_Atomic jit[2];	/* [checked], made on first use */
};

/* Frame layout shared by the engines: BPFRT_MAX_FRAMES frames of 512 bytes. */
#define RUN_STACK_SIZE (BPFRT_MAX_FRAMES * BPFRT_STACK_SIZE)

/* One invocation; helpers receive a pointer to it. */
struct bpfrt_run {
	const struct bpfrt_prog *prog;
	struct bpfrt_run_opts *opts;
	uintptr_t stack_lo;		/* the whole stack: [lo, lo + RUN_STACK_SIZE) */
	bool checked;
	int fail;			/* set by bpfrt_run_fail */
	char fail_msg[200];
};

/* Start a run of prog with opts (stack_lo is the engine's to set). */
static inline void run_init(struct bpfrt_run *run, const struct bpfrt_prog *prog,
			    struct bpfrt_run_opts *opts)
{
	run->prog = prog;
	run->opts = opts;
	run->checked = opts->checked;
	run->fail = 0;
	run->fail_msg[0] = '\0';
}

/* Is [addr, addr+size) inside memory the run may touch? (checked mode) */
bool run_mem_ok(const struct bpfrt_run *run, uintptr_t addr, size_t size,
		bool write);

/* The error of a checked access that run_mem_ok refused, said the same way by every engine. */
int run_mem_fault(const struct bpfrt_run *run, size_t idx, uintptr_t addr,
		  unsigned size, bool write, struct bpfrt_error *err);

/* What an unresolved lddw source kind refers to ("map fd", ...). */
const char *prog_pseudo_name(unsigned src);

/*
 * The 64-bit value the lddw at slot i loads: its immediate, a map of the
 * program's table (src 5) or the address of a byte of an array map's value
 * (src 6). Other source kinds must have been resolved by a loader.
 */
int prog_lddw(const struct bpfrt_prog *prog, size_t i, uint64_t *val,
	      struct bpfrt_error *err);

/* ---- Packet loads (LD_ABS / LD_IND), as socket filters use them --------- */

#define SKF_NET_OFF (-0x100000)
#define SKF_LL_OFF  (-0x200000)

/*
 * Read `size` bytes in network order at packet offset off; false if absent.
 * Offsets from SKF_NET_OFF address the network header, pkt_net_off bytes
 * into the packet (0 unless the caller's options have that field); offsets
 * from SKF_LL_OFF the link-layer header, which starts pkt_ll_len bytes
 * before pkt. Like Linux, nothing before that.
 */
static inline bool run_ld_pkt(const struct bpfrt_run *run, int32_t off, unsigned size,
			      uint64_t *val)
{
	const struct bpfrt_run_opts *o = run->opts;
	const uint8_t *p = o->pkt;
	size_t len = o->pkt_len;
	uint64_t v = 0;

	if (!p)
		return false;
	if (off < 0) {
		if (off >= SKF_NET_OFF) {
			off -= SKF_NET_OFF;
			if (o->sz >= offsetof(struct bpfrt_run_opts, pkt_net_off) +
				     sizeof(o->pkt_net_off)) {
				if (o->pkt_net_off > len || (size_t)off > len - o->pkt_net_off)
					return false;
				off += (int32_t)o->pkt_net_off;
			}
		} else if (off >= SKF_LL_OFF) {
			off -= SKF_LL_OFF;
			p -= run->opts->pkt_ll_len;
			len += run->opts->pkt_ll_len;
		} else {
			return false;
		}
	}
	if ((size_t)off > len || len - (size_t)off < size)
		return false;
	for (unsigned i = 0; i < size; i++)
		v = v << 8 | p[off + i];
	*val = v;
	return true;
}

/* The helper registered as id, or NULL. */
static inline bpfrt_helper_fn prog_helper(const struct bpfrt_prog *prog, uint64_t id)
{
	return id < prog->nhelpers ? prog->helpers[id].fn : NULL;
}

/* ---- The interpreter (interp.c) ---------------------------------------- */

/* Decode prog for the interpreter; checked picks the safety mode. */
int interp_prepare(const struct bpfrt_prog *prog, bool checked,
		   struct interp_code **code, struct bpfrt_error *err);
void interp_free(struct interp_code *code);
/* Run prepared code; fills opts->retval / opts->insns, or fails with err. */
int interp_run(const struct interp_code *code, struct bpfrt_run *run,
	       struct bpfrt_error *err);

#endif /* BPFRT_PROG_H */
