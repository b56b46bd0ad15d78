/* prog.c — the program object: creation, helper registry, running on an engine. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isa/isa.h"
#include "jit/jit.h"
#include "maps/map.h"
#include "prog.h"
#include "util/error.h"

/* Keep a reference to each map of the program's table. */
static int take_maps(struct bpfrt_prog *prog, struct bpfrt_map *const *maps,
		     size_t nmaps, struct bpfrt_error *err)
{
	if (!maps)
		return err_set(err, -EINVAL, -1, "nmaps is %zu but maps is NULL", nmaps);
	prog->maps = calloc(nmaps, sizeof(*prog->maps));
	if (!prog->maps)
		return err_set(err, -ENOMEM, -1, "out of memory");
	for (size_t i = 0; i < nmaps; i++) {
		if (!maps[i])
			return err_set(err, -EINVAL, -1, "map %zu of the program's table "
				       "is NULL", i);
		prog->maps[prog->nmaps++] = map_get(maps[i]);
	}
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The functions lddw src 4 names: the only ones helpers may call back. */
static int find_funcs(struct bpfrt_prog *prog)
{
	size_t k = 0;

	for (size_t i = 0; i < prog->n; i++)
		if (isa_decode(&prog->insns[i]) == ISA_LDDW_FUNC)
			k++;
	if (!k)
		return 0;
	prog->funcs = malloc(k * sizeof(*prog->funcs));
	if (!prog->funcs)
		return -ENOMEM;
	for (size_t i = 0; i < prog->n; i++) {
		enum isa_form_id id = isa_decode(&prog->insns[i]);

		if (id == ISA_LDDW_FUNC)
			prog->funcs[prog->nfuncs++] = (uint32_t)isa_branch_target(prog->insns, i);
		if (isa_forms[id].shape == SH_LDDW)
			i++;
	}
	qsort(prog->funcs, prog->nfuncs, sizeof(*prog->funcs), cmp_u32);
	return 0;
}

BPFRT_API int bpfrt_prog_new(const struct bpfrt_insn *insns, size_t n,
			     const struct bpfrt_prog_opts *opts,
			     struct bpfrt_prog **out, struct bpfrt_error *err)
{
	unsigned cpu = 4;
	struct bpfrt_prog *prog;
	int ret;

	err_clear(err);
	*out = NULL;
	if (opts && opts->sz >= offsetof(struct bpfrt_prog_opts, cpu) + sizeof(opts->cpu)
	    && opts->cpu)
		cpu = opts->cpu;
	if (!insns && n)
		return err_set(err, -EINVAL, -1, "no instructions given");
	ret = isa_validate(insns, n, cpu, err);
	if (ret)
		return ret;
	prog = calloc(1, sizeof(*prog));
	if (!prog)
		return err_set(err, -ENOMEM, -1, "out of memory");
	prog->insns = malloc(n * sizeof(*insns));
	if (!prog->insns) {
		free(prog);
		return err_set(err, -ENOMEM, -1, "out of memory");
	}
	memcpy(prog->insns, insns, n * sizeof(*insns));
	prog->n = n;
	prog->cpu = cpu;
	atomic_init(&prog->refcnt, 1);
	if (opts && opts->sz >= offsetof(struct bpfrt_prog_opts, type) + sizeof(opts->type))
		prog->type = opts->type;
	if (opts && opts->sz >= offsetof(struct bpfrt_prog_opts, jit_blind) +
				sizeof(opts->jit_blind))
		prog->jit_blind = opts->jit_blind;
	pthread_mutex_init(&prog->lock, NULL);
	ret = find_funcs(prog);
	if (ret) {
		bpfrt_prog_free(prog);
		return err_set(err, ret, -1, "out of memory");
	}
	if (opts && opts->sz >= offsetof(struct bpfrt_prog_opts, nmaps) + sizeof(opts->nmaps)
	    && opts->nmaps) {
		ret = take_maps(prog, opts->maps, opts->nmaps, err);
		if (ret) {
			bpfrt_prog_free(prog);
			return ret;
		}
	}
	*out = prog;
	return 0;
}

struct bpfrt_prog *prog_get(struct bpfrt_prog *prog)
{
	atomic_fetch_add_explicit(&prog->refcnt, 1, memory_order_relaxed);
	return prog;
}

static void prog_destroy(struct bpfrt_prog *prog)
{
	for (int i = 0; i < 2; i++) {
		interp_free(prog->interp[i]);
		jit_free(prog->jit[i]);
	}
	for (size_t i = 0; i < prog->nhelpers; i++)
		free(prog->helpers[i].name);
	free(prog->helpers);
	for (size_t i = 0; i < prog->nmaps; i++)
		map_put(prog->maps[i]);
	free(prog->maps);
	free(prog->funcs);
	free(prog->insns);
	pthread_mutex_destroy(&prog->lock);
	free(prog);
}

void prog_put(struct bpfrt_prog *prog)
{
	if (prog && atomic_fetch_sub_explicit(&prog->refcnt, 1, memory_order_acq_rel) == 1)
		prog_destroy(prog);
}

BPFRT_API void bpfrt_prog_free(struct bpfrt_prog *prog)
{
	prog_put(prog);
}

BPFRT_API size_t bpfrt_prog_insn_cnt(const struct bpfrt_prog *prog)
{
	return prog->n;
}

BPFRT_API enum bpfrt_prog_type bpfrt_prog_get_type(const struct bpfrt_prog *prog)
{
	return prog->type;
}

BPFRT_API const struct bpfrt_insn *bpfrt_prog_insns(const struct bpfrt_prog *prog)
{
	return prog->insns;
}

BPFRT_API int bpfrt_prog_set_helper(struct bpfrt_prog *prog, uint32_t id,
				    const char *name, bpfrt_helper_fn fn)
{
	char *copy;
	int ret = 0;

	if (id > PROG_MAX_HELPER_ID || !fn)
		return -EINVAL;
	pthread_mutex_lock(&prog->lock);
	if (atomic_load(&prog->sealed)) {
		ret = -EBUSY;
		goto out;
	}
	if (id >= prog->nhelpers) {
		size_t cap = id + 1 > 2 * prog->nhelpers ? id + 1 : 2 * prog->nhelpers;
		struct helper_slot *h = realloc(prog->helpers, cap * sizeof(*h));

		if (!h) {
			ret = -ENOMEM;
			goto out;
		}
		memset(h + prog->nhelpers, 0, (cap - prog->nhelpers) * sizeof(*h));
		prog->helpers = h;
		prog->nhelpers = cap;
	}
	copy = strdup(name ? name : "helper");
	if (!copy) {
		ret = -ENOMEM;
		goto out;
	}
	free(prog->helpers[id].name);
	prog->helpers[id].name = copy;
	prog->helpers[id].fn = fn;
out:
	pthread_mutex_unlock(&prog->lock);
	return ret;
}

/*
 * Prepare the engine's code for this safety mode, once, under the lock
 * (unless another thread just did), and seal the helpers. Callers check the
 * published pointer first, without the lock.
 */
static __attribute__((noinline)) int prepare(struct bpfrt_prog *prog, enum bpfrt_engine engine,
					     bool checked, struct bpfrt_error *err)
{
	int ret = 0;

	pthread_mutex_lock(&prog->lock);
	atomic_store(&prog->sealed, true);
	if (engine == BPFRT_ENGINE_JIT &&
	    !atomic_load_explicit(&prog->jit[checked], memory_order_relaxed)) {
		struct jit_code *code;

		ret = jit_prepare(prog, checked, &code, err);
		if (!ret)
			atomic_store_explicit(&prog->jit[checked], code, memory_order_release);
	} else if (engine == BPFRT_ENGINE_INTERP &&
		   !atomic_load_explicit(&prog->interp[checked], memory_order_relaxed)) {
		struct interp_code *code;

		ret = interp_prepare(prog, checked, &code, err);
		if (!ret)
			atomic_store_explicit(&prog->interp[checked], code,
					      memory_order_release);
	}
	pthread_mutex_unlock(&prog->lock);
	return ret;
}

/* The machine code for this safety mode, translated once (on first use). */
static inline int get_jit(struct bpfrt_prog *prog, bool checked,
			  const struct jit_code **out, struct bpfrt_error *err)
{
	int ret;

	*out = atomic_load_explicit(&prog->jit[checked], memory_order_acquire);
	if (likely(*out))
		return 0;
	ret = prepare(prog, BPFRT_ENGINE_JIT, checked, err);
	*out = atomic_load_explicit(&prog->jit[checked], memory_order_acquire);
	return ret;
}

/* The interpreter's code for this safety mode, decoded once (on first use). */
static int get_interp(struct bpfrt_prog *prog, bool checked,
		      const struct interp_code **out, struct bpfrt_error *err)
{
	int ret;

	*out = atomic_load_explicit(&prog->interp[checked], memory_order_acquire);
	if (likely(*out))
		return 0;
	ret = prepare(prog, BPFRT_ENGINE_INTERP, checked, err);
	*out = atomic_load_explicit(&prog->interp[checked], memory_order_acquire);
	return ret;
}

/* A run on the interpreter, or with an unknown engine: off the JIT's fast path. */
static __attribute__((noinline)) int run_interp(struct bpfrt_prog *prog,
						struct bpfrt_run_opts *opts,
						struct bpfrt_error *err)
{
	const struct interp_code *code;
	struct bpfrt_run run;
	int ret;

	if (opts->engine != BPFRT_ENGINE_INTERP)
		return err_set(err, -EINVAL, -1, "unknown engine %d", opts->engine);
	ret = get_interp(prog, opts->checked, &code, err);
	if (ret)
		return ret;
	run_init(&run, prog, opts);
	ret = interp_run(code, &run, err);
	if (unlikely(run.nheld))
		run_release(&run);
	return ret;
}

/* A JIT run whose code is not yet prepared, or is not a leaf. */
static __attribute__((noinline)) int run_jit(struct bpfrt_prog *prog,
					     struct bpfrt_run_opts *opts,
					     struct bpfrt_error *err)
{
	const struct jit_code *jcode;
	int ret = get_jit(prog, opts->checked, &jcode, err);

	return ret ? ret : jit_run(jcode, prog, opts, err);
}

static __attribute__((noinline, cold)) int run_bad_opts(struct bpfrt_error *err)
{
	return err_set(err, -EINVAL, -1, "bpfrt_run_opts is missing or has an unknown size "
		       "(declare it with BPFRT_OPTS)");
}

/*
 * Kept small, for runs that cost a few nanoseconds: every way out is a
 * tail call, so the function saves no registers and every run's stack, r10
 * included, sits at the same depth, the first run's too. Leaf code (no
 * calls, no stack: jit.h) is jumped to directly; it stores r0 in opts and
 * returns 0 itself. err_clear's work is done inline.
 */
BPFRT_API int bpfrt_prog_run(struct bpfrt_prog *prog, struct bpfrt_run_opts *opts,
			     struct bpfrt_error *err)
{
	const struct jit_code *jcode;

	if (unlikely(!opts || opts->sz < offsetof(struct bpfrt_run_opts, insns) +
					 sizeof(opts->insns)))
		return run_bad_opts(err);
	if (err) {	/* err_clear(err) */
		err->code = 0;
		err->insn = -1;
		err->line = -1;
		err->msg[0] = '\0';
	}
	if (unlikely(opts->engine != BPFRT_ENGINE_JIT))
		return run_interp(prog, opts, err);
	jcode = atomic_load_explicit(&prog->jit[opts->checked], memory_order_acquire);
	if (likely(jcode && jcode->leaf)) {
		opts->insns = 0;
		return jcode->leaf(opts->ctx, opts->ctx_len, opts);
	}
	return run_jit(prog, opts, err);
}

BPFRT_API int bpfrt_prog_jited(struct bpfrt_prog *prog, bool checked,
			       const void **code, size_t *len,
			       const uint32_t **offsets, struct bpfrt_error *err)
{
	const struct jit_code *jcode;
	const uint32_t *offs;
	int ret;

	err_clear(err);
	ret = get_jit(prog, checked, &jcode, err);
	if (ret)
		return ret;
	jit_code_info(jcode, code, len, &offs);
	if (offsets)
		*offsets = offs;
	return 0;
}

/* ---- Tail calls and callbacks ------------------------------------------ */

void run_release(struct bpfrt_run *run)
{
	for (unsigned i = 0; i < run->nheld; i++)
		prog_put(run->held[i]);
	run->nheld = 0;
}

int run_tail_call(struct bpfrt_run *run, struct bpfrt_prog *target)
{
	struct bpfrt_error e;
	int ret;

	if (run->engine == BPFRT_ENGINE_JIT) {
		const struct jit_code *code;

		ret = get_jit(target, run->checked, &code, &e);
		if (!ret)
			run->tail_code = jit_start(code);
	} else {
		const struct interp_code *code;

		ret = get_interp(target, run->checked, &code, &e);
		if (!ret)
			run->tail_code = interp_start(code);
	}
	if (ret) {
		bpfrt_run_fail(run, ret, "bpf_tail_call: the target program cannot run: %s",
			       e.msg);
		return ret;
	}
	/* tail_cnt bounds nheld: RUN_MAX_TAIL_CALLS references at most */
	run->held[run->nheld++] = prog_get(target);
	run->prog = target;
	run->fail = RUN_TAIL_CALL;
	return 0;
}

static bool is_func(const struct bpfrt_prog *prog, uint64_t idx)
{
	uint32_t key = (uint32_t)idx;

	return idx < prog->n && prog->nfuncs &&
	       bsearch(&key, prog->funcs, prog->nfuncs, sizeof(key), cmp_u32) != NULL;
}

int run_call_func(struct bpfrt_run *run, const char *helper, uint64_t fn,
		  const uint64_t args[5], uint64_t *r0)
{
	const struct bpfrt_prog *prog = run->prog;
	uint64_t idx = fn & ~PROG_FUNC_MASK;
	uintptr_t top = run->stack_lo + RUN_STACK_SIZE;
	uint64_t frame;
	unsigned depth;
	struct bpfrt_error e;
	int ret;

	/* in both modes: a callback never lands anywhere but a function's start */
	if ((fn & PROG_FUNC_MASK) != PROG_FUNC_TAG || !is_func(prog, idx)) {
		bpfrt_run_fail(run, -EINVAL, "bpf_%s: the callback (%#llx) is not a "
			       "function the program names (lddw src 4)", helper,
			       (unsigned long long)fn);
		return -EINVAL;
	}
	if (run->frame > top || run->frame < run->stack_lo + BPFRT_STACK_SIZE) {
		bpfrt_run_fail(run, -EFAULT, "bpf_%s: called without a frame to call "
			       "back from", helper);
		return -EFAULT;
	}
	depth = (unsigned)((top - run->frame) / BPFRT_STACK_SIZE) + 1;
	if (depth >= BPFRT_MAX_FRAMES) {
		bpfrt_run_fail(run, -E2BIG, "bpf_%s: the callback would make call nesting "
			       "exceed %u frames", helper, BPFRT_MAX_FRAMES);
		return -E2BIG;
	}
	/*
	 * The callback's own helper calls set run->frame to its frame (the
	 * interpreter sets it for every helper); the next call back must start
	 * from the caller's frame again, or each iteration nests one deeper.
	 */
	frame = run->frame;
	run->cb_nest++;
	if (run->engine == BPFRT_ENGINE_JIT)
		ret = jit_call(atomic_load_explicit(&prog->jit[run->checked],
						    memory_order_acquire),
			       run, idx, args, depth, r0, &e);
	else
		ret = interp_call(atomic_load_explicit(&prog->interp[run->checked],
						       memory_order_acquire),
				  run, idx, args, depth, r0, &e);
	run->cb_nest--;
	run->frame = frame;
	if (ret)
		bpfrt_run_fail(run, ret, "bpf_%s: in the callback, %s", helper, e.msg);
	return ret;
}

/* ---- Shared by the engines --------------------------------------------- */

static const char *region_name(const struct bpfrt_run *run, uintptr_t addr)
{
	if (addr >= run->stack_lo && addr < run->stack_lo + RUN_STACK_SIZE)
		return "the stack";
	if (run->opts->ctx && addr >= (uintptr_t)run->opts->ctx &&
	    addr < (uintptr_t)run->opts->ctx + run->opts->ctx_len)
		return "ctx";
	for (size_t i = 0; i < run->opts->nregions; i++) {
		const struct bpfrt_region *r = &run->opts->regions[i];

		if (addr >= (uintptr_t)r->base && addr < (uintptr_t)r->base + r->len)
			return r->writable ? "a region" : "a read-only region";
	}
	if (run->ro_len && addr >= (uintptr_t)run->ro_base &&
	    addr < (uintptr_t)run->ro_base + run->ro_len)
		return "a read-only region";
	for (size_t i = 0; i < run->prog->nmaps; i++) {
		struct bpfrt_map *m = run->prog->maps[i];
		void *base;
		size_t len;

		if (map_value_region(m, &base, &len) && addr >= (uintptr_t)base &&
		    addr < (uintptr_t)base + len)
			return m->map_flags & MAP_F_RDONLY_PROG ? "a read-only region"
								: "a map's values";
	}
	return NULL;
}

__attribute__((noinline, cold)) int
run_mem_fault(const struct bpfrt_run *run, size_t idx, uintptr_t addr, unsigned size,
	      bool write, struct bpfrt_error *err)
{
	const char *in = region_name(run, addr);

	if (in && write && strcmp(in, "a read-only region") == 0)
		return err_set(err, -EACCES, (int)idx,
			       "insn %zu: write of %u bytes to read-only memory at %#lx",
			       idx, size, (unsigned long)addr);
	if (in)
		return err_set(err, -EFAULT, (int)idx,
			       "insn %zu: %s of %u bytes at %#lx runs past the end of %s",
			       idx, write ? "write" : "read", size,
			       (unsigned long)addr, in);
	return err_set(err, -EFAULT, (int)idx,
		       "insn %zu: %s of %u bytes at %#lx is outside the stack, "
		       "ctx and every region given to the run", idx,
		       write ? "write" : "read", size, (unsigned long)addr);
}

const char *prog_pseudo_name(unsigned src)
{
	static const char *const names[] = {
		[BPF_PSEUDO_MAP_FD] = "map fd",
		[BPF_PSEUDO_MAP_VALUE] = "map value",
		[BPF_PSEUDO_BTF_ID] = "BTF id",
		[BPF_PSEUDO_FUNC] = "function",
		[BPF_PSEUDO_MAP_IDX] = "map index",
		[BPF_PSEUDO_MAP_IDX_VALUE] = "map index value",
	};
	return src < ARRAY_SIZE(names) && names[src] ? names[src] : "unknown";
}

/* ---- Services for helpers ---------------------------------------------- */

static bool within(uintptr_t addr, size_t size, uintptr_t base, size_t len)
{
	return addr >= base && size <= len && addr - base <= len - size;
}

bool run_mem_ok(const struct bpfrt_run *run, uintptr_t addr, size_t size,
		bool write)
{
	const struct bpfrt_run_opts *o = run->opts;

	if (within(addr, size, run->stack_lo, RUN_STACK_SIZE))
		return true;
	if (o->ctx && within(addr, size, (uintptr_t)o->ctx, o->ctx_len))
		return true;
	for (size_t i = 0; i < o->nregions; i++) {
		const struct bpfrt_region *r = &o->regions[i];

		if (within(addr, size, (uintptr_t)r->base, r->len))
			return r->writable || !write;
	}
	if (run->ro_len && within(addr, size, (uintptr_t)run->ro_base, run->ro_len))
		return !write;
	/* The values of the program's maps (read-only ones for reading). */
	for (size_t i = 0; i < run->prog->nmaps; i++) {
		struct bpfrt_map *m = run->prog->maps[i];
		void *base;
		size_t len;

		if (map_value_region(m, &base, &len) &&
		    within(addr, size, (uintptr_t)base, len))
			return !write || !(m->map_flags & MAP_F_RDONLY_PROG);
	}
	return false;
}

int prog_lddw(const struct bpfrt_prog *prog, size_t i, uint64_t *val,
	      struct bpfrt_error *err)
{
	const struct bpfrt_insn *in = &prog->insns[i];
	uint32_t idx = (uint32_t)in[0].imm, off = (uint32_t)in[1].imm, zero = 0;
	struct bpfrt_map *m;
	uint8_t *value;

	switch (in->src_reg) {
	case 0:
		*val = isa_imm64(in);
		return 0;
	case BPF_PSEUDO_FUNC:
		*val = PROG_FUNC_TAG | (uint64_t)isa_branch_target(prog->insns, i);
		return 0;
	case BPF_PSEUDO_MAP_IDX:
	case BPF_PSEUDO_MAP_IDX_VALUE:
		break;
	default:
		return err_set(err, -EINVAL, (int)i, "insn %zu: lddw refers to a %s "
			       "(src %u) that the loader has not resolved", i,
			       prog_pseudo_name(in->src_reg), in->src_reg);
	}
	if (idx >= prog->nmaps)
		return err_set(err, -EINVAL, (int)i, "insn %zu: lddw refers to map %u "
			       "of the program's table, which has %zu", i, idx,
			       prog->nmaps);
	m = prog->maps[idx];
	if (in->src_reg == BPF_PSEUDO_MAP_IDX) {
		*val = (uintptr_t)m;
		return 0;
	}
	if (m->type != BPFRT_MAP_ARRAY)
		return err_set(err, -EINVAL, (int)i, "insn %zu: direct value access "
			       "needs an array map; map %u is type %u", i, idx, m->type);
	if (off >= m->value_size || !(value = map_lookup_elem(m, &zero)))
		return err_set(err, -EINVAL, (int)i, "insn %zu: offset %u is outside "
			       "the %u-byte value of map %u", i, off, m->value_size, idx);
	*val = (uintptr_t)(value + off);
	return 0;
}

BPFRT_API void *bpfrt_run_user(const struct bpfrt_run *run)
{
	return run->opts->user;
}

BPFRT_API bool bpfrt_run_mem_ok(const struct bpfrt_run *run, const void *p,
				size_t len, bool write)
{
	return !run->checked || run_mem_ok(run, (uintptr_t)p, len, write);
}

BPFRT_API void bpfrt_run_fail(struct bpfrt_run *run, int code, const char *fmt, ...)
{
	va_list ap;

	run->fail = code < 0 ? code : -EFAULT;
	va_start(ap, fmt);
	vsnprintf(run->fail_msg, sizeof(run->fail_msg), fmt, ap);
	va_end(ap);
}
