#!/usr/bin/env bash
# golat's signal handler in front of Go's (lib/engine/sigown.h), on a real program built by one
# toolchain, as exe and as stripped PIE:
#  - nil receivers through hooked getters and methods fault in trampolines (relocated
#    loads), and panic and recover with the same error and the same Go functions on the
#    stack as unhooked; the hooked functions' panicked counts match the program's;
#  - hot hooked functions under a 1 kHz CPU profile with the GC running: no crash, the
#    profile names the hot functions, and runtime._ExternalCode (samples Go could not
#    place) stays under 5% of them;
#  - Go's handlers were installed through golat's sigaction (the program imports it);
#  - C code that installs its own SIGTRAP handler reads it back as its own and gets its
#    signals (the same output as unhooked: "c handler: 2");
#  - the runtime functions golat allows (allocation, slices, maps, channels, select,
#    runtime.GC) hooked in a program that uses them from many goroutines: the same
#    output, and each one counted.
# Usage: signals.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -uo pipefail
source "$(dirname "$0")/../hook/common.sh"
hook_setup signals "$1"
here=$(cd "$(dirname "$0")" && pwd)
work=${GOLAT_TEST_WORK:-/tmp/golat-testwork}/signals/$ver
mkdir -p "$work"

hook_build "$here/prog" "$work/exe"
hook_build "$here/prog" "$work/pie" -buildmode=pie -ldflags=-s
for bin in exe pie; do
	b=$work/$bin
	imports=$(readelf --dyn-syms -W "$b" | grep -cw 'UND sigaction' || true)
	((imports > 0)) || bad "$bin does not import sigaction: golat cannot stand in front of Go's handlers"

	"$b" nil >"$work/$bin.nil.plain" 2>&1 || bad "$bin nil: fails without golat"
	GOLAT_FUNCS='main.*' GOLAT_OUTPUT="$work/$bin.nil.json" LD_PRELOAD=$GOLAT_LIB \
		"$b" nil >"$work/$bin.nil.out" 2>"$work/$bin.nil.err" || bad "$bin nil: fails under golat: $(tail -5 "$work/$bin.nil.err")"
	if diff "$work/$bin.nil.plain" "$work/$bin.nil.out" >"$work/$bin.nil.diff"; then
		echo "ok: $gover $bin: nil receivers recover as unhooked ($(grep -c ': runtime error' "$work/$bin.nil.out") panics)"
	else
		bad "$bin nil: output differs under golat:"
		head -20 "$work/$bin.nil.diff"
	fi
	python3 - "$work/$bin.nil.json" <<'PY' || bad "$bin nil: counts (above)"
import json, sys
fns = {f["name"]: f for f in json.load(open(sys.argv[1]))["functions"]}
# Each method: 3 nil calls that panic and 3 good calls.
bad = False
for name in ("main.(*box).get", "main.(*box).second", "main.(*box).label", "main.(*box).sum"):
    f = fns.get(name)
    if not f or f["calls"] != 3 or f["panicked"] != 3 or f["in_flight"] != 0:
        print(f"FAIL: {name}: {f and {k: f[k] for k in ('calls', 'panicked', 'in_flight')}}, want calls 3, panicked 3")
        bad = True
    else:
        print(f"ok: {name}: calls 3, panicked 3")
sys.exit(bad)
PY

	GOLAT_FUNCS='main.*' GOLAT_OUTPUT="$work/$bin.c.json" LD_PRELOAD=$GOLAT_LIB "$b" c >"$work/$bin.c.out" 2>"$work/$bin.c.err"
	if grep -qx 'c handler: 2' "$work/$bin.c.out" && "$b" c | grep -qx 'c handler: 2'; then
		echo "ok: $gover $bin: a C handler of the program's own is installed, read back and run"
	else
		bad "$bin c: $(cat "$work/$bin.c.out") under golat, $("$b" c) without (want 'c handler: 2')"
	fi
	rtf='runtime.mallocgc,runtime.newobject,runtime.growslice,runtime.makeslice,runtime.makemap,runtime.mapassign,runtime.mapaccess1,runtime.mapaccess2,runtime.selectgo,runtime.chansend1,runtime.chanrecv1,runtime.chanrecv2,runtime.GC'
	"$b" rt >"$work/$bin.rt.plain" 2>&1 || bad "$bin rt: fails without golat"
	GOLAT_FUNCS="$rtf" GOLAT_OUTPUT="$work/$bin.rt.json" LD_PRELOAD=$GOLAT_LIB timeout -s QUIT 120 \
		"$b" rt >"$work/$bin.rt.out" 2>"$work/$bin.rt.err" || bad "$bin rt: fails under golat: $(grep -v '^golat: ' "$work/$bin.rt.err" | head -20)"
	cmp -s "$work/$bin.rt.plain" "$work/$bin.rt.out" || bad "$bin rt: output differs under golat"
	python3 - "$work/$bin.rt.json" <<'PY' || bad "$bin rt: runtime functions (above)"
import json, sys
d = json.load(open(sys.argv[1]))
fns = {f["name"]: f for f in d["functions"]}
# selectgo, GC and the map functions may be inlined away or renamed by some versions.
need = ["runtime.mallocgc", "runtime.newobject", "runtime.growslice"]
bad = [n for n in need if fns.get(n, {}).get("calls", 0) == 0]
print("  runtime: " + ", ".join(f"{n[8:]} {f['calls']}" for n, f in sorted(fns.items())) + f"; lost {d['lost']}")
if bad:
    print(f"FAIL: not counted: {bad}")
sys.exit(bool(bad))
PY
	GOLAT_FUNCS='main.*,strconv.*,fmt.*' GOLAT_OUTPUT="$work/$bin.prof.json" LD_PRELOAD=$GOLAT_LIB \
		timeout -s QUIT 60 "$b" prof "$work/$bin.pprof" >"$work/$bin.prof.out" 2>"$work/$bin.prof.err"
	rc=$?
	((rc == 0)) || bad "$bin prof: exit status $rc under golat: $(grep -v '^golat: ' "$work/$bin.prof.err" | head -20)"
	grep -m1 '^golat: pid' "$work/$bin.prof.err" | sed 's/^/  /'
	"$go" tool pprof -top -nodecount=1000 "$b" "$work/$bin.pprof" >"$work/$bin.top" 2>/dev/null ||
		bad "$bin prof: go tool pprof cannot read the profile"
	python3 - "$work/$bin.top" <<'PY' || bad "$bin prof: profile (above)"
import re, sys
flat = {}
total = 0.0
for line in open(sys.argv[1]):
    m = re.match(r"\s*([\d.]+)(m?s)\s+[\d.]+%\s+[\d.]+%\s+[\d.]+(?:m?s)\s+[\d.]+%\s+(.+)$", line)
    if m:
        v = float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
        flat[m.group(3).strip()] = v
        total += v
ext = flat.get("runtime._ExternalCode", 0.0)
hot = [n for n in ("main.hotMix", "main.hotFormat", "main.hotAlloc") if n in flat]
print(f"  profile: {total:.2f}s of samples, main.hotMix {flat.get('main.hotMix', 0):.2f}s, "
      f"_ExternalCode {ext:.2f}s ({100 * ext / max(total, 1e-9):.1f}%)")
ok = total > 0.1 and "main.hotMix" in hot and ext <= 0.05 * total
print(("ok" if ok else "FAIL") + f": the profile names {hot}")
sys.exit(not ok)
PY
done
((fail == 0)) && echo "signals $gover: all checks passed"
exit $fail
