#!/usr/bin/env bash
# Mean times are right for every kind of time a call spends: on CPU (~2 ms of arithmetic),
# parked in Go's scheduler (time.Sleep 5 ms), blocked in C through cgo (usleep 3 ms).
# The program times each call with time.Now around it; golat's mean_ns of each function
# must be within 5% of the program's mean.
# Usage: means.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
timing_setup means "$1"
timing_build "$here/means"

for bin in "${bins[@]}"; do
	run=$work/$bin
	if ! GOLAT_FUNCS='main.cpu,main.sleep,main.cgo' GOLAT_OUTPUT=$run.json LD_PRELOAD=$GOLAT_LIB \
		"$work/$bin" >"$run.out" 2>"$run.err"; then
		bad "$bin: the program failed: $(tail -3 "$run.err")"
		continue
	fi
	echo "$bin:"
	check means "$run.json" "$run.out" 5 | sed 's/^/  /' || bad "$bin: golat's means differ (above)"
	for fn in main.cpu main.sleep main.cgo; do
		calls=$(check calls "$run.json" $fn) || true
		[[ $calls == 150 ]] || bad "$bin: $fn: calls $calls, want 150"
	done
done
finish
