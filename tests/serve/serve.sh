#!/usr/bin/env bash
# golat serve from the outside: two real Go programs (libgolat.so preloaded) scraped at
# once, each series with its pid and exe labels (the exe path needs escaping) and the
# exact call counts the programs made; the exposition valid (promcheck.py, and promtool
# where it is installed); then the checks of common.sh: requests, hostile stats files,
# files truncated and removed while it serves, slow, idle and vanishing clients,
# refusals, SIGTERM; and a killed program and a removed stats file dropping out of the
# next scrape. The programs' stats files are in the test's own directories, the only
# ones serve looks in (--dir): other programs of the machine change no count.
# Usage: serve.sh GO [all|counts]   (counts: the two programs' series only;
# env GOLAT_CLI, GOLAT_LIB, GOLAT_TEST_WORK, GOLAT_PROMETHEUS_DIR)
set -uo pipefail
source "$(dirname "$0")/common.sh"
common_setup "$1" serve
check_checker

start_prog 1234 "$sdir" && pa=$prog_pid
start_prog 4321 "$sdir2" && pb=$prog_pid
start_serve || exit 1
sa=$sdir/golat-$pa.stats sb=$sdir2/golat-$pb.stats

# Both programs in one scrape (one file in each --dir), with their exact counts and labels.
scrape "$work/two.prom"
expect_files "$work/two.prom" 2 0 0 0
for f in golat_calls_total golat_duration_seconds_count; do
	expect_value "$work/two.prom" 1234 $f function=main.work pid="$pa" exe="$exe"
	expect_value "$work/two.prom" 617 $f function=main.other pid="$pa" exe="$exe"
	expect_value "$work/two.prom" 4321 $f function=main.work pid="$pb" exe="$exe"
	expect_value "$work/two.prom" 2160 $f function=main.other pid="$pb" exe="$exe"
done
expect_value "$work/two.prom" 0 golat_in_flight function=main.work pid="$pa"
esc=${exe//\\/\\\\}
esc=${esc//\"/\\\"}
grep -qF "exe=\"$esc\"" "$work/two.prom" ||
	bad "the exe label is not escaped as the format says: $(grep -m1 golat_calls_total "$work/two.prom")"
ok "two programs in one scrape, exact counts, pid and exe labels"

if [[ ${2:-all} == all ]]; then
	check_serve "$sa" "$sb" "$pa" "$pb"
else
	echo "note: the serving checks run in the newest toolchain's serve test and serve_fixture"
	kill -9 "$pb"
	wait "$pb" 2>/dev/null
	rm -f "$sa"
	check_gone "$work/gone.prom" "$pa" "$pb" && ok "a killed writer's and a removed file's series are gone"
fi
((fail)) && exit 1
echo "serve: ok"
