/* inline_hash.c — the JIT's hash-map fast paths: direct calls of map operations, inline lookups (see inline_hash.h). */
#include <string.h>

#include "inline_hash.h"

#include "helpers/helpers.h"
#include "maps/hashfn.h"
#include "maps/htab.h"

/* bpfrt's own helper for id, which a direct call may stand for; NULL if it has none. */
static bpfrt_helper_fn builtin_map_helper(int32_t id)
{
	for (size_t k = 0; k < helper_map_ndefs; k++)
		if ((int64_t)helper_map_defs[k].id == id)
			return helper_map_defs[k].fn;
	return NULL;
}

/* The hash families, whose operations hash.c specialises for the map's key size. */
static bool is_hash_family(uint32_t type)
{
	return type == BPFRT_MAP_HASH || type == BPFRT_MAP_PERCPU_HASH ||
	       type == BPFRT_MAP_LRU_HASH || type == BPFRT_MAP_LRU_PERCPU_HASH;
}

/* ---- Direct calls ---------------------------------------------------------- */

const void *jit_map_call_target(const struct bpfrt_prog *prog, int32_t id,
				const struct bpfrt_map *known)
{
	bool hash = known && is_hash_family(known->type);

	if (id != HELPER_MAP_LOOKUP_ELEM && id != HELPER_MAP_UPDATE_ELEM &&
	    id != HELPER_MAP_DELETE_ELEM)
		return NULL;
	if (prog_helper(prog, (uint64_t)id) != builtin_map_helper(id))
		return NULL;
	switch (id) {
	case HELPER_MAP_LOOKUP_ELEM:
		return hash ? (const void *)known->ops->lookup : (const void *)map_lookup_elem;
	case HELPER_MAP_UPDATE_ELEM:
		return hash ? (const void *)known->ops->update : (const void *)map_update_elem;
	default:
		return hash ? (const void *)known->ops->delete : (const void *)map_delete_elem;
	}
}

/* ---- Inline lookups ------------------------------------------------------- */

/*
 * Jumps inside the emitted sequence are all rel32, so it has the same size in
 * every pass; a forward jump is patched when its target is reached (in the
 * passes that only measure there is nothing to patch).
 */
static size_t jump_fwd(struct emit *e, enum x86_cc cc)
{
	emit_jcc32(e, cc, 0);
	return e->pos;
}

static void bind_here(struct emit *e, size_t fix)
{
	int32_t rel = (int32_t)(e->pos - fix);

	if (e->buf && fix <= e->cap)
		memcpy(e->buf + fix - 4, &rel, 4);
}

static void jump_back(struct emit *e, enum x86_cc cc, size_t target)
{
	emit_jcc32(e, cc, (int32_t)target - (int32_t)(e->pos + emit_jcc_size(cc, false)));
}

static bool inlinable(const struct bpfrt_map *m)
{
	return m->type == BPFRT_MAP_HASH && (m->key_size == 4 || m->key_size == 8) &&
	       m->elem_size <= INT32_MAX && m->max_entries <= INT32_MAX;
}

/*
 * eax = the key's hash as hash.c's key_hash computes it (hashfn.h): for
 * 4-byte keys map_hash4, fold(key ^ seed ^ salt, K1), unless the block is an
 * older build's; else map_hash for 4 and 8 bytes, with the constants
 * folded: h0 = seed ^ len * K0 (^ len for the 1..7-byte tail a 4-byte key
 * is), x = fold(fold(key_word ^ h0, K1), K2), eax = x ^ x >> 32.
 * Clobbers rdx and r11.
 */
static void emit_key_hash(struct emit *e, const struct bpfrt_map *m)
{
	uint64_t h0 = m->seed ^ (uint64_t)m->key_size * HASH_K0;

	if (m->key_size == 4 && htab_hash4_fast(m)) {	/* map_hash4: one multiply */
		emit_load(e, 4, false, X_R11, x86_mem(X_RSI, 0));
		emit_mov_ri(e, X_RAX, m->seed ^ HASH4_SALT);
		emit_alu_rr(e, true, ALU_XOR, X_RAX, X_R11);
		emit_mov_ri(e, X_R11, HASH_K1);
		emit_grp3(e, true, G3_MUL, X_R11);
		emit_alu_rr(e, false, ALU_XOR, X_RAX, X_RDX);
		return;
	}
	if (m->key_size == 4) {		/* map_hash's tail: the word twice, and its length */
		emit_load(e, 4, false, X_R11, x86_mem(X_RSI, 0));
		emit_mov_rr(e, true, X_RAX, X_R11);
		emit_shift_ri(e, true, SHIFT_SHL, X_RAX, 32);
		h0 ^= 4;
	} else {			/* key_word: two 4-byte loads */
		emit_load(e, 4, false, X_RAX, x86_mem(X_RSI, 4));
		emit_shift_ri(e, true, SHIFT_SHL, X_RAX, 32);
		emit_load(e, 4, false, X_R11, x86_mem(X_RSI, 0));
	}
	emit_alu_rr(e, true, ALU_OR, X_RAX, X_R11);
	emit_mov_ri(e, X_R11, h0);
	emit_alu_rr(e, true, ALU_XOR, X_RAX, X_R11);
	emit_mov_ri(e, X_R11, HASH_K1);
	emit_grp3(e, true, G3_MUL, X_R11);
	emit_alu_rr(e, true, ALU_XOR, X_RAX, X_RDX);
	emit_mov_ri(e, X_R11, HASH_K2);
	emit_grp3(e, true, G3_MUL, X_R11);
	emit_alu_rr(e, true, ALU_XOR, X_RAX, X_RDX);
	emit_mov_rr(e, true, X_R11, X_RAX);
	emit_shift_ri(e, true, SHIFT_SHR, X_R11, 32);
	emit_alu_rr(e, false, ALU_XOR, X_RAX, X_R11);
}

/*
 * find_rcu (hash.c) on m, the key at [rsi]: rax = the value or 0. r11 holds
 * the bucket, ecx the steps, rdx and r9 are scratch; rcx and rdx are saved.
 */
static void emit_lookup(struct emit *e, const struct bpfrt_map *m)
{
	int32_t key_off = (int32_t)offsetof(struct htab_elem, key);
	size_t again, test, miss_fix, next_fix, next_fix2 = 0, done_fix;

	emit_push(e, X_RDX);
	emit_push(e, X_RCX);
	emit_key_hash(e, m);
	emit_mov_rr(e, false, X_R11, X_RAX);
	emit_alu_ri(e, false, ALU_AND, X_R11, (int32_t)m->mask);
	again = e->pos;				/* the bucket's first link */
	emit_zero(e, X_RCX);
	emit_mov_ri(e, X_R9, (uintptr_t)m->area + offsetof(struct htab_bucket, head));
	emit_load(e, 4, false, X_RAX, x86_mem_index(X_R9, X_R11, sizeof(struct htab_bucket), 0));
	test = e->pos;				/* a nulls end? */
	emit_test_r8i(e, X_RAX, 1);
	miss_fix = jump_fwd(e, CC_NE);
	if ((m->elem_size & (m->elem_size - 1)) == 0) {	/* the element: link / 2 * size */
		emit_shift_ri(e, true, SHIFT_SHL, X_RAX, (unsigned)__builtin_ctz(m->elem_size) - 1);
	} else {
		emit_shift_ri(e, false, SHIFT_SHR, X_RAX, 1);
		emit_imul_rri(e, true, X_RAX, X_RAX, (int32_t)m->elem_size);
	}
	emit_mov_ri(e, X_R9, (uintptr_t)m->elems);
	emit_alu_rr(e, true, ALU_ADD, X_RAX, X_R9);
	emit_load(e, 4, false, X_RDX, x86_mem(X_RSI, 0));	/* its key, word by word */
	emit_alu_rm(e, false, ALU_CMP, X_RDX, x86_mem(X_RAX, key_off));
	next_fix = jump_fwd(e, CC_NE);
	if (m->key_size == 8) {
		emit_load(e, 4, false, X_RDX, x86_mem(X_RSI, 4));
		emit_alu_rm(e, false, ALU_CMP, X_RDX, x86_mem(X_RAX, key_off + 4));
		next_fix2 = jump_fwd(e, CC_NE);
	}
	emit_alu_ri(e, true, ALU_ADD, X_RAX, key_off + (int32_t)map_align(m->key_size, 8));
	done_fix = jump_fwd(e, CC_ALWAYS);
	bind_here(e, next_fix);			/* the next link, or start over past max_entries steps */
	if (next_fix2)
		bind_here(e, next_fix2);
	emit_load(e, 4, false, X_RAX, x86_mem(X_RAX, (int32_t)offsetof(struct htab_elem, next)));
	emit_alu_ri(e, false, ALU_ADD, X_RCX, 1);
	emit_alu_ri(e, false, ALU_CMP, X_RCX, (int32_t)m->max_entries);
	jump_back(e, CC_BE, test);
	jump_back(e, CC_ALWAYS, again);
	bind_here(e, miss_fix);			/* another bucket's end: start over */
	emit_shift_ri(e, false, SHIFT_SHR, X_RAX, 1);
	emit_alu_rr(e, false, ALU_CMP, X_RAX, X_R11);
	jump_back(e, CC_NE, again);
	emit_zero(e, X_RAX);
	bind_here(e, done_fix);
	emit_pop(e, X_RCX);
	emit_pop(e, X_RDX);
}

enum jit_hash_kind jit_hash_lookup(struct emit *e, const struct bpfrt_prog *prog, int32_t id,
				   const struct bpfrt_map *known, struct jit_hash_site *site)
{
	const struct bpfrt_map *m = known;
	size_t other_fix;

	if (id != HELPER_MAP_LOOKUP_ELEM || prog_helper(prog, (uint64_t)id) != builtin_map_helper(id))
		return JIT_HASH_NONE;
	if (known) {
		if (!inlinable(known))
			return JIT_HASH_NONE;
		emit_lookup(e, known);
		return JIT_HASH_INLINE;
	}
	for (size_t k = 0; k < prog->nmaps; k++) {	/* the program's one such map */
		if (!inlinable(prog->maps[k]))
			continue;
		if (m && m != prog->maps[k])
			return JIT_HASH_NONE;
		m = prog->maps[k];
	}
	if (!m)
		return JIT_HASH_NONE;
	emit_mov_ri(e, X_R11, (uintptr_t)m);
	emit_alu_rr(e, true, ALU_CMP, X_RDI, X_R11);
	other_fix = jump_fwd(e, CC_NE);
	emit_lookup(e, m);
	site->done_fix = jump_fwd(e, CC_ALWAYS);
	bind_here(e, other_fix);
	return JIT_HASH_GUARDED;
}

void jit_hash_join(struct emit *e, const struct jit_hash_site *site)
{
	bind_here(e, site->done_fix);
}
