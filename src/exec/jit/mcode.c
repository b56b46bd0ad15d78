/* mcode.c — executable memory for the JIT: written while RW, then sealed RX, never both. */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "jit.h"

static size_t page_round(size_t len)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t p = page > 0 ? (size_t)page : 4096;

	return (len + p - 1) / p * p;
}

void *mcode_alloc(size_t len)
{
	void *mem;

	if (len == 0)
		return NULL;
	mem = mmap(NULL, page_round(len), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return mem == MAP_FAILED ? NULL : mem;
}

int mcode_seal(void *mem, size_t len)
{
	if (mprotect(mem, page_round(len), PROT_READ | PROT_EXEC))
		return -errno;
	/* x86 keeps instruction fetch coherent with stores; other targets need this. */
	__builtin___clear_cache((char *)mem, (char *)mem + len);
	return 0;
}

void mcode_free(void *mem, size_t len)
{
	if (mem)
		munmap(mem, page_round(len));
}
