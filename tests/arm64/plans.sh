#!/usr/bin/env bash
# arm64_plans_go1.N: the hook sites of every function of arm64 Go binaries built by one
# toolchain on this host (GOARCH=arm64 CGO_ENABLED=0): a pure Go program (plansprog/)
# and the toolchain's own gofmt. Of the functions that return, at least 99.9% must be
# fully patchable (entry and every RET), and every entry must relocate (plans.c).
# Usage: plans.sh /usr/lib/go-1.N/bin/go PLANS_TOOL   (env: GOLAT_TEST_WORK)
set -euo pipefail
go=$1
ver=$(basename "$(dirname "$(dirname "$go")")")
if [[ ! -x $go ]]; then
	echo "SKIP: ${ver#go-}: $go not installed"
	exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
work=${GOLAT_TEST_WORK:-${TMPDIR:-/tmp}/golat-testwork}/arm64_plans/$ver
mkdir -p "$work"
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=${GOFLAGS:--mod=mod} GOARCH=arm64 CGO_ENABLED=0
(cd "$here/plansprog" && "$go" build -o "$work/prog" .)
"$go" build -o "$work/gofmt" cmd/gofmt
"$2" --min 99.9 "$work/prog" "$work/gofmt"
