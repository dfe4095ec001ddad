#!/usr/bin/env bash
# A goroutine switch between two hooked calls costs the fast path nothing: with 8
# goroutines taking turns on one thread, a Gosched between every two calls of a hooked
# function, the calls after a warm-up reach the recorder's C (its slow path) fewer than
# 5 times in 100 (the header's counter, added 64 at a time per thread), every call is
# counted, and none is lost. A cache of one goroutine per thread made every entry slow.
# Usage: switch.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -euo pipefail
# shellcheck source=../timing/common.sh
source "$(dirname "$0")/../timing/common.sh"
timing_setup fastpath-switch "$1"
here=$(cd "$(dirname "$0")" && pwd)
timing_build "$here/switch"
for bin in "${bins[@]}"; do
	run=$work/$bin
	# The program reads its own stats file: its name has the PID, which exec keeps.
	if ! sh -c 'exec env GOLAT_FUNCS=main.leaf GOLAT_OUTPUT="$1.json" LD_PRELOAD="$2" "$3" -stats "$4/golat-$$.stats"' \
		sh "$run" "$GOLAT_LIB" "$work/$bin" "$(dirname "$(stats_default 0)")" >"$run.out" 2>"$run.err"; then
		bad "$bin: the program failed: $(tail -3 "$run.err")"
		continue
	fi
	read -r _ calls _ slow <"$run.out"
	echo "$bin: $calls calls after the warm-up, $slow of them given to the slow path"
	# Before the cache of goroutines, every call after a switch was slow (~100%). A few
	# percent are the scheduler's doing, not the cache's: under other load the goroutines
	# change threads (a P handed to another M), and a thread new to a goroutine misses
	# once; CI saw 1.3% once (1024 of 80000), 0.3-0.5% otherwise.
	((slow * 20 < calls)) || bad "$bin: $slow of $calls calls took the slow path (want < 5%)"
	got=$(python3 "$here/../timing/check.py" calls "$run.json" main.leaf) || true
	[[ $got == $((calls + 800)) ]] || bad "$bin: main.leaf: calls $got, want $((calls + 800))"
	lost=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["lost"])' "$run.json")
	[[ $lost == 0 ]] || bad "$bin: $lost calls lost"
done
area=fastpath-switch
finish
