#!/usr/bin/env bash
# The whole test suite, from a clean clone: installs what is missing (deps.sh), builds
# golat twice (RelWithDebInfo, and ASan+UBSan), runs every CTest test in the first and
# the tests that do not preload the library in the second (a sanitized shared object
# cannot be LD_PRELOADed into a program that is not), then the fuzzer for a bounded time.
# Env: GOLAT_FUZZ_SECONDS (default 60), JOBS (default: cores), GOLAT_TEST_EVERY=1 (also
# the arm64 tests of the toolchains between the oldest and the newest, label arm64_every:
# each first compiles the arm64 standard library, 80-180 s, which CI leaves out).
# doc/tests.md says what runs here and what the long forms in bench/ are.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./deps.sh
jobs=${JOBS:-$(nproc)}
fuzz=${GOLAT_FUZZ_SECONDS:-60}
export GOTOOLCHAIN=local GOPROXY=off
# The tests call python3 for most checks (up to tens of times each). When python3 on
# PATH is a version manager's shim (pyenv's: a bash script that runs `pyenv exec`), each
# call costs ~0.7 s of CPU instead of ~0.1 s: a link to the interpreter the shim resolves
# to goes first on PATH, the same Python without the shim (nothing else of its directory).
if py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) && [[ -x $py ]] &&
	[[ $(command -v python3) != "$py" ]]; then
	mkdir -p build/python3-bin
	ln -sfn "$py" build/python3-bin/python3
	export PATH=$top/build/python3-bin:$PATH
fi

cmake -S . -B build -DGOLAT_FUZZ_SECONDS="$fuzz" >/dev/null
cmake --build build -j "$jobs"
cmake -S . -B build-asan -DGOLAT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j "$jobs"

status=0
echo "== tests (build/)"
skip='fuzz'
if [[ ${GOLAT_TEST_EVERY:-0} != 1 ]]; then
	skip='fuzz|arm64_every'
	echo "(left out: the arm64 tests of the toolchains between the oldest and the newest; GOLAT_TEST_EVERY=1 runs them)"
fi
ctest --test-dir build --output-on-failure -j "$jobs" -LE "$skip" || status=1
echo "== tests under ASan+UBSan (build-asan/, label asan)"
# reader_go1.N and reader_badinput take the Go programs build/'s run linked (11 per
# toolchain) instead of linking them again (tests/reader/compare.sh, badinput.sh).
GOLAT_READER_BINS=$top/build/testwork/reader \
	ctest --test-dir build-asan --output-on-failure -j "$jobs" -L asan || status=1
echo "== fuzzing the reader (${fuzz}s)"
# The fuzzers run for a fixed time each, not to a count: all at once (-j3) they take
# the time of the longest instead of the sum, with fewer executions each on 2 cores.
ctest --test-dir build --output-on-failure -V -j3 -L fuzz | grep -E "fuzz_[a-z_]+:|stat::|tests passed|tests failed|Failed|error:|undefined reference|ERROR:|SUMMARY:" || status=1
exit $status
