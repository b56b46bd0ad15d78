/* test_verifier_random.c — random programs through bpfrt's verifier and the kernel's: what bpfrt accepts runs without a fault, and the verdicts are compared. */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../fuzz/verifier_gen.h"
#include "t.h"

static int sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* 1 accepted, 0 rejected, -1 bpf() unavailable. */
static int kernel_accepts(const struct bpfrt_insn *insns, size_t n, int map_fd)
{
	union bpf_attr a;
	int fds[1] = { map_fd };

	if (map_fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uintptr_t)"GPL";
	a.fd_array = (uintptr_t)fds;
	int fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == EPERM || errno == ENOSYS ? -1 : 0;
}

/* Does the program call bpf_loop or bpf_for_each_map_elem? */
static bool calls_back(const struct bpfrt_insn *insns, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (insns[i].code == 0x85 && insns[i].src_reg == 0 &&
		    (insns[i].imm == 181 || insns[i].imm == 164))
			return true;
	return false;
}

TEST(verifier_random_programs)
{
	uint64_t x = 0x2545f4914f6cdd1dull;
	unsigned counts[4] = { 0 };	/* both accept, both reject, only bpfrt, only the kernel */
	unsigned accepted = 0, runs = 0, callbacks = 0, n_progs = 1500;
	struct bpfrt_map *map = NULL;
	struct bpfrt_error err;
	union bpf_attr a;

	BPFRT_OPTS(bpfrt_map_opts, mo, .type = BPFRT_MAP_ARRAY, .key_size = 4, .value_size = 16,
		   .max_entries = 1);
	if (!CHECK(bpfrt_map_create(&mo, &map, &err) == 0, "map: %s", err.msg))
		return;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 16;
	a.max_entries = 1;
	int map_fd = sys_bpf(BPF_MAP_CREATE, &a);
	for (unsigned it = 0; it < n_progs; it++) {
		uint8_t b[160];
		size_t sz = 8 + (it % 30) * 4;
		for (size_t i = 0; i < sz; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			b[i] = (uint8_t)x;
		}
		if (it % 3 == 0) {	/* a third start with a call of bpf_loop or for_each */
			b[0] = (uint8_t)(0x0f | (b[0] & 0x40));
			b[1] |= 3;
		}
		struct bpfrt_insn insns[MAXN];
		size_t n = build(b, sz, insns);
		struct bpfrt_prog *prog;
		BPFRT_OPTS(bpfrt_prog_opts, po, .maps = &map, .nmaps = 1);
		if (bpfrt_prog_new(insns, n, &po, &prog, &err))
			continue;
		BPFRT_OPTS(bpfrt_verify_opts, vo, .type = BPFRT_PROG_SOCKET_FILTER);
		int v = bpfrt_prog_verify(prog, &vo, &err);
		if (v == 0) {
			accepted++;
			bpfrt_prog_use_builtin_helpers(prog);
			for (int engine = 0; engine < 2; engine++) {
				uint64_t retval[2] = { 0, 0 };
				int rc[2] = { 0, 0 };
				for (int checked = 1; checked >= 0; checked--) {
					uint8_t ctx[192], zero[16] = { 0 };
					uint32_t key = 0;
					memset(ctx, 0x5a, sizeof(ctx));
					/* the same start for every run: the map as well */
					bpfrt_map_update(map, &key, zero, 0);
					BPFRT_OPTS(bpfrt_run_opts, ro, .engine = (enum bpfrt_engine)engine,
						   .checked = checked, .ctx = ctx, .ctx_len = sizeof(ctx),
						   .pkt = ctx, .pkt_len = 64, .budget = 4000000);
					rc[checked] = bpfrt_prog_run(prog, &ro, &err);
					retval[checked] = ro.retval;
					runs++;
					CHECK(rc[checked] == 0, "program %u: accepted, but a %s run on "
					      "engine %d fails: %s", it, checked ? "checked" : "unchecked",
					      engine, err.msg);
				}
				CHECK(rc[0] || rc[1] || retval[0] == retval[1], "program %u: engine %d: "
				      "unchecked %#llx, checked %#llx", it, engine,
				      (unsigned long long)retval[0], (unsigned long long)retval[1]);
				callbacks += engine == 0 && calls_back(insns, n);
			}
		}
		int kv = kernel_accepts(insns, n, map_fd);
		if (kv >= 0)
			counts[kv ? (v == 0 ? 0 : 3) : (v == 0 ? 2 : 1)]++;
		bpfrt_prog_free(prog);
	}
	CHECK(accepted > 20, "only %u of %u random programs were accepted", accepted, n_progs);
	CHECK(callbacks > 5, "only %u accepted random programs call back", callbacks);
	if (map_fd >= 0) {
		printf("verifier_random_programs: %u programs; both accept %u, both reject %u, "
		       "only bpfrt accepts %u, only the kernel accepts %u; %u runs of accepted ones; %u "
		       "accepted ones call back\n", n_progs, counts[0], counts[1], counts[2], counts[3],
		       runs, callbacks);
		close(map_fd);
	} else {
		printf("verifier_random_programs: kernel comparison skipped: bpf() unavailable\n");
	}
	bpfrt_map_free(map);
}
