#!/usr/bin/env bash
# arm64_reloc: the host byte tests (test_reloc.c), then the relocated forms executed
# on arm64: runner.c with lib/arch/arm64's encode.c and reloc.c, cross-compiled
# statically and run under qemu-aarch64 (no binfmt_misc needed for a static program).
# Without a cross compiler or qemu that second part alone is skipped, with a line
# saying so (deps.sh installs gcc-aarch64-linux-gnu and qemu-user).
# Usage: reloc.sh TEST_RELOC LIB_ARCH_ARM64_DIR   (env: GOLAT_TEST_WORK)
set -euo pipefail
"$1"
here=$(cd "$(dirname "$0")" && pwd)
src=$2
cc=${ARM64_CC:-aarch64-linux-gnu-gcc}
work=${GOLAT_TEST_WORK:-/tmp}/arm64_reloc
skip() {
	echo "SKIP (execution on arm64 only; the byte tests above passed): $*"
	exit 0
}
command -v "$cc" >/dev/null || skip "no $cc"
mkdir -p "$work"
"$cc" -std=gnu11 -O1 -Wall -Wextra -Werror -static -I"$src" -o "$work/runner" \
	"$here/runner.c" "$src/encode.c" "$src/reloc.c" 2>"$work/cc.err" ||
	skip "$cc cannot build a static program: $(head -n1 "$work/cc.err")"
if command -v qemu-aarch64 >/dev/null; then
	run=(qemu-aarch64 "$work/runner")
elif [[ $(uname -m) == aarch64 ]]; then
	run=("$work/runner")
else
	skip "no qemu-aarch64"
fi
timeout 120 "${run[@]}"
