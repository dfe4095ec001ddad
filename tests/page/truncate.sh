#!/usr/bin/env bash
# The page's sampling survives a stats file truncated under it (no Go needed, so it
# also runs under ASan+UBSan): a synthetic live file (tests/report's mkstats, its
# writer a sleeping process), one of its functions watched by /api/func; then the
# file cut to 16 bytes and put back, again and again, while serve ticks once a second
# (a tick that read through a mapping would die of SIGBUS when a cut lands between its
# size check and its read), and cut for good: serve lives on, answers, and the
# function drops out of /api/heat.
# Usage: truncate.sh MKSTATS   (env GOLAT_CLI, GOLAT_TEST_WORK)
set -uo pipefail
mkstats=$1
source "$(dirname "$0")/../serve/common.sh"
serve_setup page-truncate

sleep 1000 &
q=$!
started+=("$q")
f=$sdir/golat-$q.stats
"$mkstats" --live "$q" "$f" || { echo "FAIL: mkstats"; exit 1; }
cp "$f" "$work/full.stats"
start_serve --dir "$sdir" || exit 1
url=http://127.0.0.1:$port
get() { curl -sf --max-time 10 "$@"; }
id=$(get "$url/api/funcs?pid=$q&q=main.handle&page=0" | python3 -c '
import json, sys
fs = [f for f in json.load(sys.stdin)["funcs"] if f["name"] == "main.handle"]
print(fs[0]["id"] if fs else "")')
[[ -n $id ]] || { echo "FAIL: /api/funcs does not list main.handle"; exit 1; }
get "$url/api/func?pid=$q&id=$id" >/dev/null || { echo "FAIL: /api/func"; exit 1; }
heat() { get "$url/api/heat?pid=$q&id=$id"; }
ncols() { heat | python3 -c 'import json, sys; h = json.load(sys.stdin); print(len(h["cols"]) if h else -1)' 2>/dev/null || echo -1; }
ticked() { (($(ncols) >= 2)); }
dropped() { [[ $(heat) == null ]]; }
wait_until 10 ticked ||
	{ echo "FAIL: the watch never ticked: $(get "$url/api/heat?pid=$q&id=$id")"; exit 1; }
ok "main.handle watched, ticking"

# Cut and restore for ~4 ticks, the page asking again after each restore (a new watch).
end=$((SECONDS + 4))
cuts=0
while ((SECONDS < end)); do
	truncate -s 16 "$f"
	cuts=$((cuts + 1))
	cat "$work/full.stats" >"$f" # the same inode, full again
	get "$url/api/heat?pid=$q&id=$id" >/dev/null
	kill -0 "$serve_pid" 2>/dev/null || break
done
truncate -s 16 "$f"
kill -0 "$serve_pid" 2>/dev/null || { echo "FAIL: serve died while the file was cut $cuts times: $(tail -3 "$work/serve.err")"; exit 1; }
# Cut for good: the next tick drops the watch, and no new one can start.
wait_until 10 dropped ||
	bad "main.handle stays in /api/heat after its file was cut: $(get "$url/api/heat?pid=$q&id=$id" | head -c 200)"
kill -0 "$serve_pid" 2>/dev/null || bad "serve died"
get "$url/api/procs" >/dev/null || bad "serve does not answer /api/procs after the cut"
get "$url/api/procs" | grep -q "\"pid\":$q" && bad "/api/procs lists the cut file's process"
((fail)) || ok "the file cut $cuts times under the sampling: serve lives, the function dropped out"
rm -f "$f"
exit $fail
