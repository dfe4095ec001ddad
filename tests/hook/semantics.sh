#!/usr/bin/env bash
# Hooking every function of a Go program changes nothing it computes, and golat counts
# each call exactly: semantics/ (frameless leaves, jump tables, recursion, stack
# growth, panics, nil-receiver faults, goroutines moving between threads, methods,
# closures, generics, cgo calls and callbacks, registers live across asynchronous
# preemption, 1500 threads that exit) built by one toolchain as exe, PIE and stripped
# PIE, run unhooked and with GOLAT_FUNCS='main.*':
#  - same stdout (the count lines aside) and exit status, and nothing on stderr that is
#    not golat's;
#  - for every function the program counts: golat.calls == ours (a call is counted iff
#    its entry and its return were both seen) and entries == calls + abandoned (nothing
#    is left in flight: every panic was resolved by a hooked frame's return), and the
#    final report (GOLAT_OUTPUT) gives the same number of calls;
#  - this holds for calls made after a recursion deeper than golat tracks (64 hooked
#    frames) returned or panicked, and for a call on each of 1500 threads that come
#    and go.
# Usage: semantics.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_TEST_WORK)
set -uo pipefail
source "$(dirname "$0")/common.sh"
hook_setup semantics "$1"

hook_build "$here/semantics" "$work/exe"
hook_build "$here/semantics" "$work/pie" -buildmode=pie
cp "$work/pie" "$work/pie.stripped" && strip "$work/pie.stripped"

# Checks the count lines of one run; prints what golat did not hook.
check_counts() {
	local bin=$1 out=$2 n=0 unhooked=()
	local report=${out%.out}.report
	if [[ ! -s $report ]]; then
		bad "$bin: golat wrote no final report to $report (GOLAT_OUTPUT)"
		report=/dev/null
	fi
	while read -r _ name ours calls entries abandoned; do
		if [[ $calls == golat=unhooked ]]; then
			unhooked+=("$name")
			continue
		fi
		ours=${ours#ours=} calls=${calls#golat.calls=} entries=${entries#golat.entries=}
		abandoned=${abandoned#abandoned=}
		n=$((n + 1))
		((calls == ours)) || bad "$bin: $name: golat counted $calls completed calls, the program $ours"
		((entries == calls + abandoned)) ||
			bad "$bin: $name: entries $entries != calls $calls + abandoned $abandoned"
		# The final report (GOLAT_OUTPUT) says the same: nothing ran in between. (It
		# has a line per function: Go 1.19 names two instantiations "main.Max[...]".)
		rep=$(awk -v n="$name" '$1 == n && $2 == "calls" { s += $3 } END { print s + 0 }' "$report")
		[[ $report == /dev/null ]] || ((calls == 0 || rep == calls)) ||
			bad "$bin: $name: the final report says $rep calls, golat_counts $calls"
	done < <(grep '^count ' "$out")
	echo "  $bin: $n counted functions checked${unhooked[*]:+; not hooked: ${unhooked[*]}}"
	# A program hooked too little proves nothing: its core functions must be hooked.
	for must in main.fib main.zero main.dense main.deep main.hop main.safeGet; do
		grep -q "^count $must ours=.* golat.calls=" "$out" || bad "$bin: $must was not hooked"
	done
}

for bin in exe pie pie.stripped; do
	exe=$work/$bin
	rm -f "$work/$bin".{plain,plain.err,out,err,report,diff}
	timeout 120 "$exe" >"$work/$bin.plain" 2>"$work/$bin.plain.err"
	want=$?
	GOLAT_FUNCS='main.*' GOLAT_LOG=debug GOLAT_CHECK=1 GOLAT_OUTPUT=$work/$bin.report \
		LD_PRELOAD=$GOLAT_LIB timeout -s QUIT -k 10 120 "$exe" >"$work/$bin.out" 2>"$work/$bin.err"
	got=$?
	echo "$gover $bin:"
	hook_summary "$work/$bin.err"
	((want == 0)) || bad "$bin: exits $want without golat: $(tail -3 "$work/$bin.plain.err")"
	((got == want)) || bad "$bin: exit status $got under golat, $want without: $(grep -v '^golat: ' "$work/$bin.err" | head -20)"
	if ! diff <(grep -v '^count ' "$work/$bin.out") "$work/$bin.plain" >"$work/$bin.diff"; then
		bad "$bin: stdout differs under golat:"
		head -20 "$work/$bin.diff"
	fi
	stderr_clean "$work/$bin.err"
	check_counts "$bin" "$work/$bin.out"
done

((fail == 0)) && echo "hook semantics $gover: all checks passed"
exit $fail
