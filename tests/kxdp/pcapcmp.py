#!/usr/bin/env python3
"""pcapcmp.py — how two classic pcap files differ, for the message when `cmp` says they do.

    python3 tests/kxdp/pcapcmp.py A.pcap B.pcap     exit 0 if link type, snap length and every
                                                    record (time, lengths, bytes) are equal

Timestamps compare in nanoseconds, so files that differ only in their header's precision
(microseconds vs nanoseconds) are equal here and it says so ("precision: ..."); the tests
require byte identity (`cmp`) and call this only to explain a difference.
"""
import struct
import sys

MAGICS = {0xA1B2C3D4: 1000, 0xA1B23C4D: 1}   # ns per timestamp fraction unit


def read(path):
    d = open(path, "rb").read()
    magic, _, _, _, _, snap, link = struct.unpack_from("<IHHiIII", d)
    if magic not in MAGICS:
        raise SystemExit("pcapcmp.py: %s: not a little-endian classic pcap" % path)
    recs, off = [], 24
    while off < len(d):
        sec, frac, caplen, length = struct.unpack_from("<IIII", d, off)
        recs.append((sec * 10**9 + frac * MAGICS[magic], length, d[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return ("nanosecond" if MAGICS[magic] == 1 else "microsecond"), snap, link, recs


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: pcapcmp.py A.pcap B.pcap\n")
        return 2
    pa, sa, la, ra = read(sys.argv[1])
    pb, sb, lb, rb = read(sys.argv[2])
    if (sa, la) != (sb, lb):
        print("snap length / link type: %d/%d vs %d/%d" % (sa, la, sb, lb))
        return 1
    if len(ra) != len(rb):
        print("%d packets vs %d" % (len(ra), len(rb)))
        return 1
    for i, (a, b) in enumerate(zip(ra, rb)):
        if a != b:
            print("packet %d differs (time %d vs %d ns, length %d vs %d, bytes %s)" %
                  (i, a[0], b[0], a[1], b[1], "equal" if a[2] == b[2] else "differ"))
            return 1
    if pa != pb:
        print("precision: %s is %s, %s is %s" % (sys.argv[1], pa, sys.argv[2], pb))
    return 0


if __name__ == "__main__":
    sys.exit(main())
