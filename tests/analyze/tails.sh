#!/usr/bin/env bash
# Returns hooked through another window's tail or a twin (lib/arch/x86_64/analyze_tail.c),
# run: tailprog/ (strconv.IsPrint, unicode.SimpleFold and unicode.Is over 0x20000
# runes, math.Ldexp and base32's Encode 0x20000 times over all their exits, sort.Ints
# of nearly sorted slices) built by one toolchain with cgo, as an executable and as a
# stripped PIE, run
# with libgolat.so preloaded and those functions hooked (unicode.is16 and is32, and
# slices.partialInsertionSort*, too):
#  - the output is the same as unhooked;
#  - IsPrint, SimpleFold, math.ldexp and base32's Encode are counted exactly 0x20000 times
#    (Encode 32 more, most of them panics out of it, recovered), nothing is in flight at
#    the end (an exit that went untimed would leave a call in flight);
#  - `golat list` says how their returns are hooked; with Go 1.27 at least one goes
#    through a tail and one through a twin (unicode.is32, and partialInsertionSort's
#    that differs from its twin by a nop), else the test proves nothing.
# Usage: tails.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -euo pipefail
prog=tailprog
source "$(dirname "$0")/common.sh"
funcs='strconv.IsPrint,unicode.SimpleFold,math.ldexp,encoding/base32.(*Encoding).Encode,unicode.Is,unicode.is16,unicode.is32,slices.partialInsertionSort*'
fail=0
for bin in exe pie.stripped; do
	exe=$work/$bin
	"$exe" >"$work/$bin.want"
	"$GOLAT_CLI" list --json "$exe" ${funcs//,/ } >"$work/$bin.list" 2>/dev/null || true # go1.19: no slices
	rm -f "$work/$bin.json"
	if ! GOLAT_FUNCS=$funcs GOLAT_OUTPUT=$work/$bin.json LD_PRELOAD=$GOLAT_LIB "$exe" >"$work/$bin.got" 2>"$work/$bin.err"; then
		echo "FAIL: $bin crashed hooked:"; tail -20 "$work/$bin.err"; fail=1; continue
	fi
	if ! cmp -s "$work/$bin.want" "$work/$bin.got"; then
		echo "FAIL: $bin printed something else hooked:"; diff "$work/$bin.want" "$work/$bin.got" | head; fail=1
		continue
	fi
	python3 - "$work/$bin.list" "$work/$bin.json" "$bin ($ver)" "$ver" <<'PY' || fail=1
import json, sys
listed = json.load(open(sys.argv[1]))
report = json.load(open(sys.argv[2]))
what, ver = sys.argv[3], sys.argv[4]
bad = []
kinds = {}
for f in listed:
    if not f["patchable"]:
        bad.append(f"{f['name']} is not patchable: {f['reason']}")
        continue
    for k, v in f["returns"].items():
        kinds[k] = kinds.get(k, 0) + v
calls = {f["name"]: f for f in report["functions"]}
# Encode: 32 more calls from encodePanics, most of them panicking ("calls" are the ones
# that returned).
for name, want, panics in (("strconv.IsPrint", 0x20000, False), ("unicode.SimpleFold", 0x20000, False),
                           ("math.ldexp", 0x20000, False),
                           ("encoding/base32.(*Encoding).Encode", 0x20000 + 32, True)):
    got = calls.get(name, {})
    n, p = got.get("calls", 0), got.get("panicked", 0)
    if n + p != want or (p > 0) != panics:
        bad.append(f"{name}: {n} calls returned and {p} panicked, want {want} in all"
                   f"{', some panicking' if panics else ''}")
for f in report["functions"]:
    if f.get("in_flight"):
        bad.append(f"{f['name']}: {f['in_flight']} calls in flight at exit")
if ver == "go-1.27" and (not kinds.get("hop_body") or kinds.get("hop_twin", 0) < 3 or
                         not calls.get("slices.partialInsertionSortOrdered[go.shape.int]", {}).get("calls")):
    bad.append(f"no return through a tail or a twin here ({kinds}): the test proves nothing")
# Go 1.27: math.ldexp's lone ret (rel8 branches steered through its entry's tail) and
# base32's Encode (a hop into the tail of a window that steers a branch) take no int3.
byname = {f["name"]: f for f in listed if f["patchable"]}
for name in ("math.ldexp", "encoding/base32.(*Encoding).Encode"):
    if ver == "go-1.27" and byname.get(name, {"returns": {"int3": 1}})["returns"]["int3"]:
        bad.append(f"{name} still returns through an int3 here: the test proves nothing")
for b in bad:
    print(f"FAIL: {what}: {b}")
print(f"{'ok' if not bad else 'FAIL'}: {what}: returns {kinds}; calls " +
      ", ".join(f"{n} {f['calls']}" for n, f in calls.items()))
sys.exit(1 if bad else 0)
PY
done
exit $fail
