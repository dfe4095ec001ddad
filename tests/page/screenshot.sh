#!/usr/bin/env bash
# Makes doc/page.png: golat serve's page on prog/main.go's demo (four goroutines, latencies
# that change every 40 s), after SECONDS (default 75) of it. Not a test: run it by hand
# from the source tree with a build directory: tests/page/screenshot.sh BUILD [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
secs=${2:-75}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
go=$(ls /usr/lib/go-1.*/bin/go | sort -V | tail -1)
(cd "$here/prog" && GOTOOLCHAIN=local GOFLAGS=-mod=mod "$go" build -o "$work/prog" .)
mkdir -p "$work/stats" "$work/run"
touch "$work/run/go1" "$work/run/go2"
LD_PRELOAD=$build/lib/libgolat.so GOLAT_FUNCS=main.call GOLAT_LOG=quiet GOLAT_OUTPUT=/dev/null \
	GOLAT_STATS="$work/stats/golat-%p.stats" "$work/prog" "$work/run" demo &
prog=$!
until [[ -e $work/run/tally2 ]]; do sleep 0.1; done
"$build/tools/golat" serve --listen 127.0.0.1:0 --dir "$work/stats" 2>"$work/serve.err" &
until grep -q serving "$work/serve.err"; do sleep 0.1; done
url=http://127.0.0.1:$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/serve.err")
id=$(curl -sf "$url/api/funcs?pid=$prog" | python3 -c 'import json,sys; print(json.load(sys.stdin)["funcs"][0]["id"])')
curl -sf "$url/api/func?pid=$prog&id=$id" >/dev/null
sleep "$secs"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
	--disable-component-update --disable-sync --user-data-dir="$work/chrome" --hide-scrollbars \
	--virtual-time-budget=5000 --window-size=1280,900 --screenshot="$here/../../doc/page.png" \
	"$url/#pid=$prog&id=$id" 2>/dev/null
echo "doc/page.png"
