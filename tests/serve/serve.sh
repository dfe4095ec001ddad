#!/usr/bin/env bash
# golat serve from the outside: two real Go programs (libgolat.so preloaded) scraped at
# once, each series with its pid and exe labels (the exe path needs escaping) and the
# exact call counts the programs made; the exposition valid (promcheck.py, and promtool
# where it is installed); 404, 405, HEAD, bad and oversized requests; hostile stats
# files (garbage, truncated, a link, mode 0644, a FIFO, a directory, a copy) and files
# truncated and removed while it serves; slow, idle and vanishing clients; a killed
# program and a removed stats file dropping out of the next scrape; a port in use and a
# bad address refused in one "golat: " line; SIGTERM ending it with status 0.
# Usage: serve.sh GO   (env GOLAT_CLI, GOLAT_LIB, GOLAT_TEST_WORK)
set -uo pipefail
source "$(dirname "$0")/common.sh"
common_setup "$1" serve

# scrape OUT: GET /metrics into OUT, which must be 200 and a valid exposition.
scrape() {
	local got
	got=$(client get "$port" /metrics "$1") || { bad "GET /metrics: $got"; return 1; }
	[[ $got == "200 text/plain; version=0.0.4; charset=utf-8" ]] || { bad "GET /metrics: $got"; return 1; }
	prom check "$1" || { bad "$1 is not a valid exposition"; return 1; }
	# promtool also lints (HELP, _total suffixes, units): golat's output passes clean.
	if [[ -n $promtool ]] && ! "$promtool" check metrics <"$1" >"$work/promtool.out" 2>&1; then
		bad "promtool check metrics $1: $(cat "$work/promtool.out")"
		return 1
	fi
	return 0
}

# promtool: on PATH, or from the Debian package prometheus.sh fetches (Debian 12's
# prometheus ships it; later ones have a package of its own).
promtool=$(command -v promtool || true)
pdir=${GOLAT_PROMETHEUS_DIR:-${GOLAT_TEST_WORK:-/tmp}/prometheus}
[[ -z $promtool && -x $pdir/usr/bin/promtool ]] && promtool=$pdir/usr/bin/promtool
echo "promtool: ${promtool:-not installed: promcheck.py only}"

# expect_value OUT VALUE NAME LABEL=V...: the one sample matching has VALUE.
expect_value() {
	local out=$1 want=$2 got
	shift 2
	got=$(prom get "$out" "$@")
	[[ $got == "$want" ]] || bad "$* in $out: $got, want $want"
}

# The checker must be able to fail: a family split in two, and a bad escape.
printf '# TYPE a counter\na 1\n# TYPE b gauge\nb 1\na{x="1"} 2\n' >"$work/split.prom"
printf '# TYPE a counter\na{x="\\q"} 1\n' >"$work/escape.prom"
for f in split escape; do
	prom check "$work/$f.prom" >/dev/null && bad "promcheck.py accepts $f.prom"
done

start_prog 1234 && pa=$prog_pid
start_prog 4321 && pb=$prog_pid
start_serve || exit 1

# Both programs in one scrape, with their exact counts and labels.
scrape "$work/two.prom"
for f in golat_calls_total golat_duration_seconds_count; do
	expect_value "$work/two.prom" 1234 $f function=main.work pid="$pa" exe="$exe"
	expect_value "$work/two.prom" 617 $f function=main.other pid="$pa" exe="$exe"
	expect_value "$work/two.prom" 4321 $f function=main.work pid="$pb" exe="$exe"
	expect_value "$work/two.prom" 2160 $f function=main.other pid="$pb" exe="$exe"
done
expect_value "$work/two.prom" 0 golat_in_flight function=main.work pid="$pa"
esc=${exe//\\/\\\\}
esc=${esc//\"/\\\"}
grep -qF "exe=\"$esc\"" "$work/two.prom" ||
	bad "the exe label is not escaped as the format says: $(grep -m1 golat_calls_total "$work/two.prom")"
ok "two programs in one scrape, exact counts, pid and exe labels"

# Other paths and methods.
expect_status() {
	local want=$1 got
	shift
	got=$(client "$@" 2>&1)
	[[ $got == "$want"* ]] || bad "$*: '$got', want '$want'"
}
expect_status "404" get "$port" / "$work/body"
expect_status "404" get "$port" /metricsx "$work/body"
expect_status "404" get "$port" /metrics/ "$work/body"
expect_status "200" get "$port" "/metrics?name[]=x" "$work/body"
expect_status "405" get "$port" /metrics "$work/body" POST
expect_status "200" get "$port" /metrics "$work/body" HEAD
[[ -s $work/body ]] && bad "HEAD /metrics has a body"
expect_status "HTTP/1.1 400" raw "$port" 'hello\r\n\r\n'
expect_status "HTTP/1.1 400" raw "$port" 'GET /metrics HTTP/1.1\x00\r\n\r\n'
expect_status "HTTP/1.1 505" raw "$port" 'GET /metrics HTTP/2.0\r\n\r\n'
expect_status "HTTP/1.1 200" raw "$port" 'GET /metrics HTTP/1.0\n\n'
expect_status "HTTP/1.1 431" raw "$port" "GET /metrics HTTP/1.1\\r\\nX: $(head -c 9000 /dev/zero | tr '\0' a)\\r\\n\\r\\n"
ok "404, 405, HEAD, 400, 505, 431"

# Hostile files where serve looks ($TMPDIR): none is shown, none stops it.
scrape "$work/before.prom"
sa=/dev/shm/golat-$pa.stats
t=$work/tmp
head -c 100000 /dev/urandom >"$t/golat-garbage.stats"
head -c 6000 "$sa" >"$t/golat-trunc.stats"
head -c 4096 "$sa" >"$t/golat-header.stats"
ln -s "$sa" "$t/golat-link.stats"
cp "$sa" "$t/golat-mode.stats" && chmod 644 "$t/golat-mode.stats"
mkfifo "$t/golat-fifo.stats"
mkdir "$t/golat-dir.stats"
cp "/dev/shm/golat-$pb.stats" "$t/golat-copy.stats"
chmod 600 "$t"/golat-{garbage,trunc,header,fifo,copy}.stats
scrape "$work/hostile.prom"
for f in golat_calls_total golat_duration_seconds_count; do
	expect_value "$work/hostile.prom" 1234 $f function=main.work pid="$pa"
	expect_value "$work/hostile.prom" 4321 $f function=main.work pid="$pb"
done
delta() { echo $(($(prom get "$work/hostile.prom" golat_serve_stats_files state="$1") - $(prom get "$work/before.prom" golat_serve_stats_files state="$1"))); }
# Others' golat programs may come and go in /dev/shm meanwhile: at least ours count.
(($(delta unreadable) >= 7)) || bad "7 hostile files, $(delta unreadable) more unreadable"
[[ $(delta duplicate) == 1 ]] || bad "a copy of a live file: $(delta duplicate) more duplicate"
ok "hostile stats files left out, counted unreadable or duplicate"

# Files truncated and removed while 20 scrapes go on.
(
	while :; do
		cp "$sa" "$t/golat-churn.stats" && chmod 600 "$t/golat-churn.stats"
		truncate -s 20000 "$t/golat-churn.stats"
		truncate -s 0 "$t/golat-churn.stats"
		rm -f "$t/golat-churn.stats"
	done
) &
churn=$!
for n in $(seq 20); do
	got=$(client get "$port" /metrics "$work/churn.prom")
	[[ $got == 200* ]] || { bad "scrape $n during the churn: $got"; break; }
done
kill $churn
wait $churn 2>/dev/null
rm -f "$t/golat-churn.stats" # a copy of pid $pa's file, which it would show while $pa lives
scrape "$work/churn.prom" && ok "20 scrapes while a stats file was truncated and removed"

# Clients: 100 idle connections (more than it serves at once), requests that are
# never read, one too slow to ask.
got=$(client flood "$port" 100)
[[ $got == 200* ]] && ok "a scrape behind 100 idle connections: $got" || bad "flood: $got"
client gone "$port" 50 >/dev/null
scrape "$work/after-gone.prom" && ok "clients that vanish before the answer"
got=$(client slow "$port" 14)
[[ $got =~ ^(9|10|11)$ ]] && ok "a slow request closed after ${got}s" || bad "a slow request: $got"

# A killed program and a removed stats file drop out of the next scrape.
kill -9 "$pb"
wait "$pb" 2>/dev/null
rm -f "$sa"
scrape "$work/gone.prom"
for pid in "$pa" "$pb"; do
	got=$(prom count "$work/gone.prom" golat_calls_total pid="$pid")
	[[ $got == 0 ]] || bad "pid $pid: $got series after its end or its file's removal"
done
ok "a killed program's and a removed file's series are gone"

# Refusals, in one "golat: " line each that starts as PATTERN (no regular expression).
expect_fail() {
	local pat=$1
	shift
	"$golat" serve "$@" >"$work/out" 2>"$work/err" &
	local pid=$! rc
	for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	kill $pid 2>/dev/null && { bad "golat serve $* runs"; return; }
	wait $pid
	rc=$?
	if [[ $rc != 1 || $(wc -l <"$work/err") != 1 || $(cat "$work/err") != "golat: $pat"* ]]; then
		bad "golat serve $*: exit $rc, $(cat "$work/err")"
	fi
}
expect_fail "cannot listen on 127.0.0.1:$port: Address already in use" --listen "127.0.0.1:$port"
for a in foo 127.0.0.1 :65536 ::1:80 '[::1]' '[]:80' :x; do
	expect_fail "bad listen address '$a'" --listen "$a"
done
"$golat" serve --bogus 2>"$work/err"
[[ $? == 2 ]] && grep -q '^usage:' "$work/err" || bad "golat serve --bogus: $(cat "$work/err")"
ok "refusals"

# The other address forms.
for a in :0 '[::1]:0'; do
	[[ $a == '[::1]:0' && ! -s /proc/net/if_inet6 ]] && { echo "note: no IPv6: $a not tried"; continue; }
	"$golat" serve --listen "$a" 2>"$work/err2" &
	p=$!
	sleep 0.5
	grep -qE '^golat: serving http://(\[::\]|0\.0\.0\.0|\[::1\]):[0-9]+/metrics$' "$work/err2" ||
		bad "--listen $a: $(cat "$work/err2")"
	kill $p
	wait $p || bad "--listen $a: exit $? after SIGTERM"
done

kill -TERM "$serve_pid"
wait "$serve_pid"
rc=$?
[[ $rc == 0 ]] && ok "SIGTERM: exit 0" || bad "golat serve exited $rc after SIGTERM"
((fail)) && exit 1
echo "serve: ok"
