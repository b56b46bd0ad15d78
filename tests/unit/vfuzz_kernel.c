/* vfuzz_kernel.c — the kernel's bpf() for test_verifier_fuzz.c: map creation and program loads. */
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vfuzz_kernel.h"

static int sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

int vfk_map_create(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
		   uint32_t flags)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = key_size;
	a.value_size = value_size;
	a.max_entries = max_entries;
	a.map_flags = flags;
	fd = sys_bpf(BPF_MAP_CREATE, &a);
	return fd >= 0 ? fd : -errno;
}

int vfk_prog_load(uint32_t type, const void *insns, size_t n, const int *fds, char *log,
		  size_t loglen)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	a.license = (uintptr_t)"GPL";
	a.fd_array = (uintptr_t)fds;
	if (log && loglen) {
		log[0] = '\0';
		a.log_level = 1;
		a.log_buf = (uintptr_t)log;
		a.log_size = (uint32_t)loglen;
	}
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	return fd >= 0 ? fd : -errno;
}
