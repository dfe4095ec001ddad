# Shared by the static tests (sourced, not run). Provides, on top of ../hook/common.sh
# (bad, ok, stderr_clean, hook_summary):
#   static_setup AREA GO   the toolchain (go, ver, gover; exit 77 "SKIP: go1.N not
#                          installed" when missing), here (this folder), golat (the CLI),
#                          work (GOLAT_TEST_WORK/static/AREA/ver, emptied); cgo off
#   static_build OUT [ARGS...]   go build of prog/ to OUT, which must come out without
#                          cgo (is_static)
#   is_static BIN          BIN needs no shared library: no PT_INTERP (an exe), or, as Go's
#                          internal linker makes a PIE, a PT_INTERP with no DT_NEEDED: the
#                          loader relocates it but there is no libc, Go owns FS (settls,
#                          runtime/sys_linux_amd64.s), and LD_PRELOAD cannot serve
#   run_pid PID EXE        prints the pid of the process running EXE among PID, its children
#                          and theirs (the program golat run started), waiting up to 2 s
#   refused_static ERRFILE when golat refused a static program (the route of issue 11
#                          is missing): fails the test saying so, and exits
#   verdict WHAT CMD...    ok "WHAT: output" when CMD succeeds, else bad with its output
#   finish                 the verdict line, exit $fail
# Env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK (default: /tmp/golat-testwork).
# shellcheck shell=bash disable=SC2034  # golat, work...: for the sourcing script

source "$(dirname "${BASH_SOURCE[0]}")/../hook/common.sh"

static_setup() {
	area=$1
	go_toolchain "$2"
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	golat=${GOLAT_CLI:?GOLAT_CLI must name the golat command}
	[[ -x $golat ]] || { echo "FAIL: GOLAT_CLI=$golat is not executable"; exit 1; }
	work=${GOLAT_TEST_WORK:-/tmp/golat-testwork}/static/$area/$ver
	rm -rf "$work"
	mkdir -p "$work"
	export CGO_ENABLED=0
	# A check that fails while a program runs in the background must not leave it running.
	trap 'kill -9 $(jobs -p) 2>/dev/null || true' EXIT
}

is_static() {
	readelf -lW "$1" 2>/dev/null | grep -q 'LOAD' &&
		{ ! readelf -lW "$1" | grep -q 'INTERP' || ! readelf -dW "$1" | grep -q NEEDED; }
}

static_build() {
	local out=$1
	shift
	(cd "$here/prog" && "$go" build "$@" -o "$out" .) || { echo "FAIL: $gover cannot build prog/ $*"; exit 1; }
	is_static "$out" || { echo "FAIL: $gover built ${out##*/} ($*) with a PT_INTERP: needs shared libraries: $(file -b "$out")"; exit 1; }
}

run_pid() {
	local root=$1 exe=$2 i p
	for ((i = 0; i < 40; i++)); do
		for p in $root $(ps -o pid= --ppid "$root" 2>/dev/null) \
			$(for c in $(ps -o pid= --ppid "$root" 2>/dev/null); do ps -o pid= --ppid "$c"; done); do
			if [[ $(readlink "/proc/$p/exe" 2>/dev/null) == "$exe" ]]; then
				echo "$p"
				return 0
			fi
		done
		sleep 0.05
	done
	return 1
}

refused_static() {
	if grep -q 'statically linked' "$1" && ! grep -q 'hooked' "$1"; then
		bad "golat refuses statically linked programs (the static route of issue 11 is not in this build): $(head -3 "$1")"
		finish
	fi
}

# verdict WHAT CMD...: ok or bad WHAT, with what CMD printed.
verdict() {
	local what=$1 why
	shift
	if why=$("$@" 2>&1); then
		ok "$what: $why"
	else
		bad "$what: $why"
	fi
}

finish() {
	if ((fail == 0)); then
		echo "static $area $gover: all checks passed"
	else
		echo "static $area $gover: FAILED"
	fi
	exit $fail
}
