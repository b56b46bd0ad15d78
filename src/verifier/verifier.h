/* verifier.h — the static verifier's internal interface: inputs, tables of kernel facts, the checker (internal). */
#ifndef BPFRT_VERIFIER_H
#define BPFRT_VERIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfrt.h"

/*
 * The verifier works in files by concern:
 *
 *	scalar.c   abstract numbers (tnum + bounds), ALU ops, jump refinement
 *	check*.c   the abstract interpreter: states and pruning, memory, ALU and
 *	           jumps, calls and callbacks (check.h lists them)
 *	protos.c   helper prototypes (argument kinds, returns, program types)
 *	ctx.c      each program type's context: fields, sizes, what reads give
 *	api.c      bpfrt_prog_verify: maps and line info in, a verdict out
 */

/* A map as the verifier sees it: what its definition says. */
struct vmap {
	uint32_t type, key_size, value_size, max_entries;
	const struct vmap *inner;	/* maps of maps: the inner map's definition */
	uint32_t map_flags;		/* BPF_F_RDONLY_PROG (1 << 7): programs only read it */
	/* what the value's BTF says (api.c), for spin locks */
	bool btf;			/* the value's type is known */
	bool has_lock;			/* it has a struct bpf_spin_lock ... */
	uint32_t lock_off;		/* ... at this offset */
	/*
	 * A read-only (BPF_F_RDONLY_PROG), frozen single-element array: its
	 * value_size bytes, which cannot change (constant strings); else NULL.
	 */
	const uint8_t *data;
};

/* Source line of an instruction, for messages; returns false if unknown. */
typedef bool (*vline_fn)(void *arg, size_t insn, struct bpfrt_obj_line *line);

struct vinput {
	const struct bpfrt_insn *insns;
	size_t n;
	const struct vmap *maps;
	size_t nmaps;
	enum bpfrt_prog_type type;
	uint32_t ctx_size;		/* UNSPEC / SYSCALL: bytes of ctx */
	unsigned log_level;
	char *log_buf;
	size_t log_size;
	vline_fn line;
	void *line_arg;
	uint64_t max_processed;		/* the budget of processed instructions; 0 = MAX_PROCESSED */
};

struct vresult {
	uint64_t insns_processed, states, peak_states, peak_mem_bytes;
	uint64_t prec_steps;	/* history entries precision and stack liveness walked back (tests) */
};

/* Verify; 0 if safe, else a negative errno with err saying why and where. */
int verify(const struct vinput *in, struct vresult *res, struct bpfrt_error *err);

/* ---- Helper prototypes (protos.c) ---------------------------------------------- */

enum varg {
	A_NONE = 0,
	A_ANY,			/* any initialised value */
	A_SCALAR,		/* a number */
	A_CTX,			/* the program's context */
	A_MAP,			/* a map (lddw of a map) */
	A_KEY,			/* readable memory of the map's key size */
	A_VALUE,		/* readable memory of the map's value size */
	A_UVALUE,		/* writable memory of the map's value size */
	A_MEM,			/* readable memory; its size is the next argument */
	A_UMEM,			/* writable memory, may be uninitialised; size next */
	A_MEM_NULL,		/* A_MEM or NULL */
	A_SIZE,			/* size of the memory before it: known bounds, > 0 */
	A_SIZE0,		/* the same, may be 0 */
	A_RB_MEM,		/* ringbuf memory being released (submit/discard) */
	A_CONST,		/* a known number (ringbuf_reserve's size) */
	A_MAP_VALUE,		/* a pointer into a map value (spin locks, timers) */
	A_FUNC,			/* a callback: lddw of a function */
	A_STACK_NULL,		/* a pointer to the stack, or NULL */
	A_PTR,			/* any pointer (probe_read's kernel address) */
	A_UMEM_NULL,		/* A_UMEM or NULL */
	A_CONST_STR,		/* a NUL-terminated string in a read-only map value, constant offset */
	A_SPIN_LOCK,		/* the struct bpf_spin_lock of a map value */
};

enum vret {
	RET_INT = 0,		/* a number */
	RET_VOID,		/* nothing: r0 is not readable */
	RET_VALUE_NULL,		/* pointer to the map's value, or NULL */
	RET_RB_NULL,		/* ringbuf memory of arg 2's size, or NULL (acquired) */
	RET_MEM_NULL,		/* other memory: not modelled, a number */
};

/* Program-type families a helper is available to (bit masks). */
enum {
	PT_SOCKF = 1u << 0,	/* socket_filter */
	PT_TC = 1u << 1,	/* sched_cls, sched_act */
	PT_XDP = 1u << 2,
	PT_TRACE = 1u << 3,	/* kprobe, tracepoint, raw_tracepoint, perf_event */
	PT_CGSKB = 1u << 4,	/* cgroup_skb */
	PT_SOCKOPS = 1u << 5,
	PT_CGSOCK = 1u << 6,	/* cgroup_sock, cgroup_sock_addr */
	PT_LWT = 1u << 7,
	PT_SKSKB = 1u << 8,	/* sk_skb, sk_msg */
	PT_OTHER = 1u << 9,	/* everything else */
	PT_SYSCALL = 1u << 10,
	PT_UNSPEC = 1u << 11,
	PT_NONE = 0,		/* available nowhere in bpfrt (see docs/verifier.md) */
	PT_SKB = PT_SOCKF | PT_TC | PT_CGSKB | PT_LWT | PT_SKSKB,
	PT_NET = PT_SKB | PT_XDP | PT_SOCKOPS | PT_CGSOCK,
	PT_ALL = 0xfffu,
};

struct vproto {
	const char *name;
	uint8_t args[5];	/* enum varg */
	uint8_t ret;		/* enum vret */
	uint16_t types;		/* PT_* */
	bool pkt_change;	/* invalidates packet pointers */
};

/* The prototype of helper id, or NULL if bpfrt's verifier does not know it. */
const struct vproto *proto_get(uint32_t id);
/* The PT_* family of a program type. */
unsigned proto_type_bit(enum bpfrt_prog_type type);

/* ---- Contexts (ctx.c) --------------------------------------------------------------- */

enum vfield {
	F_NONE = 0,		/* no such field: the access is refused */
	F_SCALAR,		/* a number */
	F_PKT,			/* packet data start */
	F_PKT_END,
	F_PKT_META,
	F_SOCK,			/* __sk_buff->sk: a struct bpf_sock pointer, maybe NULL */
	F_SOCK_FULL,		/* bpf_sock_ops->sk: the same, every field readable */
	F_SOCK_FULL_NN,		/* sk_msg_md->sk: a full socket, never NULL */
};

/*
 * May a program of type read (write) `size` bytes at ctx offset off? Returns
 * what the read gives, or F_NONE with why filled in.
 */
enum vfield ctx_access(enum bpfrt_prog_type type, uint32_t ctx_size, int64_t off,
		       unsigned size, bool write, char *why, size_t whylen);
/*
 * May a program read (write) size bytes at offset off of a socket from the
 * context: a sock_common (__sk_buff->sk), or a full one (bpf_sock_ops->sk)?
 */
bool ctx_sock_access(bool full, int64_t off, unsigned size, bool write, char *why,
		     size_t whylen);
/* Is the context plain memory (UNSPEC, SYSCALL) rather than fields? */
bool ctx_is_mem(enum bpfrt_prog_type type);
/* Can the program read the packet with LD_ABS / LD_IND? */
bool ctx_has_ld_abs(enum bpfrt_prog_type type);
/* The range of r0 at exit the kernel demands; false if any value. */
bool ctx_retval_range(enum bpfrt_prog_type type, int64_t *lo, int64_t *hi);
/* Can the program write packet data (direct packet access)? */
bool ctx_pkt_writable(enum bpfrt_prog_type type);

#endif /* BPFRT_VERIFIER_H */
