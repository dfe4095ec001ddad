#!/usr/bin/env bash
# Builds, once per toolchain, the programs the attach and container tests start:
# DIR/exe (svc/, go build), DIR/pie (svc/, -buildmode=pie, stripped, as distributions
# ship them), DIR/static (svc/, CGO_ENABLED=0) and DIR/load (load/). CTest runs it as the
# fixture attach_bins_go1.N before those tests, which then copy the binaries instead of
# each linking its own (GOLAT_ATTACH_BINS=DIR; without it they build them).
# Usage: build.sh GO DIR
set -uo pipefail
# shellcheck source=../gotool.sh
source "$(dirname "$0")/../gotool.sh"
go_toolchain "$1"
dir=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$dir"
mkdir -p "$dir"
if (cd "$here/svc" && "$go" build -o "$dir/exe" . && "$go" build -buildmode=pie -o "$dir/pie" . &&
	strip "$dir/pie" && CGO_ENABLED=0 "$go" build -o "$dir/static" . &&
	cd "$here/load" && "$go" build -o "$dir/load" .); then
	echo "ok: $gover built svc/ (exe, stripped pie, static) and load/ in $dir"
else
	rm -rf "$dir"
	echo "FAIL: $gover cannot build svc/ and load/"
	exit 1
fi
