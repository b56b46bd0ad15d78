#!/usr/bin/env python3
"""mapcmp.py — are two map dumps (bpftool's `map dump -j` shape) the same entries, in any order?

    python3 tests/kxdp/mapcmp.py A.json B.json [A2.json B2.json ...]
                                                    exit 0 if each pair is equal, else 1 and
                                                    the differences

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


def compare(pa, pb):
    a, b = entries(pa), entries(pb)
    diff = 0
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            diff += 1
            if diff <= 10:
                print("key %s: %s has %s, %s has %s" % (k.hex(), pa, show(a[k]) if k in a else "nothing",
                                                       pb, show(b[k]) if k in b else "nothing"))
    if diff:
        print("%d of %d keys differ" % (diff, len(set(a) | set(b))))
    return diff == 0


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        sys.stderr.write("usage: mapcmp.py A.json B.json [A2.json B2.json ...]\n")
        return 2
    same = [compare(args[i], args[i + 1]) for i in range(0, len(args), 2)]
    return 0 if all(same) else 1


if __name__ == "__main__":
    sys.exit(main())
