/* test_verifier_precision.c — precision tracking must not prune a path whose difference matters: reject cases, their safe twins, the kernel beside. */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bpfrt.h"
#include "t.h"

/*
 * Each case has two paths that meet at a prune point; the path explored
 * first (the fall-through) carries a value that is safe below the join, the
 * other (the jump's target) carries `V`. With V unsafe, a verifier that
 * forgot to mark the value precise where a decision depended on it — through
 * a spill, a 32-bit ALU, another register, a call, a loop, a refined copy —
 * would prune the second path against the first and accept. Each case is
 * built twice: V unsafe (both verifiers must reject) and V safe (both must
 * accept, so the rejection is the unsafe value's).
 */

#define I(c, d, s, o, i) { .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) }
#define MOVI(d, i)      I(0xb7, d, 0, 0, i)
#define MOVR(d, s)      I(0xbf, d, s, 0, 0)
#define MOV32R(d, s)    I(0xbc, d, s, 0, 0)
#define ADDI(d, i)      I(0x07, d, 0, 0, i)
#define ADDR(d, s)      I(0x0f, d, s, 0, 0)
#define ADD32I(d, i)    I(0x04, d, 0, 0, i)
#define LDXB(d, s, o)   I(0x71, d, s, o, 0)
#define LDXH(d, s, o)   I(0x69, d, s, o, 0)
#define LDXW(d, s, o)   I(0x61, d, s, o, 0)
#define LDXDW(d, s, o)  I(0x79, d, s, o, 0)
#define STW(d, o, i)    I(0x62, d, 0, o, i)
#define STXH(d, s, o)   I(0x6b, d, s, o, 0)
#define STXW(d, s, o)   I(0x63, d, s, o, 0)
#define STXDW(d, s, o)  I(0x7b, d, s, o, 0)
#define JEQI(d, i, o)   I(0x15, d, 0, o, i)
#define JNEI(d, i, o)   I(0x55, d, 0, o, i)
#define JGTI(d, i, o)   I(0x25, d, 0, o, i)
#define JLTI(d, i, o)   I(0xa5, d, 0, o, i)
#define JA(o)           I(0x05, 0, 0, o, 0)
#define CALL(id)        I(0x85, 0, 0, 0, id)
#define CALLL(rel)      I(0x85, 0, 1, 0, rel)
#define EXIT            I(0x95, 0, 0, 0, 0)
#define LDMAP(d, idx)   I(0x18, d, 5, 0, idx), I(0, 0, 0, 0, 0)
#define LDFUNC(d, rel)  I(0x18, d, 4, 0, rel), I(0, 0, 0, 0, 0)

/* r6 = V on the jump's path, 0 on the fall-through: 4 insns (clobbers r0-r5) */
#define CHOOSE(r, v)    CALL(7), MOVI(r, v), JNEI(0, 0, 1), MOVI(r, 0)
/* r0 = &value of array map 0 (8 bytes) at key 0, or exit 0: 9 insns */
#define VALUE           STW(10, -4, 0), MOVR(2, 10), ADDI(2, -4), LDMAP(1, 0), CALL(1), \
			JNEI(0, 0, 2), MOVI(0, 0), EXIT
/* *(u8 *)(r0 + r) and return 0: 4 insns */
#define USE(r)          ADDR(0, r), LDXB(0, 0, 0), MOVI(0, 0), EXIT

#define SF BPF_PROG_TYPE_SOCKET_FILTER

struct pcase {
	const char *name;
	struct bpfrt_insn bad[48], ok[48];	/* V unsafe; V safe */
	uint32_t type;
	bool kernel;		/* the kernel can load it (no BTF-only features) */
};

/* a case: its body built with the unsafe value and with the safe one */
#define CASE(name, type, kernel, body, bad, ok) \
	{ name, { BODY_##body(bad) }, { BODY_##body(ok) }, type, kernel }

/* the value itself, as a pointer offset below the join */
#define BODY_direct(V)  CHOOSE(6, V), VALUE, USE(6)
/* spilled on both paths before the join, filled after it */
#define BODY_spill(V)   CALL(7), MOVI(6, V), STXDW(10, 6, -16), JNEI(0, 0, 2), MOVI(6, 0), \
			STXDW(10, 6, -16), MOVI(6, 7), VALUE, LDXDW(7, 10, -16), USE(7)
/* a 4-byte spill and fill */
#define BODY_spill32(V) CALL(7), MOVI(6, V), STXW(10, 6, -16), JNEI(0, 0, 2), MOVI(6, 0), \
			STXW(10, 6, -16), MOVI(6, 7), VALUE, LDXW(7, 10, -16), USE(7)
/* through 32-bit ALU after the join */
#define BODY_alu32(V)   CHOOSE(6, V), MOV32R(7, 6), ADD32I(7, 1), VALUE, USE(7)
/* r7 = 1 + r8, r8 the chosen value: the source of an ALU op */
#define BODY_alureg(V)  CHOOSE(8, V), MOVI(7, 1), ADDR(7, 8), VALUE, USE(7)
/* passed to a function in r1, used there */
#define BODY_callee(V)  CHOOSE(6, V), MOVR(1, 6), CALLL(2), MOVI(0, 0), EXIT, \
			MOVR(6, 1), VALUE, USE(6)
/* returned by a function in r0 */
#define BODY_ret(V)     CHOOSE(6, V), MOVR(1, 6), CALLL(14), MOVR(6, 0), VALUE, USE(6), \
			MOVR(0, 1), EXIT
/* the caller's stack slot, read by a function through a pointer */
#define BODY_cstack(V)  CALL(7), MOVI(6, V), STXDW(10, 6, -16), JNEI(0, 0, 2), MOVI(6, 0), \
			STXDW(10, 6, -16), MOVR(1, 10), ADDI(1, -16), CALLL(2), MOVI(0, 0), EXIT, \
			LDXDW(6, 1, 0), VALUE, USE(6)
/* added up in a loop of three rounds */
#define BODY_loop(V)    CHOOSE(8, V), MOVI(7, 0), MOVI(9, 0), ADDR(7, 8), ADDI(9, 1), \
			JLTI(9, 3, -3), VALUE, USE(7)
/* a jump that only one way is possible for the first path (r6 = 0): V = 1 reads *r6 */
#define BODY_jump(V)    CHOOSE(6, V), JEQI(6, 0, 2), LDXDW(0, 6, 0), EXIT, MOVI(0, 0), EXIT
/*
 * r7 = r6 (a linked copy) on the first path, then r7 <= 7 bounds r6 too;
 * V = 1: the second path skips the copy, so r7's bound says nothing of r6.
 */
#define BODY_linked(V)  CALL(7), MOVR(6, 0), CALL(7), MOVR(7, 0), CALL(7), JNEI(0, 0, V), \
			MOVR(7, 6), JGTI(7, 7, 13), VALUE, USE(6), MOVI(0, 0), EXIT
/* a 2-byte store of 0 makes zero bytes, which read back as 0 (V != 0: any 16 bits) */
#define BODY_zero(V)    CHOOSE(6, V), STXH(10, 6, -8), LDXH(7, 10, -8), VALUE, USE(7)
/* a helper's size: skb_load_bytes of V bytes into 8 bytes of stack */
#define BODY_size(V)    MOVR(9, 1), CALL(7), MOVI(6, V), JNEI(0, 0, 1), \
			MOVI(6, 4), MOVR(1, 9), MOVI(2, 0), MOVR(3, 10), ADDI(3, -8), MOVR(4, 6), \
			CALL(26), MOVI(0, 0), EXIT
/* a checked return value (cgroup_skb: 0 or 1) */
#define BODY_retval(V)  CALL(7), MOVI(6, V), JNEI(0, 0, 1), MOVI(6, 0), MOVR(0, 6), EXIT
/*
 * A path pruned at the join inherits what the state it was pruned against
 * relied on: path 2 (r9 == 2) reaches insn 8 first, is pruned at 9, and
 * path 3 (r9 == 1, r6 = V) then meets path 2's state at 8.
 */
#define BODY_inherit(V) CALL(7), MOVR(9, 0), MOVI(6, V), JEQI(9, 1, 4), MOVI(6, 0), \
			JEQI(9, 2, 2), MOVI(1, 0), JA(1), MOVI(1, 1), VALUE, USE(6)
/*
 * Stack liveness: a slot written on the first path only (V = 1) is read
 * after the join; a 1-byte store before the read does not make the slot's
 * other bytes written (only a store of all 8 would).
 */
#define BODY_partial(V) CALL(7), JNEI(0, 0, V), STXDW(10, 0, -16), I(0x72, 10, 0, -16, 1), \
			LDXDW(7, 10, -16), MOVI(0, 0), EXIT
/* across bpf_loop: the callback runs between the join and the use */
#define BODY_bpfloop(V) CHOOSE(6, V), MOVI(1, 3), LDFUNC(2, 17), MOVI(3, 0), MOVI(4, 0), \
			CALL(181), VALUE, USE(6), MOVI(0, 0), EXIT

static const struct pcase cases[] = {
	CASE("prec_direct", SF, true, direct, 100, 1),
	CASE("prec_spill_fill", SF, true, spill, 100, 1),
	CASE("prec_spill_fill_32", SF, true, spill32, 100, 1),
	CASE("prec_alu32", SF, true, alu32, 100, 1),
	CASE("prec_alu_src_reg", SF, true, alureg, 100, 1),
	CASE("prec_callee_arg", SF, true, callee, 100, 1),
	CASE("prec_callee_return", SF, true, ret, 100, 1),
	CASE("prec_callee_reads_caller_stack", SF, true, cstack, 100, 1),
	CASE("prec_loop", SF, true, loop, 100, 1),
	CASE("prec_decided_jump", SF, true, jump, 1, 0),
	CASE("prec_linked_copy", SF, true, linked, 1, 0),
	CASE("prec_zero_bytes", SF, true, zero, 100, 0),
	CASE("prec_helper_size", SF, true, size, 64, 8),
	CASE("prec_return_value", BPF_PROG_TYPE_CGROUP_SKB, true, retval, 2, 1),
	CASE("prec_pruned_path_inherits", SF, true, inherit, 100, 1),
	/* (root may read uninitialised stack in Linux: bpfrt only) */
	CASE("prec_partial_store_is_no_write", SF, false, partial, 1, 0),
	/* (the kernel wants BTF for a function's address: bpfrt only) */
	CASE("prec_across_bpf_loop", SF, false, bpfloop, 100, 1),
};

static size_t prog_len(const struct bpfrt_insn *p, size_t max)
{
	size_t n = max;

	while (n && !p[n - 1].code && !p[n - 1].imm && (n < 2 || p[n - 2].code != 0x18))
		n--;
	return n;
}

/* ---- The kernel ------------------------------------------------------------------------- */

static int sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* 1 accepted, 0 rejected, -1 cannot tell (no bpf()). */
static int kernel_verdict(const struct bpfrt_insn *insns, size_t n, uint32_t type, int mapfd)
{
	static char log[65536];
	union bpf_attr a;
	int fds[1] = { mapfd };

	if (mapfd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uintptr_t)"GPL";
	a.fd_array = (uintptr_t)fds;
	a.log_buf = (uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	int fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == EACCES || errno == EINVAL || errno == E2BIG ? 0 : -1;
}

static int kernel_map(void)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 1;
	return sys_bpf(BPF_MAP_CREATE, &a);
}

/* ---- The cases -------------------------------------------------------------------------- */

/* bpfrt's verdict (0 accepted, else the error); insns_processed in *processed. */
static int bpfrt_verdict(const struct bpfrt_insn *insns, size_t n, uint32_t type,
			 struct bpfrt_map *map, struct bpfrt_error *err, uint64_t *processed)
{
	struct bpfrt_prog *prog = NULL;

	BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &map, .nmaps = 1);
	int ret = bpfrt_prog_new(insns, n, &po, &prog, err);
	if (ret)
		return ret;
	BPFRT_OPTS(bpfrt_verify_opts, vo, .type = (enum bpfrt_prog_type)type);
	ret = bpfrt_prog_verify(prog, &vo, err);
	*processed = vo.insns_processed;
	bpfrt_prog_free(prog);
	return ret;
}

TEST(verifier_precision)
{
	struct bpfrt_map *map = NULL;
	struct bpfrt_error err;
	unsigned compared = 0, n = sizeof(cases) / sizeof(cases[0]);
	int kfd = kernel_map();

	BPFRT_OPTS(bpfrt_map_opts, mo, .type = BPFRT_MAP_ARRAY, .key_size = 4, .value_size = 8,
		   .max_entries = 1);
	if (!CHECK(bpfrt_map_create(&mo, &map, &err) == 0, "map: %s", err.msg))
		return;
	for (unsigned k = 0; k < n; k++) {
		const struct pcase *c = &cases[k];
		for (int safe = 0; safe < 2; safe++) {
			const struct bpfrt_insn *p = safe ? c->ok : c->bad;
			size_t len = prog_len(p, 48);
			uint64_t processed = 0;
			int ret = bpfrt_verdict(p, len, c->type, map, &err, &processed);
			if (safe)
				CHECK(ret == 0, "%s (safe twin): bpfrt rejects it: %s", c->name, err.msg);
			else
				CHECK(ret != 0 && !strstr(err.msg, "prototype") && !strstr(err.msg, "unknown"),
				      "%s: bpfrt accepts a program with an unsafe path (%llu insns "
				      "processed)%s%s", c->name, (unsigned long long)processed,
				      ret ? ": " : "", ret ? err.msg : "");
			if (!c->kernel)
				continue;
			int kv = kernel_verdict(p, len, c->type, kfd);
			if (kv < 0)
				continue;
			compared++;
			CHECK(kv == safe, "%s%s: the kernel %s it", c->name,
			      safe ? " (safe twin)" : "", kv ? "accepts" : "rejects");
		}
	}
	if (kfd < 0)
		printf("verifier_precision: the kernel was not compared: bpf() is not available\n");
	else
		close(kfd);
	printf("verifier_precision: %u cases, each unsafe and safe; %u verdicts compared with the "
	       "kernel\n", n, compared);
	bpfrt_map_free(map);
}
