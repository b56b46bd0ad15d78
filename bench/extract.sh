#!/bin/sh
# extract.sh — turn a workload's eBPF object into the bytes of its one function, as C initializers.
#
#   extract.sh NAME.bpf.o NAME.bpf.inc
#
# Fails unless the object is loader-free: a single function in .text, no
# relocations, no data, rodata, bss or map sections.
set -eu
obj=$1
out=$2
objcopy=${LLVM_OBJCOPY:-llvm-objcopy-19}
readelf=${LLVM_READELF:-llvm-readelf-19}

bad=$("$readelf" -S "$obj" | sed -n 's/^ *\[ *[0-9]*\] \([^ ]*\) .*/\1/p' |
	grep -v -x -e '' -e '.text' -e '.strtab' -e '.symtab' -e '.llvm_addrsig' || true)
if [ -n "$bad" ]; then
	echo "$obj: needs a loader: has section(s) $(echo $bad)" >&2
	exit 1
fi
funcs=$("$readelf" -s "$obj" | awk '$4 == "FUNC"' | wc -l)
if [ "$funcs" -ne 1 ]; then
	echo "$obj: has $funcs functions, not one (use static __always_inline)" >&2
	exit 1
fi
"$objcopy" -O binary --only-section=.text "$obj" "$out.bin"
xxd -i < "$out.bin" > "$out"
rm -f "$out.bin"
