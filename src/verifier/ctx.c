/* ctx.c — each program type's context as the kernel lets programs see it: fields, sizes, writes, packet pointers. */
#include <stdio.h>

#include "verifier.h"

/*
 * Offsets and rules are the kernel's (the uapi structs and each type's
 * is_valid_access). A context is accessed at a constant offset through its
 * original pointer; what a read gives is a number, except for the packet
 * pointers of __sk_buff and xdp_md.
 */

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), F_NONE)

/* struct xdp_md: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex. */
static enum vfield xdp_ctx(int64_t off, unsigned size, bool write, char *why, size_t whylen)
{
	if (write)
		return WHY("xdp_md is read-only");
	if (off >= 24 || size != 4 || off % 4)
		return WHY("xdp_md has six 4-byte fields, read whole");
	switch (off) {
	case 0:  return F_PKT;
	case 4:  return F_PKT_END;
	case 8:  return F_PKT_META;
	default: return F_SCALAR;
	}
}

/* struct __sk_buff (192 bytes); offsets of the fields that are special. */
enum {
	SKB_MARK = 8, SKB_QUEUE_MAPPING = 12, SKB_PRIORITY = 32, SKB_TC_INDEX = 44,
	SKB_CB = 48, SKB_CB_END = 68, SKB_TC_CLASSID = 72, SKB_DATA = 76, SKB_DATA_END = 80,
	SKB_DATA_META = 140, SKB_FLOW_KEYS = 144, SKB_TSTAMP = 152, SKB_WIRE_LEN = 160,
	SKB_SK = 168, SKB_HWTSTAMP = 184, SKB_SIZE = 192,
};

static enum vfield skb_ctx(enum bpfrt_prog_type type, int64_t off, unsigned size, bool write,
			   char *why, size_t whylen)
{
	bool tc = type == BPFRT_PROG_SCHED_CLS || type == BPFRT_PROG_SCHED_ACT;
	bool sockf = type == BPFRT_PROG_SOCKET_FILTER;

	if (off + size > SKB_SIZE || off % size)
		return WHY("outside __sk_buff or misaligned");
	bool u64f = off == SKB_TSTAMP || off == SKB_HWTSTAMP;
	if ((off >= SKB_TSTAMP && off < SKB_TSTAMP + 8) || (off >= SKB_HWTSTAMP)) {
		if (!u64f || size != 8)
			return WHY("tstamp and hwtstamp are read as 8 bytes");
	} else if (size == 8) {
		if (off != SKB_FLOW_KEYS && off != SKB_SK)
			return WHY("__sk_buff's fields are 4 bytes");
	}
	/* any byte of them: a part of a pointer read as a number would be a leak (the kernel's ranges) */
	if ((off < SKB_FLOW_KEYS + 8 && off + size > SKB_FLOW_KEYS) ||
	    (off < SKB_SK + 8 && off + size > SKB_SK))
		return WHY("flow_keys and sk are not available to this program type in bpfrt");
	if (write) {
		if (off >= SKB_CB && off < SKB_CB_END)
			return F_SCALAR;
		if (sockf)
			return WHY("socket filters may write only cb[]");
		if (size != 4 && off != SKB_TSTAMP)
			return WHY("fields are written as 4 bytes");
		switch (off) {
		case SKB_MARK: case SKB_PRIORITY:
			return F_SCALAR;
		case SKB_TC_INDEX: case SKB_TC_CLASSID: case SKB_QUEUE_MAPPING: case SKB_TSTAMP:
			if (tc)
				return F_SCALAR;
			/* fall through */
		default:
			return WHY("this field is read-only for the program type");
		}
	}
	static const int64_t ptrs[] = { SKB_DATA, SKB_DATA_END, SKB_DATA_META };
	for (unsigned k = 0; k < 3; k++)	/* a part of a packet pointer is no number either */
		if (off != ptrs[k] && off < ptrs[k] + 4 && off + size > ptrs[k])
			return WHY("data, data_end and data_meta are read whole, as 4 bytes");
	if (off == SKB_DATA || off == SKB_DATA_END || off == SKB_DATA_META) {
		if (sockf)
			return WHY("socket filters cannot read data/data_end (use LD_ABS or "
				   "bpf_skb_load_bytes)");
		if (size != 4)
			return WHY("data pointers are read as 4 bytes");
		if (off == SKB_DATA_META && !tc)
			return WHY("data_meta is only for tc programs");
		return off == SKB_DATA ? F_PKT : off == SKB_DATA_END ? F_PKT_END : F_PKT_META;
	}
	if (sockf && (off == SKB_TC_CLASSID || off == SKB_TSTAMP || off == SKB_WIRE_LEN ||
		      off == SKB_HWTSTAMP))
		return WHY("socket filters cannot read this field");
	return F_SCALAR;
}

/* Read-only arrays of numbers: pt_regs, tracepoint records, raw tracepoint args. */
static enum vfield ro_ctx(int64_t off, unsigned size, bool write, int64_t len, const char *what,
			  char *why, size_t whylen)
{
	if (write)
		return WHY("%s is read-only", what);
	if (off + size > len || off % size)
		return WHY("%s has %lld bytes, read at aligned offsets", what, (long long)len);
	return F_SCALAR;
}

/* struct bpf_sock_ops (224 bytes). */
static enum vfield sockops_ctx(int64_t off, unsigned size, bool write, char *why, size_t whylen)
{
	if (write) {
		if (size == 4 && off % 4 == 0 && ((off >= 4 && off < 20) || off == 164))
			return F_SCALAR;
		return WHY("only reply, replylong[] and sk_txhash may be written");
	}
	if (off < 168 || off == 208 || off == 212) {
		if (size != 4 || off % 4)
			return WHY("bpf_sock_ops's 32-bit fields are read as 4 bytes");
		return F_SCALAR;
	}
	if (off == 168 || off == 176 || off == 216) {
		if (size != 8)
			return WHY("64-bit fields are read as 8 bytes");
		return F_SCALAR;
	}
	return WHY("sk, skb_data and skb_data_end are not available in bpfrt");
}

/* struct bpf_sock (80 bytes), for cgroup_sock. */
static enum vfield sock_ctx(int64_t off, unsigned size, bool write, char *why, size_t whylen)
{
	if (off + size > 80 || off % size || size > 4)
		return WHY("bpf_sock has 80 bytes of fields up to 4 bytes, aligned");
	if (write) {
		if (size == 4 && (off == 0 || off == 16 || off == 20))
			return F_SCALAR;
		return WHY("only bound_dev_if, mark and priority may be written");
	}
	return F_SCALAR;
}

enum vfield ctx_access(enum bpfrt_prog_type type, uint32_t ctx_size, int64_t off,
		       unsigned size, bool write, char *why, size_t whylen)
{
	if (off < 0)
		return WHY("negative offset");
	switch (type) {
	case BPFRT_PROG_XDP:
		return xdp_ctx(off, size, write, why, whylen);
	case BPFRT_PROG_SOCKET_FILTER:
	case BPFRT_PROG_SCHED_CLS:
	case BPFRT_PROG_SCHED_ACT:
	case BPFRT_PROG_CGROUP_SKB:
	case BPFRT_PROG_LWT_IN:
	case BPFRT_PROG_LWT_OUT:
	case BPFRT_PROG_LWT_XMIT:
	case BPFRT_PROG_SK_SKB:
		return skb_ctx(type, off, size, write, why, whylen);
	case BPFRT_PROG_KPROBE:
		return ro_ctx(off, size, write, 168, "pt_regs", why, whylen);
	case BPFRT_PROG_PERF_EVENT:
		return ro_ctx(off, size, write, 184, "bpf_perf_event_data", why, whylen);
	case BPFRT_PROG_TRACEPOINT:
		return ro_ctx(off, size, write, ctx_size ? ctx_size : 2048, "the tracepoint record",
			      why, whylen);
	case BPFRT_PROG_RAW_TRACEPOINT:
		return ro_ctx(off, size, write, 12 * 8, "the raw tracepoint's arguments", why,
			      whylen);
	case BPFRT_PROG_SOCK_OPS:
		return sockops_ctx(off, size, write, why, whylen);
	case BPFRT_PROG_CGROUP_SOCK:
		return sock_ctx(off, size, write, why, whylen);
	default:
		return WHY("this program type's context is not modelled by bpfrt's verifier");
	}
}

bool ctx_is_mem(enum bpfrt_prog_type type)
{
	return type == BPFRT_PROG_UNSPEC || type == BPFRT_PROG_SYSCALL;
}

bool ctx_has_ld_abs(enum bpfrt_prog_type type)
{
	return type == BPFRT_PROG_SOCKET_FILTER || type == BPFRT_PROG_SCHED_CLS ||
	       type == BPFRT_PROG_SCHED_ACT;
}

bool ctx_retval_range(enum bpfrt_prog_type type, int64_t *lo, int64_t *hi)
{
	switch (type) {
	case BPFRT_PROG_CGROUP_SKB:
	case BPFRT_PROG_CGROUP_SOCK:
	case BPFRT_PROG_SOCK_OPS:
	case BPFRT_PROG_CGROUP_DEVICE:
	case BPFRT_PROG_CGROUP_SYSCTL:
	case BPFRT_PROG_CGROUP_SOCKOPT:
		*lo = 0;
		*hi = 1;
		return true;
	default:
		return false;
	}
}

bool ctx_pkt_writable(enum bpfrt_prog_type type)
{
	return type == BPFRT_PROG_SCHED_CLS || type == BPFRT_PROG_SCHED_ACT ||
	       type == BPFRT_PROG_XDP || type == BPFRT_PROG_LWT_XMIT || type == BPFRT_PROG_SK_SKB;
}
