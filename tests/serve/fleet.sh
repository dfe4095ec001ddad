#!/usr/bin/env bash
# Fleet percentiles with the real Prometheus (Debian sid's 3.5, native histograms and
# exemplars on): three processes of one Go program (fleet/) call main.spin with times
# spread over four decades; Prometheus finds them through golat serve's /targets (HTTP
# service discovery, one target per process at /metrics?pid=N), scrapes each every second
# in the protobuf format, and
#   histogram_quantile(Q, sum(rate(golat_duration_seconds{function="main.spin"}[1m])))
# over the native histograms must be within 3% of the exact quantile of the three stats
# files' merged fine histograms (fleet_hist, fleet_exact.py), for Q = 0.5, 0.9, 0.99.
# The classic buckets' quantile is printed beside it (the precision native histograms
# buy), and the slowest calls must have arrived as exemplars (goid, caller).
# The measured calls begin only once Prometheus has scraped each process (a file the
# programs wait for), so that rate() sees their whole increase.
# Usage: fleet.sh GO FLEET_HIST   (env GOLAT_CLI, GOLAT_LIB, GOLAT_TEST_WORK, GOLAT_PROMETHEUS_DIR)
set -uo pipefail
source "$(dirname "$0")/common.sh"

N=2400 # calls per process: about 7 s of them (4 goroutines)
hist=$2
find_prometheus sid
go_toolchain "$1"
if [[ $(ldd "${GOLAT_CLI:?}" 2>/dev/null) == *libasan* ]]; then
	echo "SKIP: golat is built with ASan, whose runtime cannot be preloaded into Go"
	exit 77
fi
serve_setup "serve-fleet-$ver"
export GOCACHE=${GOLAT_TEST_WORK:-/tmp}/serve-gocache-$ver
exe=$work/fleet
(cd "$here/fleet" && "$go" build -o "$exe" .) || { echo "FAIL: go build"; exit 1; }

pids=()
for i in 1 2 3; do
	LD_PRELOAD=$GOLAT_LIB GOLAT_FUNCS=main.spin GOLAT_LOG=quiet GOLAT_OUTPUT=/dev/null \
		GOLAT_STATS="$sdir/golat-%p.stats" "$exe" "$i" $N "$work/warm-$i" "$work/go" "$work/done-$i" &
	pids+=($!)
	started+=($!)
done
all_exist() { local f; for f in "$@"; do [[ -e $f ]] || return 1; done; }
wait_until 60 all_exist "$work"/warm-{1,2,3} || { bad "the programs never warmed up"; exit 1; }
start_serve --dir "$sdir" || exit 1

start_prometheus "global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: golat
    honor_labels: true
    scrape_interval: 1s
    scrape_timeout: 1s
    always_scrape_classic_histograms: true
    http_sd_configs:
      - url: http://127.0.0.1:$port/targets
        refresh_interval: 1s" --enable-feature=native-histograms,exemplar-storage

api() { python3 "$here/promapi.py" "$pport" "$@" 2>/dev/null; }
# answer_is EXPR WANT: the query's answer is WANT, to 1e-9 (Prometheus still running).
answer_is() {
	kill -0 "$prom_pid" 2>/dev/null || { echo "prometheus exited: $(tail -5 "$work/prometheus.log")"; exit 1; }
	python3 -c 'import sys; g, w = sys.argv[1], float(sys.argv[2]); sys.exit(0 if g and abs(float(g) - w) <= 1e-9 * w else 1)' \
		"$(api query "$1")" "$2"
}
# poll SECONDS CMD...: wait_until for a check that takes a query's time: by the clock.
poll() {
	local end=$((SECONDS + $1))
	shift
	while ((SECONDS < end)); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}
spin='function="main.spin"'
# Each process found at /targets and scraped at /metrics?pid=N, as a native histogram.
if poll 60 answer_is "count(histogram_count(golat_duration_seconds{$spin}))" 3; then
	ok "Prometheus found the three processes at /targets and took their native histograms"
else
	bad "no native histograms of the three processes: '$(api query "count(golat_duration_seconds{$spin})")'; $(tail -3 "$work/prometheus.log")"
	exit 1
fi
touch "$work/go"
wait_until 100 all_exist "$work"/done-{1,2,3} || { bad "the programs never finished"; exit 1; }
total=$((3 * (N + 2)))
poll 30 answer_is "sum(golat_calls_total{$spin})" $total &&
	poll 10 answer_is "histogram_count(sum(golat_duration_seconds{$spin}))" $total &&
	ok "Prometheus has all $total calls, native count included" ||
	bad "Prometheus never had all $total calls: $(api query "sum(golat_calls_total{$spin})")"

# Each process's /metrics?pid=N is its own alone; an unknown pid is a 404.
got=$(client get "$port" "/metrics?pid=${pids[0]}" "$work/one.prom")
[[ $got == 200* ]] && [[ $(prom count "$work/one.prom" golat_calls_total function=main.spin) == 1 ]] &&
	ok "/metrics?pid=N answers that process alone" || bad "/metrics?pid=${pids[0]}: $got"
expect_status "404" get "$port" "/metrics?pid=999999999" "$work/body"

"$hist" main.spin "$sdir"/golat-*.stats >"$work/hist.txt" || bad "fleet_hist failed"
mapfile -t exact < <(python3 "$here/fleet_exact.py" 0.5 0.9 0.99 <"$work/hist.txt")
i=0
for q in 0.5 0.9 0.99; do
	native=$(api query "histogram_quantile($q, sum(rate(golat_duration_seconds{$spin}[1m])))")
	classic=$(api query "histogram_quantile($q, sum by (le) (rate(golat_duration_seconds_bucket{$spin}[1m])))")
	line=$(python3 - "$q" "${exact[$i]:-nan}" "$native" "$classic" <<'PY'
import sys
q, e, n, c = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
def err(v):
    try:
        return (float(v) - e) / e * 100
    except ValueError:
        return float("nan")
en, ec = err(n), err(c)
print(f"{'ok' if abs(en) <= 3 else 'bad'} p{float(q) * 100:g}: exact {e * 1e3:.4g} ms, "
      f"native {float(n or 'nan') * 1e3:.4g} ms ({en:+.2f}%), classic {float(c or 'nan') * 1e3:.4g} ms ({ec:+.2f}%)")
PY
)
	echo "$line"
	[[ $line == ok* ]] || bad "native quantile off by more than 3%"
	i=$((i + 1))
done

# The slowest calls arrived as exemplars, with a goroutine and a caller.
ex=$(api exemplars "golat_duration_seconds{$spin}")
if grep -q "caller=main.main.func" <<<"$ex" && grep -q "goid=[0-9]" <<<"$ex"; then
	ok "exemplars: $(wc -l <<<"$ex") on the native histograms, e.g. $(head -1 <<<"$ex")"
else
	bad "no exemplars with goid and caller: '$ex'"
fi
ex=$(api exemplars "golat_duration_seconds_bucket{$spin}")
[[ -n $ex ]] && ok "exemplars on the classic buckets too: $(wc -l <<<"$ex")" || bad "no exemplars on the classic buckets"

kill "$prom_pid"
wait "$prom_pid" 2>/dev/null
for p in "${pids[@]}"; do
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
rm -f "$sdir"/golat-*.stats
((fail)) && exit 1
echo "serve fleet: ok"
