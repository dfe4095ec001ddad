#!/usr/bin/env bash
# Builds the request-head parser's libFuzzer target (fuzz_http.c) and runs it for a
# bounded time, seeded with the Accept headers of Prometheus 2 and 3 and a few targets.
# Usage: fuzz_http.sh SECONDS   (env GOLAT_TEST_WORK: where to build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd) top=$(cd "$(dirname "$0")/../.." && pwd)
source "$top/tests/fuzz/lib.sh"
work=${GOLAT_TEST_WORK:-$top/build/testwork}/fuzz-http && mkdir -p "$work/corpus"
fuzz_build "$work/fuzz_http" "$here/fuzz_http.c" "$top/tools/serve_http.c" "$top/lib/glibc_compat.c" -I"$top/tools"
printf 'GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.2,*/*;q=0.1\r\n\r\n' >"$work/corpus/prom3"
printf 'GET /metrics?pid=42&x=1 HTTP/1.1\r\nAccept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n\r\n' >"$work/corpus/prom2"
printf 'GET /metrics?pid= HTTP/1.0\naccept:  "text/plain" ; q = 1.000 ,\n\n' >"$work/corpus/odd"
fuzz_run fuzz_http "$work/fuzz_http" "$work/corpus" "$work" "${1:-60}" 8192
