/* helpers.h — bpfrt's built-in helpers: the kernel's numbers, names and semantics. */
#ifndef BPFRT_HELPERS_H
#define BPFRT_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfrt.h"

/* The kernel's helper ids (enum bpf_func_id) for what bpfrt implements. */
enum {
	HELPER_MAP_LOOKUP_ELEM = 1,
	HELPER_MAP_UPDATE_ELEM = 2,
	HELPER_MAP_DELETE_ELEM = 3,
	HELPER_TAIL_CALL = 12,
	HELPER_MAP_PUSH_ELEM = 87,
	HELPER_MAP_POP_ELEM = 88,
	HELPER_MAP_PEEK_ELEM = 89,
	HELPER_FOR_EACH_MAP_ELEM = 164,
	HELPER_LOOP = 181,
	/* generic helpers (docs/helpers.md) */
	HELPER_PROBE_READ = 4,
	HELPER_KTIME_GET_NS = 5,
	HELPER_TRACE_PRINTK = 6,
	HELPER_GET_PRANDOM_U32 = 7,
	HELPER_GET_SMP_PROCESSOR_ID = 8,
	HELPER_GET_CURRENT_PID_TGID = 14,
	HELPER_GET_CURRENT_UID_GID = 15,
	HELPER_GET_CURRENT_COMM = 16,
	HELPER_PERF_EVENT_READ = 22,
	HELPER_PERF_EVENT_OUTPUT = 25,
	HELPER_GET_STACKID = 27,
	HELPER_CSUM_DIFF = 28,
	HELPER_GET_CURRENT_TASK = 35,
	HELPER_PROBE_WRITE_USER = 36,
	HELPER_CURRENT_TASK_UNDER_CGROUP = 37,
	HELPER_GET_NUMA_NODE_ID = 42,
	HELPER_PROBE_READ_STR = 45,
	HELPER_PERF_EVENT_READ_VALUE = 55,
	HELPER_PERF_PROG_READ_VALUE = 56,
	HELPER_GET_STACK = 67,
	HELPER_GET_CURRENT_CGROUP_ID = 80,
	HELPER_SPIN_LOCK = 93,
	HELPER_SPIN_UNLOCK = 94,
	HELPER_SEND_SIGNAL = 109,
	HELPER_PROBE_READ_USER = 112,
	HELPER_PROBE_READ_KERNEL = 113,
	HELPER_PROBE_READ_USER_STR = 114,
	HELPER_PROBE_READ_KERNEL_STR = 115,
	HELPER_SEND_SIGNAL_THREAD = 117,
	HELPER_JIFFIES64 = 118,
	HELPER_KTIME_GET_BOOT_NS = 125,
	HELPER_RINGBUF_OUTPUT = 130,
	HELPER_RINGBUF_RESERVE = 131,
	HELPER_RINGBUF_SUBMIT = 132,
	HELPER_RINGBUF_DISCARD = 133,
	HELPER_RINGBUF_QUERY = 134,
	HELPER_KTIME_GET_COARSE_NS = 160,
	HELPER_SNPRINTF = 165,
	HELPER_TRACE_VPRINTK = 177,
	HELPER_STRNCMP = 182,
	HELPER_MAP_LOOKUP_PERCPU_ELEM = 195,
	HELPER_KTIME_GET_TAI_NS = 208,
};

/* A helper's definition: every argument named, unused ones allowed. */
#define HELPER_UNUSED __attribute__((unused))
#define HELPER_DEF(fn) \
	static uint64_t fn(uint64_t r1 HELPER_UNUSED, uint64_t r2 HELPER_UNUSED, \
			   uint64_t r3 HELPER_UNUSED, uint64_t r4 HELPER_UNUSED, \
			   uint64_t r5 HELPER_UNUSED, struct bpfrt_run *run HELPER_UNUSED)
#define HELPER_ERR(e) ((uint64_t)(int64_t)(e))

struct helper_def {
	uint32_t id;
	const char *name;	/* without the bpf_ prefix, as bpftool prints it */
	bpfrt_helper_fn fn;
};

/*
 * For helpers taking pointers: may the run touch [p, p + len)? In checked
 * runs this fails the run with a message naming the helper and argument.
 * Zero bytes are always fine (the kernel's NULL-or-memory arguments).
 */
bool helper_mem_ok(struct bpfrt_run *run, const char *helper, unsigned arg,
		   uint64_t p, size_t len, bool write);

/* A ctx argument: in checked runs it must be the running program's ctx, else the run fails. */
bool helper_ctx_ok(struct bpfrt_run *run, const char *helper, uint64_t r, const void *ctx);

/* The map argument of a map helper: a map of the program's table, checked. */
struct bpfrt_map *helper_map_arg(struct bpfrt_run *run, const char *helper, uint64_t r1);
/* The same for a map in argument arg (r is its value). */
struct bpfrt_map *helper_map_argn(struct bpfrt_run *run, const char *helper, unsigned arg,
				  uint64_t r);

/*
 * A NUL-terminated string argument (a format, strncmp's s2): in checked runs
 * every byte up to its NUL, at most max, must be readable. Returns its length
 * without the NUL, or -1 after failing the run (no NUL within max, or memory
 * the program may not read).
 */
long helper_str_arg(struct bpfrt_run *run, const char *helper, unsigned arg,
		    uint64_t p, size_t max);

/*
 * Copy up to len bytes from an arbitrary address of this process without
 * faulting (process_vm_readv on ourselves). Returns 0 or -EFAULT; on
 * -EFAULT dst may hold a partial copy.
 */
int probe_copy(void *dst, const void *src, size_t len);
/*
 * probe_read_str's semantics: copy the string at src into dst (size bytes,
 * size > 0), always NUL-terminated, truncated to size - 1 characters.
 * Returns the bytes written including the NUL (size when truncated), or
 * -EFAULT (dst then holds a partial copy).
 */
long probe_copy_str(char *dst, const void *src, size_t size);

/*
 * trace.c, for the verifier (bpf_snprintf's constant format): 0 if the kernel
 * accepts format fmt (NUL-terminated) with nargs u64 arguments, else -EINVAL
 * with *why saying what is wrong ("has more conversions than arguments").
 */
int helper_format_check(const char *fmt, uint32_t nargs, const char **why);

/* Per-family tables, which bpfrt_prog_use_builtin_helpers (registry.c) registers. */
#define HELPER_TABLE(name) \
	extern const struct helper_def helper_##name##_defs[]; \
	extern const size_t helper_##name##_ndefs
HELPER_TABLE(map);
HELPER_TABLE(time);
HELPER_TABLE(misc);
HELPER_TABLE(task);
HELPER_TABLE(probe);
HELPER_TABLE(trace);
HELPER_TABLE(ring);
HELPER_TABLE(lock);
HELPER_TABLE(stack);
HELPER_TABLE(xdp);	/* xdp.c */
HELPER_TABLE(skb);	/* skb.c */
#define HELPER_NDEFS(t) (sizeof(t) / sizeof((t)[0]))
HELPER_TABLE(callback);

#endif /* BPFRT_HELPERS_H */
