#!/usr/bin/env python3
"""coverage.py GOLAT BIN [--signals=...] [--min PCT]: of BIN's functions that return
with a ret, the share `golat list` finds patchable, leaving out (as issue 19 counts)
the runtime's (its package and the packages it calls from anywhere), assembly, the
functions that never return or end in a tail jump (no ret: their callee is hooked
instead), and the few of package syscall that run in the child between fork and exec
(no hook may run there: it shares the parent's memory, with no runtime). Prints
"coverage BIN: P/N = X%, ..." and the first refusals; exits 1 below --min."""
import json
import subprocess
import sys

EXCLUDED = ("runtime function", "package the runtime calls", "assembly function", "never returns",
            "only padding", "tail jump", "tail call", "between fork and exec")


def main():
    args = sys.argv[1:]
    minimum = None
    if "--min" in args:
        i = args.index("--min")
        minimum = float(args[i + 1])
        del args[i:i + 2]
    golat, binary, extra = args[0], args[1], args[2:]
    out = subprocess.run([golat, "list", "--json", *extra, binary], check=True, capture_output=True,
                         text=True).stdout
    total = ok = int3 = 0
    refused = []
    for f in json.loads(out):
        why = f.get("reason") or ""
        if not f["patchable"] and any(x in why for x in EXCLUDED):
            continue
        total += 1
        if f["patchable"]:
            ok += 1
            int3 += (f.get("returns") or {}).get("int3", 0)
        else:
            refused.append(f"{f['name']}: {why}")
    pct = 100.0 * ok / total if total else 100.0
    print(f"coverage {binary}: {ok}/{total} = {pct:.3f}%, returns through an int3: {int3}")
    for r in refused[:3]:
        print(f"  refused {r}", flush=True)
    if minimum is not None and pct < minimum:
        sys.exit(1)


main()
