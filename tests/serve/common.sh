# Sourced by the serve tests (serve.sh: real Go programs; fixture.sh: synthetic files,
# no Go, so it also runs under ASan): how golat serve is started and scraped, and the
# checks both make of it — requests, hostile files, truncation, clients, refusals.
# Nothing here depends on what else runs on the machine: the programs write their stats
# files into $sdir and $sdir2 (GOLAT_STATS), golat serve looks only there (--dir), and
# the hostile files go there too; so every count of a scrape is the test's own, exactly.
# shellcheck shell=bash disable=SC2034  # work, exe, port, serve_pid: for the test
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../gotool.sh
source "$here/../gotool.sh"

# serve_setup NAME: $golat, $work (fresh), the stats directories $sdir and $sdir2 (whose
# name golat must not read as a glob pattern), $promtool (where found), and a trap that
# kills what the test started.
serve_setup() {
	golat=${GOLAT_CLI:?GOLAT_CLI is the golat binary}
	work=${GOLAT_TEST_WORK:-/tmp}/$1
	sdir=$work/stats sdir2="$work/stats [b]"
	rm -rf "$work" && mkdir -p "$work/tmp" "$sdir" "$sdir2"
	trap cleanup EXIT
	# promtool: on PATH, or from the Debian package prometheus.sh fetches (Debian 12's
	# prometheus ships it; later ones have a package of its own).
	promtool=$(command -v promtool || true)
	local pdir=${GOLAT_PROMETHEUS_DIR:-${GOLAT_TEST_WORK:-/tmp}/prometheus}
	[[ -z $promtool && -x $pdir/usr/bin/promtool ]] && promtool=$pdir/usr/bin/promtool
	echo "promtool: ${promtool:-not installed: promcheck.py only}"
}

# common_setup GO NAME: go_toolchain (exit 77 without it), serve_setup NAME-go-1.N, and
# $exe, the test program built into a directory whose name needs both escapes of a
# label value: we"ird\dir.
common_setup() {
	go_toolchain "$1"
	if [[ $(ldd "${GOLAT_CLI:?}" 2>/dev/null) == *libasan* ]]; then
		echo "SKIP: golat is built with ASan, whose runtime cannot be preloaded into Go"
		exit 77
	fi
	serve_setup "$2-$ver"
	mkdir -p "$work/we\"ird\\dir"
	exe=$work/we\"ird\\dir/prog
	export GOCACHE=${GOLAT_TEST_WORK:-/tmp}/serve-gocache-$ver
	(cd "$here/prog" && "$go" build -o "$exe" .) || { echo "FAIL: go build"; exit 1; }
}

# A failed check must leave no program running (nor its stats file: one GOLAT_STATS
# names is kept after the program ends).
started=()
cleanup() {
	local p
	for p in "${started[@]}"; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
		rm -f "$sdir/golat-$p.stats" "$sdir2/golat-$p.stats"
	done
	kill -9 $(jobs -p) 2>/dev/null
}

# start_prog N DIR: runs the program with main.work and main.other hooked, making N and
# N/2 calls, its stats file DIR/golat-<pid>.stats; sets prog_pid once it has made them all.
start_prog() {
	local ready=$work/ready-$1
	LD_PRELOAD=$GOLAT_LIB GOLAT_FUNCS=main.work,main.other GOLAT_LOG=quiet GOLAT_OUTPUT=/dev/null \
		GOLAT_STATS="$2/golat-%p.stats" "$exe" "$1" "$ready" &
	prog_pid=$!
	started+=("$prog_pid")
	for _ in $(seq 300); do
		[[ -e $ready ]] && return 0
		kill -0 "$prog_pid" 2>/dev/null || break
		sleep 0.1
	done
	bad "the program making $1 calls never got ready"
	return 1
}

# start_serve [ARGS...]: golat serve --listen 127.0.0.1:0 (a free port) ARGS, by
# default --dir $sdir --dir $sdir2, with TMPDIR set to $work/tmp (or $serve_tmpdir);
# sets serve_pid and port, from what it says on stderr.
start_serve() {
	(($#)) || set -- --dir "$sdir" --dir "$sdir2"
	TMPDIR=${serve_tmpdir:-$work/tmp} "$golat" serve --listen 127.0.0.1:0 "$@" 2>"$work/serve.err" &
	serve_pid=$!
	port=
	for _ in $(seq 100); do
		port=$(sed -nE 's|^golat: serving http://127\.0\.0\.1:([0-9]+)/metrics$|\1|p' "$work/serve.err")
		[[ -n $port ]] && return 0
		sleep 0.1
	done
	bad "golat serve never said where it serves: $(cat "$work/serve.err")"
	return 1
}

client() { python3 "$here/client.py" "$@"; }
prom() { python3 "$here/promcheck.py" "$@"; }

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

# expect_value OUT VALUE NAME LABEL=V...: the one sample matching has VALUE.
expect_value() {
	local out=$1 want=$2 got
	shift 2
	got=$(prom get "$out" "$@")
	[[ $got == "$want" ]] || bad "$* in $out: $got, want $want"
}

# expect_status WANT CLIENT-ARGS...: what client.py prints starts with WANT.
expect_status() {
	local want=$1 got
	shift
	got=$(client "$@" 2>&1)
	[[ $got == "$want"* ]] || bad "$*: '$got', want '$want'"
}

# The checker must be able to fail: a family split in two, and a bad escape.
check_checker() {
	printf '# TYPE a counter\na 1\n# TYPE b gauge\nb 1\na{x="1"} 2\n' >"$work/split.prom"
	printf '# TYPE a counter\na{x="\\q"} 1\n' >"$work/escape.prom"
	local f
	for f in split escape; do
		prom check "$work/$f.prom" >/dev/null && bad "promcheck.py accepts $f.prom"
	done
}

# Other paths and methods, and bad requests.
check_requests() {
	expect_status "200" get "$port" / "$work/body" # the page (serve_page.c, tests/page)
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
}

# ours OUT PA PB: the counts of our two processes: not the buckets, whose bounds span
# every process's scraped so far, nor the sums, in seconds of a TSC rate that a live
# process refines as it runs (the sums and self seconds).
ours() { grep -E "pid=\"($2|$3)\"" "$1" | grep -v -e '_bucket{' -e '_sum{' -e '_seconds_total{'; }

# expect_files OUT LIVE EXITED UNREADABLE DUPLICATE: golat_serve_stats_files in OUT.
expect_files() {
	local out=$1 state
	shift
	for state in live exited unreadable duplicate; do
		expect_value "$out" "$1" golat_serve_stats_files state="$state"
		shift
	done
}

# check_hostile SA SB PA PB: hostile files where serve looks ($sdir), made from the
# live stats files SA and SB of PA and PB: none is shown, none stops it, each is counted
# unreadable or duplicate, and the samples of PA and PB (idle programs) stay as they were.
check_hostile() {
	local sa=$1 sb=$2 pa=$3 pb=$4 t=$sdir
	scrape "$work/before.prom"
	expect_files "$work/before.prom" 2 0 0 0
	head -c 100000 /dev/urandom >"$t/golat-garbage.stats"
	head -c 6000 "$sa" >"$t/golat-trunc.stats"
	head -c 4096 "$sa" >"$t/golat-header.stats"
	ln -s "$sa" "$t/golat-link.stats"
	cp "$sa" "$t/golat-mode.stats" && chmod 644 "$t/golat-mode.stats"
	mkfifo "$t/golat-fifo.stats"
	mkdir "$t/golat-dir.stats"
	cp "$sb" "$t/golat-copy.stats"
	chmod 600 "$t"/golat-{garbage,trunc,header,fifo,copy}.stats
	scrape "$work/hostile.prom"
	[[ -n $(ours "$work/before.prom" "$pa" "$pb") && $(ours "$work/before.prom" "$pa" "$pb") == \
		"$(ours "$work/hostile.prom" "$pa" "$pb")" ]] || bad "pids $pa and $pb: other samples with hostile files"
	# 7 unreadable (garbage, trunc, header, link, mode, fifo, dir), the copy a duplicate.
	expect_files "$work/hostile.prom" 2 0 7 1
	ok "hostile stats files left out, counted unreadable or duplicate"
}

# check_outside SA: golat-*.stats files where serve does not look (its $TMPDIR, another
# directory) are not scraped: the counts stay as they were, though a copy of the live SA
# would count as a duplicate anywhere serve looked.
check_outside() {
	local d
	scrape "$work/inside.prom"
	mkdir -p "$work/outside"
	for d in "$work/tmp" "$work/outside" "$work"; do
		cp "$1" "$d/golat-outside.stats" && chmod 600 "$d/golat-outside.stats"
	done
	scrape "$work/outside.prom"
	local a b
	a=$(grep '^golat_serve_stats_files' "$work/inside.prom") b=$(grep '^golat_serve_stats_files' "$work/outside.prom")
	[[ -n $a && $a == "$b" ]] && ok "files outside the --dir directories are not scraped" ||
		bad "files outside --dir: before: $a; after: $b"
	rm -f "$work/tmp/golat-outside.stats" "$work/outside/golat-outside.stats" "$work/golat-outside.stats"
}

# check_default PB: without --dir, serve looks in /dev/shm and $TMPDIR: PB's file, in
# $sdir2 given as TMPDIR, is found. (Others' files in /dev/shm may be there too: only
# PB's series are checked.)
check_default() {
	local keep_pid=$serve_pid keep_port=$port got want
	want=$(prom count "$work/before.prom" golat_calls_total pid="$1")
	serve_tmpdir=$sdir2 start_serve --listen 127.0.0.1:0 && { # (any argument: no --dir)
		scrape "$work/default.prom"
		got=$(prom count "$work/default.prom" golat_calls_total pid="$1")
		[[ $want -gt 0 && $got == "$want" ]] && ok "without --dir: the file in \$TMPDIR is scraped" ||
			bad "without --dir, TMPDIR=$sdir2: $got series of pid $1, want $want"
		kill "$serve_pid"
		wait "$serve_pid"
	}
	serve_pid=$keep_pid port=$keep_port
}

# check_churn SA: a copy of SA truncated and removed again and again during 20 scrapes.
check_churn() {
	local sa=$1 t=$sdir n got
	rm -f "$work/churn.stop"
	(
		while [[ ! -e $work/churn.stop ]]; do
			cp "$sa" "$t/golat-churn.stats" && chmod 600 "$t/golat-churn.stats"
			truncate -s 20000 "$t/golat-churn.stats"
			truncate -s 0 "$t/golat-churn.stats"
			rm -f "$t/golat-churn.stats"
		done
	) &
	local churn=$!
	for n in $(seq 20); do
		got=$(client get "$port" /metrics "$work/churn.prom")
		[[ $got == 200* ]] || { bad "scrape $n during the churn: $got"; break; }
	done
	# Stopped at the end of a round, its copy removed: a kill could leave a cp of the
	# live file running (slow under load), to finish after the rm here, and that copy
	# would keep the writer's series in every later scrape.
	touch "$work/churn.stop"
	wait $churn
	scrape "$work/churn.prom" && ok "20 scrapes while a stats file was truncated and removed"
}

# 100 idle connections (more than it serves at once), requests that are never read,
# one too slow to ask.
check_clients() {
	local got
	got=$(client flood "$port" 100)
	[[ $got == 200* ]] && ok "a scrape behind 100 idle connections: $got" || bad "flood: $got"
	client gone "$port" 50 >/dev/null
	scrape "$work/after-gone.prom" && ok "clients that vanish before the answer"
	got=$(client slow "$port" 14)
	[[ $got =~ ^(9|10|11)$ ]] && ok "a slow request closed after ${got}s" || bad "a slow request: $got"
}

# check_gone OUT PID...: no sample of those pids.
check_gone() {
	local out=$1 pid got
	shift
	scrape "$out"
	scrape_pb "$out.pb" # the protobuf's too
	for pid in "$@"; do
		got=$(prom count "$out" golat_calls_total pid="$pid")
		[[ $got == 0 ]] || bad "pid $pid: $got series after its end or its file's removal"
		got=$(prom count "$out.pb.txt" golat_calls_total pid="$pid")
		[[ $got == 0 ]] || bad "pid $pid: $got series in the protobuf after its end or its file's removal"
	done
}

# expect_fail PATTERN ARGS...: golat serve ARGS exits 1 with one line "golat: PATTERN..."
# (a literal start, not a regular expression).
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

# A port in use, bad addresses and options refused; the other address forms served;
# SIGTERM ends the server with status 0.
check_refusals_and_end() {
	local a p rc k
	expect_fail "cannot listen on 127.0.0.1:$port: Address already in use" --listen "127.0.0.1:$port"
	for a in foo 127.0.0.1 :65536 ::1:80 '[::1]' '[]:80' :x; do
		expect_fail "bad listen address '$a'" --listen "$a"
	done
	"$golat" serve --bogus 2>"$work/err"
	[[ $? == 2 ]] && grep -q '^usage:' "$work/err" || bad "golat serve --bogus: $(cat "$work/err")"
	"$golat" serve --dir 2>"$work/err"
	[[ $? == 2 ]] && grep -q '^usage:' "$work/err" || bad "golat serve --dir: $(cat "$work/err")"
	expect_fail "--dir $work/missing: No such file or directory" --listen 127.0.0.1:0 --dir "$sdir" --dir "$work/missing"
	expect_fail "--dir $work/serve.err: not a directory" --listen 127.0.0.1:0 --dir "$work/serve.err"
	expect_fail "--label: '1x' is not a label name" --listen 127.0.0.1:0 --label 1x=y
	expect_fail "--label: '__name__': names beginning with __" --listen 127.0.0.1:0 --label __name__=y
	expect_fail "--label: 'pid' is a label of golat's own series" --listen 127.0.0.1:0 --label pid=1
	expect_fail "--label noeq: expected NAME=VALUE" --listen 127.0.0.1:0 --label noeq
	expect_fail "--label a given twice" --listen 127.0.0.1:0 --label a=1 --label a=2
	ok "refusals"
	for a in :0 '[::1]:0'; do
		[[ $a == '[::1]:0' && ! -s /proc/net/if_inet6 ]] && { echo "note: no IPv6: $a not tried"; continue; }
		"$golat" serve --listen "$a" 2>"$work/err2" &
		p=$!
		for ((k = 0; k < 200; k++)); do
			grep -qE '^golat: serving ' "$work/err2" && break
			sleep 0.05
		done
		grep -qE '^golat: serving http://(\[::\]|0\.0\.0\.0|\[::1\]):[0-9]+/metrics$' "$work/err2" ||
			bad "--listen $a: $(cat "$work/err2")"
		# Every address is said to be the network; loopback is not.
		if grep -q '^golat: serving to the network' "$work/err2"; then
			[[ $a == :0 ]] || bad "--listen $a said to serve the network"
		else
			[[ $a != :0 ]] || bad "--listen $a: no line saying it serves the network"
		fi
		kill $p
		wait $p || bad "--listen $a: exit $? after SIGTERM"
	done
	kill -TERM "$serve_pid"
	wait "$serve_pid"
	rc=$?
	[[ $rc == 0 ]] && ok "SIGTERM: exit 0" || bad "golat serve exited $rc after SIGTERM"
}

# check_serve SA SB PA PB: every check above, with the live stats files SA and SB of PA
# and PB; then PB is killed and SA removed: both drop out of the next scrape.
check_serve() {
	check_requests
	check_hostile "$@"
	check_outside "$1"
	check_default "$4"
	check_churn "$1"
	check_clients
	kill -9 "$4"
	wait "$4" 2>/dev/null
	rm -f "$1"
	check_gone "$work/gone.prom" "$3" "$4" && ok "a killed writer's and a removed file's series are gone"
	check_refusals_and_end
}

# find_prometheus [sid]: $prometheus: $GOLAT_PROMETHEUS, else `prometheus` on PATH, else
# the Debian package unpacked into $GOLAT_PROMETHEUS_DIR (fetched there with apt-get
# download the first time); without any, the test is skipped (exit 77) saying why.
# sid: Debian sid's (3.5, which stores native histograms and exemplars): then
# $GOLAT_PROMETHEUS_SID, else the package from sid unpacked into $GOLAT_PROMETHEUS_DIR/sid.
find_prometheus() {
	local dir=${GOLAT_PROMETHEUS_DIR:-${GOLAT_TEST_WORK:-/tmp}/prometheus} release=()
	local given=${GOLAT_PROMETHEUS:-}
	if [[ ${1:-} == sid ]]; then
		dir=$dir/sid release=(-t sid) given=${GOLAT_PROMETHEUS_SID:-}
	fi
	if [[ -n $given ]]; then
		prometheus=$given
	elif [[ -z ${release[*]} ]] && command -v prometheus >/dev/null; then
		prometheus=$(command -v prometheus)
	elif [[ -x $dir/usr/bin/prometheus ]]; then
		prometheus=$dir/usr/bin/prometheus
	elif command -v apt-get >/dev/null && command -v dpkg >/dev/null; then
		echo "fetching the Debian package prometheus ${release[*]} into $dir"
		mkdir -p "$dir" && rm -f "$dir"/prometheus_*.deb
		(cd "$dir" && timeout 300 apt-get download "${release[@]}" prometheus >"$dir/fetch.log" 2>&1 &&
			dpkg -x prometheus_*.deb .) && prometheus=$dir/usr/bin/prometheus
		[[ -x ${prometheus:-} ]] || { echo "SKIP: no Prometheus: apt-get download ${release[*]} prometheus failed: $(tail -3 "$dir/fetch.log")"; exit 77; }
	else
		echo "SKIP: no Prometheus (set GOLAT_PROMETHEUS, or install the package prometheus)"
		exit 77
	fi
	[[ -x $prometheus ]] || { echo "SKIP: no Prometheus: $prometheus is not executable"; exit 77; }
	echo "using $("$prometheus" --version 2>&1 | head -1) ($prometheus)"
}

# start_prometheus CONFIG ARGS...: Prometheus with CONFIG (its text) on a free port,
# $pport, storing in $work/data; $prom_pid.
start_prometheus() {
	# A free port for its own web API (it cannot say which one :0 took).
	pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	printf '%s\n' "$1" >"$work/prometheus.yml"
	shift
	"$prometheus" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
		--web.listen-address="127.0.0.1:$pport" --log.level=warn "$@" >"$work/prometheus.log" 2>&1 &
	prom_pid=$!
}

# What Prometheus 3.5 asks for when native histograms are on.
PROM35_ACCEPT='application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1'
PB_TYPE='application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited'

# scrape_pb OUT [PATH]: GET PATH (/metrics) as Prometheus 3.5 asks, into OUT: 200, the
# protobuf, well-formed (pbcheck.py).
scrape_pb() {
	local got
	got=$(client get "$port" "${2:-/metrics}" "$1" GET "$PROM35_ACCEPT")
	[[ $got == "200 $PB_TYPE" ]] || { bad "GET ${2:-/metrics} for protobuf: $got"; return 1; }
	python3 "$here/pbcheck.py" text "$1" >"$1.txt" || { bad "$1: malformed protobuf"; return 1; }
}

# check_protobuf TEXT: the protobuf answer holds the samples of the text TEXT scraped
# just before (nothing changed since), and a client asking for a format golat does not
# speak, or preferring the text, gets the text.
check_protobuf() {
	local got a
	scrape_pb "$work/pb.bin" || return 1
	python3 "$here/pbcheck.py" same "$1" "$work/pb.bin" >"$work/pb.diff" ||
		{ bad "protobuf and text differ: $(head -3 "$work/pb.diff")"; return 1; }
	for a in 'application/openmetrics-text;version=1.0.0' \
		'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text' \
		'text/plain;q=1,application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5' \
		'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0' \
		';;;,,,=q;q=x' 'application/vnd.google.protobuf;proto=other;encoding=delimited'; do
		got=$(client get "$port" /metrics "$work/body" GET "$a")
		[[ $got == "200 text/plain; version=0.0.4; charset=utf-8" ]] || bad "Accept: $a: $got"
	done
}
