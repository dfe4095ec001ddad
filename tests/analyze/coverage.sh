#!/usr/bin/env bash
# The analyzer on every function of a real cgo Go program (prog/: net/http, fmt,
# encoding/json) built by one toolchain, as an executable and as a stripped PIE:
# of the functions that return with a ret, at least 99% must be patchable, and
# every window of every plan must relocate. Prints the skip reasons.
# Usage: coverage.sh /usr/lib/go-1.N/bin/go COVERAGE_TOOL   (env: GOLAT_TEST_WORK)
set -euo pipefail
prog=prog
source "$(dirname "$0")/common.sh"
"$work/exe" >/dev/null
"$2" --min 99 "$work/exe" "$work/pie.stripped"
