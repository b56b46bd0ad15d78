/* kernel.c — the kernel column: each workload loaded with raw bpf() as an XDP program, timed by BPF_PROG_TEST_RUN.
 *
 * The workloads take r1 = input, r2 = its length, which no kernel hook
 * passes. So the kernel gets a stub that finds the input in an array map
 * (one entry, whose value is the input followed by 8 zero bytes) and calls
 * the workload's function as a bpf-to-bpf callee, appended after it:
 *
 *	*(u32 *)(r10 - 4) = 0
 *	r1 = map (ld_imm64, BPF_PSEUDO_MAP_FD)
 *	r2 = r10; r2 += -4
 *	call bpf_map_lookup_elem
 *	if r0 == 0 goto out
 *	r1 = r0; r2 = len
 *	r3 = r0; r3 += len8; r3 = *(u64 *)(r3 + 0)	the zero word
 *	call workload
 *	exit
 * out:	r0 = 0; exit
 *
 * No ELF relocation is involved: the map's fd goes straight into the
 * ld_imm64, and so does the fd of a workload's own hash map (wl->map) into
 * the lddw its code marks. The callee is the workload's own code (the bytes bpfrt runs)
 * when the verifier can bound its loops, else its kernel variant
 * (workloads/kernel/NAME.c), which also reads r3: 0 at run time, but a
 * value the verifier cannot know, so that loop counters starting from it
 * let the verifier's states converge. The kernel copies the input once, at
 * setup; BPF_PROG_TEST_RUN `repeat` then runs the program many times and
 * reports the average ns per run, which is the figure this column shows.
 * The run's retval is the low 32 bits of r0. With BENCH_VERIFIER_LOG set
 * in the environment, the verifier's whole log of a rejected program goes
 * to stderr.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

#define STUB_LEN	16		/* slots before the workload's code */
#define LOG_BYTES	(64u << 10)

struct kstate {
	int map_fd;
	int wl_map_fd;			/* the workload's hash map (wl->map), or -1 */
	int prog_fd;
	size_t value_len;		/* input rounded up to 8, then the zero word */
	double last_ns;			/* the kernel's time for the last run call */
};

static int sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/*
 * Errors of BPF_MAP_CREATE that mean "no bpf() for us here". (The verifier
 * rejects programs with EACCES too: for BPF_PROG_LOAD, only EPERM means it.)
 */
static bool unavailable(int err)
{
	return err == -EPERM || err == -ENOSYS || err == -EACCES;
}

/* ---- The input map ------------------------------------------------------ */

static int map_create(uint32_t value_size)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = value_size;
	a.max_entries = 1;
	fd = sys_bpf(BPF_MAP_CREATE, &a);
	return fd < 0 ? -errno : fd;
}

/* Copy the whole value in (update) or out (lookup). */
static int map_value(int fd, enum bpf_cmd cmd, void *value)
{
	uint32_t key = 0;
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = (uintptr_t)&key;
	a.value = (uintptr_t)value;
	return sys_bpf(cmd, &a) < 0 ? -errno : 0;
}

/* A fresh input, followed by zeroes up to value_len, into the map. */
static int map_fill(struct bench_case *c, struct kstate *k)
{
	uint8_t *value = calloc(1, k->value_len);
	int err;

	if (!value)
		return -ENOMEM;
	c->wl->fill(c->mem, c->len);
	memcpy(value, c->mem, c->len);
	err = map_value(k->map_fd, BPF_MAP_UPDATE_ELEM, value);
	free(value);
	return err;
}

/* The workload's hash map (wl->map), with its initial entries. */
static int wl_map_create(const struct bench_map *bm, int *fd)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = bm->max_entries;
	*fd = sys_bpf(BPF_MAP_CREATE, &a);
	if (*fd < 0)
		return -errno;
	for (uint32_t i = 0; i < bm->nentries; i++) {
		uint32_t key;
		uint64_t value;

		bm->entry(i, &key, &value);
		memset(&a, 0, sizeof(a));
		a.map_fd = (uint32_t)*fd;
		a.key = (uintptr_t)&key;
		a.value = (uintptr_t)&value;
		a.flags = BPF_NOEXIST;
		if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0)
			return -errno;
	}
	return 0;
}

/* ---- The program -------------------------------------------------------- */

static struct bpfrt_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off,
			      int32_t imm)
{
	struct bpfrt_insn in = { .code = code, .dst_reg = dst, .src_reg = src,
				 .off = off, .imm = imm };

	return in;
}

static void emit_stub(struct bpfrt_insn *p, int map_fd, size_t len, size_t len8)
{
	p[0] = insn(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0);
	p[1] = insn(BPF_LD | BPF_IMM | BPF_DW, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd);
	p[2] = insn(0, 0, 0, 0, 0);
	p[3] = insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0);
	p[4] = insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4);
	p[5] = insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem);
	p[6] = insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 14 - 7, 0);
	p[7] = insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_0, 0, 0);
	p[8] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, (int32_t)len);
	p[9] = insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_0, 0, 0);
	p[10] = insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, (int32_t)len8);
	p[11] = insn(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_3, BPF_REG_3, 0, 0);
	p[12] = insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, STUB_LEN - 13);
	p[13] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	p[14] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	p[15] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

/* Load insns as an XDP program; its fd or -errno (log, if given, says why). */
static int prog_load(const struct bpfrt_insn *insns, size_t n, char *log)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_XDP;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uintptr_t)"GPL";
	if (log) {
		log[0] = '\0';
		a.log_buf = (uintptr_t)log;
		a.log_size = LOG_BYTES;
		a.log_level = 1;
	}
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	return fd < 0 ? -errno : fd;
}

/* The verifier's last word: the last line of its log but its statistics. */
static void log_tail(char *log, char *out, size_t len)
{
	char *end = log + strlen(log), *line = NULL;

	for (;;) {
		while (end > log && (end[-1] == '\n' || end[-1] == ' '))
			*--end = '\0';
		line = strrchr(log, '\n');
		line = line ? line + 1 : log;
		if (line == log || (strncmp(line, "processed ", 10) &&
				    strncmp(line, "verification time", 17)))
			break;
		end = line;
	}
	snprintf(out, len, "%s", line);
}

/* A rejected program: load it again with a log, to say why. */
static void explain_reject(struct bench_case *c, const struct bpfrt_insn *insns,
			   size_t n, int err)
{
	char *log = malloc(LOG_BYTES), tail[120] = "";

	if (log && prog_load(insns, n, log) < 0) {
		if (getenv("BENCH_VERIFIER_LOG"))
			fprintf(stderr, "%s: the verifier's log:\n%s\n", c->wl->name, log);
		log_tail(log, tail, sizeof(tail));
	}
	snprintf(c->note, sizeof(c->note), "the verifier rejected %s (%s): %s",
		 c->wl->kname ? c->wl->kname : "it", strerror(-err), tail);
	free(log);
}

/* Stub + the workload's code (or its kernel variant), loaded. */
static int prog_make(struct bench_case *c, struct kstate *k)
{
	const struct workload *wl = c->wl;
	const uint8_t *code = wl->kbpf ? wl->kbpf : wl->bpf;
	size_t bytes = wl->kbpf ? wl->kbpf_bytes : wl->bpf_bytes;
	size_t n = STUB_LEN + bytes / sizeof(struct bpfrt_insn);
	struct bpfrt_insn *insns = malloc(n * sizeof(*insns));
	int fd;

	if (!insns)
		return -ENOMEM;
	emit_stub(insns, k->map_fd, c->len, k->value_len - 8);
	memcpy(insns + STUB_LEN, code, bytes);
	if (wl->map)	/* the workload's map: by fd, as the kernel takes it */
		bench_patch_map(insns + STUB_LEN, n - STUB_LEN, wl->map->magic,
				BPF_PSEUDO_MAP_FD, k->wl_map_fd);
	fd = prog_load(insns, n, NULL);
	if (fd < 0 && fd != -EPERM)
		explain_reject(c, insns, n, fd);
	free(insns);
	return fd;
}

/* What the kernel made of it: xlated instructions and bytes of machine code. */
static void describe(struct bench_case *c, struct kstate *k)
{
	struct bpf_prog_info info;
	union bpf_attr a;

	memset(&info, 0, sizeof(info));
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (uint32_t)k->prog_fd;
	a.info.info_len = sizeof(info);
	a.info.info = (uintptr_t)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0)
		return;
	snprintf(c->note, sizeof(c->note), "%s%s: verified in %u insns processed (with "
		 "the stub), %u insns after the verifier, %u bytes of x86-64%s",
		 c->wl->kname ? "variant workloads/" : "",
		 c->wl->kname ? c->wl->kname : "the same code as bpfrt",
		 info.verified_insns, info.xlated_prog_len / 8, info.jited_prog_len,
		 info.jited_prog_len ? "" : " (NOT JITed: the kernel's interpreter ran)");
}

/* ---- The engine ---------------------------------------------------------- */

static int setup_fail(struct bench_case *c, struct kstate *k, int err)
{
	if (c->note[0])
		;	/* the verifier said why */
	else if (unavailable(err))
		snprintf(c->note, sizeof(c->note), "bpf() is not available here "
			 "(%s; it needs root or CAP_BPF + CAP_NET_ADMIN)",
			 strerror(-err));
	else
		snprintf(c->note, sizeof(c->note), "setting up failed: %s",
			 strerror(-err));
	kernel_teardown(k);
	return -ENOTSUP;
}

int kernel_setup(struct bench_case *c, void **state)
{
	struct kstate *k = calloc(1, sizeof(*k));
	int err;

	if (!k)
		return -ENOMEM;
	k->prog_fd = -1;
	k->map_fd = k->wl_map_fd = -1;
	if (c->wl->map) {
		err = wl_map_create(c->wl->map, &k->wl_map_fd);
		if (err)
			return setup_fail(c, k, err);
	}
	k->value_len = ((c->len + 7) & ~(size_t)7) + 8;
	k->map_fd = map_create((uint32_t)k->value_len);
	if (k->map_fd < 0)
		return setup_fail(c, k, k->map_fd);
	err = map_fill(c, k);
	if (err)
		return setup_fail(c, k, err);
	k->prog_fd = prog_make(c, k);
	if (k->prog_fd < 0)
		return setup_fail(c, k, k->prog_fd);
	describe(c, k);
	*state = k;
	return 0;
}

/* One BPF_PROG_TEST_RUN of `repeat` runs on an empty packet. */
static int test_run(int fd, uint32_t repeat, uint32_t *retval, uint32_t *ns)
{
	static uint8_t pkt[64];
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.test.prog_fd = (uint32_t)fd;
	a.test.data_in = (uintptr_t)pkt;
	a.test.data_size_in = sizeof(pkt);
	a.test.repeat = repeat;
	if (sys_bpf(BPF_PROG_TEST_RUN, &a) < 0)
		return -errno;
	*retval = a.test.retval;
	*ns = a.test.duration;
	return 0;
}

int kernel_run(struct bench_case *c, void *state, uint64_t reps, uint64_t *ret)
{
	struct kstate *k = state;
	uint32_t retval = 0, ns = 0;

	k->last_ns = 0;
	while (reps > 0) {
		uint32_t n = reps > UINT32_MAX ? UINT32_MAX : (uint32_t)reps;
		int err = test_run(k->prog_fd, n, &retval, &ns);

		if (err) {
			snprintf(c->err.msg, sizeof(c->err.msg),
				 "BPF_PROG_TEST_RUN failed");
			return err;
		}
		k->last_ns += (double)ns * n;
		reps -= n;
	}
	*ret = retval;
	return 0;
}

double kernel_elapsed(void *state)
{
	return ((struct kstate *)state)->last_ns;
}

/* The map's value, as the last run left it, back into c->mem. */
int kernel_output(struct bench_case *c, void *state)
{
	struct kstate *k = state;
	uint8_t *value = malloc(k->value_len);
	int err;

	if (!value)
		return -ENOMEM;
	err = map_value(k->map_fd, BPF_MAP_LOOKUP_ELEM, value);
	if (!err)
		memcpy(c->mem, value, c->len);
	else
		snprintf(c->err.msg, sizeof(c->err.msg), "reading the map back failed");
	free(value);
	return err;
}

void kernel_teardown(void *state)
{
	struct kstate *k = state;

	if (!k)
		return;
	if (k->prog_fd >= 0)
		close(k->prog_fd);
	if (k->map_fd >= 0)
		close(k->map_fd);
	if (k->wl_map_fd >= 0)
		close(k->wl_map_fd);
	free(k);
}
