#!/bin/sh
# xdp_replay.sh — `bpfrt xdp replay` end to end: verdicts, output captures, pcapng, JSON, bad captures.
. tests/lib/harness.sh
B="$BUILD/bpfrt"
O="$BUILD/tests/bpf/xdp_replay.o"
scratch

# Captures: UDP, TCP, ARP, IPv6, ICMP (xdp_sort: tx, drop, pass cut by 4, redirect, aborted),
# the same as pcapng and as nanosecond pcap, and broken ones.
cat >"$T/pcap.py" <<'PY'
import struct, sys

def eth(t): return bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]) + struct.pack('>H', t)
def ip(proto, n): return bytes([0x45, 0, 0, 20 + n, 0, 0, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]) + bytes(range(n))
PKTS = [eth(0x800) + ip(17, 12), eth(0x800) + ip(6, 20), eth(0x806) + bytes(range(28)),
        eth(0x86dd) + bytes(40), eth(0x800) + ip(1, 8)]
TS = [(1700000000 + i, 250000 + i) for i in range(len(PKTS))]

def pcap(path, pkts, link=1, nano=False, cut=0, magic=None):
    b = struct.pack('<IHHiIII', magic or (0xa1b23c4d if nano else 0xa1b2c3d4), 2, 4, 0, 0, 65535, link)
    for (s, u), p in zip(TS * (len(pkts) // len(TS) + 1), pkts):
        b += struct.pack('<IIII', s, u * 1000 if nano else u, len(p), len(p)) + p
    open(path, 'wb').write(b[:len(b) - cut])

def block(t, body):
    body += bytes(-len(body) % 4)
    return struct.pack('<II', t, len(body) + 12) + body + struct.pack('<I', len(body) + 12)

def pcapng(path, pkts):
    b = block(0x0a0d0d0a, struct.pack('<IHHq', 0x1a2b3c4d, 1, 0, -1))
    b += block(1, struct.pack('<HHI', 1, 0, 65535))
    for (s, u), p in zip(TS, pkts):
        t = s * 1000000 + u
        b += block(6, struct.pack('<IIIII', 0, t >> 32, t & 0xffffffff, len(p), len(p)) + p)
    open(path, 'wb').write(b)

def read(path):
    b = open(path, 'rb').read()
    magic, _, _, _, _, _, link = struct.unpack_from('<IHHiIII', b)
    out, o = [], 24
    while o < len(b):
        s, u, cap, ln = struct.unpack_from('<IIII', b, o)
        out.append((s, u, b[o + 16:o + 16 + cap], ln))
        o += 16 + cap
    return magic, link, out

if __name__ == '__main__':
    d = sys.argv[1]
    pcap(d + '/in.pcap', PKTS)
    pcap(d + '/nano.pcap', PKTS, nano=True)
    pcapng(d + '/in.pcapng', PKTS)
    pcap(d + '/trunc.pcap', PKTS, cut=7)
    pcap(d + '/badmagic.pcap', PKTS, magic=0x12345678)
    pcap(d + '/raw.pcap', PKTS, link=101)
    pcap(d + '/big.pcap', [PKTS[0], eth(0x800) + bytes(4000)])
    pcap(d + '/tiny.pcap', [PKTS[0], bytes(10)])
    pcap(d + '/many.pcap', PKTS * 20000)
    open(d + '/empty.pcap', 'wb').write(b'')
PY
python3 "$T/pcap.py" "$T"

t "verdicts" 0 "" sh -c "'$B' xdp replay '$O' '$T/in.pcap' name xdp_sort verdicts >'$T/v.txt'"
cat >"$T/v.want" <<'EOF2'
0 tx 46 -> 46
1 drop 54 -> 54
2 pass 42 -> 38
3 redirect 54 -> 54
4 aborted 42 -> 42
5 packets: aborted 1 drop 1 pass 1 tx 1 redirect 1
EOF2
t "verdicts golden" 0 "" sh -c "head -6 '$T/v.txt' | cmp - '$T/v.want'"
t "rate" 0 "^[0-9.]* s, [0-9]* packets/s$" tail -1 "$T/v.txt"

t "outputs" 0 "" "$B" xdp replay "$O" "$T/in.pcap" name xdp_sort pass "$T/p.pcap" tx "$T/t.pcap" \
	drop "$T/d.pcap" redirect "$T/r.pcap" aborted "$T/a.pcap"
t "output captures" 0 "^ok$" python3 -c "
import sys; sys.path.insert(0, '$T'); from pcap import *
caps = {k: read('$T/' + k + '.pcap') for k in 'ptdra'}
for k, (magic, link, pk) in caps.items():
    assert magic == 0xa1b2c3d4 and link == 1 and len(pk) == 1, (k, magic, link, len(pk))
s, u, t, ln = caps['t'][2][0]
assert (s, u) == TS[0] and t[:12] == PKTS[0][6:12] + PKTS[0][:6] and t[12:] == PKTS[0][12:]
s, u, p, ln = caps['p'][2][0]
assert (s, u) == TS[2] and p == PKTS[2][:-4] and ln == len(PKTS[2]) - 4
assert caps['d'][2][0][2] == PKTS[1] and caps['r'][2][0][2] == PKTS[3] and caps['a'][2][0][:2] == TS[4]
print('ok')"
t "verdicts blind" 0 "" sh -c "'$B' xdp replay '$O' '$T/in.pcap' name xdp_sort verdicts --jit --blind | head -6 | cmp - '$T/v.want'"
t "pcapng" 0 "" sh -c "'$B' xdp replay '$O' '$T/in.pcapng' name xdp_sort verdicts | head -6 | cmp - '$T/v.want'"
t "pcapng out as pcap, timestamps kept" 0 "^ok$" sh -c "'$B' xdp replay '$O' '$T/in.pcapng' name xdp_sort tx '$T/tn.pcap' >/dev/null &&
	python3 -c \"
import sys; sys.path.insert(0, '$T'); from pcap import *
magic, link, pk = read('$T/tn.pcap')
assert magic == 0xa1b23c4d and link == 1 and (pk[0][0], pk[0][1]) == (TS[0][0], TS[0][1] * 1000); print('ok')\""
t "nanosecond pcap" 0 "^ok$" sh -c "'$B' xdp replay '$O' '$T/nano.pcap' name xdp_sort drop '$T/dn.pcap' >/dev/null &&
	python3 -c \"
import sys; sys.path.insert(0, '$T'); from pcap import *
magic, link, pk = read('$T/dn.pcap')
assert magic == 0xa1b23c4d and (pk[0][0], pk[0][1]) == (TS[1][0], TS[1][1] * 1000); print('ok')\""
t "json" 0 "^ok$" sh -c "'$B' -j xdp replay '$O' '$T/in.pcap' name xdp_sort verdicts | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d[\"packets\"] == 5 and [d[k] for k in (\"aborted\", \"drop\", \"pass\", \"tx\", \"redirect\")] == [1] * 5
ev = d[\"events\"]
assert [e[\"action\"] for e in ev] == [\"tx\", \"drop\", \"pass\", \"redirect\", \"aborted\"]
assert ev[2][\"len_in\"] == 42 and ev[2][\"len_out\"] == 38 and d[\"rate\"] > 0
print(\"ok\")'"
t "json without verdicts" 0 "^ok$" sh -c "'$B' xdp replay '$O' '$T/in.pcap' name xdp_sort -j | python3 -c '
import json, sys; d = json.load(sys.stdin); assert \"events\" not in d and d[\"packets\"] == 5; print(\"ok\")'"
for e in --interpret --jit; do
	for m in checked unchecked; do
		t "engines $e $m" 0 "100000 packets: aborted 20000 drop 20000 pass 20000 tx 20000 redirect 20000" \
			"$B" xdp replay "$O" "$T/many.pcap" name xdp_sort $e $m
	done
done
# Maps persist across packets, and with pinmaps across runs: the UDP count of 100000 packets, twice.
t "pinmaps" 0 "100000 packets" "$B" xdp replay "$O" "$T/many.pcap" name xdp_sort pinmaps "$T/maps" unchecked
t "maps persist across packets" 0 '"value": 20000' "$B" map lookup pinned "$T/maps/protos" key 17 0 0 0
t "pinmaps reused" 0 "100000 packets" "$B" xdp replay "$O" "$T/many.pcap" name xdp_sort pinmaps "$T/maps" --interpret
t "pinned maps persist across runs" 0 '"value": 40000' "$B" map lookup pinned "$T/maps/protos" key 17 0 0 0
t "pinmaps not a directory" 1 "" "$B" xdp replay "$O" "$T/in.pcap" name xdp_sort pinmaps "$T/in.pcap"
t "trivial program, many packets" 0 "packets/s" "$B" xdp replay "$O" "$T/many.pcap" name xdp_pass unchecked
t "stdin" 0 "5 packets: aborted 1 drop 1 pass 1 tx 1 redirect 1" sh -c "'$B' xdp replay '$O' - name xdp_sort <'$T/in.pcap'"
t "pretty json" 0 '^    "packets": 5,$' "$B" -p xdp replay "$O" "$T/in.pcap" name xdp_sort
t "empty capture" 1 "empty.pcap" "$B" xdp replay "$O" "$T/empty.pcap" name xdp_pass

# Bad input: clear errors, exit 1.
t "truncated capture" 1 "packet 4: truncated" "$B" xdp replay "$O" "$T/trunc.pcap" name xdp_sort
t "corrupt capture" 1 "badmagic.pcap: unknown file format" "$B" xdp replay "$O" "$T/badmagic.pcap" name xdp_sort
t "link type" 1 "link type RAW ([0-9]*); XDP programs take Ethernet frames" "$B" xdp replay "$O" "$T/raw.pcap" name xdp_sort
t "packet too big" 1 "packet 1 has 4014 bytes; an XDP frame holds at most 3520" "$B" xdp replay "$O" "$T/big.pcap" name xdp_sort
t "packet too small" 1 "packet 1: a packet of 10 bytes is shorter than an Ethernet header" \
	"$B" xdp replay "$O" "$T/tiny.pcap" name xdp_sort
t "unknown program" 1 "no program named 'nope'" "$B" xdp replay "$O" "$T/in.pcap" name nope
t "several programs" 1 "say which with 'name PROG'" "$B" xdp replay "$O" "$T/in.pcap"
t "not XDP" 1 "of type sched_cls; replay runs XDP programs" "$B" xdp replay "$BUILD/tests/bpf/ctx_skb.o" "$T/in.pcap" name tc_fields
t "missing capture" 1 "cannot open" "$B" xdp replay "$O" "$T/none.pcap" name xdp_pass
t "unwritable output" 1 "cannot write" "$B" xdp replay "$O" "$T/in.pcap" name xdp_pass pass "$T/no/such/dir.pcap"
t "ringbuf records as produced" 0 "" sh -c "'$B' xdp replay '$O' '$T/in.pcap' name xdp_rb ringbuf events verdicts >'$T/rb.txt'"
cat >"$T/rb.want" <<'EOF2'
0 pass 46 -> 46
ringbuf events packet 0: 08 00 45 00 00 20 00 00
ringbuf events packet 0: 11
1 pass 54 -> 54
ringbuf events packet 1: 08 00 45 00 00 28 00 00
2 pass 42 -> 42
ringbuf events packet 2: 08 06 00 01 02 03 04 05
3 pass 54 -> 54
ringbuf events packet 3: 86 dd 00 00 00 00 00 00
4 pass 42 -> 42
ringbuf events packet 4: 08 00 45 00 00 1c 00 00
5 packets: aborted 0 drop 0 pass 5 tx 0 redirect 0; 6 ring buffer records
EOF2
t "ringbuf golden" 0 "" sh -c "head -12 '$T/rb.txt' | cmp - '$T/rb.want'"
t "ringbuf json" 0 "^ok$" sh -c "'$B' -j xdp replay '$O' '$T/in.pcap' name xdp_rb ringbuf events | python3 -c '
import json, sys
d = json.load(sys.stdin)
rec = [e for e in d[\"events\"] if \"ringbuf\" in e]
assert d[\"records\"] == 6 and len(rec) == 6 and [r[\"packet\"] for r in rec] == [0, 0, 1, 2, 3, 4]
assert rec[1][\"data\"] == [\"0x11\"] and rec[4][\"data\"][:2] == [\"0x86\", \"0xdd\"]
print(\"ok\")'"
t "ringbuf many packets" 0 "120000 ring buffer records" sh -c "'$B' xdp replay '$O' '$T/many.pcap' name xdp_rb ringbuf events | tail -2"
t "ringbuf not a map" 1 "no map named 'nope'" "$B" xdp replay "$O" "$T/in.pcap" name xdp_pass ringbuf nope
t "ringbuf not a ring buffer" 1 "map 'protos' is not a ring buffer" "$B" xdp replay "$O" "$T/in.pcap" name xdp_pass ringbuf protos
t "usage" 2 "usage: bpfrt xdp replay OBJ IN.pcap" "$B" xdp replay "$O"
t "unexpected" 2 "unexpected 'bogus'" "$B" xdp replay "$O" "$T/in.pcap" bogus x

echo "$pass passed, $fail failed"
