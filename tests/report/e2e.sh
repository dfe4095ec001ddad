#!/usr/bin/env bash
# A real cgo Go program run under `golat run`: `golat report PID` and `golat top PID`
# on it while it runs, its final report when it returns from main.main, its stats
# file found through GOLAT_STATS (with %p) in /proc/PID/environ, and a program killed
# with SIGKILL whose file still reports what it recorded.
# Usage: e2e.sh GO   (env GOLAT_CLI, GOLAT_LIB, GOLAT_TEST_WORK)
set -uo pipefail
go=$1
here=$(cd "$(dirname "$0")" && pwd)
golat=${GOLAT_CLI:?GOLAT_CLI is the golat binary}
if [[ ! -x $go ]]; then
	echo "SKIP: $go is not installed"
	exit 77
fi
if [[ $(ldd "$golat" 2>/dev/null) == *libasan* ]]; then
	echo "SKIP: golat is built with ASan, whose runtime cannot be preloaded into Go"
	exit 77
fi
ver=$(basename "$(dirname "$(dirname "$go")")")
work=${GOLAT_TEST_WORK:-/tmp}/report-e2e-$ver
rm -rf "$work" && mkdir -p "$work"
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod
# The user's build cache, warm and shared with the other tests (a cache of our own in
# the build folder starts cold: the runtime and cgo compiled again on a clean clone,
# per toolchain); one of our own only where there is no home to keep one in.
[[ -n ${GOCACHE:-}${XDG_CACHE_HOME:-}${HOME:-} ]] || export GOCACHE=${GOLAT_TEST_WORK:-/tmp}/report-gocache
(cd "$here/prog" && CGO_ENABLED=1 "$go" build -o "$work/prog" .) || { echo "FAIL: go build"; exit 1; }
fails=0
trap 'kill -9 $(jobs -p) 2>/dev/null' EXIT # a failed check must not leave a program running
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# json FILE PYTHON-EXPR: the expression over the report `r` and its main.work `w`.
json() {
	python3 - "$1" "$2" <<'EOF' || { fail "$2 on $1: $(head -c 600 "$1")"; return 1; }
import json, sys
r = json.load(open(sys.argv[1]))
w = next((f for f in r["functions"] if f["name"] == "main.work"), None)
ok = eval(sys.argv[2])
print(f"{sys.argv[1]}: {sys.argv[2]}: {ok}")
sys.exit(0 if ok else 1)
EOF
}

# wait_calls PID OUT [REPORT-ARG]: polls `golat report --json` until main.work has
# 100 calls (the program may take a while to start on a loaded machine).
wait_calls() {
	for _ in $(seq 100); do
		if "$golat" report "${3:-$1}" --json >"$2" 2>"$work/report.err" &&
			python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if any(f['name']=='main.work' and f['calls']>100 for f in r['functions']) else 1)" "$2"; then
			return 0
		fi
		kill -0 "$1" 2>/dev/null || break
		sleep 0.2
	done
	fail "main.work never reached 100 calls in pid $1's stats: $(cat "$work/report.err" "$2")"
	return 1
}

# While it runs: report by pid (JSON), then top twice.
GOLAT_LOG=quiet "$golat" run -f main.work -o "$work/final.json" -- "$work/prog" serve 120s "$work/stop1" >"$work/prog.out" &
pid=$!
wait_calls "$pid" "$work/live.json"
json "$work/live.json" "r['pid'] == $pid and w['in_flight'] <= 1 and 1e8 < r['tsc_hz'] < 1e11 and 1e8 < r['elapsed_ns'] < 120e9"
"$golat" top "$pid" -n 2 -d 0.5 >"$work/top.out" 2>"$work/top.err" || fail "golat top $pid: $(cat "$work/top.err")"
[[ $(grep -c '^FUNCTION' "$work/top.out") == 2 ]] || fail "top: $(cat "$work/top.out")"
grep -qE '^main\.work +[0-9]+ +[1-9][0-9.]* ' "$work/top.out" || fail "top: no calls/s for main.work: $(cat "$work/top.out")"
touch "$work/stop1"
wait "$pid" || fail "the program exited $?"
# Each call busy-waits 100 us; then the program sleeps 1 ms.
json "$work/final.json" "w['calls'] > 500 and w['calls'] == w['timed'] and w['in_flight'] == 0 and 9e4 < w['p50_ns'] < 2e5 and w['min_ns'] >= 1e5 * 0.98 and w['p50_ns'] <= w['p99_ns'] <= w['max_ns']"
[[ ! -e /dev/shm/golat-$pid.stats ]] || fail "the stats file outlived a successful final report"

# GOLAT_STATS with %p: found by pid through the environment, kept after the report.
GOLAT_LOG=quiet GOLAT_STATS=$work/s-%p.stats "$golat" run -f main.work -o "$work/final2.json" -- \
	"$work/prog" serve 120s "$work/stop2" >/dev/null &
pid=$!
wait_calls "$pid" "$work/live2.json"
touch "$work/stop2"
wait "$pid"
"$golat" report "$work/s-$pid.stats" --json >"$work/after2.json" || fail "the GOLAT_STATS file is gone"
python3 -c "
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
fa, fb = ({f['name']: f['calls'] for f in x['functions']} for x in (a, b))
sys.exit(0 if fa == fb and fa else 1)" "$work/final2.json" "$work/after2.json" ||
	fail "golat report of the kept file differs from the final report"

# Killed: no final report, but the file says what was recorded until then.
GOLAT_LOG=quiet "$golat" run -f main.work -o "$work/never.json" -- "$work/prog" serve 120s >/dev/null &
pid=$!
wait_calls "$pid" "$work/live3.json"
kill -9 "$pid"
wait "$pid" 2>/dev/null
[[ ! -e $work/never.json ]] || fail "a report after SIGKILL?"
"$golat" report "$pid" --json >"$work/killed.json" || fail "golat report of a killed program"
json "$work/killed.json" "w['calls'] > 100 and r['elapsed_ns'] < 120e9"
"$golat" top "$pid" -n 5 >"$work/killed.top" || fail "golat top of a killed program"
[[ $(grep -c '^FUNCTION' "$work/killed.top") == 1 ]] || fail "top of a dead program refreshed"
rm -f "/dev/shm/golat-$pid.stats" "${TMPDIR:-/tmp}/golat-$pid.stats"

if ((fails)); then
	echo "report e2e ($ver): $fails failures"
	exit 1
fi
echo "report e2e ($ver): ok"
