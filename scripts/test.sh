#!/bin/sh
# test.sh — runs every test suite and ends with the line "N passed, M failed".
BUILD=${BUILD:-build}
export BUILD
passed=0 failed=0 skipped=0

# count PASSED FAILED: add a suite's numbers to the totals.
count() {
	passed=$((passed + $1))
	failed=$((failed + $2))
}

echo "== unit tests and conformance (bpfrt_tests)"
out=$("$BUILD/bpfrt_tests" 2>&1)
echo "$out" | grep -v '^[0-9]* passed, [0-9]* failed$'
line=$(echo "$out" | tail -n 1)
case "$line" in
*" passed, "*" failed") count "${line%% passed*}" "$(echo "$line" | sed 's/.*, \([0-9]*\) failed/\1/')" ;;
*) echo "bpfrt_tests did not finish"; count 0 1 ;;
esac

for s in tests/*.sh; do
	[ -f "$s" ] || continue
	echo "== $s"
	out=$(sh "$s" 2>&1)
	echo "$out"
	line=$(echo "$out" | tail -n 1)
	case "$line" in
	*" passed, "*" failed") count "${line%% passed*}" "$(echo "$line" | sed 's/.*, \([0-9]*\) failed/\1/')" ;;
	*) count 0 1 ;;
	esac
done

for engine in interp jit; do
	echo "== kernel differential test (kdiff --engine $engine)"
	"$BUILD/kdiff" --count "${KDIFF_COUNT:-3000}" --seed "${KDIFF_SEED:-1}" --engine $engine
	rc=$?
	if [ $rc -eq 77 ]; then
		skipped=$((skipped + 1))
	elif [ $rc -eq 0 ]; then
		count 1 0
	else
		count 0 1
	fi
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
