/* protos.c — helper prototypes under the kernel's ids: argument kinds, return kinds, program types. */
#include "verifier.h"

/*
 * The facts are the kernel's (include/uapi/linux/bpf.h and each helper's
 * bpf_func_proto): what each argument must be and which program types may
 * call the helper. Program types are grouped in PT_* families, which is
 * coarser than the kernel in places; docs/verifier.md lists the choices.
 */
#define H(id, nm, r, t, ...) [id] = { .name = nm, .ret = r, .types = t, .args = { __VA_ARGS__ } }
#define HP(id, nm, r, t, ...) \
	[id] = { .name = nm, .ret = r, .types = t, .pkt_change = true, .args = { __VA_ARGS__ } }

#define PT_TASK (PT_TRACE | PT_CGSKB | PT_CGSOCK | PT_SOCKOPS | PT_SYSCALL | PT_OTHER)

static const struct vproto protos[] = {
	H(1, "bpf_map_lookup_elem", RET_VALUE_NULL, PT_ALL, A_MAP, A_KEY),
	H(2, "bpf_map_update_elem", RET_INT, PT_ALL, A_MAP, A_KEY, A_VALUE, A_SCALAR),
	H(3, "bpf_map_delete_elem", RET_INT, PT_ALL, A_MAP, A_KEY),
	H(4, "bpf_probe_read", RET_INT, PT_TRACE, A_UMEM, A_SIZE0, A_ANY),
	H(5, "bpf_ktime_get_ns", RET_INT, PT_ALL),
	H(6, "bpf_trace_printk", RET_INT, PT_ALL, A_MEM, A_SIZE),
	H(7, "bpf_get_prandom_u32", RET_INT, PT_ALL),
	H(8, "bpf_get_smp_processor_id", RET_INT, PT_ALL),
	HP(9, "bpf_skb_store_bytes", RET_INT, PT_TC | PT_LWT | PT_SKSKB, A_CTX, A_SCALAR, A_MEM,
	   A_SIZE, A_SCALAR),
	HP(10, "bpf_l3_csum_replace", RET_INT, PT_TC | PT_LWT, A_CTX, A_SCALAR, A_SCALAR, A_SCALAR,
	   A_SCALAR),
	HP(11, "bpf_l4_csum_replace", RET_INT, PT_TC | PT_LWT, A_CTX, A_SCALAR, A_SCALAR, A_SCALAR,
	   A_SCALAR),
	H(12, "bpf_tail_call", RET_VOID, PT_ALL, A_CTX, A_MAP, A_ANY),	/* r0 unset after, as in Linux */
	HP(13, "bpf_clone_redirect", RET_INT, PT_TC | PT_LWT, A_CTX, A_SCALAR, A_SCALAR),
	H(14, "bpf_get_current_pid_tgid", RET_INT, PT_TASK),
	H(15, "bpf_get_current_uid_gid", RET_INT, PT_TASK),
	H(16, "bpf_get_current_comm", RET_INT, PT_TASK, A_UMEM, A_SIZE),
	H(17, "bpf_get_cgroup_classid", RET_INT, PT_TC | PT_LWT, A_CTX),
	HP(18, "bpf_skb_vlan_push", RET_INT, PT_TC, A_CTX, A_SCALAR, A_SCALAR),
	HP(19, "bpf_skb_vlan_pop", RET_INT, PT_TC, A_CTX),
	H(20, "bpf_skb_get_tunnel_key", RET_INT, PT_TC | PT_LWT, A_CTX, A_UMEM, A_SIZE, A_SCALAR),
	H(21, "bpf_skb_set_tunnel_key", RET_INT, PT_TC | PT_LWT, A_CTX, A_MEM, A_SIZE, A_SCALAR),
	H(22, "bpf_perf_event_read", RET_INT, PT_TRACE, A_MAP, A_SCALAR),
	H(23, "bpf_redirect", RET_INT, PT_TC | PT_XDP | PT_LWT, A_SCALAR, A_SCALAR),
	H(24, "bpf_get_route_realm", RET_INT, PT_TC | PT_LWT, A_CTX),
	H(25, "bpf_perf_event_output", RET_INT, PT_TRACE | PT_NET, A_CTX, A_MAP, A_SCALAR, A_MEM,
	  A_SIZE0),
	H(26, "bpf_skb_load_bytes", RET_INT, PT_SKB, A_CTX, A_SCALAR, A_UMEM, A_SIZE),
	H(27, "bpf_get_stackid", RET_INT, PT_TRACE, A_CTX, A_MAP, A_SCALAR),
	H(28, "bpf_csum_diff", RET_INT, PT_NET, A_MEM_NULL, A_SIZE0, A_MEM_NULL, A_SIZE0, A_SCALAR),
	H(29, "bpf_skb_get_tunnel_opt", RET_INT, PT_TC | PT_LWT, A_CTX, A_UMEM, A_SIZE),
	H(30, "bpf_skb_set_tunnel_opt", RET_INT, PT_TC | PT_LWT, A_CTX, A_MEM, A_SIZE),
	HP(31, "bpf_skb_change_proto", RET_INT, PT_TC, A_CTX, A_SCALAR, A_SCALAR),
	HP(32, "bpf_skb_change_type", RET_INT, PT_TC, A_CTX, A_SCALAR),
	H(33, "bpf_skb_under_cgroup", RET_INT, PT_TC | PT_LWT, A_CTX, A_MAP, A_SCALAR),
	H(34, "bpf_get_hash_recalc", RET_INT, PT_TC | PT_LWT, A_CTX),
	H(35, "bpf_get_current_task", RET_INT, PT_TRACE),
	/* needs to write another process's memory (the kernel, too, refuses it under lockdown) */
	H(36, "bpf_probe_write_user", RET_INT, PT_NONE, A_ANY, A_MEM, A_SIZE),
	H(37, "bpf_current_task_under_cgroup", RET_INT, PT_TRACE, A_MAP, A_SCALAR),
	HP(38, "bpf_skb_change_tail", RET_INT, PT_TC | PT_SKSKB, A_CTX, A_SCALAR, A_SCALAR),
	HP(39, "bpf_skb_pull_data", RET_INT, PT_TC | PT_LWT | PT_SKSKB, A_CTX, A_SCALAR),
	H(40, "bpf_csum_update", RET_INT, PT_TC, A_CTX, A_SCALAR),
	H(41, "bpf_set_hash_invalid", RET_INT, PT_TC, A_CTX),
	H(42, "bpf_get_numa_node_id", RET_INT, PT_ALL),
	HP(43, "bpf_skb_change_head", RET_INT, PT_TC | PT_SKSKB, A_CTX, A_SCALAR, A_SCALAR),
	HP(44, "bpf_xdp_adjust_head", RET_INT, PT_XDP, A_CTX, A_SCALAR),
	H(45, "bpf_probe_read_str", RET_INT, PT_TRACE, A_UMEM, A_SIZE0, A_ANY),
	H(46, "bpf_get_socket_cookie", RET_INT, PT_SKB | PT_SOCKOPS | PT_CGSOCK, A_CTX),
	H(47, "bpf_get_socket_uid", RET_INT, PT_SKB, A_CTX),
	H(48, "bpf_set_hash", RET_INT, PT_TC, A_CTX, A_SCALAR),
	H(49, "bpf_setsockopt", RET_INT, PT_SOCKOPS | PT_CGSOCK, A_CTX, A_SCALAR, A_SCALAR, A_MEM,
	  A_SIZE),
	HP(50, "bpf_skb_adjust_room", RET_INT, PT_TC, A_CTX, A_SCALAR, A_SCALAR, A_SCALAR),
	H(51, "bpf_redirect_map", RET_INT, PT_XDP, A_MAP, A_SCALAR, A_SCALAR),
	H(52, "bpf_sk_redirect_map", RET_INT, PT_SKSKB, A_CTX, A_MAP, A_SCALAR, A_SCALAR),
	H(53, "bpf_sock_map_update", RET_INT, PT_SOCKOPS, A_CTX, A_MAP, A_KEY, A_SCALAR),
	HP(54, "bpf_xdp_adjust_meta", RET_INT, PT_XDP, A_CTX, A_SCALAR),
	H(55, "bpf_perf_event_read_value", RET_INT, PT_TRACE, A_MAP, A_SCALAR, A_UMEM, A_SIZE),
	H(56, "bpf_perf_prog_read_value", RET_INT, PT_TRACE, A_CTX, A_UMEM, A_SIZE),
	H(57, "bpf_getsockopt", RET_INT, PT_SOCKOPS | PT_CGSOCK, A_CTX, A_SCALAR, A_SCALAR, A_UMEM,
	  A_SIZE),
	/* changes what a kernel function returns: nothing to override in bpfrt */
	H(58, "bpf_override_return", RET_INT, PT_NONE, A_CTX, A_SCALAR),
	H(59, "bpf_sock_ops_cb_flags_set", RET_INT, PT_SOCKOPS, A_CTX, A_SCALAR),
	HP(65, "bpf_xdp_adjust_tail", RET_INT, PT_XDP, A_CTX, A_SCALAR),
	H(69, "bpf_fib_lookup", RET_INT, PT_XDP | PT_TC, A_CTX, A_MEM, A_SIZE, A_SCALAR),
	H(67, "bpf_get_stack", RET_INT, PT_TRACE, A_CTX, A_UMEM, A_SIZE0, A_SCALAR),
	H(80, "bpf_get_current_cgroup_id", RET_INT, PT_TASK),
	H(87, "bpf_map_push_elem", RET_INT, PT_ALL, A_MAP, A_VALUE, A_SCALAR),
	H(88, "bpf_map_pop_elem", RET_INT, PT_ALL, A_MAP, A_UVALUE),
	H(89, "bpf_map_peek_elem", RET_INT, PT_ALL, A_MAP, A_UVALUE),
	/*
	 * Spin locks: in the kernel's base set, for every type; a map whose value
	 * holds a lock cannot be used by socket filters and tracing types at all
	 * (check_mem.c, at the map's lddw).
	 */
	H(93, "bpf_spin_lock", RET_VOID, PT_ALL, A_SPIN_LOCK),
	H(94, "bpf_spin_unlock", RET_VOID, PT_ALL, A_SPIN_LOCK),
	H(109, "bpf_send_signal", RET_INT, PT_TRACE, A_SCALAR),
	H(112, "bpf_probe_read_user", RET_INT, PT_TRACE, A_UMEM, A_SIZE0, A_ANY),
	H(113, "bpf_probe_read_kernel", RET_INT, PT_TRACE, A_UMEM, A_SIZE0, A_ANY),
	H(114, "bpf_probe_read_user_str", RET_INT, PT_TRACE, A_UMEM, A_SIZE0, A_ANY),
	H(115, "bpf_probe_read_kernel_str", RET_INT, PT_TRACE, A_UMEM, A_SIZE0, A_ANY),
	H(117, "bpf_send_signal_thread", RET_INT, PT_TRACE, A_SCALAR),
	H(118, "bpf_jiffies64", RET_INT, PT_ALL),
	H(125, "bpf_ktime_get_boot_ns", RET_INT, PT_ALL),
	H(130, "bpf_ringbuf_output", RET_INT, PT_ALL, A_MAP, A_MEM, A_SIZE0, A_SCALAR),
	H(131, "bpf_ringbuf_reserve", RET_RB_NULL, PT_ALL, A_MAP, A_CONST, A_SCALAR),
	H(132, "bpf_ringbuf_submit", RET_VOID, PT_ALL, A_RB_MEM, A_SCALAR),
	H(133, "bpf_ringbuf_discard", RET_VOID, PT_ALL, A_RB_MEM, A_SCALAR),
	H(134, "bpf_ringbuf_query", RET_INT, PT_ALL, A_MAP, A_SCALAR),
	H(160, "bpf_ktime_get_coarse_ns", RET_INT, PT_ALL),
	H(164, "bpf_for_each_map_elem", RET_INT, PT_ALL, A_MAP, A_FUNC, A_ANY, A_SCALAR),
	/* fmt: a constant string (checked against data_len / 8 arguments, check_call.c) */
	H(165, "bpf_snprintf", RET_INT, PT_ALL, A_UMEM_NULL, A_SIZE0, A_CONST_STR, A_MEM_NULL,
	  A_SIZE0),
	/* trace_printk and trace_vprintk take their format as plain memory, as in Linux */
	H(177, "bpf_trace_vprintk", RET_INT, PT_ALL, A_MEM, A_SIZE, A_MEM_NULL, A_SIZE0),
	H(181, "bpf_loop", RET_INT, PT_ALL, A_SCALAR, A_FUNC, A_ANY, A_SCALAR),
	H(182, "bpf_strncmp", RET_INT, PT_ALL, A_MEM, A_SIZE, A_CONST_STR),
	H(188, "bpf_xdp_get_buff_len", RET_INT, PT_XDP, A_CTX),
	H(189, "bpf_xdp_load_bytes", RET_INT, PT_XDP, A_CTX, A_SCALAR, A_UMEM, A_SIZE),
	H(190, "bpf_xdp_store_bytes", RET_INT, PT_XDP, A_CTX, A_SCALAR, A_MEM, A_SIZE),
	H(195, "bpf_map_lookup_percpu_elem", RET_VALUE_NULL, PT_ALL, A_MAP, A_KEY, A_SCALAR),
	H(208, "bpf_ktime_get_tai_ns", RET_INT, PT_ALL),
};

const struct vproto *proto_get(uint32_t id)
{
	if (id >= sizeof(protos) / sizeof(protos[0]) || !protos[id].name)
		return NULL;
	return &protos[id];
}

unsigned proto_type_bit(enum bpfrt_prog_type type)
{
	switch (type) {
	case BPFRT_PROG_UNSPEC:		return PT_UNSPEC;
	case BPFRT_PROG_SOCKET_FILTER:	return PT_SOCKF;
	case BPFRT_PROG_SCHED_CLS:
	case BPFRT_PROG_SCHED_ACT:	return PT_TC;
	case BPFRT_PROG_XDP:		return PT_XDP;
	case BPFRT_PROG_KPROBE:
	case BPFRT_PROG_TRACEPOINT:
	case BPFRT_PROG_PERF_EVENT:
	case BPFRT_PROG_RAW_TRACEPOINT:
	case BPFRT_PROG_RAW_TRACEPOINT_WRITABLE:
	case BPFRT_PROG_TRACING:	return PT_TRACE;
	case BPFRT_PROG_CGROUP_SKB:	return PT_CGSKB;
	case BPFRT_PROG_SOCK_OPS:	return PT_SOCKOPS;
	case BPFRT_PROG_CGROUP_SOCK:
	case BPFRT_PROG_CGROUP_SOCK_ADDR: return PT_CGSOCK;
	case BPFRT_PROG_LWT_IN:
	case BPFRT_PROG_LWT_OUT:
	case BPFRT_PROG_LWT_XMIT:
	case BPFRT_PROG_LWT_SEG6LOCAL:	return PT_LWT;
	case BPFRT_PROG_SK_SKB:
	case BPFRT_PROG_SK_MSG:		return PT_SKSKB;
	case BPFRT_PROG_SYSCALL:	return PT_SYSCALL;
	default:			return PT_OTHER;
	}
}
