#!/usr/bin/env bash
# The long forms of the attach soaks CTest runs short: tests/attach/cycles.sh (attach,
# window, detach of a preloaded service under load) and tests/attach/ptrace.sh (a fresh
# service loaded through ptrace under load and signals, each cycle), CYCLES times (default
# 50) on every installed toolchain, and tests/hook/torture.sh for SECONDS (default 60).
# CTest runs 10, 10 and 15 s on the newest toolchain and 3, 4 and 5 s on the others
# (tests/CMakeLists.txt, GOLAT_GO_NEWEST). Prints each run's verdict; exits 1 if any failed.
# Usage: bench/attach_soak.sh BUILD_DIR [CYCLES] [SECONDS]
set -uo pipefail
build=$(cd "${1:?usage: attach_soak.sh BUILD_DIR [CYCLES] [SECONDS]}" && pwd)
cycles=${2:-50}
secs=${3:-60}
here=$(cd "$(dirname "$0")/.." && pwd)
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOLAT_LIB=$build/lib/libgolat.so \
	GOLAT_CLI=$build/tools/golat GOLAT_TEST_WORK=$build/testwork/soak
status=0
for go in /usr/lib/go-1.*/bin/go; do
	for t in "attach/cycles.sh $go $cycles" "attach/ptrace.sh $go $cycles" "hook/torture.sh $go"; do
		read -r script args <<<"$t"
		# shellcheck disable=SC2086 # args: GO and the count, words on purpose
		out=$(TORTURE_SECONDS=$secs "$here/tests/$script" $args 2>&1)
		rc=$?
		echo "$out" | grep -E '^FAIL|all checks passed|^SKIP|^  churn:' | sed "s|^|$script: |"
		((rc == 0 || rc == 77)) || status=1
	done
done
exit $status
