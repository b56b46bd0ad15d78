/* test_jit_kernel.c — clang-built code the unchecked JIT rewrites (switch tables, selects, a byte-copy loop): both engines and modes against Linux and native C. */
#include <stdlib.h>
#include <string.h>

typedef unsigned char __u8;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef int __s32;

#include "../bpf/jitopt.h"
#include "objrun.h"

static struct jo_in input;

static void fill(struct or_map (*lookup)(void *, const char *), void *side)
{
	struct or_map m = lookup(side, "input");
	__u32 k = 0;

	if (m.m)
		CHECK(bpfrt_map_update(m.m, &k, &input, BPFRT_ANY) == 0, "input");
	else if (m.fd >= 0)
		CHECK(bpf_map_update_elem(m.fd, &k, &input, BPF_ANY) == 0, "input");
}

static uint32_t rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

static void make_input(uint32_t *seed)
{
	static const __s32 odd[] = { -2147483647 - 1, 2147483647, -1, 64, 32, 31, 1000 };

	for (int i = 0; i < JO_NVAL; i++) {
		uint32_t r = rnd(seed);

		input.v[i] = r % 5 == 0 ? odd[r / 5 % 7] : (__s32)(r % 44) - 6;
		input.w[i] = ((__u64)rnd(seed) << 40 ^ (__u64)rnd(seed) << 16 ^ rnd(seed)) >>
			     (rnd(seed) % 64);
	}
	for (int i = 0; i < 256; i++)
		input.buf[i] = (__u8)rnd(seed);
	input.src = rnd(seed) % 129;
	input.dst = rnd(seed) % 2 ? input.src + rnd(seed) % 9 : rnd(seed) % 129;
	input.dst = input.dst > 128 ? 128 : input.dst;
	input.n = rnd(seed) % 101;
}

/* Count the code's table loads, cmovs and 8-byte copies (see test_jit_switch.c etc.). */
static void shapes(struct bpfrt_prog *p, unsigned *tables, unsigned *cmovs, unsigned *wide)
{
	const uint8_t *c;
	const void *code;
	const uint32_t *offs;
	size_t len;
	struct bpfrt_error err;

	*tables = *cmovs = *wide = 0;
	if (!CHECK(bpfrt_prog_jited(p, false, &code, &len, &offs, &err) == 0, "%s", err.msg))
		return;
	c = code;
	for (size_t i = 0; i + 4 <= len; i++) {
		*tables += (!memcmp(c + i, "\x4f\x63\x1c\x99", 4)) ||
			   ((c[i] & 0xfb) == 0x4b && c[i + 1] == 0x8b &&
			    (c[i + 2] & 0xc7) == 0x04 && c[i + 3] == 0xd9);
		*cmovs += (c[i] & 0xf8) == 0x48 && c[i + 1] == 0x0f &&
			  (c[i + 2] & 0xf0) == 0x40 && c[i + 3] >= 0xc0;
		*wide += (c[i] & 0xfe) == 0x4c && c[i + 1] == 0x8b && (c[i + 2] & 0xf8) == 0x18 &&
			 (c[i + 2] & 7) != 4 && (c[i + 2] & 7) != 5;
	}
}

TEST(jit_opt_kernel)
{
	struct objrun o;
	uint32_t seed = 2026;
	unsigned tables, cmovs, wide;

	if (!or_open(&o, "jitopt", fill))
		return;
	for (int t = 0; t < 12; t++) {
		uint64_t want[3];
		__u64 a, b;
		__u8 buf[256];

		make_input(&seed);
		want[0] = jo_mix(&input, &a, &b);
		want[1] = a;
		want[2] = b;
		or_expect(&o, "tables", 2, want, 3);
		memcpy(buf, input.buf, sizeof(buf));
		for (__u32 i = 0; i < input.n; i++)	/* forward, byte by byte */
			buf[input.dst + i] = buf[input.src + i];
		want[0] = jo_hash(buf);
		or_expect(&o, "copy", 2, want, 1);
	}
	shapes(bpfrt_obj_prog_by_name(o.obj, "tables"), &tables, &cmovs, &wide);
	/* clang makes jo_values a compare tree, and jo_log2 jumps over one instruction */
	CHECK(tables >= 1 && cmovs >= 3, "tables: %u tables, %u cmovs", tables, cmovs);
	printf("  tables: %u table loads, %u cmovs in the unchecked code\n", tables, cmovs);
	shapes(bpfrt_obj_prog_by_name(o.obj, "copy"), &tables, &cmovs, &wide);
	CHECK(wide >= 1, "copy: the loop was not widened");
	or_close(&o);
}
