/* kernel verifier: precision not propagated through atomic cmpxchg fill */
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#define I(c,d,s,o,i) {.code=(c),.dst_reg=(d),.src_reg=(s),.off=(o),.imm=(i)}
int main(int argc, char **argv){
	int fetchop = argc > 1 ? (int)strtol(argv[1],0,0) : BPF_CMPXCHG;
	struct bpf_insn p[] = {
		I(BPF_LDX|BPF_MEM|BPF_DW, 2, 1, 0, 0),		/* 0: r2 = *(u64 *)(r1 + 0) */
		I(BPF_ALU64|BPF_MOV|BPF_K, 3, 0, 0, 0),		/* 1: r3 = 0 */
		I(BPF_STX|BPF_MEM|BPF_DW, 10, 3, -8, 0),	/* 2: *(u64 *)(r10 - 8) = r3 */
		I(BPF_JMP|BPF_JEQ|BPF_K, 2, 0, 2, 0),		/* 3: if r2 == 0 goto 6 */
		I(BPF_ALU64|BPF_MOV|BPF_K, 3, 0, 0, 7),		/* 4: r3 = 7 */
		I(BPF_STX|BPF_MEM|BPF_DW, 10, 3, -8, 0),	/* 5: *(u64 *)(r10 - 8) = r3 */
		I(BPF_ALU64|BPF_MOV|BPF_K, 0, 0, 0, 0),		/* 6: r0 = 0 ; r4 = 0 */
		I(BPF_ALU64|BPF_MOV|BPF_K, 4, 0, 0, 0),
		I(BPF_STX|BPF_ATOMIC|BPF_DW, 10, 4, -8, fetchop),	/* 8: r0/r4 = atomic op on fp-8 */
		I(BPF_JMP|BPF_JEQ|BPF_K, fetchop == BPF_CMPXCHG ? 0 : 4, 0, 2, 0),	/* 9: if r == 0 goto 12 */
		I(BPF_ALU64|BPF_MOV|BPF_K, 0, 0, 0, 1),		/* 10: r0 = 1 */
		I(BPF_JMP|BPF_EXIT, 0, 0, 0, 0),
		I(BPF_ALU64|BPF_MOV|BPF_K, 0, 0, 0, 2),		/* 12: r0 = 2 */
		I(BPF_JMP|BPF_EXIT, 0, 0, 0, 0),
	};
	static char log[1<<20];
	union bpf_attr a; memset(&a,0,sizeof a);
	a.prog_type=BPF_PROG_TYPE_SYSCALL; a.insns=(unsigned long)p; a.insn_cnt=sizeof p/sizeof p[0]; a.license=(unsigned long)"GPL";
	a.log_buf=(unsigned long)log; a.log_size=sizeof log; a.log_level=2; a.prog_flags = BPF_F_SLEEPABLE | (getenv("FREQ") ? BPF_F_TEST_STATE_FREQ : 0);
	int fd=syscall(__NR_bpf,BPF_PROG_LOAD,&a,sizeof a);
	if (fd < 0) { printf("load: %s\n%s", strerror(errno), log); return 1; }
	if (getenv("LOG")) fputs(log, stdout);
	for (uint64_t in = 0; in < 2; in++) {
		uint64_t ctx[1] = { in };
		memset(&a,0,sizeof a);
		a.test.prog_fd = fd; a.test.ctx_in = (unsigned long)ctx; a.test.ctx_size_in = 8;
		int r = syscall(__NR_bpf, BPF_PROG_TEST_RUN, &a, sizeof a);
		printf("op %#x input %llu: run %d retval %u (expected %u)\n", fetchop, (unsigned long long)in, r, a.test.retval, in ? 1 : 2);
	}
}
