#!/usr/bin/env bash
# Attach and detach under load (torture/): a cgo program whose workers hammer six hooked
# functions, spinning and blocking, under a CPU profile, while its main goroutine hooks
# and unhooks them through golat_attach/golat_detach up to 2000 times (at most
# TORTURE_SECONDS, default 15). No crash, no hang; counts whole or not at all during
# the churn; in a final phase hooked throughout, exact counts, each call entered in it.
# The library is LD_PRELOADed with GOLAT_FUNCS unset: the program attaches itself.
# Usage: torture.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_TEST_WORK,
#        TORTURE_CYCLES, TORTURE_SECONDS)
set -uo pipefail
source "$(dirname "$0")/common.sh"
hook_setup torture "$1"

hook_build "$here/torture" "$work/exe"
secs=${TORTURE_SECONDS:-15}
refused=$("$GOLAT_CLI" list --json "$work/exe" 'main.t*' | python3 -c '
import json, sys
print(",".join(f["name"] for f in json.load(sys.stdin) if not f["patchable"]))')
[[ -z $refused ]] || echo "  refused by golat here: $refused"
rm -f "$work"/{out,err,report}
# The churn is bounded by the program; the final phase and the pauses take a few
# seconds more. A hang is a failure, not a CTest timeout.
env -u GOLAT_FUNCS GOLAT_OUTPUT="$work/report" TORTURE_SECONDS="$secs" TORTURE_REFUSED="$refused" \
	LD_PRELOAD="$GOLAT_LIB" \
	timeout -s QUIT -k 10 $((secs + 60)) "$work/exe" >"$work/out" 2>"$work/err"
rc=$?
echo "$gover:"
sed 's/^/  /' "$work/out"
if ((rc == 124 || rc == 131)); then
	bad "hung (killed after $((secs + 60)) s); goroutines:"
	grep -A3 '^goroutine ' "$work/err" | head -60
elif ((rc == 1)) && grep -q '^FAIL: ' "$work/out"; then
	fail=1 # the program's own checks, printed above
elif ((rc != 0)); then
	bad "exit status $rc:"
	grep -v -e '^golat: ' -e 'cannot set cpu profile rate' "$work/err" | head -40
elif ! grep -q '^torture: ok$' "$work/out"; then
	bad "the program did not finish its checks"
fi

((fail == 0)) && echo "hook torture $gover: all checks passed"
exit $fail
