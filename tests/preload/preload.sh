#!/usr/bin/env bash
# The constructor of libgolat.so, for one Go toolchain: it reads the program's own
# function table (exe, PIE, stripped PIE), applies the load bias, and finds the same
# addresses the running program reports; with GOLAT_FUNCS unset, in a non-Go program,
# or with GOLAT_LOG=quiet it prints nothing; a spec that matches nothing is reported
# and the program runs on unchanged.
# Usage: preload.sh /usr/lib/go-1.N/bin/go      (env: GOLAT_LIB, GOLAT_TEST_WORK)
set -euo pipefail
go=$1
ver=$(basename "$(dirname "$(dirname "$go")")")
if [[ ! -x $go ]]; then echo "SKIP: ${ver#go-}: $go not installed"; exit 77; fi
here=$(cd "$(dirname "$0")" && pwd)
work=$GOLAT_TEST_WORK/preload/$ver
mkdir -p "$work"
fail=0
bad() { echo "FAIL: $*"; fail=1; }

(cd "$here/prog" && CGO_ENABLED=1 "$go" build -o "$work/exe" . &&
	CGO_ENABLED=1 "$go" build -buildmode=pie -o "$work/pie" . &&
	cp "$work/pie" "$work/pie.stripped" && strip "$work/pie.stripped")

for bin in exe pie pie.stripped; do
	exe=$work/$bin
	want=$("$exe" | grep -v 0x)
	out=$(GOLAT_FUNCS='main.work,main.(*box).get' GOLAT_LOG=debug GOLAT_OUTPUT="$work/$bin.json" \
		LD_PRELOAD=$GOLAT_LIB "$exe" 2>"$work/$bin.err")
	# PIE addresses change from run to run (ASLR): compare the rest.
	[[ $(grep -v 0x <<<"$out") == "$want" ]] || bad "$bin: output changed under golat"
	for fn in 'main.work' 'main.(*box).get'; do
		addr=$(grep -F "$fn " <<<"$out" | awk '{print $2}')
		got=$(grep -F "hooked $fn at " "$work/$bin.err" | sed 's/.* at \(0x[0-9a-f]*\)$/\1/')
		if [[ -z $got || $((got)) != $((addr)) ]]; then
			bad "$bin: $fn is at $addr, golat computed '${got}'"
		else
			echo "ok: $bin: $fn at $addr"
		fi
	done
	grep -q 'hooked 2 of 2 selected functions' "$work/$bin.err" || bad "$bin: no summary line: $(cat "$work/$bin.err")"
	if grep -v '^golat: ' "$work/$bin.err"; then bad "$bin: stderr line without the golat: prefix"; fi
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert {f["name"] for f in d["functions"]} == {"main.work", "main.(*box).get"}' \
		"$work/$bin.json" || bad "$bin: the JSON report does not list the two functions"
done

exe=$work/pie.stripped
err=$(LD_PRELOAD=$GOLAT_LIB "$exe" 2>&1 >/dev/null)
[[ -z $err ]] || bad "GOLAT_FUNCS unset but golat printed: $err"
err=$(GOLAT_FUNCS='main.*' GOLAT_LOG=quiet GOLAT_OUTPUT="$work/quiet.txt" LD_PRELOAD=$GOLAT_LIB "$exe" 2>&1 >/dev/null)
[[ -z $err ]] || bad "GOLAT_LOG=quiet but golat printed: $err"
grep -q '^main.work ' "$work/quiet.txt" || bad "GOLAT_LOG=quiet lost the report itself"
err=$(GOLAT_FUNCS='main.*' LD_PRELOAD=$GOLAT_LIB /bin/true 2>&1)
[[ -z $err ]] || bad "a non-Go program got output: $err"
out=$(GOLAT_FUNCS='main.nosuch,main.work' LD_PRELOAD=$GOLAT_LIB "$exe" 2>"$work/nosuch.err")
[[ $(grep -v 0x <<<"$out") == "$("$exe" | grep -v 0x)" ]] || bad "output changed with a spec that matches nothing"
grep -q "'main.nosuch' matches no function" "$work/nosuch.err" || bad "unmatched spec not reported: $(cat "$work/nosuch.err")"
err=$(GOLAT_FUNCS=main.work GOLAT_LOG=loud LD_PRELOAD=$GOLAT_LIB "$exe" 2>&1 >/dev/null)
grep -q 'GOLAT_LOG=loud is not quiet, info or debug' <<<"$err" || bad "bad GOLAT_LOG not reported: $err"

((fail == 0)) && echo "preload $ver: all checks passed"
exit $fail
