/* test_prog_maps.c — programs' map tables: lddw of maps and of array values, on both engines. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"
#include "t.h"

#define LDDW(d, src, lo, hi) \
	{ .code = 0x18, .dst_reg = (d), .src_reg = (src), .imm = (lo) }, { .imm = (hi) }

static struct bpfrt_map *array_map(uint32_t value_size, uint32_t flags)
{
	BPFRT_OPTS(bpfrt_map_opts, o, .type = BPFRT_MAP_ARRAY, .key_size = 4,
		   .value_size = value_size, .max_entries = 1, .map_flags = flags);
	struct bpfrt_map *m = NULL;
	struct bpfrt_error err;

	CHECK(bpfrt_map_create(&o, &m, &err) == 0, "array map: %s", err.msg);
	return m;
}

static int run(const struct bpfrt_insn *p, size_t n, struct bpfrt_map **maps, size_t nmaps,
	       int engine, bool checked, uint64_t *r0, struct bpfrt_error *err)
{
	BPFRT_OPTS(bpfrt_prog_opts, po, .maps = maps, .nmaps = nmaps);
	BPFRT_OPTS(bpfrt_run_opts, ro, .checked = checked,
		   .engine = engine ? BPFRT_ENGINE_JIT : BPFRT_ENGINE_INTERP);
	struct bpfrt_prog *prog;
	int ret = bpfrt_prog_new(p, n, &po, &prog, err);

	if (ret)
		return ret;
	ret = bpfrt_prog_run(prog, &ro, err);
	*r0 = ro.retval;
	bpfrt_prog_free(prog);
	return ret;
}

TEST(prog_map_table)
{
	struct bpfrt_map *maps[2] = { array_map(16, 0), array_map(8, 1u << 7) };
	uint32_t key = 0;
	uint8_t value[16] = { 0 }, out[16];
	struct bpfrt_error err;
	uint64_t r0;
	int ret;

	if (!maps[0] || !maps[1])
		return;
	value[4] = 0x2a;
	bpfrt_map_update(maps[0], &key, value, BPFRT_ANY);
	for (int engine = 0; engine < 2; engine++) {
		for (int checked = 0; checked < 2; checked++) {
			/* r0 = map 1 itself; then read and write map 0's value at +4. */
			const struct bpfrt_insn p[] = {
				LDDW(0, 5, 1, 0),
				LDDW(1, 6, 0, 4),
				{ .code = 0x61, .dst_reg = 2, .src_reg = 1 },	/* r2 = *(u32 *)r1 */
				{ .code = 0x07, .dst_reg = 2, .imm = 1 },
				{ .code = 0x63, .dst_reg = 1, .src_reg = 2, .off = 4 },
				{ .code = 0x95 },
			};
			ret = run(p, 8, maps, 2, engine, checked, &r0, &err);
			CHECK(ret == 0 && r0 == (uintptr_t)maps[1], "engine %d checked %d: %s",
			      engine, checked, err.msg);
			bpfrt_map_lookup(maps[0], &key, out);
			CHECK(out[8] == 0x2a + 1 + 2 * engine + checked,
			      "the program wrote the map's value: %u", out[8]);
			bpfrt_map_update(maps[0], &key, value, BPFRT_ANY);
			memcpy(value + 4, out + 8, 1);	/* the next run adds one more */
			bpfrt_map_update(maps[0], &key, value, BPFRT_ANY);
		}
		/* Checked: past the value area faults; a read-only map can't be written. */
		const struct bpfrt_insn past[] = {
			LDDW(1, 6, 0, 15), { .code = 0x61, .dst_reg = 0, .src_reg = 1, .off = 0x1000 },
			{ .code = 0x95 },
		};
		ret = run(past, 4, maps, 2, engine, true, &r0, &err);
		CHECK(ret == -EFAULT, "engine %d: read past a map value: %d %s", engine, ret, err.msg);
		const struct bpfrt_insn ro[] = {
			LDDW(1, 6, 1, 0), { .code = 0x62, .dst_reg = 1, .imm = 7 }, { .code = 0x95 },
		};
		ret = run(ro, 4, maps, 2, engine, true, &r0, &err);
		CHECK(ret == -EACCES, "engine %d: write to a read-only map: %d %s", engine, ret,
		      err.msg);
	}
	/* Bad references are refused when the program is prepared. */
	const struct bpfrt_insn bad_idx[] = { LDDW(0, 5, 2, 0), { .code = 0x95 } };
	ret = run(bad_idx, 3, maps, 2, 0, false, &r0, &err);
	CHECK(ret == -EINVAL && strstr(err.msg, "map 2 of the program's table, which has 2"),
	      "index out of range: %s", err.msg);
	const struct bpfrt_insn bad_off[] = { LDDW(0, 6, 1, 8), { .code = 0x95 } };
	ret = run(bad_off, 3, maps, 2, 1, false, &r0, &err);
	CHECK(ret == -EINVAL && strstr(err.msg, "offset 8 is outside the 8-byte value"),
	      "offset out of range: %s", err.msg);
	CHECK(run(bad_idx, 3, NULL, 1, 0, false, &r0, &err) == -EINVAL, "NULL table");
	/* Programs keep their maps alive. */
	BPFRT_OPTS(bpfrt_prog_opts, po, .maps = maps, .nmaps = 2);
	struct bpfrt_prog *prog;
	const struct bpfrt_insn get[] = { LDDW(1, 6, 0, 4), { .code = 0x61, .dst_reg = 0,
				   .src_reg = 1 }, { .code = 0x95 } };
	bpfrt_prog_new(get, 4, &po, &prog, &err);
	bpfrt_map_free(maps[0]);
	bpfrt_map_free(maps[1]);
	BPFRT_OPTS(bpfrt_run_opts, o);
	CHECK(bpfrt_prog_run(prog, &o, &err) == 0 && o.retval == 0x2a + 4,
	      "map outlives its creator's reference: %#llx", (unsigned long long)o.retval);
	bpfrt_prog_free(prog);
}
