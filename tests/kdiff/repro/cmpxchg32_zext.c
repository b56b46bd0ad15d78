/* 32-bit cmpxchg followed by a pruned path: is r0 still zero-extended? */
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#define I(c,d,s,o,i) {.code=(c),.dst_reg=(d),.src_reg=(s),.off=(o),.imm=(i)}
int main(int argc, char **argv){
	(void)argv;
	struct bpf_insn p[] = {
		I(BPF_LDX|BPF_MEM|BPF_DW, 2, 1, 0, 0),		/* 0: r2 = ctx[0] */
		I(BPF_ALU64|BPF_MOV|BPF_K, 0, 0, 0, -1),	/* 1: r0 = -1 */
		I(BPF_ST|BPF_MEM|BPF_DW, 10, 0, -8, -1),	/* 2: *(u64 *)(r10 - 8) = -1 */
		I(BPF_ALU64|BPF_MOV|BPF_K, 1, 0, 0, 5),		/* 3: r1 = 5 */
		I(BPF_JMP|BPF_JEQ|BPF_K, 2, 0, 1, 0),		/* 4: if r2 == 0 goto 6 */
		I(BPF_JMP|BPF_JA, 0, 0, 1, 0),			/* 5: goto 7 */
		I(BPF_STX|BPF_ATOMIC|BPF_W, 10, 1, -8, BPF_CMPXCHG),	/* 6: w0 = cmpxchg32(r10-8, w0, w1) */
		I(BPF_ALU64|BPF_RSH|BPF_K, 0, 0, 0, 32),	/* 7: r0 >>= 32 */
		I(BPF_JMP|BPF_EXIT, 0, 0, 0, 0),		/* 8: exit */
	};
	static char log[1<<20];
	union bpf_attr a; memset(&a,0,sizeof a);
	a.prog_type=BPF_PROG_TYPE_SYSCALL; a.insns=(unsigned long)p; a.insn_cnt=sizeof p/sizeof p[0]; a.license=(unsigned long)"GPL";
	a.log_buf=(unsigned long)log; a.log_size=sizeof log; a.log_level=2;
	a.prog_flags = BPF_F_SLEEPABLE | (argc > 1 ? BPF_F_TEST_STATE_FREQ : 0);
	int fd=syscall(__NR_bpf,BPF_PROG_LOAD,&a,sizeof a);
	if (fd < 0) { printf("load: %s\n%s", strerror(errno), log); return 1; }
	if (getenv("LOG")) fputs(log, stdout);
	uint64_t ctx[1] = { 0 };
	memset(&a,0,sizeof a);
	a.test.prog_fd = fd; a.test.ctx_in = (unsigned long)ctx; a.test.ctx_size_in = 8;
	int r = syscall(__NR_bpf, BPF_PROG_TEST_RUN, &a, sizeof a);
	printf("%s: run %d: r0 >> 32 after a successful cmpxchg32 = %#x (expected 0)\n", argc > 1 ? "BPF_F_TEST_STATE_FREQ" : "default", r, a.test.retval);
}
