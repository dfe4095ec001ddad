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
done
((fail == 0)) && echo "stdtests $gover: all checks passed"
exit $fail
