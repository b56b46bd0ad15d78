/* kdiff.c — differential test: random programs run in the Linux kernel and in bpfrt.
 *
 *   build/kdiff [--count N] [--seed S] [--engine interp|jit] [--family F]
 *               [--coverage] [--dump] [-v]
 *   build/kdiff --disasm-oracle [--count N] [--seed S]
 *
 * Program i is generated from seed S + i (gen.c), in one of three families
 * mixed by seed: 60% plain syscall programs, 25% syscall programs with
 * bpf-to-bpf calls and helper calls, 15% socket filters (--family plain,
 * calls or skb forces one). A syscall program runs through
 * BPF_PROG_TEST_RUN on a copy of a random ctx, which the kernel copies back
 * afterwards; bpfrt runs the same instructions on the same input, unchecked
 * and checked, and the ctx words (where the program leaves its registers and
 * stack) and the low 32 bits of r0 must agree. A socket filter runs on a
 * random packet (data_in in the kernel, whose LD_ABS offset 0 is the byte
 * after the Ethernet header; opts.pkt from that byte in bpfrt) and its
 * 32-bit result, which folds every register and stack slot, must agree.
 *
 * Helper calls go to the kernel's helpers and to stand-ins registered in
 * bpfrt with the same meaning (bpf_strtol, bpf_strtoul, bpf_strncmp,
 * bpf_map_lookup_elem; two array maps hold the strings and the table they
 * read). bpfrt gets the program with its map lddws resolved to host
 * addresses, as a loader would, and the maps' values as read-only regions.
 *
 * A program the kernel rejects is a defect of the generator. A divergent
 * program is cut to the fewest generation steps that still diverge before
 * it is shown. --coverage counts the instruction forms generated, --dump
 * shows every program that agrees, -v shows every report in full, with the
 * program as the kernel runs it after verification.
 *
 * --disasm-oracle compares bpfrt_disasm_insn with two disassemblers, line by
 * line: the kernel's own, from the "Live regs" listing its verifier log
 * (level 2, Linux 6.15 and later) prints of the program as loaded, before
 * verifying it, on N generated programs (300 by default), a catalogue of
 * every form and the conformance suite's programs (tests/conformance, from
 * the repository's root); and `bpftool -j prog dump xlated`, on the
 * catalogue and every 5th generated program (bpftool takes 0.15 s each),
 * whose text of each xlated instruction is compared with bpfrt's text of
 * the same instruction, so the kernel's rewrites need no alignment. Helper
 * calls and map lddws are not compared (the kernel names helpers and maps
 * its own way), nor bpftool's xlated local calls (the kernel rewrote their
 * imm) or, when bpftool predates cpu v4 (v7.3), its lines of v4 forms. It
 * ends with "N passed, M failed": one check per program and oracle.
 *
 * Exit status: 0 if all agree, 1 on a divergence or more than 1% rejected,
 * 77 when bpf() or the engine is unavailable (skip), 2 on bad usage.
 * --disasm-oracle: 0, or 1 if a notation differs; 0 when it cannot run.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bpfrt.h"
#include "gen.h"

_Static_assert(sizeof(struct bpfrt_insn) == sizeof(struct bpf_insn),
	       "bpfrt and the kernel must share the instruction layout");

#ifndef BPF_LOG_FIXED
#define BPF_LOG_FIXED	8	/* keep the log's beginning when it overflows (6.4) */
#endif

#define NWORDS		(GEN_CTX_SIZE / 8)
#define RETVAL_WORD	NWORDS		/* first_diff(): the return value */
#define MAX_REPORTS	10		/* full divergence reports without -v */
#define MAX_LOGS	3		/* verifier logs of rejected programs */
#define LOG_SIZE	(64 * 1024)
#define LOG_TAIL	2000		/* characters of a log shown */

static const char *const family_names[GEN_NFAMILIES] = { "plain", "calls", "skb" };

struct options {
	unsigned long count;
	uint64_t seed;
	enum bpfrt_engine engine;
	struct gen_opts gen;
	bool verbose;
	bool coverage;
	bool dump;
	bool oracle;
	bool counted;		/* --count given */
};

struct result {
	int err;		/* 0, or the negative errno of a failed run */
	char msg[256];
	uint64_t retval;
	uint8_t ctx[GEN_CTX_SIZE];	/* syscall programs; zero for socket filters */
};

struct stats {
	unsigned long programs, divergences, rejected;
	unsigned long families[GEN_NFAMILIES];
	unsigned long skb_zero;	/* socket filters the kernel ran to 0 (a load out of range?) */
	uint32_t *forms;	/* gen_nforms() counters */
};

/* ---- The kernel -------------------------------------------------------- */

static int map_fds[GEN_NMAPS];	/* GEN_MAP_* in the kernel, for fd_array */

static int sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* Load insns as a program of `type`: an fd, or -errno. log may be NULL. */
static int kern_load_raw(uint32_t type, const struct bpfrt_insn *insns, size_t n,
			 char *log, size_t log_len, uint32_t log_level)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uintptr_t)"GPL";
	if (type == BPF_PROG_TYPE_SYSCALL)
		a.prog_flags = BPF_F_SLEEPABLE;	/* syscall programs must be */
	a.fd_array = (uintptr_t)map_fds;
	if (log) {
		log[0] = '\0';
		a.log_buf = (uintptr_t)log;
		a.log_size = (uint32_t)log_len;
		a.log_level = log_level;
	}
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	return fd < 0 ? -errno : fd;
}

static uint32_t prog_type(const struct gen_prog *p)
{
	return p->family == GEN_SKB ? BPF_PROG_TYPE_SOCKET_FILTER : BPF_PROG_TYPE_SYSCALL;
}

/* The program as the kernel gets it: map lddws by index name the maps' fds. */
static void kern_patch(const struct gen_prog *p, struct bpfrt_insn *out)
{
	memcpy(out, p->insns, p->n * sizeof(*out));
	for (size_t i = 0; i + 1 < p->n; i++) {
		if (out[i].code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		if (out[i].src_reg == BPF_PSEUDO_MAP_FD ||
		    out[i].src_reg == BPF_PSEUDO_MAP_VALUE)
			out[i].imm = map_fds[out[i].imm];
		i++;
	}
}

static int kern_load(const struct gen_prog *p, char *log, size_t log_len)
{
	static struct bpfrt_insn insns[GEN_MAX_INSNS];

	kern_patch(p, insns);
	return kern_load_raw(prog_type(p), insns, p->n, log, log_len, 1);
}

/* Run fd once on ctx, which the kernel copies in and back out. */
static int kern_run(int fd, void *ctx, size_t len, uint32_t *retval)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)fd;
	a.test.ctx_in = (uintptr_t)ctx;
	a.test.ctx_size_in = (uint32_t)len;
	if (sys_bpf(BPF_PROG_TEST_RUN, &a) < 0)
		return -errno;
	*retval = a.test.retval;
	return 0;
}

/* Run a socket filter once on a packet (data_in: from its Ethernet header). */
static int kern_run_pkt(int fd, const void *pkt, size_t len, uint32_t *retval)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)fd;
	a.test.data_in = (uintptr_t)pkt;
	a.test.data_size_in = (uint32_t)len;
	if (sys_bpf(BPF_PROG_TEST_RUN, &a) < 0)
		return -errno;
	*retval = a.test.retval;
	return 0;
}

/*
 * No bpf() for us, or no syscall programs: EINVAL with an empty log means
 * the kernel refused the request before verifying (an unknown program type).
 */
static bool kern_unavailable(int err, const char *log)
{
	return err == -EPERM || err == -ENOSYS || err == -EACCES ||
	       (err == -EINVAL && !log[0]);
}

/*
 * Can we load and run a syscall program, and does the kernel copy the ctx
 * back after the run (the test reads its results there)? 0 if so, else the
 * exit status: 77 to skip, 1 if this kernel cannot serve the test.
 */
static int kern_probe(void)
{
	static const struct bpfrt_insn probe[] = {
		{ .code = BPF_LD | BPF_IMM | BPF_DW, .dst_reg = 2, .imm = 0x11223344 },
		{ .imm = 0x55667788 },
		{ .code = BPF_STX | BPF_MEM | BPF_DW, .dst_reg = 1, .src_reg = 2, .off = 8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .imm = 7 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	static char log[LOG_SIZE];
	uint64_t ctx[4] = { 0 };
	uint32_t ret = 0;
	int fd, err;

	fd = kern_load_raw(BPF_PROG_TYPE_SYSCALL, probe, sizeof(probe) / sizeof(probe[0]),
			   log, sizeof(log), 1);
	err = fd < 0 ? fd : kern_run(fd, ctx, sizeof(ctx), &ret);
	if (fd >= 0)
		close(fd);
	if (err && kern_unavailable(err, fd < 0 ? log : "")) {
		printf("kdiff: SKIP: bpf() unavailable: %s\n", strerror(-err));
		return 77;
	}
	if (err) {
		fprintf(stderr, "kdiff: a trivial syscall program fails: %s\n%s",
			strerror(-err), fd < 0 ? log : "");
		return 1;
	}
	if (ret != 7 || ctx[1] != 0x5566778811223344ull) {
		fprintf(stderr, "kdiff: BPF_PROG_TEST_RUN did not copy the ctx back "
			"(retval %u, word %#llx); this test reads results there\n",
			ret, (unsigned long long)ctx[1]);
		return 1;
	}
	return 0;
}

/*
 * Create map m, fill it, and for GEN_MAP_STR make it read-only for programs
 * and freeze it (bpf_strncmp wants such a constant string). GEN_MAP_TABLE
 * stays writable, as the verifier folds loads from read-only maps only when
 * they have one entry; programs never write it. Its fd or -errno.
 */
static int kern_map(int m)
{
	static uint8_t values[GEN_TABLE_ENTRIES * GEN_MAP_VALUE_SIZE];
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = GEN_MAP_VALUE_SIZE;
	a.max_entries = gen_map_entries(m);
	a.map_flags = m == GEN_MAP_STR ? BPF_F_RDONLY_PROG : 0;
	fd = sys_bpf(BPF_MAP_CREATE, &a);
	if (fd < 0)
		return -errno;
	gen_map_values(m, values);
	for (uint32_t key = 0; key < gen_map_entries(m); key++) {
		memset(&a, 0, sizeof(a));
		a.map_fd = (uint32_t)fd;
		a.key = (uintptr_t)&key;
		a.value = (uintptr_t)(values + key * GEN_MAP_VALUE_SIZE);
		if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0)
			return -errno;
	}
	if (m != GEN_MAP_STR)
		return fd;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	return sys_bpf(BPF_MAP_FREEZE, &a) < 0 ? -errno : fd;
}

static int kern_maps(void)
{
	for (int m = 0; m < GEN_NMAPS; m++) {
		map_fds[m] = kern_map(m);
		if (map_fds[m] < 0) {
			fprintf(stderr, "kdiff: cannot make an array map: %s\n",
				strerror(-map_fds[m]));
			return 1;
		}
	}
	return 0;
}

/* Load and run prog in the kernel; -errno if it is rejected or fails. */
static int kern_exec(const struct gen_prog *prog, const uint8_t *input,
		     struct result *res)
{
	uint32_t ret = 0;
	int fd = kern_load(prog, NULL, 0);

	memset(res, 0, sizeof(*res));
	if (fd < 0)
		return res->err = fd;
	if (prog->family == GEN_SKB) {
		res->err = kern_run_pkt(fd, prog->pkt, prog->pkt_len, &ret);
	} else {
		memcpy(res->ctx, input, GEN_CTX_SIZE);
		res->err = kern_run(fd, res->ctx, GEN_CTX_SIZE, &ret);
	}
	close(fd);
	res->retval = ret;
	return res->err;
}

/* The xlated instructions of a loaded program into out[cap]: their count, or -errno. */
static int kern_xlated_fd(int fd, struct bpfrt_insn *out, size_t cap, uint32_t *id)
{
	struct bpf_prog_info info;
	union bpf_attr a;

	memset(&info, 0, sizeof(info));
	info.xlated_prog_len = (uint32_t)(cap * sizeof(*out));
	info.xlated_prog_insns = (uintptr_t)out;
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = sizeof(info);
	a.info.info = (uintptr_t)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0)
		return -errno;
	if (id)
		*id = info.id;
	return (int)(info.xlated_prog_len / sizeof(struct bpf_insn));
}

/*
 * The program as the kernel runs it after verification (dead code removed,
 * division patched...): shows what the verifier concluded. Returns slots.
 */
static int kern_xlated(const struct gen_prog *prog, struct gen_prog *out)
{
	int fd = kern_load(prog, NULL, 0), n;

	if (fd < 0)
		return fd;
	n = kern_xlated_fd(fd, out->insns, GEN_MAX_INSNS, NULL);
	close(fd);
	if (n < 0)
		return n;
	out->n = (size_t)n > GEN_MAX_INSNS ? GEN_MAX_INSNS : (size_t)n;
	out->ctx_reg = prog->ctx_reg;
	out->family = prog->family;
	return (int)out->n;
}

/* ---- bpfrt's stand-ins for the kernel's helpers ------------------------ */

/* The host copy of a GEN_MAP_*: what bpf_map_lookup_elem and map lddws reach. */
struct rt_map {
	uint32_t entries;
	uint8_t values[GEN_TABLE_ENTRIES * GEN_MAP_VALUE_SIZE];
};

static struct rt_map rt_maps[GEN_NMAPS];
static struct bpfrt_region rt_regions[GEN_NMAPS];

/* How the stand-ins' calls turned out, for --coverage: index 0 counts errors / misses. */
enum { HS_LOOKUP, HS_STRTOL, HS_STRTOUL, HS_STRNCMP, HS_COUNT };
static unsigned long helper_calls[HS_COUNT][3];	/* [helper][<0 / 0 / >0] */

static uint64_t count_result(int h, uint64_t ret)
{
	helper_calls[h][(int64_t)ret < 0 ? 0 : ret == 0 ? 1 : 2]++;
	return ret;
}

static void rt_maps_init(void)
{
	for (int m = 0; m < GEN_NMAPS; m++) {
		rt_maps[m].entries = gen_map_entries(m);
		gen_map_values(m, rt_maps[m].values);
		rt_regions[m].base = rt_maps[m].values;
		rt_regions[m].len = rt_maps[m].entries * GEN_MAP_VALUE_SIZE;
		rt_regions[m].writable = false;
	}
}

static void *ptr(uint64_t v)
{
	return (void *)(uintptr_t)v;
}

/* Fail the run unless it may touch [p, p+len). */
static bool mem_ok(struct bpfrt_run *run, uint64_t p, size_t len, bool write,
		   const char *what)
{
	if (bpfrt_run_mem_ok(run, ptr(p), len, write))
		return true;
	bpfrt_run_fail(run, -EFAULT, "%s: %zu bytes at %#llx are out of bounds",
		       what, len, (unsigned long long)p);
	return false;
}

/* void *bpf_map_lookup_elem(map, key): array maps, 4-byte keys. */
static uint64_t h_map_lookup(uint64_t map, uint64_t key, uint64_t r3,
			     uint64_t r4, uint64_t r5, struct bpfrt_run *run)
{
	const struct rt_map *m = ptr(map);
	uint32_t k;

	(void)r3, (void)r4, (void)r5;
	if (m < rt_maps || m >= rt_maps + GEN_NMAPS) {
		bpfrt_run_fail(run, -EINVAL, "bpf_map_lookup_elem: not a map");
		return 0;
	}
	if (!mem_ok(run, key, 4, false, "bpf_map_lookup_elem"))
		return 0;
	memcpy(&k, ptr(key), 4);
	helper_calls[HS_LOOKUP][k < m->entries ? 2 : 1]++;
	return k < m->entries ? (uintptr_t)(m->values + (size_t)k * GEN_MAP_VALUE_SIZE) : 0;
}

/* The kernel's strncmp: bytes compared unsigned, the result -1, 0 or 1. */
static uint64_t h_strncmp(uint64_t s1, uint64_t s1_sz, uint64_t s2, uint64_t r4,
			  uint64_t r5, struct bpfrt_run *run)
{
	const uint8_t *a = ptr(s1), *b = ptr(s2);
	uint32_t n = (uint32_t)s1_sz;

	(void)r4, (void)r5;
	if (!mem_ok(run, s1, n, false, "bpf_strncmp"))
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		if (!mem_ok(run, s2 + i, 1, false, "bpf_strncmp"))
			return 0;
		if (a[i] != b[i])
			return count_result(HS_STRNCMP, a[i] < b[i] ? (uint64_t)-1 : 1);
		if (!a[i])
			break;
	}
	return count_result(HS_STRNCMP, 0);
}

/* The kernel's isspace(): ASCII white space and Latin-1's no-break space. */
static bool k_isspace(uint8_t c)
{
	return (c >= '\t' && c <= '\r') || c == ' ' || c == 0xa0;
}

/* A digit's value in any base up to 16, or 16 if it is none. */
static unsigned k_digit(uint8_t c)
{
	uint8_t lc = c | 0x20;

	if (c >= '0' && c <= '9')
		return c - '0';
	if (lc >= 'a' && lc <= 'f')
		return lc - 'a' + 10u;
	return 16;
}

/*
 * The number at the start of s (NUL-terminated) in *base (0: by prefix, as
 * the kernel's kstrto* do: "0x" and a hex digit is 16, "0" is 8); digits
 * read, including a skipped "0x", or -ERANGE / -EINVAL.
 */
static int parse_digits(const char *s, unsigned base, uint64_t *val)
{
	const uint8_t *u = (const uint8_t *)s;
	int skip = 0, n = 0;
	bool overflow = false;
	uint64_t v = 0;

	if (base == 0)
		base = u[0] != '0' ? 10 : (u[1] | 0x20) == 'x' && k_digit(u[2]) < 16 ? 16 : 8;
	if (base == 16 && u[0] == '0' && (u[1] | 0x20) == 'x')
		skip = 2;
	for (unsigned d; (d = k_digit(u[skip + n])) < base; n++) {
		if (v > (UINT64_MAX - d) / base)
			overflow = true;
		v = v * base + d;
	}
	if (overflow)
		return -ERANGE;
	if (!n)
		return -EINVAL;
	*val = v;
	return skip + n;
}

/*
 * How bpf_strtol and bpf_strtoul read buf[0, len): white space, a '-', then
 * digits among the next 63 bytes at most; flags is the base (0, 8, 10, 16).
 * Bytes consumed, or -errno.
 */
static int strtox(const uint8_t *buf, size_t len, uint64_t flags, uint64_t *val,
		  bool *neg)
{
	unsigned base = flags & 0x1f;
	char s[64] = { 0 };
	size_t i = 0, n;
	int digits;

	if (!len || (base != 0 && base != 8 && base != 10 && base != 16) || flags & ~0x1full)
		return -EINVAL;
	while (i < len && k_isspace(buf[i]))
		i++;
	*neg = i < len && buf[i] == '-';
	i += *neg;
	if (i == len)
		return -EINVAL;
	n = len - i < sizeof(s) - 1 ? len - i : sizeof(s) - 1;
	memcpy(s, buf + i, n);
	digits = parse_digits(s, base, val);
	return digits < 0 ? digits : (int)i + digits;
}

/* The arguments of bpf_strtol / bpf_strtoul, checked; false if the run fails. */
static bool strtox_args(struct bpfrt_run *run, uint64_t buf, uint64_t len, uint64_t res,
			const char *what)
{
	return mem_ok(run, buf, (size_t)len, false, what) &&
	       mem_ok(run, res, 8, true, what);
}

/* long bpf_strtol(buf, buf_len, flags, long *res) */
static uint64_t h_strtol(uint64_t buf, uint64_t len, uint64_t flags, uint64_t res,
			 uint64_t r5, struct bpfrt_run *run)
{
	uint64_t v, zero = 0;
	bool neg;
	int err;

	(void)r5;
	if (!strtox_args(run, buf, len, res, "bpf_strtol"))
		return 0;
	memcpy(ptr(res), &zero, 8);
	err = strtox(ptr(buf), (size_t)len, flags, &v, &neg);
	if (err >= 0 && (neg ? (int64_t)-v > 0 : (int64_t)v < 0))
		err = -ERANGE;
	if (err < 0)
		return count_result(HS_STRTOL, (uint64_t)(int64_t)err);
	v = neg ? -v : v;
	memcpy(ptr(res), &v, 8);
	return count_result(HS_STRTOL, (uint64_t)err);
}

/* long bpf_strtoul(buf, buf_len, flags, unsigned long *res) */
static uint64_t h_strtoul(uint64_t buf, uint64_t len, uint64_t flags, uint64_t res,
			  uint64_t r5, struct bpfrt_run *run)
{
	uint64_t v, zero = 0;
	bool neg;
	int err;

	(void)r5;
	if (!strtox_args(run, buf, len, res, "bpf_strtoul"))
		return 0;
	memcpy(ptr(res), &zero, 8);
	err = strtox(ptr(buf), (size_t)len, flags, &v, &neg);
	if (err >= 0 && neg)
		err = -EINVAL;
	if (err < 0)
		return count_result(HS_STRTOUL, (uint64_t)(int64_t)err);
	memcpy(ptr(res), &v, 8);
	return count_result(HS_STRTOUL, (uint64_t)err);
}

static int rt_set_helpers(struct bpfrt_prog *prog)
{
	static const struct {
		uint32_t id;
		const char *name;
		bpfrt_helper_fn fn;
	} helpers[] = {
		{ GEN_HELPER_MAP_LOOKUP, "bpf_map_lookup_elem", h_map_lookup },
		{ GEN_HELPER_STRTOL, "bpf_strtol", h_strtol },
		{ GEN_HELPER_STRTOUL, "bpf_strtoul", h_strtoul },
		{ GEN_HELPER_STRNCMP, "bpf_strncmp", h_strncmp },
	};

	for (size_t i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++) {
		int err = bpfrt_prog_set_helper(prog, helpers[i].id, helpers[i].name,
						helpers[i].fn);
		if (err)
			return err;
	}
	return 0;
}

/* ---- bpfrt ------------------------------------------------------------- */

/* The program as bpfrt gets it: map lddws resolved to host addresses. */
static void rt_relocate(const struct gen_prog *p, struct bpfrt_insn *out)
{
	memcpy(out, p->insns, p->n * sizeof(*out));
	for (size_t i = 0; i + 1 < p->n; i++) {
		struct bpfrt_insn *in = &out[i];
		const struct rt_map *m;
		uint64_t addr;

		if (in->code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		m = &rt_maps[in->imm >= 0 && in->imm < GEN_NMAPS ? in->imm : 0];
		if (in->src_reg == BPF_PSEUDO_MAP_FD || in->src_reg == BPF_PSEUDO_MAP_IDX)
			addr = (uintptr_t)m;
		else if (in->src_reg == BPF_PSEUDO_MAP_VALUE ||
			 in->src_reg == BPF_PSEUDO_MAP_IDX_VALUE)
			addr = (uintptr_t)m->values + (uint32_t)in[1].imm;
		else
			addr = (uint32_t)in[0].imm | (uint64_t)(uint32_t)in[1].imm << 32;
		in->src_reg = 0;
		in[0].imm = (int32_t)(uint32_t)addr;
		in[1].imm = (int32_t)(uint32_t)(addr >> 32);
		i++;
	}
}

/* A bpfrt program of p, with the stand-in helpers. */
static int rt_new(const struct gen_prog *p, struct bpfrt_prog **out,
		  struct bpfrt_error *err)
{
	static struct bpfrt_insn insns[GEN_MAX_INSNS];
	int ret;

	rt_relocate(p, insns);
	ret = bpfrt_prog_new(insns, p->n, NULL, out, err);
	if (ret)
		return ret;
	ret = rt_set_helpers(*out);
	if (ret) {
		snprintf(err->msg, sizeof(err->msg), "cannot register the helpers");
		bpfrt_prog_free(*out);
	}
	return ret;
}

static void rt_run(struct bpfrt_prog *prog, enum bpfrt_engine engine,
		   bool checked, const struct gen_prog *p, const uint8_t *input,
		   struct result *res)
{
	BPFRT_OPTS(bpfrt_run_opts, o, .engine = engine, .checked = checked,
		   .regions = rt_regions, .nregions = GEN_NMAPS);
	struct bpfrt_error err;

	memset(res, 0, sizeof(*res));
	if (p && p->family == GEN_SKB) {
		/* LD_ABS offset 0 is what the kernel's skb data starts with. */
		o.pkt = p->pkt + GEN_ETH_HLEN;
		o.pkt_len = p->pkt_len - GEN_ETH_HLEN;
		o.pkt_ll_len = GEN_ETH_HLEN;
	} else {
		memcpy(res->ctx, input, GEN_CTX_SIZE);
		o.ctx = res->ctx;
		o.ctx_len = GEN_CTX_SIZE;
	}
	res->err = bpfrt_prog_run(prog, &o, &err);
	res->retval = o.retval;
	if (res->err)
		snprintf(res->msg, sizeof(res->msg), "%s", err.msg);
}

/* Does the engine run at all? 0 if so, else 77 (skip) or 1. */
static int rt_probe(enum bpfrt_engine engine)
{
	static const struct bpfrt_insn probe[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .imm = 7 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct bpfrt_prog *prog;
	struct bpfrt_error err;
	struct result res;
	uint8_t input[GEN_CTX_SIZE] = { 0 };
	int ret;

	ret = bpfrt_prog_new(probe, 2, NULL, &prog, &err);
	if (ret) {
		fprintf(stderr, "kdiff: bpfrt_prog_new: %s\n", err.msg);
		return 1;
	}
	rt_run(prog, engine, false, NULL, input, &res);
	bpfrt_prog_free(prog);
	if (res.err == -ENOTSUP) {
		printf("kdiff: SKIP: engine %s unavailable: %s\n",
		       engine == BPFRT_ENGINE_JIT ? "jit" : "interp", res.msg);
		return 77;
	}
	if (res.err || res.retval != 7) {
		fprintf(stderr, "kdiff: bpfrt cannot run a trivial program: %s\n",
			res.err ? res.msg : "wrong result");
		return 1;
	}
	return 0;
}

/* ---- Comparing and reporting ------------------------------------------- */

static uint64_t word(const struct result *r, int w)
{
	uint64_t v;

	memcpy(&v, r->ctx + 8 * w, 8);
	return v;
}

/* The first ctx word that differs, RETVAL_WORD for r0, or -1 if none. */
static int first_diff(const struct result *k, const struct result *r)
{
	for (int w = 0; w < NWORDS; w++)
		if (word(k, w) != word(r, w))
			return w;
	if ((uint32_t)k->retval != (uint32_t)r->retval)
		return RETVAL_WORD;
	return -1;
}

/* What a ctx word holds after the run: "ctx+16", "r3", "r10-8". */
static const char *word_name(int w, char *buf, size_t len)
{
	int off = 8 * w;

	if (off < GEN_CTX_SCRATCH)
		snprintf(buf, len, "ctx+%d", off);
	else if (off < GEN_CTX_STACK)
		snprintf(buf, len, "r%d", (off - GEN_CTX_REGS) / 8);
	else
		snprintf(buf, len, "r10-%d", off - GEN_CTX_STACK + 8);
	return buf;
}

/* Text of the instruction at slot i (its mnemonic if bpfrt cannot say); its slots. */
static int describe(const struct gen_prog *p, size_t i, char *buf, size_t len)
{
	const char *mnem;
	int slots = gen_insn_mnem(p, i, &mnem);
	int ret = bpfrt_disasm_insn(p->insns, p->n, i, buf, len);

	if (ret > 0)
		return ret;
	snprintf(buf, len, "%s", mnem);
	return slots;
}

static void print_prog(const struct gen_prog *p)
{
	printf("  program (%s): %zu slots, %d functions, ctx pointer in r%d\n",
	       family_names[p->family], p->n, p->nfuncs, p->ctx_reg);
	for (size_t i = 0; i < p->n;) {
		char text[160];
		int slots = describe(p, i, text, sizeof(text));

		for (int s = 0; s < slots; s++) {
			const struct bpfrt_insn *in = &p->insns[i + s];

			printf("  %4zu: %02x %x %x %6d %11d  %s\n", i + s, in->code,
			       in->dst_reg, in->src_reg, in->off, in->imm,
			       s ? "" : text);
		}
		i += (size_t)slots;
	}
}

static void print_packet(const struct gen_prog *p)
{
	printf("  packet: %zu bytes (LD_ABS offset 0 is byte %d)", p->pkt_len, GEN_ETH_HLEN);
	for (size_t i = 0; i < p->pkt_len; i++)
		printf("%s%02x", i % 16 ? " " : "\n    ", p->pkt[i]);
	printf("\n");
}

static void print_words(const struct gen_prog *p, const uint8_t *input,
			const struct result *k, const struct result *r)
{
	if (p->family == GEN_SKB) {
		print_packet(p);
	} else {
		printf("  %-7s %-18s %-18s %-18s\n", "word", "input", "kernel", "bpfrt");
		for (int w = 0; w < NWORDS; w++) {
			char name[16];
			uint64_t in;

			memcpy(&in, input + 8 * w, 8);
			printf("  %-7s %#018llx %#018llx %#018llx%s\n",
			       word_name(w, name, sizeof(name)), (unsigned long long)in,
			       (unsigned long long)word(k, w), (unsigned long long)word(r, w),
			       word(k, w) != word(r, w) ? "  <--" : "");
		}
	}
	printf("  retval  %18s %#018llx %#018llx%s\n", "",
	       (unsigned long long)k->retval, (unsigned long long)r->retval,
	       (uint32_t)k->retval != (uint32_t)r->retval ? "  <-- (low 32 bits)" : "");
}

/* One program run both ways. */
struct trial {
	uint64_t seed;
	struct gen_prog prog;
	uint8_t input[GEN_CTX_SIZE];
	struct result kern, rt;
	const char *mode;	/* the bpfrt mode that diverged */
};

enum outcome { SAME, REJECTED, REFUSED, DIVERGED };

/* "first difference in r3: kernel 0x1, bpfrt 0x2", or bpfrt's error. */
static void print_difference(const struct trial *t)
{
	int w = first_diff(&t->kern, &t->rt);
	char name[16];

	if (t->rt.err)
		printf("bpfrt failed (%s): %s\n", strerror(-t->rt.err), t->rt.msg);
	else if (w == RETVAL_WORD)
		printf("retval: kernel %#x, bpfrt %#x\n", (uint32_t)t->kern.retval,
		       (uint32_t)t->rt.retval);
	else
		printf("first difference in %s: kernel %#llx, bpfrt %#llx\n",
		       word_name(w, name, sizeof(name)),
		       (unsigned long long)word(&t->kern, w),
		       (unsigned long long)word(&t->rt, w));
}

/* Show why the kernel refused a program: the tail of its verifier log. */
static void report_reject(uint64_t seed, const struct gen_prog *p, int err)
{
	static char log[LOG_SIZE];
	int fd = kern_load(p, log, sizeof(log));
	size_t len = strlen(log);

	printf("kdiff: REJECTED: seed %llu: %s%s\n", (unsigned long long)seed,
	       strerror(-err), fd >= 0 ? " (it loads; BPF_PROG_TEST_RUN refused it)" : "");
	if (fd >= 0)
		close(fd);
	print_prog(p);
	if (p->family == GEN_SKB)
		print_packet(p);
	printf("  verifier log (tail):\n%s\n", log + (len > LOG_TAIL ? len - LOG_TAIL : 0));
}

/* ---- The loop ---------------------------------------------------------- */

/* Run the program of t->seed, cut to max_steps (-1: whole), in both. */
static enum outcome trial_run(const struct options *o, struct trial *t,
			      int max_steps)
{
	static const char *const modes[2] = { "unchecked", "checked" };
	enum outcome ret = SAME;
	struct bpfrt_prog *rp;
	struct bpfrt_error err;

	gen_program(t->seed, max_steps, &o->gen, &t->prog);
	gen_input(t->seed, t->input, sizeof(t->input));
	if (kern_exec(&t->prog, t->input, &t->kern))
		return REJECTED;
	t->rt.err = rt_new(&t->prog, &rp, &err);
	if (t->rt.err) {
		snprintf(t->rt.msg, sizeof(t->rt.msg), "%s", err.msg);
		return REFUSED;
	}
	for (int checked = 0; checked < 2 && ret == SAME; checked++) {
		rt_run(rp, o->engine, checked, &t->prog, t->input, &t->rt);
		if (t->rt.err || first_diff(&t->kern, &t->rt) >= 0) {
			t->mode = modes[checked];
			ret = DIVERGED;
		}
	}
	bpfrt_prog_free(rp);
	return ret;
}

/*
 * Cut the program to the fewest body steps that still diverge, so the
 * last step is the suspect. Leaves t holding the shortest divergent run.
 */
static void shrink(const struct options *o, struct trial *t)
{
	int full = t->prog.steps;

	for (int k = 0; k < full; k++)
		if (trial_run(o, t, k) == DIVERGED)
			return;
	trial_run(o, t, -1);
}

static void report(const struct options *o, const struct stats *st,
		   struct trial *t)
{
	int full = t->prog.steps;

	printf("kdiff: DIVERGENCE: seed %llu (%s), bpfrt %s: ",
	       (unsigned long long)t->seed, family_names[t->prog.family], t->mode);
	print_difference(t);
	if (st->divergences > MAX_REPORTS && !o->verbose)
		return;
	shrink(o, t);
	printf("  shrunk to %d of %d body steps (bpfrt %s): ", t->prog.steps,
	       full, t->mode);
	print_difference(t);
	printf("  rerun: build/kdiff --seed %llu --count 1 -v\n",
	       (unsigned long long)t->seed);
	print_prog(&t->prog);
	if (!t->rt.err)
		print_words(&t->prog, t->input, &t->kern, &t->rt);
	if (o->verbose) {
		static struct gen_prog xl;

		if (kern_xlated(&t->prog, &xl) > 0) {
			printf("  as the kernel runs it (xlated):\n");
			print_prog(&xl);
		}
	}
}

static void test_one(const struct options *o, uint64_t seed, struct stats *st)
{
	static struct trial t;
	enum outcome out;

	memset(&t, 0, sizeof(t));
	t.seed = seed;
	out = trial_run(o, &t, -1);
	gen_count_forms(&t.prog, st->forms);
	st->programs++;
	st->families[t.prog.family]++;
	st->skb_zero += t.prog.family == GEN_SKB && out == SAME && !(uint32_t)t.kern.retval;
	if (o->dump && out == SAME) {
		printf("kdiff: seed %llu:\n", (unsigned long long)seed);
		print_prog(&t.prog);
		print_words(&t.prog, t.input, &t.kern, &t.rt);
	}
	switch (out) {
	case SAME:
		break;
	case REJECTED:
		if (++st->rejected <= MAX_LOGS || o->verbose)
			report_reject(seed, &t.prog, t.kern.err);
		break;
	case REFUSED:
		st->divergences++;
		printf("kdiff: DIVERGENCE: seed %llu: bpfrt_prog_new refuses a "
		       "program the kernel accepts: %s\n",
		       (unsigned long long)seed, t.rt.msg);
		print_prog(&t.prog);
		break;
	case DIVERGED:
		st->divergences++;
		report(o, st, &t);
		break;
	}
}

/* Why a form is never generated. */
static const char *never_reason(const char *form)
{
	static const struct { const char *form, *why; } reasons[] = {
		{ "LDDW_BTF_ID", "needs kernel BTF ids, which bpfrt has no use for" },
		{ "LDDW_FUNC", "only callback helpers (bpf_loop...) take it; a bpfrt "
			       "helper cannot call back into the program" },
		{ "CALLX", "the kernel rejects it" },
	};

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (!strcmp(form, reasons[i].form))
			return reasons[i].why;
	return NULL;
}

static void print_coverage(const struct stats *st)
{
	int n = gen_nforms(), seen = 0;

	for (int f = 0; f < n; f++)
		seen += st->forms[f] != 0;
	printf("kdiff: families: %lu plain, %lu calls, %lu skb (%lu of them returned 0)\n",
	       st->families[GEN_PLAIN], st->families[GEN_CALLS], st->families[GEN_SKB],
	       st->skb_zero);
	printf("kdiff: helper calls in bpfrt (both modes): bpf_map_lookup_elem %lu found, "
	       "%lu missed; bpf_strtol %lu ok, %lu errors; bpf_strtoul %lu ok, %lu errors; "
	       "bpf_strncmp %lu <0, %lu =0, %lu >0\n",
	       helper_calls[HS_LOOKUP][2], helper_calls[HS_LOOKUP][1],
	       helper_calls[HS_STRTOL][1] + helper_calls[HS_STRTOL][2], helper_calls[HS_STRTOL][0],
	       helper_calls[HS_STRTOUL][1] + helper_calls[HS_STRTOUL][2], helper_calls[HS_STRTOUL][0],
	       helper_calls[HS_STRNCMP][0], helper_calls[HS_STRNCMP][1], helper_calls[HS_STRNCMP][2]);
	printf("kdiff: coverage: %d of %d instruction forms; never emitted:%s\n",
	       seen, n, seen == n ? " none" : "");
	for (int f = 0; f < n; f++) {
		const char *why = never_reason(gen_form_name(f));

		if (!st->forms[f])
			printf("  %s%s%s\n", gen_form_name(f), why ? ": " : "", why ? why : "");
	}
}

/* ---- The disassembler oracle ------------------------------------------- */

#define ORACLE_LOG_SIZE	(1 << 20)
#define BPFTOOL_EVERY	5	/* bpftool takes 0.15 s a program: every 5th only */
#define MAX_EXAMPLES	3	/* differing lines shown per form and oracle */

enum { OR_KERNEL, OR_BPFTOOL, OR_COUNT };

static const char *const oracle_names[OR_COUNT] = {
	"kernel (verifier log)", "bpftool (xlated)",
};

/* One disassembler's text per instruction slot of a program (NULL: none). */
struct listing {
	char *text[GEN_MAX_INSNS];
};

struct oracle {
	bool bpftool;		/* is bpftool there? */
	bool bpftool_v4;	/* does it know the cpu v4 forms? */
	unsigned long passed, failed, lines, skipped;
	unsigned long checks[OR_COUNT], fails[OR_COUNT];
	unsigned long unlisted[OR_COUNT];	/* programs it gave no listing of */
	uint32_t *diffs[OR_COUNT];	/* per form: differing lines */
	char *examples[OR_COUNT];	/* the examples shown, one buffer per oracle */
	size_t ex_len[OR_COUNT];
};

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < GEN_MAX_INSNS; i++) {
		free(l->text[i]);
		l->text[i] = NULL;
	}
}

/*
 * The kernel's disassembly of the program as loaded, from the verifier log:
 *       7: 0..3...... (d4) r3 = le32 r3
 * The listing comes before verification, so it is there even if the
 * verifier goes on to reject the program; false if it is not.
 */
static bool kernel_listing(uint32_t type, const struct bpfrt_insn *insns, size_t n,
			   struct listing *l)
{
	static char log[ORACLE_LOG_SIZE];
	char *p;
	int fd = kern_load_raw(type, insns, n, log, sizeof(log), 2 | BPF_LOG_FIXED);

	if (fd >= 0)
		close(fd);
	p = strstr(log, "Live regs before insn:\n");
	if (!p)
		return false;
	for (p = strchr(p, '\n') + 1; *p; p = strchr(p, '\n') + 1) {
		char *nl = strchr(p, '\n'), *text;
		unsigned idx, code;
		int used = 0;

		if (!nl || sscanf(p, " %u: %*[.0-9] (%2x) %n", &idx, &code, &used) < 2 ||
		    !used || idx >= n)
			break;
		text = strndup(p + used, (size_t)(nl - p - used));
		free(l->text[idx]);
		l->text[idx] = text;
	}
	return true;
}

/* The next "disasm" string of bpftool's JSON after *pos, unescaped; NULL at the end. */
static char *json_disasm(const char **pos)
{
	const char *p = strstr(*pos, "\"disasm\":\"");
	char *out, *o;

	if (!p)
		return NULL;
	p += strlen("\"disasm\":\"");
	out = o = malloc(strlen(p) + 1);
	if (!out)
		return NULL;
	for (; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			*o++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	*pos = p;
	return out;
}

/* All of a command's output, malloc'ed; NULL if it fails. */
static char *command_output(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);

	if (!f || !buf) {
		if (f)
			pclose(f);
		free(buf);
		return NULL;
	}
	for (size_t r; (r = fread(buf + len, 1, cap - len - 1, f)) > 0;) {
		len += r;
		if (cap - len < 2) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb)
				break;
			buf = nb;
		}
	}
	buf[len] = '\0';
	if (pclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Drop "(xx) " before bpftool's text. */
static char *strip_opcode(char *s)
{
	unsigned code;
	int used = 0;

	if (s && sscanf(s, "(%2x) %n", &code, &used) == 1 && used)
		memmove(s, s + used, strlen(s + used) + 1);
	return s;
}

/* Slots of an xlated instruction: bpftool lists an lddw once. */
static size_t xlated_slots(const struct bpfrt_insn *in)
{
	return in->code == (BPF_LD | BPF_IMM | BPF_DW) ? 2 : 1;
}

/*
 * bpftool's disassembly of the program as the kernel runs it (xlated, after
 * its rewrites), into xl[*xn] and l; false if the program does not load.
 * Comparing the text of each xlated instruction with bpfrt's text of the
 * same instruction needs no alignment with the program as loaded.
 */
static bool bpftool_listing(uint32_t type, const struct bpfrt_insn *insns, size_t n,
			    struct bpfrt_insn *xl, size_t *xn, struct listing *l)
{
	const char *pos;
	char cmd[96], *json;
	uint32_t id = 0;
	int fd = kern_load_raw(type, insns, n, NULL, 0, 0), cnt;

	if (fd < 0)
		return false;
	cnt = kern_xlated_fd(fd, xl, GEN_MAX_INSNS, &id);
	snprintf(cmd, sizeof(cmd), "bpftool -j prog dump xlated id %u 2>/dev/null", id);
	json = cnt > 0 && cnt <= GEN_MAX_INSNS ? command_output(cmd) : NULL;
	close(fd);
	if (!json)
		return false;
	*xn = (size_t)cnt;
	pos = json;
	for (size_t i = 0; i < *xn; i += xlated_slots(&xl[i])) {
		char *text = json_disasm(&pos);

		if (!text)
			break;
		l->text[i] = strip_opcode(text);
	}
	free(json);
	return true;
}

/*
 * Lines the oracles do not judge: helper calls and map lddws (names of the
 * kernel's own), and xlated local calls (whose imm the kernel rewrote).
 */
static bool not_compared(const struct oracle *o, int which, const struct bpfrt_insn *in,
			 int form)
{
	if (in->code == (BPF_JMP | BPF_CALL) && (in->src_reg == 0 || which == OR_BPFTOOL))
		return true;
	if (in->code == (BPF_LD | BPF_IMM | BPF_DW) && in->src_reg != 0)
		return true;
	return which == OR_BPFTOOL && !o->bpftool_v4 && gen_form_cpu(form) >= 4;
}

/* Record a differing line: counted per form, the first MAX_EXAMPLES shown later. */
static void oracle_diff(struct oracle *o, int which, int form, const char *origin,
			size_t i, const struct bpfrt_insn *in, const char *theirs,
			const char *ours)
{
	char line[512], *nb;
	int len;

	if (o->diffs[which][form]++ >= MAX_EXAMPLES)
		return;
	len = snprintf(line, sizeof(line), "  %-12s %s, %s insn %zu (%02x): %s: \"%s\", bpfrt: \"%s\"\n",
		       gen_form_name(form), origin, which == OR_KERNEL ? "loaded" : "xlated",
		       i, in->code, which == OR_KERNEL ? "kernel" : "bpftool", theirs, ours);
	if (len <= 0)
		return;
	nb = realloc(o->examples[which], o->ex_len[which] + (size_t)len + 1);
	if (!nb)
		return;
	memcpy(nb + o->ex_len[which], line, (size_t)len + 1);
	o->examples[which] = nb;
	o->ex_len[which] += (size_t)len;
}

/* Compare one listing with bpfrt's disassembly; true if every judged line agrees. */
static bool oracle_compare(struct oracle *o, int which, const char *origin,
			   const struct bpfrt_insn *insns, size_t n,
			   const struct listing *l)
{
	bool same = true;
	unsigned long judged = 0;

	for (size_t i = 0; i < n; i += xlated_slots(&insns[i])) {
		int form = gen_insn_form(insns, n, i);
		char ours[256];

		if (form < 0 || !l->text[i] || not_compared(o, which, &insns[i], form)) {
			o->skipped++;
			continue;
		}
		/* Xlated code may hold instructions only the kernel uses. */
		if (bpfrt_disasm_insn(insns, n, i, ours, sizeof(ours)) < 0 &&
		    which == OR_BPFTOOL) {
			o->skipped++;
			continue;
		}
		judged++;
		if (strcmp(ours, l->text[i])) {
			oracle_diff(o, which, form, origin, i, &insns[i], l->text[i], ours);
			same = false;
		}
	}
	o->lines += judged;
	if (!judged)
		return true;
	o->checks[which]++;
	if (same)
		o->passed++;
	else {
		o->failed++;
		o->fails[which]++;
	}
	return same;
}

/* The kernel's oracle on one program, and bpftool's if `bpftool` (it is slow). */
static void oracle_program(struct oracle *o, uint32_t type, const struct bpfrt_insn *insns,
			   size_t n, const char *origin, bool bpftool)
{
	static struct listing l;
	static struct bpfrt_insn xl[GEN_MAX_INSNS];
	size_t xn = 0;

	if (kernel_listing(type, insns, n, &l))
		oracle_compare(o, OR_KERNEL, origin, insns, n, &l);
	else
		o->unlisted[OR_KERNEL]++;
	listing_free(&l);
	if (!o->bpftool || !bpftool)
		return;
	if (bpftool_listing(type, insns, n, xl, &xn, &l))
		oracle_compare(o, OR_BPFTOOL, origin, xl, xn, &l);
	else
		o->unlisted[OR_BPFTOOL]++;
	listing_free(&l);
}

/*
 * Hand-picked programs: every ALU, END, load, store, atomic, jump and lddw
 * form once, in one syscall program the verifier accepts.
 */
#define I(c, d, s, o, i) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) }
#define ALU2(cls, op, d, s, imm, off) I((cls) | (op) | BPF_K, d, 0, off, imm), \
	I((cls) | (op) | BPF_X, d, s, off, 0)
#define ALUS(cls, d, s) ALU2(cls, BPF_ADD, d, s, -7, 0), ALU2(cls, BPF_SUB, d, s, 0x7fffffff, 0), \
	ALU2(cls, BPF_MUL, d, s, 3, 0), ALU2(cls, BPF_DIV, d, s, 5, 0), \
	ALU2(cls, BPF_DIV, d, s, -5, 1), ALU2(cls, BPF_OR, d, s, 0x10, 0), \
	ALU2(cls, BPF_AND, d, s, -16, 0), ALU2(cls, BPF_LSH, d, s, 3, 0), \
	ALU2(cls, BPF_RSH, d, s, 1, 0), ALU2(cls, BPF_MOD, d, s, 7, 0), \
	ALU2(cls, BPF_MOD, d, s, -7, 1), ALU2(cls, BPF_XOR, d, s, -1, 0), \
	ALU2(cls, BPF_MOV, d, s, -2, 0), ALU2(cls, BPF_ARSH, d, s, 2, 0), \
	I((cls) | BPF_NEG, d, 0, 0, 0), I((cls) | BPF_MOV | BPF_X, d, s, 8, 0), \
	I((cls) | BPF_MOV | BPF_X, d, s, 16, 0)
#define JMPS(cls, d, s) ALU2(cls, BPF_JEQ, d, s, -3, 0), ALU2(cls, BPF_JGT, d, s, 3, 0), \
	ALU2(cls, BPF_JGE, d, s, 0x7fffffff, 0), ALU2(cls, BPF_JSET, d, s, 8, 0), \
	ALU2(cls, BPF_JNE, d, s, 0, 0), ALU2(cls, BPF_JSGT, d, s, -1, 0), \
	ALU2(cls, BPF_JSGE, d, s, 1, 0), ALU2(cls, BPF_JLT, d, s, 2, 0), \
	ALU2(cls, BPF_JLE, d, s, -2, 0), ALU2(cls, BPF_JSLT, d, s, 4, 0), \
	ALU2(cls, BPF_JSLE, d, s, -4, 0)
#define MEMS(sz, mode) I(BPF_LDX | (mode) | (sz), 3, 1, 8, 0), \
	I(BPF_ST | BPF_MEM | (sz), 1, 0, 16, -3), I(BPF_STX | BPF_MEM | (sz), 1, 4, 24, 0)
#define ATOMICS(sz) I(BPF_STX | BPF_ATOMIC | (sz), 10, 5, -8, BPF_ADD), \
	I(BPF_STX | BPF_ATOMIC | (sz), 10, 5, -8, BPF_OR), \
	I(BPF_STX | BPF_ATOMIC | (sz), 10, 5, -8, BPF_AND), \
	I(BPF_STX | BPF_ATOMIC | (sz), 10, 5, -8, BPF_XOR), \
	I(BPF_STX | BPF_ATOMIC | (sz), 10, 5, -8, BPF_ADD | BPF_FETCH), \
	I(BPF_STX | BPF_ATOMIC | (sz), 10, 5, -8, BPF_OR | BPF_FETCH), \
	I(BPF_STX | BPF_ATOMIC | (sz), 10, 5, -8, BPF_AND | BPF_FETCH), \
	I(BPF_STX | BPF_ATOMIC | (sz), 10, 5, -8, BPF_XOR | BPF_FETCH), \
	I(BPF_STX | BPF_ATOMIC | (sz), 10, 5, -8, BPF_XCHG), \
	I(BPF_STX | BPF_ATOMIC | (sz), 10, 0, -16, BPF_CMPXCHG)
#define BPF_MEMSX_	0x80	/* <linux/bpf.h> may predate cpu v4 */
#define BPF_ALU64_END(w) I(BPF_ALU64 | BPF_END, 3, 0, 0, w)

static const struct bpfrt_insn catalog_all[] = {
	I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0), I(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, -9),
	I(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 9), I(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 4),
	I(BPF_ALU64 | BPF_MOV | BPF_K, 5, 0, 0, 5),
	I(BPF_ST | BPF_MEM | BPF_DW, 10, 0, -8, 1), I(BPF_ST | BPF_MEM | BPF_DW, 10, 0, -16, 2),
	I(BPF_ST | BPF_MEM | BPF_DW, 10, 0, -24, 3), I(BPF_ST | BPF_MEM | BPF_DW, 10, 0, -32, 4),
	I(BPF_ST | BPF_MEM | BPF_DW, 10, 0, -40, 5), I(BPF_ST | BPF_MEM | BPF_DW, 10, 0, -48, 6),
	I(BPF_ALU64 | BPF_MOV | BPF_X, 1, 10, 0, 0), I(BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, -48),
	ALUS(BPF_ALU64, 2, 3), I(BPF_ALU64 | BPF_MOV | BPF_X, 2, 3, 32, 0),
	ALUS(BPF_ALU, 2, 3),
	I(BPF_ALU | BPF_END | BPF_TO_LE, 3, 0, 0, 16), I(BPF_ALU | BPF_END | BPF_TO_LE, 3, 0, 0, 32),
	I(BPF_ALU | BPF_END | BPF_TO_LE, 3, 0, 0, 64), I(BPF_ALU | BPF_END | BPF_TO_BE, 3, 0, 0, 16),
	I(BPF_ALU | BPF_END | BPF_TO_BE, 3, 0, 0, 32), I(BPF_ALU | BPF_END | BPF_TO_BE, 3, 0, 0, 64),
	BPF_ALU64_END(16), BPF_ALU64_END(32), BPF_ALU64_END(64),
	MEMS(BPF_B, BPF_MEM), MEMS(BPF_H, BPF_MEM), MEMS(BPF_W, BPF_MEM), MEMS(BPF_DW, BPF_MEM),
	I(BPF_LDX | BPF_MEMSX_ | BPF_B, 3, 1, -8 + 48, 0), I(BPF_LDX | BPF_MEMSX_ | BPF_H, 3, 1, 6, 0),
	I(BPF_LDX | BPF_MEMSX_ | BPF_W, 3, 1, 4, 0),
	ATOMICS(BPF_W), ATOMICS(BPF_DW),
	JMPS(BPF_JMP, 2, 3), JMPS(BPF_JMP32, 2, 3),
	I(BPF_JMP | BPF_JA, 0, 0, 0, 0), I(BPF_JMP32 | BPF_JA, 0, 0, 0, 0),
	I(0xe5 /* may_goto */, 0, 0, 1, 0), I(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, 1),
	I(BPF_LD | BPF_IMM | BPF_DW, 4, 0, 0, (int32_t)0x90abcdef), I(0, 0, 0, 0, 0x12345678),
	I(BPF_LD | BPF_IMM | BPF_DW, 4, 0, 0, -1), I(0, 0, 0, 0, -1),
	I(BPF_LD | BPF_IMM | BPF_DW, 4, 0, 0, 5), I(0, 0, 0, 0, 0),
	I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0), I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
};

/* Every packet load, in a socket filter. */
static const struct bpfrt_insn catalog_skb[] = {
	I(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0), I(BPF_ALU64 | BPF_MOV | BPF_K, 7, 0, 0, 2),
	I(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 3), I(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, -0x200000),
	I(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 0x7fffffff),
	I(BPF_LD | BPF_IND | BPF_B, 0, 7, 0, -1), I(BPF_LD | BPF_IND | BPF_H, 0, 7, 0, 0),
	I(BPF_LD | BPF_IND | BPF_W, 0, 7, 0, 12),
	I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
};

/* A local call forward and back; a helper call and map lddws (not judged). */
static const struct bpfrt_insn catalog_calls[] = {
	I(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, 1), I(BPF_JMP | BPF_CALL, 0, 1, 0, 5),
	I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_IDX, 0, GEN_MAP_TABLE), I(0, 0, 0, 0, 0),
	I(BPF_LD | BPF_IMM | BPF_DW, 3, BPF_PSEUDO_MAP_IDX_VALUE, 0, GEN_MAP_STR), I(0, 0, 0, 0, 4),
	I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	I(BPF_ALU64 | BPF_MOV | BPF_X, 0, 1, 0, 0), I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
};

#define ORACLE_CATALOG(o, arr, type) \
	oracle_program(o, type, arr, sizeof(arr) / sizeof(arr[0]), "catalogue " #arr, true)

/* The "-- asm" section of a conformance test file, malloc'ed; NULL if none. */
static char *asm_section(const char *path)
{
	char *text = NULL, line[512];
	size_t len = 0;
	bool in = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		char *nt;

		if (!strncmp(line, "-- ", 3)) {
			in = !strncmp(line, "-- asm", 6);
			continue;
		}
		if (!in || !(nt = realloc(text, len + n + 1)))
			continue;
		text = nt;
		memcpy(text + len, line, n + 1);
		len += n;
	}
	fclose(f);
	return text;
}

/*
 * The conformance suite's programs (run from the repository's root), for
 * the kernel's oracle: it needs no verifiable program, only one that passes
 * the kernel's structural checks, and they use operands the generator does
 * not. Returns how many were assembled.
 */
static int oracle_conformance(struct oracle *o, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int done = 0;

	while (d && (e = readdir(d))) {
		char path[512], *text;
		struct bpfrt_insn *insns;
		struct bpfrt_error err;
		size_t n;
		size_t len = strlen(e->d_name);

		if (len < 5 || strcmp(e->d_name + len - 5, ".data"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		text = asm_section(path);
		if (text && !bpfrt_asm(text, &insns, &n, &err)) {
			oracle_program(o, BPF_PROG_TYPE_SYSCALL, insns, n, e->d_name, false);
			free(insns);
			done++;
		}
		free(text);
	}
	if (d)
		closedir(d);
	return done;
}

/* bpftool's version: is it at least 7.3, whose disassembler knows cpu v4? */
static void oracle_bpftool(struct oracle *o)
{
	char *out = command_output("bpftool version 2>/dev/null");
	int major = 0, minor = 0;
	const char *v = out ? strstr(out, " v") : NULL;

	o->bpftool = v && sscanf(v, " v%d.%d", &major, &minor) == 2;
	o->bpftool_v4 = major > 7 || (major == 7 && minor >= 3);
	if (!o->bpftool)
		printf("kdiff: bpftool not found: its oracle is skipped\n");
	else if (!o->bpftool_v4)
		printf("kdiff: bpftool v%d.%d predates cpu v4 (v7.3): its lines of "
		       "cpu v4 forms are skipped\n", major, minor);
	free(out);
}

static void oracle_report(const struct oracle *o)
{
	int nf = gen_nforms();

	for (int w = 0; w < OR_COUNT; w++) {
		printf("kdiff: oracle %s: %lu programs compared, %lu differ, %lu not "
		       "listed\n", oracle_names[w], o->checks[w], o->fails[w], o->unlisted[w]);
		for (int f = 0; f < nf; f++)
			if (o->diffs[w][f])
				printf("  %s: %u lines differ\n", gen_form_name(f), o->diffs[w][f]);
		if (o->examples[w])
			printf("%s", o->examples[w]);
	}
	printf("kdiff: %lu lines compared, %lu not judged (helper calls, map lddws, "
	       "rewritten or unlisted instructions)\n", o->lines, o->skipped);
}

static int disasm_oracle(const struct options *opt)
{
	struct oracle o = { 0 };
	unsigned long count = opt->counted ? opt->count : 300;
	int nf = gen_nforms();

	if (kern_probe() || kern_maps()) {
		printf("kdiff: the disassembler oracle needs bpf()\n0 passed, 0 failed\n");
		return 0;
	}
	oracle_bpftool(&o);
	for (int w = 0; w < OR_COUNT; w++)
		o.diffs[w] = calloc((size_t)nf, sizeof(uint32_t));
	ORACLE_CATALOG(&o, catalog_all, BPF_PROG_TYPE_SYSCALL);
	ORACLE_CATALOG(&o, catalog_skb, BPF_PROG_TYPE_SOCKET_FILTER);
	ORACLE_CATALOG(&o, catalog_calls, BPF_PROG_TYPE_SYSCALL);
	printf("kdiff: %d conformance programs (tests/conformance)\n",
	       oracle_conformance(&o, "tests/conformance"));
	for (unsigned long i = 0; i < count; i++) {
		static struct gen_prog p;
		static struct bpfrt_insn insns[GEN_MAX_INSNS];
		char origin[48];

		gen_program(opt->seed + i, -1, &opt->gen, &p);
		kern_patch(&p, insns);
		snprintf(origin, sizeof(origin), "seed %llu", (unsigned long long)(opt->seed + i));
		oracle_program(&o, prog_type(&p), insns, p.n, origin, i % BPFTOOL_EVERY == 0);
	}
	oracle_report(&o);
	printf("%lu passed, %lu failed\n", o.passed, o.failed);
	for (int w = 0; w < OR_COUNT; w++) {
		free(o.diffs[w]);
		free(o.examples[w]);
	}
	return o.failed ? 1 : 0;
}

/* ---- Main -------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: kdiff [--count N] [--seed S] [--engine interp|jit] "
		"[--family plain|calls|skb] [--coverage] [--dump] [-v]\n"
		"       kdiff --disasm-oracle [--count N] [--seed S]\n");
	exit(2);
}

/* A whole number argument, or usage(). */
static unsigned long long number(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		usage();
	return v;
}

static int family_arg(const char *s)
{
	for (int f = 0; f < GEN_NFAMILIES; f++)
		if (!strcmp(s, family_names[f]))
			return f;
	usage();
	return -1;
}

/* Options that take no value; false if a is none of them. */
static bool flag_arg(const char *a, struct options *o)
{
	if (!strcmp(a, "-v"))
		o->verbose = true;
	else if (!strcmp(a, "--coverage"))
		o->coverage = true;
	else if (!strcmp(a, "--dump"))
		o->dump = true;
	else if (!strcmp(a, "--disasm-oracle"))
		o->oracle = true;
	else
		return false;
	return true;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (flag_arg(a, o))
			continue;
		if (!val)
			usage();
		if (!strcmp(a, "--count"))
			o->count = (unsigned long)number(val), o->counted = true;
		else if (!strcmp(a, "--seed"))
			o->seed = number(val);
		else if (!strcmp(a, "--family"))
			o->gen.family = family_arg(val);
		else if (!strcmp(a, "--engine") && !strcmp(val, "interp"))
			o->engine = BPFRT_ENGINE_INTERP;
		else if (!strcmp(a, "--engine") && !strcmp(val, "jit"))
			o->engine = BPFRT_ENGINE_JIT;
		else
			usage();
		i++;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	struct options o = {
		.count = 1000, .seed = 1, .engine = BPFRT_ENGINE_INTERP,
		.gen = { .family = -1 },
	};
	struct stats st = { 0 };
	double t0 = now();
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(argc, argv, &o);
	rt_maps_init();
	if (o.oracle)
		return disasm_oracle(&o);
	ret = kern_probe();
	if (!ret)
		ret = kern_maps();
	if (!ret)
		ret = rt_probe(o.engine);
	if (ret)
		return ret;
	st.forms = calloc((size_t)gen_nforms(), sizeof(*st.forms));
	if (!st.forms)
		return 1;
	for (unsigned long i = 0; i < o.count; i++)
		test_one(&o, o.seed + i, &st);
	if (o.coverage || o.verbose)
		print_coverage(&st);
	if (o.verbose)
		printf("kdiff: %.2f s\n", now() - t0);
	printf("kdiff: %lu programs, %lu divergences, %lu rejected by the kernel\n",
	       st.programs, st.divergences, st.rejected);
	free(st.forms);
	return st.divergences || st.rejected * 100 > st.programs ? 1 : 0;
}
