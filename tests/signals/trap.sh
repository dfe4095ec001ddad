#!/usr/bin/env bash
# Returns golat reaches only through an int3 (lib/engine/sigown.c: a SIGTRAP golat takes
# before Go), hot, under signals, on a program built by one toolchain as exe and stripped
# PIE (trapprog/: math.ldexp, and on Go 1.26 and later strconv.IsPrint and
# unicode.SimpleFold, called 200,000 times each from 4 goroutines with arguments that take
# their rare returns, under a 1 kHz CPU profile and a GC every millisecond):
#  - `golat list` says which of them return through an int3: it depends on the code
#    around them (a neighbour's padding may give a return a hop), so a build where none
#    does is not tested, and when neither build has one the test is skipped, saying so
#    (go1.21's today);
#  - hooked, the output is the same as unhooked, every function is counted exactly
#    200,000 times, nothing in flight, nothing lost, and the report's "traps" counts the
#    int3s taken: many, and no more than the calls of the functions that have one;
#  - go tool pprof reads the profile.
# Usage: trap.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -uo pipefail
source "$(dirname "$0")/../hook/common.sh"
hook_setup trap "$1"
here=$(cd "$(dirname "$0")" && pwd)
funcs='math.ldexp,strconv.IsPrint,unicode.SimpleFold'

hook_pair trap "$here/trapprog"
tested=0
for bin in exe pie; do
	b=$work/$bin
	"$GOLAT_CLI" list --json "$b" ${funcs//,/ } >"$work/$bin.list" || bad "$bin: golat list fails"
	python3 - "$work/$bin.list" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
traps = {f["name"]: f["traps"] for f in d if f["patchable"] and f.get("traps")}
print(f"  int3 returns: {traps}")
sys.exit(2 if not traps else 1 if any(not f["patchable"] for f in d) else 0)
PY
	case $? in
	0) tested=$((tested + 1)) ;;
	2) echo "  $bin: no int3 among $funcs in this build: not tested"; continue ;;
	*) bad "$bin: a function refused (above)" ;;
	esac
	"$b" "$work/$bin.plain.pprof" >"$work/$bin.plain" 2>/dev/null || bad "$bin: fails without golat"
	GOLAT_FUNCS=$funcs GOLAT_OUTPUT="$work/$bin.json" LD_PRELOAD=$GOLAT_LIB timeout -s QUIT 120 \
		"$b" "$work/$bin.pprof" >"$work/$bin.out" 2>"$work/$bin.err"
	rc=$?
	((rc == 0)) || bad "$bin: exit status $rc under golat: $(grep -v '^golat: ' "$work/$bin.err" | head -20)"
	cmp -s "$work/$bin.plain" "$work/$bin.out" ||
		bad "$bin: output differs under golat: $(cat "$work/$bin.out") vs $(cat "$work/$bin.plain")"
	python3 - "$work/$bin.json" "$work/$bin.list" <<'PY' || bad "$bin: counts (above)"
import json, sys
d = json.load(open(sys.argv[1]))
with_trap = [f["name"] for f in json.load(open(sys.argv[2])) if f.get("traps")]
fns = {f["name"]: f for f in d["functions"]}
wrong = [f"{n}: calls {f['calls']} in flight {f['in_flight']}" for n, f in sorted(fns.items())
         if f["calls"] != 200000 or f["in_flight"] != 0]
most = sum(fns[n]["calls"] for n in with_trap if n in fns)
if len(fns) != 3 or wrong or d["lost"] or not 1000 <= d["traps"] <= most:
    print(f"FAIL: {len(fns)} functions counted (want 3), wrong: {wrong}; lost {d['lost']}; "
          f"traps {d['traps']} (want 1000 to {most})")
    sys.exit(1)
print(f"ok: 3 functions x 200000 calls exact, {d['traps']} returns through an int3, lost 0")
PY
	"$go" tool pprof -top "$b" "$work/$bin.pprof" >"$work/$bin.top" 2>/dev/null ||
		bad "$bin: go tool pprof cannot read the profile"
done
if ((fail == 0 && tested == 0)); then
	echo "SKIP: $gover's builds of trapprog give every return of $funcs a window: no int3 to test"
	exit 77
fi
((fail == 0)) && echo "trap $gover: all checks passed ($tested builds with int3s)"
exit $fail
