#!/usr/bin/env bash
# dwarf_go<V>: lib/reader/dwarf.c reads the same struct member offsets as Go's own debug/dwarf
# (tests/dwarf/ref, built by the newest installed toolchain) from cgo PIE programs built
# by go<V>: with the DWARF compressed as Go leaves it, and uncompressed
# (-compressdwarf=false). The same program stripped with -s -w gives -ENOENT, and
# truncated or corrupted copies of its debug sections give errors, never a crash.
# Prints the goid offset and the DWARF version for the version table in lib/reader/goff.c.
# Usage: run.sh 1.N DWARF_TEST   (env GOLAT_TEST_WORK: where to build)
set -euo pipefail
ver=$1
dwarf_test=$2
here=$(cd "$(dirname "$0")" && pwd)
go=/usr/lib/go-$ver/bin/go
if [[ ! -x $go ]]; then
	echo "SKIP: go$ver not installed"
	exit 77
fi
newest=
for v in 1.27 1.26 1.25 1.24 1.23 1.22 1.21 1.19; do
	if [[ -x /usr/lib/go-$v/bin/go ]]; then newest=/usr/lib/go-$v/bin/go; break; fi
done
work=${GOLAT_TEST_WORK:-$here/../../build/testwork}/dwarf/go$ver
mkdir -p "$work"
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=1

(cd "$here/ref" && "$newest" build -o "$work/ref" .)
(cd "$here/prog" &&
	"$go" build -buildmode=pie -o "$work/prog" . &&
	"$go" build -buildmode=pie -ldflags=-compressdwarf=false -o "$work/prog-plain" . &&
	"$go" build -buildmode=pie -ldflags='-s -w' -o "$work/prog-stripped" .)

# TYPE MEMBER pairs: what golat uses (goid, m, stack.hi) and more of the same structs.
pairs=(runtime.g goid runtime.g stack runtime.g m runtime.stack hi runtime.stack lo
	runtime.m procid runtime.g stack.hi runtime.g stackguard0 runtime.g sched
	runtime.g sched.sp runtime.gobuf pc runtime.m g0 runtime.m curg runtime.g _panic
	runtime.g atomicstatus runtime.p id golat_cgo_probe b golat_cgo_probe in.y
	main.nosuch x runtime.g nosuch runtime.g m.procid)
status=0
for bin in prog prog-plain; do
	"$work/ref" "$work/$bin" "${pairs[@]}" >"$work/$bin.want"
	"$dwarf_test" "$work/$bin" "${pairs[@]}" >"$work/$bin.got" 2>"$work/$bin.time"
	if diff -u <(grep -v '^#' "$work/$bin.want") "$work/$bin.got"; then
		echo "go$ver $bin: $((${#pairs[@]} / 2)) offsets agree with debug/dwarf ($(cat "$work/$bin.time"))"
	else
		echo "FAIL: go$ver $bin: offsets differ from debug/dwarf (- want, + got)"
		status=1
	fi
done
echo "go$ver: runtime.g goid at $(awk '$2 == "goid" {print $3}' "$work/prog.got"), DWARF" \
	"$(sed -n 's/^# dwarf //p' "$work/prog.want")"

"$dwarf_test" --enoent "$work/prog-stripped" || status=1
"$dwarf_test" --damage "$work/prog" runtime.g stack.hi || status=1
exit $status
