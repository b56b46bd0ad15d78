/* vfuzz_kernel.h — the kernel's bpf() for test_verifier_fuzz.c, apart from bpfrt's ISA names, which <linux/bpf.h> also defines. */
#ifndef BPFRT_VFUZZ_KERNEL_H
#define BPFRT_VFUZZ_KERNEL_H

#include <stddef.h>
#include <stdint.h>

/* BPF_MAP_CREATE: the fd, or -errno. */
int vfk_map_create(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
		   uint32_t flags);
/*
 * BPF_PROG_LOAD of n instructions (struct bpf_insn's layout) with fd_array
 * fds and a GPL license: the fd, or -errno with the kernel's log in log (if
 * not NULL).
 */
int vfk_prog_load(uint32_t type, const void *insns, size_t n, const int *fds, char *log,
		  size_t loglen);

#endif /* BPFRT_VFUZZ_KERNEL_H */
