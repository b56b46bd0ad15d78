/* test_verifier_fuzz.c — the corpus soundness harness (fuzz/verifier_corpus.h) in `make test`: its oracles, and the corpus with a few seeded mutations per program. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../../fuzz/verifier_corpus.h"
#include "../../fuzz/verifier_gen.h"
#include "t.h"
#include "vfuzz_kernel.h"


/* Judge an unverified program as if the verifier had accepted it: does the harness find it? */
static bool judged_bad(enum bpfrt_prog_type type, const struct bpfrt_insn *insns, size_t n,
		       struct vc_finding *f)
{
	static const uint8_t pkt[64] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd };
	struct vc_corpus c = { 0 };
	struct vc_prog vp = { .type = type, .obj = SIZE_MAX };
	struct bpfrt_prog *prog;
	struct bpfrt_error err;
	uint8_t in[2048] = { 0 };
	bool bad;

	memcpy(in, pkt, sizeof(pkt));
	BPFRT_OPTS(bpfrt_prog_opts, po, .type = type);
	f->text[0] = '\0';
	if (bpfrt_prog_new(insns, n, &po, &prog, &err))
		return false;
	uint32_t len = type == BPFRT_PROG_UNSPEC ? 64 : type == BPFRT_PROG_XDP ? 60 :
		       (uint32_t)vc_ctx_size(type);
	bad = vc_judge(&c, &vp, prog, in, len, 3, f);
	bpfrt_prog_free(prog);
	vc_free(&c);
	return bad;
}

/* Each oracle catches what it is for, and the harness takes what is allowed. */
TEST(verifier_fuzz_oracles)
{
	struct vc_finding f;
	const struct bpfrt_insn ok[] = { INS(0xb7, 0, 0, 0, 7), INS(0x95, 0, 0, 0, 0) };
	const struct bpfrt_insn leak[] = { INS(0xbf, 0, 10, 0, 0), INS(0x95, 0, 0, 0, 0) };
	const struct bpfrt_insn oob[] = { INS(0x79, 0, 1, 4096, 0), INS(0x95, 0, 0, 0, 0) };
	/* r0 = three stack slots never written, summed */
	const struct bpfrt_insn uninit[] = {
		INS(0x79, 0, 10, -8, 0), INS(0x79, 2, 10, -256, 0), INS(0x0f, 0, 2, 0, 0),
		INS(0x79, 2, 10, -504, 0), INS(0x0f, 0, 2, 0, 0), INS(0x95, 0, 0, 0, 0),
	};
	/* XDP: r0 = the byte 100 bytes into a 60-byte packet, unchecked against data_end */
	const struct bpfrt_insn pkt_oob[] = {
		INS(0x61, 2, 1, 0, 0), INS(0x71, 0, 2, 100, 0), INS(0x95, 0, 0, 0, 0),
	};
	/* kprobe: a read past pt_regs (168 bytes) */
	const struct bpfrt_insn ctx_oob[] = { INS(0x79, 0, 1, 168, 0), INS(0x95, 0, 0, 0, 0) };

	CHECK(!judged_bad(BPFRT_PROG_UNSPEC, ok, 2, &f), "r0 = 7 judged bad: %s", f.text);
	CHECK(!judged_bad(BPFRT_PROG_UNSPEC, leak, 2, &f), "r0 = r10 (a pointer, allowed) judged "
	      "bad: %s", f.text);
	CHECK(!judged_bad(BPFRT_PROG_XDP, ok, 2, &f), "XDP r0 = 7 judged bad: %s", f.text);
	CHECK(judged_bad(BPFRT_PROG_UNSPEC, oob, 2, &f) && strstr(f.text, "checked"),
	      "a read past the ctx not found: %s", f.text);
	if (vc_fake_stack())
		printf("verifier_fuzz_oracles: the uninitialised-read oracle is not checked: ASan's "
		       "fake stack is on (the fuzzers turn it off)\n");
	else
		CHECK(judged_bad(BPFRT_PROG_UNSPEC, uninit, 6, &f) && strstr(f.text, "uninitialised"),
		      "a read of stack never written not found: %s", f.text);
	CHECK(judged_bad(BPFRT_PROG_XDP, pkt_oob, 3, &f) && strstr(f.text, "checked"),
	      "a read past XDP's data_end not found: %s", f.text);
	CHECK(judged_bad(BPFRT_PROG_KPROBE, ctx_oob, 2, &f) && strstr(f.text, "checked"),
	      "a read past pt_regs not found: %s", f.text);
}

/* ---- The kernel's verdict on the same mutants --------------------------- */

/* Kernel maps like each object's (fds, -1 where one cannot be made), made once per object. */
struct kobj {
	int *fds;
	size_t n;
	bool made;
};

static void kmaps_make(struct kobj *k, struct bpfrt_obj *obj)
{
	k->made = true;
	k->n = bpfrt_obj_map_count(obj);
	k->fds = malloc((k->n ? k->n : 1) * sizeof(int));
	for (size_t i = 0; k->fds && i < k->n; i++) {
		struct bpfrt_obj_map_info mi;

		bpfrt_obj_map_at(obj, i, &mi);
		k->fds[i] = mi.type == BPFRT_MAP_ARRAY_OF_MAPS || mi.type == BPFRT_MAP_HASH_OF_MAPS ?
			    -1 : vfk_map_create(mi.type, mi.key_size, mi.value_size, mi.max_entries,
						mi.map_flags);
	}
}

static void kmaps_free(struct kobj *k, size_t n)
{
	for (size_t o = 0; o < n; o++) {
		for (size_t i = 0; k[o].fds && i < k[o].n; i++)
			if (k[o].fds[i] >= 0)
				close(k[o].fds[i]);
		free(k[o].fds);
	}
	free(k);
}

/*
 * Load the last input's program into the kernel with maps like its own:
 * 1 accepted, 0 rejected (the kernel's last log line in why), -1 not possible.
 */
static int kernel_verdict(const struct vc_corpus *c, struct kobj *kobjs, char *why, size_t len)
{
	const struct vc_prog *vp = c->last_prog;
	struct kobj *k = &kobjs[vp->obj];
	struct bpfrt_obj *obj = c->objs[vp->obj].obj;
	int fds[256];
	static char log[1 << 20];

	if (!k->made)
		kmaps_make(k, obj);
	if (!k->fds || vp->nmaps > 256)
		return -1;
	for (size_t i = 0; i < vp->nmaps; i++) {
		fds[i] = -1;
		for (size_t j = 0; j < k->n; j++)
			if (bpfrt_obj_map_at(obj, j, NULL) == vp->maps[i])
				fds[i] = k->fds[j];
		if (fds[i] < 0)
			return -1;
	}
	for (int with_log = 0; with_log < 2; with_log++) {
		int fd = vfk_prog_load(vp->type, c->last_insns, c->last_n, fds,
				       with_log ? log : NULL, sizeof(log));

		if (fd >= 0) {
			close(fd);
			return 1;
		}
		if (fd == -EPERM || fd == -ENOSYS)
			return -1;
	}
	/* the last line that says something */
	size_t end = strlen(log);
	while (end && (log[end - 1] == '\n' || log[end - 1] == ' '))
		end--;
	log[end] = '\0';
	size_t start = end;
	while (start && log[start - 1] != '\n')
		start--;
	if (!strncmp(log + start, "processed ", 10) && start) {	/* the line before it */
		end = start - 1;
		log[end] = '\0';
		while (start > 1 && log[start - 2] != '\n')
			start--;
		start = start ? start - 1 : 0;
	}
	snprintf(why, len, "%s", log + start);
	return 0;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Every corpus program unmutated, then VF_MUTANTS seeded mutants of each:
 * whatever the verifier accepts must pass every oracle. Regressions of the
 * verifier's soundness on real programs show here; the fuzzer goes further.
 */
#define VF_MUTANTS 20
#define VF_SEED 0x5eed0001ull
#define VF_KERNEL_MUTANTS 20	/* mutants per program also loaded into the kernel */

TEST(verifier_fuzz_corpus)
{
	const char *dir = getenv("BPFRT_CORPUS") ? getenv("BPFRT_CORPUS") : "../shared/corpus";
	static struct vc_finding f;
	struct vc_corpus c;
	uint64_t seed = VF_SEED;
	unsigned findings = 0;
	clock_t t0 = clock();

	if (vc_load(&c, dir)) {
		printf("verifier_fuzz_corpus: skipped: no corpus at %s (set BPFRT_CORPUS)\n", dir);
		return;
	}
	struct kobj *kobjs = calloc(c.nobjs, sizeof(*kobjs));
	unsigned kv[2][2] = { { 0 } };	/* [bpfrt accepts][kernel accepts] */
	unsigned k_unmutated = 0, k_unmutated_ok = 0, shown = 0;
	bool kernel = kobjs != NULL;

	for (size_t k = 0; k < c.nprogs; k++) {
		for (int m = 0; m <= VF_MUTANTS; m++) {
			uint8_t in[64];
			size_t len = m ? sizeof(in) : 3;	/* 3 bytes: no mutation */

			for (size_t i = 0; i < sizeof(in); i++)
				in[i] = (uint8_t)xorshift(&seed);
			in[0] = (uint8_t)k;
			in[1] = (uint8_t)(k >> 8);
			if (vc_one(&c, in, len, &f) && findings++ < 5)
				CHECK(false, "verifier_fuzz_corpus: program %zu, mutant %d: %s", k, m,
				      f.text);
			if (!kernel || !c.last_valid || m > VF_KERNEL_MUTANTS)
				continue;
			char why[256] = "";
			int kr = kernel_verdict(&c, kobjs, why, sizeof(why));
			if (kr < 0) {
				kernel = m > 0 || k > 0;	/* bpf() unavailable: stop asking */
				continue;
			}
			kv[c.last_accepted][kr]++;
			if (!m && c.last_accepted) {
				k_unmutated++;
				k_unmutated_ok += kr;
			}
			if (!c.last_accepted && kr && getenv("BPFRT_VERBOSE"))
				printf("verifier_fuzz_corpus: only the kernel accepts %s mutant %d (%s); "
				       "bpfrt: %s\n", c.last_prog->name, m, c.last_mut, c.last_msg);
			if (c.last_accepted && !kr && (shown++ < 12 || getenv("BPFRT_VERBOSE")))
				printf("verifier_fuzz_corpus: only bpfrt accepts %s mutant %d (%s); the "
				       "kernel: %s\n", c.last_prog->name, m, c.last_mut, why);
		}
	}
	if (kobjs)
		kmaps_free(kobjs, c.nobjs);
	if (kv[0][0] + kv[0][1] + kv[1][0] + kv[1][1]) {
		printf("verifier_fuzz_corpus: against the kernel (unmutated and %d mutants each): "
		       "both accept %u, both reject %u, only bpfrt accepts %u, only the kernel "
		       "accepts %u\n", VF_KERNEL_MUTANTS, kv[1][1], kv[0][0], kv[1][0], kv[0][1]);
		CHECK(k_unmutated_ok * 10 >= k_unmutated * 9, "the kernel accepts only %u of the %u "
		      "unmutated programs bpfrt accepts: the maps or types given to it are wrong",
		      k_unmutated_ok, k_unmutated);
	} else {
		printf("verifier_fuzz_corpus: kernel comparison skipped: bpf() unavailable\n");
	}
	CHECK(findings == 0, "%u findings", findings);
	CHECK(c.st.accepted >= c.nprogs * 9 / 10, "only %llu inputs accepted (of %zu unmutated "
	      "programs)", (unsigned long long)c.st.accepted, c.nprogs);
	printf("verifier_fuzz_corpus: %zu programs, %llu inputs: %llu invalid, %llu rejected, "
	       "%llu accepted, %llu run (%llu depend on addresses, %llu call a helper bpfrt "
	       "lacks, %llu inputs the test run refuses, %llu not runnable); %.1f s\n",
	       c.nprogs, (unsigned long long)c.st.inputs, (unsigned long long)c.st.invalid,
	       (unsigned long long)c.st.rejected, (unsigned long long)c.st.accepted,
	       (unsigned long long)c.st.runs, (unsigned long long)c.st.addr_dependent,
	       (unsigned long long)c.st.no_helper, (unsigned long long)c.st.bad_input,
	       (unsigned long long)c.st.not_runnable, (double)(clock() - t0) / CLOCKS_PER_SEC);
	vc_free(&c);
}

/*
 * fuzz_verifier's generator (build_ext: XDP packet checks, ring buffer
 * reservations, shifted and 32-bit bounds, spills and fills, local calls)
 * with fixed seeds: every program the verifier accepts goes through the
 * corpus harness's judge, with an array map and a ring buffer that each
 * run starts from afresh.
 */
TEST(verifier_fuzz_generated)
{
	struct bpfrt_map *maps[2];
	struct bpfrt_error err;
	struct vc_corpus c = { 0 };
	struct vc_obj o = { 0 };
	struct vc_snap snaps[2];
	static struct vc_finding f;
	uint64_t seed = VF_SEED ^ 0xe7;
	unsigned accepted[2] = { 0, 0 }, findings = 0, n_progs = 20000, ringbuf = 0, calls = 0;
	BPFRT_OPTS(bpfrt_map_opts, ao, .type = BPFRT_MAP_ARRAY, .key_size = 4, .value_size = 16,
		   .max_entries = 1);
	BPFRT_OPTS(bpfrt_map_opts, ro, .type = BPFRT_MAP_RINGBUF, .max_entries = 4096);

	if (!CHECK(bpfrt_map_create(&ao, &maps[0], &err) == 0 &&
		   bpfrt_map_create(&ro, &maps[1], &err) == 0, "maps: %s", err.msg))
		return;
	for (int i = 0; i < 2; i++) {
		snaps[i].map = maps[i];
		snaps[i].size = ((const struct map_block *)(const void *)maps[i]->base)->size;
		snaps[i].copy = malloc(snaps[i].size);
		memcpy(snaps[i].copy, maps[i]->base, snaps[i].size);
	}
	o.snaps = snaps;
	o.nsnaps = 2;
	o.bytes = snaps[0].size + snaps[1].size;
	c.objs = &o;
	c.nobjs = 1;
	for (unsigned it = 0; it < n_progs; it++) {
		uint8_t b[96], pkt[128];
		size_t sz = 8 + (it % 22) * 4;
		struct bpfrt_insn insns[MAXN];
		enum bpfrt_prog_type type;
		struct bpfrt_prog *prog;

		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (uint8_t)xorshift(&seed);
		for (size_t i = 0; i < sizeof(pkt); i++)
			pkt[i] = (uint8_t)xorshift(&seed);
		size_t n = build_ext(b, sz, insns, &type);
		BPFRT_OPTS(bpfrt_prog_opts, po, .maps = maps, .nmaps = 2, .type = type);
		if (bpfrt_prog_new(insns, n, &po, &prog, &err))
			continue;
		BPFRT_OPTS(bpfrt_verify_opts, vo, .type = type, .ctx_size = CTX_SIZE,
			   .max_insns = 100000);
		if (bpfrt_prog_verify(prog, &vo, &err) == 0) {
			struct vc_prog vp = { .type = type, .maps = maps, .nmaps = 2, .obj = 0 };

			snprintf(vp.name, sizeof(vp.name), "build_ext program %u", it);
			accepted[type == BPFRT_PROG_XDP]++;
			for (size_t i = 0; i < n; i++) {
				ringbuf += insns[i].code == 0x85 && insns[i].imm == 131;
				calls += insns[i].code == 0x85 && insns[i].src_reg == 1;
			}
			if (type == BPFRT_PROG_XDP)	/* an Ethernet frame: the test run wants 14 bytes */
				memset(pkt, 0, 14);
			if (vc_judge(&c, &vp, prog, pkt, type == BPFRT_PROG_XDP ? 14 + pkt[20] % 100 :
				     CTX_SIZE, it % 16, &f) && findings++ < 5) {
				vc_say_prog(&f, insns, n);
				CHECK(false, "build_ext program %u: %s", it, f.text);
			}
		}
		bpfrt_prog_free(prog);
	}
	CHECK(findings == 0, "%u findings", findings);
	CHECK(accepted[0] > 50 && accepted[1] > 50, "only %u UNSPEC and %u XDP programs accepted",
	      accepted[0], accepted[1]);
	CHECK(ringbuf > 0 && calls > 0, "no accepted program reserves ringbuf memory (%u) or makes "
	      "a local call (%u)", ringbuf, calls);
	printf("verifier_fuzz_generated: %u programs; accepted %u UNSPEC, %u XDP (ringbuf calls %u, "
	       "local calls %u); %llu run (%llu depend on addresses)\n", n_progs, accepted[0],
	       accepted[1], ringbuf, calls, (unsigned long long)c.st.runs,
	       (unsigned long long)c.st.addr_dependent);
	for (int i = 0; i < 2; i++) {
		free(snaps[i].copy);
		bpfrt_map_free(maps[i]);
	}
	c.objs = NULL;	/* o and its snapshots live here: vc_free takes the programs */
	c.nobjs = 0;
	vc_free(&c);
}
