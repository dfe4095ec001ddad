#!/usr/bin/env bash
# A million goroutines: N goroutines inside the hooked main.hold at once (each enters it and
# blocks until all N have entered), then one channel close lets them all return; then 1,000
# goroutines call the hooked main.after 100 times each, then 10,000 new goroutines call the
# hooked main.fresh once each (tests/scale/goroutines). N is 1,000,000 with the newest Go
# toolchain installed and 100,000 with the others (GOLAT_SCALE_GOROUTINES sets it).
#   - while all N are inside main.hold, `golat report STATS --json` shows in_flight == N;
#   - the final JSON report has, for each function, calls == the program's own count,
#     in_flight 0 and timed == calls, and "lost" 0;
#   - the program exits 0 with the counts it has without golat.
# Prints the VmRSS golat added with all N goroutines inside main.hold, and the times taken.
# Usage: goroutines.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
scale_setup goroutines "$1"
: "${GOLAT_CLI:?GOLAT_CLI must name the golat command}"
newest=$(printf '%s\n' /usr/lib/go-1.*/bin/go | sort -V | tail -n 1)
if [[ -n ${GOLAT_SCALE_GOROUTINES:-} ]]; then
	n=$GOLAT_SCALE_GOROUTINES why="GOLAT_SCALE_GOROUTINES"
elif [[ $go -ef $newest ]]; then
	n=1000000 why="the newest toolchain installed"
else
	n=100000 why="not the newest toolchain installed ($newest)"
fi
echo "$n goroutines ($gover: $why)"
build_goroutines
spec=main.hold,main.after,main.fresh

t=$SECONDS
run base "$work/goroutines" -n "$n" -measure "$work/base.m"
echo "without golat: $((SECONDS - t))s, exit status $(cat "$work/base.rc"); $(cat "$work/base.err")"
[[ $(cat "$work/base.rc") == 0 ]] || { echo "FAIL: the program fails without golat"; exit 1; }

# The hooked run, paused while all N are inside main.hold for a live report.
t=$SECONDS
rm -f "$work/pause.ready" "$work/pause.go"
env LD_PRELOAD="$GOLAT_LIB" GOLAT_FUNCS="$spec" GOLAT_STATS="$work/hooked.stats" \
	GOLAT_OUTPUT="$work/hooked.json" "$work/goroutines" -n "$n" -measure "$work/hooked.m" \
	-pause "$work/pause" >"$work/hooked.out" 2>"$work/hooked.err" &
pid=$!
while [[ ! -e $work/pause.ready ]] && kill -0 $pid 2>/dev/null && ((SECONDS - t < 400)); do
	sleep 0.1
done
if [[ -e $work/pause.ready ]]; then
	echo "hooked: all $n inside main.hold after $((SECONDS - t))s; live report:"
	if ! "$GOLAT_CLI" report "$work/hooked.stats" --json >"$work/live.json" 2>"$work/live.err"; then
		bad "golat report $work/hooked.stats --json failed: $(head -3 "$work/live.err")"
	elif ! check inflight "$work/live.json" main.hold "$n"; then
		bad "the live stats do not show all $n goroutines inside main.hold"
	fi
else
	bad "the hooked program never had all $n goroutines inside main.hold (after $((SECONDS - t))s)"
fi
touch "$work/pause.go"
rc=0
wait $pid || rc=$?
echo "with golat: $((SECONDS - t))s, exit status $rc; $(grep -v '^golat: ' "$work/hooked.err" | head -3)"
grep '^golat: ' "$work/hooked.err" | cut -c1-300 | sed 's/^/  /' || true

base_rss=$(check get "$work/base.m" rss_kb) hooked_rss=$(check get "$work/hooked.m" rss_kb)
echo "VmRSS with all $n inside main.hold: $base_rss KiB without golat, $hooked_rss KiB with;" \
	"added $(mib $(((hooked_rss - base_rss) * 1024))) MiB," \
	"$(((hooked_rss - base_rss) * 1024 / n)) bytes per goroutine"

if ((rc != 0)); then
	bad "the hooked program exited $rc: $(grep -v '^golat: ' "$work/hooked.err" | head -5)"
elif ! python3 -c 'import json, sys
a, b = (json.load(open(p))["calls"] for p in sys.argv[1:])
sys.exit(a != b)' "$work/base.out" "$work/hooked.out"; then
	bad "the program counted other calls with golat: $(cat "$work/hooked.out"), without: $(cat "$work/base.out")"
fi
echo "final report:"
if [[ ! -s $work/hooked.json ]]; then
	bad "no report in $work/hooked.json"
elif ! check exact "$work/hooked.json" "$work/hooked.out"; then
	bad "golat's counts are not the program's (above)"
fi
finish
