#!/usr/bin/env bash
# golat run hooks a Go program built without cgo (no libc, no loader to preload into:
# hooked from outside, issue 11), changes nothing it computes, counts each call
# exactly, and writes its report however the program ends. prog/ (leaves, jump
# tables, recursion deeper than 64 hooked frames, stack growth at hooked entries,
# panics and nil-receiver faults recovered through hooked frames, goroutines moving
# between threads, methods, closures, generics, registers live across asynchronous
# preemption, threads that come and go) built by one toolchain as exe, as PIE (Go's
# internal linker: a PT_INTERP but no DT_NEEDED, so no libc either) and as stripped
# PIE, run unhooked and with `golat run -f 'main.*' -o REPORT.json`:
#  - the same stdout and exit status: exit0 0, exit3 3 (os.Exit), panic 2 (unrecovered,
#    with the same traceback: the same functions and lines), sigterm 143 (dies of its
#    own SIGTERM), kill9 137 (killed from outside while it waits);
#  - nothing on stderr that is not golat's (the traceback aside, for panic);
#  - the JSON report exists and parses for every exit path, kill -9 included; every
#    function the program counts is in it with exactly the program's count of calls,
#    or listed as skipped (a function golat may only hook by owning signals, which
#    stay Go's); main.fib, main.deep, main.hop, main.outer and main.recoverInF are hooked;
#  - the live stats file is gone once the report is written;
#  - with -o FILE.txt, the text report gives main.fib's calls exactly.
# Every exit path on the exe; exit0 and kill9 on the PIEs (CI time: each path is a run
# with and without golat). GOLAT_STATIC_SHORT=1 (CTest, on all but the newest toolchain):
# every exit path on the exe and exit0 on the stripped PIE, no text report. What the
# toolchain decides stays on each: its runtime's exit, panic, signal and stack code on
# every path and its PIE's shape (stripped is the harder read); what goes is golat's own
# code run again: a kill -9 report from a PIE (the exe's kill9 writes it the same way),
# the unstripped PIE (the same code as the stripped one, with symbols golat does not
# need) and the text report's writer.
# Usage: static.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
static_setup run "$1"

static_build "$work/exe"
static_build "$work/pie" -buildmode=pie
cp "$work/pie" "$work/pie.stripped" && strip "$work/pie.stripped"
is_static "$work/pie.stripped" || bad "the stripped PIE needs shared libraries"
must=(main.fib main.deep main.hop main.outer main.recoverInF)
declare -A want=([exit0]=0 [exit3]=3 [panic]=2 [sigterm]=143 [kill9]=137)

# run BIN PATH MODE: prog as BIN, leaving by PATH, MODE plain (no golat) or hooked
# (golat run, report in $base.json); sets status and base ($work/BIN.PATH.MODE, with
# .out and .err). For kill9: SIGKILL to the program once it says it waits.
run() {
	local exe=$work/$1 path=$2 i root pid
	base=$work/$1.$2.$3
	local cmd=("$exe" "$path")
	[[ $3 == plain ]] || cmd=("$golat" run -f 'main.*' -o "$base.json" -- "$exe" "$path")
	rm -f "$base".*
	if [[ $path != kill9 ]]; then
		timeout -k 5 60 "${cmd[@]}" >"$base.out" 2>"$base.err"
		status=$?
		return
	fi
	"${cmd[@]}" >"$base.out" 2>"$base.err" &
	root=$!
	for ((i = 0; i < 1200; i++)); do
		grep -qs '^waiting for SIGKILL$' "$base.out" && break
		kill -0 "$root" 2>/dev/null || break
		sleep 0.05
	done
	if ! grep -q '^waiting for SIGKILL$' "$base.out"; then
		if kill -0 "$root" 2>/dev/null; then
			echo "  ($1 kill9 $3: the program did not say it waits in 60 s)"
			kill -9 "$root"
		fi
	elif pid=$(run_pid "$root" "$exe"); then
		kill -9 "$pid"
	else
		echo "  ($1 kill9 $3: no process runs $exe under pid $root)"
		kill -9 "$root"
	fi
	wait "$root" 2>/dev/null # (no "Killed" from bash)
	status=$?
}

# The traceback of a panic, without what changes from run to run (argument values,
# pc offsets, golat's lines).
traceback() {
	grep -v '^golat: ' "$1" | sed -E 's/\(.*\)$/()/; s/ \+0x[0-9a-f]+.*$//; s/^(goroutine [0-9]+) .*/\1/'
}

check_path() { # BIN PATH
	local bin=$1 path=$2 plain
	run "$bin" "$path" plain
	plain=$base
	if [[ $status != "${want[$path]}" ]]; then
		bad "$bin $path: exits $status without golat, not ${want[$path]}: $(head -3 "$plain.err")"
		return
	fi
	run "$bin" "$path" hooked
	refused_static "$base.err"
	echo "$gover $bin $path:"
	hook_summary "$base.err"
	[[ $status == "${want[$path]}" ]] ||
		bad "$bin $path: exit status $status under golat run, ${want[$path]} without: $(grep -v '^golat: ' "$base.err" | head -10)"
	if [[ ! -s $base.out ]]; then
		bad "$bin $path: no stdout under golat run"
	elif ! diff "$plain.out" "$base.out" >"$base.diff"; then
		bad "$bin $path: stdout differs under golat run: $(head -10 "$base.diff")"
	fi
	if [[ $path == panic ]]; then
		diff <(traceback "$plain.err") <(traceback "$base.err") >"$base.diff" ||
			bad "$bin $path: the panic's traceback differs under golat: $(head -20 "$base.diff")"
		grep -q '^panic: static prog: panic' "$base.err" || bad "$bin $path: no panic message under golat"
	elif grep -v '^golat: ' "$base.err" | grep -q .; then
		bad "$bin $path: stderr lines that are not golat's: $(grep -v '^golat: ' "$base.err" | head -5)"
	fi
	if [[ ! -s $base.json ]]; then
		bad "$bin $path: golat run wrote no report to $base.json"
		return
	fi
	python3 "$here/check.py" "$base.json" "$base.out" "${must[@]}" || bad "$bin $path: the report's counts (above)"
	# The final report written, the live stats file goes (SPEC: GOLAT_STATS unset).
	local pid stats
	pid=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["pid"])' "$base.json" 2>/dev/null)
	for stats in "/dev/shm/golat-$pid.stats" "${TMPDIR:-/tmp}/golat-$pid.stats"; do
		if [[ -n $pid && -e $stats ]]; then
			bad "$bin $path: the stats file $stats is left after the final report"
			rm -f "$stats"
		fi
	done
}

for path in exit0 exit3 panic sigterm kill9; do
	check_path exe "$path"
done
if [[ ${GOLAT_STATIC_SHORT:-} == 1 ]]; then
	check_path pie.stripped exit0
	echo "short form (GOLAT_STATIC_SHORT=1): the PIEs' other paths and the text report run on the newest toolchain"
	finish
fi
for bin in pie pie.stripped; do
	check_path "$bin" exit0
	check_path "$bin" kill9
done

# The text report: main.fib's line gives its calls.
"$golat" run -f 'main.fib' -o "$work/fib.txt" -- "$work/exe" exit0 >"$work/fib.out" 2>"$work/fib.err"
status=$?
ours=$(awk '$1 == "count" && $2 == "main.fib" { print $3 }' "$work/fib.out")
got=$(awk '$1 == "main.fib" && $2 == "calls" { print $3 }' "$work/fib.txt" 2>/dev/null)
if [[ $status == 0 && -n $ours && $got == "$ours" ]]; then
	ok "text report: main.fib calls $got, as the program counted"
else
	bad "text report: status $status, main.fib calls '${got}' in $work/fib.txt, the program counted '$ours': $(head -3 "$work/fib.err")"
fi
finish
