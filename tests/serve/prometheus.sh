#!/usr/bin/env bash
# golat serve scraped by a real Prometheus server: two Go programs with libgolat.so
# preloaded make known numbers of calls, Prometheus scrapes golat serve every second,
# and its query API must answer golat_calls_total{function,pid} with those exact
# numbers (so it accepted the exposition, labels and all: it refuses a whole scrape
# for one bad line); then one program is killed and its series must end (staleness)
# while the other's goes on.
# Prometheus: $GOLAT_PROMETHEUS, else `prometheus` on PATH, else the Debian package
# unpacked into $GOLAT_PROMETHEUS_DIR (fetched there with apt-get download the first
# time); without any, the test is skipped (exit 77) saying why.
# Usage: prometheus.sh GO   (env GOLAT_CLI, GOLAT_LIB, GOLAT_TEST_WORK, GOLAT_PROMETHEUS_DIR)
set -uo pipefail
source "$(dirname "$0")/common.sh"

find_prometheus
common_setup "$1" serve-prometheus

start_prog 1234 "$sdir" && pa=$prog_pid
start_prog 4321 "$sdir2" && pb=$prog_pid
start_serve || exit 1

# A free port for Prometheus's own web API (it cannot say which one :0 took).
pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: golat
    scrape_interval: 1s
    scrape_timeout: 1s
    static_configs:
      - targets: ['127.0.0.1:$port']
EOF
"$prometheus" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
	--web.listen-address="127.0.0.1:$pport" --log.level=warn >"$work/prometheus.log" 2>&1 &
prom_pid=$!

# query EXPR: the values of an instant query, one per line, as Prometheus prints them.
query() {
	python3 - "$pport" "$1" <<'EOF'
import json, sys, urllib.parse, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/api/v1/query?" + urllib.parse.urlencode({"query": sys.argv[2]})
try:
    r = json.load(urllib.request.urlopen(url, timeout=5))
except Exception as e:
    print(f"error: {e}")
    sys.exit(0)
for s in r.get("data", {}).get("result", []):
    print(s["value"][1])
EOF
}

# wait_for EXPR WANT SECONDS: polls the query until its answer is WANT.
wait_for() {
	local got
	for _ in $(seq $(($3 * 2))); do
		got=$(query "$1")
		[[ $got == "$2" ]] && return 0
		kill -0 $prom_pid 2>/dev/null || { bad "prometheus exited: $(tail -5 "$work/prometheus.log")"; return 1; }
		sleep 0.5
	done
	bad "$1: '$got' after $3 s, want '$2'"
	return 1
}

if wait_for 'up{job="golat"}' 1 60; then
	ok "Prometheus scrapes golat serve (up == 1)"
fi
wait_for "golat_calls_total{job=\"golat\",function=\"main.work\",pid=\"$pa\"}" 1234 30 &&
	wait_for "golat_calls_total{function=\"main.other\",pid=\"$pa\"}" 617 10 &&
	wait_for "golat_calls_total{function=\"main.work\",pid=\"$pb\"}" 4321 10 &&
	wait_for "golat_duration_seconds_count{function=\"main.work\",pid=\"$pb\"}" 4321 10 &&
	ok "Prometheus answers the exact call counts of both programs"
# The exe label came through, unescaped by Prometheus: match it exactly.
if python3 - "$pport" "$pa" "$exe" <<'EOF'; then
import json, sys, urllib.parse, urllib.request
q = f'golat_calls_total{{function="main.work",pid="{sys.argv[2]}"}}'
url = f"http://127.0.0.1:{sys.argv[1]}/api/v1/query?" + urllib.parse.urlencode({"query": q})
r = json.load(urllib.request.urlopen(url, timeout=5))["data"]["result"]
sys.exit(0 if len(r) == 1 and r[0]["metric"]["exe"] == sys.argv[3] else 1)
EOF
	ok "the exe label as Prometheus stored it"
else
	bad "the exe label as Prometheus stored it"
fi
wait_for "sum(golat_calls_total{pid=~\"$pa|$pb\"})" $((1234 + 617 + 4321 + 2160)) 10 &&
	ok "sum over both processes"
# A histogram Prometheus can take a quantile of.
got=$(query "histogram_quantile(0.5, golat_duration_seconds_bucket{function=\"main.work\",pid=\"$pa\"})")
python3 -c "import sys; v=float(sys.argv[1]); sys.exit(0 if 0 < v < 1e-3 else 1)" "$got" 2>/dev/null &&
	ok "histogram_quantile of main.work: $got s" || bad "histogram_quantile: '$got'"

# Killed: its series end at the next scrape; the other's go on.
kill -9 "$pb"
wait "$pb" 2>/dev/null
wait_for "golat_calls_total{function=\"main.work\",pid=\"$pb\"}" "" 15 &&
	wait_for "golat_calls_total{function=\"main.work\",pid=\"$pa\"}" 1234 5 &&
	ok "a killed program's series go stale; the live one's stay"

kill "$prom_pid"
wait "$prom_pid" 2>/dev/null
((fail)) && exit 1
echo "serve prometheus: ok"
