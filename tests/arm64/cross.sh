#!/usr/bin/env bash
# arm64_cross: the arm64 cross build works from a clean work dir and what it builds runs.
# Configures this tree with cmake/aarch64-linux-gnu.cmake into the test's own work dir
# (never the shared build-arm64), builds it (-j2), then:
#  - configure says which targets an arm64 build has and which it lacks (cmake/arm64.cmake);
#  - the reader library and the unit tests are arm64 objects (e_machine EM_AARCH64);
#  - CTest of that build runs its unit tests (the reader's test_pclntab, test_spec) under
#    qemu-user (the toolchain file's CMAKE_CROSSCOMPILING_EMULATOR), and every one passes.
# The build is incremental across runs (the work dir stays); a fresh CI machine compiles
# all of it, ~10 CPU-s. Skips (77) without the cross compiler or binfmt_misc (qemu.sh).
# Usage: cross.sh SOURCE_DIR CMAKE CTEST   (env: GOLAT_TEST_WORK)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../gotool.sh
source "$here/../gotool.sh"
# shellcheck source=qemu.sh
source "$here/qemu.sh"
src=$1 cmake=$2 ctest=$3
work=${GOLAT_TEST_WORK:-${TMPDIR:-/tmp}/golat-testwork}/arm64/cross
mkdir -p "$work"
arm64_ready "$work"
build=$work/build
if ! "$cmake" -S "$src" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$src/cmake/aarch64-linux-gnu.cmake" \
	>"$work/configure.log" 2>&1; then
	echo "FAIL: the arm64 configure failed:"
	tail -n 20 "$work/configure.log"
	exit 1
fi
has=$(grep -m1 -- '-- arm64 build: ' "$work/configure.log")
[[ -n $has ]] || bad "configure did not say what an arm64 build has (cmake/arm64.cmake)"
echo "${has#-- }"
if ! "$cmake" --build "$build" -j2 >"$work/build.log" 2>&1; then
	echo "FAIL: the arm64 build failed:"
	grep -m5 -E 'error|Error' "$work/build.log"
	tail -n 10 "$work/build.log"
	exit 1
fi

# e_machine (offset 18, 2 bytes little-endian): 183 is EM_AARCH64.
for f in test_pclntab test_spec; do
	[[ -f $build/$f ]] || { bad "the arm64 build has no $f"; continue; }
	m=$(od -An -tu2 -j18 -N2 "$build/$f" | tr -d ' ')
	[[ $m == 183 ]] || bad "$f is not an arm64 ELF (e_machine $m)"
done
lib=$(find "$build" -name libgolat_reader.a -print -quit)
if [[ -z $lib ]]; then
	bad "the arm64 build has no libgolat_reader.a"
else
	# ar's first member's ELF header: the archive's objects are arm64's.
	obj=$(ar t "$lib" | head -n1)
	m=$(ar p "$lib" "$obj" | od -An -tu2 -j18 -N2 | tr -d ' ')
	[[ $m == 183 ]] || bad "$obj in libgolat_reader.a is not arm64 (e_machine $m)"
fi

"$ctest" --test-dir "$build" -L unit --output-on-failure --timeout 60 >"$work/ctest.log" 2>&1
rc=$?
sed -n '/^ *[0-9]*\/[0-9]* Test/p' "$work/ctest.log"
summary=$(grep -E '^[0-9]+% tests passed' "$work/ctest.log")
if [[ $rc != 0 || $summary != "100% tests passed, 0 tests failed out of "* ]]; then
	bad "the arm64 unit tests under qemu-user: ${summary:-no summary}"
	tail -n 30 "$work/ctest.log"
fi
if grep -q 'Not Run\|Skipped' "$work/ctest.log"; then
	bad "an arm64 unit test did not run"
fi
((fail)) && exit 1
ok "the arm64 build configures and builds, and its unit tests pass under qemu-user (${summary##*out of } tests)"
