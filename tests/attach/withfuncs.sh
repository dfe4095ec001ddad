#!/usr/bin/env bash
# golat attach on a service started with GOLAT_FUNCS (and GOLAT_OUTPUT) set: a window
# leaves out the function GOLAT_FUNCS hooked (listed as hooked before it) and times the
# rest; a plain attach adds to the hook set; golat detach -f takes out only what it
# names, and golat's own hooks stay for the final report; at exit the final report has
# both functions, and the stats file and the control socket are gone.
# Usage: withfuncs.sh GO   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
attach_setup withfuncs "$1"
attach_build
bin=pie

svc_start "$bin" LD_PRELOAD="$GOLAT_LIB" GOLAT_FUNCS=main.work GOLAT_OUTPUT="$work/final.json"
pid=$svc_pid
rm -f "$work/stop"
"$work/load" "$svc_url/w" 2 2 "$work/stop" >"$work/load.out" 2>&1 &
load=$!
# The load is running once the service has served a request (a sleep proved nothing
# on a loaded machine).
for ((i = 0; i < 400; i++)); do
	(($(served || echo 0) > 0)) && break
	sleep 0.05
done
if "$golat" attach $pid -f 'main.(*svc).ServeHTTP,main.work' -d 0.5 -o "$work/win.json" 2>"$work/win.err" &&
	python3 - "$work/win.json" <<'PY'; then
import json, sys
r = json.load(open(sys.argv[1]))
names = [f["name"] for f in r["functions"]]
skipped = {s["name"]: s["reason"] for s in r["skipped"]}
print(f"  window: {names}, skipped: {skipped}")
sys.exit(0 if names == ["main.(*svc).ServeHTTP"] and "hooked before this window" in skipped.get("main.work", "") else 1)
PY
	ok "a window leaves out what GOLAT_FUNCS hooked"
else
	bad "window on a GOLAT_FUNCS service: $(cat "$work/win.err")"
fi
"$golat" attach $pid -f 'main.(*svc).ServeHTTP' 2>"$work/add.err" || bad "attach: $(cat "$work/add.err")"
# Until both have been called since (up to 20 s), not a fixed half second.
for ((i = 0; i < 100; i++)); do
	hooked=$("$golat" report $pid --json | python3 -c 'import json,sys; print(sorted(f["name"] for f in json.load(sys.stdin)["functions"] if f["calls"]))')
	[[ $hooked == "['main.(*svc).ServeHTTP', 'main.work']" ]] && break
	sleep 0.2
done
[[ $hooked == "['main.(*svc).ServeHTTP', 'main.work']" ]] && ok "attach adds to GOLAT_FUNCS: $hooked" ||
	bad "after attach, the report has $hooked"
if "$golat" detach $pid -f 'main.(*svc).ServeHTTP' 2>"$work/detach.err" &&
	grep -q "unhooked 1 function; .*golat's own hooks stay in" "$work/detach.err"; then
	ok "detach -f: $(cat "$work/detach.err")"
else
	bad "detach -f: $(cat "$work/detach.err")"
fi
touch "$work/stop"
wait $load || bad "the load client: $(cat "$work/load.out")"
status=0
curl -sf "$svc_url/quit" >/dev/null
wait $pid || status=$?
[[ $status == 0 ]] || bad "the service exited with $status"
python3 - "$work/final.json" <<'PY' && ok "the final report has both functions" || bad "final report: $(head -c 300 "$work/final.json")"
import json, sys
fns = {f["name"]: f["calls"] for f in json.load(open(sys.argv[1]))["functions"]}
print(f"  final report: {fns}")
sys.exit(0 if fns.get("main.work", 0) > 0 and fns.get("main.(*svc).ServeHTTP", 0) > 0 else 1)
PY
left=$(ls /dev/shm/golat-$pid.* "${TMPDIR:-/tmp}"/golat-$pid.* 2>/dev/null)
[[ -z $left ]] && ok "no stats file, no socket left after the exit" || bad "left after the exit: $left"
finish
