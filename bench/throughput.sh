#!/usr/bin/env bash
# Part of bench/run.sh: the demo service's throughput under wrk, unhooked and with its
# hot functions hooked, alternating twice; the median of each side.
# Usage: throughput.sh WORK LIBGOLAT SECONDS
set -euo pipefail
work=$1 lib=$2 secs=$3
if ! command -v wrk >/dev/null; then
	echo "demo throughput: skipped (wrk is not installed: apt-get install wrk)"
	exit 0
fi
hot='main.(*server).*,main.(*store).*,main.checksum,main.writeJSON,net/http.(*conn).serve,net/http.(*ServeMux).ServeHTTP,encoding/json.(*Encoder).Encode'
measure() { # hooked(0/1) -> req/s
	local port=$((20000 + RANDOM % 20000)) pid rps
	if (($1)); then
		LD_PRELOAD=$lib GOLAT_FUNCS=$hot GOLAT_LOG=quiet GOLAT_OUTPUT=$work/tput.json \
			"$work/service" -addr "127.0.0.1:$port" >/dev/null 2>&1 &
	else
		"$work/service" -addr "127.0.0.1:$port" >/dev/null 2>&1 &
	fi
	pid=$!
	for _ in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
	rps=$(wrk -t2 -c16 -d"${secs}s" "http://127.0.0.1:$port/items/7" | awk '/Requests\/sec/ {print $2}')
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	echo "$rps"
}
off=() on=()
for _ in 1 2; do
	off+=("$(measure 0)")
	on+=("$(measure 1)")
done
calls=$(python3 -c 'import json,sys; print(sum(f["calls"] for f in json.load(open(sys.argv[1]))["functions"]))' "$work/tput.json")
python3 - "${off[*]}" "${on[*]}" "$calls" "$secs" <<'PY'
import statistics, sys
off = statistics.median(map(float, sys.argv[1].split()))
on = statistics.median(map(float, sys.argv[2].split()))
print("demo throughput (wrk -t2 -c16, GET /items/7, %ss, median of 2)" % sys.argv[4])
print(f"  unhooked {off:10.0f} req/s")
cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
print(f"  hooked   {on:10.0f} req/s  {on / off:.2f}x on {cpu}  (7 hot functions, {int(sys.argv[3]) / 1e3:.0f}k hooked calls in the last run)")
PY
