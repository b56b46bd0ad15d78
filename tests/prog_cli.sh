#!/bin/sh
# prog_cli.sh — `bpfrt prog load|show|dump|pin` end to end, and the tag and line info compared with Linux's (bpftool).
. tests/lib/harness.sh
B="$PWD/$BUILD/bpfrt"
OBJ="$PWD/$BUILD/tests/bpf/pin.o"
KPIN=/sys/fs/bpf/bpfrt_prog_cli_$$
scratch "$KPIN"
export BPFRT_ROOT="$T/state"

# ---- Before anything is loaded ----------------------------------------------------------------
g "show with no state directory" "" "$B" prog show
j "json show, nothing" "d == []" "$B" -j prog show
t "unknown name" 1 "no program with name count in the state directory" "$B" prog show name count

# ---- load ---------------------------------------------------------------------------------------
t "load" 0 "" "$B" prog load "$OBJ" "$T/count"
t "record is 0600" 0 "600" stat -c %a "$T/count"
t "maps beside it by default" 0 "" test -f "$T/count.maps/flows" -a -f "$T/count.maps/totals"
t "load over a pin" 1 "cannot pin program 'count' at '$T/count': the file exists" \
	"$B" prog load "$OBJ" "$T/count"
t "load with type and pinmaps" 0 "" "$B" prog load "$OBJ" "$T/count2" type xdp pinmaps "$T/maps2"
t "bpftool's section-like type names" 0 "" "$B" prog load "$OBJ" "$T/count3" type classifier pinmaps "$T/maps3"
t "... give the type" 0 "^[0-9]*: sched_cls  name count" "$B" prog show pinned "$T/count3"
rm -f "$T/count3"
t "unknown type" 2 "'frob' is not a program type; types: socket_filter, kprobe" \
	"$B" prog load "$OBJ" "$T/x" type frob
t "missing object" 1 "prog load\|cannot" "$B" prog load "$T/nope.o" "$T/x"
t "not an object" 1 "" "$B" prog load "$T/count" "$T/x"
t "no file left by a failed load" 1 "" test -e "$T/x"
t "usage" 2 "expected OBJ PATH" "$B" prog load "$OBJ"
t "unexpected argument" 2 "unexpected 'frob'" "$B" prog load "$OBJ" "$T/x" frob 1

# ---- show ------------------------------------------------------------------------------------------
TAG=$("$B" -j prog show id 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["tag"])')
out=$("$B" prog show id 1)
if printf '%s\n' "$out" | sed -n 1p | grep -q "^1: socket_filter  name count  tag $TAG  gpl$" &&
   printf '%s\n' "$out" | sed -n 2p | grep -q "^	loaded_at 20[0-9-]*T[0-9:]*[-+][0-9]*  uid $(id -u)$" &&
   printf '%s\n' "$out" | sed -n 3p | grep -q "^	xlated [0-9]*B  jited [0-9]*B  map_ids 1,2$" &&
   [ "$(printf '%s\n' "$out" | sed -n 4,6p)" = "	object $OBJ
	pinmaps $T/count.maps
	pinned $T/count" ]; then ok; else bad "show plain" "$out"; fi
j "show json" "len(d) == 2 and d[0]['name'] == 'count' and d[0]['type'] == 'socket_filter' and d[1]['type'] == 'xdp' and d[0]['map_ids'] == [1, 2] and d[1]['map_ids'] == [4, 5] and d[0]['gpl_compatible'] and d[0]['jited'] and d[0]['bytes_xlated'] % 8 == 0 and d[0]['pinned'] == ['$T/count']" \
	"$B" -j prog show
t "show by pinned path" 0 "^[0-9]*: xdp  name count" "$B" prog show pinned "$T/count2"
t "name is ambiguous" 1 "2 programs are named 'count'" "$B" prog show name count
t "pinned: not a record" 1 "is not a pinned bpfrt program" "$B" prog show pinned "$T/count.maps/flows"
t "bad PROG keyword" 2 "expected PROG (pinned FILE | name NAME | id N), got 'tag'" "$B" prog show tag 1

# ---- pin ----------------------------------------------------------------------------------------------
t "pin again" 0 "" "$B" prog pin id 1 "$T/again"
j "one program, two paths" "len(d) == 2 and d[0]['pinned'] == ['$T/again', '$T/count']" "$B" -j prog show
t "pin over a file" 1 "the file exists" "$B" prog pin id 1 "$T/again"
rm -f "$T/again" "$T/count2"
j "unpinned programs are forgotten" "[p['id'] for p in d] == [1]" "$B" -j prog show
t "name is unique now" 0 "^1: socket_filter" "$B" prog show name count

# ---- dump ---------------------------------------------------------------------------------------------
out=$("$B" prog dump xlated id 1)
if printf '%s\n' "$out" | grep -q '^   0: (61) r6 = \*(u32 \*)(r1 +0)$' &&
   printf '%s\n' "$out" | grep -q '^; __u64 len = skb->len;$' &&
   printf '%s\n' "$out" | grep -q '^  1[0-9]: (85) call'; then ok; else bad "dump xlated" "$out"; fi
t "dump xlated opcodes" 0 "^       61 16 00 00 00 00 00 00$" "$B" prog dump xlated id 1 opcodes
t "dump xlated linum" 0 "line_num:[0-9]* line_col:[0-9]*\]$" "$B" prog dump xlated id 1 linum
j "dump xlated json" "d[0]['pc'] == 0 and d[0]['disasm'] == 'r6 = *(u32 *)(r1 +0)' and d[0]['src'] == '__u64 len = skb->len;' and all('disasm' in i for i in d)" \
	"$B" -j prog dump xlated id 1
t "dump jited" 0 "; entry" "$B" prog dump jited id 1
t "dump needs a kind" 2 "expected xlated PROG" "$B" prog dump id 1
t "dump: unexpected" 2 "unexpected 'frob'" "$B" prog dump xlated id 1 frob

# A changed object: the record refuses to re-create a different program.
cp "$OBJ" "$T/obj.o"
t "load a copy" 0 "" "$B" prog load "$T/obj.o" "$T/copy" pinmaps "$T/mcopy"
cp "$PWD/$BUILD/tests/bpf/progs.o" "$T/obj.o"
t "a changed object is noticed" 1 "has no program 'count' any more\|changed" "$B" prog dump xlated pinned "$T/copy"

# ---- The kernel as the oracle: tag and line info ---------------------------------------------------------
if bpftool prog load "$OBJ" "$KPIN" 2>/dev/null; then
	ktag=$(bpftool -j prog show pinned "$KPIN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["tag"])')
	if [ "$ktag" = "$TAG" ]; then ok; else bad "tag: bpfrt $TAG, Linux $ktag"; fi
	bpftool prog dump xlated pinned "$KPIN" linum | grep '^;' > "$T/k.lines"
	"$B" prog dump xlated id 1 linum | grep '^;' > "$T/b.lines"
	if diff "$T/k.lines" "$T/b.lines" > "$T/diff"; then ok; else bad "source lines differ from bpftool's" "$(cat "$T/diff")"; fi
	rm -f "$KPIN"
else
	echo "skip: the kernel comparison (bpftool prog load failed: no bpf() or bpffs)"
fi

# ---- help ---------------------------------------------------------------------------------------------
t "prog help" 0 "bpfrt prog load OBJ PATH \[type TYPE\] \[pinmaps DIR\]" "$B" prog help
t "command help" 0 "usage: bpfrt prog dump xlated PROG" "$B" prog dump help

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
