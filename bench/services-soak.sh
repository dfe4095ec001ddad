#!/usr/bin/env bash
# A longer soak of tests/services/services.sh: each Debian service of each suite under golat
# with broad globs and wrk for GOLAT_SERVICES_LOAD seconds (default 300), the same checks
# (no failed request, no crash, exact counts after the load). Run from a build folder:
#   cd build && ../bench/services-soak.sh [SUITE...]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$PWD
export GOLAT_LIB=${GOLAT_LIB:-$build/lib/libgolat.so} GOLAT_CLI=${GOLAT_CLI:-$build/tools/golat}
export GOLAT_TEST_WORK=${GOLAT_TEST_WORK:-$build/testwork} GOLAT_SERVICES_LOAD=${GOLAT_SERVICES_LOAD:-300}
[[ -x $GOLAT_LIB && -x $GOLAT_CLI ]] || { echo "run from a build folder (no $GOLAT_LIB)"; exit 2; }
suites=("$@")
((${#suites[@]})) || suites=(bookworm trixie sid)
rc=0
for suite in "${suites[@]}"; do
	for pkg in caddy etcd-server; do
		echo "== $suite $pkg, ${GOLAT_SERVICES_LOAD} s of load"
		nice "$here/../tests/services/services.sh" "$suite" "$pkg" "$build/services-cache"
		r=$?
		((r == 0 || r == 77)) || rc=1
	done
done
exit $rc
