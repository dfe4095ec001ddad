#!/usr/bin/env bash
# Builds the signatures index's libFuzzer target and runs it for a bounded time, seeded
# with the debug sections of tests/args/prog as built by each installed toolchain
# (DWARF 4 and 5, addr and addrx) and cut copies of them.
# Usage: args.sh SECONDS   (env GOLAT_TEST_WORK: where to build)
set -euo pipefail
secs=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
source "$here/lib.sh"
work=${GOLAT_TEST_WORK:-$top/build/testwork}/fuzz-args
mkdir -p "$work/corpus"
fuzz_build "$work/fuzz_dwarf_args" "$here/fuzz_dwarf_args.c" "$top"/lib/reader/dwarf*.c \
	"$top"/lib/reader/elfimg.c "$top"/lib/glibc_compat.c
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=0
for v in 1.19 1.21 1.22 1.23 1.24 1.26 1.27; do
	go=/usr/lib/go-$v/bin/go
	[[ -x $go ]] || continue
	(cd "$top/tests/args/prog" && "$go" build -ldflags=-compressdwarf=false -o "$work/prog$v" .)
	"$here/args-seed.py" "$work/prog$v" "$work/corpus/go$v"
	head -c 20000 "$work/corpus/go$v" >"$work/corpus/go$v.cut"
done
fuzz_run fuzz_dwarf_args "$work/fuzz_dwarf_args" "$work/corpus" "$work" "$secs" $((2 << 20))
