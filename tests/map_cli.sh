#!/bin/sh
# map_cli.sh — `bpfrt map ...` end to end: golden plain output, JSON checked with python, errors and exit codes.
. tests/lib/harness.sh
B="$PWD/$BUILD/bpfrt"
OBJ="$PWD/$BUILD/tests/bpf/pin.o"
KP=/sys/fs/bpf/bpfrt_map_cli_$$
scratch "$KP" "${KP}_maps"
export BPFRT_ROOT="$T/state"

# ---- No state directory yet --------------------------------------------------------------
g "show with no state directory" "" "$B" map show
j "json show with no state directory" "d == []" "$B" -j map show
t "lookup of an unknown name" 1 "no map with name nope in the state directory '$T/state'" \
	"$B" map lookup name nope key 0 0 0 0
t "a missing pinned file" 1 "no map pinned at '$T/none'" "$B" map dump pinned "$T/none"

# ---- create ---------------------------------------------------------------------------------
t "create hash" 0 "" "$B" map create "$T/h" type hash key 4 value 8 entries 16 name counts
t "pinned file is 0600" 0 "600" stat -c %a "$T/h"
t "create over a file" 1 "cannot pin map 'counts' at '$T/h': the file exists" \
	"$B" map create "$T/h" type hash key 4 value 8 entries 16 name counts
t "unknown type" 2 "'foo' is not a map type; types: hash, array, prog_array" \
	"$B" map create "$T/x" type foo key 4 value 4 entries 1 name x
t "missing entries" 2 "'entries' is missing" "$B" map create "$T/x" type hash key 4 value 4 name x
t "bad number" 2 "key: 'four' is not a number" "$B" map create "$T/x" type hash key four value 4 entries 1 name x
t "kernel's checks" 1 "map create:" "$B" map create "$T/x" type array key 8 value 4 entries 1 name x
t "no file left by a failed create" 1 "" test -e "$T/x"
t "prog arrays cannot be pinned" 1 "prog arrays and maps of maps hold references" \
	"$B" map create "$T/pa" type prog_array key 4 value 4 entries 4 name pa
t "create array" 0 "" "$B" map create "$T/a" type array key 4 value 4 entries 3 name arr flags 0
t "create percpu" 0 "" "$B" map create "$T/pc" type percpu_hash key 2 value 4 entries 4 name pc
t "create queue" 0 "" "$B" map create "$T/q" type queue key 0 value 4 entries 2 name q
t "create big value" 0 "" "$B" map create "$T/big" type hash key 4 value 20 entries 2 name big

# ---- show -----------------------------------------------------------------------------------
g "show one" "1: hash  name counts  flags 0x0
	key 4B  value 8B  max_entries 16
	pinned $T/h" "$B" map show pinned "$T/h"
g "show by id" "$("$B" map show pinned "$T/h")" "$B" map show id 1
g "show by name (prefix keywords)" "$("$B" map show pinned "$T/h")" "$B" m s n counts
j "json show all" "[m['id'] for m in d] == [1, 2, 3, 4, 5] and d[1]['type'] == 'array' and d[0]['bytes_value'] == 8 and d[0]['pinned'] == ['$T/h'] and d[3]['name'] == 'q'" \
	"$B" -j map show
t "show: bad id" 2 "'x1' is not a map id" "$B" map show id x1
t "show: unknown id" 1 "no map with id 99" "$B" map show id 99
t "show: bad MAP keyword" 2 "expected MAP (pinned FILE | name NAME | id N), got 'path'" \
	"$B" map show path "$T/h"

# ---- update, lookup, delete, getnext, dump -------------------------------------------------------
t "update decimal" 0 "" "$B" map update pinned "$T/h" key 1 0 0 0 value 10 0 0 0 0 0 0 0
t "update hex" 0 "" "$B" map update id 1 key hex 02 00 00 00 value hex 0b 00 00 00 00 00 00 01
t "update hex run" 0 "" "$B" map update id 1 key hex 03000000 value hex 0c00000000000000 noexist
t "noexist on an existing key" 1 "key exists in map 'counts'" \
	"$B" map update id 1 key 3 0 0 0 value 1 0 0 0 0 0 0 0 noexist
t "exist on a missing key" 1 "key not in map 'counts'" \
	"$B" map update id 1 key 9 0 0 0 value 1 0 0 0 0 0 0 0 exist
t "short key" 2 "key has 3 bytes, map 'counts' needs 4" "$B" map update id 1 key 1 0 0 value 1 0 0 0 0 0 0 0
t "long value" 2 "value has 9 bytes, map 'counts' needs 8" "$B" map update id 1 key 1 0 0 0 value 1 0 0 0 0 0 0 0 0
t "byte out of range" 2 "'256' is not a byte" "$B" map update id 1 key 256 0 0 0 value 1 0 0 0 0 0 0 0
t "bad flag" 2 "unexpected 'always' (flags: any, exist, noexist)" "$B" map update id 1 key 1 0 0 0 value 1 0 0 0 0 0 0 0 always
t "missing value" 2 "expected 'value DATA' (8 bytes)" "$B" map update id 1 key 1 0 0 0
g "lookup" "key: 01 00 00 00  value: 0a 00 00 00 00 00 00 00" "$B" map lookup id 1 key 1 0 0 0
j "lookup json" "d == {'key': ['0x02','0x00','0x00','0x00'], 'value': ['0x0b','0x00','0x00','0x00','0x00','0x00','0x00','0x01']}" \
	"$B" -j map lookup id 1 key 2 0 0 0
t "lookup missing" 1 "key 07 00 00 00 not found in map 'counts'" "$B" map lookup id 1 key 7 0 0 0
# Hash maps have their own order: compare the dump sorted.
g "dump (sorted)" "Found 3 elements
key: 01 00 00 00  value: 0a 00 00 00 00 00 00 00
key: 02 00 00 00  value: 0b 00 00 00 00 00 00 01
key: 03 00 00 00  value: 0c 00 00 00 00 00 00 00" sh -c "'$B' map dump id 1 | LC_ALL=C sort"
t "dump says how many" 0 "Found 3 elements" "$B" map dump id 1
j "dump json" "sorted(int(e['key'][0], 16) for e in d) == [1, 2, 3] and all(len(e['value']) == 8 for e in d)" \
	"$B" -j map dump id 1
j "dump pretty json" "len(d) == 3" "$B" -p map dump id 1
g "getnext from the start" "key:
None
next key:
$("$B" -j map getnext id 1 | python3 -c 'import json,sys; print(" ".join(b[2:] for b in json.load(sys.stdin)["next_key"]))')" \
	"$B" map getnext id 1
t "delete" 0 "" "$B" map delete id 1 key 2 0 0 0
t "delete again" 1 "key 02 00 00 00 not found" "$B" map delete id 1 key 2 0 0 0
t "dump after delete" 0 "Found 2 elements" "$B" map dump id 1
g "array lookup" "key: 02 00 00 00  value: 00 00 00 00" "$B" map lookup pinned "$T/a" key 2 0 0 0
t "array index out of range" 1 "cannot update map 'arr'" "$B" map update pinned "$T/a" key 5 0 0 0 value 1 0 0 0
g "array dump" "key: 00 00 00 00  value: 00 00 00 00
key: 01 00 00 00  value: 00 00 00 00
key: 02 00 00 00  value: 00 00 00 00
Found 3 elements" "$B" map dump pinned "$T/a"
g "big value breaks lines" "key:
01 00 00 00
value:
01 02 03 04 05 06 07 08  09 0a 0b 0c 0d 0e 0f 10
11 12 13 14" sh -c "'$B' map update pinned '$T/big' key 1 0 0 0 value 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 && '$B' map lookup pinned '$T/big' key 1 0 0 0"

# ---- per-CPU values ------------------------------------------------------------------------
t "percpu update" 0 "" "$B" map update pinned "$T/pc" key 1 2 value 5 0 0 0
g "percpu lookup, per CPU" "$(printf 'key:\n01 02\n'; c=0; while [ $c -lt "$(nproc)" ]; do printf 'value (CPU %02d): 05 00 00 00\n' $c; c=$((c + 1)); done)" \
	"$B" map lookup pinned "$T/pc" key 1 2
j "percpu json" "len(d['values']) == $(nproc) and all(v['value'] == ['0x05','0x00','0x00','0x00'] and v['cpu'] == i for i, v in enumerate(d['values']))" \
	"$B" -j map lookup pinned "$T/pc" key 1 2

# ---- queue --------------------------------------------------------------------------------------
t "push" 0 "" "$B" map push pinned "$T/q" value 1 0 0 0
t "enqueue" 0 "" "$B" map enqueue pinned "$T/q" value hex 02 00 00 00
t "push full" 1 "map 'q' is full" "$B" map push pinned "$T/q" value 3 0 0 0
g "peek" "value: 01 00 00 00" "$B" map peek pinned "$T/q"
j "pop json" "d == {'value': ['0x01','0x00','0x00','0x00']}" "$B" -j map pop pinned "$T/q"
g "dequeue" "value: 02 00 00 00" "$B" map dequeue pinned "$T/q"
t "pop empty" 1 "map 'q' is empty" "$B" map pop pinned "$T/q"
t "dump a queue" 1 "has no keys to dump; use peek or pop" "$B" map dump pinned "$T/q"
t "push to a hash" 1 "push is for queues" "$B" map push id 1 value 1 0 0 0 0 0 0 0
t "ambiguous prefix" 2 "'p' is ambiguous" "$B" map p pinned "$T/q"

# ---- freeze ----------------------------------------------------------------------------------------
t "freeze" 0 "" "$B" map freeze pinned "$T/a"
t "frozen: update refused" 1 "cannot update map 'arr': it is frozen" "$B" map update pinned "$T/a" key 0 0 0 0 value 1 0 0 0
t "frozen: lookup works" 0 "key: 00 00 00 00  value: 00 00 00 00" "$B" map lookup pinned "$T/a" key 0 0 0 0
t "freeze twice" 1 "map 'arr' is frozen already" "$B" map freeze pinned "$T/a"
t "show says frozen" 0 "max_entries 3  frozen" "$B" map show pinned "$T/a"
j "json frozen" "d['frozen'] == 1" "$B" -j map show pinned "$T/a"

# ---- pin, registry ---------------------------------------------------------------------------------
t "pin again" 0 "" "$B" map pin id 1 "$T/h2"
g "both paths, one map" "1: hash  name counts  flags 0x0
	key 4B  value 8B  max_entries 16
	pinned $T/h
	pinned $T/h2" sh -c "'$B' map show | head -4"
t "pin over a file" 1 "the file exists" "$B" map pin id 1 "$T/h2"
rm -f "$T/h"
j "removed pins are forgotten" "[m['id'] for m in d] == [1, 2, 3, 4, 5] and d[0]['pinned'] == ['$T/h2']" "$B" -j map show
rm -f "$T/h2"
j "a map with no pin is gone" "[m['id'] for m in d] == [2, 3, 4, 5]" "$B" -j map show
t "a file that is not a map" 1 "is not a pinned bpfrt map" "$B" map dump pinned "$OBJ"

# ---- BTF: maps pinned by an object carry their types --------------------------------------------
t "prog load pins the maps" 0 "" "$B" prog load "$OBJ" "$T/count" pinmaps "$T/maps"
t "flows from the object" 0 "" "$B" map update pinned "$T/maps/flows" key 1 0 0 0 value 3 0 0 0 0 0 0 0 180 0 0 0 0 0 0 0
j "formatted json" "d[0]['formatted'] == {'key': 1, 'value': {'packets': 3, 'bytes': 180}} and d[0]['key'] == ['0x01','0x00','0x00','0x00']" \
	"$B" -j map dump pinned "$T/maps/flows"
g "formatted plain" '{
    "key": 1,
    "value": {
        "packets": 3,
        "bytes": 180
    }
}' "$B" map lookup pinned "$T/maps/flows" key 1 0 0 0
t "show says it has BTF" 0 "btf key type" "$B" map show pinned "$T/maps/flows"

# ---- The kernel as the oracle: bpftool's JSON for the same maps and values ------------------------
if bpftool prog load "$OBJ" "$KP" pinmaps "${KP}_maps" 2>/dev/null; then
	# Values: a string, a full char array (no NUL: not a string), an enum value outside the enum,
	# negative and bitfield members, all zero.
	Z="0 0 0 0 0 0 0 0"
	for kv in "0x50 0 6 0|7 0 0 0 104 105 0 0 0 0 0 0 0xfd 0xff 0xff 0xff 0xfe 0xff 0xff 0xff 0xff 0xff 3 0 1 0 0 0 0 0 0 0 2 0 0 0 0 0 0 0 1 65 66 67 0 0 0 0" \
		  "1 0 17 0|5 0 0 0 97 98 99 100 101 102 103 104 0xff 0xff 0xff 0xff 0 0 0 0x80 0 0x80 0xff 0x7f 0 0 0 0 0 0 0 0x80 0xff 0xff 0xff 0xff 0xff 0xff 0xff 0xff 0 0 0 0 0 0 0 0" \
		  "2 0 1 0|1 0 0 0 $Z $Z $Z $Z $Z 0 0 0 0"; do
		k=${kv%%|*} v=${kv#*|}
		bpftool map update pinned "${KP}_maps/rich" key $k value $v || bad "bpftool update rich $k"
		"$B" map update pinned "$T/maps/rich" key $k value $v || bad "bpfrt update rich $k"
	done
	bpftool map update pinned "${KP}_maps/flows" key 1 0 0 0 value 3 0 0 0 0 0 0 0 180 0 0 0 0 0 0 0
	bpftool map update pinned "${KP}_maps/totals" key 2 0 0 0 value 9 0 0 0 0 0 0 0
	"$B" map update pinned "$T/maps/totals" key 2 0 0 0 value 9 0 0 0 0 0 0 0
	for m in rich flows totals; do
		bpftool -j map dump pinned "${KP}_maps/$m" > "$T/k.json"
		"$B" -j map dump pinned "$T/maps/$m" > "$T/b.json"
		if python3 -c "
import json,sys
k = json.load(open('$T/k.json')); b = json.load(open('$T/b.json'))
key = lambda e: e['key']
sys.exit(0 if len(k) > 0 and sorted(k, key=key) == sorted(b, key=key) else 1)"; then ok; else
			bad "map $m: bpfrt's JSON differs from bpftool's" "$(cat "$T/k.json" "$T/b.json")"; fi
	done
	# Freezing: Linux and bpfrt refuse the same writes afterwards.
	bpftool map freeze pinned "${KP}_maps/totals" && "$B" map freeze pinned "$T/maps/totals" || bad "freeze both"
	same() {	# same NAME CMD OK ARGS...: Linux and bpfrt both succeed (OK 1) or both fail (0)
		name=$1 cmd=$2 want=$3
		shift 3
		bpftool map "$cmd" pinned "${KP}_maps/totals" "$@" >/dev/null 2>&1; k=$?
		"$B" map "$cmd" pinned "$T/maps/totals" "$@" >/dev/null 2>&1; b=$?
		if [ $((k == 0)) = $((b == 0)) ] && [ $((b == 0)) = "$want" ]; then ok; else
			bad "$name: Linux exit $k, bpfrt exit $b (want success: $want)"; fi
	}
	same "frozen: update" update 0 key 1 0 0 0 value 1 0 0 0 0 0 0 0
	same "frozen: lookup" lookup 1 key 2 0 0 0
	same "frozen: freeze again" freeze 0
	rm -rf "$KP" "${KP}_maps"
else
	echo "skip: the kernel comparison (bpftool prog load failed: no bpf() or bpffs)"
fi

# ---- help -----------------------------------------------------------------------------------------
t "map help" 0 "bpfrt map update MAP \[key DATA\] value DATA" "$B" map help
t "command help" 0 "usage: bpfrt map lookup MAP key DATA" "$B" map lookup help
t "no command" 2 "usage: bpfrt \[-j\] \[-p\] map COMMAND" "$B" map

# ---- a state directory we cannot use ------------------------------------------------------------------
t "unusable state directory" 1 "state directory" env BPFRT_ROOT=/proc/bpfrt "$B" map create "$T/z" type hash key 4 value 4 entries 1 name z

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
