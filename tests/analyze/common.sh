# Shared by coverage.sh and selfpatch.sh (sourced, not run): checks the toolchain
# ($1, exit 77 when it is missing), and builds the Go program in folder $prog as an
# executable and as a stripped PIE: $work/exe and $work/pie.stripped.
# Sets: go, ver (go-1.N), here (this folder), work.
go=$1
ver=$(basename "$(dirname "$(dirname "$go")")")
if [[ ! -x $go ]]; then echo "SKIP: ${ver#go-}: $go not installed"; exit 77; fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${GOLAT_TEST_WORK:-${TMPDIR:-/tmp}/golat-testwork}/analyze/$prog/$ver
mkdir -p "$work"
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=${GOFLAGS:--mod=mod}
(cd "$here/$prog" && CGO_ENABLED=1 "$go" build -o "$work/exe" . &&
	CGO_ENABLED=1 "$go" build -buildmode=pie -ldflags=-s -o "$work/pie.stripped" .)
