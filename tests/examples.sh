#!/bin/sh
# examples.sh — each XDP example over its capture in the kernel, in a Python model, and in bpfrt: all must agree.
#
# For every example (build/examples/NAME/NAME.o over its capture build/examples/NAME.pcap and
# over build/examples/stress.pcap, with examples/NAME/rules.txt when it has one):
#   kernel  build/kreplay: BPF_PROG_TEST_RUN per packet (skipped, with the reason, without bpf())
#   model   tests/kxdp/model.py: what the program must do, computed independently
#   library build/breplay: the same replay in bpfrt through bpfrt_prog_test_run and through
#           bpfrt_xdp_run on one frame, interpreter and JIT, checked and unchecked
#   CLI     `bpfrt prog load` with pinned maps, the rules through `bpfrt map update pinned`,
#           `bpfrt xdp replay ... pinmaps DIR verdicts`, `bpfrt map dump pinned DIR/MAP -j`,
#           both engines, both modes (skipped, with the reason, while the CLI lacks them;
#           without pinmaps only the examples without rules, and no map dumps)
# and checks: per-packet actions and lengths, byte-identical per-verdict pcaps, the same ring
# buffer records, the same final map contents; plus that each capture exercises what its
# example is for (every firewall rule hit, every backend chosen, ...). Without bpf() the model
# is the oracle (KREPLAY=a-script-exiting-77 shows that path).
BUILD=${BUILD:-build}
B=$BUILD/bpfrt
K=${KREPLAY:-$BUILD/kreplay}
BR=$BUILD/breplay
E=$BUILD/examples
PY=${PYTHON:-python3}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() {
	failed=$((failed + 1))
	echo "FAIL $1"
	[ -s "$T/why" ] && sed 's/^/     /' "$T/why" | head -n 15
	: >"$T/why"
}
# check NAME CMD ARGS...: one test; CMD's output is shown when it fails.
check() {
	name=$1
	shift
	if "$@" >"$T/why" 2>&1; then ok "$name"; else bad "$name"; fi
}

# verdict lines "INDEX ACTION LEN_IN LEN_OUT" of a kreplay/model output, and its ring buffer records.
verdicts() { grep '^[0-9][0-9]* [A-Za-z_]' "$1" | grep -v ' packets: '; }
records() { grep '^ringbuf ' "$1"; }

# same_verdicts A B: the per-packet lines of two outputs are identical.
same_verdicts() {
	verdicts "$1" >"$T/va" && verdicts "$2" >"$T/vb" && [ -s "$T/va" ] && diff "$T/va" "$T/vb"
}
same_records() { records "$1" >"$T/ra"; records "$2" >"$T/rb"; diff "$T/ra" "$T/rb"; }

# same_pcaps DIR_A DIR_B: pass, drop and tx captures byte-identical (pcapcmp.py says how they differ).
same_pcaps() {
	for v in pass drop tx; do
		cmp "$1/$v.pcap" "$2/$v.pcap" || { $PY tests/kxdp/pcapcmp.py "$1/$v.pcap" "$2/$v.pcap"; return 1; }
	done
}

# same_maps DIR_A DIR_B MAP...: the maps' dumps hold the same entries.
same_maps() {
	a=$1 b=$2 pairs=""
	shift 2
	[ $# -eq 0 ] && return 0
	for m in "$@"; do pairs="$pairs $a/$m.json $b/$m.json"; done
	# shellcheck disable=SC2086
	$PY tests/kxdp/mapcmp.py $pairs
}

# same_all RC DIR ORACLE_DIR ORACLE_OUT MAP...: a run that ended well (else its stderr), and all of the above.
same_all() {
	rc=$1 b=$2 o=$3 oo=$4
	shift 4
	[ "$rc" -eq 0 ] || { echo "exit $rc"; head -n 5 "$b/err.txt"; return 1; }
	same_verdicts "$b/out.txt" "$oo" && same_pcaps "$b" "$o" && same_records "$b/out.txt" "$oo" &&
		same_maps "$b" "$o" "$@"
}

# expect_py FILE... <<CODE: Python assertions (from stdin) over the files in sys.argv[1:].
expect_py() { $PY - "$@"; }

for f in "$K" "$BR" "$E/captures.stamp"; do
	[ -e "$f" ] || { echo "examples.sh: $f missing (run make examples)"; echo "0 passed, 1 failed"; exit 1; }
done

# ---- bpfrt's CLI: which commands this build has --------------------------------------------

bpfrt_has() { "$B" "$@" help >/dev/null 2>&1; }
cli_reason="" pin_reason=""
if ! bpfrt_has xdp replay; then
	cli_reason="'bpfrt xdp replay' is not in this build (branch ctx)"
elif ! "$B" xdp replay help 2>&1 | grep -q pinmaps; then
	pin_reason="'bpfrt xdp replay' has no 'pinmaps DIR' yet, so rules cannot be set up and maps not dumped"
elif ! bpfrt_has prog load || ! bpfrt_has map update || ! bpfrt_has map dump; then
	pin_reason="'bpfrt prog load' / 'map update' / 'map dump' are not in this build (branch pin)"
fi
[ -n "$cli_reason" ] && echo "skip: the bpfrt CLI side of every example: $cli_reason"
[ -n "$pin_reason" ] && echo "skip: the bpfrt CLI side of examples with rules, and its map dumps: $pin_reason"

# bpfrt_cli EXAMPLE CAPTURE OUTDIR [rules FILE] [ringbuf MAP] -- REPLAY_OPTION... -- MAP...:
# the CLI's run over the capture, its output in kreplay's formats. Without pinned maps
# (pin_reason) the example's maps are the replay's own and no dump is made.
bpfrt_cli() {
	ex=$1 cap=$2 out=$3
	shift 3
	rules="" ring=""
	while [ "$1" != "--" ]; do
		case $1 in
		rules) rules=$2 ;;
		ringbuf) ring=$2 ;;
		esac
		shift 2
	done
	shift
	ropts=""
	while [ "$1" != "--" ]; do ropts="$ropts $1"; shift; done
	shift
	pins="$out/pins"
	mkdir -p "$out"
	export BPFRT_ROOT="$out/root"
	if [ -z "$pin_reason" ]; then
		"$B" prog load "$E/$ex/$ex.o" "$out/prog" pinmaps "$pins" || return 1
		if [ -n "$rules" ]; then
			grep -v '^[[:space:]]*\(#\|$\)' "$rules" | while read -r map rest; do
				# shellcheck disable=SC2086
				"$B" map update pinned "$pins/$map" $rest || exit 1
			done || return 1
		fi
		ropts="$ropts pinmaps $pins"
	fi
	# shellcheck disable=SC2086
	"$B" xdp replay "$E/$ex/$ex.o" "$E/$cap.pcap" verdicts $ropts \
		pass "$out/pass.pcap" drop "$out/drop.pcap" tx "$out/tx.pcap" \
		${ring:+ringbuf $ring} >"$out/replay.txt" || return 1
	# "3 drop 74 -> 74" and "ringbuf MAP packet 3: 0a 0b ..." to kreplay's "3 XDP_DROP 74 74", "ringbuf 0a0b...".
	awk '$4 == "->" { print $1, "XDP_" toupper($2), $3, $5 }
	     $1 == "ringbuf" && $3 == "packet" { s = ""; for (i = 5; i <= NF; i++) s = s $i; print "ringbuf " s }' \
		"$out/replay.txt" >"$out/out.txt"
	[ -n "$pin_reason" ] && return 0
	for m in "$@"; do
		"$B" -j map dump pinned "$pins/$m" >"$out/$m.json" || return 1
	done
}

# ---- One example ----------------------------------------------------------------------------

# example NAME CAPTURE [rules FILE] [ringbuf MAP] -- MAP...: run NAME over CAPTURE on all sides, compare.
example() {
	ex=$1 cap=$2
	shift 2
	opts=""
	while [ "$1" != "--" ]; do opts="$opts $1 $2"; shift 2; done
	shift
	glob=$(echo "$opts" | sed -n 's/.*global \([^ ]*\).*/\1/p')
	d="$T/$ex-$cap${glob:+-$glob}"
	mkdir -p "$d/kernel"
	echo "-- $ex over $cap.pcap${glob:+, $glob}"
	what="$ex ($cap${glob:+, $glob})"
	rules=$(echo "$opts" | sed -n 's/.*rules \([^ ]*\).*/\1/p')
	ring=$(echo "$opts" | sed -n 's/.*ringbuf \([^ ]*\).*/\1/p')

	# shellcheck disable=SC2086
	check "$what: model" $PY tests/kxdp/model.py "$ex" "$E/$cap.pcap" "$d/model" $opts

	# shellcheck disable=SC2086
	"$K" "$E/$ex/$ex.o" "$E/$cap.pcap" $opts pass "$d/kernel/pass.pcap" drop "$d/kernel/drop.pcap" \
		tx "$d/kernel/tx.pcap" dumpdir "$d/kernel" >"$d/kernel/out.txt" 2>"$T/why"
	rc=$?
	if [ $rc -eq 77 ]; then
		echo "skip: $ex in the kernel: $(tail -n 1 "$T/why")"
		: >"$T/why"
		oracle="$d/model"
		oracle_out="$d/model/verdicts.txt"
	elif [ $rc -ne 0 ]; then
		bad "$what: kernel run (kreplay exit $rc)"
		return
	else
		ok "$what: kernel run"
		oracle="$d/kernel"
		oracle_out="$d/kernel/out.txt"
		check "$what: kernel = model: per-packet actions and lengths" \
			same_verdicts "$d/kernel/out.txt" "$d/model/verdicts.txt"
		check "$what: kernel = model: output packets (pcaps)" same_pcaps "$d/kernel" "$d/model"
		[ -n "$ring" ] && check "$what: kernel = model: ring buffer records" \
			same_records "$d/kernel/out.txt" "$d/model/verdicts.txt"
		check "$what: kernel = model: final maps" same_maps "$d/kernel" "$d/model" "$@"
	fi
	[ "$cap" = "$ex" ] && [ -z "$glob" ] && purpose_$ex "$oracle" "$oracle_out"

	# bpfrt through the library (breplay): both engines, both safety modes, test runs and frames.
	for mode in "" "unchecked" "jit" "jit unchecked" "frames" "frames unchecked" "frames jit" \
		"frames jit unchecked"; do
		b="$d/breplay-$(echo "${mode:-interp}" | tr ' ' -)"
		mkdir -p "$b"
		# shellcheck disable=SC2086
		"$BR" "$E/$ex/$ex.o" "$E/$cap.pcap" $opts pass "$b/pass.pcap" drop "$b/drop.pcap" \
			tx "$b/tx.pcap" dumpdir "$b" $mode >"$b/out.txt" 2>"$b/err.txt"
		rc=$?
		if grep -q 'call to helper [0-9]*, which is not available' "$b/err.txt"; then
			echo "skip: $what in bpfrt: $(grep -m 1 'helper' "$b/err.txt")"
			return
		fi
		check "$what: bpfrt library (${mode:-interp}) = kernel: actions, lengths, packets, records, maps" \
			same_all $rc "$b" "$oracle" "$oracle_out" "$@"
	done

	[ -n "$cli_reason" ] && return
	[ -n "$pin_reason" ] && [ -n "$rules" ] && return
	[ -n "$glob" ] && return	# the CLI sets no globals
	# Global data stays private to a bpfrt process (docs/pinning.md): no pinned dump to compare.
	maps=""
	if [ -z "$pin_reason" ]; then
		for m in "$@"; do
			case $m in bss | data | rodata) ;; *) maps="$maps $m" ;; esac
		done
	fi
	for mode in "--interpret" "--interpret unchecked" "--jit" "--jit unchecked"; do
		b="$d/cli$(echo "$mode" | tr -d ' ')"
		# shellcheck disable=SC2086
		check "$what: bpfrt xdp replay $mode = kernel: actions, lengths, packets, records${maps:+, maps}" \
			cli_same "$ex" "$cap" "$b" "$opts" "$mode" "$oracle" "$oracle_out" $maps
	done
}

# cli_same EXAMPLE CAPTURE DIR OPTS MODE ORACLE_DIR ORACLE_OUT MAP...: the CLI's run agrees.
cli_same() {
	ex=$1 cap=$2 b=$3 o_opts=$4 mode=$5 o=$6 oo=$7
	shift 7
	# shellcheck disable=SC2086
	(bpfrt_cli "$ex" "$cap" "$b" $o_opts -- $mode -- "$@") || return 1
	same_verdicts "$b/out.txt" "$oo" && same_pcaps "$b" "$o" && same_records "$b/out.txt" "$oo" &&
		same_maps "$b" "$o" "$@"
}

# ---- What each capture must exercise, judged on the oracle's maps ----------------------------

purpose_firewall() {
	check "firewall: every rule drops something, malformed frames are dropped, clean traffic passes" \
		expect_py "$1/fw_stats.json" <<'EOF'
import json, sys
st = {int(e["key"][0], 0): int.from_bytes(bytes(int(x, 0) for x in e["value"][:8]), "little")
      for e in json.load(open(sys.argv[1]))}
missing = [i for i in (0, 1, 2, 3, 4, 5, 6, 63) if st[i] == 0]
assert not missing, "no packets counted for rule ids %s" % missing
EOF
}

purpose_flowcount() {
	check "flowcount: flows recur, IPv4 and IPv6 flows, malformed and non-IP frames counted" \
		expect_py "$1/fc_flows.json" "$1/fc_totals.json" <<'EOF'
import json, sys
flows = [bytes(int(x, 0) for x in e["value"]) for e in json.load(open(sys.argv[1]))]
keys = [bytes(int(x, 0) for x in e["key"]) for e in json.load(open(sys.argv[1]))]
tot = [int.from_bytes(bytes(int(x, 0) for x in e["value"]), "little") for e in json.load(open(sys.argv[2]))]
assert max(int.from_bytes(v[:8], "little") for v in flows) >= 5, "no flow with 5 packets"
assert {k[37] for k in keys} == {4, 6}, "not both IPv4 and IPv6 flows"
assert tot[0] and tot[1] and tot[2] and not tot[3], "totals %s" % tot
assert sum(int.from_bytes(v[:8], "little") for v in flows) == tot[0], "flows do not add up to the total"
EOF
}

purpose_lb() {
	check "lb: every backend is chosen, other traffic passes, VIPs without backends drop" \
		expect_py "$1/lb_stats.json" "$2" <<'EOF'
import json, sys
st = {int(e["key"][0], 0): int.from_bytes(bytes(int(x, 0) for x in e["value"][:8]), "little")
      for e in json.load(open(sys.argv[1]))}
assert all(st[i] for i in range(5)), "backends chosen: %s" % [st[i] for i in range(5)]
assert not any(st[i] for i in range(5, 64)), "a backend outside the services was counted"
acts = {l.split()[1] for l in open(sys.argv[2]) if l[0].isdigit() and " packets: " not in l}
assert acts == {"XDP_TX", "XDP_PASS", "XDP_DROP"}, acts
EOF
}

# json_same ORACLE_OUT: the ring buffer records `bpfrt -j xdp replay` prints are the oracle's.
json_same() {
	"$B" -j xdp replay "$E/sampler/sampler.o" "$E/sampler.pcap" ringbuf samples --jit >"$T/sampler.json" ||
		return 1
	$PY -c 'import json, sys
for e in json.load(open(sys.argv[1]))["events"]:
    if "ringbuf" in e:
        print("ringbuf " + bytes(int(x, 0) for x in e["data"]).hex())' "$T/sampler.json" >"$T/jr" || return 1
	records "$1" >"$T/or"
	[ -s "$T/or" ] && diff "$T/jr" "$T/or"
}

purpose_sampler() {
	[ -z "$cli_reason" ] &&
		check "sampler: bpfrt -j xdp replay's JSON ring buffer records = the oracle's" json_same "$2"
	check "sampler: every 3rd frame sampled, short frames zero-padded" \
		expect_py "$1/bss.json" "$2" <<'EOF'
import json, sys
seen = int.from_bytes(bytes(int(x, 0) for x in json.load(open(sys.argv[1]))[0]["value"][:8]), "little")
recs = [bytes.fromhex(l.split()[1]) for l in open(sys.argv[2]) if l.startswith("ringbuf")]
assert len(recs) == (seen + 2) // 3, "%d records for %d frames" % (len(recs), seen)
assert any(int.from_bytes(r[12:16], "little") < 64 for r in recs), "no short frame sampled"
assert any(int.from_bytes(r[8:12], "little") > 64 for r in recs), "no long frame sampled"
EOF
}

# ---- The checkers themselves: they must see differences ---------------------------------------

echo "-- the tools"
printf '[{"key":["0x01"],"value":["0x02"]},{"key":["0x03"],"value":["0x04"]}]\n' >"$T/m1.json"
printf '[{"key":["3"],"value":["4"]},{"key":["1"],"value":["2"],"formatted":{}}]\n' >"$T/m2.json"
printf '[{"key":["0x01"],"value":["0x02"]},{"key":["0x03"],"value":["0x05"]}]\n' >"$T/m3.json"
check "mapcmp: same entries in another order and notation are equal" \
	$PY tests/kxdp/mapcmp.py "$T/m1.json" "$T/m2.json"
check "mapcmp: a different value is a difference" sh -c "! $PY tests/kxdp/mapcmp.py '$T/m1.json' '$T/m3.json'"
printf 'fw_stats key hex 01 00 00 value hex 00\n' >"$T/bad.rules"
"$K" "$E/firewall/firewall.o" "$E/firewall.pcap" rules "$T/bad.rules" >"$T/out" 2>&1
rc=$?
if [ $rc -eq 77 ]; then
	echo "skip: kreplay's rule checks: bpf() unavailable"
else
	check "kreplay: a rule of the wrong size fails, naming the line and the sizes" \
		sh -c "[ $rc -eq 1 ] && grep -q 'bad.rules:1: map .fw_stats. needs a 4-byte key and a 16-byte value, the line has 3 and 1' '$T/out'"
fi

for which in own stress; do
	c() { if [ $which = own ]; then echo "$1"; else echo $which; fi; }
	example firewall "$(c firewall)" rules examples/firewall/rules.txt -- fw_stats fw_prefixes fw_exact
	example flowcount "$(c flowcount)" -- fc_flows fc_totals
	example lb "$(c lb)" rules examples/lb/rules.txt -- lb_stats lb_vips lb_backends
	example sampler "$(c sampler)" ringbuf samples -- bss
done
# A `const volatile` setting changed before loading, in the kernel and in bpfrt alike.
example sampler sampler ringbuf samples global sample_every=5 -- bss

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
