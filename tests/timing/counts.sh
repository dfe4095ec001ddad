#!/usr/bin/env bash
# Call counts are exact: a program calls hooked functions (leaf, Gosched mid-call,
# recursion, a frame large enough to grow the stack at entry, a method) a known number of
# times from 200 goroutines and counts them itself. For every function golat's JSON report
# has calls == the program's count and in_flight == 0; timed == calls, and with
# GOLAT_SAMPLE=10 the counts stay exact while timed is calls/10 give or take one per thread
# (sampling is 1 of every N entries per function on each thread).
# Usage: counts.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
timing_setup counts "$1"
timing_build "$here/counts"

for bin in "${bins[@]}"; do
	for sample in 1 10; do
		run=$work/$bin.s$sample
		if ! GOLAT_FUNCS='main.*' GOLAT_SAMPLE=$sample GOLAT_OUTPUT=$run.json LD_PRELOAD=$GOLAT_LIB \
			"$work/$bin" >"$run.out" 2>"$run.err"; then
			bad "$bin sample $sample: the program failed: $(tail -3 "$run.err")"
			continue
		fi
		echo "$bin, GOLAT_SAMPLE=$sample:"
		check counts "$run.json" "$run.out" "$sample" | sed 's/^/  /' ||
			bad "$bin sample $sample: counts differ (above)"
	done
done
finish
