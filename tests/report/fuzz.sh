#!/usr/bin/env bash
# Builds the stats reader's libFuzzer target with clang (ASan + UBSan), as
# tests/fuzz/run.sh builds the binary reader's (tests/fuzz/lib.sh) but from the readers' and the
# renderer's sources only (the rest of lib/ is neither reached nor needed), and runs
# it for a bounded time on seeds: the demo stats file and truncated copies.
# Usage: fuzz.sh SECONDS MKSTATS   (env GOLAT_TEST_WORK)
set -euo pipefail
secs=${1:-30}
mkstats=$2
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
work=${GOLAT_TEST_WORK:-$top/build/testwork}/fuzz-stats
mkdir -p "$work/corpus"
source "$top/tests/fuzz/lib.sh"
srcs=()
for f in report/statsread report/statsagg report/statssite report/report report/report_export \
	report/report_prom report/report_calls report/callsite report/json report/pbwire report/report_native report/heatread paths proc target glibc_compat; do
	srcs+=("$top/lib/$f.c")
done
srcs+=("$top"/lib/reader/*.c) # callsite.c names call sites through the binary the file names
fuzz_build "$work/fuzz_stats" "$here/fuzz_stats.c" "${srcs[@]}"
# Seeds: the demo file (8 function slots, 16 pages: 80 KB) and a one-function file
# whose header, names and first pages (head -c) make shorter seeds.
"$mkstats" "$work/corpus/demo"
"$mkstats" --small "$work/corpus/small"
head -c 4096 "$work/corpus/demo" >"$work/corpus/header"
head -c 12288 "$work/corpus/small" >"$work/corpus/short"
# A ring of per-interval counts as the target forces its header (bytes 8 and 12: two
# slots of 64 bytes), each slot holding one function's cell.
python3 - "$work/corpus/ring" <<'EOF'
import struct, sys
out = bytearray(4096)
out[8] = 1
for i in range(2):
    out += struct.pack("<IIIIQQQQ", 2, 1, 0, 16, i, 0, 10**9, 3 * 10**12) + struct.pack("<IIII", i, 1, 45, 7)
open(sys.argv[1], "wb").write(out)
EOF
fuzz_run fuzz_stats "$work/fuzz_stats" "$work/corpus" "$work" "$secs" 65536
