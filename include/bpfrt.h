/* bpfrt.h — the one public header of bpfrt, a user-space eBPF runtime. */
#ifndef BPFRT_H
#define BPFRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BPFRT_API __attribute__((visibility("default")))

/*
 * Conventions
 *
 * Names are bpfrt_<object>_<verb>. Every call that can fail returns 0 (or a
 * count) on success and a negative errno on failure; when the caller passes a
 * struct bpfrt_error, it also receives a message a person can act on, and the
 * instruction index or source line it concerns. Options structs begin with
 * their own size (`sz`), so they can grow without breaking callers: declare
 * them with BPFRT_OPTS(), which zeroes every field and sets `sz`.
 */
#define BPFRT_OPTS(type, name, ...) \
	struct type name = { .sz = sizeof(struct type), __VA_ARGS__ }

struct bpfrt_error {
	int code;	/* negative errno, as returned */
	int insn;	/* instruction index it concerns, or -1 */
	int line;	/* assembly source line (1-based), or -1 */
	char msg[256];	/* complete sentence, no trailing newline */
};

/* ---- Instructions ------------------------------------------------------ */

/* One eBPF instruction slot, as in RFC 9669 (little-endian host layout). */
struct bpfrt_insn {
	uint8_t code;
	uint8_t dst_reg : 4;
	uint8_t src_reg : 4;
	int16_t off;
	int32_t imm;
};

#define BPFRT_MAX_INSNS   1000000u	/* the kernel's limit for one program */
#define BPFRT_STACK_SIZE  512u		/* bytes of stack per call frame */
#define BPFRT_MAX_FRAMES  8u		/* call frames, main program included */

/*
 * Assemble text in the bpf_conformance syntax ("add32 %r0, 1",
 * "ldxw %r0, [%r1+4]", "lock fetch add [%r10-8], %r1", labels "name:",
 * "call local name", '#' comments). On success *insns is a malloc'ed array
 * of *n slots (lddw takes two) that the caller frees.
 */
BPFRT_API int bpfrt_asm(const char *text, struct bpfrt_insn **insns, size_t *n,
			struct bpfrt_error *err);

/*
 * Disassemble the instruction at slot i into buf in the style of
 * `bpftool prog dump xlated` ("r0 = 2", "if r1 > 0x2 goto pc+3"), without
 * the index and opcode prefix. Returns the number of slots it takes (1 or 2),
 * or a negative errno for an invalid instruction (buf then says why).
 */
BPFRT_API int bpfrt_disasm_insn(const struct bpfrt_insn *insns, size_t n,
				size_t i, char *buf, size_t len);

/* ---- Programs ---------------------------------------------------------- */

struct bpfrt_prog;
struct bpfrt_run;

/*
 * A helper: r1..r5 are the eBPF arguments, r0 the result. `run` identifies
 * the running invocation (see bpfrt_run_*); it is valid only during the call.
 */
typedef uint64_t (*bpfrt_helper_fn)(uint64_t r1, uint64_t r2, uint64_t r3,
				    uint64_t r4, uint64_t r5,
				    struct bpfrt_run *run);

struct bpfrt_map;

enum bpfrt_prog_type {	/* the kernel's BPF_PROG_TYPE_* numbers */
	BPFRT_PROG_UNSPEC = 0,
	BPFRT_PROG_SOCKET_FILTER = 1,
	BPFRT_PROG_KPROBE = 2,		/* kprobe, kretprobe, uprobe, uretprobe */
	BPFRT_PROG_SCHED_CLS = 3,	/* tc, classifier */
	BPFRT_PROG_SCHED_ACT = 4,
	BPFRT_PROG_TRACEPOINT = 5,
	BPFRT_PROG_XDP = 6,
	BPFRT_PROG_PERF_EVENT = 7,
	BPFRT_PROG_CGROUP_SKB = 8,
	BPFRT_PROG_CGROUP_SOCK = 9,
	BPFRT_PROG_LWT_IN = 10,
	BPFRT_PROG_LWT_OUT = 11,
	BPFRT_PROG_LWT_XMIT = 12,
	BPFRT_PROG_SOCK_OPS = 13,
	BPFRT_PROG_SK_SKB = 14,
	BPFRT_PROG_CGROUP_DEVICE = 15,
	BPFRT_PROG_SK_MSG = 16,
	BPFRT_PROG_RAW_TRACEPOINT = 17,
	BPFRT_PROG_CGROUP_SOCK_ADDR = 18,
	BPFRT_PROG_LWT_SEG6LOCAL = 19,
	BPFRT_PROG_LIRC_MODE2 = 20,
	BPFRT_PROG_SK_REUSEPORT = 21,
	BPFRT_PROG_FLOW_DISSECTOR = 22,
	BPFRT_PROG_CGROUP_SYSCTL = 23,
	BPFRT_PROG_RAW_TRACEPOINT_WRITABLE = 24,
	BPFRT_PROG_CGROUP_SOCKOPT = 25,
	BPFRT_PROG_TRACING = 26,
	BPFRT_PROG_STRUCT_OPS = 27,
	BPFRT_PROG_EXT = 28,
	BPFRT_PROG_LSM = 29,
	BPFRT_PROG_SK_LOOKUP = 30,
	BPFRT_PROG_SYSCALL = 31,
	BPFRT_PROG_NETFILTER = 32,
};

struct bpfrt_prog_opts {
	size_t sz;
	unsigned int cpu;	/* newest ISA version accepted: 1..4; 0 = 4 */
	/*
	 * The maps the program uses, as the kernel's fd_array: an lddw with
	 * src 5 (BPF_PSEUDO_MAP_IDX) loads maps[imm], one with src 6
	 * (BPF_PSEUDO_MAP_IDX_VALUE) the address of byte imm2 of its value
	 * (array maps: key 0's). The program takes a reference on each map.
	 */
	struct bpfrt_map *const *maps;
	size_t nmaps;
	/*
	 * What kind of program it is: it decides what bpfrt_prog_test_run
	 * passes as ctx and which hooks may run it. Default BPFRT_PROG_UNSPEC.
	 */
	enum bpfrt_prog_type type;
	/*
	 * Added later: the JIT blinds the program's constants (docs/design.md,
	 * "Constant blinding"), for programs from someone you do not trust:
	 * no immediate of the program (ALU, jump, store, lddw) appears as it
	 * is in executable memory, each being emitted XORed with a fresh
	 * random value and restored at run time. Results do not change; the
	 * code is somewhat slower. The interpreter ignores it.
	 */
	bool jit_blind;
};

/*
 * Create a program from instructions, which are copied. The instructions are
 * validated structurally (known opcodes, reserved fields, registers, jump
 * targets, lddw pairs, a final exit or jump in every function); that is not
 * verification. Programs are reference-counted: the caller gets one
 * reference, which bpfrt_prog_free() drops; prog arrays holding the program,
 * and runs that tail-called into it, hold their own.
 */
BPFRT_API int bpfrt_prog_new(const struct bpfrt_insn *insns, size_t n,
			     const struct bpfrt_prog_opts *opts,
			     struct bpfrt_prog **prog, struct bpfrt_error *err);
BPFRT_API void bpfrt_prog_free(struct bpfrt_prog *prog);
BPFRT_API size_t bpfrt_prog_insn_cnt(const struct bpfrt_prog *prog);
/* The type it was created with (bpfrt_prog_opts.type). */
BPFRT_API enum bpfrt_prog_type bpfrt_prog_get_type(const struct bpfrt_prog *prog);
/* Valid until the program is freed. */
BPFRT_API const struct bpfrt_insn *bpfrt_prog_insns(const struct bpfrt_prog *prog);

/*
 * Make helper `id` callable by the program. Must come before the first run;
 * afterwards it fails with -EBUSY. `name` is kept for messages.
 */
BPFRT_API int bpfrt_prog_set_helper(struct bpfrt_prog *prog, uint32_t id,
				    const char *name, bpfrt_helper_fn fn);

/*
 * Make every helper bpfrt implements callable, under the kernel's ids
 * (bpf_map_lookup_elem is 1, ...). Like bpfrt_prog_set_helper, before the
 * first run. Helpers check their pointer arguments in checked runs.
 */
BPFRT_API int bpfrt_prog_use_builtin_helpers(struct bpfrt_prog *prog);

enum bpfrt_engine {
	BPFRT_ENGINE_INTERP = 0,	/* the threaded interpreter */
	BPFRT_ENGINE_JIT = 1,		/* native x86-64 code (elsewhere -ENOTSUP) */
};

/* Extra memory a checked run may touch, besides the stack and ctx. */
struct bpfrt_region {
	const void *base;
	size_t len;
	bool writable;
};

struct bpfrt_run_opts {
	size_t sz;
	enum bpfrt_engine engine;
	/*
	 * Checked mode bounds-checks every memory access against the stack,
	 * ctx and `regions`, and stops after `budget` instructions. It is for
	 * programs that were not verified. Unchecked mode trusts the program:
	 * use it only for programs the verifier accepted.
	 */
	bool checked;
	void *ctx;			/* r1 */
	size_t ctx_len;			/* r2; ctx is a writable region */
	const struct bpfrt_region *regions;
	size_t nregions;
	const void *pkt;		/* what LD_ABS / LD_IND read: the network */
	size_t pkt_len;			/* header onwards (also SKF_NET_OFF) */
	size_t pkt_ll_len;		/* link-layer bytes just before pkt (SKF_LL_OFF) */
	uint64_t budget;		/* checked: instruction limit; 0 = 2^32 */
	void *user;			/* handed to helpers by bpfrt_run_user() */
	/* Results. */
	uint64_t retval;		/* r0 at exit */
	uint64_t insns;			/* checked: instructions executed */
	/*
	 * Input, added later: where SKF_NET_OFF points, in bytes from pkt (0:
	 * pkt is the network header, as for socket filters; 14 for tc, whose
	 * pkt is the Ethernet header).
	 */
	size_t pkt_net_off;
};

/*
 * Run the program once. The first run of each engine prepares the program
 * (decoding it, resolving helpers); after that, runs may proceed on many
 * threads at once. A run that faults (checked mode, a failing helper, call
 * depth, a helper id not registered) returns a negative errno and says where.
 */
BPFRT_API int bpfrt_prog_run(struct bpfrt_prog *prog, struct bpfrt_run_opts *opts,
			     struct bpfrt_error *err);

/*
 * The machine code the JIT made of the program for one safety mode,
 * translating it first if no run has (so it seals the helpers, like a run).
 * *code and *len describe the whole code, which begins with the entry
 * sequence. If offsets is not NULL, *offsets receives
 * bpfrt_prog_insn_cnt(prog) + 1 native offsets into the code: instruction
 * slot i begins at (*offsets)[i] (an lddw's second slot, and an instruction
 * fused into the one before it, begin where their code ends), and
 * (*offsets)[n] is the end of the program's body, after which only
 * out-of-line paths follow. Slots are in program order, except that a block
 * of slots ending in `exit`, reached by a conditional jump over it, may be
 * placed after the others (before (*offsets)[n]): a slot's code ends at the
 * next larger offset. Everything stays valid until the program is freed.
 */
BPFRT_API int bpfrt_prog_jited(struct bpfrt_prog *prog, bool checked,
			       const void **code, size_t *len,
			       const uint32_t **offsets, struct bpfrt_error *err);

/* ---- Maps -------------------------------------------------------------- */

/*
 * Maps keep the kernel's types, flags, numbers and semantics (docs/maps.md
 * lists the few differences). A map's memory is one position-independent
 * block (offsets, not pointers) in shared memory with process-shared
 * locking, so that other processes can map it and use it live. Maps are
 * reference-counted: programs and maps of maps that use a map hold a
 * reference; bpfrt_map_free() drops the caller's. Every call is thread-safe.
 */
struct bpfrt_map;

enum bpfrt_map_type {	/* the kernel's BPF_MAP_TYPE_* numbers */
	BPFRT_MAP_HASH = 1,
	BPFRT_MAP_ARRAY = 2,
	BPFRT_MAP_PROG_ARRAY = 3,
	BPFRT_MAP_PERF_EVENT_ARRAY = 4,
	BPFRT_MAP_PERCPU_HASH = 5,
	BPFRT_MAP_PERCPU_ARRAY = 6,
	BPFRT_MAP_STACK_TRACE = 7,	/* bpf_get_stackid's stacks (docs/helpers.md) */
	BPFRT_MAP_CGROUP_ARRAY = 8,	/* values: fds of cgroup v2 directories */
	BPFRT_MAP_LRU_HASH = 9,
	BPFRT_MAP_LRU_PERCPU_HASH = 10,
	BPFRT_MAP_LPM_TRIE = 11,
	BPFRT_MAP_ARRAY_OF_MAPS = 12,
	BPFRT_MAP_HASH_OF_MAPS = 13,
	BPFRT_MAP_DEVMAP = 14,		/* value: u32 ifindex [, u32 program (must be 0)] */
	BPFRT_MAP_CPUMAP = 16,		/* value: u32 queue size [, u32 program (must be 0)] */
	BPFRT_MAP_XSKMAP = 17,		/* value: u32 socket id (stands in for an AF_XDP fd) */
	BPFRT_MAP_QUEUE = 22,
	BPFRT_MAP_STACK = 23,
	BPFRT_MAP_DEVMAP_HASH = 25,
	BPFRT_MAP_RINGBUF = 27,
	BPFRT_MAP_BLOOM_FILTER = 30,
};

/*
 * Update flags (BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK). Values hold no
 * bpf_spin_lock (there is no BTF), so BPF_F_LOCK is always -EINVAL, as in the
 * kernel for such maps.
 */
enum { BPFRT_ANY = 0, BPFRT_NOEXIST = 1, BPFRT_EXIST = 2, BPFRT_F_LOCK = 4 };

struct bpfrt_map_opts {
	size_t sz;
	enum bpfrt_map_type type;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;	/* ringbuf: data size in bytes, a power of 2 and of 4096 */
	uint32_t map_flags;	/* BPF_F_NO_PREALLOC, BPF_F_RDONLY, ... (the kernel's values) */
	/*
	 * Bloom filter: number of hash functions (low 4 bits; 0 = 5).
	 * Perf event array: bytes of each slot's ring (a power of 2 and of
	 * 4096; 0 = 64 KiB) — bpfrt's own meaning: the kernel takes 0 here.
	 */
	uint64_t map_extra;
	const char *name;	/* up to 15 characters kept, like the kernel */
	struct bpfrt_map *inner;	/* maps of maps: the template inner map */
	unsigned int ncpus;	/* per-CPU maps: slots; 0 = the machine's CPUs */
	bool jit_blind;		/* added later: bpfrt_prog_opts.jit_blind for every program */
};

struct bpfrt_map_info {
	enum bpfrt_map_type type;
	uint32_t id;		/* unique in this process */
	uint32_t key_size, value_size, max_entries, map_flags;
	uint64_t map_extra;
	unsigned int ncpus;	/* per-CPU value slots (every map has a count) */
	char name[16];
};

/*
 * Create a map. Sizes and flags are checked as the kernel checks them, with
 * its error codes (mostly -EINVAL; -E2BIG for too big; -ENOTSUP for
 * combinations the kernel does not support).
 */
BPFRT_API int bpfrt_map_create(const struct bpfrt_map_opts *opts,
			       struct bpfrt_map **map, struct bpfrt_error *err);
BPFRT_API void bpfrt_map_free(struct bpfrt_map *map);
BPFRT_API void bpfrt_map_get_info(const struct bpfrt_map *map,
				  struct bpfrt_map_info *info);

/*
 * The user-space side, as through the bpf() syscall: values are copied in
 * and out, and a copy never sees half of an update. Per-CPU maps take and
 * return ncpus values, each rounded up to 8 bytes. Maps without keys
 * (queue, stack, bloom filter, ringbuf) take key NULL: update pushes,
 * lookup peeks, lookup_and_delete pops; a bloom filter's lookup reads
 * *value and answers 0 (maybe present) or -ENOENT (absent).
 *
 * Prog arrays and maps of maps are declared like the kernel's (value_size
 * 4) but their user-space values are pointer-sized: update reads a
 * `struct bpfrt_prog *` / `struct bpfrt_map *` from *value (the kernel
 * reads an fd), lookup writes one (borrowed: valid while the slot holds it).
 * A map of maps takes a reference on its inner maps, a prog array on its
 * programs (a program whose own maps include the prog array it is in makes
 * a cycle: delete its slot to let both go).
 * Perf event arrays: update opens slot *key (the u32 value stands in for
 * the kernel's perf event fd), delete closes it.
 *
 * Errors are the kernel's: -ENOENT (no such key, empty), -EEXIST,
 * -E2BIG (full, or index out of range), -ENOSPC (LPM trie full), -EINVAL,
 * -EPERM (BPF_F_RDONLY / BPF_F_WRONLY), -ENOTSUP (not for this map type;
 * where the kernel says ENOTSUPP, 524, which user space has no name for).
 */
BPFRT_API int bpfrt_map_lookup(struct bpfrt_map *map, const void *key, void *value);
BPFRT_API int bpfrt_map_update(struct bpfrt_map *map, const void *key,
			       const void *value, uint64_t flags);
BPFRT_API int bpfrt_map_delete(struct bpfrt_map *map, const void *key);
BPFRT_API int bpfrt_map_lookup_and_delete(struct bpfrt_map *map, const void *key,
					  void *value);
/*
 * key NULL: the first key. -ENOENT after the last. A key not in the map
 * gives the first key (hash maps, LPM tries), as in the kernel. Orders are
 * the kernel's where it defines one: index order, and LPM tries' post-order
 * (more specific prefixes first); hash maps' order is their own.
 */
BPFRT_API int bpfrt_map_get_next_key(struct bpfrt_map *map, const void *key,
				     void *next_key);

/*
 * Freeze the map, as BPF_MAP_FREEZE: from then on user-space writes
 * (update, delete, lookup_and_delete) fail with -EPERM in every process
 * that shares it; programs still write. -EBUSY if already frozen.
 */
BPFRT_API int bpfrt_map_freeze(struct bpfrt_map *map);
BPFRT_API bool bpfrt_map_frozen(const struct bpfrt_map *map);

/*
 * Ring buffers: call fn for each submitted record, in order, until it
 * returns non-zero or none is left (the record it stopped at counts as
 * consumed). Returns the number of records passed to fn, or fn's value if
 * negative, or a negative errno. One consumer at a time: calls from several
 * threads are serialized, and fn must not consume the same map.
 * bpfrt_ringbuf_fd() is a file descriptor (an eventfd) that becomes readable
 * when records are submitted, for epoll; consuming resets it.
 * bpfrt_ringbuf_poll consumes, and if there was nothing, waits timeout_ms
 * (-1: forever) for a wakeup and consumes again. Wakeups reach consumers of
 * this process only; a consumer in another process that mapped the block
 * must poll.
 */
typedef int (*bpfrt_ringbuf_fn)(void *ctx, void *data, size_t size);
BPFRT_API int bpfrt_ringbuf_consume(struct bpfrt_map *map, bpfrt_ringbuf_fn fn,
				    void *ctx);
BPFRT_API int bpfrt_ringbuf_poll(struct bpfrt_map *map, bpfrt_ringbuf_fn fn,
				 void *ctx, int timeout_ms);
BPFRT_API int bpfrt_ringbuf_fd(struct bpfrt_map *map);

/*
 * Perf event arrays: like ring buffers, for bpf_perf_event_output()'s
 * records, slot by slot (the slot is passed as `cpu`). Records that did not
 * fit were dropped; `lost` (may be NULL) learns how many, per slot, before
 * that slot's records. Same return values and rules as the ringbuf calls.
 */
typedef int (*bpfrt_perf_fn)(void *ctx, unsigned int cpu, void *data, size_t size);
typedef void (*bpfrt_perf_lost_fn)(void *ctx, unsigned int cpu, uint64_t lost);
BPFRT_API int bpfrt_perf_consume(struct bpfrt_map *map, bpfrt_perf_fn fn,
				 bpfrt_perf_lost_fn lost, void *ctx);
BPFRT_API int bpfrt_perf_poll(struct bpfrt_map *map, bpfrt_perf_fn fn,
			      bpfrt_perf_lost_fn lost, void *ctx, int timeout_ms);
BPFRT_API int bpfrt_perf_fd(struct bpfrt_map *map);

/* ---- Objects ----------------------------------------------------------- */

/*
 * An object is an eBPF ELF file as clang writes it (clang -O2 -g -target bpf
 * -c), in libbpf's style or the older one of the kernel samples and
 * iproute2. Opening it finds and relocates its programs and map
 * definitions; loading it creates the maps and the programs. docs/loader.md
 * lists what is supported.
 *
 * - Programs: every global function in a code section. Static functions are
 *   subprograms: each program gets a copy of every function it calls or
 *   takes the address of, appended after its own code. Global functions of
 *   .text are programs and subprograms both.
 * - Maps: BTF-defined ones in section .maps (with __array() initial values
 *   for prog arrays and maps of maps), legacy struct bpf_map_def records in
 *   section maps, and one single-entry array per global data section
 *   (.data, .bss, .rodata and their .name variants), named after the section.
 * - Each program refers to its maps through its own table (lddw src 5 and
 *   6, see bpfrt_prog_opts), in the order it first mentions them.
 *
 * An object is not thread-safe. What it returns (names, instructions,
 * programs, maps) stays valid until bpfrt_obj_close(), which frees the
 * programs and drops the object's reference on its maps.
 */
struct bpfrt_obj;


/* "xdp", "sched_cls", ... as bpftool names them; "unknown" if out of range. */
BPFRT_API const char *bpfrt_prog_type_name(enum bpfrt_prog_type type);

struct bpfrt_obj_opts {
	size_t sz;
	const char *name;	/* bpfrt_obj_open_mem: the object's name; default "memory" */
	/*
	 * The type of programs whose section name says none (".text",
	 * "filter", "ingress", ...); the default is BPFRT_PROG_UNSPEC.
	 */
	enum bpfrt_prog_type default_type;
	unsigned int cpu;	/* for bpfrt_prog_new: newest ISA version; 0 = 4 */
	unsigned int ncpus;	/* per-CPU maps: slots; 0 = the machine's CPUs */
	bool jit_blind;		/* added later: bpfrt_prog_opts.jit_blind for every program */
};

/*
 * Open an object: parse its ELF (libelf) and BTF, find its programs and
 * maps, and relocate every program. A malformed object fails with a message
 * naming the section, symbol or relocation and what is wrong with it. A
 * program that needs what bpfrt does not support (CO-RE relocations,
 * extern variables, kfuncs) does not stop the open: loading that program
 * fails, and the others load if it is left out (bpfrt_obj_prog_set_autoload).
 * bpfrt_obj_open_mem copies the buffer.
 */
BPFRT_API int bpfrt_obj_open(const char *path, const struct bpfrt_obj_opts *opts,
			     struct bpfrt_obj **obj, struct bpfrt_error *err);
BPFRT_API int bpfrt_obj_open_mem(const void *buf, size_t len,
				 const struct bpfrt_obj_opts *opts,
				 struct bpfrt_obj **obj, struct bpfrt_error *err);

/*
 * Create every map (global data with its initial contents, maps of maps
 * with their inner maps), then every program whose autoload is on, then
 * fill prog arrays. All or nothing: on failure nothing stays created, the
 * message names the map or program (and, for a program, the instruction's
 * source line when the object has line info), and the object may be
 * changed and loaded again. -EBUSY if already loaded.
 */
BPFRT_API int bpfrt_obj_load(struct bpfrt_obj *obj, struct bpfrt_error *err);
BPFRT_API void bpfrt_obj_close(struct bpfrt_obj *obj);

/* The license section's string ("" without one); the version section's value (0 without). */
BPFRT_API const char *bpfrt_obj_license(const struct bpfrt_obj *obj);
BPFRT_API uint32_t bpfrt_obj_kversion(const struct bpfrt_obj *obj);

struct bpfrt_obj_prog_info {
	const char *name;		/* its function */
	const char *section;
	enum bpfrt_prog_type type;
	/* Relocated: what bpfrt_obj_load passes to bpfrt_prog_new. */
	const struct bpfrt_insn *insns;
	size_t insn_cnt;
	size_t nmaps;			/* entries of its map table */
	unsigned int core_relos;	/* CO-RE relocations it needs */
	const char *unsupported;	/* why it cannot load, or NULL */
	bool autoload;
	struct bpfrt_prog *prog;	/* once loaded; NULL before */
};

/* Programs are numbered 0..count-1 in section order, then by offset. */
BPFRT_API size_t bpfrt_obj_prog_count(const struct bpfrt_obj *obj);
/*
 * Program i, loaded (NULL before bpfrt_obj_load, or when it was not
 * loaded); info, if not NULL, is filled in any case. NULL for i out of range.
 */
BPFRT_API struct bpfrt_prog *bpfrt_obj_prog_at(const struct bpfrt_obj *obj, size_t i,
					       struct bpfrt_obj_prog_info *info);
/* The index of the program named name, or -ENOENT. */
BPFRT_API int bpfrt_obj_prog_find(const struct bpfrt_obj *obj, const char *name);
/* The loaded program named name, or NULL. */
BPFRT_API struct bpfrt_prog *bpfrt_obj_prog_by_name(const struct bpfrt_obj *obj,
						    const char *name);
/* Before loading: change program i's type, or whether bpfrt_obj_load creates it. */
BPFRT_API int bpfrt_obj_prog_set_type(struct bpfrt_obj *obj, size_t i,
				      enum bpfrt_prog_type type);
BPFRT_API int bpfrt_obj_prog_set_autoload(struct bpfrt_obj *obj, size_t i,
					  bool autoload);

/* Where an instruction came from, from the object's BTF line info. */
struct bpfrt_obj_line {
	const char *file;	/* as the compiler saw it */
	const char *src;	/* the source line's text ("" if not recorded) */
	uint32_t line, col;	/* 1-based; col 0 if unknown */
};

/*
 * The source line of instruction insn of program i: the nearest line info
 * at or before it in the same function. -ENOENT if there is none (no
 * .BTF.ext, or none for that function), -EINVAL for i or insn out of range.
 */
BPFRT_API int bpfrt_obj_prog_line(const struct bpfrt_obj *obj, size_t i, size_t insn,
				  struct bpfrt_obj_line *line);

struct bpfrt_obj_map_info {
	const char *name;	/* the variable, or the section for global data */
	const char *section;	/* ".maps", "maps", ".data", ".rodata.str1.1", ... */
	enum bpfrt_map_type type;
	uint32_t key_size, value_size, max_entries, map_flags;
	uint32_t pinning;	/* as declared (LIBBPF_PIN_BY_NAME = 1); not acted on */
	size_t ninit;		/* slots it starts with (prog arrays, maps of maps) */
	struct bpfrt_map *map;	/* once loaded; NULL before */
};

BPFRT_API size_t bpfrt_obj_map_count(const struct bpfrt_obj *obj);
/* Map i, created (NULL before loading); info, if not NULL, is filled in any case. */
BPFRT_API struct bpfrt_map *bpfrt_obj_map_at(const struct bpfrt_obj *obj, size_t i,
					     struct bpfrt_obj_map_info *info);
/* The loaded map named name, or NULL. */
BPFRT_API struct bpfrt_map *bpfrt_obj_map_by_name(const struct bpfrt_obj *obj,
						  const char *name);
/* The index of the map named name, or -ENOENT. */
BPFRT_API int bpfrt_obj_map_find(const struct bpfrt_obj *obj, const char *name);

/*
 * Global variables by name (a symbol of .data, .bss, .rodata, ...), such
 * as `const volatile` configuration. size must be the variable's size (its
 * BTF type's, else its symbol's), or -EINVAL says what it is. Before
 * loading, set changes the map's initial value; after loading, it writes
 * the map, except for read-only sections (.rodata*: -EPERM, like a frozen
 * kernel map). get reads the initial value, or the map once loaded.
 * -ENOENT if there is no such variable.
 */
BPFRT_API int bpfrt_obj_set_global(struct bpfrt_obj *obj, const char *name,
				   const void *val, size_t size, struct bpfrt_error *err);
BPFRT_API int bpfrt_obj_get_global(const struct bpfrt_obj *obj, const char *name,
				   void *val, size_t size, struct bpfrt_error *err);

/* ---- Test runs (BPF_PROG_TEST_RUN) -------------------------------------- */

/*
 * Run a program once (or `repeat` times) on an input, as the kernel's
 * BPF_PROG_TEST_RUN command does for the program's type, and with its
 * checks and error codes. docs/hooks.md describes each type's context.
 *
 * - XDP: data_in is the packet, in a frame of 4096 bytes with 256 bytes of
 *   headroom and the kernel's tailroom; ctx_in, if given, is a struct
 *   xdp_md whose data_meta is 0, data_end is at most data_size_in and data
 *   (the metadata's length: a multiple of 4, at most 216) says how much of
 *   data_in is metadata; ingress_ifindex / rx_queue_index are taken, and
 *   egress_ifindex must be 0. Where Linux 6.18 would put bytes in
 *   fragments (data_end short of data_size_in, or data past the frame),
 *   bpfrt returns -EOPNOTSUPP. Without ctx_in the program sees ingress
 *   ifindex 1 (loopback), as in the kernel. data_out receives the frame
 *   from data_meta to data_end as the program left it.
 * - SCHED_CLS, SCHED_ACT (data from the Ethernet header), SOCKET_FILTER,
 *   CGROUP_SKB (data from the network header; data_out still has 14 bytes
 *   in front, zeroed, as the kernel's): data_in is an Ethernet frame,
 *   ctx_in a struct __sk_buff of which only mark, priority,
 *   ingress_ifindex, ifindex, cb, tstamp, wire_len, gso_segs, gso_size
 *   and hwtstamp may be non-zero (else -EINVAL).
 * - SYSCALL: ctx_in is the context, verbatim, and is copied back to
 *   ctx_out; data_in / data_out must be absent and repeat 0.
 * - RAW_TRACEPOINT: ctx_in is the u64 arguments (a multiple of 8, at most
 *   12 of them); no data, repeat 0.
 * - Types the kernel does not test-run and bpfrt does: KPROBE (ctx_in: a
 *   struct pt_regs), TRACEPOINT (ctx_in: the record), PERF_EVENT (ctx_in: a
 *   struct bpf_perf_event_data) — read-only contexts, zero-filled up to
 *   their size; UNSPEC: r1 points to a copy of data_in, r2 is its length,
 *   and data_out receives that copy afterwards.
 * - Any other type: -ENOTSUP.
 *
 * Errors are the kernel's: -EINVAL for a ctx the type does not take, a
 * field or flag that must be zero, data shorter than an Ethernet header
 * or longer than the frame; -E2BIG for a ctx_in longer than the type's
 * context whose excess is not zero; -ENOSPC when data_out (or ctx_out) is
 * smaller than the result: what fits is copied and data_size_out (or
 * ctx_size_out) says the full size. A data_size_out of 0 with data_out
 * set means "large enough", as for the kernel. A run that faults (checked
 * mode) fails with the engine's error.
 */
struct bpfrt_test_run_opts {
	size_t sz;
	enum bpfrt_engine engine;
	bool checked;			/* see bpfrt_run_opts; true for unverified programs */
	const void *data_in;
	uint32_t data_size_in;
	void *data_out;
	uint32_t data_size_out;		/* in: capacity of data_out; out: bytes of the result */
	const void *ctx_in;
	uint32_t ctx_size_in;
	void *ctx_out;
	uint32_t ctx_size_out;		/* in: capacity of ctx_out; out: bytes of the result */
	uint32_t repeat;		/* runs (0 = 1), each on the state the last one left */
	uint32_t flags;			/* the kernel's BPF_F_TEST_* flags; those it rejects, -EINVAL */
	uint32_t cpu;			/* must be 0 */
	uint64_t budget;		/* checked runs: instruction limit per run; 0 = 2^32 */
	/* Results. */
	uint32_t retval;		/* r0 of the last run, truncated to 32 bits as by the kernel */
	uint64_t duration_ns;		/* average time of one run */
};

BPFRT_API int bpfrt_prog_test_run(struct bpfrt_prog *prog,
				  struct bpfrt_test_run_opts *opts,
				  struct bpfrt_error *err);

/* ---- XDP frames --------------------------------------------------------- */

/*
 * For hooks that run one XDP program over many packets: a frame is
 * allocated once and reused for each packet, with no allocation or system
 * call per run. Its buffer lies in the low 4 GiB of the address space, so
 * the 32-bit data / data_end / data_meta fields of struct xdp_md hold the
 * packet's real addresses and programs need no rewriting (docs/hooks.md).
 *
 * The buffer is BPFRT_XDP_FRAME_SIZE bytes; the packet lies at offsets
 * [data, data_end) of it, metadata at [data_meta, data). Programs may move
 * data down to BPFRT_XDP_FRAME_HDR (bpf_xdp_adjust_head) and data_end up to
 * BPFRT_XDP_FRAME_SIZE - BPFRT_XDP_TAILROOM (bpf_xdp_adjust_tail), as in
 * the kernel. Users may read and write the fields between runs (keeping
 * data_meta <= data <= data_end within those bounds); bpfrt_xdp_frame_set
 * is the simple way to put a packet in.
 */
#define BPFRT_XDP_FRAME_SIZE	4096u	/* a page, like the kernel's frames */
#define BPFRT_XDP_HEADROOM	256u	/* XDP_PACKET_HEADROOM */
#define BPFRT_XDP_TAILROOM	320u	/* the kernel's skb_shared_info, aligned */
#define BPFRT_XDP_FRAME_HDR	40u	/* struct xdp_frame, below the lowest data */
#define BPFRT_XDP_MAX_DATA	(BPFRT_XDP_FRAME_SIZE - BPFRT_XDP_HEADROOM - BPFRT_XDP_TAILROOM)

/* The kernel's XDP actions. */
enum bpfrt_xdp_action {
	BPFRT_XDP_ABORTED = 0,
	BPFRT_XDP_DROP = 1,
	BPFRT_XDP_PASS = 2,
	BPFRT_XDP_TX = 3,
	BPFRT_XDP_REDIRECT = 4,
};

/* Where bpf_redirect / bpf_redirect_map sent the packet (after XDP_REDIRECT). */
struct bpfrt_xdp_redirect {
	struct bpfrt_map *map;	/* bpf_redirect_map: the devmap, cpumap or xskmap; NULL for bpf_redirect */
	uint32_t key;		/* bpf_redirect_map: the key */
	uint32_t ifindex;	/* bpf_redirect: the ifindex; devmap: the entry's ifindex */
	uint64_t flags;		/* BPF_F_BROADCAST, BPF_F_EXCLUDE_INGRESS */
};

struct bpfrt_xdp_frame {
	uint8_t *buf;			/* BPFRT_XDP_FRAME_SIZE bytes, below 4 GiB */
	uint32_t data_meta;		/* offsets into buf */
	uint32_t data;
	uint32_t data_end;
	uint32_t ingress_ifindex;	/* what xdp_md says */
	uint32_t rx_queue_index;
	/* Results of the last run. */
	uint64_t retval;		/* r0 as the program returned it */
	struct bpfrt_xdp_redirect redirect;	/* valid after XDP_REDIRECT */
};

/* Allocate a frame (empty: data = data_end = data_meta = BPFRT_XDP_HEADROOM). */
BPFRT_API int bpfrt_xdp_frame_alloc(struct bpfrt_xdp_frame **frame,
				    struct bpfrt_error *err);
BPFRT_API void bpfrt_xdp_frame_free(struct bpfrt_xdp_frame *frame);

/*
 * Copy a packet into the frame at BPFRT_XDP_HEADROOM, with no metadata.
 * -EINVAL if it is shorter than an Ethernet header (14 bytes), -EMSGSIZE if
 * longer than BPFRT_XDP_MAX_DATA.
 */
BPFRT_API int bpfrt_xdp_frame_set(struct bpfrt_xdp_frame *frame, const void *pkt,
				  size_t len, struct bpfrt_error *err);

struct bpfrt_xdp_run_opts {
	size_t sz;
	enum bpfrt_engine engine;
	bool checked;		/* see bpfrt_run_opts */
	uint64_t budget;	/* checked runs: instruction limit; 0 = 2^32 */
	void *user;		/* handed to user-registered helpers by bpfrt_run_user() */
};

/*
 * Run an XDP program on the frame. Returns the XDP action (0..4; a return
 * value above XDP_REDIRECT counts as XDP_ABORTED, as drivers treat it; the
 * raw value is frame->retval) or a negative errno if the run failed. The
 * frame's offsets show what the program did to the packet. opts may be
 * NULL (interpreter, checked). Several threads may run the same program at
 * once, each on its own frame.
 */
BPFRT_API int bpfrt_xdp_run(struct bpfrt_prog *prog, struct bpfrt_xdp_frame *frame,
			    const struct bpfrt_xdp_run_opts *opts,
			    struct bpfrt_error *err);

/* ---- Pinned state ------------------------------------------------------ */

/*
 * Maps (and program records) can be pinned to files, like the kernel's
 * bpffs: a pinned map outlives the process, and any process that opens the
 * file shares the map live (docs/pinning.md). Pinned files are created
 * 0600 and never replace an existing file (-EEXIST, as in bpffs).
 *
 * The state directory holds the registry of pinned maps and programs that
 * `bpfrt map show` and `bpfrt prog show` list, and the counters of their
 * global ids: $BPFRT_ROOT if set, else /run/bpfrt for root, else
 * $XDG_RUNTIME_DIR/bpfrt, else /tmp/bpfrt-UID. It is created (0700) when
 * first needed. The string is valid until the next call in the same thread.
 */
BPFRT_API const char *bpfrt_state_dir(void);

/*
 * Pin map at path (a new file; its directory must exist). The map's block
 * moves into the file: its contents are copied and this process's mapping
 * is switched to the file at the same address, so pointers programs hold
 * stay valid. Pin a map before other threads or forked processes use it:
 * updates made during the copy through another mapping are not carried
 * over. A map already pinned gets another hard link (same filesystem only).
 * Prog arrays and maps of maps hold process-local references: -ENOTSUP.
 * The map is registered in the state directory with a global id.
 */
BPFRT_API int bpfrt_map_pin(struct bpfrt_map *map, const char *path,
			    struct bpfrt_error *err);

/*
 * Open the map pinned at path: a new map object on the same memory, to be
 * freed with bpfrt_map_free(). -ENOENT (no map pinned there), -EINVAL (the
 * file is not a bpfrt map), -EACCES.
 */
BPFRT_API int bpfrt_map_open_pinned(const char *path, struct bpfrt_map **map,
				    struct bpfrt_error *err);

/* What a pinned map's file records besides the map itself. */
struct bpfrt_map_pin_info {
	uint32_t id;		/* global id, unique in the state directory */
	uint32_t uid;		/* who pinned it */
	uint64_t created;	/* when it was pinned (unix seconds) */
	/*
	 * The BTF of the object the map came from (NULL, 0 if unknown) and
	 * the type ids of its key and value in it (0 if unknown); valid while
	 * the map is.
	 */
	const void *btf;
	size_t btf_len;
	uint32_t key_type_id, value_type_id;
};

/* -ENOENT if the map was neither pinned nor opened from a pinned file. */
BPFRT_API int bpfrt_map_get_pin_info(const struct bpfrt_map *map,
				     struct bpfrt_map_pin_info *info);

/*
 * Call fn with the path of every map (program record) registered in the
 * state directory, in the order of their paths, until fn returns non-zero
 * (which is returned). Entries whose file was removed are forgotten.
 */
BPFRT_API int bpfrt_pinned_maps(int (*fn)(void *ctx, const char *path), void *ctx);
BPFRT_API int bpfrt_pinned_progs(int (*fn)(void *ctx, const char *path), void *ctx);

/*
 * Before bpfrt_obj_load: share the object's maps through directory dir
 * (created 0700 if missing). At load, each map whose name is pinned in dir
 * (dir/NAME) is reused, after checking that its type, key and value sizes,
 * max_entries and flags match the object's definition (else the load fails
 * naming the map and the mismatch); the others are created and pinned
 * there. Prog arrays, maps of maps and global data (.data, .bss, .rodata)
 * stay private to the process.
 */
BPFRT_API int bpfrt_obj_pin_maps(struct bpfrt_obj *obj, const char *dir,
				 struct bpfrt_error *err);

/*
 * The program's tag, as the kernel computes it: the first 8 bytes of the
 * SHA-256 (Linux 6.18 and later; SHA-1 before) of its instructions, with
 * the immediates of map references (lddw
 * src 1, 2, 5, 6: both slots) zeroed and src 5 / 6 (map by index) counted
 * as the 1 / 2 (map by fd) that libbpf hands the kernel. So a program of an
 * object has the tag `bpftool prog show` gives the same program in Linux.
 */
BPFRT_API void bpfrt_prog_tag(const struct bpfrt_prog *prog, uint8_t tag[8]);

/*
 * Pin program i of a loaded object at path: a record (a small text file,
 * 0600, never over an existing file) of what re-creates the program in
 * another process — the object's absolute path, the program's name and type,
 * the directory its maps are pinned in (bpfrt_obj_pin_maps; none if the
 * object's maps were not pinned) — and of what `bpfrt prog show` lists. The
 * record gets a global id and is registered in the state directory.
 *
 * Objects whose maps are pinned (bpfrt_obj_pin_maps) also list their loaded
 * programs there while they are loaded: a "live" record naming the process
 * (bpfrt_prog_record.pid), removed by bpfrt_obj_close and dropped by readers
 * once the process has died. A program keeps one id, live and pinned.
 */
BPFRT_API int bpfrt_obj_pin_prog(struct bpfrt_obj *obj, size_t i, const char *path,
				 struct bpfrt_error *err);

struct bpfrt_prog_record {
	uint32_t id;			/* global id */
	enum bpfrt_prog_type type;
	char name[128];
	char tag[17];			/* 16 hex digits */
	char object[4096];		/* absolute path of the object */
	char maps_dir[4096];		/* "" if its maps are not pinned */
	uint64_t loaded_at;		/* unix seconds */
	uint32_t uid;
	uint32_t bytes_xlated;		/* instructions × 8 */
	uint32_t bytes_jited;		/* 0 if the JIT could not translate it */
	uint32_t map_ids[64];		/* global ids of its pinned maps */
	uint32_t nmap_ids;
	bool gpl;			/* its license is GPL-compatible */
	int32_t pid;			/* a live record: the process running it; else 0 */
};

/* Read the program record pinned at path. -ENOENT, or -EINVAL if it is not one. */
BPFRT_API int bpfrt_prog_record_read(const char *path, struct bpfrt_prog_record *rec,
				     struct bpfrt_error *err);

/* Pin the program pinned at from at `to` too (same id); like bpfrt_obj_pin_prog's file. */
BPFRT_API int bpfrt_prog_record_pin(const char *from, const char *to, struct bpfrt_error *err);

/*
 * Re-create the program pinned at path in this process: open its object,
 * share the maps of the record's directory, load just that program. *obj
 * owns *prog: close it with bpfrt_obj_close(). Fails if the object changed
 * so that the program's tag is not the recorded one.
 */
BPFRT_API int bpfrt_prog_open_pinned(const char *path, struct bpfrt_obj **obj,
				     struct bpfrt_prog **prog, struct bpfrt_error *err);

/* ---- Trace output ----------------------------------------------------- */

/*
 * bpf_trace_printk and bpf_trace_vprintk write one line per call, in the
 * style of the kernel's trace_pipe:
 *   "<comm>-<tid> [<cpu>] ..... <seconds>.<micros>: bpf_trace_printk: <text>\n"
 * (comm right-aligned in 16 columns; the text's own final newline, if any,
 * is dropped, so every call is one line). By default lines go to stderr,
 * each with one write(). bpfrt_trace_set_sink sends them to fn instead
 * (NULL: back to stderr); fn receives the NUL-terminated line and its
 * length, is called with a lock held (calls never overlap) from the thread
 * running the program, and must not run programs that print.
 */
typedef void (*bpfrt_trace_fn)(void *ctx, const char *line, size_t len);
BPFRT_API void bpfrt_trace_set_sink(bpfrt_trace_fn fn, void *ctx);

/* ---- Verification ------------------------------------------------------ */

/*
 * The static verifier (docs/verifier.md): it follows every path of a
 * program, as the Linux verifier does, and accepts it only if no path can
 * read an uninitialised register or stack byte, access memory outside the
 * stack, the context, a map value, the packet bytes it has checked or
 * ringbuf memory it holds, misuse a helper, keep a ringbuf reservation, or
 * run forever. A program it accepts may run unchecked, given a context of
 * the declared type (and, for UNSPEC and SYSCALL, ctx_size bytes).
 */
struct bpfrt_verify_opts {
	size_t sz;
	/*
	 * The program type: helpers, the context and return values follow it.
	 * UNSPEC is bpfrt's raw type: r1 points to ctx_size bytes of memory the
	 * program may read and write, r2 holds ctx_size (as `bpfrt run` passes
	 * them). SYSCALL: the same memory in r1. TRACEPOINT: ctx_size bytes of
	 * record (0: the kernel's limit, 2048).
	 */
	enum bpfrt_prog_type type;
	unsigned int log_level;		/* 1: every instruction; 2: and the registers */
	char *log_buf;			/* the log, NUL-terminated; may be NULL */
	size_t log_size;
	/*
	 * Optional: the object the program came from, for source lines in
	 * messages; prog_index is its number there. With prog NULL, the
	 * object's program prog_index is verified as it stands, loaded or not
	 * (its maps as the object defines them).
	 */
	const struct bpfrt_obj *obj;
	size_t prog_index;
	uint32_t ctx_size;
	/* Results. */
	uint64_t insns_processed;	/* instructions followed, over all paths */
	uint64_t states;		/* states remembered for pruning */
	uint64_t peak_states;
	uint64_t time_ns;
	uint64_t peak_mem_bytes;
	/*
	 * Input, added later: give up (-E2BIG) after processing this many
	 * instructions over all paths; 0 (or more than the kernel's 1,000,000)
	 * means 1,000,000. Fuzzers set less, so that each input ends quickly.
	 */
	uint64_t max_insns;
};

/*
 * Verify a program. 0 if it is safe; otherwise a negative errno (-EACCES
 * for unsafe memory use, -EINVAL for a malformed or unsafe program, -E2BIG
 * if too complex, -ENOTSUP for what bpfrt cannot verify yet), with err
 * naming the instruction, its source line, the cause and the register.
 */
BPFRT_API int bpfrt_prog_verify(const struct bpfrt_prog *prog, struct bpfrt_verify_opts *opts,
				struct bpfrt_error *err);

/* ---- For helpers, during a run ----------------------------------------- */

BPFRT_API void *bpfrt_run_user(const struct bpfrt_run *run);
/* May the helper access [p, p+len)? Always true in unchecked runs. */
BPFRT_API bool bpfrt_run_mem_ok(const struct bpfrt_run *run, const void *p,
				size_t len, bool write);
/* Stop the run after this helper returns; bpfrt_prog_run returns `code`. */
BPFRT_API void bpfrt_run_fail(struct bpfrt_run *run, int code,
			      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif /* BPFRT_H */
