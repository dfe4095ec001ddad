# Shared by the hook tests (sourced, not run). Provides:
#   hook_setup AREA GO   sets go, ver (go-1.22), gover (go1.22), here (this folder) and
#                        work (GOLAT_TEST_WORK/hook/AREA/ver), or exits 77 with
#                        "SKIP: go1.N not installed"
#   hook_build DIR OUT [ARGS...]   go build of a test program (CGO on)
#   hook_summary ERRFILE          "hooked H of S, skipped K" and the top skip reasons,
#                                 from golat's info and debug lines
#   bad MSG                       record a failure (fail=1) and say why
#   stderr_clean ERRFILE          every stderr line is golat's
# Env: GOLAT_LIB, GOLAT_TEST_WORK (default: /tmp/golat-testwork).
# shellcheck shell=bash disable=SC2034  # fail, here, work...: set for the sourcing script

source "$(dirname "${BASH_SOURCE[0]}")/../gotool.sh"

hook_setup() {
	local area=$1
	go_toolchain "$2"
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	work=${GOLAT_TEST_WORK:-/tmp/golat-testwork}/hook/$area/$ver
	mkdir -p "$work"
}

# hook_pair AREA PROGDIR: the work directory $work of AREA for this toolchain, and PROGDIR
# built there as exe and as stripped PIE (as distributions ship Go programs).
hook_pair() {
	work=${GOLAT_TEST_WORK:-/tmp/golat-testwork}/$1/$ver
	mkdir -p "$work"
	hook_build "$2" "$work/exe"
	hook_build "$2" "$work/pie" -buildmode=pie -ldflags=-s
}

hook_build() {
	local dir=$1 out=$2
	shift 2
	(cd "$dir" && "$go" build "$@" -o "$out" .) || { echo "FAIL: $gover cannot build $dir"; exit 1; }
}

hook_summary() {
	local err=$1 info
	info=$(grep -m1 -E '^golat: pid [0-9]+ .*hooked [0-9]+ of [0-9]+ selected functions' "$err" || true)
	if [[ -z $info ]]; then
		echo "  (no golat summary line)"
		return
	fi
	echo "  ${info#golat: }"
	# "golat: skipped NAME: NAME: reason" -> reason, without the name and offsets.
	grep -E '^golat: skipped ' "$err" | sed -E 's/^golat: skipped [^ ]+: //; s/^[^ ]+: //' |
		sed -E 's/\+0x[0-9a-f]+/+X/g; s/0x[0-9a-f]+/ADDR/g' | cut -c1-110 |
		sort | uniq -c | sort -rn | head -5 | sed 's/^/    /'
}

stderr_clean() {
	local err=$1
	if grep -v '^golat: ' "$err" | head -5 | grep -q .; then
		bad "stderr lines that are not golat's: $(grep -v '^golat: ' "$err" | head -5)"
	fi
}
