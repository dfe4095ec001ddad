#!/usr/bin/env bash
# golat serve's page with 10,000 hooked functions (a Go program generated here): the
# function list is paged (50 rows, 200 pages) and searched on the server, the page draws
# in Chromium; and a hostile name (a stats file whose function name is HTML, patched into a
# copy of the program's file at the same length) stays text in `golat report --html`: no
# element, no script, the name shown as it is.
# Usage: many.sh GO   (env GOLAT_CLI, GOLAT_LIB, GOLAT_TEST_WORK; GOLAT_CHROMIUM)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
source "$here/common.sh"
page_setup "$1" page-many
mkdir -p "$work/src" "$work/stats" "$work/copy"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -f "$work"/stats/golat-*.stats "$work"/stats/golat-*.heat "$work"/copy/*.stats
}
trap cleanup EXIT
hostile='main.<img src=x onerror=alert(1)>&"'"'"'</script>'
HOSTILE=$hostile python3 - "$work/src" <<'EOF'
import os, sys
n, d = 10000, sys.argv[1]
hostile = os.environ["HOSTILE"]
stand_in = "h" + "x" * (len(hostile) - len("main.h"))  # the same length, patched later
with open(os.path.join(d, "main.go"), "w") as f:
    f.write('package main\n\nimport (\n\t"os"\n\t"time"\n)\n\nvar sink int\n\n')
    for i in range(n):
        f.write(f"//go:noinline\nfunc f{i}(i int) int {{ return i + {i} }}\n")
    f.write(f"//go:noinline\nfunc {stand_in}() {{ time.Sleep(20 * time.Millisecond) }}\n")
    f.write("var fns = []func(int) int{" + ",".join(f"f{i}" for i in range(n)) + "}\n")
    f.write("func main() {\n\tfor k, f := range fns {\n\t\tfor j := 0; j <= k%7; j++ {\n"
            "\t\t\tsink += f(j)\n\t\t}\n\t}\n\t" + stand_in + "()\n"
            "\tos.WriteFile(os.Args[1], nil, 0o644)\n\tfor cgoCheck() == 42 {\n"
            "\t\ttime.Sleep(time.Hour)\n\t}\n}\n")
EOF
cp "$here/prog/cgo.go" "$work/src/" && printf 'module golat.test/many\n\ngo 1.19\n' >"$work/src/go.mod"
# The user's warm build cache (a cold one compiles runtime and cgo again); ours where there is no home.
[[ -n ${GOCACHE:-}${XDG_CACHE_HOME:-}${HOME:-} ]] || export GOCACHE=${GOLAT_TEST_WORK:-/tmp}/page-gocache-$ver
(cd "$work/src" && "$go" build -o "$work/many" .) || { echo "FAIL: go build"; exit 1; }
LD_PRELOAD=$GOLAT_LIB GOLAT_FUNCS='main.f*,main.hx*' GOLAT_LOG=quiet GOLAT_OUTPUT=/dev/null \
	GOLAT_STATS="$work/stats/golat-%p.stats" "$work/many" "$work/ready" &
prog=$!
pids+=("$prog")
wait_until 60 test -e "$work/ready" || { echo "FAIL: the program never got ready"; exit 1; }

"$golat" serve --listen 127.0.0.1:0 --dir "$work/stats" 2>"$work/serve.err" &
pids+=("$!")
wait_until 20 grep -q 'serving http' "$work/serve.err" || { echo "FAIL: serve did not start"; exit 1; }
url=http://127.0.0.1:$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/serve.err")
get() { curl -sf --max-time 20 "$@"; }

# The API: paged and searched on the server.
get "$url/api/funcs?pid=$prog&page=0" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["total"] == 10001 and len(d["funcs"]) == 50, (d["total"], len(d["funcs"]))
assert d["funcs"][0]["name"].startswith("main.hx"), d["funcs"][0]["name"]' &&
	ok "10,001 functions, 50 to a page, slowest total first" || bad "/api/funcs page 0"
get "$url/api/funcs?pid=$prog&page=200" | grep -q '"funcs":\[{"id":[0-9]*,"name":"main.f[0-9]*"[^]]*}\]' ||
	bad "the last page does not hold the last function"
get "$url/api/funcs?pid=$prog&q=F9999&page=0" | grep -q '"total":1,.*"name":"main.f9999"' &&
	ok "search: one of 10,001" || bad "a search for f9999"

dom "$url/" "$work/live.html" || bad "the page never drew with 10,001 functions"
python3 - "$work/live.html" <<'EOF' && ok "the page: 50 rows of 10,001, page 1 / 201" || bad "the page's function list"
import re, sys
d = open(sys.argv[1]).read()
body = re.search(r'<table id="funcs">.*?<tbody>(.*?)</tbody>', d, re.S).group(1)
rows = body.count("<tr")
pages = re.search(r'<span id="pageno"[^>]*>([^<]*)<', d).group(1)
print(f"rows {rows}, pages {pages}")
sys.exit(0 if rows == 50 and pages == "1 / 201" else 1)
EOF

# A hostile name: the program's file copied, its stand-in name replaced by HTML.
cp --sparse=always "$work/stats/golat-$prog.stats" "$work/copy/hostile.stats"
HOSTILE=$hostile python3 - "$work/copy/hostile.stats" <<'EOF' || bad "cannot patch the name"
import os, sys
hostile = os.environ["HOSTILE"].encode()
stand_in = b"main.h" + b"x" * (len(hostile) - len(b"main.h"))
data = bytearray(open(sys.argv[1], "rb").read())
i = data.find(stand_in + b"\0")
assert i > 0
data[i:i + len(hostile)] = hostile
open(sys.argv[1], "wb").write(data)
EOF
"$golat" report "$work/copy/hostile.stats" --html "$work/hostile.html" || bad "golat report --html"
echo "report --html of 10,001 functions: $(stat -c %s "$work/hostile.html") bytes"
dom "file://$work/hostile.html" "$work/hostile.dom.html" || bad "the HTML report never drew"
HOSTILE=$hostile python3 - "$work/hostile.dom.html" <<'EOF' && ok "a hostile name stays text" || bad "a hostile name became markup"
import html.parser, os, sys
hostile = os.environ["HOSTILE"]
class P(html.parser.HTMLParser):
    tags, text, in_fname = [], [], False
    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.in_fname = dict(attrs).get("id") == "fname"
    def handle_data(self, data):
        if self.in_fname:
            self.text.append(data)
    def handle_endtag(self, tag):
        self.in_fname = False
p = P(convert_charrefs=True)
p.feed(open(sys.argv[1]).read())
print("tags", sorted(set(p.tags)), "fname", p.text)
sys.exit(0 if "img" not in p.tags and p.text == [hostile] else 1)
EOF
# Without GOLAT_INTERVAL no per-interval counts are kept: no ring beside the stats file,
# while the program runs nor after it ended.
[[ -e $work/stats/golat-$prog.heat ]] && bad "a ring of per-interval counts without GOLAT_INTERVAL"
kill "$prog" && wait "$prog" 2>/dev/null
[[ -e $work/stats/golat-$prog.stats && ! -e $work/stats/golat-$prog.heat ]] &&
	ok "no ring without GOLAT_INTERVAL" || bad "a ring without GOLAT_INTERVAL (or no stats file)"
exit $fail
