#!/bin/sh
# fuzz.sh — builds the libFuzzer targets with ASan + UBSan and runs each for a while.
#   FUZZ_SECONDS=N (default 60) per target; FUZZ_TARGETS="fuzz_asm ..." to pick.
#   FUZZ_KEEP_GOING=1: a crash does not stop the run: the input is moved to
#   build/fuzz/findings/ and the target restarts for the rest of its time.
#   Every run appends a line to build/fuzz/fuzz-log.tsv: when, target, seconds, executions, result.
#   BPFRT_CORPUS: the shared corpus fuzz_verifier_corpus mutates (default ../shared/corpus).
set -e
B=build/fuzz
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-"fuzz_asm fuzz_exec fuzz_jit fuzz_maps fuzz_loader fuzz_helpers fuzz_verifier fuzz_verifier_corpus"}
LOG=$B/fuzz-log.tsv

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
	fuzz_verifier_corpus)	# one input per corpus program: its number, then no mutation
		i=0
		while [ $i -lt 256 ]; do
			printf "$(printf '\\%03o\\%03o\\000' $((i % 256)) $((i / 256)))" \
				>"$B/seeds-$1/prog-$i"
			i=$((i + 1))
		done ;;
	esac
}

# run TARGET SECONDS: one libFuzzer run; its executions, and the crash it left (if any), in the log.
run() {
	start=$(date +%s)
	out=$("$B/$1" -max_total_time="$2" -max_len=4096 -timeout=10 -artifact_prefix="$B/" \
		-print_final_stats=1 "$B/corpus-$1" "$B/seeds-$1" 2>&1) || true
	echo "$out" | grep -a -E 'stat::number_of_executed_units|stat::peak_rss|ERROR|SUMMARY|Done|^fuzz_verifier_corpus: [0-9]* inputs' || true
	execs=$(echo "$out" | sed -n 's/^stat::number_of_executed_units: *//p' | tail -n 1)
	crash=$(ls "$B"/crash-* "$B"/timeout-* "$B"/oom-* "$B"/leak-* 2>/dev/null | head -n 1)
	result=ok
	if [ -n "$crash" ]; then
		result="finding $(basename "$crash")"
		echo "$out" | grep -a -A60 -E '^verifier bug|ERROR:' | head -n 80 >"$crash.txt" || true
	fi
	printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$1" "$(($(date +%s) - start))" \
		"${execs:-0}" "$result" >>"$LOG"
}

for t in $TARGETS; do
	clang-19 -O1 -g $SAN -fsanitize=fuzzer -Iinclude -Isrc "fuzz/$t.c" "$B/libbpfrt.a" \
		-lpthread -lelf -lbpf -lz -o "$B/$t"
	seed_corpus "$t"
	# Inputs that once crashed a target must keep passing (tests/fuzz-regressions/<target>-*).
	prefix=${t#fuzz_}
	for r in tests/fuzz-regressions/"$prefix"-*; do
		[ -f "$r" ] || continue
		case $r in *.txt|*.md) continue ;; esac
		"$B/$t" "$r" >/dev/null 2>&1 || { echo "fuzz: regression $r fails"; exit 1; }
		cp "$r" "$B/seeds-$t/"
	done
	mkdir -p "$B/corpus-$t" "$B/findings"
	echo "== $t for ${SECONDS_EACH}s"
	end=$(($(date +%s) + SECONDS_EACH))
	while :; do
		left=$((end - $(date +%s)))
		[ $left -gt 0 ] || break
		run "$t" "$left"
		crash=$(ls "$B"/crash-* "$B"/timeout-* "$B"/oom-* "$B"/leak-* 2>/dev/null | head -n 1)
		[ -n "$crash" ] || break
		if [ -z "$FUZZ_KEEP_GOING" ]; then
			echo "fuzz: crash found: $crash"
			exit 1
		fi
		echo "fuzz: finding $crash, kept in $B/findings/"
		mv "$crash" "$crash.txt" "$B/findings/" 2>/dev/null || mv "$crash" "$B/findings/"
	done
done
