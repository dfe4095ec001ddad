# Shared by the scale tests (sourced, not run). Provides:
#   scale_setup AREA GO      the toolchain (go, ver, gover), the work directory (work), this
#                            folder (here), a kill of leftover programs on exit; or exit 77
#                            with "SKIP: go1.N not installed"
#   build_many NFUNCS [static]  builds tests/scale/many with NFUNCS generated functions
#                            (genfuncs.py) as $work/many (cgo), and with static also as
#                            $work/many-static (CGO_ENABLED=0, for golat run)
#   build_goroutines         builds tests/scale/goroutines as $work/goroutines
#   spec_funcs N             GOLAT_FUNCS for the first N generated functions: main.f0000,...
#   run NAME CMD...          runs CMD with stdout, stderr and exit status in $work/NAME.out,
#                            .err, .rc; prints nothing; never fails
#   same_as BASE NAME        checks run NAME against the unhooked run BASE: the same exit
#                            status, stdout, and stderr once golat's own lines are taken out,
#                            and no Go crash on stderr
#   reserve_lines NAME       how many lines of NAME.err match 'golat: .*cannot reserve'
#                            (case-insensitive): golat's word for "not enough space"
#   allocated FILE           bytes allocated to FILE (st_blocks * 512), -1 if it is not there
#   check ARGS...            python3 check.py ARGS... (JSON checks; prints what it saw)
#   bad MSG / ok MSG         a failed check (fail=1) and why / a passed one
#   mib BYTES                BYTES in MiB, one decimal
#   median N...              the median of integers
#   finish                   prints the verdict and the time taken, and exits with it
# Env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK (default: /tmp/golat-testwork).
# shellcheck shell=bash

source "$(dirname "${BASH_SOURCE[0]}")/../gotool.sh"

scale_setup() {
	area=$1
	go_toolchain "$2"
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	work=${GOLAT_TEST_WORK:-/tmp/golat-testwork}/scale/$area/$ver
	rm -rf "$work"
	mkdir -p "$work"
	started=$SECONDS
	# A check that fails while a program runs in the background must not leave it running.
	trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
}

build_many() {
	local src=$work/src/many
	mkdir -p "$src"
	cp "$here/many/go.mod" "$here/many/main.go" "$here/many/cgo.go" "$src/"
	if ! python3 "$here/genfuncs.py" "$1" "$src/funcs_gen.go" ||
		! (cd "$src" && "$go" build -o "$work/many" .) ||
		{ [[ ${2:-} == static ]] && ! (cd "$src" && CGO_ENABLED=0 "$go" build -o "$work/many-static" .); }; then
		echo "FAIL: $gover cannot build the many-functions program"
		exit 1
	fi
}

build_goroutines() {
	(cd "$here/goroutines" && "$go" build -o "$work/goroutines" .) || {
		echo "FAIL: $gover cannot build $here/goroutines"
		exit 1
	}
}

spec_funcs() {
	seq -f 'main.f%04g' 0 $(($1 - 1)) | paste -sd, -
}

run() {
	local name=$1 rc=0
	shift
	"$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
	echo $rc >"$work/$name.rc"
}

same_as() {
	local base=$work/$1 run=$work/$2 crash
	crash=$(grep -m3 -E 'fatal error|unexpected fault address|SIGBUS|SIGSEGV|^panic:|^runtime:' "$run.err" || true)
	if [[ -n $crash ]]; then
		bad "$2: the program crashed (exit status $(cat "$run.rc")): $(echo "$crash" | tr '\n' ' ')"
		return
	fi
	if [[ $(cat "$run.rc") != "$(cat "$base.rc")" ]]; then
		bad "$2: exit status $(cat "$run.rc"), $(cat "$base.rc") without golat; stderr: $(grep -v '^golat: ' "$run.err" | tail -3)"
	elif ! cmp -s "$base.out" "$run.out"; then
		bad "$2: stdout differs from the run without golat ($(wc -c <"$run.out") bytes, $(wc -c <"$base.out") without)"
	elif ! diff -q <(cat "$base.err") <(grep -v '^golat: ' "$run.err") >/dev/null; then
		bad "$2: stderr (golat's lines taken out) differs from the run without golat: $(grep -v '^golat: ' "$run.err" | head -3)"
	else
		ok "$2: exit status $(cat "$run.rc"), stdout and stderr the same as without golat"
	fi
}

reserve_lines() {
	grep -ciE 'golat: .*cannot reserve' "$work/$1.err" || true
}

allocated() {
	python3 -c 'import os, sys
try:
    print(os.stat(sys.argv[1]).st_blocks * 512)
except OSError:
    print(-1)' "$1"
}

mib() {
	python3 -c 'import sys; print(f"{int(sys.argv[1]) / 1048576:.1f}")' "$1"
}

check() {
	python3 "$here/check.py" "$@"
}

finish() {
	local took=$((SECONDS - started))
	if ((fail == 0)); then
		echo "scale $area $gover: all checks passed (${took}s)"
	else
		echo "scale $area $gover: FAILED (${took}s)"
	fi
	exit $fail
}

median() {
	python3 -c 'import statistics, sys; print(int(statistics.median(int(a) for a in sys.argv[1:])))' "$@"
}
