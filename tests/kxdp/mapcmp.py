#!/usr/bin/env python3
"""mapcmp.py — are two map dumps (bpftool's `map dump -j` shape) the same entries, in any order?

    python3 tests/kxdp/mapcmp.py A.json B.json      exit 0 if equal, else 1 and the differences

Keys and values are compared as bytes ("0x0a" and "10" alike); "formatted" members are ignored.
Per-CPU values (a "values" list of {"cpu", "value"}) compare CPU by CPU.
"""
import json
import sys


def as_bytes(v):
    return bytes(int(x, 0) for x in v)


def entries(path):
    out = {}
    for e in json.load(open(path)):
        if "values" in e:
            val = tuple(as_bytes(c["value"]) for c in sorted(e["values"], key=lambda c: c["cpu"]))
        else:
            val = as_bytes(e["value"])
        out[as_bytes(e["key"])] = val
    return out


def show(v):
    return v.hex() if isinstance(v, bytes) else "/".join(x.hex() for x in v)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: mapcmp.py A.json B.json\n")
        return 2
    a, b = entries(sys.argv[1]), entries(sys.argv[2])
    diff = 0
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            diff += 1
            if diff <= 10:
                print("key %s: %s has %s, %s has %s" % (k.hex(), sys.argv[1], show(a[k]) if k in a else "nothing",
                                                       sys.argv[2], show(b[k]) if k in b else "nothing"))
    if diff:
        print("%d of %d keys differ" % (diff, len(set(a) | set(b))))
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
