#!/usr/bin/env bash
# golat attach -d on a live HTTP service under load, started with LD_PRELOAD and
# GOLAT_FUNCS unset (the control socket only): CYCLES times attach, a window of SECONDS,
# its report, detach. Every window counts main.(*svc).ServeHTTP calls: some, and no
# more than the requests the service served around it; after every detach the
# service's text, read through /proc/PID/mem, is byte for byte what it was before the
# first attach. golat interrupted (SIGINT) reports the shorter window and detaches;
# golat killed (SIGKILL) in a window leaves nothing hooked: the library unhooks when
# the connection drops. No request fails, and the service then exits normally.
# Exe and stripped PIE.
# Usage: cycles.sh GO [CYCLES] [SECONDS]   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
attach_setup cycles "$1"
cycles=${2:-10}
window=${3:-0.5}
attach_build
specs='main.(*svc).ServeHTTP,main.work'

# window_check JSON BEFORE AFTER: what a window's report must say.
window_check() {
	python3 - "$@" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
before, after = int(sys.argv[2]), int(sys.argv[3])
fns = {f["name"]: f for f in r["functions"]}
h = fns.get("main.(*svc).ServeHTTP", {"calls": 0})
w = fns.get("main.work", {"calls": 0})
problems = []
if not 0 < h["calls"] <= after - before:
    problems.append(f"ServeHTTP calls {h['calls']}, served {after - before} around the window")
if not w["calls"] <= after - before:
    problems.append(f"main.work calls {w['calls']}, served {after - before}")
if set(fns) - {"main.(*svc).ServeHTTP", "main.work"}:
    problems.append(f"functions outside the window: {sorted(set(fns))}")
if h["calls"] and not 0 < h["min_ns"] <= h["p50_ns"] <= h["max_ns"]:
    problems.append(f"min {h['min_ns']} p50 {h['p50_ns']} max {h['max_ns']}")
print("; ".join(problems) if problems else
      f"ServeHTTP {h['calls']} calls (p50 {h['p50_ns'] / 1e3:.1f} us), main.work {w['calls']}, "
      f"served {after - before}, window {r['elapsed_ns'] / 1e9:.2f} s")
sys.exit(1 if problems else 0)
PY
}

# text_same BIN WHAT: the service's text is what it was before the first attach.
text_same() {
	local why
	if why=$(python3 "$here/text.py" same "$svc_pid" "$work/$1.text" 2>&1); then
		return 0
	fi
	bad "$1: $2: $why"
	return 1
}

# attached N: waits until the service has said N times that a window was attached.
attached() {
	local i
	for ((i = 0; i < 200; i++)); do
		(($(grep -c 'attached a window' "$work/$bin.err") >= $1)) && return 0
		sleep 0.05
	done
	return 1
}

for bin in "${bins[@]}"; do
	svc_start "$bin" LD_PRELOAD="$GOLAT_LIB"
	python3 "$here/text.py" save "$svc_pid" "$work/$bin.text" >/dev/null ||
		bad "$bin: cannot read the text of pid $svc_pid"
	[[ -S /dev/shm/golat-$svc_pid.sock || -S ${TMPDIR:-/tmp}/golat-$svc_pid.sock ]] ||
		bad "$bin: no control socket for pid $svc_pid"
	[[ ! -s $work/$bin.err ]] || bad "$bin: GOLAT_FUNCS unset, yet golat said: $(cat "$work/$bin.err")"
	rm -f "$work/stop"
	"$work/load" "$svc_url/hello" 4 2 "$work/stop" >"$work/$bin.load" 2>&1 &
	load=$!
	sleep 0.3
	good=0
	for ((i = 1; i <= cycles; i++)); do
		before=$(served)
		out=$work/$bin.win$i.json
		if ! "$golat" attach "$svc_pid" -f "$specs" -d "$window" -o "$out" 2>"$work/$bin.win$i.err"; then
			bad "$bin cycle $i: golat attach -d failed: $(cat "$work/$bin.win$i.err")"
			continue
		fi
		after=$(served)
		if why=$(window_check "$out" "$before" "$after") && text_same "$bin" "after cycle $i"; then
			good=$((good + 1))
			echo "  cycle $i: $why"
		else
			[[ -n $why ]] && bad "$bin cycle $i: $why"
		fi
	done
	((good == cycles)) && ok "$bin: $cycles windows of $window s: calls within the requests served, text as before after each"
	# How long the world stood still, as golat said after each window.
	cat "$work/$bin".win*.err | python3 -c '
import re, statistics, sys
w = [tuple(map(int, m.groups())) for m in re.finditer(
    r"stopped (\d+) us to attach \((\d+) stops?\), (\d+) us to detach \((\d+) stops?\)", sys.stdin.read())]
if w:
    col = lambda i: [x[i] for x in w]
    print(f"  world stopped, attach: median {statistics.median(col(0)):.0f} us, max {max(col(0))} us "
          f"({statistics.mean(col(1)):.1f} stops); detach: median {statistics.median(col(2)):.0f} us, "
          f"max {max(col(2))} us ({statistics.mean(col(3)):.1f} stops); {len(w)} cycles")'

	# Without -d the hooks stay (and the text check sees them); golat detach takes them out.
	if "$golat" attach "$svc_pid" -f "$specs" 2>"$work/$bin.keep.err" &&
		! python3 "$here/text.py" same "$svc_pid" "$work/$bin.text" >/dev/null 2>&1 &&
		"$golat" report "$svc_pid" | grep -q '^main\.(\*svc)\.ServeHTTP .*calls [1-9]' &&
		"$golat" detach "$svc_pid" 2>"$work/$bin.detach.err" && text_same "$bin" "after golat detach"; then
		ok "$bin: attach without -d: patched and read live; golat detach: $(sed 's/^golat: //' "$work/$bin.detach.err")"
	else
		bad "$bin: attach without -d, then detach: $(cat "$work/$bin.keep.err" "$work/$bin.detach.err" 2>/dev/null)"
	fi

	# Ctrl-C: the window ends early, is reported, and golat detaches.
	n=$(grep -c 'attached a window' "$work/$bin.err")
	"$golat" attach "$svc_pid" -f "$specs" -d 60 -o "$work/$bin.int.json" 2>"$work/$bin.int.err" &
	cli=$!
	attached $((n + 1)) || bad "$bin: golat attach -d 60 did not attach"
	sleep 0.3
	kill -INT $cli
	status=0
	wait $cli || status=$?
	if [[ $status == 0 && -s $work/$bin.int.json ]] && grep -q '(interrupted)' "$work/$bin.int.err" &&
		text_same "$bin" "after SIGINT"; then
		ok "$bin: SIGINT: the window reported and detached: $(grep -o 'timed for [0-9.]* s' "$work/$bin.int.err")"
	else
		bad "$bin: SIGINT: status $status: $(cat "$work/$bin.int.err")"
	fi

	# SIGKILL: nobody sends `end`; the library unhooks when the connection drops.
	"$golat" attach "$svc_pid" -f "$specs" -d 60 >/dev/null 2>&1 &
	cli=$!
	attached $((n + 2)) || bad "$bin: golat attach -d 60 did not attach"
	kill -KILL $cli
	wait $cli 2>/dev/null
	for ((k = 0; k < 50; k++)); do
		grep -q 'went away: unhooked' "$work/$bin.err" && break
		sleep 0.1
	done
	text_same "$bin" "after golat was killed in a window" &&
		ok "$bin: golat killed in a window: $(grep -o 'went away.*' "$work/$bin.err")"

	touch "$work/stop"
	if wait $load; then
		ok "$bin: no request failed: $(cat "$work/$bin.load")"
	else
		bad "$bin: the load client says: $(cat "$work/$bin.load")"
	fi
	if grep -v '^golat: ' "$work/$bin.err"; then
		bad "$bin: the service's stderr has lines without the golat: prefix"
	fi
	svc_quit
done
finish
