#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#define I(c,d,s,o,i) {.code=(c),.dst_reg=(d),.src_reg=(s),.off=(o),.imm=(i)}
int main(int argc, char **argv){
	(void)argv;
	struct bpf_insn p[] = {
		I(BPF_LDX|BPF_MEM|BPF_DW, 2, 1, 0, 0), I(BPF_ALU64|BPF_MOV|BPF_K, 0, 0, 0, -1),
		I(BPF_ST|BPF_MEM|BPF_DW, 10, 0, -8, -1), I(BPF_ALU64|BPF_MOV|BPF_K, 1, 0, 0, 5),
		I(BPF_JMP|BPF_JEQ|BPF_K, 2, 0, 1, 0), I(BPF_JMP|BPF_JA, 0, 0, 1, 0),
		I(BPF_STX|BPF_ATOMIC|BPF_W, 10, 1, -8, BPF_CMPXCHG), I(BPF_ALU64|BPF_RSH|BPF_K, 0, 0, 0, 32),
		I(BPF_JMP|BPF_EXIT, 0, 0, 0, 0),
	};
	union bpf_attr a; memset(&a,0,sizeof a);
	a.prog_type=BPF_PROG_TYPE_SYSCALL; a.insns=(unsigned long)p; a.insn_cnt=9; a.license=(unsigned long)"GPL";
	a.prog_flags = BPF_F_SLEEPABLE | (argc > 1 ? BPF_F_TEST_STATE_FREQ : 0);
	int fd=syscall(__NR_bpf,BPF_PROG_LOAD,&a,sizeof a);
	struct bpf_insn x[64]; struct bpf_prog_info info; memset(&info,0,sizeof info);
	info.xlated_prog_len = sizeof x; info.xlated_prog_insns = (unsigned long)x;
	memset(&a,0,sizeof a); a.info.bpf_fd = fd; a.info.info_len = sizeof info; a.info.info = (unsigned long)&info;
	syscall(__NR_bpf, BPF_OBJ_GET_INFO_BY_FD, &a, sizeof a);
	for (unsigned i = 0; i < info.xlated_prog_len / 8; i++) printf("%u: %02x %d %d %d %d\n", i, x[i].code, x[i].dst_reg, x[i].src_reg, x[i].off, x[i].imm);
}
