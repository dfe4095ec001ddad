#!/usr/bin/env bash
# args_go<V>: lib/reader/dwarf_args.c against the truth, on tests/args/prog built by go<V>.
# gdb (which knows nothing of Go's register ABI) stops at the entry and at the return of
# every main.* function and dumps the nine integer registers; args_test formats each
# parameter and result from the registers the reader assigned it; the values must be
# the ones the program passes (expect.txt). Then: the parameters of every function
# are those Go's debug/dwarf finds (tests/args/ref), compressed DWARF gives the same
# signatures as uncompressed, stripped (-s -w) gives -ENOENT, damaged sections give
# errors, never a crash.
# Usage: run.sh 1.N ARGS_TEST   (env GOLAT_TEST_WORK: where to build)
set -euo pipefail
ver=$1
args_test=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/names.sh"
go=/usr/lib/go-$ver/bin/go
if [[ ! -x $go ]]; then
	echo "SKIP: go$ver not installed"
	exit 77
fi
if ! command -v gdb >/dev/null; then
	echo "SKIP: gdb is not installed"
	exit 77
fi
work=${GOLAT_TEST_WORK:-$here/../../build/testwork}/args/go$ver
mkdir -p "$work"
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=0
# Not PIE: the strings the program passes are literals, which args_test reads from the file.
(cd "$here/prog" &&
	"$go" build -ldflags=-compressdwarf=false -o "$work/prog" . &&
	"$go" build -o "$work/prog-z" . &&
	"$go" build -ldflags='-s -w' -o "$work/prog-stripped" .)

status=0
entries=$(nm "$work/prog" | awk '$2 ~ /^[tT]$/ && $3 ~ /^main\./ && $3 != "main.main" && $3 != "main.init" {print $1}')
ARGS_ENTRIES=$entries ARGS_DUMP=$work/regs.txt timeout 120 \
	gdb -nx -batch -iex "set auto-load off" -x "$here/regdump.py" --args "$work/prog" \
	>"$work/gdb.log" 2>&1 || { echo "FAIL: gdb: $(tail -3 "$work/gdb.log")"; exit 1; }
"$args_test" --check "$work/prog" "$work/regs.txt" >"$work/got.txt"
if "$here/check.py" "$here/expect.txt" "$work/got.txt" "${ver#1.}"; then
	echo "go$ver: every parameter and result reads as the program passed it"
else
	echo "FAIL: go$ver: register assignment differs from what gdb saw (got: $work/got.txt)"
	status=1
fi

same_names "$work/prog-z" "$work" "go$ver" || status=1
# Every signature of the program agrees with the argument frame the compiler recorded
# (the pclntab's _func.args), but those expect.txt marks incomplete.
"$args_test" --frames "$work/prog" >"$work/frames.txt"
bad=$(grep -v -E '^(main\.Blank|main\.T\.Value-fm): incomplete|argument frames agree' "$work/frames.txt" |
	grep -E '^main\.' || true)
if [[ -z $bad ]]; then
	echo "go$ver: $(tail -1 "$work/frames.txt")"
else
	echo "FAIL: go$ver: signatures the pclntab's frames do not confirm:"
	echo "$bad"
	status=1
fi
"$args_test" --sig "$work/prog" main. >"$work/sig.txt"
"$args_test" --sig "$work/prog-z" main. >"$work/sig-z.txt"
if cmp -s "$work/sig.txt" "$work/sig-z.txt"; then
	echo "go$ver: compressed DWARF: the same $(wc -l <"$work/sig.txt") signatures"
else
	echo "FAIL: go$ver: compressed DWARF gives other signatures"
	diff "$work/sig.txt" "$work/sig-z.txt" | head
	status=1
fi
# golat list --args shows the same assignment (JSON), and says why when there is no DWARF.
if [[ -n ${GOLAT_CLI:-} && -x ${GOLAT_CLI:-} ]]; then
	"$GOLAT_CLI" list --json --args "$work/prog" main.Str main.Big >"$work/list.json"
	if python3 - "$work/list.json" <<'PY'; then
import json, sys
f = {x["name"]: x for x in json.load(open(sys.argv[1]))}
got = [(a["name"], a["type"], a["kind"], a["where"], a.get("regs")) for a in f["main.Str"]["args"]]
assert got == [("s", "string", "string", "regs", ["rax", "rbx"]),
               ("b", "[]uint8", "slice", "regs", ["rcx", "rdi", "rsi"]),
               ("p", "*main.T", "pointer", "regs", ["r8"]),
               ("ok", "bool", "bool", "regs", ["r9"])], got
assert [r["regs"] for r in f["main.Str"]["results"]] == [["rax", "rbx"], ["rcx"]]
assert [a["where"] for a in f["main.Big"]["args"]] == ["stack", "regs"]
PY
		echo "go$ver: golat list --args --json agrees"
	else
		echo "FAIL: go$ver: golat list --args --json"
		status=1
	fi
	"$GOLAT_CLI" list --args "$work/prog-stripped" main.Str 2>"$work/list.err" >/dev/null
	grep -q "has no DWARF" "$work/list.err" || { echo "FAIL: go$ver: list --args on stripped: $(cat "$work/list.err")"; status=1; }
fi
"$args_test" --time "$work/prog-z"
"$args_test" --enoent "$work/prog-stripped" || status=1
"$args_test" --damage "$work/prog" || status=1
exit $status
