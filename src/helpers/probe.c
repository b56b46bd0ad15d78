/* probe.c — probe_read*, probe_read*_str, probe_write_user: any address of this process, never a crash. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "exec/prog.h"
#include "helpers.h"

/*
 * The kernel reads "unsafe" addresses with exception fixups; bpfrt has the
 * kernel copy for it: process_vm_readv/writev on this very process fail
 * with EFAULT where an address is not mapped (or not readable/writable)
 * instead of raising SIGSEGV. Where those calls are not allowed (seccomp,
 * ptrace restrictions), /proc/self/mem does the same. User and kernel
 * variants read the same memory (every address is a user-space one) and
 * differ only in how the _str variants write, as the kernel's do.
 */

static int mem_fd = -1;
static pthread_once_t mem_once = PTHREAD_ONCE_INIT;

static void mem_open(void)
{
	mem_fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
}

static int self_copy(void *dst, const void *src, size_t len, bool write)
{
	struct iovec local = { write ? (void *)src : dst, len };
	struct iovec remote = { write ? dst : (void *)src, len };
	ssize_t n;

	if (!len)
		return 0;
	n = write ? process_vm_writev(getpid(), &local, 1, &remote, 1, 0)
		  : process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	if (n < 0 && (errno == ENOSYS || errno == EPERM)) {
		pthread_once(&mem_once, mem_open);
		if (mem_fd < 0)
			return -EFAULT;
		n = write ? pwrite(mem_fd, src, len, (off_t)(uintptr_t)dst)
			  : pread(mem_fd, dst, len, (off_t)(uintptr_t)src);
	}
	return n == (ssize_t)len ? 0 : -EFAULT;
}

int probe_copy(void *dst, const void *src, size_t len)
{
	if ((uintptr_t)src + len < (uintptr_t)src)
		return -EFAULT;
	return self_copy(dst, src, len, false);
}

/*
 * Page by page, so a string ending just before unmapped memory is still
 * read; through a bounce buffer, so nothing after the NUL is written (as
 * the kernel's strncpy_from_kernel_nofault).
 */
long probe_copy_str(char *dst, const void *src, size_t size)
{
	uintptr_t p = (uintptr_t)src;
	size_t done = 0;
	char tmp[256];

	while (done < size) {
		size_t chunk = 4096 - ((p + done) & 4095);
		char *nul;

		if (chunk > sizeof(tmp))
			chunk = sizeof(tmp);
		if (chunk > size - done)
			chunk = size - done;
		if (probe_copy(tmp, (const void *)(p + done), chunk))
			return -EFAULT;
		nul = memchr(tmp, 0, chunk);
		if (nul) {
			memcpy(dst + done, tmp, (size_t)(nul - tmp) + 1);
			return (long)(done + (size_t)(nul - tmp) + 1);
		}
		memcpy(dst + done, tmp, chunk);
		done += chunk;
	}
	dst[size - 1] = '\0';
	return (long)size;
}

/*
 * The user variant copies like the kernel's strncpy_from_user: eight bytes
 * at a time while eight remain, and the word holding the NUL is written
 * whole, with the bytes after the NUL zeroed; the rest (and what follows
 * a word that could not be read) byte by byte. Returns what
 * strncpy_from_user_nofault returns: size when truncated (dst[size - 1]
 * becomes NUL), else the length with the NUL, or -EFAULT.
 */
static long probe_copy_user_str(char *dst, const void *src, size_t size)
{
	const char *s = src;
	size_t res = 0;

	while (size - res >= 8) {
		uint64_t w;
		int zero = -1;

		if (probe_copy(&w, s + res, 8))
			break;	/* byte by byte from here */
		for (int b = 0; b < 8 && zero < 0; b++)
			if (!(w >> (8 * b) & 0xff))
				zero = b;
		if (zero >= 0) {
			w &= zero ? ~0ull >> (64 - 8 * zero) : 0;
			memcpy(dst + res, &w, 8);
			return (long)(res + (size_t)zero + 1);
		}
		memcpy(dst + res, &w, 8);
		res += 8;
	}
	for (; res < size; res++) {
		if (probe_copy(dst + res, s + res, 1))
			return -EFAULT;
		if (!dst[res])
			return (long)res + 1;
	}
	dst[size - 1] = '\0';
	return (long)size;
}

/* (dst, size, unsafe_ptr): 0, or -EFAULT with dst zeroed. */
static uint64_t probe_read_common(const char *name, uint64_t r1, uint64_t r2, uint64_t r3,
				  struct bpfrt_run *run)
{
	void *dst = (void *)(uintptr_t)r1;
	uint32_t size = (uint32_t)r2;

	if (!helper_mem_ok(run, name, 1, r1, size, true))
		return HELPER_ERR(-EFAULT);
	if (probe_copy(dst, (const void *)(uintptr_t)r3, size)) {
		memset(dst, 0, size);
		return HELPER_ERR(-EFAULT);
	}
	return 0;
}

/*
 * (dst, size, unsafe_ptr): the bytes written incl. the NUL, size when
 * truncated; -EFAULT with dst zeroed.
 */
static uint64_t probe_read_str_common(const char *name, uint64_t r1, uint64_t r2,
				      uint64_t r3, bool user, struct bpfrt_run *run)
{
	char *dst = (char *)(uintptr_t)r1;
	uint32_t size = (uint32_t)r2;
	long ret;

	if (!size)
		return 0;
	if (!helper_mem_ok(run, name, 1, r1, size, true))
		return HELPER_ERR(-EFAULT);
	ret = user ? probe_copy_user_str(dst, (const void *)(uintptr_t)r3, size)
		   : probe_copy_str(dst, (const void *)(uintptr_t)r3, size);
	if (ret < 0)
		memset(dst, 0, size);
	return HELPER_ERR(ret);
}

HELPER_DEF(probe_read)
{
	return probe_read_common("probe_read", r1, r2, r3, run);
}

HELPER_DEF(probe_read_user)
{
	return probe_read_common("probe_read_user", r1, r2, r3, run);
}

HELPER_DEF(probe_read_kernel)
{
	return probe_read_common("probe_read_kernel", r1, r2, r3, run);
}

HELPER_DEF(probe_read_str)
{
	return probe_read_str_common("probe_read_str", r1, r2, r3, false, run);
}

HELPER_DEF(probe_read_user_str)
{
	return probe_read_str_common("probe_read_user_str", r1, r2, r3, true, run);
}

HELPER_DEF(probe_read_kernel_str)
{
	return probe_read_str_common("probe_read_kernel_str", r1, r2, r3, false, run);
}

/* (unsafe_dst, src, size): 0 or -EFAULT (unmapped or read-only destination). */
HELPER_DEF(probe_write_user)
{
	uint32_t size = (uint32_t)r3;

	if (!helper_mem_ok(run, "probe_write_user", 2, r2, size, false))
		return HELPER_ERR(-EFAULT);
	if (r1 + size < r1)
		return HELPER_ERR(-EFAULT);
	return HELPER_ERR(self_copy((void *)(uintptr_t)r1, (const void *)(uintptr_t)r2,
				    size, true));
}

const struct helper_def helper_probe_defs[] = {
	{ HELPER_PROBE_READ, "probe_read", probe_read },
	{ HELPER_PROBE_READ_USER, "probe_read_user", probe_read_user },
	{ HELPER_PROBE_READ_KERNEL, "probe_read_kernel", probe_read_kernel },
	{ HELPER_PROBE_READ_STR, "probe_read_str", probe_read_str },
	{ HELPER_PROBE_READ_USER_STR, "probe_read_user_str", probe_read_user_str },
	{ HELPER_PROBE_READ_KERNEL_STR, "probe_read_kernel_str", probe_read_kernel_str },
	{ HELPER_PROBE_WRITE_USER, "probe_write_user", probe_write_user },
};
const size_t helper_probe_ndefs = HELPER_NDEFS(helper_probe_defs);
