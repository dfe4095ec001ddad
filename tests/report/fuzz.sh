#!/usr/bin/env bash
# Builds the stats reader's libFuzzer target with clang (ASan + UBSan), as
# tests/fuzz/run.sh builds the binary reader's but from the reader's and the
# renderer's sources only (the rest of lib/ is neither reached nor needed), and runs
# it for a bounded time on seeds: the demo stats file and truncated copies.
# Usage: fuzz.sh SECONDS MKSTATS   (env GOLAT_TEST_WORK)
set -euo pipefail
secs=${1:-30}
mkstats=$2
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
work=${GOLAT_TEST_WORK:-$top/build/testwork}/fuzz-stats
mkdir -p "$work/corpus" "$work/artifacts"
if ! command -v clang >/dev/null; then
	echo "SKIP: clang is not installed (apt-get install clang)"
	exit 77
fi
srcs=()
for f in statsread statsagg report report_export json; do srcs+=("$top/lib/$f.c"); done
clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Wall -Wextra -Werror -DGOLAT_VERSION_STRING='"fuzz"' -I"$top/lib" -I"$top/include" \
	"$here/fuzz_stats.c" "${srcs[@]}" -lm \
	-o "$work/fuzz_stats"
# Seeds: the demo file (8 function slots, 4 shards: 350 KB) and a one-function,
# one-shard file (20 KB) whose mutations land more often in fields that matter.
"$mkstats" "$work/corpus/demo"
"$mkstats" --small "$work/corpus/small"
head -c 4096 "$work/corpus/demo" >"$work/corpus/header"
head -c 12288 "$work/corpus/small" >"$work/corpus/short"
echo "fuzz_stats: $(find "$work/corpus" -type f | wc -l) seeds, ${secs}s"
log=$work/fuzz.log
set +e
"$work/fuzz_stats" -max_total_time="$secs" -rss_limit_mb=4096 -max_len=65536 \
	-timeout=20 -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
	"$work/corpus" >"$log" 2>&1
rc=$?
set -e
grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|Done [0-9]+ runs' "$log" || true
if ((rc != 0)); then
	tail -n 60 "$log"
	echo "fuzz_stats: FAILED (exit $rc), crashing input in $work/artifacts"
	exit 1
fi
echo "fuzz_stats: no crash in ${secs}s"
