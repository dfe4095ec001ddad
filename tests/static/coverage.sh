#!/usr/bin/env bash
# Static programs own their signals (issue 19), so golat plans them with hops, int3s and
# steered branches: of the functions that return with a ret (leaving out the runtime's,
# assembly, tail jumps and the fork child's: coverage.py), at least 99.9% of the
# toolchain's own statically linked compile, link, go and gofmt are patchable
# (`golat list`, which plans a static binary as golat attach and run do).
# Usage: coverage.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_CLI)
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
static_setup coverage "$1"
root=$(dirname "$(dirname "$go")")
n=0
for b in "$root/pkg/tool/linux_amd64/compile" "$root/pkg/tool/linux_amd64/link" "$root/bin/go" "$root/bin/gofmt"; do
	[[ -x $b ]] && is_static "$b" || continue
	n=$((n + 1))
	verdict "${b#"$root"/}" python3 "$here/coverage.py" "$golat" "$b" --min 99.9
done
((n > 0)) || bad "no statically linked tool in $root"
finish
