#!/bin/sh
# fuzz.sh — builds the libFuzzer targets with ASan + UBSan and runs each for a while.
#   FUZZ_SECONDS=N (default 60) per target; FUZZ_TARGETS="fuzz_asm ..." to pick.
set -e
B=build/fuzz
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-"fuzz_asm fuzz_exec fuzz_jit fuzz_maps fuzz_loader fuzz_helpers fuzz_verifier"}

make --no-print-directory -s BUILD=$B CC=clang-19 \
	CFLAGS="-O1 -g $SAN -fsanitize=fuzzer-no-link -fno-omit-frame-pointer" $B/libbpfrt.a

seed_corpus() {
	mkdir -p "$B/seeds-$1"
	case $1 in
	fuzz_asm)
		for f in tests/conformance/*.data; do
			awk '/^-- asm/{a=1;next} /^--/{a=0} a' "$f" >"$B/seeds-$1/$(basename "$f" .data)"
		done ;;
	fuzz_loader)	# the loader's test objects, without DWARF (BTF stays) to fit -max_len
		for f in tests/bpf/*.bpf.c; do
			n=$(basename "$f" .bpf.c)
			make --no-print-directory -s BUILD=$B "$B/tests/bpf/$n.o"
			llvm-objcopy-19 --strip-debug "$B/tests/bpf/$n.o" "$B/seeds-$1/$n.o"
		done ;;
	fuzz_exec|fuzz_jit)
		cut -f1,7 tests/conformance/assembled.tsv | while read -r name hex; do
			echo "$hex" | xxd -r -p >"$B/seeds-$1/$name"
		done ;;
	esac
}

for t in $TARGETS; do
	clang-19 -O1 -g $SAN -fsanitize=fuzzer -Iinclude -Isrc "fuzz/$t.c" "$B/libbpfrt.a" \
		-lpthread -lelf -lbpf -lz -o "$B/$t"
	seed_corpus "$t"
	# Inputs that once crashed a target must keep passing (tests/fuzz-regressions/<target>-*).
	prefix=${t#fuzz_}
	for r in tests/fuzz-regressions/"$prefix"-*; do
		[ -f "$r" ] || continue
		"$B/$t" "$r" >/dev/null 2>&1 || { echo "fuzz: regression $r fails"; exit 1; }
		cp "$r" "$B/seeds-$t/"
	done
	mkdir -p "$B/corpus-$t"
	echo "== $t for ${SECONDS_EACH}s"
	"$B/$t" -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=10 -artifact_prefix="$B/" \
		-print_final_stats=1 "$B/corpus-$t" "$B/seeds-$t" 2>&1 |
		grep -E 'stat::number_of_executed_units|stat::peak_rss|ERROR|SUMMARY|Done' || true
	[ -z "$(ls "$B"/crash-* 2>/dev/null)" ] || { echo "fuzz: crash found"; exit 1; }
done
