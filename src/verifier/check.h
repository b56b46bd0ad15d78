/* check.h — the abstract interpreter's internal interface: its states, and the functions its files share (internal). */
#ifndef BPFRT_VERIFIER_CHECK_H
#define BPFRT_VERIFIER_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "isa/isa.h"
#include "scalar.h"
#include "verifier.h"

/*
 * The checker works in files by concern:
 *
 *	check.c        the program's shape (functions, liveness, prune points) and the walk
 *	check_state.c  messages, states, registers, pruning (containment, hashing, visits)
 *	check_prec.c   precision: each path's history; what a decision depended on, marked back
 *	check_mem.c    memory: the stack, map values, packets, the context, loads and stores
 *	check_alu.c    ALU (numbers and pointer arithmetic) and conditional jumps (refinement)
 *	check_call.c   helper calls, local calls, callbacks, exits, the stack depth of calls
 */

#define MAX_PROCESSED 1000000u
#define MAX_PENDING 8192u
#define MAX_STATE_MEM (256u << 20)	/* bytes of states, histories and frames */
#define MAX_VAR_OFF (1ll << 29)
#define MAX_PKT_OFF 0xffff
#define MAX_REFS 16
#define NSLOTS (BPFRT_STACK_SIZE / 8)

enum rtype {
	T_NOT_INIT = 0, T_SCALAR, T_CTX, T_STACK, T_MAP_PTR, T_MAP_VALUE,
	T_PKT, T_PKT_END, T_PKT_META, T_MEM, T_FUNC,
	T_MAP_KEY,		/* a bpf_for_each_map_elem callback's key: read-only, key_size bytes */
	T_SOCK,			/* a struct bpf_sock from the context, maybe NULL (range 1: full) */
};

struct reg {
	uint8_t type;		/* enum rtype */
	bool null;		/* may be NULL (nullable pointers) */
	uint8_t frame;		/* T_STACK: the frame it points into */
	uint8_t precise;	/* stored states: a decision depended on this number (check_prec.c) */
	int32_t off;		/* pointers: the fixed part of the offset */
	uint32_t id;		/* shared by copies: nullable pointers, packet pointers, linked scalars */
	uint32_t ref;		/* an acquired reference it carries (ringbuf), or 0 */
	uint32_t range;		/* T_PKT/T_PKT_META: bytes proven present; T_MEM: size */
	int32_t origin;		/* instruction that made it (for messages), -1 */
	const struct vmap *map;	/* T_MAP_PTR, T_MAP_VALUE, T_MAP_KEY */
	struct scalar s;	/* numbers: the value; pointers: the variable part of the offset */
};

enum { S_INVALID = 0, S_MISC, S_ZERO, S_SPILL };

struct slot {
	uint8_t t[8];		/* per byte, from the lowest address */
	uint8_t ssize, sbyte;	/* the spill: 8 bytes at 0, or 4 at 0 or 4 */
	uint8_t read;		/* stored states: a path from here reads it before writing it whole */
	struct reg spill;
};

struct frame {
	struct reg regs[ISA_NREGS];
	int32_t callsite;	/* the call that made this frame, -1 for the program */
	bool cb;		/* a callback (bpf_loop): it returns to its callsite */
	uint8_t cb_refs;	/* references held when the callback was called */
	uint32_t func;		/* the function's first instruction */
	uint32_t nslots;
	struct slot slots[];	/* slots[i] covers bytes -8(i+1) .. -8i-1 */
};

struct ref_rec {
	uint32_t id;
	int32_t insn;
};

/*
 * One instruction of a path's history (check_prec.c): what precision
 * backtracking needs to know about it that the instruction alone does not say.
 */
enum {
	H_STACK = 1,		/* a stack access at a known slot: sframe, slot */
	H_FILL = 2,		/* a load that read a spilled register */
	H_ENTER = 4,		/* call local: a new frame */
	H_RET = 8,		/* exit of a function to its caller */
	H_CBRET = 16,		/* exit of a callback to its helper's call */
	H_CBENTER = 32,		/* bpf_loop / for_each_map_elem calls its callback */
	H_FULL = 64,		/* with H_STACK: a store of all 8 bytes of the slot */
};
#define HLINKED 8

struct hent {
	uint32_t insn;
	uint8_t frame, flags;	/* the frame it ran in (0: the program's); H_* */
	uint8_t sframe, slot;	/* H_STACK */
	uint8_t nlinked;	/* jumps: copies a refinement also changed */
	uint16_t linked[HLINKED];	/* frame << 8 | register, or 16 + stack slot */
	uint16_t done;		/* registers of frame already walked back from just before it */
};

struct hseg;		/* a piece of history (check_prec.c) */

struct vstate {
	struct frame *fr[BPFRT_MAX_FRAMES];
	unsigned nfr;
	struct ref_rec refs[MAX_REFS];
	unsigned nrefs;
	/* the bpf_spin_lock held: its map and the id of the value it was taken through */
	const struct vmap *lock_map;	/* NULL: none held */
	uint32_t lock_id;
	int32_t lock_insn;		/* the bpf_spin_lock call, for messages */
	/* the tree of stored states, for loops and branch counting */
	struct vstate *parent;
	uint32_t branches;
	uint32_t insn;
	struct vstate *next;	/* in its instruction's list */
	uint64_t hash;		/* of what state_sub(exact) compares, ids aside */
	bool hashed;		/* hash is computed (only loops need it) */
	uint64_t types, wild;	/* the top frame's register types, 4 bits each; wild: unset ones */
	uint32_t epoch;		/* callback calls so far on this path */
	uint32_t may_goto_depth;	/* may_goto fall-throughs taken on this path */
	uint32_t hits, misses;	/* how often it pruned, and did not */
	/* precision (check_prec.c): the instructions since the parent state, shared with its copies */
	struct hseg *hist;
	uint32_t nhist;
	uint8_t nlinked;	/* the current instruction's refined copies */
	uint16_t linked[HLINKED];
	bool saturated;		/* stored: everything counts (it and its ancestors), see chk_hist_push */
	uint64_t rdone[BPFRT_MAX_FRAMES];	/* slots whose reads are marked since the parent */
	/* what was walked back from the current instruction (cleared when the position moves) */
	uint16_t pdone[BPFRT_MAX_FRAMES];
	uint64_t psdone[BPFRT_MAX_FRAMES];
};

struct pending {
	struct vstate *st;
	uint32_t insn, from;
};

struct env {
	const struct vinput *in;
	struct bpfrt_error *err;
	const struct bpfrt_insn *insns;
	size_t n;
	uint8_t *prune;		/* per instruction: a prune point */
	uint8_t *fstart;	/* per instruction: a function starts here */
	uint32_t *func_of;	/* per instruction: its function's first instruction */
	uint32_t *depth;	/* per function start: deepest stack byte used */
	uint16_t *live;		/* per instruction: registers read before written from here */
	uint16_t *form;		/* per instruction: its isa_form_id (decoded once) */
	uint32_t (*edges)[2];	/* calls seen: caller's first insn, callee's */
	size_t nedges, edge_cap;
	struct vstate **visited;
	struct pending *stack;
	size_t nstack;
	uint32_t next_id;
	uint64_t processed, states, live_states, peak_states, mem, peak_mem;
	uint64_t jumps, prev_processed, prev_jumps;	/* when the last state was stored */
	uint64_t marks, bt_steps;	/* precision: requests, history entries walked */
	size_t logpos;
	int cur_insn;
	bool cb_return;		/* the state has just come back from a callback */
	struct vstate *fresh;	/* the state chk_visit stored at this instruction, or NULL */
};

/* ---- Small helpers ---------------------------------------------------------------- */

static inline struct frame *cur(struct vstate *st) { return st->fr[st->nfr - 1]; }

static inline void mark_unknown(struct reg *r)
{
	memset(r, 0, sizeof(*r));
	r->type = T_SCALAR;
	r->origin = -1;
	r->s = sc_unknown();
}

static inline void mark_scalar(struct reg *r, struct scalar s)
{
	memset(r, 0, sizeof(*r));
	r->type = T_SCALAR;
	r->origin = -1;
	r->s = s;
}

static inline void mark_ptr(struct reg *r, enum rtype t)
{
	memset(r, 0, sizeof(*r));
	r->type = (uint8_t)t;
	r->origin = -1;
	r->s = sc_const(0);
}

static inline bool is_ptr(const struct reg *r) { return r->type > T_SCALAR; }

static inline unsigned slot_of(int64_t off) { return (unsigned)((-off - 1) / 8); }

static inline unsigned byte_of(int64_t off) { return (unsigned)(((off % 8) + 8) % 8); }

/* Apply fn to every register and spilled register of every frame. */
#define FOR_EACH_REG(st, r, body) do { \
	for (unsigned fi_ = 0; fi_ < (st)->nfr; fi_++) { \
		struct frame *f_ = (st)->fr[fi_]; \
		for (unsigned ri_ = 0; ri_ < ISA_NREGS; ri_++) { \
			struct reg *r = &f_->regs[ri_]; \
			body; \
		} \
		for (unsigned si_ = 0; si_ < f_->nslots; si_++) { \
			if (!f_->slots[si_].ssize) \
				continue; \
			struct reg *r = &f_->slots[si_].spill; \
			body; \
		} \
	} \
} while (0)

struct access {
	unsigned regno;		/* the pointer */
	int64_t off;		/* the instruction's offset */
	unsigned size;
	bool write, sx;
	const struct reg *val;	/* STX: the value stored (else NULL) */
	bool imm;		/* ST: the value is imm */
	int64_t immv;
	struct reg *dst;	/* LDX: where the result goes */
	bool atomic;
	bool helper;		/* a helper's memory argument, not a load or store */
};

/* ---- Shared between the files ------------------------------------------------------ */

void chk_vlog(struct env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *chk_type_name(const struct reg *r);
void chk_where(struct env *e, int insn, char *buf, size_t len);
int chk_fail(struct env *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *chk_rstr(const struct reg *r, unsigned regno, char *buf, size_t len);
void chk_log_state(struct env *e, const struct vstate *st);
size_t chk_frame_bytes(uint32_t nslots);
struct frame *chk_frame_new(uint32_t nslots);
void chk_st_free(struct env *e, struct vstate *st);
struct vstate *chk_st_copy(struct env *e, const struct vstate *src);
int chk_grow(struct env *e, struct vstate *st, unsigned fi, uint32_t nslots);
int chk_read_reg(struct env *e, struct vstate *st, unsigned r);
void chk_link_scalar(struct env *e, struct reg *src);
void chk_sync_linked(struct vstate *st, const struct reg *r);
void chk_path_done(struct env *e, struct vstate *parent);
int chk_visit(struct env *e, struct vstate *st, uint32_t insn);
uint16_t chk_live_mask(const struct env *e, const struct vstate *st, unsigned fi, uint32_t insn);
int chk_push(struct env *e, struct vstate *st, uint32_t insn, uint32_t from);
int chk_helper_mem(struct env *e, struct vstate *st, unsigned regno,
			    const struct scalar *size_in, bool write, bool init, const char *what);
int chk_do_mem(struct env *e, struct vstate *st, const struct bpfrt_insn *in,
		  const struct isa_form *f);
int chk_do_lddw(struct env *e, struct vstate *st, const struct bpfrt_insn *in, size_t i);
/* Is an lddw's map reference (src 5, 6) one the engines can resolve? 0 or the failure. */
int chk_lddw_map(struct env *e, const struct bpfrt_insn *in);
int chk_do_alu(struct env *e, struct vstate *st, const struct bpfrt_insn *in,
		  const struct isa_form *f);
int chk_do_jcond(struct env *e, struct vstate *st, const struct bpfrt_insn *in,
		    const struct isa_form *f, struct vstate **tst, bool *take, bool *fall);
int chk_do_helper(struct env *e, struct vstate *st, const struct bpfrt_insn *in);
int chk_do_callback(struct env *e, struct vstate *st, uint32_t i, uint32_t id, uint32_t *next);
void chk_widen(struct vstate *st, const struct vstate *old);
/* may_goto: st's numbers that differ from old's and that old's paths did not rely on become unknown. */
void chk_widen_imprecise(struct vstate *st, const struct vstate *old);
/* Do the states have the same frames, made by the same calls? */
bool chk_same_callsites(const struct vstate *a, const struct vstate *b);
int chk_do_call(struct env *e, struct vstate *st, size_t i, uint32_t target);
int chk_do_exit(struct env *e, struct vstate *st, uint32_t *next);
int chk_check_stack_depth(struct env *e);

/* ---- Precision (check_prec.c) --------------------------------------------------------- */

int chk_hist_push(struct env *e, struct vstate *st, const struct hent *h);
void chk_hist_free(struct env *e, struct vstate *st);
int chk_hist_copy(struct env *e, struct vstate *dst, const struct vstate *src);
/* dst, the state just stored from src, takes src's history; src's starts again from dst. */
void chk_hist_move(struct vstate *dst, struct vstate *src);
/* dst, a copy of src made at the same instruction, learns what src walked back from there since. */
void chk_prec_share(struct vstate *dst, const struct vstate *src);
/*
 * A decision depends on the number in register regno of the current frame
 * (stack slot `slot` of frame fi): the states st came from must compare it
 * (and what it was computed from) exactly. No-op for pointers.
 */
int chk_precise_reg(struct env *e, struct vstate *st, unsigned regno);
int chk_precise_slot(struct env *e, struct vstate *st, unsigned fi, unsigned slot);
/*
 * Stack slots (a mask per frame) that st's path reads now: the states it
 * came from must compare them, up to where the path wrote them whole.
 */
int chk_read_slots(struct env *e, struct vstate *st, unsigned fi, uint64_t slots);
/*
 * st was found safe because v contains it: what v's paths relied on (precise
 * numbers, slots read), st's do too. all: everything v has (v unfinished).
 */
int chk_relied_from(struct env *e, struct vstate *st, const struct vstate *v, bool all);

#endif /* BPFRT_VERIFIER_CHECK_H */
