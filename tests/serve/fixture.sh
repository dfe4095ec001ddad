#!/usr/bin/env bash
# golat serve on synthetic stats files (tests/report's mkstats, made live for two
# sleeping processes), no Go needed, so that it also runs under ASan+UBSan: the exact
# numbers of the demo file from both processes in one scrape (function names that need
# every escape, a histogram of 1000 calls of exactly 1 ms), then the checks of
# common.sh; a file whose writer died and a removed file drop out. The files are in the
# test's own directories, the only ones serve looks in (--dir).
# Usage: fixture.sh MKSTATS   (env GOLAT_CLI, GOLAT_TEST_WORK, GOLAT_PROMETHEUS_DIR)
set -uo pipefail
mkstats=$1
source "$(dirname "$0")/common.sh"
serve_setup serve-fixture
check_checker

# Two "programs": sleeping processes whose pids the files name as their live writers.
sleep 1000 &
qa=$!
sleep 1000 &
qb=$!
started+=("$qa" "$qb")
sa=$sdir/golat-$qa.stats sb=$sdir2/golat-$qb.stats
"$mkstats" --live "$qa" "$sa" && "$mkstats" --live "$qb" "$sb" || { echo "FAIL: mkstats"; exit 1; }
start_serve || exit 1

scrape "$work/two.prom"
expect_files "$work/two.prom" 2 0 0 0
odd=$'main."odd"\\name\n' # as the fixture names it: a quote, a backslash, a newline
for q in "$qa" "$qb"; do
	expect_value "$work/two.prom" 1000 golat_calls_total function=main.handle pid="$q" exe=./service
	expect_value "$work/two.prom" 2 golat_in_flight function=main.handle pid="$q"
	expect_value "$work/two.prom" 1 golat_panicked_total function=main.handle pid="$q"
	expect_value "$work/two.prom" 500 golat_calls_total function=main.fast pid="$q"
	expect_value "$work/two.prom" 10 golat_calls_total function="$odd" pid="$q"
	expect_value "$work/two.prom" 3 golat_in_flight function=main.stuck pid="$q"
	# 1 ms is in the power-of-two bucket (524288, 1048576] ns.
	expect_value "$work/two.prom" 0 golat_duration_seconds_bucket function=main.handle pid="$q" le=0.000524288
	expect_value "$work/two.prom" 1000 golat_duration_seconds_bucket function=main.handle pid="$q" le=0.001048576
	expect_value "$work/two.prom" 1 golat_duration_seconds_sum function=main.handle pid="$q"
done
grep -qF 'golat_calls_total{function="main.\"odd\"\\name\n",pid="'"$qa"'",exe="./service"} 10' "$work/two.prom" ||
	bad "the function label is not escaped as the format says: $(grep -m1 odd "$work/two.prom")"
ok "two files in one scrape: exact numbers, escaped labels"
if check_protobuf "$work/two.prom"; then
	for q in "$qa" "$qb"; do
		read -r count sum first last < <(python3 "$here/pbcheck.py" native "$work/pb.bin" \
			golat_duration_seconds function=main.handle pid="$q")
		# 1 ms: native bucket -318 is (2^(-319/32), 2^(-318/32)] s = (0.99 ms, 1.012 ms].
		python3 -c 'import sys; c, s, a, b = map(float, sys.argv[1:]); sys.exit(0 if c == 1000 and abs(s - c) < 1e-9 * c and -320 <= a <= b <= -316 else 1)' \
			"$count" "$sum" "$first" "$last" || bad "main.handle's native histogram: $count $sum $first..$last"
	done
	ok "the protobuf to Prometheus 3.5's Accept: the same samples, native histograms at 1 ms; the text to others"
fi

# Histogram bounds only widen: a third process with faster calls adds lower buckets to
# every function's series, and they stay after it is gone (a bucket series that ended
# would go stale in Prometheus while its function lives on).
les() { grep "^golat_duration_seconds_bucket{function=\"main.handle\",pid=\"$qa\"" "$1" | sed -E 's/.*le="([^"]*)".*/\1/' | tr '\n' ' '; }
sleep 1000 &
qc=$!
started+=("$qc")
"$mkstats" --live "$qc" --small "$sdir/golat-$qc.stats" || bad "mkstats --small"
scrape "$work/wide.prom"
kill -9 "$qc"
wait "$qc" 2>/dev/null
scrape "$work/after-wide.prom"
l1=$(les "$work/two.prom") l2=$(les "$work/wide.prom") l3=$(les "$work/after-wide.prom")
# (No other program is scraped: l1 within l2, and l3 is l2, the fastest bucket of the
# process that is gone included.)
within() {
	local le
	for le in $1; do [[ " $2" == *" $le "* ]] || return 1; done
}
if within "$l1" "$l2" && [[ $l2 != "$l1" && $l3 == "$l2" && " $l2" == *" 1e-09 "* ]]; then
	ok "histogram bounds widen and stay: $(wc -w <<<"$l1") buckets, then $(wc -w <<<"$l3")"
else
	bad "bounds: '$l1', with a wider process '$l2', after it '$l3'"
fi
rm -f "$sdir/golat-$qc.stats"

# /targets: one target per process, scraped at /metrics?pid=N; that answers it alone.
got=$(client get "$port" /targets "$work/targets.json")
if [[ $got == "200 application/json" ]] && python3 - "$work/targets.json" "$port" "$qa" "$qb" <<'PY'; then
import json, sys
t, port, pids = json.load(open(sys.argv[1])), sys.argv[2], sorted(sys.argv[3:])
assert sorted(x["labels"]["__param_pid"] for x in t) == pids, t
for x in t:
    assert x["targets"] == [f"127.0.0.1:{port}"], x
    l = x["labels"]
    assert l["__metrics_path__"] == "/metrics" and l["pid"] == l["__param_pid"] and l["exe"] == "./service", x
PY
	ok "/targets: the two processes, each at /metrics?pid=N"
else
	bad "/targets: $got $(head -c 300 "$work/targets.json")"
fi
scrape "$work/one.prom" && [[ $(prom count "$work/one.prom" golat_calls_total) -gt 0 ]] || bad "scrape"
expect_status "200" get "$port" "/metrics?pid=$qa" "$work/one.prom"
[[ $(prom count "$work/one.prom" golat_calls_total pid="$qb") == 0 && $(prom count "$work/one.prom" golat_calls_total pid="$qa") -gt 0 ]] &&
	expect_value "$work/one.prom" 1 golat_serve_stats_files state=live ||
	bad "/metrics?pid=$qa is not that process alone"
expect_status "404" get "$port" "/metrics?pid=999999999" "$work/body"
grep -q "no live golat process 999999999" "$work/body" || bad "404 without its reason: $(cat "$work/body")"
expect_status "400" get "$port" "/metrics?pid=x" "$work/body"
scrape_pb "$work/one.pb" "/metrics?pid=$qb" && [[ $(prom count "$work/one.pb.txt" golat_calls_total pid="$qa") == 0 ]] ||
	bad "the protobuf of /metrics?pid=$qb is not that process alone"
ok "/metrics?pid=N: that process alone, text and protobuf; 404 for another, 400 for no pid"

# --label: on every series, of both formats.
main_port=$port main_pid=$serve_pid
start_serve --dir "$sdir" --label cluster=eu1 --label 'zone=a"b'
before=$fail fail=0
scrape "$work/labels.prom" && scrape_pb "$work/labels.pb"
expect_value "$work/labels.prom" 1000 golat_calls_total function=main.handle pid="$qa" cluster=eu1 'zone=a"b'
expect_value "$work/labels.pb.txt" 1000 golat_calls_total function=main.handle pid="$qa" cluster=eu1 'zone=a"b'
expect_value "$work/labels.prom" 1 golat_process_info pid="$qa" cluster=eu1
((fail)) || ok "--label: on every series, text and protobuf"
((fail |= before))
kill "$serve_pid"
wait "$serve_pid" 2>/dev/null
port=$main_port serve_pid=$main_pid

check_serve "$sa" "$sb" "$qa" "$qb"
((fail)) && exit 1
echo "serve fixture: ok"
