#!/usr/bin/env python3
"""Checks a report of the demo stats file (tests/report/fixture.c) in one format.

usage: check.py json|prom|text FILE [--skipped]

json: parses, has exactly SPEC.md's keys with the right types, histogram counts sum
      to timed, bounds ascend, and main.handle's numbers are exact.
prom: every line matches the text exposition grammar (format 0.0.4), each metric
      has HELP and TYPE before its samples, histograms are cumulative and end at +Inf
      equal to _count.
text: the header line and main.handle's block (with its callers and slowest call).
"""
import json
import re
import sys

# SPEC.md's keys, plus golat's additions: "lost" (calls let through unrecorded),
# "unbinned" (timed calls no histogram could take), "stats_full" (space ran out) and
# "threads" (threads that recorded) and "traps" (returns taken through an int3, a signal each).
TOP_KEYS = {"version", "pid", "exe", "go_version", "elapsed_ns", "tsc_hz", "lost", "unbinned",
            "stats_full", "threads", "traps", "functions", "skipped"}
FN_KEYS = {"name", "entry", "calls", "timed", "in_flight", "panicked", "total_ns", "min_ns", "max_ns",
           "mean_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "histogram", "self_ns", "callers",
           "slowest"}
errors = []


def need(cond, msg):
    if not cond:
        errors.append(msg)


def check_json(text, skipped):
    doc = json.loads(text)
    need(set(doc) == TOP_KEYS, f"top-level keys {sorted(doc)}")
    need(doc["version"] == 1 and doc["pid"] == 999999999, "version/pid")
    need(doc["elapsed_ns"] == 12800000000 and doc["tsc_hz"] == 2000000000, "elapsed/tsc_hz")
    names = [f["name"] for f in doc["functions"]]
    need(names == ["main.handle", "main.fast", 'main."odd"\\name\n', "main.stuck"], f"order {names}")
    for f in doc["functions"]:
        need(set(f) == FN_KEYS, f"{f['name']}: keys {sorted(f)}")
        need(re.fullmatch(r"0x[0-9a-f]+", f["entry"]) is not None, f"entry {f['entry']}")
        for k in FN_KEYS - {"name", "entry", "histogram", "callers", "slowest"}:
            need(isinstance(f[k], int) and f[k] >= 0, f"{f['name']}.{k} = {f[k]!r}")
        les = [b["le_ns"] for b in f["histogram"]]
        need(les == sorted(set(les)), f"{f['name']}: bounds not ascending")
        need(all(b["count"] > 0 for b in f["histogram"]), f"{f['name']}: empty bucket listed")
        need(sum(b["count"] for b in f["histogram"]) == f["timed"], f"{f['name']}: histogram != timed")
        need(sum(c["calls"] for c in f["callers"]) == f["calls"], f"{f['name']}: callers do not add up to calls")
        need(f["self_ns"] <= f["total_ns"] + 1, f"{f['name']}: self above total")
        need(f["min_ns"] <= f["p50_ns"] <= f["p90_ns"] <= f["p99_ns"] <= f["p999_ns"] <= f["max_ns"],
             f"{f['name']}: percentiles out of order")
    h = doc["functions"][0]
    for k, v in {"entry": "0x6f3a20", "calls": 1000, "timed": 1000, "in_flight": 2, "panicked": 1,
                 "total_ns": 1000000000, "mean_ns": 1000000, "p50_ns": 1000000,
                 "p999_ns": 1000000}.items():
        need(h[k] == v, f"main.handle {k} = {h[k]}, want {v}")
    if skipped:
        need(doc["skipped"][0] == {"spec": "main.tiny", "name": "main.tiny",
                                   "reason": "return at +0x9 has no 5-byte window"},
             f"skipped {doc['skipped']}")
    else:
        need(doc["skipped"] == [], "the CLI has no skipped list")


NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
VALUE = r"[-+]?(?:[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?|Inf|NaN)"
SAMPLE = re.compile(rf"({NAME})(?:\{{(?:{LABEL}(?:,{LABEL})*,?)?\}})? ({VALUE})(?: -?[0-9]+)?")
LE = re.compile(r'(.*),le="([^"]*)"\}')


def check_prom(text):
    need(text.endswith("\n"), "no final newline")
    typed, helped = {}, set()
    series = {}
    for n, line in enumerate(text.rstrip("\n").split("\n"), 1):
        if line.startswith("# HELP "):
            helped.add(line.split(" ")[2])
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            need(len(parts) == 4 and parts[3] in ("counter", "gauge", "histogram", "summary", "untyped"),
                 f"line {n}: {line}")
            need(parts[2] not in typed, f"line {n}: second TYPE for {parts[2]}")
            typed[parts[2]] = parts[3]
            continue
        m = SAMPLE.fullmatch(line)
        need(m is not None, f"line {n} does not match the grammar: {line!r}")
        if not m:
            continue
        name = m.group(1)
        base = re.sub(r"_(bucket|sum|count)$", "", name) if name not in typed else name
        need(base in typed and base in helped, f"line {n}: {name} before its HELP/TYPE")
        if name.endswith("_bucket"):
            lm = LE.match(line)
            series.setdefault(lm.group(1), []).append((lm.group(2), float(m.group(2))))
        elif name.endswith("_count"):
            series.setdefault(line.split("}")[0].replace("_count{", "_bucket{"), []).append(
                ("count", float(m.group(2))))
    need(typed.get("golat_calls_total") == "counter" and typed.get("golat_in_flight") == "gauge"
         and typed.get("golat_panicked_total") == "counter"
         and typed.get("golat_duration_seconds") == "histogram", f"types {typed}")
    need(len(series) == 4, f"{len(series)} histograms, want 4")
    for key, pts in series.items():
        buckets = [(le, v) for le, v in pts if le != "count"]
        count = [v for le, v in pts if le == "count"]
        need(buckets[-1][0] == "+Inf" and count == [buckets[-1][1]], f"{key}: +Inf != _count")
        les = [float(le) for le, _ in buckets[:-1]]
        need(les == sorted(les) and len(set(les)) == len(les), f"{key}: le not ascending")
        vals = [v for _, v in buckets]
        need(vals == sorted(vals), f"{key}: buckets not cumulative")
    need('golat_calls_total{function="main.handle"} 1000\n' in text, "main.handle calls")


def check_text(text, skipped):
    lines = text.split("\n")
    need(lines[0] == "golat: pid 999999999 ./service (go1.22.12) 12.8 s, TSC 2.00 GHz", f"header {lines[0]!r}")
    need(lines[1].startswith("main.handle   calls 1000  in flight 2  panicked 1  mean 1.00ms  p50 1.00ms"), lines[1])
    need(lines[1].endswith("  total 1.00s  self 1.00s"), lines[1])
    need(lines[2] == "  callers 0x100 500 (500ms), 0x200 300 (300ms), 0x300 200 (200ms)", lines[2])
    need(lines[3] == "  slow 1.00ms  at 11:06:41.000000Z  goroutine 7  from 0x100  args 0x2a  results 0x1",
         lines[3])
    need(lines[4] == "          ns            : count    distribution", lines[4])
    need(re.fullmatch(r"  \[512K, 1M\) +: 1000     \|@{40}\|", lines[5]) is not None, lines[5])
    need(("skipped main.tiny: return at +0x9 has no 5-byte window" in lines) == skipped, "skipped")


def main():
    fmt, path = sys.argv[1], sys.argv[2]
    skipped = "--skipped" in sys.argv
    text = open(path, encoding="utf-8").read()
    {"json": lambda: check_json(text, skipped), "prom": lambda: check_prom(text),
     "text": lambda: check_text(text, skipped)}[fmt]()
    for e in errors:
        print(f"FAIL {path}: {e}")
    print(f"{path}: {fmt} {'FAILED' if errors else 'ok'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
