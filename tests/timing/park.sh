#!/usr/bin/env bash
# Parked time is measured: 2000 goroutines released together each sleep 20 ms inside one
# hooked function, so that the call spans a park, other goroutines running on its thread
# meanwhile, and a wake-up on any thread. golat's p50 must be in [20, 22.5] ms.
# Usage: park.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
timing_setup park "$1"
timing_build "$here/park"

# The machine is shared: when others load it, the wake-ups of 2000 goroutines queue up
# and the program itself sees a p50 above 22.5 ms. Up to 3 attempts; the lower bound and
# the call count must hold on every one.
for bin in "${bins[@]}"; do
	for attempt in 1 2 3; do
		run=$work/$bin.$attempt
		if ! GOLAT_FUNCS='main.park' GOLAT_OUTPUT=$run.json LD_PRELOAD=$GOLAT_LIB "$work/$bin" \
			>"$run.out" 2>"$run.err"; then
			bad "$bin: the program failed: $(tail -3 "$run.err")"
			break
		fi
		echo "$bin, attempt $attempt: $(cat "$run.out")"
		calls=$(check calls "$run.json" main.park) || true
		[[ $calls == 2000 ]] || bad "$bin: main.park: calls $calls, want 2000"
		p50=$(check field "$run.json" main.park p50_ns) || true
		if [[ $p50 =~ ^[0-9]+$ ]] && ((p50 < 20000000)); then
			bad "$bin: main.park: p50 $p50 ns is below the 20 ms every call sleeps"
		fi
		if check p50 "$run.json" main.park 20 22.5 | sed 's/^/  /'; then
			break
		fi
		((attempt < 3)) || bad "$bin: p50 of main.park out of [20, 22.5] ms 3 times"
	done
done
finish
