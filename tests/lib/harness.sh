# harness.sh — what the end-to-end test scripts share: counters, checks, the closing line.
# Sourced (". tests/lib/harness.sh") by tests/*.sh, which scripts/test.sh runs from the repository root.
pass=0 fail=0

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
