#!/usr/bin/env bash
# arm64_selfpatch_go1.N: patched arm64 Go code runs as before. selfprog/ (cgo) is
# cross-compiled for linux/arm64 and run under qemu-user twice: alone, and with
# selfpatch_so.so preloaded, whose constructor writes a B over the entry and every RET of
# each function that lib/arch/arm64 finds patchable (the plan selfpatch.c computed on
# this host: trampolines that run the relocated entry word and jump back, or hold the
# RET). The transcripts must be equal, at least 500 entries patched and at most 0.1% of
# the hookable functions skipped. Skips (77)
# without the toolchain, the cross compiler, binfmt_misc or an arm64-reading lib/reader.
# Usage: selfpatch.sh /usr/lib/go-1.N/bin/go SELFPATCH_TOOL   (env: GOLAT_TEST_WORK)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../gotool.sh
source "$here/../gotool.sh"
# shellcheck source=qemu.sh
source "$here/qemu.sh"
go_toolchain "$1"
work=${GOLAT_TEST_WORK:-${TMPDIR:-/tmp}/golat-testwork}/arm64/selfpatch/$ver
rm -rf "$work"
mkdir -p "$work"
arm64_ready "$work"

"$ARM64_CC" -shared -fPIC -O2 -Wall -Wextra -Werror -o "$work/selfpatch.so" "$here/selfpatch_so.c" ||
	{ echo "FAIL: $ARM64_CC cannot build selfpatch_so.c"; exit 1; }
(cd "$here/selfprog" && GOARCH=arm64 CC=$ARM64_CC "$go" build -o "$work/selfprog" .) ||
	{ echo "FAIL: $gover cannot cross-build selfprog/ for arm64 with cgo"; exit 1; }
"$2" "$work/selfprog" "$work/plan" >"$work/plan.out"
rc=$?
cat "$work/plan.out"
[[ $rc == 77 ]] && exit 77
[[ $rc == 0 ]] || { echo "FAIL: the plan of $work/selfprog (exit $rc)"; exit 1; }

timeout 120 "$work/selfprog" >"$work/alone.out" 2>&1
rc=$?
[[ $rc == 0 ]] || bad "selfprog alone exited $rc: $(head -c 300 "$work/alone.out")"
# LD_PRELOAD through env, the last host program before the arm64 one (cross_go.sh says why).
timeout 120 env ARM64_SELFPATCH="$work/plan" LD_PRELOAD="$work/selfpatch.so" "$work/selfprog" \
	>"$work/patched.out" 2>&1
rc=$?
[[ $rc == 0 ]] || bad "selfprog patched exited $rc: $(tail -c 600 "$work/patched.out")"
line=$(grep '^selfpatch:' "$work/patched.out")
echo "$line"
read -r entries rets < <(sed -n 's/^selfpatch: patched \([0-9]*\) entries and \([0-9]*\) returns$/\1 \2/p' <<<"$line")
planned=$(sed -n 's/.* \([0-9]*\) entries and \([0-9]*\) returns planned.*/\1 \2/p' "$work/plan.out")
[[ -n ${entries:-} && "$entries $rets" == "$planned" ]] || bad "patched '${entries:-} ${rets:-}', planned '$planned'"
read -r hookable skipped < <(sed -n 's/.*: \([0-9]*\) hookable functions, .* \([0-9]*\) skipped;.*/\1 \2/p' "$work/plan.out")
((${entries:-0} >= 500 && ${skipped:-1} * 1000 <= ${hookable:-0})) ||
	bad "${entries:-0} entries patched, ${skipped:-?} of ${hookable:-?} hookable functions skipped (at most 0.1%)"
grep -v '^selfpatch:' "$work/patched.out" >"$work/patched.transcript"
diff "$work/alone.out" "$work/patched.transcript" >"$work/diff" || bad "the transcript changed: $(head -c 600 "$work/diff")"
((fail)) && exit 1
ok "$gover linux/arm64 under qemu-user: $entries entries and $rets returns patched, the same transcript"
