#!/usr/bin/env python3
"""Checks a golat JSON report of tests/answers/prog against what the program knows.

Usage: check.py REPORT.json PROGRAM.out SLOWEST [dwarf]
Prints what it saw; exits 1 on a mismatch. SLOWEST: the GOLAT_SLOWEST of the run.
With "dwarf", the string argument of main.greet must come with its text."""
import json
import sys

report, out, slowest = sys.argv[1], sys.argv[2], int(sys.argv[3])
dwarf = len(sys.argv) > 4 and sys.argv[4] == "dwarf"
fns = {f["name"]: f for f in json.load(open(report))["functions"]}
said = dict(line.split() for line in open(out) if line.strip())
start, end = int(said["start_ns"]), int(said["end_ns"])
bad = []


def want(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        bad.append(what)


def callers(name):
    return {c["name"]: c for c in fns[name]["callers"]}


# Callers: 16 calls from main.callerA, 1 from main.callerB, adding up to calls.
leaf = fns["main.leaf"]
c = callers("main.leaf")
got = {k: v["calls"] for k, v in c.items()}
want(got == {"main.callerA": 16, "main.callerB": 1}, f"main.leaf callers {got}")
want(sum(got.values()) == leaf["calls"] == 17, f"main.leaf callers add up to calls {leaf['calls']}")
want(sum(v["total_ns"] for v in c.values()) <= leaf["total_ns"] + 2, "main.leaf callers' time within its total")

# Self time: main.parent's self plus its hooked children's time from it is its total.
p = fns["main.parent"]
kids = callers("main.child").get("main.parent", {"total_ns": 0, "calls": 0})
both = p["self_ns"] + kids["total_ns"]
want(kids["calls"] == 20 and fns["main.child"]["calls"] == 20, f"main.child called 20 times from main.parent ({kids['calls']})")
want(abs(both - p["total_ns"]) <= 0.05 * p["total_ns"],
     f"main.parent self {p['self_ns']} + children {kids['total_ns']} = {both}, total {p['total_ns']} (within 5%)")
want(p["self_ns"] >= 10 * 2e6 * 0.95, f"main.parent self {p['self_ns']} ns >= its 20 ms of spinning")
want(kids["total_ns"] >= 10 * 5e6 * 0.95, f"main.child from main.parent {kids['total_ns']} ns >= 50 ms")
for name in ("main.child", "main.nap", "main.leaf"):
    f = fns[name]
    want(f["self_ns"] == f["total_ns"], f"{name} calls nothing hooked: self {f['self_ns']} == total {f['total_ns']}")

# The slowest calls.
nap = fns["main.nap"]["slowest"]
want(len(nap) == min(slowest, 11), f"main.nap keeps {len(nap)} slowest calls (GOLAT_SLOWEST={slowest}, 11 calls)")
want([s["ns"] for s in nap] == sorted((s["ns"] for s in nap), reverse=True), "slowest first")
if slowest:
    top = nap[0]
    want(top["args"][0]["value"] == 150 and top["results"][0]["value"] == 300,
         f"main.nap's slowest call took argument {top['args'][0]['value']} (want 150) and returned "
         f"{top['results'][0]['value']} (want 300)")
    want(top["ns"] >= 150e6, f"it took {top['ns']} ns >= 150 ms")
    want(top["caller"] == "main.main", f"its caller {top['caller']}")
    want(start - 50e6 <= top["at_ns"] <= end + 50e6, f"it began at {top['at_ns']}, inside the run [{start}, {end}]")
    want(top["goid"] >= 1, f"its goroutine {top['goid']}")
    want(len(top["args"]) == 9 and len(top["results"]) == 9, "9 argument and 9 result registers")
    g = fns["main.greet"]["slowest"][0]
    want(g["args"][1]["value"] == 23, f"main.greet's slowest call had a 23-byte string ({g['args'][1]['value']})")
    if dwarf:
        want(g["args"][0].get("text") == "a long name to wait for", f"its text {g['args'][0].get('text')!r}")
        want((g["args"][0].get("name"), g["args"][0].get("type"), g["args"][2].get("name")) == ("who", "string", "pad"),
             f"main.greet's arguments named {g['args'][0].get('name')}, {g['args'][2].get('name')}")
        want((top["args"][0].get("name"), top["args"][0].get("type"), top["args"][0].get("text")) == ("ms", "int", "150"),
             f"main.nap's argument {top['args'][0]}")
        want(top["results"][0].get("type") == "int" and top["results"][0].get("text") == "300",
             f"main.nap's result {top['results'][0]}")
    else:
        want(all(set(a) == {"value"} for a in top["args"] + top["results"]), "stripped: raw registers only")
sys.exit(1 if bad else 0)
