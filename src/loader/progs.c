/* progs.c — the functions in an object's code sections, which of them are programs, and their types. */
#include <ctype.h>
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "loader/loader.h"
#include "util/error.h"

/* ---- Program types by section name ---------------------------------------------- */

/*
 * A section name selects a type by its prefix. A prefix ending in '/'
 * must be followed by something; any other matches the whole name, or the
 * start of one that goes on with a separator or digit ("xdp", "xdp_fwd",
 * "xdp1", "socket/3", "tc_mark", "cgroup/sock1"), as the samples and
 * loaders before libbpf 1.0 named their sections. First match wins.
 */
static const struct {
	const char *prefix;
	enum bpfrt_prog_type type;
} sec_types[] = {
	{ "socket", BPFRT_PROG_SOCKET_FILTER },
	{ "sk_reuseport", BPFRT_PROG_SK_REUSEPORT },
	{ "kprobe/", BPFRT_PROG_KPROBE },
	{ "kretprobe/", BPFRT_PROG_KPROBE },
	{ "kprobe.multi/", BPFRT_PROG_KPROBE },
	{ "kretprobe.multi/", BPFRT_PROG_KPROBE },
	{ "ksyscall/", BPFRT_PROG_KPROBE },
	{ "kretsyscall/", BPFRT_PROG_KPROBE },
	{ "uprobe", BPFRT_PROG_KPROBE },
	{ "uretprobe", BPFRT_PROG_KPROBE },
	{ "usdt", BPFRT_PROG_KPROBE },
	{ "tracepoint/", BPFRT_PROG_TRACEPOINT },
	{ "tp/", BPFRT_PROG_TRACEPOINT },
	{ "raw_tracepoint.w/", BPFRT_PROG_RAW_TRACEPOINT_WRITABLE },
	{ "raw_tp.w/", BPFRT_PROG_RAW_TRACEPOINT_WRITABLE },
	{ "raw_tracepoint/", BPFRT_PROG_RAW_TRACEPOINT },
	{ "raw_tp/", BPFRT_PROG_RAW_TRACEPOINT },
	{ "tp_btf/", BPFRT_PROG_TRACING },
	{ "fentry", BPFRT_PROG_TRACING },
	{ "fexit", BPFRT_PROG_TRACING },
	{ "fmod_ret", BPFRT_PROG_TRACING },
	{ "iter", BPFRT_PROG_TRACING },
	{ "freplace/", BPFRT_PROG_EXT },
	{ "lsm", BPFRT_PROG_LSM },
	{ "struct_ops", BPFRT_PROG_STRUCT_OPS },
	{ "perf_event", BPFRT_PROG_PERF_EVENT },
	{ "xdp", BPFRT_PROG_XDP },
	{ "tc", BPFRT_PROG_SCHED_CLS },
	{ "tcx/", BPFRT_PROG_SCHED_CLS },
	{ "netkit/", BPFRT_PROG_SCHED_CLS },
	{ "classifier", BPFRT_PROG_SCHED_CLS },
	{ "action", BPFRT_PROG_SCHED_ACT },
	{ "lwt_in", BPFRT_PROG_LWT_IN },
	{ "lwt_out", BPFRT_PROG_LWT_OUT },
	{ "lwt_xmit", BPFRT_PROG_LWT_XMIT },
	{ "lwt_seg6local", BPFRT_PROG_LWT_SEG6LOCAL },
	{ "sockops", BPFRT_PROG_SOCK_OPS },
	{ "sk_skb", BPFRT_PROG_SK_SKB },
	{ "sk_msg", BPFRT_PROG_SK_MSG },
	{ "sk_lookup", BPFRT_PROG_SK_LOOKUP },
	{ "lirc_mode2", BPFRT_PROG_LIRC_MODE2 },
	{ "flow_dissector", BPFRT_PROG_FLOW_DISSECTOR },
	{ "cgroup_skb/", BPFRT_PROG_CGROUP_SKB },
	{ "cgroup/skb", BPFRT_PROG_CGROUP_SKB },
	{ "cgroup/dev", BPFRT_PROG_CGROUP_DEVICE },
	{ "cgroup/sysctl", BPFRT_PROG_CGROUP_SYSCTL },
	{ "cgroup/getsockopt", BPFRT_PROG_CGROUP_SOCKOPT },
	{ "cgroup/setsockopt", BPFRT_PROG_CGROUP_SOCKOPT },
	{ "cgroup/sock", BPFRT_PROG_CGROUP_SOCK },	/* sock_create, sock_release, sock1 */
	{ "cgroup/post_bind", BPFRT_PROG_CGROUP_SOCK },
	{ "cgroup/", BPFRT_PROG_CGROUP_SOCK_ADDR },	/* bind4, connect6, sendmsg4, ... */
	{ "syscall", BPFRT_PROG_SYSCALL },
	{ "netfilter", BPFRT_PROG_NETFILTER },
};

static bool sec_matches(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	char next;

	if (strncmp(name, prefix, n))
		return false;
	next = name[n];
	if (prefix[n - 1] == '/')
		return next != '\0';
	return next == '\0' || next == '/' || next == '_' || next == '.' ||
	       next == '-' || isdigit((unsigned char)next);
}

enum bpfrt_prog_type ld_prog_type_of(const char *section)
{
	for (size_t i = 0; i < ARRAY_SIZE(sec_types); i++)
		if (sec_matches(section, sec_types[i].prefix))
			return sec_types[i].type;
	return BPFRT_PROG_UNSPEC;
}

BPFRT_API const char *bpfrt_prog_type_name(enum bpfrt_prog_type type)
{
	static const char *const names[] = {
		"unspec", "socket_filter", "kprobe", "sched_cls", "sched_act",
		"tracepoint", "xdp", "perf_event", "cgroup_skb", "cgroup_sock",
		"lwt_in", "lwt_out", "lwt_xmit", "sock_ops", "sk_skb",
		"cgroup_device", "sk_msg", "raw_tracepoint", "cgroup_sock_addr",
		"lwt_seg6local", "lirc_mode2", "sk_reuseport", "flow_dissector",
		"cgroup_sysctl", "raw_tracepoint_writable", "cgroup_sockopt",
		"tracing", "struct_ops", "ext", "lsm", "sk_lookup", "syscall",
		"netfilter",
	};
	return (unsigned)type < ARRAY_SIZE(names) ? names[type] : "unknown";
}

/* ---- Functions -------------------------------------------------------------------- */

/*
 * A function is named by a symbol in a code section: STT_FUNC, or a global
 * STT_NOTYPE symbol (what older clang wrote for programs; local NOTYPE
 * symbols are branch labels). It runs up to its st_size, or to the next
 * function. A code section without such a symbol is one function named
 * after the section.
 */
static bool is_func_sym(const struct ld_sym *y)
{
	if (y->type == STT_FUNC)
		return true;
	return y->type == STT_NOTYPE && y->bind != STB_LOCAL && y->name[0];
}

static int cmp_func(const void *a, const void *b)
{
	const struct ld_func *x = a, *y = b;

	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (int)y->global - (int)x->global;	/* globals first among aliases */
}

static int add_func(struct bpfrt_obj *obj, size_t *cap, const struct ld_func *f)
{
	if (obj->nfuncs == *cap) {
		size_t c = *cap ? 2 * *cap : 16;
		struct ld_func *p = realloc(obj->funcs, c * sizeof(*p));

		if (!p)
			return -ENOMEM;
		obj->funcs = p;
		*cap = c;
	}
	obj->funcs[obj->nfuncs++] = *f;
	return 0;
}

/* A code section that no symbol divides is one function. */
static int add_unnamed(struct bpfrt_obj *obj, size_t *cap, struct bpfrt_error *err)
{
	bool *named = calloc(obj->nsecs, sizeof(*named));
	int ret = 0;

	if (!named)
		return err_set(err, -ENOMEM, -1, "out of memory");
	for (size_t k = 0; k < obj->nfuncs; k++)
		named[obj->funcs[k].sec] = true;
	for (uint32_t i = 1; i < obj->nsecs && !ret; i++) {
		const struct ld_sec *s = &obj->secs[i];
		struct ld_func f = { s->name, i, 0, s->size / 8, true, -1 };

		if (s->kind == LD_SEC_PROG && !named[i] && add_func(obj, cap, &f))
			ret = err_set(err, -ENOMEM, -1, "out of memory");
	}
	free(named);
	return ret;
}

static int collect_funcs(struct bpfrt_obj *obj, struct bpfrt_error *err)
{
	size_t cap = 0;

	for (size_t i = 0; i < obj->nsyms; i++) {
		const struct ld_sym *y = &obj->syms[i];
		const struct ld_sec *s;
		struct ld_func f;

		if (y->shndx == SHN_UNDEF || y->shndx >= obj->nsecs || !is_func_sym(y))
			continue;
		s = &obj->secs[y->shndx];
		if (s->kind != LD_SEC_PROG)
			continue;
		if (y->value % sizeof(struct bpfrt_insn) || y->value >= s->size ||
		    y->size % sizeof(struct bpfrt_insn) || y->size > s->size - y->value)
			return err_set(err, -EINVAL, -1,
				       "function '%s' (offset %#llx, %llu bytes) does not "
				       "fit the instructions of section '%s' (%zu bytes)",
				       y->name, (unsigned long long)y->value,
				       (unsigned long long)y->size, s->name, s->size);
		f = (struct ld_func){ y->name, y->shndx, y->value / 8, y->size / 8,
				      y->bind != STB_LOCAL, -1 };
		if (add_func(obj, &cap, &f))
			return err_set(err, -ENOMEM, -1, "out of memory");
	}
	return add_unnamed(obj, &cap, err);
}

/* Sort, drop aliases, give sizeless functions the room up to the next one. */
static void arrange_funcs(struct bpfrt_obj *obj)
{
	size_t out = 0;

	if (obj->nfuncs)
		qsort(obj->funcs, obj->nfuncs, sizeof(*obj->funcs), cmp_func);
	for (size_t i = 0; i < obj->nfuncs; i++) {
		if (out && obj->funcs[out - 1].sec == obj->funcs[i].sec &&
		    obj->funcs[out - 1].start == obj->funcs[i].start)
			continue;
		obj->funcs[out++] = obj->funcs[i];
	}
	obj->nfuncs = out;
	for (size_t i = 0; i < obj->nfuncs; i++) {
		struct ld_func *f = &obj->funcs[i];
		struct ld_sec *s = &obj->secs[f->sec];
		size_t end = s->size / 8;

		if (i + 1 < obj->nfuncs && obj->funcs[i + 1].sec == f->sec)
			end = obj->funcs[i + 1].start;
		if (!f->n || f->n > end - f->start)
			f->n = end - f->start;
		if (!s->nfuncs)
			s->func0 = i;
		s->nfuncs++;
	}
}

int ld_func_at(const struct bpfrt_obj *obj, uint32_t sec, uint64_t insn)
{
	const struct ld_sec *s = &obj->secs[sec];
	size_t lo = s->func0, hi = s->func0 + s->nfuncs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (obj->funcs[mid].start < insn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->func0 + s->nfuncs && obj->funcs[lo].start == insn)
		return (int)lo;
	return -1;
}

/* ---- Programs --------------------------------------------------------------------- */

/* Every global function is a program: in section order, then by offset. */
int ld_progs_find(struct bpfrt_obj *obj, struct bpfrt_error *err)
{
	size_t n = 0;
	int ret;

	ret = collect_funcs(obj, err);
	if (ret)
		return ret;
	arrange_funcs(obj);
	for (size_t i = 0; i < obj->nfuncs; i++)
		n += obj->funcs[i].global;
	obj->progs = calloc(n ? n : 1, sizeof(*obj->progs));
	if (!obj->progs)
		return err_set(err, -ENOMEM, -1, "out of memory");
	for (size_t i = 0; i < obj->nfuncs; i++) {
		struct ld_func *f = &obj->funcs[i];
		struct ld_prog *p;

		if (!f->global)
			continue;
		f->prog = (int)obj->nprogs;
		p = &obj->progs[obj->nprogs++];
		p->name = f->name;
		p->sec = f->sec;
		p->func = (int)i;
		p->type = ld_prog_type_of(obj->secs[f->sec].name);
		if (p->type == BPFRT_PROG_UNSPEC)
			p->type = obj->default_type;
		p->autoload = true;
	}
	return 0;
}
