#!/usr/bin/env bash
# arm64_plans_go1.N: the hook sites of every function of arm64 Go binaries built by one
# toolchain on this host (GOARCH=arm64 CGO_ENABLED=0): a pure Go program (plansprog/)
# and the toolchain's own gofmt. Of the functions that return, at least 99.9% must be
# fully patchable (entry and every RET), and every entry must relocate (plans.c).
# `golat list --totals --json` (GOLAT_CLI) plans them through the same lib/arch/arm64
# code: its functions, patchable and return counts must be plans.c's, its share of
# the returning functions at least 99.9% too.
# Usage: plans.sh /usr/lib/go-1.N/bin/go PLANS_TOOL   (env: GOLAT_TEST_WORK, GOLAT_CLI)
set -euo pipefail
go=$1
ver=$(basename "$(dirname "$(dirname "$go")")")
if [[ ! -x $go ]]; then
	echo "SKIP: ${ver#go-}: $go not installed"
	exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
work=${GOLAT_TEST_WORK:-${TMPDIR:-/tmp}/golat-testwork}/arm64_plans/$ver
mkdir -p "$work"
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=${GOFLAGS:--mod=mod} GOARCH=arm64 CGO_ENABLED=0
(cd "$here/plansprog" && "$go" build -o "$work/prog" .)
"$go" build -o "$work/gofmt" cmd/gofmt
"$2" --min 99.9 "$work/prog" "$work/gofmt" | tee "$work/plans.out"
for b in prog gofmt; do
	"${GOLAT_CLI:?GOLAT_CLI: the golat command}" list --totals --json "$work/$b" >"$work/$b.totals"
	python3 - "$work/$b" "$work/plans.out" "$work/$b.totals" <<'PY'
import json, re, sys
exe, plans, totals = sys.argv[1:]
out = open(plans).read()
# plans.c: "EXE (goV): N functions; ..." then "  returning with a ret: R, fully patchable F
# (S%); X return sites, Y patchable; ..."
m = re.search(re.escape(exe) + r" \(.*?\): (\d+) functions;.*\n  returning with a ret: (\d+), fully patchable"
              r" (\d+) \(.*?\); (\d+) return sites, (\d+) patchable", out)
if not m:
    sys.exit(f"FAIL: no line of {exe} in the output of plans")
funcs, returning, full, sites, sites_ok = map(int, m.groups())
t = json.load(open(totals))
r = t["returns"]
print(f"golat list {exe}: {t['functions']} functions, {t['patchable']} patchable, returns {r['returns']} (b {r['b']})")
fails = []
if t["arch"] != "arm64" or t["functions"] != funcs or t["patchable"] != full:
    fails.append(f"arch {t['arch']}, functions {t['functions']}, patchable {t['patchable']}; plans: {funcs}, {full}")
# list counts the returns of the patchable functions: every patchable site when all are.
if r["returns"] != r["b"] or (full == returning and r["returns"] != sites_ok) or r["returns"] > sites_ok:
    fails.append(f"returns {r}; plans: {sites} return sites, {sites_ok} patchable")
if t["with_int3"] or any(r[k] for k in ("jmp5", "hop", "steered", "int3", "whole")):
    fails.append(f"int3 or x86-64 return kinds on arm64: {t}")
share = 100.0 * t["patchable"] / returning if returning else 0
if share < 99.9:
    fails.append(f"share {share:.2f}% of the {returning} returning functions, want >= 99.9%")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
PY
done
