/* workload.h — what every benchmark workload includes, for both eBPF and native builds.
 *
 * A workload is one function `u64 wl_NAME(u8 *mem, u64 len)`: the eBPF
 * build sees mem in r1 and len in r2 (bpfrt's ctx), the native build is an
 * ordinary call. It must be self-contained (no maps, globals, helpers or
 * calls), so the eBPF build is a single relocation-free function. Input
 * layouts are described in each workload and filled by bench/bench.c.
 */
#ifndef BENCH_WORKLOAD_H
#define BENCH_WORKLOAD_H

typedef __UINT8_TYPE__ u8;
typedef __UINT16_TYPE__ u16;
typedef __UINT32_TYPE__ u32;
typedef __UINT64_TYPE__ u64;
typedef __INT32_TYPE__ s32;
typedef __INT64_TYPE__ s64;

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define WORKLOAD(name) u64 wl_##name(u8 *mem, u64 len)

/* Loads from the input, which bench.c keeps aligned to 8 bytes. */
static __always_inline u64 load64(const u8 *p)
{
	return *(const u64 *)p;
}

static __always_inline s32 load_s32(const u8 *p)
{
	return *(const s32 *)p;
}

#endif /* BENCH_WORKLOAD_H */
