# Sourced by the test scripts that build Go programs. go_toolchain GO sets go, ver
# (go-1.22), gover (go1.22) and the Go environment of the tests (local toolchain only,
# no module proxy, cgo on), checks that GOLAT_LIB exists, or exits 77 with
# "SKIP: go1.N not installed" when the toolchain is missing (CTest counts it skipped).
# bad MSG records a failure (fail=1) and says why; ok MSG says what passed.
# shellcheck shell=bash disable=SC2034  # go, ver, gover, fail: for the sourcing script
fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}
ok() { echo "ok: $*"; }

go_toolchain() {
	go=$1
	ver=$(basename "$(dirname "$(dirname "$go")")")
	gover=go${ver#go-}
	if [[ ! -x $go ]]; then
		echo "SKIP: $gover not installed"
		exit 77
	fi
	: "${GOLAT_LIB:?GOLAT_LIB must name libgolat.so}"
	[[ -f $GOLAT_LIB ]] || { echo "FAIL: GOLAT_LIB=$GOLAT_LIB does not exist"; exit 1; }
	export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=1
}

# wait_until SECONDS CMD...: polls CMD every 50 ms until it succeeds (0) or SECONDS have
# passed (1): for a state the test can check, instead of a sleep that guesses.
wait_until() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 20; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}
