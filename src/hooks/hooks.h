/* hooks.h — what a hook run looks like to helpers: the program's type, ctx, packet (internal). */
#ifndef BPFRT_HOOKS_H
#define BPFRT_HOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfrt.h"

/*
 * A hook run wraps one bpfrt_prog_run: its run options, the ctx the
 * program gets in r1, and the packet the ctx describes. Packet memory is
 * always below 4 GiB (hook_lowmem_alloc), so the 32-bit pointer fields of
 * xdp_md and __sk_buff hold real addresses.
 *
 * Helpers find the hook run of the program that called them through a
 * thread-local pointer that hook_exec sets around the run, and trust it
 * only if its run options are the running invocation's (hook_of).
 */

/* Regions a checked run may touch besides its stack: see hook_regions. */
enum { HR_CTX_RW0, HR_CTX_RW5 = HR_CTX_RW0 + 5, HR_CTX, HR_PKT, HR_N };

struct xdp_state;
struct skb_state;

struct hook_run {
	struct bpfrt_run_opts ro;
	enum bpfrt_prog_type type;
	void *ctx;			/* what r1 holds */
	size_t ctx_size;
	bool ctx_inline;		/* ctx is writable throughout and r2 = ctx_size */
	struct bpfrt_region regions[HR_N];
	struct xdp_state *xdp;		/* XDP runs */
	struct skb_state *skb;		/* __sk_buff runs */
};

/* The hook run of the invocation `run`, or NULL if it is not one (a plain bpfrt_prog_run). */
struct hook_run *hook_of(const struct bpfrt_run *run);

/*
 * Run prog once in h (ro.engine, ro.checked, ro.budget already set): with
 * ctx h->ctx, made a read-only region in checked runs except for the
 * writable field ranges already in regions[HR_CTX_RW0..HR_CTX_RW5].
 */
int hook_exec(struct bpfrt_prog *prog, struct hook_run *h, struct bpfrt_error *err);

/* mmap'ed memory below 4 GiB (MAP_32BIT), zeroed; NULL if there is none. */
void *hook_lowmem_alloc(size_t len);
void hook_lowmem_free(void *p, size_t len);

static inline uint32_t hook_u32(const void *p)
{
	return (uint32_t)(uintptr_t)p;
}

/* ---- XDP (xdp.c) -------------------------------------------------------- */

/* The packet moved: refresh xdp_md's pointers and the packet region. */
void xdp_sync(struct hook_run *h);
/* The packet of an XDP hook run, for helpers: hard start, meta, data, end, hard end. */
struct xdp_state {
	struct bpfrt_xdp_frame *f;
	uint8_t *hard_start;		/* f->buf */
	uint8_t *meta, *data, *end;	/* as the program moves them */
	uint32_t meta_ok;		/* data_meta is usable (always, in bpfrt) */
};

/* ---- __sk_buff (skb.c) -------------------------------------------------- */

struct skb_state {
	uint8_t *buf;			/* low memory, cap bytes */
	size_t cap;
	uint8_t *data, *end;		/* skb->data, skb_tail_pointer */
	uint8_t *mac, *net;		/* mac and network headers */
	uint32_t protocol;		/* skb->protocol (network order, as the kernel keeps it) */
	uint16_t vlan_proto, vlan_tci;	/* the offloaded tag; vlan_all == 0: none */
	uint32_t hash;
	bool hash_sw;			/* set by bpf_set_hash: not recomputed */
	bool l2;			/* data starts at the mac header (tc) */
	uint32_t max_len;		/* dev->mtu + hard_header_len */
	uint32_t redirect_ifindex;	/* bpf_redirect */
	uint64_t redirect_flags;
	uint32_t clone_redirects;	/* bpf_clone_redirect calls that succeeded */
	uint32_t clone_ifindex;		/* the last one's target */
};

/* bpf_redirect on an skb (tc's meaning): TC_ACT_REDIRECT, or TC_ACT_SHOT for bad flags. */
uint64_t skb_redirect(struct hook_run *h, uint32_t ifindex, uint64_t flags);

/* The packet changed: refresh __sk_buff's fields, LD_ABS's view and the packet region. */
void skb_sync(struct hook_run *h);

/* ---- Test runs per type (xdp.c, skb.c) ---------------------------------- */

struct test_out;
int xdp_test_run(struct bpfrt_prog *prog, struct bpfrt_test_run_opts *o,
		 struct bpfrt_error *err);
int skb_test_run(struct bpfrt_prog *prog, struct bpfrt_test_run_opts *o,
		 struct bpfrt_error *err);

/* Shared by the test runs (test_run.c), with the kernel's semantics. */
/* bpf_ctx_init: a zeroed ctx of max bytes from ctx_in (NULL if neither ctx_in nor ctx_out). */
int test_ctx_init(const struct bpfrt_test_run_opts *o, size_t max, void **ctx,
		  struct bpfrt_error *err);
/* bpf_test_finish: data_out, data_size_out (-ENOSPC if it did not fit). */
int test_data_finish(struct bpfrt_test_run_opts *o, const void *data, uint32_t size,
		     struct bpfrt_error *err);
/* bpf_ctx_finish: ctx_out, ctx_size_out. */
int test_ctx_finish(struct bpfrt_test_run_opts *o, const void *ctx, uint32_t size,
		    struct bpfrt_error *err);
/* Prepare prog for the engine before a timed run (translating it for the JIT). */
int test_prepare(struct bpfrt_prog *prog, enum bpfrt_engine engine, bool checked,
		 struct bpfrt_error *err);
/* Run h `repeat` times (0 = 1), timing them; o->retval / o->duration_ns. */
int test_repeat(struct bpfrt_prog *prog, struct hook_run *h,
		struct bpfrt_test_run_opts *o, struct bpfrt_error *err);

#endif /* BPFRT_HOOKS_H */
