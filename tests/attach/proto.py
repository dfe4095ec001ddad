#!/usr/bin/env python3
"""Talks the control protocol (lib/control/control.h) to process PID directly, the way a careless or
hostile client of the same user might: requests that are malformed, out of order, or too long.
Each must get an `error` line (or `ok` where the request is harmless), the process must keep
serving, and an attach that hooks nothing must leave no patch of golat's in the code.

  proto.py PID SOCKET
"""
import socket
import sys

pid, path = sys.argv[1], sys.argv[2]


def connect():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(20)
    s.connect(path)
    f = s.makefile("rw", newline="\n")
    hello = f.readline()
    if not hello.startswith("golat\tcontrol=1\tpid=" + pid + "\t"):
        sys.exit(f"FAIL: greeting {hello!r}")
    return s, f


def call(f, line):
    f.write(line + "\n")
    f.flush()
    records = []
    while True:
        x = f.readline()
        if not x:
            return records, None
        x = x.rstrip("\n")
        if x == "ok" or x.startswith("ok\t") or x.startswith("error\t"):
            return records, x
        records.append(x)


def key(final, name):
    for kv in final.split("\t")[1:]:
        k, _, v = kv.partition("=")
        if k == name:
            return v
    return None


problems = []
s, f = connect()
want = [
    ("detach\tmain.nothing", "ok"),   # before any attach: nothing to do
    ("end", "ok"),                    # no window: nothing to end
    ("attach", "error\tEINVAL"),
    ("attach\t", "error\tEINVAL"),
    ("attach\tmain.*\tsample=0", "error\tEINVAL"),
    ("attach\tmain.*\tsample=x", "error\tEINVAL"),
    ("attach\tmain.*\tbogus", "error\tEINVAL"),
    ("frobnicate", "error\tEINVAL"),
    ("", "error\tEINVAL"),
    ("attach\t[\twindow", "ok"),      # matches nothing: unmatched, nothing hooked
    ("attach\tmain.nosuch,!main.*", "ok"),
    ("end", "ok"),
    ("status", "ok"),
]
for line, expect in want:
    recs, final = call(f, line)
    if final is None or not final.startswith(expect):
        problems.append(f"{line[:40]!r}: {final!r}, want {expect}")
recs, final = call(f, "status")
if key(final, "patches") != "0" or key(final, "hooked") != "0":
    problems.append(f"after attaches that hook nothing: {final!r}, want hooked=0 patches=0")
# A line longer than 64 KiB: an error, then the connection closes.
f.write("x" * 70000 + "\n")
try:
    f.flush()
    last = f.readline()
except OSError as e:
    last = str(e)
if not last.startswith("error\tE2BIG"):
    problems.append(f"a 70000-byte line: {last!r}")
s.close()
# Half a request, then the client goes away; then a fresh client is served.
s2, f2 = connect()
f2.write("attach\tmain.(*svc).Serve")
f2.flush()
s2.close()
s3, f3 = connect()
recs, final = call(f3, "status")
if final is None or not final.startswith("ok"):
    problems.append(f"status after a client left mid-line: {final!r}")
s3.close()
for p in problems:
    print("FAIL:", p)
print(f"{len(want) + 3} malformed or odd requests answered, pid {pid} still serving" if not problems else "")
sys.exit(1 if problems else 0)
