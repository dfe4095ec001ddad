# Sourced by the serve tests: the test program built with a real toolchain, started
# with libgolat.so preloaded, and golat serve started on a free port.
# common_setup GO NAME: go_toolchain (exit 77 without it), $work, $golat, $exe (the
# program, built into a directory whose name needs escaping in a label value:
# we"ird\dir), and a trap that kills what the test started.
# shellcheck shell=bash disable=SC2034  # work, exe, port, serve_pid: for the test
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../gotool.sh
source "$here/../gotool.sh"

common_setup() {
	go_toolchain "$1"
	golat=${GOLAT_CLI:?GOLAT_CLI is the golat binary}
	if [[ $(ldd "$golat" 2>/dev/null) == *libasan* ]]; then
		echo "SKIP: golat is built with ASan, whose runtime cannot be preloaded into Go"
		exit 77
	fi
	work=${GOLAT_TEST_WORK:-/tmp}/$2-$ver
	rm -rf "$work" && mkdir -p "$work/tmp" "$work/we\"ird\\dir"
	exe=$work/we\"ird\\dir/prog
	export GOCACHE=${GOLAT_TEST_WORK:-/tmp}/serve-gocache-$ver
	(cd "$here/prog" && "$go" build -o "$exe" .) || { echo "FAIL: go build"; exit 1; }
	trap cleanup EXIT
}

# A failed check must leave no program running, and the programs killed here no stats
# file behind in /dev/shm (a kill -9 skips the library's removal of it).
started=()
cleanup() {
	local p
	for p in "${started[@]}"; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
		rm -f "/dev/shm/golat-$p.stats"
	done
	kill -9 $(jobs -p) 2>/dev/null
}

# start_prog N: runs the program with main.work and main.other hooked, making N and
# N/2 calls; sets prog_pid once it has made them all.
start_prog() {
	local ready=$work/ready-$1
	LD_PRELOAD=$GOLAT_LIB GOLAT_FUNCS=main.work,main.other GOLAT_LOG=quiet GOLAT_OUTPUT=/dev/null \
		"$exe" "$1" "$ready" &
	prog_pid=$!
	started+=("$prog_pid")
	for _ in $(seq 300); do
		[[ -e $ready ]] && return 0
		kill -0 "$prog_pid" 2>/dev/null || break
		sleep 0.1
	done
	bad "the program making $1 calls never got ready"
	return 1
}

# start_serve [ARGS]: golat serve --listen 127.0.0.1:0 (a free port) with TMPDIR set to
# $work/tmp; sets serve_pid and port, from what it says on stderr.
start_serve() {
	TMPDIR=$work/tmp "$golat" serve --listen 127.0.0.1:0 "$@" 2>"$work/serve.err" &
	serve_pid=$!
	port=
	for _ in $(seq 100); do
		port=$(sed -nE 's|^golat: serving http://127\.0\.0\.1:([0-9]+)/metrics$|\1|p' "$work/serve.err")
		[[ -n $port ]] && return 0
		sleep 0.1
	done
	bad "golat serve never said where it serves: $(cat "$work/serve.err")"
	return 1
}

client() { python3 "$here/client.py" "$@"; }
prom() { python3 "$here/promcheck.py" "$@"; }
