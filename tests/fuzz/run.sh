#!/usr/bin/env bash
# Builds the reader's libFuzzer target and runs it for a bounded time on a seed corpus
# of real Go binaries (every variant tests/reader built) and truncated and corrupted
# copies of them.
# Usage: run.sh SECONDS   (env GOLAT_TEST_WORK: where tests/reader left its binaries)
set -euo pipefail
secs=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
source "$here/lib.sh"
work=${GOLAT_TEST_WORK:-$top/build/testwork}/fuzz
mkdir -p "$work/corpus"
srcs=()
isa=$top/lib/arch/$(fuzz_isa)
# Every source golat has (a pattern that matches nothing is left out: nullglob), the
# host ISA's folder and its agent part included.
shopt -s nullglob
for f in "$top"/lib/*.c "$top"/lib/*/*.c "$top"/lib/*/*.S "$isa"/*.c "$isa"/*.S "$isa"/agent/*.c "$isa"/agent/*.S; do
	[[ $(basename "$f") == golat.c ]] || srcs+=("$f")
done
shopt -u nullglob
fuzz_build "$work/fuzz_gobin" "$here/fuzz_gobin.c" "${srcs[@]}"
# Seeds: the reader tests' binaries when they ran first, else small Go-less ELFs.
if [[ -x $here/../reader/make-corpus.sh ]]; then
	"$here/../reader/make-corpus.sh" "$work/corpus" >/dev/null 2>&1 || true
fi
# A small linux/arm64 image (arm64-seed.py), whatever the reader tests left.
python3 "$here/arm64-seed.py" "$work/corpus/arm64-min"
if (($(find "$work/corpus" -type f | wc -l) == 1)); then
	cp /bin/true "$work/corpus/true"
	head -c 4096 /bin/true >"$work/corpus/true.head"
fi
fuzz_run fuzz_gobin "$work/fuzz_gobin" "$work/corpus" "$work" "$secs" $((64 << 20))
