#!/usr/bin/env bash
# args_big: lib/reader/dwarf_args.c on a large real binary, cmd/go built by the newest
# installed toolchain (~16k functions, compressed DWARF): the parameters it finds agree
# with debug/dwarf for every function, 98% of the signatures with the argument frames the
# compiler recorded, and indexing them all takes well under a second.
# Usage: big.sh ARGS_TEST   (env GOLAT_TEST_WORK: where to build)
set -euo pipefail
args_test=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/names.sh"
go=
for v in 1.27 1.26 1.25 1.24 1.23 1.22 1.21 1.19; do
	if [[ -x /usr/lib/go-$v/bin/go ]]; then go=/usr/lib/go-$v/bin/go; break; fi
done
[[ -n $go ]] || { echo "SKIP: no Go toolchain installed"; exit 77; }
work=${GOLAT_TEST_WORK:-$here/../../build/testwork}/args/big
mkdir -p "$work"
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=0
"$go" build -o "$work/cmdgo" cmd/go
status=0
same_names "$work/cmdgo" "$work" "cmd/go ($("$go" env GOVERSION))" || status=1
# The pclntab's frames confirm nearly every signature; the rest are assembly functions
# (no DWARF parameters), ABI0 wrappers, closures the compiler gave extra parameters.
"$args_test" --frames "$work/cmdgo" >"$work/frames.txt"
tail -1 "$work/frames.txt"
read -r same _ total _ < <(tail -1 "$work/frames.txt")
if ((same * 100 < total * 98)); then
	echo "FAIL: fewer than 98% of the signatures agree with the pclntab's frames"
	status=1
fi
"$args_test" --time "$work/cmdgo" | tee "$work/time.txt"
ms=$(awk '/functions, .* with DWARF/ {print $(NF-2)}' "$work/time.txt")
if ((ms > 2000)); then
	echo "FAIL: indexing every function took ${ms} ms of CPU"
	status=1
fi
exit $status
