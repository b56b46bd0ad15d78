#!/bin/sh
# cli.sh — end-to-end tests of the bpfrt and bpfrt_plugin command lines.
. tests/lib/harness.sh
B="$BUILD/bpfrt"
P="$BUILD/bpfrt_plugin"
scratch

t "usage" 2 "usage: bpfrt \[-j|--json\]" "$B"
t "help" 0 "bpfrt disasm FILE" "$B" help
t "unknown object" 2 "unknown object 'frob'" "$B" frob
t "unknown prog command" 2 "unknown command 'frob'" "$B" prog frob
t "unknown option" 2 "unknown option '--frob'" "$B" --frob prog
t "object help" 0 "bpfrt prog help" "$B" prog help
t "prefix match" 0 "r0 = 0" "$B" dis examples/checksum.s
t "missing file" 1 "cannot open 'nope.s'" "$B" run nope.s
t "run" 0 "Return value: 47201, duration (average): [0-9]*ns" \
	"$B" run examples/checksum.s data_in examples/packet.bin checked
t "run json" 0 '^{"retval":47201,"duration":[0-9]*,"insns":99}$' \
	"$B" run examples/checksum.s data_in examples/packet.bin checked -j
# Unchecked runs need the verifier's approval: checksum.s compares a pointer
# with the end of its memory, which proves nothing to it (nor to Linux).
t "run needs verification" 1 "the verifier rejected the program: insn 7: R3: access of 2 bytes" \
	"$B" run examples/checksum.s data_in examples/packet.bin
t "run says how to run checked" 1 "add 'checked'" \
	"$B" run examples/checksum.s data_in examples/packet.bin
printf 'mov %%r0, %%r2\nexit\n' >"$T/len.s"
t "verified run" 0 "Return value: 20," "$B" run "$T/len.s" data_in examples/packet.bin
t "repeat needs a count" 2 "repeat needs a positive count" \
	"$B" run examples/checksum.s repeat x
t "unexpected arg" 2 "unexpected 'bogus'" "$B" run examples/checksum.s bogus

# disasm output is stable (golden file) and round-trips through asm.
"$B" disasm examples/checksum.s >"$T/d.txt"
t "disasm golden" 0 "" cmp "$T/d.txt" tests/golden/checksum.disasm
"$B" asm examples/checksum.s out "$T/c.bin"
t "asm size" 0 "^192$" sh -c "wc -c < '$T/c.bin' | tr -d ' '"
t "disasm raw" 0 "23: (95) exit" "$B" disasm "$T/c.bin"
t "disasm opcodes" 0 "b7 00 00 00 00 00 00 00" "$B" disasm "$T/c.bin" opcodes

t "disasm jited" 0 "; 23: (95) exit" "$B" disasm examples/checksum.s jited
t "disasm jited x86" 0 "movzx ebx, word ptr \[rdx\]" "$B" disasm examples/checksum.s jited
t "disasm jited checked" 0 "; checked code" "$B" disasm examples/checksum.s jited checked
printf 'mov %%r0, 0x5a5a1234\nexit\n' >"$T/k.s"
t "disasm jited constant" 0 "mov eax, 0x5A5A1234" "$B" disasm "$T/k.s" jited
t "disasm jited blind" 1 "" sh -c "'$B' disasm '$T/k.s' jited blind | grep -i 5a5a1234"
t "disasm jited blind xor" 0 "xor rax, 0x" "$B" disasm "$T/k.s" jited blind
t "disasm jited usage" 2 "usage: bpfrt disasm FILE" "$B" disasm examples/checksum.s jited opcodes

# Bad input: a clear message naming the place and the cause.
printf 'mov %%r0, 1\nfrob %%r1\nexit\n' >"$T/bad.s"
t "asm error names line" 1 "bad.s:2: unknown instruction 'frob'" "$B" asm "$T/bad.s"
printf 'abc' >"$T/odd.bin"
t "raw not whole insns" 1 "3 bytes, not a whole number of 8-byte instructions" \
	"$B" disasm "$T/odd.bin"
printf 'ja +5\nexit\n' >"$T/jmp.s"
t "validation error" 1 "insn 0: jump target 6 is out of range" "$B" run "$T/jmp.s"
printf 'ldxdw %%r0, [%%r1+16]\nexit\n' >"$T/oob.s"
t "checked fault" 1 "insn 0: read of 8 bytes at .* runs past the end of ctx" \
	"$B" run "$T/oob.s" data_in examples/packet.bin checked
t "verifier refuses oob" 1 "insn 0: R1: access of 8 bytes at offset 16..16 is outside the 20 bytes" \
	"$B" run "$T/oob.s" data_in examples/packet.bin
printf 'loop:\nja loop\nexit\n' >"$T/loop.s"
t "budget stops a loop" 1 "stopped after 4294967296 instructions" "$B" run "$T/loop.s" checked
t "verifier refuses the loop" 1 "the verifier rejected" "$B" run "$T/loop.s"
printf '\377\0\0\0\0\0\0\0' >"$T/badop.bin"
t "unknown opcode" 1 "insn 0: unknown opcode 0xff" "$B" run "$T/badop.bin"

# The conformance plugin's protocol.
t "plugin add" 0 "^3$" sh -c "echo b400000000000000b40100000200000004000000010000000c100000000000000c0000000000000004000000fdffffff9500000000000000 | '$P'"
t "plugin mem" 0 "^8$" sh -c "echo bf200000000000009500000000000000 | '$P' '00  00  00  01  00  00  00  02  '"
t "plugin bad hex" 1 "'z' is not a hex digit" sh -c "echo 9z | '$P'"
t "plugin odd program" 1 "not a multiple of 8" sh -c "echo 9500 | '$P'"
t "plugin unknown option" 1 "unknown option '--frob'" sh -c "echo 95 | '$P' --frob"
t "plugin fault" 1 "insn 0: read of 8 bytes" sh -c "echo 79100000000000009500000000000000 | '$P' '01 02'"

# Only the public API is exported from the shared library.
t "exports" 0 "^none$" sh -c "nm -D --defined-only '$BUILD/libbpfrt.so' | awk '{print \$3}' | grep -v -e '^bpfrt_' -e '^_' || echo none"

echo "$pass passed, $fail failed"
