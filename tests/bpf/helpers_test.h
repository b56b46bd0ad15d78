/* helpers_test.h — the generic helpers by the kernel's ids, for the helper tests' eBPF programs. */
#ifndef HELPERS_TEST_H
#define HELPERS_TEST_H

#include "bpf_test.h"

static long (*bpf_probe_read)(void *dst, __u32 size, const void *src) = (void *)4;
static __u64 (*bpf_ktime_get_ns)(void) = (void *)5;
static long (*bpf_trace_printk)(const char *fmt, __u32 fmt_size, ...) = (void *)6;
static __u32 (*bpf_get_prandom_u32)(void) = (void *)7;
static __u32 (*bpf_get_smp_processor_id)(void) = (void *)8;
static __u64 (*bpf_get_current_pid_tgid)(void) = (void *)14;
static __u64 (*bpf_get_current_uid_gid)(void) = (void *)15;
static long (*bpf_get_current_comm)(void *buf, __u32 size) = (void *)16;
static long (*bpf_perf_event_output)(void *ctx, void *map, __u64 flags, void *data,
				     __u64 size) = (void *)25;
static long (*bpf_get_stackid)(void *ctx, void *map, __u64 flags) = (void *)27;
static __s64 (*bpf_csum_diff)(__u32 *from, __u32 from_size, __u32 *to, __u32 to_size,
			      __u32 seed) = (void *)28;
static long (*bpf_current_task_under_cgroup)(void *map, __u32 index) = (void *)37;
static long (*bpf_probe_read_str)(void *dst, __u32 size, const void *src) = (void *)45;
static long (*bpf_get_stack)(void *ctx, void *buf, __u32 size, __u64 flags) = (void *)67;
static long (*bpf_spin_lock)(void *lock) = (void *)93;
static long (*bpf_spin_unlock)(void *lock) = (void *)94;
static long (*bpf_probe_read_kernel)(void *dst, __u32 size, const void *src) = (void *)113;
static long (*bpf_probe_read_kernel_str)(void *dst, __u32 size, const void *src) = (void *)115;
static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)131;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;
static void (*bpf_ringbuf_discard)(void *data, __u64 flags) = (void *)133;
static __u64 (*bpf_ringbuf_query)(void *ringbuf, __u64 flags) = (void *)134;
static long (*bpf_snprintf)(char *str, __u32 str_size, const char *fmt, __u64 *data,
			    __u32 data_len) = (void *)165;
static long (*bpf_strncmp)(const char *s1, __u32 s1_sz, const char *s2) = (void *)182;
static void *(*bpf_map_lookup_percpu_elem)(void *map, const void *key, __u32 cpu) = (void *)195;
static __u64 (*bpf_perf_event_read)(void *map, __u64 flags) = (void *)22;
static __u64 (*bpf_get_current_task)(void) = (void *)35;
static __u32 (*bpf_get_numa_node_id)(void) = (void *)42;
static long (*bpf_perf_event_read_value)(void *map, __u64 flags, void *buf,
					 __u32 size) = (void *)55;
static __u64 (*bpf_get_current_cgroup_id)(void) = (void *)80;
static long (*bpf_send_signal)(__u32 sig) = (void *)109;
static long (*bpf_probe_read_user)(void *dst, __u32 size, const void *src) = (void *)112;
static long (*bpf_probe_read_user_str)(void *dst, __u32 size, const void *src) = (void *)114;
static long (*bpf_probe_write_user)(void *dst, const void *src, __u32 len) = (void *)36;
static long (*bpf_send_signal_thread)(__u32 sig) = (void *)117;
static __u64 (*bpf_jiffies64)(void) = (void *)118;
static __u64 (*bpf_ktime_get_boot_ns)(void) = (void *)125;
static __u64 (*bpf_ktime_get_coarse_ns)(void) = (void *)160;
static long (*bpf_trace_vprintk)(const char *fmt, __u32 fmt_size, const void *data,
				 __u32 data_len) = (void *)177;
static __u64 (*bpf_ktime_get_tai_ns)(void) = (void *)208;

/* Map types and flags bpf_test.h does not name. */
enum { HT_MAP_STACK_TRACE = 7, HT_MAP_CGROUP_ARRAY = 8 };
enum { HT_F_CURRENT_CPU = 0xffffffffull };
enum { HT_RB_AVAIL_DATA = 0, HT_RB_RING_SIZE = 1, HT_RB_CONS_POS = 2, HT_RB_PROD_POS = 3 };
struct bpf_spin_lock {
	__u32 val;
};

#endif /* HELPERS_TEST_H */
