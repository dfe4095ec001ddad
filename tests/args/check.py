#!/usr/bin/env python3
"""check.py EXPECT GOT MINOR: GOT (args_test --check output) must match EXPECT line for
line, "*" matching anything, lines of EXPECT prefixed "<1.N " or ">=1.N " kept only
when toolchain go1.MINOR is older, or not older, than 1.N. Prints the differences."""
import re
import sys


def wanted(path, minor):
    for line in open(path):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        m = re.match(r"(<|>=)1\.(\d+) (.*)", line)
        if m:
            older = minor < int(m.group(2))
            if older != (m.group(1) == "<"):
                continue
            line = m.group(3)
        yield line


def main():
    want = list(wanted(sys.argv[1], int(sys.argv[3])))
    got = [l.rstrip("\n") for l in open(sys.argv[2])]
    bad = 0
    for i in range(max(len(want), len(got))):
        w = want[i] if i < len(want) else "(nothing)"
        g = got[i] if i < len(got) else "(nothing)"
        pattern = "^" + ".*".join(re.escape(p) for p in w.split("*")) + "$"
        if not re.match(pattern, g):
            print("line %d: want %s\n         got  %s" % (i + 1, w, g))
            bad += 1
    print("%d of %d lines as expected" % (len(want) - bad if bad <= len(want) else 0, len(want)))
    sys.exit(1 if bad else 0)


main()
