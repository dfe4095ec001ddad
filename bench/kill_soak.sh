#!/usr/bin/env bash
# The soak of tests/attach/kill.sh: golat killed (SIGKILL) KILLS times (default 1000)
# per installed toolchain, aimed at every step and at random instants of the ptrace
# load, socket windows, and static attach, window and detach, under load. Prints each
# toolchain's summary; exits 1 if any service died or its text differed.
# Usage: bench/kill_soak.sh BUILD_DIR [KILLS]
set -uo pipefail
build=$(cd "${1:?usage: kill_soak.sh BUILD_DIR [KILLS]}" && pwd)
kills=${2:-1000}
here=$(cd "$(dirname "$0")/.." && pwd)
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOLAT_LIB=$build/lib/libgolat.so \
	GOLAT_CLI=$build/tools/golat GOLAT_TEST_WORK=$build/testwork/soak
status=0
for go in /usr/lib/go-1.*/bin/go; do
	out=$("$here/tests/attach/kill.sh" "$go" "$kills" 2>&1)
	rc=$?
	echo "$out" | grep -E '^[A-E] \(|kills,|FAIL|passed|SKIP'
	((rc == 0 || rc == 77)) || status=1
done
exit $status
