#!/bin/sh
# demo.sh — the main demo: assemble a program, show it, run it on a packet header.
set -e
BUILD=${BUILD:-build}
B="$BUILD/bpfrt"

echo "== The program: the Internet checksum of a buffer (examples/checksum.s)"
echo "\$ bpfrt disasm examples/checksum.s"
"$B" disasm examples/checksum.s
echo
echo "== Its input: an IPv4 header with the checksum field zeroed (examples/packet.bin)"
od -An -tx1 examples/packet.bin
echo
echo "== Run it (checked mode: every memory access is bounds-checked)"
echo "\$ bpfrt run examples/checksum.s data_in examples/packet.bin"
"$B" run examples/checksum.s data_in examples/packet.bin
echo "\$ bpfrt run examples/checksum.s data_in examples/packet.bin repeat 100000 -j"
"$B" run examples/checksum.s data_in examples/packet.bin repeat 100000 -j
sum=$("$B" run examples/checksum.s data_in examples/packet.bin -j | sed 's/.*"retval":\([0-9]*\).*/\1/')
printf '\nThe checksum is 0x%04x (the header'"'"'s real checksum is 0xb861).\n' "$sum"
