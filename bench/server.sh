#!/usr/bin/env bash
# Part of bench/run.sh: a real server hooked broadly. Debian sid's caddy (static response)
# with net/http.* and caddyhttp.* hooked, under `wrk -t1 -c8`, unhooked and hooked
# alternating (3 pairs by default); the medians of each side and their ratio, with the
# CPU's name. caddy comes from BENCH_CADDY, or a services cache of a build folder
# (tests/services fills build*/services-cache/sid), or `apt-get download -t sid caddy`;
# when none can be had (offline, no sid in apt's sources) the demo service stands in,
# hooked as broadly (net/http.*, main.*), and the line says so.
# Usage: server.sh WORK LIBGOLAT SECONDS   (env: BENCH_CADDY, BENCH_PAIRS)
set -euo pipefail
work=$1 lib=$2 secs=$3
top=$(cd "$(dirname "$0")/.." && pwd)
pairs=${BENCH_PAIRS:-3}
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
if ! command -v wrk >/dev/null; then
	echo "server throughput: skipped (wrk is not installed: apt-get install wrk)"
	exit 0
fi
caddy=${BENCH_CADDY:-}
if [[ -z $caddy ]]; then
	caddy=$(ls "$top"/build*/services-cache/sid/caddy/x/usr/bin/caddy 2>/dev/null | head -n 1 || true)
fi
if [[ -z $caddy ]]; then
	dir=$work/caddy-sid
	rm -rf "$dir" && mkdir -p "$dir"
	if (cd "$dir" && apt-get download -t sid caddy) >/dev/null 2>&1 && dpkg -x "$dir"/caddy_*.deb "$dir/x"; then
		caddy=$dir/x/usr/bin/caddy
	fi
fi
read -r p1 p2 < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
if [[ -n $caddy ]]; then
	what="caddy $("$caddy" version 2>/dev/null | cut -d' ' -f1), static response"
	funcs='net/http.*,github.com/caddyserver/caddy/v2/modules/caddyhttp.*'
	cat >"$work/caddy.json" <<JSON
{"admin":{"listen":"127.0.0.1:$p2"},"apps":{"http":{"servers":{"s":{"listen":["127.0.0.1:$p1"],
 "routes":[{"handle":[{"handler":"static_response","body":"hello\n"}]}]}}}}}
JSON
	cmd=("$caddy" run --config "$work/caddy.json")
	url=http://127.0.0.1:$p1/
else
	what="the demo service (no caddy here: offline, or no sid in apt's sources), GET /items/7"
	funcs='net/http.*,main.*'
	cmd=("$work/service" -addr "127.0.0.1:$p1")
	url=http://127.0.0.1:$p1/items/7
fi
measure() { # hooked(0/1) -> "req/s CPU-us/request" (the server's own CPU time: steadier than
	# req/s when other work loads the machine)
	local pid out cpu0 cpu1
	if (($1)); then
		LD_PRELOAD=$lib GOLAT_FUNCS=$funcs GOLAT_LOG=quiet GOLAT_OUTPUT=$work/server.json \
			"${cmd[@]}" >"$work/server.log" 2>&1 &
	else
		"${cmd[@]}" >"$work/server.log" 2>&1 &
	fi
	pid=$!
	for _ in $(seq 100); do
		curl -s -m 1 -o /dev/null "$url" && break
		sleep 0.1
	done
	cpu0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	out=$(wrk -t1 -c8 -d"${secs}s" "$url")
	cpu1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	awk -v c=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" '/requests in/ {n = $1} /Requests\/sec/ {r = $2}
		END {printf "%s %.1f\n", r + 0, n ? c / hz * 1e6 / n : 0}' <<<"$out"
}
off=() on=()
for _ in $(seq "$pairs"); do # alternate, so that drift in the machine's load hits both sides
	off+=("$(measure 0)")
	on+=("$(measure 1)")
done
python3 - "${off[*]}" "${on[*]}" "$work/server.json" "$secs" "$what" "$cpu" "$pairs" <<'PY'
import json, statistics, sys
off = statistics.median(map(float, sys.argv[1].split()[0::2]))
on = statistics.median(map(float, sys.argv[2].split()[0::2]))
coff = statistics.median(map(float, sys.argv[1].split()[1::2]))
con = statistics.median(map(float, sys.argv[2].split()[1::2]))
try:
    d = json.load(open(sys.argv[3]))
    fns = [f for f in d["functions"] if f["calls"]]
    calls = sum(f["calls"] for f in fns)
    hooked = f"{len(fns)} hooked functions called, {calls / 1e3:.0f}k hooked calls in the last run"
except (OSError, ValueError, KeyError):
    hooked = "no report"
print(f"server throughput: {sys.argv[5]} (wrk -t1 -c8, {sys.argv[4]} s, median of {sys.argv[7]}, load {open('/proc/loadavg').read().split()[0]})")
print(f"  unhooked {off:10.0f} req/s  {coff:7.1f} us of the server's CPU per request")
print(f"  hooked   {on:10.0f} req/s  {con:7.1f} us  throughput {on / off:.2f}x, CPU per request {con / coff:.2f}x on {sys.argv[6]}  ({hooked})")
PY
