#!/usr/bin/env bash
# The golat demo, end to end: installs what is missing, builds golat and the demo
# service (cgo-linked and stripped, as distributions ship Go services), shows what
# golat reads from the stripped binary, then runs the service with libgolat.so
# preloaded under load from the demo's driver: golat report reads the live stats
# midway, and golat's final latency report prints when the service exits.
# Env: DEMO_SECONDS (default 10), DEMO_GO (a go binary; default the newest installed).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
golat=$top/build/tools/golat
lib=$top/build/lib/libgolat.so
go=${DEMO_GO:-$(ls -d /usr/lib/go-1.*/bin/go | sort -V | tail -n 1)}
secs=${DEMO_SECONDS:-10}
work=$top/build/demo
mkdir -p "$work"
export GOTOOLCHAIN=local GOPROXY=off
(cd demo/service && CGO_ENABLED=1 "$go" build -ldflags='-s -w' -o "$work/service" .)
(cd demo/load && "$go" build -o "$work/load" .)

funcs='main.(*server).*,main.(*store).*,main.checksum,main.slowBackend,net/http.(*conn).serve'
echo "== golat info (the binary is stripped: no symbols, no DWARF)"
"$golat" info "$work/service"
echo
echo "== golat list service '${funcs//,/\' \'}'"
IFS=, read -r -a specs <<<"$funcs"
"$golat" list "$work/service" "${specs[@]}"
echo
echo "== the service under LD_PRELOAD=libgolat.so GOLAT_FUNCS='$funcs' for ${secs}s of load"
port=$((20000 + RANDOM % 20000))
LD_PRELOAD=$lib GOLAT_FUNCS=$funcs "$work/service" -addr "127.0.0.1:$port" 2>&1 &
svc=$!
trap 'kill $svc 2>/dev/null || true' EXIT
for _ in $(seq 50); do
	"$work/load" -url "http://127.0.0.1:$port" -for 50ms -c 1 >/dev/null 2>&1 && break
	sleep 0.1
done
"$work/load" -url "http://127.0.0.1:$port" -for "$((secs / 2))s" -c 8
echo
echo "== golat report $svc --json, live, halfway (calls so far per function)"
"$golat" report "$svc" --json | python3 -c 'import json,sys
for f in json.load(sys.stdin)["functions"]:
    print("  %-36s calls %-8d in flight %d" % (f["name"], f["calls"], f["in_flight"]))'
"$work/load" -url "http://127.0.0.1:$port" -for "$((secs - secs / 2))s" -c 8
echo
echo "== golat's report, written as the service dies of SIGTERM"
kill -TERM $svc
wait $svc || true
