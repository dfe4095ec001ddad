#!/usr/bin/env python3
"""Checks golat's JSON report of a run of prog/ against the program's own counts.

  check.py REPORT.json PROG.out [MUST...]

PROG.out has a line `count NAME N` per function the program counts. For each one the
report lists (under "functions"), its calls must be N exactly; one it does not list
must be under "skipped" (golat said why) or have N == 0. Generic instantiations
(main.Max[int]) are looked up by their shape names (main.Max[go.shape.int], Go 1.21
on) or as the group every instantiation shares before (main.Max[...], whose calls add
up over the group). Each MUST must be hooked. Prints what it checked; exits 1 on a
mismatch, 2 when the report is missing or not JSON of the expected shape."""
import json
import re
import sys


def main():
    report, out, must = sys.argv[1], sys.argv[2], sys.argv[3:]
    try:
        r = json.load(open(report))
        fns, skips = r["functions"], r.get("skipped", [])
        calls, hooked = {}, set()
        for f in fns:
            calls[f["name"]] = calls.get(f["name"], 0) + int(f["calls"])
            hooked.add(f["name"])
        skipped = {s["name"]: s.get("reason", "") for s in skips if s.get("name")}
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"FAIL: {report}: no usable JSON report: {e!r}")
        sys.exit(2)
    ours = {}
    for line in open(out):
        p = line.split()
        if len(p) == 3 and p[0] == "count":
            ours[p[1]] = int(p[2])
    if not ours:
        print(f"FAIL: {out} has no count lines")
        sys.exit(1)
    bad, checked, notin, groups = [], 0, [], {}
    for name, n in sorted(ours.items()):
        shape = re.sub(r"\[(\w+)\]", r"[go.shape.\1]", name)
        cands = [name, shape, shape.replace("]", "_0]", 1)] if shape != name else [name]
        group = re.sub(r"\[\w+\]", "[...]", name) if shape != name else None
        found = next((c for c in cands if c in hooked), None)
        if found:
            checked += 1
            if calls[found] != n:
                bad.append(f"{found}: golat counted {calls[found]} calls, the program {n}")
        elif group and group in hooked:
            groups.setdefault(group, 0)
            groups[group] += n
        elif any(c in skipped for c in cands + ([group] if group else [])):
            notin.append(name)
        elif n:
            bad.append(f"{name}: called {n} times, neither in the report's functions nor skipped")
    for g, n in groups.items():
        checked += 1
        if calls[g] != n:
            bad.append(f"{g}: golat counted {calls[g]} calls, the program {n} over its instantiations")
    for m in must:
        if m not in hooked:
            bad.append(f"{m} was not hooked ({skipped.get(m, 'not in the report')})")
    print(f"  {checked} counted functions checked exactly, {len(notin)} skipped by golat"
          + (f": {' '.join(notin)}" if notin else ""))
    for b in bad:
        print(f"FAIL: {b}")
    sys.exit(1 if bad else 0)


main()
