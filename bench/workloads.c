/* workloads.c — the rows of the bench: each workload's eBPF code, native twin and input. */
#include <string.h>

#include "bench.h"
#include "workloads/hashmap.h"
#include "workloads/xdp_parse.h"

/* The eBPF code: .text of build/.../workloads/NAME.bpf.o, as bytes (see extract.sh). */
#define BPF_CODE(name) static const uint8_t name##_bpf[] __attribute__((aligned(8)))

BPF_CODE(simple) = {
#include "workloads/simple.bpf.inc"
};
BPF_CODE(add) = {
#include "workloads/add.bpf.inc"
};
BPF_CODE(prime) = {
#include "workloads/prime.bpf.inc"
};
BPF_CODE(log2) = {
#include "workloads/log2.bpf.inc"
};
BPF_CODE(memcpy) = {
#include "workloads/memcpy.bpf.inc"
};
BPF_CODE(strcmp) = {
#include "workloads/strcmp.bpf.inc"
};
BPF_CODE(switch) = {
#include "workloads/switch.bpf.inc"
};
BPF_CODE(hashmap) = {
#include "workloads/hashmap.bpf.inc"
};
BPF_CODE(xdp_parse) = {
#include "workloads/xdp_parse.bpf.inc"
};

/* Kernel variants: what the kernel column runs where the verifier needs bounds (see kernel.c). */
BPF_CODE(kprime) = {
#include "workloads/kernel/prime.bpf.inc"
};
BPF_CODE(kmemcpy) = {
#include "workloads/kernel/memcpy.bpf.inc"
};
BPF_CODE(kstrcmp) = {
#include "workloads/kernel/strcmp.bpf.inc"
};
BPF_CODE(kswitch) = {
#include "workloads/kernel/switch.bpf.inc"
};
BPF_CODE(khashmap) = {
#include "workloads/kernel/hashmap.bpf.inc"
};

/* The same sources compiled for the host. */
#define NATIVE(name) uint64_t wl_##name(uint8_t *mem, uint64_t len)
NATIVE(simple); NATIVE(add); NATIVE(prime); NATIVE(log2);
NATIVE(memcpy); NATIVE(strcmp); NATIVE(switch); NATIVE(hashmap);
NATIVE(xdp_parse);

/* ---- Inputs ------------------------------------------------------------ */

#define COPY_BYTES	(1u << 20)
#define STR_BYTES	(1u << 20)
#define STR_B_OFF	(8 + ((STR_BYTES + 1 + 7) & ~7u))
#define STR_DIFF_AT	(280u << 10)	/* where strcmp-diff's strings differ */

/* A fixed pseudo-random sequence (xorshift64), so every run sees the same input. */
static uint64_t rnd_state;

static void rnd_seed(void)
{
	rnd_state = 0x2545f4914f6cdd1dull;
}

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void fill_zero(uint8_t *mem, size_t len)
{
	memset(mem, 0, len);
}

static void fill_add(uint8_t *mem, size_t len)
{
	(void)len;
	put64(mem, 0x1234567890abcdefull);
	put64(mem + 8, 0x1111111111111111ull);
}

static void fill_prime(uint8_t *mem, size_t len)
{
	(void)len;
	put64(mem, 10000);
}

/* Values of every magnitude, so each step of the log2 goes both ways. */
static void fill_log2(uint8_t *mem, size_t len)
{
	rnd_seed();
	for (size_t i = 0; i + 8 <= len; i += 8)
		put64(mem + i, rnd() >> (rnd() & 63));
}

static void fill_memcpy(uint8_t *mem, size_t len)
{
	rnd_seed();
	memset(mem, 0, len);
	put64(mem, COPY_BYTES);
	for (size_t i = 0; i < COPY_BYTES; i++)
		mem[8 + i] = (uint8_t)rnd();
}

static bool check_memcpy(const uint8_t *mem, size_t len)
{
	(void)len;
	return memcmp(mem + 8, mem + 8 + COPY_BYTES, COPY_BYTES) == 0;
}

/* Two equal strings of non-zero bytes. */
static void fill_strcmp_eq(uint8_t *mem, size_t len)
{
	rnd_seed();
	memset(mem, 0, len);
	put64(mem, STR_B_OFF);
	for (size_t i = 0; i < STR_BYTES; i++)
		mem[8 + i] = mem[STR_B_OFF + i] = (uint8_t)(1 + rnd() % 255);
}

/* The same, but b's byte at STR_DIFF_AT is another non-zero byte. */
static void fill_strcmp_diff(uint8_t *mem, size_t len)
{
	uint8_t *b = mem + STR_B_OFF + STR_DIFF_AT;

	fill_strcmp_eq(mem, len);
	*b = (uint8_t)(*b % 255 + 1);
}

/* Mostly 0..63, a few outside (the default case), some negative. */
static void fill_switch(uint8_t *mem, size_t len)
{
	rnd_seed();
	for (size_t i = 0; i + 4 <= len; i += 4) {
		int32_t v = (int32_t)(rnd() % 72) - 4;

		memcpy(mem + i, &v, sizeof(v));
	}
}

/* Keys to look up: half in the map, half not (those the run inserts and deletes). */
static void fill_hashmap(uint8_t *mem, size_t len)
{
	rnd_seed();
	for (size_t i = 0; i + 4 <= len; i += 4) {
		uint32_t r = (uint32_t)rnd();
		uint32_t key = r & 1 ? hm_key(r % HM_ENTRIES)
				     : hm_key(HM_ENTRIES + r % (1u << 20));

		memcpy(mem + i, &key, sizeof(key));
	}
}

static void hm_entry(uint32_t i, uint32_t *key, uint64_t *value)
{
	*key = hm_key(i);
	*value = hm_value(i);
}

static const struct bench_map hashmap_map = {
	.max_entries = HM_MAX, .nentries = HM_ENTRIES, .magic = HM_MAP_MAGIC,
	.entry = hm_entry,
};

/* ---- Packets for xdp-parse ---------------------------------------------- */

static uint8_t *put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

/* Ethernet (and maybe VLAN) header with the given EtherType; returns the payload. */
static uint8_t *put_eth(uint8_t *p, bool vlan, uint16_t type)
{
	for (int k = 0; k < 12; k++)
		*p++ = (uint8_t)rnd();
	if (vlan) {
		p = put_be16(p, 0x8100);
		p = put_be16(p, (uint16_t)(rnd() & 0xfff));
	}
	return put_be16(p, type);
}

/* IPv4 header with `opts` 4-byte words of options; returns the L4 header. */
static uint8_t *put_ipv4(uint8_t *p, unsigned opts, uint8_t proto)
{
	p[0] = (uint8_t)(0x45 + opts);
	p[9] = proto;
	for (int k = 12; k < 20 + 4 * (int)opts; k++)
		p[k] = (uint8_t)rnd();
	return p + 20 + 4 * opts;
}

/* One packet of a shape picked from r: its frame length. */
static size_t put_packet(uint8_t *f, uint64_t r)
{
	static const uint8_t l4s[] = { 6, 6, 6, 17, 17, 1, 47 };
	bool vlan = r >> 8 & 1;
	uint8_t *p;

	switch (r % 8) {
	case 0:		/* IPv6: not parsed further */
		p = put_eth(f, vlan, 0x86dd);
		return (size_t)(p - f) + 40;
	case 1:		/* ARP */
		p = put_eth(f, vlan, 0x0806);
		return (size_t)(p - f) + 28;
	case 2:		/* truncated IPv4 */
		p = put_eth(f, vlan, 0x0800);
		return (size_t)(p - f) + 12;
	default:	/* IPv4, options sometimes, TCP, UDP or another protocol */
		p = put_eth(f, vlan, 0x0800);
		p = put_ipv4(p, r >> 9 & 1 ? (unsigned)((r >> 10) % 10) + 1 : 0,
			     l4s[(r >> 16) % sizeof(l4s)]);
		for (int k = 0; k < 20; k++)
			p[k] = (uint8_t)rnd();
		return (size_t)(p - f) + 20;
	}
}

static void fill_xdp_parse(uint8_t *mem, size_t len)
{
	rnd_seed();
	memset(mem, 0, len);
	for (size_t i = 0; i < XP_PACKETS; i++) {
		uint8_t *slot = mem + i * XP_SLOT;
		uint32_t flen = (uint32_t)put_packet(slot + XP_FRAME, rnd());

		memcpy(slot, &flen, sizeof(flen));
	}
}

/* ---- The table --------------------------------------------------------- */

/* Row `label` runs workloads/code.c on input `fill_fn`. */
#define WL(label, code, loop, bytes, fill_fn, check_fn, text) { \
		.name = label, .what = text, .loop_heavy = loop, \
		.bpf = code##_bpf, .bpf_bytes = sizeof(code##_bpf), \
		.native = wl_##code, .len = bytes, .fill = fill_fn, \
		.check = check_fn }
/* With a kernel variant, workloads/kernel/code.c. */
#define KWL(label, code, loop, bytes, fill_fn, check_fn, text) { \
		.name = label, .what = text, .loop_heavy = loop, \
		.bpf = code##_bpf, .bpf_bytes = sizeof(code##_bpf), \
		.kname = "kernel/" #code ".c", \
		.kbpf = k##code##_bpf, .kbpf_bytes = sizeof(k##code##_bpf), \
		.native = wl_##code, .len = bytes, .fill = fill_fn, \
		.check = check_fn }

const struct workload bench_workloads[] = {
	KWL("prime", prime, true, 8, fill_prime, NULL,
	    "count primes below 10,000 by trial division"),
	WL("log2", log2, true, 1024 * 8, fill_log2, NULL,
	   "XOR of a branchy integer log2 over 1024 u64"),
	KWL("memcpy", memcpy, true, 8 + 2 * COPY_BYTES, fill_memcpy, check_memcpy,
	    "byte-by-byte copy of 1 MiB"),
	KWL("strcmp-eq", strcmp, true, STR_B_OFF + STR_BYTES + 1, fill_strcmp_eq,
	    NULL, "byte compare of two equal 1 MiB strings"),
	KWL("strcmp-diff", strcmp, true, STR_B_OFF + STR_BYTES + 1, fill_strcmp_diff,
	    NULL, "the same, but they differ at 280 KiB (286,720 bytes)"),
	KWL("switch", switch, true, 4096 * 4, fill_switch, NULL,
	    "64-case switch (a compare tree) over 4096 int32, XORed"),
	{ .name = "hashmap", .what = "1024 lookups in a 10,000-entry BPF_MAP_TYPE_HASH "
	  "(u32 keys, u64 values): hits add in place, misses insert (BPF_NOEXIST) "
	  "and delete", .bpf = hashmap_bpf, .bpf_bytes = sizeof(hashmap_bpf),
	  .kname = "kernel/hashmap.c", .kbpf = khashmap_bpf,
	  .kbpf_bytes = sizeof(khashmap_bpf), .native = wl_hashmap,
	  .len = HM_KEYS * 4, .fill = fill_hashmap, .map = &hashmap_map },
	WL("xdp-parse", xdp_parse, false, XP_PACKETS * XP_SLOT, fill_xdp_parse, NULL,
	   "Ethernet/VLAN/IPv4/TCP/UDP parse of 64 packets, checked against data_end"),
	WL("add", add, false, 16, fill_add, NULL, "a + b, from memory"),
	WL("simple", simple, false, 8, fill_zero, NULL, "return a constant"),
};
const size_t bench_nworkloads = sizeof(bench_workloads) / sizeof(bench_workloads[0]);
