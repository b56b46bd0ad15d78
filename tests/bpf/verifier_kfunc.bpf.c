/* verifier_kfunc.bpf.c — a call of a kernel function (kfunc): refused, by name and line (its own object: libbpf cannot load the rest with it). */
#include "bpf_test.h"

struct __sk_buff {
	__u32 len;
};

extern int bpfrt_no_such_kfunc(int x) __attribute__((section(".ksyms")));

SEC("tc") int bad_kfunc(struct __sk_buff *skb)
{
	return bpfrt_no_such_kfunc((int)skb->len);
}

char _license[] SEC("license") = "GPL";
