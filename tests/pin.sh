#!/bin/sh
# pin.sh — the state directory across processes: unique ids under concurrency, live sharing between CLI processes, ownership checks.
. tests/lib/harness.sh
B="$PWD/$BUILD/bpfrt"
scratch
export BPFRT_ROOT="$T/state"

# Sixteen processes pin at once: sixteen distinct ids, 1..16.
i=0
while [ $i -lt 16 ]; do
	"$B" map create "$T/m$i" type array key 4 value 8 entries 4 name m$i &
	i=$((i + 1))
done
wait
ids=$("$B" -j map show | python3 -c 'import json,sys; print(" ".join(str(m["id"]) for m in json.load(sys.stdin)))')
if [ "$ids" = "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16" ]; then ok; else bad "concurrent ids: $ids"; fi
t "state directory is 0700" 0 "700" stat -c %a "$T/state"

# Two writer processes and a reader share one map live: every update lands.
"$B" map create "$T/shared" type hash key 4 value 4 entries 256 name shared || bad "create shared"
writer() {
	k=$1
	while [ $k -lt 200 ]; do
		"$B" map update pinned "$T/shared" key $k 0 0 0 value $k 0 0 $2 || exit 1
		k=$((k + 2))
	done
}
writer 0 1 & w1=$!
writer 1 2 & w2=$!
seen=0
while kill -0 $w1 2>/dev/null || kill -0 $w2 2>/dev/null; do
	n=$("$B" map dump pinned "$T/shared" | tail -n 1 | sed 's/Found \([0-9]*\).*/\1/')
	[ "$n" -ge "$seen" ] 2>/dev/null && seen=$n
done
wait $w1 && wait $w2 && ok || bad "writers failed"
t "all 200 keys" 0 "Found 200 elements" "$B" map dump pinned "$T/shared"
t "the last writer's value" 0 "key: 07 00 00 00  value: 07 00 00 02" "$B" map lookup pinned "$T/shared" key 7 0 0 0

# The state directory must be ours and not a symlink.
mkdir -p "$T/other"
ln -s "$T/other" "$T/link"
t "a symlinked state directory is refused" 1 "is not a directory owned by" \
	env BPFRT_ROOT="$T/link" "$B" map create "$T/y" type hash key 4 value 4 entries 1 name y
if [ "$(id -u)" = 0 ] && chown nobody "$T/other" 2>/dev/null; then
	t "a state directory of another user is refused" 1 "is not a directory owned by uid 0" \
		env BPFRT_ROOT="$T/other" "$B" map create "$T/z" type hash key 4 value 4 entries 1 name z
else
	echo "skip: state directory of another user (needs root)"
fi
t "state directory under a file" 1 "state directory" \
	env BPFRT_ROOT="$T/m0/state" "$B" map create "$T/w" type hash key 4 value 4 entries 1 name w
t "nothing pinned after a refusal" 1 "" test -e "$T/w"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
