#!/usr/bin/env bash
# Goroutines that come and go, change threads (GOMAXPROCS 8 on any machine) and nest
# hooked calls four deep, with 2,000 more inside a hooked call all along
# (tests/fastpath/churn): each thread's cache of goroutines keeps entries whose slots
# other threads took over and gave back, while new goroutines on reused g structs claim
# the table's keys again. Giving such a stale entry back once took another goroutine's
# key and freed a slot in use; two goroutines then recorded into one slot and the
# program died of a fault in golat's code ("unexpected return pc for runtime.sigpanic",
# 5 runs in 5 here). Checks, over -runs runs (3 unless GOLAT_CHURN_RUNS says):
#   - the program exits 0 with the counts it has without golat;
#   - every hooked function's calls are the program's count, none in flight, none
#     abandoned (no panic unwinds a hooked call here), and none lost.
# Usage: churn.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -euo pipefail
# shellcheck source=../timing/common.sh
source "$(dirname "$0")/../timing/common.sh"
timing_setup fastpath-churn "$1"
here=$(cd "$(dirname "$0")" && pwd)
: "${GOLAT_LIB:?GOLAT_LIB must name libgolat.so}"
(cd "$here/churn" && "$go" build -o "$work/churn" .) || { echo "FAIL: $gover cannot build $here/churn"; exit 1; }
fns=main.outer,main.mid,main.inner,main.leaf,main.hold
runs=${GOLAT_CHURN_RUNS:-3}
"$work/churn" >"$work/base.out" || { echo "FAIL: the program fails without golat"; exit 1; }
for i in $(seq 1 "$runs"); do
	run=$work/run$i rc=0
	env GOLAT_FUNCS=$fns GOLAT_STATS="$run.stats" GOLAT_OUTPUT="$run.json" LD_PRELOAD="$GOLAT_LIB" \
		"$work/churn" >"$run.out" 2>"$run.err" || rc=$?
	rm -f "$run.stats"
	if ((rc != 0)); then
		bad "run $i: the program exited $rc: $(grep -v '^golat: ' "$run.err" | head -3)"
		continue
	fi
	cmp -s "$work/base.out" "$run.out" || bad "run $i: the program counted $(cat "$run.out") with golat, $(cat "$work/base.out") without"
	echo "run $i:"
	python3 "$here/../scale/check.py" exact "$run.json" "$run.out" || bad "run $i: golat's counts are not the program's"
	panicked=$(python3 -c 'import json, sys
print(sum(f.get("panicked", 0) for f in json.load(open(sys.argv[1]))["functions"]))' "$run.json")
	[[ $panicked == 0 ]] || bad "run $i: $panicked calls counted as abandoned (no panic unwinds one)"
done
area=fastpath-churn
finish
