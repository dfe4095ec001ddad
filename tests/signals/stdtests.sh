#!/usr/bin/env bash
# Go's own standard-library test suites, code nobody here wrote: each package's test
# binary built with external linking (so that LD_PRELOAD applies: the loader runs it),
# run with every function of its package hooked and a CPU profile on, passes as it
# does unhooked. Packages: GOLAT_STDTESTS (default "strconv sort unicode/utf8 encoding/json bytes").
# Usage: stdtests.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_TEST_WORK)
set -uo pipefail
source "$(dirname "$0")/../hook/common.sh"
hook_setup stdtests "$1"
work=${GOLAT_TEST_WORK:-/tmp/golat-testwork}/stdtests/$ver
mkdir -p "$work"
pkgs=${GOLAT_STDTESTS:-strconv sort unicode/utf8 encoding/json bytes}

for pkg in $pkgs; do
	name=${pkg//\//_}
	bin=$work/$name.test
	if ! (cd "$work" && "$go" test -c -ldflags=-linkmode=external -o "$bin" "$pkg") >"$work/$name.build" 2>&1; then
		bad "$pkg: cannot build its tests: $(tail -3 "$work/$name.build")"
		continue
	fi
	# The tests read their testdata relative to the package's source directory.
	dir=$("$go" list -f '{{.Dir}}' "$pkg")
	(cd "$dir" && timeout 300 "$bin" -test.short -test.count=1) >"$work/$name.plain" 2>&1
	want=$?
	GOLAT_FUNCS="$pkg.*" GOLAT_OUTPUT="$work/$name.json" LD_PRELOAD=$GOLAT_LIB \
		bash -c 'cd "$1" && exec timeout -s QUIT 300 "$2" -test.short -test.count=1 -test.cpuprofile="$3"' \
		_ "$dir" "$bin" "$work/$name.pprof" >"$work/$name.out" 2>"$work/$name.err"
	got=$?
	summary=$(grep -m1 '^golat: pid' "$work/$name.err" | sed -E 's/^golat: pid [0-9]+ \(([^)]*)\): //' | sed 's/×/x/g' | cut -c1-90)
	calls=$(python3 -c 'import json,sys; print(sum(f["calls"] for f in json.load(open(sys.argv[1]))["functions"]))' \
		"$work/$name.json" 2>/dev/null || echo "no report")
	if ((got != want)) || ! grep -q '^PASS$' "$work/$name.out"; then
		bad "$pkg: tests exit $got under golat ($want unhooked): $(grep -v '^golat: ' "$work/$name.err" | head -15; tail -5 "$work/$name.out")"
	elif [[ ! -s $work/$name.pprof ]]; then
		bad "$pkg: no CPU profile written"
	else
		echo "ok: $gover $pkg: PASS hooked ($summary; $calls calls), with a CPU profile"
	fi
	# Functions whose returns golat reaches through an int3 (a SIGTRAP per call): each
	# one the tests called is counted whole, nothing left in flight.
	"$GOLAT_CLI" list --json "$bin" "$pkg.*" >"$work/$name.list" 2>/dev/null
	python3 - "$work/$name.list" "$work/$name.json" <<'PY' || bad "$pkg: calls through int3 (above)"
import json, sys
traps = {f["name"] for f in json.load(open(sys.argv[1])) if f.get("traps")}
fns = {f["name"]: f for f in json.load(open(sys.argv[2]))["functions"]}
called = [n for n in sorted(traps) if n in fns]
stuck = [n for n in called if fns[n]["in_flight"]]
print(f"  {len(traps)} functions return through an int3, {len(called)} called: "
      f"{sum(fns[n]['calls'] for n in called)} calls" + (f"; in flight: {stuck}" if stuck else ""))
sys.exit(bool(stuck))
PY
done
((fail == 0)) && echo "stdtests $gover: all checks passed"
exit $fail
