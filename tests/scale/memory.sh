#!/usr/bin/env bash
# Memory at scale: 1,000 hooked functions (generated, tests/scale/genfuncs.py), each called
# 10 times from each of 64 threads (goroutines locked to an OS thread of their own), with
# the live stats file in /dev/shm as by default (else $TMPDIR). golat must:
#   - allocate at most 32 MiB to the stats file (st_blocks * 512): measured by the program
#     while it runs (all calls made, every thread still alive) and after it exits
#     (GOLAT_STATS keeps the file);
#   - add at most 48 MiB of RSS: the program's VmRSS at that same point, hooked minus
#     unhooked (median of 3 runs each, alternated);
#   - record everything: for every function calls == the program's count, in_flight 0,
#     timed == calls; "lost" 0; no "golat: ... cannot reserve" line;
#   - leave the program's stdout, stderr and exit status (3) as they are without golat.
# GOLAT_SCALE_RUNS changes the 3 runs each: CTest gives all but the newest toolchain 1, the
# same bounds on one pair of runs (the median of 3 steadies the RSS against noise; the
# toolchain's runtime and golat's stats file are the same in each run).
# Usage: memory.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
scale_setup memory "$1"
funcs=1000 threads=64 rounds=10 runs=${GOLAT_SCALE_RUNS:-3}
max_stats=$((32 << 20)) max_rss=$((48 << 20))
build_many $funcs
echo "built: $funcs functions in $((SECONDS - started))s"

shm=/dev/shm
[[ -d $shm && -w $shm ]] || shm=${TMPDIR:-/tmp}
stats=$(mktemp -d "$shm/golat-scale-memory.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$stats"' EXIT
trap 'exit 143' TERM INT

args=(-funcs "$funcs" -threads "$threads" -rounds "$rounds" -exit 3)
spec=$(spec_funcs $funcs)
base_rss=() hooked_rss=()
for ((i = 1; i <= runs; i++)); do
	run base$i "$work/many" "${args[@]}" -measure "$work/base$i.m"
	t=$SECONDS
	run hooked$i env LD_PRELOAD="$GOLAT_LIB" GOLAT_FUNCS="$spec" GOLAT_STATS="$stats/run$i.stats" \
		GOLAT_OUTPUT="$work/hooked$i.json" "$work/many" "${args[@]}" -measure "$work/hooked$i.m"
	base_rss+=("$(check get "$work/base$i.m" rss_kb)")
	hooked_rss+=("$(check get "$work/hooked$i.m" rss_kb)")
	running=$(check get "$work/hooked$i.m" stats_alloc)
	after=$(allocated "$stats/run$i.stats")
	echo "run $i: hooked in $((SECONDS - t))s; VmRSS ${base_rss[-1]} KiB unhooked, ${hooked_rss[-1]} KiB hooked;" \
		"stats file allocated $(mib "$running") MiB while running, $(mib "$after") MiB after exit;" \
		"$(check get "$work/hooked$i.m" distinct_threads) distinct worker threads"
	same_as base$i hooked$i
	n=$(reserve_lines hooked$i)
	((n == 0)) || bad "run $i: golat said it cannot reserve space ($n lines) with the stats in $shm: $(grep -im1 'cannot reserve' "$work/hooked$i.err")"
	if ((running < 0 || after < 0)); then
		bad "run $i: no stats file to measure in $stats (while running: $running, after: $after)"
	elif ((running > max_stats || after > max_stats)); then
		bad "run $i: stats file allocated $(mib "$running") MiB while running, $(mib "$after") MiB after exit (want <= $(mib $max_stats) MiB)"
	else
		ok "run $i: stats file allocated $(mib "$running") MiB while running, $(mib "$after") MiB after exit (want <= $(mib $max_stats) MiB)"
	fi
	rm -f "$stats/run$i.stats"
done

# The base runs' own measure: every worker on a thread of its own.
distinct=$(check get "$work/base1.m" distinct_threads)
((distinct == threads)) || bad "the program ran its $threads workers on $distinct distinct threads"

added=$((($(median "${hooked_rss[@]}") - $(median "${base_rss[@]}")) * 1024))
if ((hooked_rss[0] < 0)); then
	bad "the hooked program did not measure its RSS"
elif ((added > max_rss)); then
	bad "RSS added $(mib $added) MiB (median of $runs: hooked ${hooked_rss[*]} KiB, unhooked ${base_rss[*]} KiB; want <= $(mib $max_rss) MiB)"
else
	ok "RSS added $(mib $added) MiB (median of $runs: hooked ${hooked_rss[*]} KiB, unhooked ${base_rss[*]} KiB; want <= $(mib $max_rss) MiB)"
fi

echo "counts ($funcs functions x $threads threads x $rounds rounds):"
if [[ ! -s $work/hooked1.json ]]; then
	bad "no report in $work/hooked1.json"
elif ! check exact "$work/hooked1.json" "$work/hooked1.out"; then
	bad "golat's counts are not the program's (above)"
fi
finish
