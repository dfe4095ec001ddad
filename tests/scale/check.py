#!/usr/bin/env python3
"""JSON checks of the scale tests: golat's report (SPEC.md, "The report") against what the
test program counted itself. Each command prints what it compared, what was expected and
what was seen, and exits 1 if a comparison failed (2: unusable input).

  exact REPORT PROG        PROG = {"calls": {fn: n}, ...}: for every fn, calls == n,
                           in_flight == 0 and timed == calls; and the report's "lost" is 0.
                           Many functions: prints a summary and the first mismatches.
  summary REPORT           prints how many functions the report has, their calls and "lost";
                           fails when REPORT is not a JSON report with a "functions" list
  inflight REPORT FN N     FN's in_flight == N (a live report: calls entered, not returned)
  get FILE KEY             prints FILE's top-level KEY (a JSON object; -1 when either is
                           missing)
"""
import json
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"FAIL: {path}: not JSON: {e}")
        sys.exit(2)


def by_name(report):
    """name -> entry; names may repeat (ABI wrappers share their function's name): the
    entry with the most calls."""
    out = {}
    for f in report.get("functions", []):
        n = f.get("name")
        if n not in out or f.get("calls", 0) > out[n].get("calls", 0):
            out[n] = f
    return out


def cmd_exact(rpath, ppath):
    report, prog = load(rpath), load(ppath)
    fns = by_name(report)
    want = prog["calls"]
    bad, total_want, total_got = [], 0, 0
    for name, n in sorted(want.items()):
        total_want += n
        f = fns.get(name)
        if f is None:
            bad.append(f"{name}: not in the report")
            continue
        calls, timed, inflight = f.get("calls"), f.get("timed"), f.get("in_flight")
        total_got += calls or 0
        if calls != n or inflight != 0 or timed != calls:
            bad.append(f"{name}: calls {calls} (program counted {n}), in_flight {inflight} "
                       f"(want 0), timed {timed} (want {calls})")
    lost = report.get("lost")
    if len(want) <= 4:
        for name, n in sorted(want.items()):
            f = fns.get(name, {})
            good = not any(b.startswith(name + ":") for b in bad)
            print(f"  {'ok' if good else 'FAIL'}: {name}: calls {f.get('calls')} (program counted "
                  f"{n}), in_flight {f.get('in_flight')} (want 0), timed {f.get('timed')}")
    print(f"  {'ok' if not bad and lost == 0 else 'FAIL'}: {len(want)} functions, "
          f"{len(want) - len(bad)} exact; calls {total_got} (program counted {total_want}); "
          f"lost {lost} (want 0)")
    if len(want) > 4:
        for b in bad[:5]:
            print(f"  FAIL: {b}")
        if len(bad) > 5:
            print(f"  ... and {len(bad) - 5} more")
    return bool(bad) or lost != 0


def cmd_summary(rpath):
    report = load(rpath)
    if not isinstance(report.get("functions"), list):
        print(f"FAIL: {rpath}: no \"functions\" list")
        return True
    fns = report["functions"]
    print(f"  report: {len(fns)} functions, {sum(f.get('calls', 0) for f in fns)} calls, "
          f"lost {report.get('lost')}")
    return False


def cmd_inflight(rpath, name, want):
    f = by_name(load(rpath)).get(name)
    if f is None:
        print(f"FAIL: {name}: not in the report")
        return True
    got = f.get("in_flight")
    good = got == int(want)
    print(f"  {'ok' if good else 'FAIL'}: {name}: in_flight {got} (want {want}), calls {f.get('calls')}")
    return not good


def cmd_get(path, key):
    try:
        with open(path) as f:
            print(json.load(f).get(key, -1))
    except (OSError, ValueError):
        print(-1)  # the program did not get as far as measuring
    return False


def main(argv):
    cmds = {"exact": (cmd_exact, 2), "summary": (cmd_summary, 1),
            "inflight": (cmd_inflight, 3), "get": (cmd_get, 2)}
    if len(argv) < 2 or argv[1] not in cmds or len(argv) - 2 != cmds[argv[1]][1]:
        print(__doc__)
        return 2
    return 1 if cmds[argv[1]][0](*argv[2:]) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
