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
	if (off == 20)	/* the kernel: only with expected attach type BPF_XDP_DEVMAP */
		return WHY("egress_ifindex is only for programs in a devmap");
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
	SKB_FAMILY = 88, SKB_REMOTE_IP4 = 92, SKB_REMOTE_PORT = 132, SKB_LOCAL_PORT_END = 140,
	SKB_DATA_META = 140, SKB_FLOW_KEYS = 144, SKB_TSTAMP = 152, SKB_WIRE_LEN = 160,
	SKB_SK = 168, SKB_TSTAMP_TYPE = 180, SKB_HWTSTAMP = 184, SKB_SIZE = 192,
};

/* Does [off, off + size) touch the n bytes at at? */
static bool overlaps(int64_t off, unsigned size, int64_t at, unsigned n)
{
	return off < at + n && off + size > at;
}

/*
 * The kernel's rules (bpf_skb_is_valid_access and each type's own): narrow
 * reads of the 32-bit fields are allowed; data, data_end and data_meta are
 * read whole; flow_keys, sk, tstamp and hwtstamp only as 8 bytes at their
 * start; the socket's fields (family .. local_port) only by sk_skb and
 * cgroup_skb, their addresses whole; wire_len and tc_classid only by tc.
 */
static enum vfield skb_ctx(enum bpfrt_prog_type type, int64_t off, unsigned size, bool write,
			   char *why, size_t whylen)
{
	bool tc = type == BPFRT_PROG_SCHED_CLS || type == BPFRT_PROG_SCHED_ACT;
	bool sockf = type == BPFRT_PROG_SOCKET_FILTER;
	bool cgskb = type == BPFRT_PROG_CGROUP_SKB, skskb = type == BPFRT_PROG_SK_SKB;
	bool lwt = !tc && !sockf && !cgskb && !skskb;	/* lwt_in, lwt_out, lwt_xmit */

	if (off + size > SKB_SIZE || off % size)
		return WHY("outside __sk_buff or misaligned");
	if (overlaps(off, size, SKB_CB, SKB_CB_END - SKB_CB)) {
		if (off + size > SKB_CB_END)
			return WHY("cb[] is 20 bytes");
		if (write && skskb)
			return WHY("sk_skb programs cannot write cb[]");
		return F_SCALAR;
	}
	if (overlaps(off, size, SKB_DATA, 8) || overlaps(off, size, SKB_DATA_META, 4)) {
		if (write)
			return WHY("data, data_end and data_meta are read-only");
		if (sockf)
			return WHY("socket filters cannot read data/data_end (use LD_ABS or "
				   "bpf_skb_load_bytes)");
		if (size != 4 || off % 4)
			return WHY("data pointers are read as 4 bytes");
		if (off == SKB_DATA_META && !tc)
			return WHY("data_meta is only for tc programs");
		return off == SKB_DATA ? F_PKT : off == SKB_DATA_END ? F_PKT_END : F_PKT_META;
	}
	if (overlaps(off, size, SKB_FLOW_KEYS, 8))
		return WHY("flow_keys is only for flow_dissector programs");
	if (overlaps(off, size, SKB_SK, 8)) {
		if (write || size != 8)
			return WHY("sk is a read-only pointer, read as 8 bytes");
		return F_SOCK;	/* NULL in every bpfrt run: bpfrt has no sockets */
	}
	if (overlaps(off, size, SKB_TSTAMP, 8)) {
		if (size != 8)
			return WHY("tstamp is accessed as 8 bytes");
		if (write ? !tc && !cgskb : lwt || skskb || sockf)
			return WHY("tstamp is not %s by this program type", write ? "writable" :
				   "readable");
		return F_SCALAR;
	}
	if (overlaps(off, size, SKB_HWTSTAMP, 8)) {
		if (size != 8 || write)
			return WHY("hwtstamp is read-only, read as 8 bytes");
		if (lwt || skskb || sockf)
			return WHY("hwtstamp is not readable by this program type");
		return F_SCALAR;
	}
	if (overlaps(off, size, SKB_TSTAMP_TYPE, 4)) {
		if (tc && !write && off == SKB_TSTAMP_TYPE && size == 1)
			return F_SCALAR;
		return WHY("tstamp_type is one byte only tc programs may read");
	}
	if (size == 8)
		return WHY("__sk_buff's fields are 4 bytes");
	if (overlaps(off, size, SKB_TC_CLASSID, 4) && !tc)
		return WHY("tc_classid is only for tc programs");
	if (overlaps(off, size, SKB_WIRE_LEN, 4) && (!tc || write))
		return WHY("wire_len is read-only, and only for tc programs");
	if (overlaps(off, size, SKB_FAMILY, SKB_LOCAL_PORT_END - SKB_FAMILY)) {
		if (!cgskb && !skskb)
			return WHY("the socket's fields (family .. local_port) are only for sk_skb "
				   "and cgroup_skb programs");
		if (write)
			return WHY("the socket's fields are read-only");
		if (off >= SKB_REMOTE_IP4 && off < SKB_REMOTE_PORT && size != 4)
			return WHY("addresses are read as 4 bytes");
		return F_SCALAR;
	}
	if (skskb && overlaps(off, size, SKB_MARK, 4))
		return WHY("sk_skb programs cannot use mark");
	if (!write)
		return F_SCALAR;
	if (sockf)
		return WHY("socket filters may write only cb[]");
	if (size != 4)
		return WHY("fields are written as 4 bytes");
	switch (off) {
	case SKB_PRIORITY:
		return F_SCALAR;
	case SKB_MARK:
		if (!skskb)
			return F_SCALAR;
		break;
	case SKB_TC_INDEX:
		if (tc || skskb)
			return F_SCALAR;
		break;
	case SKB_TC_CLASSID: case SKB_QUEUE_MAPPING:
		if (tc)
			return F_SCALAR;
		break;
	}
	return WHY("this field is read-only for the program type");
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

/*
 * struct bpf_sock_ops (224 bytes): 32-bit fields read whole (skb_tcp_flags
 * also narrower), 64-bit ones as 8 bytes; sk (a full socket, or NULL),
 * skb_data and skb_data_end (the packet, read-only) as 8-byte pointers;
 * only reply and sk_txhash may be written.
 */
static enum vfield sockops_ctx(int64_t off, unsigned size, bool write, char *why, size_t whylen)
{
	if (off + size > 224 || off % size)
		return WHY("outside bpf_sock_ops or misaligned");
	if (write) {
		if (size == 4 && (off == 4 || off == 164))
			return F_SCALAR;
		return WHY("only reply and sk_txhash may be written, whole");
	}
	if (off == 212 && size <= 4)
		return F_SCALAR;		/* skb_tcp_flags */
	if ((off >= 168 && off < 208) || off >= 216) {
		if (size != 8)
			return WHY("64-bit fields and pointers are read as 8 bytes");
		switch (off) {
		case 184: return F_SOCK_FULL;
		case 192: return F_PKT;
		case 200: return F_PKT_END;
		default:  return F_SCALAR;
		}
	}
	if (size != 4)
		return WHY("bpf_sock_ops's 32-bit fields are read as 4 bytes");
	return F_SCALAR;
}

/*
 * Reading struct bpf_sock (80 bytes; the kernel's bpf_sock_is_valid_access):
 * fields of at most 4 bytes, aligned; the addresses may be read in narrower
 * parts anywhere, family, type, protocol, src_port, state and
 * rx_queue_mapping only from their start, the 16-bit dst_port in its own two
 * bytes (or whole as 4), the rest (bound_dev_if, mark, priority) whole.
 */
static bool sock_read_ok(int64_t off, unsigned size, char *why, size_t whylen)
{
	if (off < 0 || off + size > 80 || off % size || size > 4)
		return snprintf(why, whylen, "struct bpf_sock has 80 bytes of fields up to 4 "
				"bytes, read aligned") < 0;
	int64_t start = off & ~3ll;
	switch (start) {
	case 4: case 8: case 12: case 44: case 72: case 76:	/* family .. rx_queue_mapping */
		if (off != start)
			return snprintf(why, whylen, "this field is read from its start") < 0;
		return true;
	case 24: case 28: case 32: case 36: case 40:		/* src_ip4, src_ip6 */
	case 52: case 56: case 60: case 64: case 68:		/* dst_ip4, dst_ip6 */
		return true;
	case 48:						/* dst_port */
		if (off + size <= 50 || size == 4)
			return true;
		return snprintf(why, whylen, "the 2 bytes after dst_port are padding") < 0;
	default:						/* bound_dev_if, mark, priority */
		if (size != 4)
			return snprintf(why, whylen, "this field is read as 4 bytes") < 0;
		return true;
	}
}

/*
 * struct bpf_sock, for cgroup_sock as the kernel loads it without an
 * expected attach type (BPF_CGROUP_INET_SOCK_CREATE): bound_dev_if, mark and
 * priority may be read and written (whole); the source address and port
 * are not set yet and may not be read; the rest is read-only.
 */
static enum vfield sock_ctx(int64_t off, unsigned size, bool write, char *why, size_t whylen)
{
	if (off >= 0 && off < 80 && (off == 0 || off == 16 || off == 20) && size == 4)
		return F_SCALAR;
	if (off >= 24 && off < 48)
		return WHY("src_ip4, src_ip6 and src_port are not set when a socket is created");
	if (write)
		return WHY("only bound_dev_if, mark and priority may be written, whole");
	return sock_read_ok(off, size, why, whylen) ? F_SCALAR : F_NONE;
}

/*
 * struct bpf_sock through a pointer: read-only. A sock_common (what
 * __sk_buff->sk points to) has no type, protocol, mark and priority (8..23);
 * a full socket (bpf_sock_ops->sk) has every field.
 */
bool ctx_sock_access(bool full, int64_t off, unsigned size, bool write, char *why,
		     size_t whylen)
{
	if (write)
		return snprintf(why, whylen, "the socket is read-only") < 0;
	if (!full && off >= 8 && off < 24)
		return snprintf(why, whylen, "type, protocol, mark and priority are not in a "
				"sock_common") < 0;
	return sock_read_ok(off, size, why, whylen);
}

/*
 * struct sk_msg_md (80 bytes), read-only: data and data_end (the message's
 * bytes) and sk (its socket, never NULL) as 8-byte pointers; family ..
 * local_port and size as whole 32-bit fields.
 */
static enum vfield sk_msg_ctx(int64_t off, unsigned size, bool write, char *why, size_t whylen)
{
	if (write)
		return WHY("sk_msg_md is read-only");
	if (off + size > 80 || off % size)
		return WHY("outside sk_msg_md or misaligned");
	switch (off < 16 || off >= 72 ? off & ~7ll : -1) {
	case 0:  return size == 8 ? F_PKT : WHY("data is read as 8 bytes");
	case 8:  return size == 8 ? F_PKT_END : WHY("data_end is read as 8 bytes");
	case 72: return size == 8 ? F_SOCK_FULL_NN : WHY("sk is read as 8 bytes");
	}
	if (size != 4)
		return WHY("sk_msg_md's 32-bit fields are read whole");
	return F_SCALAR;
}

/* struct bpf_cgroup_dev_ctx: access_type (also narrower), major, minor; read-only. */
static enum vfield dev_ctx(int64_t off, unsigned size, bool write, char *why, size_t whylen)
{
	if (write)
		return WHY("bpf_cgroup_dev_ctx is read-only");
	if (off + size > 12 || off % size)
		return WHY("bpf_cgroup_dev_ctx has 12 bytes, read aligned");
	if (off >= 4 && size != 4)
		return WHY("major and minor are read as 4 bytes");
	if (size > 4)
		return WHY("access_type is 4 bytes");
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
		if (off < 168 && size != 8)	/* pt_regs as longs; sample_period, addr narrower */
			return WHY("the registers of bpf_perf_event_data are read as 8 bytes");
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
	case BPFRT_PROG_SK_MSG:
		return sk_msg_ctx(off, size, write, why, whylen);
	case BPFRT_PROG_CGROUP_DEVICE:
		return dev_ctx(off, size, write, why, whylen);
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
