#!/usr/bin/env bash
# arm64_qemu_go: the way golat will run on arm64 works under qemu-user here. A Go program
# with cgo (cross_go/) cross-compiled for linux/arm64 (GOARCH=arm64 CGO_ENABLED=1
# CC=aarch64-linux-gnu-gcc) runs directly (binfmt_misc), once alone and once with a tiny
# arm64 C library preloaded (LD_PRELOAD) whose constructor prints a line and counts its
# run in a variable the Go program then reads through dlsym:
#  - the program is an arm64 ELF and reports linux/arm64;
#  - alone it computes its sum and finds no preloaded library;
#  - preloaded: the constructor ran once, before the Go code, on an aarch64 machine
#    (uname as the program sees it), the same sum, and no host dynamic linker saw the
#    LD_PRELOAD (a dynamic qemu-aarch64 makes the host's ld.so complain).
# Skips (77) without the toolchain, the cross compiler or binfmt_misc (qemu.sh).
# Usage: cross_go.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_TEST_WORK)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../gotool.sh
source "$here/../gotool.sh"
# shellcheck source=qemu.sh
source "$here/qemu.sh"
go_toolchain "$1"
work=${GOLAT_TEST_WORK:-${TMPDIR:-/tmp}/golat-testwork}/arm64/go/$ver
rm -rf "$work"
mkdir -p "$work"
arm64_ready "$work"

cat >"$work/preload.c" <<'EOF'
#include <stdio.h>
#include <sys/utsname.h>
__attribute__((visibility("default"))) int crossgo_preload_runs;
__attribute__((constructor)) static void preload_init(void)
{
	struct utsname u;
	crossgo_preload_runs++;
	if (uname(&u) != 0)
		u.machine[0] = 0;
	fprintf(stderr, "preload: constructor on %s\n", u.machine);
}
EOF
"$ARM64_CC" -shared -fPIC -O2 -Wall -Wextra -Werror -o "$work/preload.so" "$work/preload.c" ||
	{ echo "FAIL: $ARM64_CC cannot build the preloaded library"; exit 1; }

(cd "$here/cross_go" && GOARCH=arm64 CC=$ARM64_CC "$go" build -o "$work/crossgo" .) ||
	{ echo "FAIL: $gover cannot cross-build cross_go/ for arm64 with cgo"; exit 1; }
# e_machine (offset 18, 2 bytes little-endian): 183 is EM_AARCH64.
machine=$(od -An -tu2 -j18 -N2 "$work/crossgo" | tr -d ' ')
[[ $machine == 183 ]] || bad "crossgo is not an arm64 ELF (e_machine $machine)"

want_sum=333833500 # sum of i*i for i in 1..1000
timeout 60 "$work/crossgo" >"$work/alone.out" 2>&1
rc=$?
[[ $rc == 0 ]] || bad "crossgo alone exited $rc: $(head -c 300 "$work/alone.out")"
grep -qx "go: linux/arm64 $gover.*" "$work/alone.out" || bad "crossgo alone does not report linux/arm64 $gover: $(head -n1 "$work/alone.out")"
grep -qx "go: sum $want_sum" "$work/alone.out" || bad "crossgo alone computed $(grep 'sum' "$work/alone.out")"
grep -qx "go: preload runs -1" "$work/alone.out" || bad "crossgo alone found a preloaded library: $(grep 'preload' "$work/alone.out")"

# Both streams into one file, so that the constructor's line is seen before the Go code's.
# LD_PRELOAD is set by env, the last host program before the arm64 one: a host program
# started with it (timeout) would have the host's ld.so refuse the arm64 library, loudly.
timeout 60 env LD_PRELOAD="$work/preload.so" "$work/crossgo" >"$work/preload.out" 2>&1
rc=$?
[[ $rc == 0 ]] || bad "crossgo preloaded exited $rc: $(head -c 300 "$work/preload.out")"
[[ $(head -n1 "$work/preload.out") == "preload: constructor on aarch64" ]] ||
	bad "the preloaded constructor's line is not first: $(head -n1 "$work/preload.out")"
grep -qx "go: sum $want_sum" "$work/preload.out" || bad "crossgo preloaded computed $(grep 'sum' "$work/preload.out")"
grep -qx "go: preload runs 1" "$work/preload.out" || bad "the Go program does not see one constructor run: $(grep 'preload runs' "$work/preload.out")"
if grep -q 'ld\.so' "$work/preload.out"; then
	bad "LD_PRELOAD reached a host dynamic linker (a dynamic qemu-aarch64 in binfmt_misc; deps.sh installs qemu-user-static): $(grep 'ld\.so' "$work/preload.out" | head -n1)"
fi
((fail)) && { echo "--- preloaded run:"; cat "$work/preload.out"; exit 1; }
ok "$gover linux/arm64 cgo program under qemu-user: same sum alone and preloaded, the preloaded arm64 constructor ran once, first"
