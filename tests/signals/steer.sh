#!/usr/bin/env bash
# Returns golat reaches by steering branches (lib/arch/x86_64/analyze_redirect.c), hot, under
# signals, on a program built by one toolchain as exe and stripped PIE (steerprog/: 288
# generated small functions, and hash/crc32's slicingUpdate, whose return is steered on
# every toolchain here):
#  - `golat list` says which selected functions have steered branches: at least 40 must
#    (every toolchain here compiles 48 of the generated ones to `jle L; sub; ret; L: ret`,
#    whose second ret only branches reach, and slicingUpdate), and which return through
#    an int3;
#  - with a 1 kHz CPU profile written by pprof, and with SIGPROF at 1 kHz and nothing
#    written ("rate"), and a GC every millisecond preempting the loops asynchronously:
#    the output is the same as unhooked, every generated function is counted exactly
#    8000 times, slicingUpdate exactly 8000 times ("rate": pprof's gzip calls crc32
#    too), nothing in flight, nothing lost; go tool pprof reads the profile.
# Usage: steer.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -uo pipefail
source "$(dirname "$0")/../hook/common.sh"
hook_setup steer "$1"
here=$(cd "$(dirname "$0")" && pwd)
funcs='main.f*,hash/crc32.slicingUpdate'

hook_pair steer "$here/steerprog"
for bin in exe pie; do
	b=$work/$bin
	"$GOLAT_CLI" list --json "$b" 'main.f*' hash/crc32.slicingUpdate >"$work/$bin.list" || bad "$bin: golat list fails"
	python3 - "$work/$bin.list" <<'PY' || bad "$bin: fewer than 40 steered functions selected (above)"
import json, sys
d = json.load(open(sys.argv[1]))
steered = [f["name"] for f in d if f["patchable"] and f.get("steered")]
traps = [f["name"] for f in d if f["patchable"] and f.get("traps")]
refused = [f["name"] for f in d if not f["patchable"]]
print(f"  {len(d)} selected: {len(steered)} with steered branches ({', '.join(steered[:4])}"
      f"{', ...' if len(steered) > 4 else ''}), {len(traps)} returning through an int3, {len(refused)} refused")
sys.exit(len(steered) < 40 or bool(refused))
PY
	for mode in prof rate; do
		arg=$mode
		[[ $mode == prof ]] && arg=$work/$bin.pprof
		"$b" "$arg" >"$work/$bin.$mode.plain" 2>&1 || bad "$bin $mode: fails without golat"
		GOLAT_FUNCS=$funcs GOLAT_OUTPUT="$work/$bin.$mode.json" LD_PRELOAD=$GOLAT_LIB timeout -s QUIT 120 \
			"$b" "$arg" >"$work/$bin.$mode.out" 2>"$work/$bin.$mode.err"
		rc=$?
		((rc == 0)) || bad "$bin $mode: exit status $rc under golat: $(grep -v '^golat: ' "$work/$bin.$mode.err" | head -20)"
		cmp -s "$work/$bin.$mode.plain" "$work/$bin.$mode.out" ||
			bad "$bin $mode: output differs under golat: $(cat "$work/$bin.$mode.out") vs $(cat "$work/$bin.$mode.plain")"
		stderr_clean "$work/$bin.$mode.err"
		python3 - "$work/$bin.$mode.json" "$mode" <<'PY' || bad "$bin $mode: counts (above)"
import json, sys
d = json.load(open(sys.argv[1]))
fns = {f["name"]: f for f in d["functions"]}
gen = {n: f for n, f in fns.items() if n.startswith("main.f")}
bad = [f"{n}: calls {f['calls']} in flight {f['in_flight']}" for n, f in sorted(gen.items())
       if f["calls"] != 8000 or f["in_flight"] != 0]
crc = fns.get("hash/crc32.slicingUpdate", {}).get("calls", 0)
want_crc = crc == 8000 if sys.argv[2] == "rate" else crc >= 8000
if len(gen) != 288 or bad or not want_crc or d.get("lost", 0):
    print(f"FAIL: {len(gen)} generated functions counted (want 288), wrong: {bad[:5]}; "
          f"slicingUpdate {crc} (want {'' if sys.argv[2] == 'rate' else 'at least '}8000); lost {d.get('lost')}")
    sys.exit(1)
print(f"ok: {sys.argv[2]}: 288 functions x 8000 calls exact, slicingUpdate {crc}, lost 0")
PY
	done
	"$go" tool pprof -top "$b" "$work/$bin.pprof" >"$work/$bin.top" 2>/dev/null ||
		bad "$bin: go tool pprof cannot read the profile"
	grep -q 'main\.f' "$work/$bin.top" || bad "$bin: the profile names no generated function"
done
((fail == 0)) && echo "steer $gover: all checks passed"
exit $fail
