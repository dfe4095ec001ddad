#!/usr/bin/env bash
# Hooking whole standard packages changes nothing a program computes: stdlib/ (fmt,
# strconv, sort, encoding/json, and 200 HTTP requests to its own net/http server on
# 127.0.0.1) built by one toolchain, run unhooked and then hooked with each of
# fmt.*, strconv.*, sort.*, encoding/json.*, net/http.* and all of them at once:
# the same stdout and exit status every time, nothing on stderr but golat's lines.
# Prints, per set, how many functions were hooked and skipped and why.
# Usage: stdlib.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_TEST_WORK)
set -uo pipefail
source "$(dirname "$0")/common.sh"
hook_setup stdlib "$1"

hook_build "$here/stdlib" "$work/exe"
exe=$work/exe
timeout 120 "$exe" >"$work/plain.out" 2>"$work/plain.err"
want=$?
((want == 0)) || bad "exits $want without golat: $(tail -5 "$work/plain.err")"

sets=('fmt.*' 'strconv.*' 'sort.*' 'encoding/json.*' 'net/http.*'
	'fmt.*,strconv.*,sort.*,encoding/json.*,net/http.*')
for i in "${!sets[@]}"; do
	spec=${sets[$i]}
	rm -f "$work/set$i".{out,err,report,diff}
	GOLAT_FUNCS=$spec GOLAT_LOG=debug GOLAT_OUTPUT=$work/set$i.report LD_PRELOAD=$GOLAT_LIB \
		timeout -s QUIT -k 10 120 "$exe" >"$work/set$i.out" 2>"$work/set$i.err"
	got=$?
	echo "$gover $spec:"
	hook_summary "$work/set$i.err"
	grep -q '^golat: pid .* hooked [1-9][0-9]* of ' "$work/set$i.err" || bad "$spec: nothing hooked"
	((got == want)) || bad "$spec: exit status $got under golat, $want without: $(grep -v '^golat: ' "$work/set$i.err" | head -20)"
	if ! diff "$work/plain.out" "$work/set$i.out" >"$work/set$i.diff"; then
		bad "$spec: stdout differs under golat:"
		head -20 "$work/set$i.diff"
	fi
	stderr_clean "$work/set$i.err"
done

((fail == 0)) && echo "hook stdlib $gover: all checks passed"
exit $fail
