/* fuzz_loader.c — libFuzzer target: the input is an ELF object, opened from memory, inspected and (if small) loaded. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"

/*
 * Malformed ELF, BTF, .BTF.ext, relocations and map definitions must give a
 * negative errno and a message, never a crash, a leak or undefined
 * behaviour. Objects that open are walked through every accessor, and
 * loaded when their maps are small enough not to make the run slow.
 */
#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define MAP_BUDGET (1u << 20)	/* bytes of declared map memory worth loading */

/* Every failure says why. */
static void check_error(int ret, const struct bpfrt_error *err)
{
	CHECK(ret < 0 && err->code == ret && err->msg[0]);
}

static void walk_progs(struct bpfrt_obj *obj)
{
	for (size_t i = 0; i < bpfrt_obj_prog_count(obj); i++) {
		struct bpfrt_obj_prog_info info;
		struct bpfrt_obj_line l;
		char buf[128];

		CHECK(bpfrt_obj_prog_at(obj, i, &info) == NULL);
		CHECK(info.name && info.section && info.insn_cnt > 0);
		CHECK(bpfrt_obj_prog_find(obj, info.name) >= 0);
		for (size_t k = 0; k < info.insn_cnt && k < 64; k++) {
			if (!bpfrt_obj_prog_line(obj, i, k, &l))
				CHECK(l.file && l.src);
			bpfrt_disasm_insn(info.insns, info.insn_cnt, k, buf, sizeof(buf));
		}
		CHECK(bpfrt_obj_prog_line(obj, i, info.insn_cnt, &l) == -EINVAL);
	}
}

/* Declared bytes of the object's maps (a rough bound on what loading costs). */
static uint64_t walk_maps(struct bpfrt_obj *obj)
{
	uint64_t total = 0, each;

	for (size_t i = 0; i < bpfrt_obj_map_count(obj); i++) {
		struct bpfrt_obj_map_info info;

		CHECK(bpfrt_obj_map_at(obj, i, &info) == NULL);
		CHECK(info.name && info.section);
		if (__builtin_mul_overflow((uint64_t)info.key_size + info.value_size + 64,
					   (uint64_t)info.max_entries + 1, &each) ||
		    __builtin_add_overflow(total, each, &total))
			return UINT64_MAX;
	}
	return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpfrt_obj *obj = NULL;
	struct bpfrt_error err;
	int ret;

	ret = bpfrt_obj_open_mem(data, size, NULL, &obj, &err);
	if (ret) {
		check_error(ret, &err);
		CHECK(obj == NULL);
		return 0;
	}
	walk_progs(obj);
	if (walk_maps(obj) <= MAP_BUDGET) {
		ret = bpfrt_obj_load(obj, &err);
		if (ret)
			check_error(ret, &err);
	}
	bpfrt_obj_close(obj);
	return 0;
}
