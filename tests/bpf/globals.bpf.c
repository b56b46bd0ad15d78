/* globals.bpf.c — loader test: global data in .data, .bss, .rodata, .rodata.*, .data.*; const volatile configuration. */
#include "bpf_test.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 cfg_mult = 2;			/* .rodata */
const volatile __u64 cfg_add SEC(".rodata.cfg") = 7;	/* .rodata.cfg */
__u32 data_val = 5;					/* .data */
__u32 bss_val;						/* .bss */
__u32 custom_val SEC(".data.custom") = 11;		/* .data.custom */
static __u32 hits;					/* .bss, static */

/* in * cfg_mult + cfg_add + data_val + custom_val + a letter; counts in bss. */
SEC("xdp") int calc(__u32 *ctx)
{
	const char *word = "abcdefgh";			/* .rodata.str1.1 */
	__u32 in = *ctx;

	bss_val += in;
	hits++;
	return in * cfg_mult + cfg_add + data_val + custom_val + word[in & 7];
}

SEC("xdp") int get_hits(__u32 *ctx)
{
	return hits + *ctx;
}
