#!/usr/bin/env bash
# The whole test suite, from a clean clone: installs what is missing (deps.sh), builds
# golat twice (RelWithDebInfo, and ASan+UBSan), runs every CTest test in the first and
# the tests that do not preload the library in the second (a sanitized shared object
# cannot be LD_PRELOADed into a program that is not), then the fuzzer for a bounded time.
# Env: GOLAT_FUZZ_SECONDS (default 60), JOBS (default: cores).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./deps.sh
jobs=${JOBS:-$(nproc)}
fuzz=${GOLAT_FUZZ_SECONDS:-60}
export GOTOOLCHAIN=local GOPROXY=off

cmake -S . -B build -DGOLAT_FUZZ_SECONDS="$fuzz" >/dev/null
cmake --build build -j "$jobs"
cmake -S . -B build-asan -DGOLAT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j "$jobs"

status=0
echo "== tests (build/)"
ctest --test-dir build --output-on-failure -j "$jobs" -LE fuzz || status=1
echo "== tests under ASan+UBSan (build-asan/, label asan)"
ctest --test-dir build-asan --output-on-failure -j "$jobs" -L asan || status=1
echo "== fuzzing the reader (${fuzz}s)"
ctest --test-dir build --output-on-failure -V -L fuzz | grep -E "fuzz_[a-z_]+:|stat::|tests passed|tests failed|Failed|error:|undefined reference|ERROR:|SUMMARY:" || status=1
exit $status
