#!/bin/sh
# kdiff_bpftool.sh — bpfrt's disassembler against the kernel's and bpftool's; ends with "N passed, M failed".
#
# Runs `kdiff --disasm-oracle` (see tests/kdiff/kdiff.c) from the repository's
# root: 300 generated programs, a catalogue of every form and the conformance
# programs, each disassembled by bpfrt and by the kernel (its verifier log),
# every 5th program and the catalogue also by `bpftool prog dump xlated`.
# Without bpf() it skips (0 passed, 0 failed); without bpftool it runs the
# kernel's oracle alone and says so.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}

if [ ! -x "$BUILD/kdiff" ]; then
	echo "kdiff_bpftool: SKIP: $BUILD/kdiff is not built"
	echo "0 passed, 0 failed"
	exit 0
fi
"$BUILD/kdiff" --disasm-oracle --count "${KDIFF_ORACLE_COUNT:-300}" --seed "${KDIFF_SEED:-1}"
