#!/bin/sh
# prog_run.sh — `bpfrt prog run` end to end: outputs, JSON, contexts, errors, and the same runs in Linux through bpftool.
. tests/lib/harness.sh
B="$BUILD/bpfrt"
O="$BUILD/tests/bpf"
K=/sys/fs/bpf/bpfrt_prog_run_$$
scratch "${K}_x" "${K}_s"

# Inputs: a UDP, a TCP and an ARP frame, an xdp_md with 8 bytes of metadata, a __sk_buff with a mark.
python3 - "$T" <<'PY'
import struct, sys
d = sys.argv[1]
def eth(t): return bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]) + struct.pack('>H', t)
def ip(proto, n): return bytes([0x45, 0, 0, 20 + n, 0, 0, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]) + bytes(n)
open(d + '/udp.bin', 'wb').write(eth(0x800) + ip(17, 12))
open(d + '/tcp.bin', 'wb').write(eth(0x800) + ip(6, 20))
open(d + '/short.bin', 'wb').write(bytes(10))
open(d + '/meta.bin', 'wb').write(bytes([0xaa, 0xbb, 0xcc, 0xdd, 1, 2, 3, 4]) + eth(0x800) + ip(17, 12))
open(d + '/md.bin', 'wb').write(struct.pack('<6I', 8, 8 + 46, 0, 0, 0, 0))
open(d + '/md_bad.bin', 'wb').write(struct.pack('<6I', 0, 46, 4, 0, 0, 0))
sk = bytearray(192); struct.pack_into('<I', sk, 8, 5); struct.pack_into('<I', sk, 48, 41)
open(d + '/sk.bin', 'wb').write(sk)
sk = bytearray(192); struct.pack_into('<I', sk, 0, 1)
open(d + '/sk_bad.bin', 'wb').write(sk)
PY

t "xdp run" 0 "^Return value: 3, duration (average): [0-9]*ns$" \
	"$B" prog run "$O/xdp_progs.o" name xdp_parse data_in "$T/udp.bin" data_out "$T/out.bin"
t "xdp data_out: MACs swapped" 0 "^02000000000202000000000108" \
	sh -c "xxd -p '$T/out.bin' | tr -d '\n'"
t "xdp drop" 0 "^Return value: 1," "$B" prog run "$O/xdp_progs.o" name xdp_parse data_in "$T/tcp.bin"
t "xdp drop blind" 0 "^Return value: 1," "$B" prog run "$O/xdp_progs.o" name xdp_parse data_in "$T/tcp.bin" --blind
t "blind not interpreted" 2 "--blind is for the JIT" "$B" prog run "$O/xdp_progs.o" name xdp_parse --interpret --blind
t "json" 0 "ok 3" sh -c "'$B' -j prog run '$O/xdp_progs.o' name xdp_parse data_in '$T/udp.bin' repeat 100 |
	python3 -c 'import json,sys; d=json.load(sys.stdin); assert set(d)=={\"retval\",\"duration\"}; print(\"ok\", d[\"retval\"])'"
t "json after" 0 "ok 3" sh -c "'$B' prog run '$O/xdp_progs.o' name xdp_parse data_in '$T/udp.bin' -j |
	python3 -c 'import json,sys; print(\"ok\", json.load(sys.stdin)[\"retval\"])'"
t "interpreter" 0 "^Return value: 3," "$B" prog run "$O/xdp_progs.o" name xdp_parse data_in "$T/udp.bin" --interpret
t "unchecked" 0 "^Return value: 3," "$B" prog run "$O/xdp_progs.o" name xdp_parse data_in "$T/udp.bin" unchecked --jit
t "abbreviated keywords" 0 "^Return value: 3," "$B" p r "$O/xdp_progs.o" n xdp_parse data_i "$T/udp.bin"

# Metadata through ctx_in: xdp_fields reads it (out map) and ctx_out gives data/data_end back.
t "xdp ctx_in" 0 "^Return value: 2," "$B" prog run "$O/xdp_progs.o" name xdp_fields data_in "$T/meta.bin" \
	ctx_in "$T/md.bin" ctx_out "$T/md_out.bin" data_out "$T/meta_out.bin"
t "xdp ctx_out" 0 "^080000003600000000000000000000000000000000000000$" sh -c "xxd -p '$T/md_out.bin' | tr -d '\n'"
t "xdp data_out keeps metadata" 0 "^aabbccdd01020304" sh -c "xxd -p '$T/meta_out.bin' | tr -d '\n'"
t "xdp bad ctx_in" 1 "data_meta 0" "$B" prog run "$O/xdp_progs.o" name xdp_fields data_in "$T/udp.bin" ctx_in "$T/md_bad.bin"

# tc and socket filters: __sk_buff in and out.
t "tc run" 0 "^Return value: 0," "$B" prog run "$O/ctx_skb.o" name tc_fields data_in "$T/udp.bin" \
	ctx_in "$T/sk.bin" ctx_out "$T/sk_out.bin"
t "tc ctx_out: mark 3*5+1, priority 46, ifindex 1, cb 42 0 0 0 8, tstamp, wire_len" 0 "^ok$" \
	python3 -c "import struct; b = open('$T/sk_out.bin', 'rb').read(); assert len(b) == 192
f = lambda o: struct.unpack_from('<I', b, o)[0]
assert (f(8), f(32), f(36), f(40)) == (16, 46, 0, 1), b[:48].hex()
assert struct.unpack_from('<5I', b, 48) == (42, 0, 0, 0, 8) and f(152) == 12345 and f(160) == 46
assert b[:8] == bytes(8) and f(44) == 0 and f(72) == 0; print('ok')"
t "tc bad ctx_in" 1 "__sk_buff bytes 0..7 must be zero" "$B" prog run "$O/ctx_skb.o" name tc_fields \
	data_in "$T/udp.bin" ctx_in "$T/sk_bad.bin"
t "socket filter" 0 "^Return value: 32," "$B" prog run "$O/ctx_skb.o" name sf_fields data_in "$T/udp.bin"

# Errors.
t "usage" 2 "usage: bpfrt prog run OBJ" "$B" prog run
t "unexpected" 2 "unexpected 'bogus'" "$B" prog run "$O/xdp_progs.o" bogus
t "repeat" 2 "repeat needs a count" "$B" prog run "$O/xdp_progs.o" repeat x
t "missing object" 1 "nope.o" "$B" prog run "$T/nope.o"
t "not an object" 1 "" "$B" prog run "$T/udp.bin"
t "several programs" 1 "has 5 programs; say which with 'name PROG'" "$B" prog run "$O/xdp_progs.o" data_in "$T/udp.bin"
t "unknown program" 1 "no program named 'nope'" "$B" prog run "$O/xdp_progs.o" name nope
t "short packet" 1 "less than an Ethernet header" "$B" prog run "$O/xdp_progs.o" name xdp_parse data_in "$T/short.bin"
t "missing data_in" 1 "cannot open" "$B" prog run "$O/xdp_progs.o" name xdp_parse data_in "$T/none.bin"

# The same runs in Linux, through bpftool: return values and output bytes must be bpfrt's.
if mkdir -p /sys/fs/bpf 2>/dev/null && bpftool prog loadall "$O/xdp_progs.o" "${K}_x" >/dev/null 2>&1 &&
   bpftool prog loadall "$O/ctx_skb.o" "${K}_s" >/dev/null 2>&1; then
	for c in "x xdp_parse udp" "x xdp_parse tcp" "x xdp_adjust udp" "x xdp_bytes tcp" "s tc_csum udp" \
		 "s tc_change tcp" "s sf_fields udp" "s sf_load tcp"; do
		set -- $c
		obj=xdp_progs; [ "$1" = s ] && obj=ctx_skb
		kr=$(bpftool prog run pinned "${K}_$1/$2" data_in "$T/$3.bin" data_out "$T/k.bin" 2>&1 |
		     sed -n 's/^Return value: \([0-9]*\),.*/\1/p')
		for e in --interpret --jit; do
			t "kernel $2 $3 $e" 0 "^Return value: $kr," "$B" prog run "$O/$obj.o" name "$2" \
				data_in "$T/$3.bin" data_out "$T/b.bin" $e
			t "kernel $2 $3 $e data_out" 0 "" cmp "$T/k.bin" "$T/b.bin"
		done
	done
else
	echo "skip: kernel comparison (bpftool cannot load programs here)"
fi

echo "$pass passed, $fail failed"
