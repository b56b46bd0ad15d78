#!/usr/bin/env python3
"""model.py — what each example program must do, written independently in Python: the third opinion.

    python3 tests/kxdp/model.py EXAMPLE IN.pcap OUTDIR [rules FILE] [ringbuf MAP] [global sample_every=N]

Reads the capture (and the rules file the runs were given) and writes what a correct run of
examples/EXAMPLE produces, in kreplay's formats: OUTDIR/verdicts.txt ("INDEX ACTION LEN_IN
LEN_OUT" per packet, then ringbuf lines for the sampler), OUTDIR/VERDICT.pcap for pass, drop
and tx, and OUTDIR/MAP.json for the maps the example defines (bpftool's dump shape). The load
balancer's rewritten packets get checksums computed from scratch here, not incrementally, so
the programs' RFC 1624 updates are checked against a full computation.
"""
import json
import os
import socket
import struct
import sys

TCP, UDP = 6, 17
ACTIONS = {0: "XDP_ABORTED", 1: "XDP_DROP", 2: "XDP_PASS", 3: "XDP_TX", 4: "XDP_REDIRECT"}
DROP, PASS, TX = 1, 2, 3


# ---- pcap ------------------------------------------------------------------------------------

def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack_from("<I", data)
    if magic != 0xA1B2C3D4:
        raise SystemExit("model.py: %s is not a little-endian microsecond pcap" % path)
    header, pkts, off = data[:24], [], 24
    while off < len(data):
        sec, usec, caplen, length = struct.unpack_from("<IIII", data, off)
        pkts.append(((sec, usec, length - caplen), data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return header, pkts


def write_pcap(path, header, records):
    with open(path, "wb") as f:
        f.write(header)
        for (sec, usec, missing), p in records:
            f.write(struct.pack("<IIII", sec, usec, len(p), len(p) + missing))
            f.write(p)


def write_map(path, entries):
    """entries: list of (key bytes, value bytes), written as `bpftool map dump -j` does."""
    with open(path, "w") as f:
        json.dump([{"key": ["0x%02x" % b for b in k], "value": ["0x%02x" % b for b in v]}
                   for k, v in entries], f)
        f.write("\n")


# ---- Parsing, as examples/common/parse.h defines it -----------------------------------------

class Pkt:
    def __init__(self, b):
        self.b = b
        self.ip4 = self.ip6 = self.l4 = None   # header offsets
        self.proto = self.sport = self.dport = 0


def parse(b):
    """(result, Pkt): result "ok", "not_ip" or "malformed"."""
    p = Pkt(b)
    if len(b) < 14:
        return "malformed", p
    etype, = struct.unpack_from("!H", b, 12)
    if etype == 0x0800:
        if len(b) < 34:
            return "malformed", p
        ihl = (b[14] & 0xF) * 4
        if ihl < 20 or 14 + ihl > len(b):
            return "malformed", p
        p.ip4, p.proto = 14, b[23]
        frag, = struct.unpack_from("!H", b, 20)
        if frag & 0x1FFF:
            return "ok", p
        return parse_l4(p, 14 + ihl)
    if etype == 0x86DD:
        if len(b) < 54:
            return "malformed", p
        p.ip6, p.proto = 14, b[20]
        return parse_l4(p, 54)
    return "not_ip", p


def parse_l4(p, off):
    need = {TCP: 20, UDP: 8}.get(p.proto)
    if need is None:
        return "ok", p
    if off + need > len(p.b):
        return "malformed", p
    p.sport, p.dport = struct.unpack_from("!HH", p.b, off)
    p.l4 = off
    return "ok", p


# ---- Rules -----------------------------------------------------------------------------------

def read_rules(path):
    """{map: [(key bytes, value bytes), ...]} in file order (later updates replace earlier ones)."""
    rules = {}
    if not path:
        return rules
    for line in open(path):
        tok = line.split("#", 1)[0].split()
        if not tok:
            continue
        vi = tok.index("value")
        k, v = tok[2:vi], tok[vi + 1:]

        def num(t, hexa):
            return bytes(int(x, 16 if hexa else 0) for x in t if x not in ("any", "exist", "noexist"))
        k = num(k[1:], True) if k and k[0] == "hex" else num(k, False)
        v = num(v[1:], True) if v and v[0] == "hex" else num(v, False)
        entries = rules.setdefault(tok[0], [])
        entries[:] = [e for e in entries if e[0] != k] + [(k, v)]
    return rules


def array(n, value_size, updates=()):
    vals = {i: bytes(value_size) for i in range(n)}
    for k, v in updates:
        vals[struct.unpack("<I", k)[0]] = v
    return vals


def array_entries(vals):
    return [(struct.pack("<I", i), v) for i, v in sorted(vals.items())]


# ---- The examples ----------------------------------------------------------------------------

def firewall(pkts, rules):
    prefixes = [(struct.unpack("<I", k[:4])[0], k[4:8], struct.unpack("<I", v)[0])
                for k, v in rules.get("fw_prefixes", [])]
    exact = {k: struct.unpack("<I", v)[0] for k, v in rules.get("fw_exact", [])}
    stats = {i: [0, 0] for i in range(64)}

    def lpm(addr):
        best = None
        a = int.from_bytes(addr, "big")
        for plen, pfx, rid in prefixes:
            mask = ((1 << 32) - 1) ^ ((1 << (32 - plen)) - 1) if plen else 0
            if a & mask == int.from_bytes(pfx, "big") & mask and (best is None or plen > best[0]):
                best = (plen, rid)
        return best[1] if best else None

    out = []
    for b in pkts:
        res, p = parse(b)
        if res == "malformed":
            stats[63][0] += 1
            stats[63][1] += len(b)
            out.append((DROP, b))
            continue
        rid = None
        if res == "ok" and p.ip4 is not None:
            src = b[26:30]
            rid = exact.get(bytes([1, 0, 0, 0]) + src)
            if rid is None and p.l4 is not None:
                rid = exact.get(bytes([2, p.proto]) + struct.pack("!H", p.dport) + bytes(4))
            if rid is None:
                rid = lpm(src)
        if rid is not None:
            if 0 < rid < 63:
                stats[rid][0] += 1
                stats[rid][1] += len(b)
            out.append((DROP, b))
        else:
            stats[0][0] += 1
            stats[0][1] += len(b)
            out.append((PASS, b))
    maps = {"fw_stats": [(struct.pack("<I", i), struct.pack("<QQ", *stats[i])) for i in range(64)],
            "fw_prefixes": rules.get("fw_prefixes", []), "fw_exact": rules.get("fw_exact", [])}
    return out, maps, []


def flowcount(pkts, rules):
    flows, totals = {}, [0, 0, 0, 0]   # counted, not IP, malformed, full
    for b in pkts:
        res, p = parse(b)
        if res != "ok":
            totals[1 if res == "not_ip" else 2] += 1
            continue
        if p.ip4 is not None:
            key = b[26:30] + bytes(12) + b[30:34] + bytes(12) + struct.pack("<HHBBH", p.sport, p.dport,
                                                                            p.proto, 4, 0)
        else:
            key = b[22:38] + b[38:54] + struct.pack("<HHBBH", p.sport, p.dport, p.proto, 6, 0)
        c = flows.setdefault(key, [0, 0])
        c[0] += 1
        c[1] += len(b)
        totals[0] += 1
    maps = {"fc_flows": [(k, struct.pack("<QQ", *v)) for k, v in flows.items()],
            "fc_totals": [(struct.pack("<I", i), struct.pack("<Q", n)) for i, n in enumerate(totals)]}
    return [(PASS, b) for b in pkts], maps, []


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def pseudo4(b, proto, length):
    return b[26:34] + struct.pack("!BBH", 0, proto, length)


def checksum_after(old, off, new):
    """The checksum field (at off) for `new`, the bytes `old` covered after a rewrite. When old's
    checksum was right, it is computed from scratch; when it was wrong (a truncated frame), a
    correct update keeps it exactly as wrong: ~(~HC + ~m + m') over the words that changed."""
    if csum(old) == 0:
        new = new[:off] + b"\0\0" + new[off + 2:]
        return struct.pack("!H", csum(new))
    if len(old) % 2:
        old, new = old + b"\0", new + b"\0"
    s = ~struct.unpack_from("!H", old, off)[0] & 0xFFFF
    for i in range(0, len(old), 2):
        if i != off:
            s += (~struct.unpack_from("!H", old, i)[0] & 0xFFFF) + struct.unpack_from("!H", new, i)[0]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return struct.pack("!H", ~s & 0xFFFF)


def fnv1a(data):
    h = 2166136261
    for x in data:
        h = ((h ^ x) * 16777619) & 0xFFFFFFFF
    return h


def lb(pkts, rules):
    vips = {k: struct.unpack("<II", v) for k, v in rules.get("lb_vips", [])}
    backends = array(64, 12, rules.get("lb_backends", []))
    stats = {i: [0, 0] for i in range(64)}
    out = []
    for b in pkts:
        res, p = parse(b)
        if res != "ok" or p.ip4 is None or p.l4 is None:
            out.append((PASS, b))
            continue
        svc = vips.get(b[30:34] + struct.pack("!H", p.dport) + bytes([p.proto, 0]))
        if svc is None:
            out.append((PASS, b))
            continue
        first, count = svc
        if count == 0:
            out.append((DROP, b))
            continue
        idx = (first + fnv1a(b[26:34] + struct.pack("!HH", p.sport, p.dport) + bytes([p.proto, 0, 0, 0]))
               % count) & 0xFFFFFFFF
        be = backends.get(idx)
        if be is None or be[:4] == bytes(4):
            out.append((DROP, b))
            continue
        n = bytearray(b)
        n[6:12], n[0:6] = b[0:6], be[4:10]
        n[30:34] = be[:4]
        ihl = (b[14] & 0xF) * 4
        n[24:26] = checksum_after(b[14:14 + ihl], 10, bytes(n[14:14 + ihl]))
        l4, seg_len = p.l4, len(b) - p.l4
        coff = 16 if p.proto == TCP else 6
        if p.proto == TCP or b[l4 + coff:l4 + coff + 2] != b"\0\0":
            c = checksum_after(pseudo4(b, p.proto, seg_len) + b[l4:], 12 + coff,
                               pseudo4(n, p.proto, seg_len) + bytes(n[l4:]))
            if p.proto == UDP and c == b"\0\0":
                c = b"\xff\xff"
            n[l4 + coff:l4 + coff + 2] = c
        stats[idx][0] += 1
        stats[idx][1] += len(b)
        out.append((TX, bytes(n)))
    maps = {"lb_stats": [(struct.pack("<I", i), struct.pack("<QQ", *stats[i])) for i in range(64)],
            "lb_vips": rules.get("lb_vips", []), "lb_backends": array_entries(backends)}
    return out, maps, []


def sampler(pkts, rules, every=3):
    records = []
    for seq, b in enumerate(pkts):
        if every and seq % every == 0:
            cap = b[:64]
            records.append(struct.pack("<QII", seq, len(b), len(cap)) + cap + bytes(64 - len(cap)))
    maps = {"bss": [(bytes(4), struct.pack("<QQ", len(pkts), 0))]}
    return [(PASS, b) for b in pkts], maps, records


EXAMPLES = {"firewall": firewall, "flowcount": flowcount, "lb": lb, "sampler": sampler}


def main(argv):
    opts = dict(zip(argv[4::2], argv[5::2]))
    bad = set(opts) - {"rules", "global", "ringbuf"}
    if len(argv) < 4 or argv[1] not in EXAMPLES or len(argv) % 2 or bad:
        sys.stderr.write("usage: model.py {%s} IN.pcap OUTDIR [rules FILE] [ringbuf MAP] "
                         "[global sample_every=N]\n" % ",".join(EXAMPLES))
        return 2
    header, recs = read_pcap(argv[2])
    rules = read_rules(opts.get("rules"))
    kw = {}
    if "global" in opts:
        name, value = opts["global"].split("=")
        kw = {{"sample_every": "every"}[name]: int(value, 0)}
    out, maps, ring = EXAMPLES[argv[1]]([p for _, p in recs], rules, **kw)
    os.makedirs(argv[3], exist_ok=True)
    with open(os.path.join(argv[3], "verdicts.txt"), "w") as f:
        for i, ((action, o), (_, b)) in enumerate(zip(out, recs)):
            f.write("%d %s %d %d\n" % (i, ACTIONS[action], len(b), len(o)))
        for r in ring:
            f.write("ringbuf %s\n" % r.hex())
    for action, name in ((PASS, "pass"), (DROP, "drop"), (TX, "tx")):
        write_pcap(os.path.join(argv[3], name + ".pcap"), header,
                   [(meta, o) for (a, o), (meta, _) in zip(out, recs) if a == action])
    for name, entries in maps.items():
        write_map(os.path.join(argv[3], name + ".json"), entries)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
