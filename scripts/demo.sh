#!/bin/sh
# demo.sh — the main demo: an XDP firewall loaded, configured and run over a capture with bpfrt, then in the kernel.
#
# `make demo` builds everything first (bpfrt, the examples, their captures, kreplay). The
# demo's state (pinned maps and programs) lives in a temporary BPFRT_ROOT it removes at the end.
BUILD=${BUILD:-build}
B="$BUILD/bpfrt"
OBJ="$BUILD/examples/firewall/firewall.o"
PCAP="$BUILD/examples/firewall.pcap"
RULES=examples/firewall/rules.txt

die() { echo "demo: $*" >&2; exit 1; }
# npackets FILE: the number of packets in a classic pcap file.
npackets() {
	python3 -c 'import sys
d = open(sys.argv[1], "rb").read()
n, o = 0, 24
while o < len(d):
    o, n = o + 16 + int.from_bytes(d[o + 8:o + 12], "little"), n + 1
print(n)' "$1"
}
step() {
	if [ -t 1 ]; then printf '\n\033[1m== %s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi
}
# run CMD...: show the command as a user would type it, then run it.
run() {
	echo "\$ $*" | sed "s|$BUILD/bpfrt|bpfrt|; s|$ROOT|\$BPFRT_ROOT|g"
	"$@" || die "that command failed (exit $?)"
}

for f in "$B" "$OBJ" "$PCAP"; do
	[ -e "$f" ] || die "$f is missing: run 'make demo' (or 'make all examples') first"
done
for cmd in "prog load" "map update" "map lookup" "map dump" "xdp replay"; do
	# shellcheck disable=SC2086
	"$B" $cmd help >/dev/null 2>&1 ||
		die "this build of bpfrt has no 'bpfrt $cmd' command yet, which the demo needs"
done
# Without `pinmaps`, replay cannot use the maps `prog load` pinned: it runs on fresh, empty ones.
shared=yes
"$B" xdp replay help 2>&1 | grep -q pinmaps || shared=""

ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
export BPFRT_ROOT="$ROOT"
MAPS="$ROOT/firewall"

cat <<EOF
bpfrt runs eBPF programs in an ordinary process. This demo takes an XDP firewall written
in C (examples/firewall/firewall.bpf.c, compiled by clang for the kernel), loads it into
bpfrt, adds block rules to its maps, and runs it over a capture of $(npackets "$PCAP") packets.
(State directory for this demo: BPFRT_ROOT=$ROOT)
EOF

step "1. Load the firewall; its maps are pinned as files in \$BPFRT_ROOT/firewall"
run "$B" prog load "$OBJ" "$ROOT/firewall.prog" pinmaps "$MAPS"
run "$B" prog show pinned "$ROOT/firewall.prog"

step "2. Add rules: block 192.0.2.0/24 (rule 2) and TCP port 23 (rule 5)"
echo "# fw_prefixes key: prefix length 24 (little-endian u32), then 192.0.2.0; value: rule id 2"
run "$B" map update pinned "$MAPS/fw_prefixes" key hex 18 00 00 00 c0 00 02 00 value hex 02 00 00 00
echo "# fw_exact key: kind 2 (port), protocol 6 (TCP), port 23 (network order), no address"
run "$B" map update pinned "$MAPS/fw_exact" key hex 02 06 00 17 00 00 00 00 value hex 05 00 00 00
echo "# ...and the other rules of $RULES, the same way"
grep -v '^[[:space:]]*\(#\|$\)' "$RULES" | while read -r map rest; do
	# shellcheck disable=SC2086
	"$B" map update pinned "$MAPS/$map" $rest || die "updating $map from $RULES failed"
done
echo "# (fields in network order print byte-swapped: addr 2570 is 0a 0a 00 00, i.e. 10.10.0.0)"
run "$B" map dump pinned "$MAPS/fw_prefixes"

step "3. Replay the sample capture through the firewall (x86-64 JIT)"
if [ -n "$shared" ]; then
	run "$B" xdp replay "$OBJ" "$PCAP" pinmaps "$MAPS" pass "$ROOT/passed.pcap" drop "$ROOT/dropped.pcap" --jit
else
	echo "(This build's 'xdp replay' has no 'pinmaps DIR' yet: the replay below runs the firewall"
	echo " on fresh, empty maps, so only malformed frames are dropped, and step 4 shows zeros.)"
	run "$B" xdp replay "$OBJ" "$PCAP" pass "$ROOT/passed.pcap" drop "$ROOT/dropped.pcap" --jit
fi

step "4. The counters the program kept: packets and bytes per rule id (0 = passed, 63 = malformed)"
run "$B" map lookup pinned "$MAPS/fw_stats" key 2 0 0 0
echo "\$ bpfrt -j map dump pinned \$BPFRT_ROOT/firewall/fw_stats   # every rule id, as a table:"
"$B" -j map dump pinned "$MAPS/fw_stats" | python3 -c '
import json, sys
print("  rule  packets    bytes")
rows = 0
for e in json.load(sys.stdin):
    v = bytes(int(x, 0) for x in e["value"])
    pk, by = int.from_bytes(v[:8], "little"), int.from_bytes(v[8:], "little")
    if pk:
        rows += 1
        print("%6d %8d %8d" % (int(e["key"][0], 0), pk, by))
if not rows:
    print("  (all zero)")' || die "reading fw_stats failed"

step "5. The same object and capture in the Linux kernel (BPF_PROG_TEST_RUN), for comparison"
if [ -x "$BUILD/kreplay" ] &&
	"$BUILD/kreplay" "$OBJ" "$PCAP" rules "$RULES" pass "$ROOT/k_passed.pcap" drop "$ROOT/k_dropped.pcap" \
		>"$ROOT/kernel.txt" 2>&1; then
	echo "\$ kreplay firewall.o firewall.pcap rules $RULES pass ... drop ..."
	grep -e ' packets: ' -e '^kernel: ' "$ROOT/kernel.txt"
	if [ -z "$shared" ]; then
		echo "(bpfrt ran without the rules above, so its verdicts are not comparable here;"
		echo " tests/examples.sh compares the two with the rules, through bpfrt's library.)"
	elif python3 tests/kxdp/pcapcmp.py "$ROOT/passed.pcap" "$ROOT/k_passed.pcap" >/dev/null &&
		python3 tests/kxdp/pcapcmp.py "$ROOT/dropped.pcap" "$ROOT/k_dropped.pcap" >/dev/null; then
		echo "bpfrt and the kernel passed and dropped exactly the same packets."
	else
		echo "bpfrt's and the kernel's output captures differ (tests/examples.sh shows where)."
	fi
else
	echo "(skipped: the kernel run needs root and bpf(): $(tail -n 1 "$ROOT/kernel.txt" 2>/dev/null))"
fi

cat <<EOF

Next: the other examples (examples/flowcount, lb, sampler; docs/examples.md), and
'bpfrt help'. tests/examples.sh runs every example in the kernel and in bpfrt and compares.
EOF
