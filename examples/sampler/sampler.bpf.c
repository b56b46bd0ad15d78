/* sampler.bpf.c — XDP packet sampler: every Nth frame's length and first 64 bytes to user space.
 *
 * N is sample_every, a `const volatile` setting user space may change before loading (default 3).
 * The program counts frames in a global (`seen`, in .bss); frames 0, N, 2N, ... produce a
 * struct sample in the ring buffer `samples`. Bytes past the frame's end are zero. Every frame
 * passes; a ring buffer that is full only costs the sample (counted in `lost`).
 */
#include "../common/parse.h"

#define SAMPLE_BYTES 64

const volatile __u32 sample_every = 3;

__u64 seen;	/* frames so far */
__u64 lost;	/* samples the ring buffer had no room for */

struct sample {
	__u64 seq;		/* the frame's number, counting from 0 */
	__u32 len;		/* the frame's full length */
	__u32 caplen;		/* bytes of it in data: min(len, SAMPLE_BYTES) */
	__u8 data[SAMPLE_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} samples SEC(".maps");

SEC("xdp")
int sampler(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 seq = __sync_fetch_and_add(&seen, 1);
	struct sample s = {};
	__u32 every = sample_every;

	if (every == 0 || seq % every)
		return XDP_PASS;
	s.seq = seq;
	s.len = end - data;
#pragma unroll
	for (__u32 i = 0; i < SAMPLE_BYTES; i++) {
		if (data + i + 1 > end)
			break;
		s.data[i] = ((__u8 *)data)[i];
		s.caplen = i + 1;
	}
	if (bpf_ringbuf_output(&samples, &s, sizeof(s), 0))
		__sync_fetch_and_add(&lost, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
