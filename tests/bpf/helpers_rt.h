/* helpers_rt.h — the ctx that helpers_rt.bpf.c's programs and test_helpers_rt.c share. */
#ifndef HELPERS_RT_H
#define HELPERS_RT_H

/* Inputs in `in`, results in `out`; buffers for the helpers to fill. */
struct rt_ctx {
	__u64 in[8];
	__s64 out[16];
	char buf[64];
	char buf2[64];
};

/* A ring buffer record of the concurrency test. */
struct rt_rec {
	__u64 thread, seq, check;
};
#define RT_REC_MAGIC 0x5bd1e9955bd1e995ull

/* The spin lock test's value. */
struct rt_locked {
	struct bpf_spin_lock lock;
	__u32 pad;
	__u64 counter;
	__u64 runs;
};

#endif /* HELPERS_RT_H */
