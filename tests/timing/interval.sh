#!/usr/bin/env bash
# GOLAT_INTERVAL rewrites the report while the program runs: with GOLAT_INTERVAL=0.5 and
# GOLAT_OUTPUT=r.json, a program making calls until the test tells it to stop has a
# complete, parseable r.json that counts calls, then a rewrite that counts more, and the
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
	# The first rewrite: a parseable r.json that counts calls (due 0.5 s after the start;
	# up to 10 s on a loaded machine). Then a later rewrite that counts more of them.
	calls_above() {
		local n
		n=$(check calls "$run.json" main.tick 2>/dev/null) && [[ $n =~ ^[0-9]+$ ]] && ((n > $1))
	}
	t0=$(date +%s%N)
	wait_until 10 calls_above 0 || true
	first=$(check calls "$run.json" main.tick 2>&1) || first="none ($first)"
	t1=$(date +%s%N)
	cp "$run.json" "$run.1.json" 2>/dev/null || true
	[[ $first =~ ^[0-9]+$ ]] && { wait_until 10 calls_above "$first" || true; }
	second=$(check calls "$run.json" main.tick 2>&1) || second="none ($second)"
	t2=$(date +%s%N)
	alive=no
	kill -0 $pid 2>/dev/null && alive=yes
	touch "$run.stop"
	status=0
	wait $pid || status=$?
	[[ $status == 0 ]] || bad "$bin: the program exited with $status: $(tail -3 "$run.err")"
	[[ $alive == yes ]] || bad "$bin: the program had ended before the second read: $(tail -3 "$run.err")"
	if [[ $first =~ ^[0-9]+$ && $second =~ ^[0-9]+$ ]] && ((first > 0 && second > first)); then
		ok "$bin: live r.json: main.tick calls $first at $(((t1 - t0) / 1000000)) ms, $second at $(((t2 - t0) / 1000000)) ms"
	else
		bad "$bin: live r.json: main.tick calls '$first', then '$second' (10 s allowed for each): want a parseable report whose calls grow"
	fi
	final=$(check calls "$run.json" main.tick) || final=0
	want=$(sed -n 's/^calls //p' "$run.out")
	[[ $final == "$want" ]] || bad "$bin: final report: main.tick calls $final, the program counted $want"
	ls "$work"/*golat-tmp* 2>/dev/null && bad "$bin: a temporary report file was left behind"
done
finish
