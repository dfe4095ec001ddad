#!/usr/bin/env bash
# golat serve's page in headless Chromium, against a live program (prog/main.go): the
# heat map's cells, read from the page's DOM (#heat-data, what it drew), hold exactly the
# calls the program made after the page's function was chosen, by latency band (below and
# above a row edge near 3 ms, as the program timed each call) and by second (the first
# burst's columns hold it alone);
# argument values appear only under --args; `golat report --html` writes the same page
# with the whole run's histogram inlined, and it opens offline. The program runs with
# GOLAT_INTERVAL=1: its per-interval counts (golat-<pid>.heat) make the report's heat map
# over the run, of the live program and of the finished one: the same exact counts by band,
# the warm-up and the first burst alone in the intervals before the second's (the test
# lets the ring take the first burst before it starts the second). A screenshot of the
# live page is kept in the work directory (page.png; doc/page.png is a copy).
# Usage: page.sh GO   (env GOLAT_CLI, GOLAT_LIB, GOLAT_TEST_WORK; GOLAT_CHROMIUM)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
source "$here/common.sh"
page_setup "$1" page
mkdir -p "$work/stats" "$work/run"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -f "$work"/stats/golat-*.stats "$work"/stats/golat-*.heat
}
trap cleanup EXIT
# The user's warm build cache (a cold one compiles runtime and cgo again); ours where there is no home.
[[ -n ${GOCACHE:-}${XDG_CACHE_HOME:-}${HOME:-} ]] || export GOCACHE=${GOLAT_TEST_WORK:-/tmp}/page-gocache-$ver
(cd "$here/prog" && "$go" build -o "$work/prog" .) || { echo "FAIL: go build"; exit 1; }

LD_PRELOAD=$GOLAT_LIB GOLAT_FUNCS=main.call GOLAT_LOG=quiet GOLAT_OUTPUT=/dev/null GOLAT_INTERVAL=1 \
	GOLAT_STATS="$work/stats/golat-%p.stats" "$work/prog" "$work/run" &
prog=$!
pids+=("$prog")
wait_until 30 test -e "$work/run/ready" || { echo "FAIL: the program never got ready"; exit 1; }

# serve_start NAME ARGS...: golat serve on a free port, its port in port_NAME.
serve_start() {
	local name=$1 p
	shift
	"$golat" serve --listen 127.0.0.1:0 --dir "$work/stats" "$@" 2>"$work/$name.err" &
	pids+=("$!")
	wait_until 20 grep -q 'serving http' "$work/$name.err" || { echo "FAIL: serve $name did not start"; exit 1; }
	p=$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/$name.err" | head -1)
	printf -v "port_$name" %s "$p"
}
serve_start plain
serve_start args --args
url=http://127.0.0.1:$port_plain

get() { curl -sf --max-time 10 "$@"; }
# The function's id, from the paged and searched list.
id=$(get "$url/api/funcs?pid=$prog&q=MAIN.CALL&page=0" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(next(f["id"] for f in d["funcs"] if f["name"] == "main.call"))') ||
	{ echo "FAIL: /api/funcs does not list main.call"; exit 1; }
get "$url/api/procs" | grep -q "\"pid\":$prog" || bad "/api/procs does not list the program"
# Choosing the function starts its heat map (on both servers): what came before is not in it.
get "$url/api/func?pid=$prog&id=$id" >/dev/null || { echo "FAIL: /api/func"; exit 1; }
get "http://127.0.0.1:$port_args/api/func?pid=$prog&id=$id" >/dev/null

heat_calls() { get "$url/api/heat?pid=$prog&id=$id" | python3 -c '
import json, sys
print(sum(c[1] for col in json.load(sys.stdin)["cols"] for c in col["cells"]))'; }
heat_is() { [[ $(heat_calls) == "$1" ]]; }
# The calls in the per-interval counts `golat report --html` inlines for main.call.
ring_calls() {
	"$golat" report "$prog" --html "$work/ring.html" 2>/dev/null && python3 - "$work/ring.html" "$id" <<'EOF'
import json, re, sys
m = re.search(r'<script id="golat-data" type="application/json">(.*?)</script>', open(sys.argv[1]).read(), re.S)
d = json.loads(m.group(1)) if m else {}
print(sum(c[1] for col in d.get("heat", {}).get(sys.argv[2], {}).get("cols", []) for c in col["cells"]))
EOF
}
ring_is() { [[ $(ring_calls) == "$1" ]]; }
# ring_wait SECONDS N: until ring_is N (each try runs golat report: a deadline, not a count).
ring_wait() {
	local end=$((SECONDS + $1))
	while ((SECONDS < end)); do
		ring_is "$2" && return 0
		sleep 0.2
	done
	return 1
}

touch "$work/run/go1"
wait_until 60 test -e "$work/run/tally1" || { echo "FAIL: the fast burst never ended"; exit 1; }
read -r f1 s1 < <(head -1 "$work/run/tally1")
wait_until 20 heat_is $((f1 + s1)) || bad "the heat map holds $(heat_calls) calls after the fast burst, not $((f1 + s1))"
# The warm-up and the first burst in the ring's intervals before the second burst starts.
ring_wait 20 $((f1 + s1 + 1)) || bad "the per-interval counts hold $(ring_calls) calls after the fast burst, not $((f1 + s1 + 1))"
touch "$work/run/go2"
wait_until 60 test -e "$work/run/tally2" || { echo "FAIL: the slow burst never ended"; exit 1; }
read -r f2 s2 < <(head -1 "$work/run/tally2")
fast=$((f1 + f2)) slow=$((s1 + s2))
wait_until 20 heat_is $((fast + slow)) || bad "the heat map holds $(heat_calls) calls, not $((fast + slow))"
echo "program: $fast calls below 3 ms, $slow above, by its own clock"

# check DOM live|report|ring TALLY...: #heat-data's cells, split at a row edge E between 1 and
# 10 ms that no call's own duration comes within 100 us above (a call golat times is
# shorter than by the program's clock, by less than that): the calls below and above E
# equal the program's. live: the columns before the first one holding a call of the
# second burst hold the first burst exactly. report: one call more, in either band (the
# warm-up, the program's first call: its own clock counts first-call costs that are not
# the function's). ring: as report, and the warm-up and the first burst alone in the
# intervals before the second's.
check() {
	python3 - "$@" <<'EOF'
import html, json, re, sys
dom, live, ring, tallies = open(sys.argv[1]).read(), sys.argv[2] == "live", sys.argv[2] == "ring", sys.argv[3:]
m = re.search(r'<div id="heat-data" hidden="">(.*?)</div>', dom, re.S)
if not m:
    sys.exit("no #heat-data in the page")
d = json.loads(html.unescape(m.group(1)))
rows = d["rows_ns"]
bursts = [[int(x) for x in open(t).read().split()[2:]] for t in tallies]
every = [x for b in bursts for x in b]
edge = next((e for e in rows if 1e6 <= e <= 1e7 and not any(e <= x < e + 1e5 for x in every)), None)
if edge is None:
    sys.exit("no row edge between 1 and 10 ms clear of the calls' durations")
def split(cols):
    lo = sum(n for c in cols for r, n in c["cells"] if rows[r + 1] <= edge)
    return lo, sum(n for c in cols for r, n in c["cells"]) - lo
def want(b):
    return sum(x < edge for x in b), sum(x >= edge for x in b)
cols = sorted(d["cols"], key=lambda c: c["t"])
got = split(cols)
print(f"page: {got[0]} calls below {edge / 1e6:.2f} ms, {got[1]} above, in {len(cols)} columns")
w = want(every)
if live and got != w or not live and (sum(got) != sum(w) + 1 or not {got[0] - w[0], got[1] - w[1]} <= {0, 1}):
    sys.exit(f"the program made {w}" + ("" if live else " and the warm-up call"))
if live or ring:
    n1 = len(bursts[0]) + ring
    sums, k = 0, 0
    while k < len(cols) and sums < n1:
        sums += sum(n for r, n in cols[k]["cells"])
        k += 1
    first = split(cols[:k])
    if ring and len(cols) < 2:
        sys.exit(f"{len(cols)} intervals: the ring did not keep the bursts apart")
    if ring: # the warm-up: one call more, in either band
        w1 = want(bursts[0])
        first = (first[0] - 1, first[1]) if first[0] - w1[0] == 1 else (first[0], first[1] - 1)
    if sums != n1 or first != want(bursts[0]) or split(cols[k:]) != want(bursts[1]):
        sys.exit(f"the first burst is not alone in the first {k} columns: {split(cols[:k])}, then {split(cols[k:])}")
EOF
}

dom "$url/#pid=$prog&id=$id" "$work/live.html" || bad "the live page never drew its heat map"
if check "$work/live.html" live "$work/run/tally1" "$work/run/tally2"; then
	ok "the live heat map: exactly the program's calls, by latency band and second"
else
	bad "the live heat map"
fi
grep -q 'secret-token-42' "$work/live.html" && bad "the page shows an argument value without --args"
grep -q '>token ' "$work/live.html" || grep -q 'token string' "$work/live.html" ||
	bad "the page does not name the argument (token string) without --args"
get "$url/api/func?pid=$prog&id=$id" | grep -q 'secret-token' && bad "/api/func carries an argument value without --args"
dom "http://127.0.0.1:$port_args/#pid=$prog&id=$id" "$work/args.html" || bad "the --args page never drew"
grep -q 'token=secret-token-42' "$work/args.html" && ok "argument values only under --args" ||
	bad "golat serve --args does not show the argument value"

# Search and paging: a query that matches nothing, a page past the end.
get "$url/api/funcs?pid=$prog&q=%3Cnone%3E&page=0" | grep -q '"total":0,' || bad "a search that matches nothing"
get "$url/api/funcs?pid=$prog&page=99" | grep -q '"funcs":\[\]' || bad "a page past the end"
code=$(curl -s -o /dev/null -w '%{http_code}' "$url/api/func?pid=$prog") 
[[ $code == 400 ]] || bad "/api/func without id answered $code"

chrome --virtual-time-budget=6000 --hide-scrollbars --window-size=1280,900 \
	--screenshot="$work/page.png" "$url/#pid=$prog&id=$id" >/dev/null
[[ -s $work/page.png ]] && ok "screenshot $work/page.png" || bad "no screenshot"

# The HTML report of the live program: the heat map over the run from its per-interval
# counts, once they hold every call (the warm-up too).
ring_wait 20 $((fast + slow + 1)) || bad "the per-interval counts hold $(ring_calls) calls, not $((fast + slow + 1))"
"$golat" report "$prog" --html "$work/report.html" || bad "golat report --html failed"
grep -q 'id="golat-data"' "$work/report.html" || bad "the report has no inlined data"
grep -Eq '(src|href)="?https?:' "$work/report.html" && bad "the report fetches from the network"
dom "file://$work/report.html#pid=$prog&id=$id" "$work/report.dom.html" || bad "the HTML report never drew"
if check "$work/report.dom.html" ring "$work/run/tally1" "$work/run/tally2"; then
	ok "golat report --html: the heat map over the run from its per-interval counts, offline"
else
	bad "golat report --html's heat map over the run"
fi
grep -q 'secret-token-42' "$work/report.html" && bad "the HTML report holds an argument value without --args"

kill "$prog" && wait "$prog" 2>/dev/null
# The program is gone: the page's list drops it, without an error.
wait_until 10 bash -c "! curl -sf '$url/api/procs' | grep -q '\"pid\":$prog'" || bad "an exited program stays listed"
get "$url/api/funcs?pid=$prog" >/dev/null && bad "/api/funcs answers for an exited program"
# A finished run's file renders too.
"$golat" report "$work/stats/golat-$prog.stats" --html "$work/final.html" &&
	grep -q '"alive":false' "$work/final.html" && ok "golat report --html of a finished run" ||
	bad "golat report --html of the finished run's file"
[[ $(stat -c %a "$work/stats/golat-$prog.heat") == 600 ]] || bad "golat-$prog.heat is not mode 0600"
dom "file://$work/final.html#pid=$prog&id=$id" "$work/final.dom.html" || bad "the finished run's HTML report never drew"
if check "$work/final.dom.html" ring "$work/run/tally1" "$work/run/tally2"; then
	ok "golat report --html of the finished run: its heat map, in the order of its intervals"
else
	bad "the finished run's heat map"
fi
exit $fail
