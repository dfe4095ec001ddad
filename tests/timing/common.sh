# Shared by the timing tests (sourced, not run). Provides:
#   timing_setup AREA GO     the toolchain (ver, e.g. go-1.22; gover, e.g. go1.22), the work
#                            directory (work), the test's own folder (here); or exit 77 with
#                            "SKIP: go1.N not installed"
#   timing_build PROGDIR     builds PROGDIR as each of bins: $work/exe (go build) and
#                            $work/pie (-buildmode=pie, then strip, as distributions ship them)
#   bins                     the binaries' names: GOLAT_TIMING_BINS, default "exe pie"
#   check ARGS...            python3 check.py ARGS... (JSON checks; prints what it saw)
#   bad MSG / ok MSG         a failed check (fail=1) and why / a passed one
#   finish                   prints the verdict and exits with it
#   stats_default PID        the default stats file of a process (/dev/shm, else $TMPDIR)
#   wait_for FILE SECONDS    polls until FILE exists (0) or the time is up (1)
# Env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK (default: /tmp/golat-testwork),
# GOLAT_TIMING_BINS (CTest gives the older toolchains "pie" alone: tests/timing/CMakeLists.txt).
# shellcheck shell=bash

source "$(dirname "${BASH_SOURCE[0]}")/../gotool.sh"

timing_setup() {
	area=$1
	go_toolchain "$2"
	: "${GOLAT_CLI:?GOLAT_CLI must name the golat command}"
	[[ -x $GOLAT_CLI ]] || { echo "FAIL: GOLAT_CLI=$GOLAT_CLI is not executable"; exit 1; }
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	work=${GOLAT_TEST_WORK:-/tmp/golat-testwork}/timing/$area/$ver
	rm -rf "$work"
	mkdir -p "$work"
	# shellcheck disable=SC2034 # for the scripts that source this
	read -ra bins <<<"${GOLAT_TIMING_BINS:-exe pie}"
	# A check that fails while a program runs in the background must not leave it running.
	trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
}

timing_build() {
	local dir=$1 bin
	for bin in "${bins[@]}"; do
		case $bin in
		exe) (cd "$dir" && "$go" build -o "$work/exe" .) ;;
		pie) (cd "$dir" && "$go" build -buildmode=pie -o "$work/pie" . && strip "$work/pie") ;;
		*) false ;;
		esac || { echo "FAIL: $gover cannot build $dir as $bin"; exit 1; }
	done
}

check() {
	python3 "$here/check.py" "$@"
}

finish() {
	if ((fail == 0)); then
		echo "timing $area $gover: all checks passed"
	else
		echo "timing $area $gover: FAILED"
	fi
	exit $fail
}

stats_default() {
	local dir=/dev/shm
	[[ -d $dir && -w $dir ]] || dir=${TMPDIR:-/tmp}
	echo "$dir/golat-$1.stats"
}

wait_for() {
	wait_until "$2" test -e "$1"
}
