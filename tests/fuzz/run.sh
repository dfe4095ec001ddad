#!/usr/bin/env bash
# Builds the reader's libFuzzer target with clang (ASan + UBSan) and runs it for a
# bounded time on a seed corpus of real Go binaries (every variant tests/reader
# built) and truncated and corrupted copies of them.
# Usage: run.sh SECONDS   (env GOLAT_TEST_WORK: where tests/reader left its binaries)
set -euo pipefail
secs=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
work=${GOLAT_TEST_WORK:-$top/build/testwork}/fuzz
mkdir -p "$work/corpus" "$work/artifacts"
if ! command -v clang >/dev/null; then
	echo "SKIP: clang is not installed (apt-get install clang)"
	exit 77
fi
srcs=()
for f in "$top"/lib/*.c "$top"/lib/*.S; do [[ $(basename "$f") == golat.c ]] || srcs+=("$f"); done
clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Wall -Wextra -Werror -DGOLAT_VERSION_STRING='"fuzz"' -I"$top/lib" -I"$top/include" \
	"$here/fuzz_gobin.c" "${srcs[@]}" $(pkg-config --cflags --libs capstone zlib) \
	-o "$work/fuzz_gobin"
# Seeds: the reader tests' binaries when they ran first, else small Go-less ELFs.
if [[ -x $here/../reader/make-corpus.sh ]]; then
	"$here/../reader/make-corpus.sh" "$work/corpus" >/dev/null 2>&1 || true
fi
n=$(find "$work/corpus" -type f | wc -l)
if ((n == 0)); then
	cp /bin/true "$work/corpus/true"
	head -c 4096 /bin/true >"$work/corpus/true.head"
fi
echo "fuzz_gobin: $(find "$work/corpus" -type f | wc -l) seeds, ${secs}s"
log=$work/fuzz.log
set +e
"$work/fuzz_gobin" -max_total_time="$secs" -rss_limit_mb=4096 -max_len=$((64 << 20)) \
	-timeout=20 -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
	"$work/corpus" >"$log" 2>&1
rc=$?
set -e
grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|Done [0-9]+ runs' "$log" || true
if ((rc != 0)); then
	tail -n 60 "$log"
	echo "fuzz_gobin: FAILED (exit $rc), crashing input in $work/artifacts"
	exit 1
fi
echo "fuzz_gobin: no crash in ${secs}s"
