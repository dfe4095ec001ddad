#!/usr/bin/env bash
# Go's own standard-library test suites, code nobody here wrote, built without cgo
# (statically linked: golat run hooks them from outside, issue 11), pass with every
# function of their package hooked, as they do unhooked, and the JSON report counts
# calls of that package. Packages: GOLAT_STDTESTS (default "strconv sort unicode/utf8
# encoding/json bytes"), -test.short. The cgo route of the same: ../signals/stdtests.sh.
# Usage: stdtests.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
static_setup stdtests "$1"
pkgs=${GOLAT_STDTESTS:-strconv sort unicode/utf8 encoding/json bytes}

for pkg in $pkgs; do
	name=${pkg//\//_}
	bin=$work/$name.test
	if ! (cd "$work" && "$go" test -c -o "$bin" "$pkg") >"$work/$name.build" 2>&1; then
		bad "$pkg: cannot build its tests: $(tail -3 "$work/$name.build")"
		continue
	fi
	is_static "$bin" || bad "$pkg: its test binary needs shared libraries: $(file -b "$bin")"
	# The tests read their testdata relative to the package's source directory.
	dir=$("$go" list -f '{{.Dir}}' "$pkg")
	start=$(date +%s.%N)
	(cd "$dir" && timeout 120 "$bin" -test.short -test.count=1) >"$work/$name.plain" 2>&1
	want=$?
	plain=$(echo "$(date +%s.%N) - $start" | bc)
	start=$(date +%s.%N)
	(cd "$dir" && exec timeout -k 5 300 "$golat" run -f "$pkg.*" -o "$work/$name.json" -- \
		"$bin" -test.short -test.count=1 -test.cpuprofile "$work/$name.prof") >"$work/$name.out" 2>"$work/$name.err"
	got=$?
	hooked=$(echo "$(date +%s.%N) - $start" | bc)
	refused_static "$work/$name.err"
	summary=$(grep -m1 '^golat: pid' "$work/$name.err" | sed -E 's/^golat: pid [0-9]+ \(([^)]*)\): //' | sed 's/×/x/g' | cut -c1-90)
	calls=$(python3 - "$work/$name.json" "$pkg" <<'PY' 2>&1
import json, sys
r = json.load(open(sys.argv[1]))
print(sum(f["calls"] for f in r["functions"] if f["name"].startswith(sys.argv[2] + ".")))
PY
	)
	if ((want != 0)); then
		bad "$pkg: its tests fail without golat ($want): $(tail -5 "$work/$name.plain")"
	elif ((got != want)) || ! grep -q '^PASS$' "$work/$name.out"; then
		bad "$pkg: tests exit $got under golat run ($want unhooked, in ${plain}s): $(head -15 "$work/$name.err"; tail -5 "$work/$name.out")"
	elif ! [[ $calls =~ ^[0-9]+$ ]] || ((calls == 0)); then
		bad "$pkg: PASS, but the report $work/$name.json counts no call of $pkg: $calls"
	else
		ok "$gover $pkg: PASS hooked ($summary; $calls calls; ${plain}s unhooked, ${hooked}s hooked)"
	fi
	grep -v '^golat: ' "$work/$name.err" | grep -q . &&
		bad "$pkg: stderr lines that are not golat's: $(grep -v '^golat: ' "$work/$name.err" | head -5)"
done
finish
