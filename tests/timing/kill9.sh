#!/usr/bin/env bash
# Nothing recorded is lost when the program is killed: a program runs hooked calls
# forever and writes how many returned every 100 ms; after 20,000 it gets SIGKILL (no
# exit path runs). `golat report STATS --json` on its stats file (GOLAT_STATS) shows at
# least the last count it wrote, and the same file renders as text.
# Usage: kill9.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
timing_setup kill9 "$1"
timing_build "$here/kill9"

count_at_least() {
	local n
	n=$(cat "$1" 2>/dev/null) || return 1
	[[ $n =~ ^[0-9]+$ ]] && ((n >= $2))
}

for bin in "${bins[@]}"; do
	run=$work/$bin
	GOLAT_FUNCS='main.work' GOLAT_STATS=$run.stats LD_PRELOAD=$GOLAT_LIB \
		"$work/$bin" "$run.count" >"$run.out" 2>"$run.err" &
	pid=$!
	wait_for "$run.count" 10 || bad "$bin: the program wrote no count in 10 s"
	# Killed once its goroutines have returned 20,000 hooked calls (its count file says so,
	# every 100 ms), so that the stats file holds many pages' worth, whatever the load.
	wait_until 20 count_at_least "$run.count" 20000 ||
		bad "$bin: fewer than 20000 calls in 20 s (count $(cat "$run.count" 2>/dev/null))"
	kill -9 $pid
	status=0
	wait $pid 2>/dev/null || status=$?
	[[ $status == 137 ]] || bad "$bin: exit status $status after SIGKILL, want 137"
	last=$(cat "$run.count" 2>/dev/null || echo 0)
	if [[ ! -f $run.stats ]]; then
		bad "$bin: no stats file $run.stats after SIGKILL; stderr: $(cat "$run.err")"
		continue
	fi
	if ! "$GOLAT_CLI" report "$run.stats" --json >"$run.json" 2>"$run.report.err"; then
		bad "$bin: golat report $run.stats --json failed: $(cat "$run.report.err")"
		continue
	fi
	calls=$(check calls "$run.json" main.work) || { echo "$calls"; bad "$bin: no main.work"; continue; }
	if [[ $calls =~ ^[0-9]+$ ]] && ((calls > 0 && calls >= last)); then
		ok "$bin: golat report after kill -9: main.work calls $calls >= $last, the program's last count"
	else
		bad "$bin: golat report after kill -9: main.work calls '$calls', want > 0 and >= $last (the program's last count)"
	fi
	"$GOLAT_CLI" report "$run.stats" --text >"$run.txt" 2>"$run.report.err" ||
		bad "$bin: golat report $run.stats --text failed: $(cat "$run.report.err")"
	if grep -q '^main\.work .*calls [0-9]' "$run.txt"; then
		ok "$bin: text: $(grep '^main\.work ' "$run.txt")"
	else
		bad "$bin: text report has no 'main.work ... calls N' line: $(head -5 "$run.txt")"
	fi
done
finish
