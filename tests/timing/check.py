#!/usr/bin/env python3
"""JSON checks of the timing tests: golat's report (SPEC.md, "The report") against what the
test program measured itself. Each command prints one line per thing it compared, saying what
was expected and what was seen, and exits 1 if any comparison failed (2: unusable input).

  counts REPORT PROG SAMPLE   PROG = {"calls": {fn: n}, "panicked": {fn: n}, "threads": t}: for
                              every fn, calls == n, panicked == n (0 when not listed),
                              in_flight == 0, and timed == calls (SAMPLE 1) or within
                              [calls/SAMPLE - t, calls/SAMPLE + t] (1 in SAMPLE per fn per thread),
                              widened by panicked/SAMPLE each way (a sampled entry may panic)
  p50 REPORT FN LO_MS HI_MS   p50 of FN within [LO_MS, HI_MS]
  means REPORT PROG PCT       PROG = {fn: mean_ns measured by the program}: golat's mean_ns of
                              each fn within PCT % of it
  calls REPORT FN             prints FN's calls (exit 1 when the report has no FN)
  field REPORT FN KEY         prints FN's KEY
"""
import json
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"FAIL: {path}: not a JSON report: {e}")
        sys.exit(2)


def function(report, name):
    """The report's entry for name; None if missing. Names may repeat (ABI wrappers share
    their function's name): then the entry with the most calls."""
    found = [f for f in report.get("functions", []) if f.get("name") == name]
    if not found:
        return None
    return max(found, key=lambda f: f.get("calls", 0))


def need(report, name, path):
    f = function(report, name)
    if f is None:
        names = [g.get("name") for g in report.get("functions", [])]
        print(f"FAIL: {path}: no function {name} in the report (it has {names}; "
              f"skipped: {report.get('skipped')})")
        sys.exit(1)
    return f


def cmd_counts(rpath, ppath, sample):
    report, prog = load(rpath), load(ppath)
    sample = int(sample)
    threads = prog["threads"]
    failed = False
    for name, want in sorted(prog["calls"].items()):
        f = need(report, name, rpath)
        calls, timed, inflight = f["calls"], f["timed"], f["in_flight"]
        panicked, want_panicked = f["panicked"], prog.get("panicked", {}).get(name, 0)
        if sample == 1:
            lo = hi = calls
        else:
            # 1 in SAMPLE entries is timed; an entry a panic unwinds never returns.
            lo = max(0, (calls - want_panicked) / sample - threads)
            hi = (calls + want_panicked) / sample + threads
        good = calls == want and inflight == 0 and lo <= timed <= hi and panicked == want_panicked
        failed |= not good
        print(f"{'ok' if good else 'FAIL'}: {name}: calls {calls} (program counted {want}), "
              f"panicked {panicked} (program counted {want_panicked}), "
              f"in_flight {inflight} (want 0), timed {timed} (want {lo:g}..{hi:g}, "
              f"sample {sample}, {threads} threads)")
    return failed


def cmd_p50(rpath, name, lo, hi):
    report = load(rpath)
    f = need(report, name, rpath)
    p50 = f["p50_ns"] / 1e6
    good = float(lo) <= p50 <= float(hi)
    print(f"{'ok' if good else 'FAIL'}: {name}: p50 {p50:.3f} ms (want {lo}..{hi} ms), "
          f"p90 {f['p90_ns'] / 1e6:.3f} ms, max {f['max_ns'] / 1e6:.3f} ms, calls {f['calls']}")
    return not good


def cmd_means(rpath, ppath, pct):
    report, prog = load(rpath), load(ppath)
    failed = False
    for name, want in sorted(prog.items()):
        f = need(report, name, rpath)
        got = f["mean_ns"]
        diff = (got - want) / want * 100
        good = abs(diff) <= float(pct)
        failed |= not good
        print(f"{'ok' if good else 'FAIL'}: {name}: mean program {want / 1e6:.4f} ms, "
              f"golat {got / 1e6:.4f} ms, diff {diff:+.2f}% (want within {pct}%), "
              f"calls {f['calls']}")
    return failed


def cmd_field(rpath, name, key):
    print(need(load(rpath), name, rpath)[key])
    return False


def main(argv):
    cmds = {"counts": (cmd_counts, 3), "p50": (cmd_p50, 4), "means": (cmd_means, 3),
            "calls": (lambda r, n: cmd_field(r, n, "calls"), 2), "field": (cmd_field, 3)}
    if len(argv) < 2 or argv[1] not in cmds or len(argv) - 2 != cmds[argv[1]][1]:
        print(__doc__)
        return 2
    return 1 if cmds[argv[1]][0](*argv[2:]) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
