#!/usr/bin/env bash
# Stops the world 1000 times, then patches and unpatches a Go function 1000 times, in a
# running Go program built by one toolchain (goprog/), with stw_preload.so preloaded:
# once with the stop handler installed by the constructor before the Go runtime starts,
# once installed while the runtime runs (STWTEST_LATE=1). GOMAXPROCS=4. STWTEST_CYCLES
# (300 from CTest on all but the newest toolchain) changes the 1000s.
# Usage: run_go.sh /usr/lib/go-1.N/bin/go PRELOAD.so      (env: GOLAT_TEST_WORK)
set -euo pipefail
go=$1
preload=$2
ver=$(basename "$(dirname "$(dirname "$go")")")
if [[ ! -x $go ]]; then echo "SKIP: go${ver#go-} not installed"; exit 77; fi
here=$(cd "$(dirname "$0")" && pwd)
work=${GOLAT_TEST_WORK:-/tmp/golat-testwork}/stw/$ver
mkdir -p "$work"
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod
[[ -n ${HOME:-} || -n ${GOCACHE:-} ]] || export GOCACHE=$work/gocache

(cd "$here/goprog" && CGO_ENABLED=1 "$go" build -o "$work/stwprog" .)
status=0
for late in 0 1; do
	if ! STWTEST_LATE=$late GOMAXPROCS=4 LD_PRELOAD=$preload timeout 300 "$work/stwprog"; then
		echo "FAIL: $ver, STWTEST_LATE=$late"
		status=1
	fi
done
exit $status
