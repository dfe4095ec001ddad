#!/usr/bin/env bash
# Many threads: 1,100 threads (goroutines each locked to an OS thread of its own, all alive
# at once) call each of 100 hooked functions 10 times; then they end and 1,100 new threads
# do the same: three waves, 3,300 threads in all, 2,200 of them ended while the program
# runs. Nothing may break: the program's stdout, stderr and exit status (3) are as without
# golat; for every function calls == the program's count, in_flight 0, timed == calls;
# "lost" 0; no "golat: ... cannot reserve" line (the stats file is in /dev/shm as by
# default, else $TMPDIR). The pages of threads that ended go to the next ones: the stats
# file holds about one wave's cells (1,100 threads x 7 pages of 4 KiB, 30 MiB), not
# three: at most 45 MiB. Prints the RSS golat added. GOLAT_SCALE_THREADS changes the 1,100.
# Usage: threads.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
scale_setup threads "$1"
funcs=100 threads=${GOLAT_SCALE_THREADS:-1100} rounds=10 waves=3
build_many $funcs

shm=/dev/shm
[[ -d $shm && -w $shm ]] || shm=${TMPDIR:-/tmp}
stats=$(mktemp -d "$shm/golat-scale-threads.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$stats"' EXIT
trap 'exit 143' TERM INT

args=(-funcs "$funcs" -threads "$threads" -rounds "$rounds" -waves "$waves" -exit 3)
t=$SECONDS
run base "$work/many" "${args[@]}" -measure "$work/base.m"
echo "unhooked: $((SECONDS - t))s, VmRSS $(check get "$work/base.m" rss_kb) KiB," \
	"$(check get "$work/base.m" distinct_threads) distinct worker threads," \
	"$(check get "$work/base.m" threads_now) threads in the process"
t=$SECONDS
run hooked env LD_PRELOAD="$GOLAT_LIB" GOLAT_FUNCS="$(spec_funcs $funcs)" GOLAT_STATS="$stats/golat.stats" \
	GOLAT_OUTPUT="$work/hooked.json" "$work/many" "${args[@]}" -measure "$work/hooked.m"
rss=$(($(check get "$work/hooked.m" rss_kb) - $(check get "$work/base.m" rss_kb)))
echo "hooked: $((SECONDS - t))s, VmRSS $(check get "$work/hooked.m" rss_kb) KiB ($(mib $((rss * 1024))) MiB added)," \
	"stats file allocated $(mib "$(check get "$work/hooked.m" stats_alloc)") MiB while running," \
	"$(mib "$(allocated "$stats/golat.stats")") MiB after exit"

alloc=$(allocated "$stats/golat.stats")
limit=$((45 * 1024 * 1024 * threads / 1100))
((alloc <= limit)) || bad "stats file allocated $(mib "$alloc") MiB: more than $(mib $limit) MiB (one wave's cells and half again)"
distinct=$(check get "$work/base.m" distinct_threads)
((distinct == threads)) || bad "the program ran its $threads workers on $distinct distinct threads"
same_as base hooked
n=$(reserve_lines hooked)
((n == 0)) || bad "golat said it cannot reserve space ($n lines): $(grep -im1 'cannot reserve' "$work/hooked.err")"
echo "counts ($funcs functions x $threads threads x $rounds rounds x $waves waves):"
if [[ ! -s $work/hooked.json ]]; then
	bad "no report in $work/hooked.json"
elif ! check exact "$work/hooked.json" "$work/hooked.out"; then
	bad "golat's counts are not the program's (above)"
fi
finish
