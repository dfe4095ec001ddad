#!/usr/bin/env bash
# Real static programs nobody here wrote: the toolchain's own gofmt (static on every
# version) and, where it is static too (1.21 and later), the go command, under golat run:
#  - gofmt -l over net/http's sources with go/printer, go/parser and go/scanner hooked:
#    the same output and status as unhooked, and the report counts calls of
#    go/printer.(*printer).print and go/scanner.(*Scanner).Scan;
#  - go list std with every function golat can hook ('*': some 13,000 of the go
#    command's 16,000): the same output and status, and more than 10,000 functions
#    hooked, with calls counted.
# Usage: tools.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_CLI, GOLAT_TEST_WORK)
set -uo pipefail
source "$(dirname "$0")/common.sh"
static_setup tools "$1"
goroot=$("$go" env GOROOT)
export GOFLAGS= GOTOOLCHAIN=local GOPROXY=off

# Runs BIN ARGS unhooked and under golat run -f SPECS; compares; leaves the JSON report.
compare() {
	local name=$1 specs=$2
	shift 2
	local st0=0 st1=0
	"$@" >"$work/$name.0" 2>"$work/$name.0.err" || st0=$?
	"$golat" run -f "$specs" -o "$work/$name.json" -- "$@" >"$work/$name.1" 2>"$work/$name.1.err" || st1=$?
	refused_static "$work/$name.1.err"
	((st0 == st1)) || bad "$name: status $st1 under golat run, $st0 without: $(head -3 "$work/$name.1.err")"
	cmp -s "$work/$name.0" "$work/$name.1" || bad "$name: its output differs under golat run: $(diff "$work/$name.0" "$work/$name.1" | head -5)"
	[[ -s $work/$name.json ]] || bad "$name: no report at $work/$name.json"
}

# "calls of F" for each F given, and the number of functions the report lists.
calls() {
	python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
by = {}
for f in d["functions"]:
    by[f["name"]] = by.get(f["name"], 0) + f["calls"]
print(len([c for c in by.values() if c > 0]), *[by.get(n, 0) for n in sys.argv[2:]])
PY
}

gofmt=$goroot/bin/gofmt
is_static "$gofmt" || { echo "FAIL: $gofmt is not static: $(file -b "$gofmt")"; exit 1; }
compare gofmt 'go/printer.*,go/parser.*,go/scanner.*' "$gofmt" -l "$goroot/src/net/http"
if [[ -s $work/gofmt.json ]]; then
	read -r nf print scan < <(calls "$work/gofmt.json" 'go/printer.(*printer).print' 'go/scanner.(*Scanner).Scan')
	((print > 0 && scan > 0)) && ok "gofmt: same output, $nf functions called, go/printer.(*printer).print $print calls, Scan $scan" ||
		bad "gofmt: go/printer.(*printer).print $print calls, go/scanner.(*Scanner).Scan $scan (want both > 0)"
fi

gocmd=$goroot/bin/go
if is_static "$gocmd"; then
	compare golist '*' "$gocmd" list std
	if [[ -s $work/golist.json ]]; then
		hooked=$(grep -o 'hooked [0-9]* of' "$work/golist.1.err" | head -1 | tr -dc 0-9)
		read -r nf < <(calls "$work/golist.json")
		((${hooked:-0} > 10000 && nf > 100)) && ok "go list std with '*': same output, $hooked functions hooked, $nf called" ||
			bad "go list std with '*': ${hooked:-no} functions hooked, $nf called (want > 10000 and > 100): $(head -3 "$work/golist.1.err")"
	fi
else
	echo "SKIP: $gover's go command is linked with libc (cgo): only gofmt here"
fi
finish
