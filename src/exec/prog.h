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
	_Atomic int refcnt;		/* the creator's, prog arrays' slots, runs' tail calls */

	uint32_t *funcs;		/* sorted targets of lddw src 4: callable from helpers */
	size_t nfuncs;

	enum bpfrt_prog_type type;	/* bpfrt_prog_opts.type */
	bool jit_blind;			/* bpfrt_prog_opts.jit_blind */

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

/* The kernel's MAX_TAIL_CALL_CNT: tail calls one run may make. */
#define RUN_MAX_TAIL_CALLS 33

/* run->fail after a successful bpf_tail_call: the engine jumps to run->tail_code. */
#define RUN_TAIL_CALL 1

/* One invocation; helpers receive a pointer to it. */
struct bpfrt_run {
	const struct bpfrt_prog *prog;	/* the program running now (tail calls change it) */
	struct bpfrt_run_opts *opts;
	uintptr_t stack_lo;		/* the whole stack: [lo, lo + RUN_STACK_SIZE) */
	bool checked;
	enum bpfrt_engine engine;
	int fail;			/* set by bpfrt_run_fail; RUN_TAIL_CALL */
	/*
	 * Set by the engine around helper calls: r10 of the calling frame (so
	 * a callback gets the frame below it) and, in checked mode, the
	 * instructions left (so a callback spends the same budget).
	 */
	uint64_t frame;
	uint64_t budget;
	unsigned cb_nest;		/* callbacks running */
	unsigned tail_cnt;		/* tail calls tried (the kernel's tail_call_cnt) */
	unsigned nheld;			/* programs tail-called into, a reference each */
	const void *tail_code;		/* RUN_TAIL_CALL: where the engine goes on */
	const void *ro_base;		/* read-only memory a callback may read (keys) */
	size_t ro_len;
	struct bpfrt_prog *held[RUN_MAX_TAIL_CALLS];
	char fail_msg[200];
};

/* Start a run of prog with opts (stack_lo is the engine's to set). */
static inline void run_init(struct bpfrt_run *run, const struct bpfrt_prog *prog,
			    struct bpfrt_run_opts *opts)
{
	run->prog = prog;
	run->opts = opts;
	run->checked = opts->checked;
	run->engine = opts->engine;
	run->fail = 0;
	run->cb_nest = 0;
	run->tail_cnt = 0;
	run->nheld = 0;
	run->ro_len = 0;
	run->fail_msg[0] = '\0';
}

/* Drop the references a run took on the programs it tail-called into. */
void run_release(struct bpfrt_run *run);

/* ---- Program references, tail calls and callbacks (prog.c) -------------- */

struct bpfrt_prog *prog_get(struct bpfrt_prog *prog);	/* take a reference */
void prog_put(struct bpfrt_prog *prog);			/* drop one */

/*
 * bpf_tail_call's success: make target the running program (its code for
 * this run's engine and mode prepared if need be, a reference held until
 * the run ends) and set run->fail to RUN_TAIL_CALL, which tells the engine
 * to continue at run->tail_code. Fails the run (and returns its errno) if
 * the target cannot be prepared.
 */
int run_tail_call(struct bpfrt_run *run, struct bpfrt_prog *target);

/*
 * The value an lddw with src 4 (BPF_PSEUDO_FUNC) loads for the function at
 * instruction idx: tagged, so that it is not an address and helpers can
 * tell it from one.
 */
#define PROG_FUNC_TAG 0xbf7f000000000000ull
#define PROG_FUNC_MASK 0xffff000000000000ull

/*
 * Call the function that fn (a PROG_FUNC_TAG value) names, of the running
 * program, with r1..r5 = args, as a new call frame below the one that
 * called the helper (it counts against BPFRT_MAX_FRAMES). On success *r0
 * is what it returned. On failure (not a function the program names by an
 * lddw src 4 — checked in both modes —, too deep, or a fault inside it) the
 * run is failed with a message naming `helper`, and a negative errno returned.
 */
int run_call_func(struct bpfrt_run *run, const char *helper, uint64_t fn,
		  const uint64_t args[5], uint64_t *r0);

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

/* Helpers the engines treat specially: the tail call, and those calling back. */
#define HELPER_ID_TAIL_CALL 12
static inline bool prog_helper_calls_back(uint32_t id)
{
	return id == 164 || id == 181;	/* bpf_for_each_map_elem, bpf_loop */
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
/* Where a tail call into this code begins. */
const void *interp_start(const struct interp_code *code);
/*
 * Run the function at slot idx of the running program's code as a callback:
 * r1..r5 = args, its frame at depth `depth`; err says why it failed.
 */
int interp_call(const struct interp_code *code, struct bpfrt_run *run, size_t idx,
		const uint64_t args[5], unsigned depth, uint64_t *r0,
		struct bpfrt_error *err);

#endif /* BPFRT_PROG_H */
