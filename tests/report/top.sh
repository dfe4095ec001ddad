#!/usr/bin/env bash
# golat top's sort keys and filter on a real cgo Go program (tests/report/prog in `top`
# mode, libgolat.so preloaded), whose three functions come in a different order by
# each key: --sort and --filter in the plain mode scripts read (stdout not a
# terminal), then the keys on a terminal, and the terminal restored on every way out
# (top_keys.py, in a pty).
# Usage: top.sh GO   (env GOLAT_CLI, GOLAT_LIB, GOLAT_TEST_WORK)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../gotool.sh"
go_toolchain "$1"
golat=${GOLAT_CLI:?GOLAT_CLI is the golat binary}
if [[ $(ldd "$golat" 2>/dev/null) == *libasan* ]]; then
	echo "SKIP: golat is built with ASan, whose runtime cannot be preloaded into Go"
	exit 77
fi
work=${GOLAT_TEST_WORK:-/tmp}/report-top-$ver
rm -rf "$work" && mkdir -p "$work"
# The user's warm build cache (see e2e.sh); one of our own only without a home.
[[ -n ${GOCACHE:-}${XDG_CACHE_HOME:-}${HOME:-} ]] || export GOCACHE=${GOLAT_TEST_WORK:-/tmp}/report-gocache
(cd "$here/prog" && "$go" build -o "$work/prog" .) || { echo "FAIL: go build"; exit 1; }

LD_PRELOAD=$GOLAT_LIB GOLAT_FUNCS='main.many,main.tail,main.steady' GOLAT_LOG=quiet \
	GOLAT_OUTPUT=/dev/null "$work/prog" top "$work/ready" &
pid=$!
# Killed at the end, its stats file removed (a kill -9 skips the library's removal).
trap 'kill -9 $pid; wait $pid; rm -f /dev/shm/golat-$pid.stats' EXIT
for _ in $(seq 300); do [[ -e $work/ready ]] && break; sleep 0.1; done
[[ -e $work/ready ]] || { echo "FAIL: the program never got ready"; exit 1; }

# plain ARGS... -- NAMES...: one table, its rows in that order.
plain() {
	local args=() want
	while [[ $1 != -- ]]; do args+=("$1"); shift; done
	shift
	want="$*"
	"$golat" top "$pid" -n 1 "${args[@]}" >"$work/out" 2>"$work/err" || { bad "top ${args[*]}: $(cat "$work/err")"; return; }
	local got
	got=$(awk '/^main\./ {printf "%s%s", sep, $1; sep=" "}' "$work/out")
	[[ $got == "$want" ]] && ok "top ${args[*]}: $got" || bad "top ${args[*]}: '$got', want '$want': $(cat "$work/out")"
}
plain -- main.steady main.tail main.many
plain --sort total -- main.steady main.tail main.many
plain --sort p99 -- main.tail main.steady main.many
plain --sort=calls -- main.many main.tail main.steady
plain --sort self -- main.steady main.tail main.many
plain --filter ma -- main.steady main.tail main.many
plain --filter tail -- main.tail
plain --filter 'main.[mt]*' --sort calls -- main.many main.tail
plain --filter '*y' -- main.steady main.many
plain --filter nothing --
grep -q "by calls, filter 'main.\[mt\]\*': 2$" <("$golat" top "$pid" -n 1 --sort calls --filter 'main.[mt]*') ||
	bad "the title names the sort and the filter"
for a in "--sort" "--sort mean" "--filter"; do
	# shellcheck disable=SC2086
	"$golat" top "$pid" $a >/dev/null 2>"$work/err"
	[[ $? == 2 ]] && grep -q '^usage:' "$work/err" || bad "top $a: not a usage error"
done

python3 "$here/top_keys.py" "$golat" "$pid" || fail=1
((fail)) && exit 1
echo "top: ok"
