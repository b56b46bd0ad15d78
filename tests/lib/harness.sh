# harness.sh — what the end-to-end test scripts share: counters, checks, the closing line.
# Sourced (". tests/lib/harness.sh") by tests/*.sh, which scripts/test.sh runs from the repository root.
BUILD=${BUILD:-build}
pass=0 fail=0

# scratch [PATH...]: make the suite's temporary directory $T; it and the PATHs (pins in
# /sys/fs/bpf, say; no spaces in them) are removed when the suite exits. Quietly: the
# suite's last line must stay its "N passed, M failed".
scratch() {
	T=$(mktemp -d)
	scratch_also="$*"
	trap 'rm -rf "$T" $scratch_also 2>/dev/null' EXIT
}

# ok: one check passed.
ok() { pass=$((pass + 1)); }

# bad NAME [OUTPUT]: one check failed; say which, and show the start of its output.
bad() {
	fail=$((fail + 1))
	echo "FAIL $1"
	[ -n "$2" ] && printf '%s\n' "$2" | sed 's/^/    /' | head -12
	return 0
}

# t NAME RC PATTERN CMD...: run CMD, expect exit status RC and (unless empty) PATTERN in its output.
t() {
	name=$1 rc=$2 pat=$3
	shift 3
	out=$("$@" 2>&1)
	got=$?
	if [ "$got" = "$rc" ] && { [ -z "$pat" ] || printf '%s\n' "$out" | grep -q -- "$pat"; }; then
		ok
	else
		bad "$name: exit $got (want $rc), output:" "$out"
	fi
}

# g NAME GOLDEN CMD...: exit 0 and stdout exactly GOLDEN.
g() {
	name=$1 want=$2
	shift 2
	out=$("$@" 2>&1)
	got=$?
	if [ "$got" = 0 ] && [ "$out" = "$want" ]; then
		ok
	else
		bad "$name: exit $got, output differs" "$(printf 'got:\n%s\nwant:\n%s' "$out" "$want")"
	fi
}

# j NAME PYEXPR CMD...: stdout is JSON and PYEXPR (over d) is true.
j() {
	name=$1 expr=$2
	shift 2
	out=$("$@" 2>&1)
	if printf '%s' "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($expr) else 1)" 2>/dev/null; then
		ok
	else
		bad "$name: JSON check '$expr'" "$out"
	fi
}
