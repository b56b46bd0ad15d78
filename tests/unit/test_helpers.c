/* test_helpers.c — built-in helpers: the map helpers on both engines, in both modes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"
#include "t.h"

/* Assemble text; every "lddw %rN, 0x4d41500K" becomes a reference to map K. */
static struct bpfrt_prog *prog_with_maps(const char *text, struct bpfrt_map **maps,
					 size_t nmaps)
{
	BPFRT_OPTS(bpfrt_prog_opts, po, .maps = maps, .nmaps = nmaps);
	struct bpfrt_insn *insns;
	struct bpfrt_prog *prog = NULL;
	struct bpfrt_error err;
	size_t n;

	if (!CHECK(bpfrt_asm(text, &insns, &n, &err) == 0, "asm: %s", err.msg))
		return NULL;
	for (size_t i = 0; i + 1 < n; i++) {
		if (insns[i].code == 0x18 && (insns[i].imm & ~0xf) == 0x4d415000) {
			insns[i].src_reg = 5;
			insns[i].imm &= 0xf;
		}
	}
	CHECK(bpfrt_prog_new(insns, n, &po, &prog, &err) == 0, "new: %s", err.msg);
	free(insns);
	if (prog)
		CHECK(bpfrt_prog_use_builtin_helpers(prog) == 0, "helpers");
	return prog;
}

static struct bpfrt_map *new_map(enum bpfrt_map_type type, uint32_t ks, uint32_t vs,
				 uint32_t n)
{
	BPFRT_OPTS(bpfrt_map_opts, o, .type = type, .key_size = ks, .value_size = vs,
		   .max_entries = n);
	struct bpfrt_map *m = NULL;
	struct bpfrt_error err;

	CHECK(bpfrt_map_create(&o, &m, &err) == 0, "map: %s", err.msg);
	return m;
}

static int run(struct bpfrt_prog *prog, int engine, bool checked, uint64_t *r0,
	       struct bpfrt_error *err)
{
	BPFRT_OPTS(bpfrt_run_opts, o, .checked = checked,
		   .engine = engine ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP);
	int ret = bpfrt_prog_run(prog, &o, err);

	*r0 = o.retval;
	return ret;
}

/* Count in a hash map: look up key 7, insert 1 if absent, else add 1. */
static const char *const counter =
	"stw [%r10-4], 7\n"
	"lddw %r1, 0x4d415000\nmov %r2, %r10\nadd %r2, -4\ncall 1\n"
	"jeq %r0, 0, insert\n"
	"mov %r1, 1\nlock add [%r0], %r1\nldxdw %r0, [%r0]\nexit\n"
	"insert:\nstdw [%r10-16], 1\n"
	"lddw %r1, 0x4d415000\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\n"
	"mov %r4, 1\ncall 2\nexit\n";	/* BPF_NOEXIST */

TEST(helpers_map_counter)
{
	struct bpfrt_map *m = new_map(BPFRT_MAP_HASH, 4, 8, 16);
	struct bpfrt_error err;
	uint64_t r0 = 0, v = 0;
	uint32_t key = 7;
	int ret;

	if (!m)
		return;
	for (int engine = 0; engine < 2; engine++) {
		for (int checked = 0; checked < 2; checked++) {
			struct bpfrt_prog *p = prog_with_maps(counter, &m, 1);

			for (int k = 0; p && k < 5; k++) {
				ret = run(p, engine, checked, &r0, &err);
				CHECK(ret == 0, "engine %d checked %d: %s", engine, checked, err.msg);
			}
			bpfrt_prog_free(p);
		}
	}
	CHECK(bpfrt_map_lookup(m, &key, &v) == 0 && v == 20, "20 runs counted: %llu",
	      (unsigned long long)v);
	bpfrt_map_free(m);
}

TEST(helpers_queue_and_errors)
{
	struct bpfrt_map *maps[2] = { new_map(BPFRT_MAP_QUEUE, 0, 8, 4),
				      new_map(BPFRT_MAP_ARRAY, 4, 8, 2) };
	struct bpfrt_error err;
	uint64_t r0 = 0;

	if (!maps[0] || !maps[1])
		return;
	for (int engine = 0; engine < 2; engine++) {
		/* push 5, 6; pop returns 5 (FIFO); peek 6. */
		struct bpfrt_prog *p = prog_with_maps(
			"stdw [%r10-8], 5\nlddw %r1, 0x4d415000\nmov %r2, %r10\nadd %r2, -8\n"
			"mov %r3, 0\ncall 87\nstdw [%r10-8], 6\nlddw %r1, 0x4d415000\n"
			"mov %r2, %r10\nadd %r2, -8\nmov %r3, 0\ncall 87\n"
			"lddw %r1, 0x4d415000\nmov %r2, %r10\nadd %r2, -16\ncall 88\n"
			"lddw %r1, 0x4d415000\nmov %r2, %r10\nadd %r2, -24\ncall 89\n"
			"ldxdw %r0, [%r10-16]\nlsh %r0, 8\nldxdw %r1, [%r10-24]\nor %r0, %r1\n"
			"exit\n", maps, 2);
		CHECK(p && run(p, engine, true, &r0, &err) == 0 && r0 == 0x506,
		      "engine %d: push/pop/peek %#llx %s", engine, (unsigned long long)r0,
		      err.msg);
		bpfrt_prog_free(p);
		/* Errors come back as negative errno in r0. */
		p = prog_with_maps("lddw %r1, 0x4d415000\nmov %r2, %r10\nadd %r2, -8\ncall 88\n"
				   "lddw %r1, 0x4d415000\nmov %r2, %r10\nadd %r2, -8\ncall 88\n"
				   "exit\n", maps, 2);
		CHECK(p && run(p, engine, false, &r0, &err) == 0 && r0 == (uint64_t)-ENOENT,
		      "engine %d: pop from an empty queue: %lld", engine, (long long)r0);
		bpfrt_prog_free(p);
		/* Checked runs refuse pointers outside the run's memory ... */
		p = prog_with_maps("lddw %r1, 0x4d415001\nmov %r2, 64\ncall 1\nexit\n", maps, 2);
		CHECK(p && run(p, engine, true, &r0, &err) == -EFAULT &&
		      strstr(err.msg, "insn 3: bpf_map_lookup_elem: argument 2 (0x40, 4 bytes"),
		      "engine %d: bad key pointer: %s", engine, err.msg);
		bpfrt_prog_free(p);
		/* ... and anything but the program's own maps as a map. */
		p = prog_with_maps("mov %r1, %r10\nadd %r1, -8\nmov %r2, %r1\ncall 1\nexit\n",
				   maps, 2);
		CHECK(p && run(p, engine, true, &r0, &err) == -EINVAL &&
		      strstr(err.msg, "is not one of the program's maps"),
		      "engine %d: not a map: %s", engine, err.msg);
		bpfrt_prog_free(p);
	}
	bpfrt_map_free(maps[0]);
	bpfrt_map_free(maps[1]);
}
