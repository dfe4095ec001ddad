#!/usr/bin/env bash
# The answers beyond a function's own numbers, checked against a program that knows
# them (prog/main.go): each function's callers and their counts, self time, and the
# slowest calls with their argument and result registers — in golat's report at exit,
# and in `golat report` of the stats file it kept. On both routes: built with cgo and
# libgolat.so preloaded, and built with CGO_ENABLED=0 under golat run (golat-agent.so).
# Each both as built (with DWARF: arguments named, typed and rendered, a string's text
# kept) and as a stripped PIE, as distributions ship them (raw registers); GOLAT_SLOWEST
# at its default, 2 and 0, and a malformed value (preloaded).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../gotool.sh
source "$here/../gotool.sh"
go_toolchain "$1"
: "${GOLAT_CLI:?GOLAT_CLI must name the golat command}"
work=${GOLAT_TEST_WORK:-/tmp/golat-testwork}/answers/$ver
rm -rf "$work"
mkdir -p "$work"
(cd "$here/prog" && "$go" build -o "$work/exe" . && "$go" build -buildmode=pie -o "$work/pie" . &&
	strip "$work/pie" && CGO_ENABLED=0 "$go" build -o "$work/static" . &&
	CGO_ENABLED=0 "$go" build -buildmode=pie -o "$work/static-pie" . && strip "$work/static-pie") ||
	{ echo "FAIL: $gover cannot build prog"; exit 1; }
funcs='main.leaf,main.child,main.parent,main.nap,main.greet'

run() { # name binary slowest-setting: runs it hooked, keeping its stats file
	local name=$1 bin=$2 setting=$3 how=(env LD_PRELOAD="$GOLAT_LIB")
	[[ $bin == static* ]] && how=("$GOLAT_CLI" run --)
	if ! env ${setting:+GOLAT_SLOWEST=$setting} GOLAT_FUNCS=$funcs GOLAT_OUTPUT="$work/$name.json" \
		GOLAT_STATS="$work/$name.stats" "${how[@]}" "$work/$bin" >"$work/$name.out" 2>"$work/$name.err"; then
		bad "$name: the program failed: $(tail -3 "$work/$name.err")"
		return 1
	fi
}

for bin in exe pie static static-pie; do
	dwarf=$([[ $bin == exe || $bin == static ]] && echo dwarf || true)
	run "$bin" "$bin" "" || continue
	echo "$bin, the report at exit:"
	python3 "$here/check.py" "$work/$bin.json" "$work/$bin.out" 8 $dwarf | sed 's/^/  /' ||
		bad "$bin: the report's answers are wrong (above)"
	# The CLI reads the binary itself (the stats file names it) to name the callers.
	"$GOLAT_CLI" report "$work/$bin.stats" --json >"$work/$bin.cli.json" 2>"$work/$bin.cli.err" ||
		bad "$bin: golat report failed: $(cat "$work/$bin.cli.err")"
	echo "$bin, golat report of its stats file:"
	python3 "$here/check.py" "$work/$bin.cli.json" "$work/$bin.out" 8 $dwarf | sed 's/^/  /' ||
		bad "$bin: golat report's answers are wrong (above)"
	"$GOLAT_CLI" report "$work/$bin.stats" >"$work/$bin.txt"
	if [[ -n $dwarf ]]; then slow='args ms=150  results ~r0=300'; else slow='args 0x96'; fi
	grep -q '^  callers main.callerA 16 (.*), main.callerB 1 (' "$work/$bin.txt" &&
		grep -q "^  slow .* from main.main  $slow" "$work/$bin.txt" &&
		grep -q '^main.parent .* total .* self ' "$work/$bin.txt" ||
		bad "$bin: the text report lacks callers, slowest calls or self time: $(head -5 "$work/$bin.txt")"
done

for n in 2 0; do
	run "slowest$n" exe "$n" || continue
	python3 "$here/check.py" "$work/slowest$n.json" "$work/slowest$n.out" "$n" dwarf | grep -E 'keeps|FAIL' ||
		bad "GOLAT_SLOWEST=$n: wrong (above)"
done
run slowestbad exe 99 || true
grep -q "GOLAT_SLOWEST='99' is not a whole number from 0 to 16; keeping the 8 slowest" "$work/slowestbad.err" &&
	python3 "$here/check.py" "$work/slowestbad.json" "$work/slowestbad.out" 8 dwarf >/dev/null &&
	ok "GOLAT_SLOWEST=99: said so, kept 8" || bad "GOLAT_SLOWEST=99: $(grep golat: "$work/slowestbad.err")"
((fail == 0)) && echo "PASS" || echo "FAIL"
exit "$fail"
