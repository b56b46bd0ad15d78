#!/bin/sh
# verify.sh — end-to-end tests of `bpfrt prog verify`: verdicts, exit codes, source lines, JSON.
. tests/lib/harness.sh
B="$BUILD/bpfrt"
O="$BUILD/tests/bpf/verifier_progs.o"
V=tests/verifier

t "usage" 2 "usage: bpfrt prog verify" "$B" prog verify
t "bad type" 2 "unknown program type" "$B" prog verify "$O" type frob
t "missing file" 1 "" "$B" prog verify /nonexistent.o
t "all programs" 1 "11 of 21 programs accepted" "$B" prog verify "$O"
t "accept by name" 0 "ok_parse (xdp, xdp): accepted" "$B" prog verify "$O" name ok_parse
t "loop accepted" 0 "accepted" "$B" prog verify "$O" name ok_loop
t "ringbuf accepted" 0 "accepted" "$B" prog verify "$O" name ok_event
t "packet bound" 1 "verifier_progs.bpf.c:41: .return data\[23\]" "$B" prog verify "$O" name bad_parse
t "packet cause" 1 "not proven in bounds (checked: 20 bytes)" "$B" prog verify "$O" name bad_parse
t "null line" 1 "verifier_progs.bpf.c:59" "$B" prog verify "$O" name bad_count
t "null origin" 1 "result of insn 7 (verifier_progs.bpf.c:57" "$B" prog verify "$O" name bad_count
t "ringbuf leak" 1 "still held at exit" "$B" prog verify "$O" name bad_event
t "no such program" 1 "no program named" "$B" prog verify "$O" name frob
t "json" 0 '"verdict":"accepted","insns_processed":' "$B" prog verify "$O" name ok_count -j
t "json global" 1 '"verdict":"rejected","error":"insn 8' "$B" -j prog verify "$O" name bad_count
t "verbose log" 0 "1: r2 = \*(u32 \*)(r1 +4)" "$B" prog verify "$O" name ok_parse -v
t "type override" 1 "is a number, not a pointer" "$B" prog verify "$O" section xdp name ok_parse type socket_filter
t "raw in bounds" 0 "accepted" "$B" prog verify $V/mem_ok.s ctx_size 8
t "raw out of bounds" 1 "outside the 4 bytes" "$B" prog verify $V/mem_ok.s ctx_size 4
t "raw uninit stack" 1 "never written" "$B" prog verify $V/stack_uninit.s

# Constant strings and spin locks: verified, so they run without 'checked'.
R="$BUILD/tests/bpf/verifier_rules.o"
P=$(mktemp)
head -c 64 /dev/zero > "$P"
t "snprintf runs verified" 0 "Return value: 8" "$B" prog run "$R" name ok_snprintf data_in "$P"
t "spin lock runs verified" 0 "Return value: 1" "$B" prog run "$R" name ok_lock data_in "$P"
t "two locks refused" 1 "only one lock may be held" "$B" prog run "$R" name bad_lock_twice data_in "$P"
t "kfunc named" 1 "kernel function 'bpfrt_no_such_kfunc'" "$B" prog verify "$BUILD/tests/bpf/verifier_kfunc.o"
rm -f "$P"

# The corpus, where present: every program the kernel accepts, bpfrt accepts.
C=${BPFRT_CORPUS:-../shared/corpus}
if [ -d "$C/linux" ]; then
	t "corpus xdp1" 0 "accepted" "$B" prog verify "$C/linux/xdp1_kern.o"
	t "corpus env reject" 1 "cannot use helper bpf_override_return" "$B" prog verify "$C/linux/tracex7_kern.o"
else
	echo "verify.sh: corpus checks skipped: no corpus at $C"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
