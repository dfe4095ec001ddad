#!/usr/bin/env bash
# The preloaded route with one file mounted: the host's libgolat.so, read-only, into a
# cgo service's container whose image has only the service's own libraries
# (LD_PRELOAD=/golat/libgolat.so, GOLAT_FUNCS): the library must need nothing but the C
# library. Under load, the host reads the container's stats through its PID: `golat
# report HOSTPID --json` has calls, `golat top HOSTPID` shows the row, and `golat serve`
# (no --dir: every live golat process it may see) has the service's series with a
# container_id label naming the container. No request fails; it exits 0, and its final
# report (GOLAT_OUTPUT, a directory of the host mounted) counts every request served.
# Usage: preload.sh GO   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
ctr_setup preload "$1"
ctr_build
svc_image cgo
mkdir -p "$work/out" && chmod 777 "$work/out"
ctr_run svc -v "$GOLAT_LIB:/golat/libgolat.so:ro" -v "$work/out:/out" -e LD_PRELOAD=/golat/libgolat.so \
	-e "GOLAT_FUNCS=$specs" -e GOLAT_OUTPUT=/out/report.json -- "$img" /svc || finish
# (Read whole: grep -q quitting early would make podman logs fail on a broken pipe.)
said=$(pm logs "$svc_name" 2>&1)
grep -q '^golat: ' <<<"$said" || bad "the library said nothing: it did not load ($(head -3 <<<"$said"))"
load_start svc

if "$golat" report "$svc_pid" --json >"$work/report.json" 2>"$work/report.err" &&
	(($(calls "$work/report.json" 'main.(*svc).ServeHTTP') > 0)); then
	ok "golat report $svc_pid --json from the host: ServeHTTP $(calls "$work/report.json" 'main.(*svc).ServeHTTP') calls"
else
	bad "golat report $svc_pid --json from the host: $(head -3 "$work/report.err" "$work/report.json")"
fi

# stdout not a terminal: golat top prints its table -n times and exits.
if "$golat" top "$svc_pid" -n 1 >"$work/top.out" 2>"$work/top.err" &&
	grep -q '^main\.(\*svc)\.ServeHTTP ' "$work/top.out"; then
	ok "golat top $svc_pid -n 1 from the host: $(grep -m1 '^main\.(\*svc)\.ServeHTTP ' "$work/top.out" | tr -s ' ')"
else
	bad "golat top $svc_pid -n 1 from the host: $(head -5 "$work/top.err" "$work/top.out")"
fi

"$golat" serve --listen 127.0.0.1:0 2>"$work/serve.err" &
serve_pid=$!
port=
for ((i = 0; i < 100; i++)); do
	port=$(sed -nE 's|^golat: serving http://127\.0\.0\.1:([0-9]+)/metrics$|\1|p' "$work/serve.err")
	[[ -n $port ]] && break
	sleep 0.1
done
if [[ -z $port ]]; then
	bad "golat serve never said where it serves: $(cat "$work/serve.err")"
elif ! curl -sf --max-time 10 "http://127.0.0.1:$port/metrics" >"$work/metrics"; then
	bad "GET /metrics of golat serve failed: $(cat "$work/serve.err")"
else
	# A series of ServeHTTP whose container_id is the container's (all 64 hex digits, or
	# the first 12 as podman ps shows them) and whose pid is the host's; other tests'
	# containers may be there too.
	mine=$(grep '^golat_calls_total{' "$work/metrics" | grep 'function="main.(\*svc).ServeHTTP"' |
		grep -E "container_id=\"($svc_ctr|${svc_ctr:0:12})\"" | grep "pid=\"$svc_pid\"")
	if [[ -n $mine ]]; then
		ok "golat serve: $(head -1 <<<"$mine")"
	else
		bad "golat serve: no golat_calls_total of ServeHTTP labelled container_id=\"$svc_ctr\" and pid=\"$svc_pid\": $(grep -m3 '^golat_calls_total' "$work/metrics")"
	fi
fi
kill "$serve_pid" 2>/dev/null
wait "$serve_pid" 2>/dev/null

load_stop svc
still_answers svc
quit_counted svc
finish
