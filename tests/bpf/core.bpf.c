/* core.bpf.c — loader test: programs bpfrt cannot load yet (CO-RE, kconfig externs) next to one it can. */
#include "bpf_test.h"

char LICENSE[] SEC("license") = "GPL";

struct task {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

extern unsigned int LINUX_KERNEL_VERSION __attribute__((section(".kconfig"), weak));

SEC("kprobe/wake_up_new_task") int uses_core(struct task *t)
{
	return t->tgid + t->pid;
}

SEC("kprobe/do_exit") int uses_kconfig(void *ctx)
{
	return ctx ? LINUX_KERNEL_VERSION : 0;
}

SEC("xdp") int plain(void *ctx)
{
	return ctx ? 2 : 3;
}
