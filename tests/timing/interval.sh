#!/usr/bin/env bash
# GOLAT_INTERVAL rewrites the report while the program runs: with GOLAT_INTERVAL=0.5 and
# GOLAT_OUTPUT=r.json, a program making calls for ~2 s (until the test tells it to stop)
# has a complete, parseable r.json at ~1.2 s, its calls have grown by ~1.9 s, and the
# final report has them all.
# Usage: interval.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
timing_setup interval "$1"
timing_build "$here/interval"

for bin in "${bins[@]}"; do
	run=$work/$bin
	GOLAT_FUNCS='main.tick' GOLAT_INTERVAL=0.5 GOLAT_OUTPUT=$run.json LD_PRELOAD=$GOLAT_LIB \
		"$work/$bin" "$run.stop" >"$run.out" 2>"$run.err" &
	pid=$!
	sleep 1.2
	# On a loaded machine the program may start late: give the first report 3 s more.
	if [[ ! -e $run.json ]] && wait_for "$run.json" 3; then
		echo "note: $bin: r.json appeared only after 1.2 s"
	fi
	first=$(check calls "$run.json" main.tick 2>&1) || first="none ($first)"
	cp "$run.json" "$run.1.json" 2>/dev/null || true
	sleep 0.7
	second=$(check calls "$run.json" main.tick 2>&1) || second="none ($second)"
	alive=no
	kill -0 $pid 2>/dev/null && alive=yes
	touch "$run.stop"
	status=0
	wait $pid || status=$?
	[[ $status == 0 ]] || bad "$bin: the program exited with $status: $(tail -3 "$run.err")"
	[[ $alive == yes ]] || bad "$bin: the program had ended before the second read: $(tail -3 "$run.err")"
	if [[ $first =~ ^[0-9]+$ && $second =~ ^[0-9]+$ ]] && ((first > 0 && second > first)); then
		ok "$bin: live r.json: main.tick calls $first at 1.2 s, $second at 1.9 s"
	else
		bad "$bin: live r.json: main.tick calls '$first' at 1.2 s, '$second' at 1.9 s: want a parseable report whose calls grow"
	fi
	final=$(check calls "$run.json" main.tick) || final=0
	want=$(sed -n 's/^calls //p' "$run.out")
	[[ $final == "$want" ]] || bad "$bin: final report: main.tick calls $final, the program counted $want"
	ls "$work"/*golat-tmp* 2>/dev/null && bad "$bin: a temporary report file was left behind"
done
finish
