#!/usr/bin/env bash
# The analyzer's plans and the relocator's code, run: selfprog (stack growth,
# recovered nil dereferences in patched leaf getters, panics through many frames,
# goroutines, GC, jump tables, http/json/regexp) is built by one toolchain as an
# executable and as a stripped PIE, and run with every function the analyzer accepts
# patched to trampolines that only run the relocated windows (selfpatch.so). Its
# output must not change, also with the runtime patched and GOGC=1. A run whose
# trampolines are broken on purpose must fail, which shows that the patched code
# does run.
# Usage: selfpatch.sh /usr/lib/go-1.N/bin/go SELFPATCH_SO   (env: GOLAT_TEST_WORK)
set -euo pipefail
prog=selfprog
so=$2
source "$(dirname "$0")/common.sh"
fail=0
for bin in exe pie.stripped; do
	exe=$work/$bin
	"$exe" >"$work/$bin.want"
	if ! SELFPATCH= LD_PRELOAD=$so "$exe" >"$work/$bin.got" 2>"$work/$bin.err"; then
		echo "FAIL: $bin crashed with every function patched:"; tail -20 "$work/$bin.err"; fail=1; continue
	fi
	if ! cmp -s "$work/$bin.want" "$work/$bin.got"; then
		echo "FAIL: $bin printed something else patched:"; diff "$work/$bin.want" "$work/$bin.got" | head; fail=1
		continue
	fi
	n=$(sed -n 's/^selfpatch: patched \([0-9]*\) functions.*/\1/p' "$work/$bin.err")
	if [[ -z $n || $n -lt 1000 ]]; then echo "FAIL: $bin: only '${n}' functions patched"; fail=1; continue; fi
	echo "ok: $bin ($ver): same output with $(grep '^selfpatch:' "$work/$bin.err" | sed 's/^selfpatch: //')"
done
# The runtime too (golat refuses it by name, the analyzer need not), under a GC at
# every allocation step: a stress of the plans on the scheduler's and GC's code.
if GOGC=1 SELFPATCH= SELFPATCH_NOPOLICY=1 LD_PRELOAD=$so "$work/exe" >"$work/all.got" 2>"$work/all.err" &&
	cmp -s "$work/exe.want" "$work/all.got"; then
	echo "ok: exe with the runtime patched too, GOGC=1: $(sed -n 's/^selfpatch: //p' "$work/all.err")"
else
	echo "FAIL: exe with the runtime patched too, GOGC=1:"; tail -20 "$work/all.err"; fail=1
fi
if SELFPATCH=main.deep SELFPATCH_BREAK=1 LD_PRELOAD=$so "$work/exe" >/dev/null 2>&1; then
	echo "FAIL: broken trampolines went unnoticed"; fail=1
else
	echo "ok: broken trampolines are noticed"
fi
exit $fail
