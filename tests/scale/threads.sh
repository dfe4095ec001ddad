#!/usr/bin/env bash
# Many threads: 1,100 threads (goroutines each locked to an OS thread of its own, all alive
# at once) call each of 100 hooked functions 10 times; then they end and 1,100 new threads
# do the same: three waves, 3,300 threads in all, 2,200 of them ended while the program
# runs. Twice: built with cgo and libgolat.so preloaded, and built with CGO_ENABLED=0 under
# golat run (golat-agent.so, which learns of a thread's end from the kernel). Nothing may
# break: the program's stdout, stderr and exit status (3) are as without golat; for every
# function calls == the program's count, in_flight 0, timed == calls; "lost" 0; no
# "golat: ... cannot reserve" line (the stats file is in /dev/shm as by default, else
# $TMPDIR). The pages of threads that ended go to the next ones: the stats file holds about
# one wave's cells (1,100 threads x 7 pages of 4 KiB, 30 MiB), not three: at most 45 MiB.
# Prints the RSS golat added. GOLAT_SCALE_THREADS changes the 1,100, GOLAT_SCALE_WAVES the
# three waves: CTest gives all but the newest toolchain 2, which still ends 1,100 threads
# under the toolchain's own thread exit and hands their pages to the next 1,100 (the third
# wave repeats that reuse in golat's own code).
# Usage: threads.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
scale_setup threads "$1"
funcs=100 threads=${GOLAT_SCALE_THREADS:-1100} rounds=10 waves=${GOLAT_SCALE_WAVES:-3}
build_many $funcs static

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
# hooked NAME CMD...: runs the hooked program with its stats file in $stats/NAME.stats
# and its report in $work/NAME.json, and checks it against the unhooked run.
hooked() {
	local name=$1 t=$SECONDS
	shift
	run "$name" env GOLAT_STATS="$stats/$name.stats" GOLAT_OUTPUT="$work/$name.json" "$@" \
		"${args[@]}" -measure "$work/$name.m"
	local rss=$(($(check get "$work/$name.m" rss_kb) - $(check get "$work/base.m" rss_kb)))
	local alloc limit n
	alloc=$(allocated "$stats/$name.stats")
	echo "$name: $((SECONDS - t))s, VmRSS $(check get "$work/$name.m" rss_kb) KiB ($(mib $((rss * 1024))) MiB added)," \
		"stats file allocated $(mib "$(check get "$work/$name.m" stats_alloc)") MiB while running," \
		"$(mib "$alloc") MiB after exit"
	limit=$((45 * 1024 * 1024 * threads / 1100))
	((alloc <= limit)) || bad "$name: stats file allocated $(mib "$alloc") MiB: more than $(mib $limit) MiB (one wave's cells and half again)"
	same_as base "$name"
	n=$(reserve_lines "$name")
	((n == 0)) || bad "$name: golat said it cannot reserve space ($n lines): $(grep -im1 'cannot reserve' "$work/$name.err")"
	echo "$name counts ($funcs functions x $threads threads x $rounds rounds x $waves waves):"
	if [[ ! -s $work/$name.json ]]; then
		bad "$name: no report in $work/$name.json"
	elif ! check exact "$work/$name.json" "$work/$name.out"; then
		bad "$name: golat's counts are not the program's (above)"
	fi
}
distinct=$(check get "$work/base.m" distinct_threads)
((distinct == threads)) || bad "the program ran its $threads workers on $distinct distinct threads"
hooked preloaded env LD_PRELOAD="$GOLAT_LIB" GOLAT_FUNCS="$(spec_funcs $funcs)" "$work/many"
hooked static "$GOLAT_CLI" run -f "$(spec_funcs $funcs)" -- "$work/many-static"
finish
