#!/usr/bin/env python3
"""anon_check.py — what an anonymised capture must satisfy, checked from tshark's fields.

    anon_check.py absent ORIG FILE...   no address of ORIG (lines "kind value": "a4 192.0.2.1",
                                        "a6 2001:db8::1", "as 3356") appears in FILE's bytes: an
                                        address as its 4 or 16 bytes or as text, a 4-byte AS as
                                        its 4 bytes
    anon_check.py pairs PLAIN ANON      the same fields of the same packets, before and after:
                                        one image per address and per AS, every public AS field
                                        changed, and for every pair of addresses the common
                                        prefix length kept
Prints what fails; exits 1 when something does.
"""
import ipaddress
import struct
import sys


def load(path):
    out = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                out.append((parts[0], parts[1]))
    return out


def public_as(n):
    return 1 <= n <= 64495 and n != 23456 or 65552 <= n <= 4199999999


def common(a, b):
    x = int(a) ^ int(b)
    bits = a.max_prefixlen
    return bits - x.bit_length()


def absent(orig, files):
    bad = 0
    data = {f: open(f, "rb").read() for f in files}
    for kind, value in sorted(set(orig)):
        pats = []
        if kind in ("a4", "a6"):
            a = ipaddress.ip_address(value)
            if int(a) == 0:
                continue
            pats = [a.packed, str(a).encode()]
        elif kind == "as":
            # its 4 bytes; 2 would be found by chance in any file of some kilobytes ("pairs"
            # checks that every 2-byte AS field changed)
            n = int(value)
            pats = [struct.pack("!I", n)] if n > 0xffff else []
        for f, d in data.items():
            for p in pats:
                if p in d:
                    print(f"{kind} {value} is still in {f} (as {p!r})")
                    bad += 1
                    break
    return bad


def pairs(plain, anon):
    bad = 0
    if len(plain) != len(anon):
        print(f"{len(plain)} fields before, {len(anon)} after")
        return 1
    image = {}
    for (k1, v1), (k2, v2) in zip(plain, anon):
        if k1 != k2:
            print(f"field kinds differ: {k1} {k2}")
            return 1
        key = (k1, v1)
        if k1 == "as" and v1 == v2 and public_as(int(v1)):
            print(f"AS {v1} is still AS {v2}")
            bad += 1
        if image.setdefault(key, v2) != v2:
            print(f"{v1} maps to {image[key]} and to {v2}")
            bad += 1
    # 0.0.0.0 and :: stay (they name no one), outside the prefix-preserving map
    addrs = [(ipaddress.ip_address(v), ipaddress.ip_address(image[(k, v)])) for (k, v) in image
             if k in ("a4", "a6") and int(ipaddress.ip_address(v)) != 0]
    for i in range(len(addrs)):
        for j in range(i + 1, len(addrs)):
            (a, x), (b, y) = addrs[i], addrs[j]
            if a.version != b.version:
                continue
            if common(a, b) != common(x, y):
                print(f"{a} {b} share {common(a, b)} bits, their images {x} {y} {common(x, y)}")
                bad += 1
    print(f"{len(addrs)} addresses, {len(addrs) * (len(addrs) - 1) // 2} pairs checked")
    return bad


def main():
    if sys.argv[1] == "absent":
        bad = absent(load(sys.argv[2]), sys.argv[3:])
    elif sys.argv[1] == "pairs":
        bad = pairs(load(sys.argv[2]), load(sys.argv[3]))
    else:
        sys.exit("anon_check.py absent|pairs ...")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
