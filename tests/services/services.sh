#!/usr/bin/env bash
# Real Go services that Debian ships, under golat with broad globs and under load: caddy,
# etcd and prometheus as built for one suite (bookworm: go1.19, trixie: go1.24, sid:
# go1.26 and go1.27).
#  - the package comes from apt (`apt-get download -t SUITE`, `dpkg -x`) into a cache
#    under the build folder; a suite this machine's apt does not know, or a download
#    that fails, is a visible skip (exit 77) with the reason;
#  - the service starts with libgolat.so preloaded: caddy with GOLAT_FUNCS='net/http.*,
#    github.com/caddyserver/*' (a static response on one port, its admin API on another),
#    etcd with GOLAT_FUNCS='*' (every function golat can hook, a single member);
#    prometheus with GOLAT_FUNCS='net/http.*,github.com/prometheus/*' (no scrape target:
#    nothing but the test talks to it);
#  - load: wrk for a few seconds (caddy: GET; etcd: POST to its v3 JSON gateway), a
#    prometheus: GET of a query) for a few seconds, a 3-second CPU profile taken meanwhile
#    from the service's own pprof endpoint (caddy's admin API, etcd's --enable-pprof,
#    prometheus's /debug/pprof) and read back by go tool pprof;
#  - then N requests one at a time, and golat's live report before and after (golat
#    report PID --json): caddy's and prometheus's with keep-alive off, so
#    net/http.(*conn).serve and net/http.serverHandler.ServeHTTP each gain exactly N calls; etcd's puts, so its
#    (*EtcdServer).Put gains exactly N, and a range read finds the last value;
#  - checks: no failed request (wrk errors or non-2xx, a wrong answer), no crash (the
#    service still serves; no fatal error, panic or unexpected signal in its log), the
#    report lists hooked functions with calls > 0, the exact counts above;
#  - caddy once more, started with nothing hooked: golat attach -f '*' under load, then
#    detach, and its text is byte for byte what it was;
#  - each once more, started without golat: golat attach through ptrace, a 3-second
#    window under load, no failed request, the text as it was after it.
# Usage: services.sh SUITE PACKAGE CACHE   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK;
#        GOLAT_SERVICES_LOAD: seconds of wrk, 6 by default; bench/services-soak.sh sets more)
set -uo pipefail
suite=$1 pkg=$2 cache=$3
load=${GOLAT_SERVICES_LOAD:-6}
fail=0
bad() { echo "FAIL: $suite $pkg: $*"; fail=1; }
skip() { echo "SKIP: $suite $pkg: $*"; exit 77; }
work=${GOLAT_TEST_WORK:-/tmp/golat-testwork}/services/$suite-$pkg
rm -rf "$work"
mkdir -p "$work"
case $pkg in
caddy) exe=usr/bin/caddy ;;
etcd-server) exe=usr/bin/etcd ;;
prometheus) exe=usr/bin/prometheus ;;
*) echo "unknown package $pkg"; exit 2 ;;
esac
for tool in wrk curl python3 apt-get dpkg; do
	command -v $tool >/dev/null || skip "$tool is not installed (./deps.sh installs it)"
done

# The package, once per cache.
dir=$cache/$suite/$pkg
bin=$dir/x/$exe
if [[ ! -x $bin ]]; then
	policy=$(apt-cache policy "$pkg" 2>/dev/null)
	grep -aq " $suite/main " <<<"$policy" ||
		skip "suite $suite is not in this machine's apt sources (/etc/apt/sources.list*), or has no $pkg"
	rm -rf "$dir" && mkdir -p "$dir"
	(cd "$dir" && apt-get download -t "$suite" "$pkg") >"$work/download.log" 2>&1 ||
		skip "apt-get download -t $suite $pkg failed: $(grep -E '^(E|Err):' "$work/download.log" | head -1)"
	dpkg -x "$dir"/*.deb "$dir/x" || skip "dpkg -x $(ls "$dir"/*.deb) failed"
fi
gover=$("$GOLAT_CLI" info --json "$bin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["go_version"])')
echo "  $pkg from $suite: $(basename "$(ls "$dir"/*.deb 2>/dev/null || echo "$bin")"), $gover"

# A Go toolchain to read the profile with (any installed one).
gotool=$(ls -d /usr/lib/go-1.*/bin/go 2>/dev/null | sort -V | tail -1)

read -r p1 p2 < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
case $pkg in
caddy)
	funcs='net/http.*,github.com/caddyserver/*'
	cat >"$work/caddy.json" <<JSON
{"admin":{"listen":"127.0.0.1:$p2"},"apps":{"http":{"servers":{"s":{"listen":["127.0.0.1:$p1"],
 "routes":[{"handle":[{"handler":"static_response","body":"hello\n"}]}]}}}}}
JSON
	cmd=("$bin" run --config "$work/caddy.json")
	url=http://127.0.0.1:$p1/
	prof=http://127.0.0.1:$p2/debug/pprof/profile?seconds=3
	;;
etcd-server)
	funcs='*'
	peer=http://127.0.0.1:$p2
	cmd=("$bin" --name m --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$p1"
		--advertise-client-urls "http://127.0.0.1:$p1" --listen-peer-urls "$peer"
		--initial-advertise-peer-urls "$peer" --initial-cluster "m=$peer" --enable-pprof)
	url=http://127.0.0.1:$p1/v3/kv/put
	prof=http://127.0.0.1:$p1/debug/pprof/profile?seconds=3
	cat >"$work/put.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"key":"bG9hZA==","value":"d3Jr"}'
LUA
	;;
prometheus)
	funcs='net/http.*,github.com/prometheus/*'
	printf 'global:\n  scrape_interval: 1h\n' >"$work/prometheus.yml"
	cmd=("$bin" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb"
		--web.listen-address="127.0.0.1:$p1")
	url='http://127.0.0.1:'$p1'/api/v1/query?query=vector(1)'
	prof=http://127.0.0.1:$p1/debug/pprof/profile?seconds=3
	;;
esac

# Whether the service answers.
ready() {
	case $pkg in
	caddy) [[ $(curl -s -m 2 "$url") == hello ]] ;;
	prometheus) curl -s -m 2 "http://127.0.0.1:$p1/-/ready" | grep -q Ready ;;
	*) curl -s -m 2 -X POST "http://127.0.0.1:$p1/v3/kv/range" -d '{"key":"eA=="}' | grep -q header ;;
	esac
}
# wrk for $1 seconds of the service's load, into file $2.
load() {
	if [[ $pkg != etcd-server ]]; then
		wrk -t2 -c8 -d"$1s" "$url" >"$2" 2>&1
	else
		wrk -t2 -c8 -d"$1s" -s "$work/put.lua" "$url" >"$2" 2>&1
	fi
}
# The sha256 of the service's code as it is in memory (/proc/PID/mem).
text() {
	python3 - "$1" "$bin" <<'PY'
import hashlib, os, sys
pid, exe = int(sys.argv[1]), os.path.realpath(sys.argv[2])
h = hashlib.sha256()
with open(f"/proc/{pid}/mem", "rb") as mem:
    for line in open(f"/proc/{pid}/maps"):
        f = line.split()
        if len(f) == 6 and "x" in f[1] and f[5] == exe:
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            mem.seek(lo)
            h.update(mem.read(hi - lo))
print(h.hexdigest())
PY
}

# stop: SIGTERM to the service, SIGKILL if it has not ended in 10 s; then its stats file
# and socket go (a service that ends without golat's exit hook in, after a detach or
# killed, leaves them: golat keeps them for golat report, but they are not ours to keep).
stop() {
	kill -TERM $pid 2>/dev/null
	for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.2; done
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	rm -f "/dev/shm/golat-$pid".* "${TMPDIR:-/tmp}/golat-$pid".*
}

# Its own home (caddy keeps state there), not ours (the Go build cache go tool pprof uses).
HOME=$work XDG_DATA_HOME=$work/data XDG_CONFIG_HOME=$work/config GOLAT_FUNCS=$funcs LD_PRELOAD=$GOLAT_LIB \
	"${cmd[@]}" >"$work/service.log" 2>&1 &
pid=$!
trap 'kill -9 $pid 2>/dev/null; rm -f "/dev/shm/golat-$pid".* "${TMPDIR:-/tmp}/golat-$pid".*' EXIT
up=0
for _ in $(seq 300); do # golat hooks tens of thousands of functions first: 7-33 s seen here
	kill -0 $pid 2>/dev/null || break
	ready && up=1 && break
	sleep 0.2
done
grep -a -m1 '^golat: pid' "$work/service.log" | cut -c1-200 | sed 's/^/  /'
if ((!up)); then
	bad "does not serve under golat: $(grep -av '^golat: ' "$work/service.log" | tail -5)"
	exit 1
fi

# Load, and a CPU profile meanwhile.
curl -s -m 20 -o "$work/cpu.pprof" "$prof" &
cpid=$!
load "$load" "$work/wrk.txt"
wait $cpid || bad "the CPU profile could not be taken: curl status $?"
reqs=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
echo "  wrk: ${reqs:-no} requests in $load s, $(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt") req/s"
[[ ${reqs:-0} -gt 0 ]] || bad "wrk made no request: $(cat "$work/wrk.txt")"
if grep -E 'Non-2xx|Socket errors' "$work/wrk.txt"; then
	bad "wrk saw failed requests (above)"
fi
if [[ -n $gotool ]]; then
	"$gotool" tool pprof -top "$bin" "$work/cpu.pprof" >"$work/cpu.top" 2>&1 ||
		bad "go tool pprof cannot read the profile: $(tail -2 "$work/cpu.top")"
	echo "  profile: $(grep -m1 -E 'Total samples|Duration' "$work/cpu.top")"
else
	echo "  (no Go toolchain here to read the profile with)"
	[[ $(head -c2 "$work/cpu.pprof" | od -An -tx1 | tr -d ' ') == 1f8b ]] || bad "the profile is not gzip'd"
fi

# N requests one at a time, between two live reports.
n=100
"$GOLAT_CLI" report $pid --json >"$work/before.json" || bad "golat report $pid fails"
ok=0
for i in $(seq $n); do
	if [[ $pkg == caddy ]]; then
		[[ $(curl -s -m 5 -H 'Connection: close' "$url") == hello ]] && ok=$((ok + 1))
	elif [[ $pkg == prometheus ]]; then
		curl -s -m 5 -H 'Connection: close' "$url" | grep -q '"status":"success"' && ok=$((ok + 1))
	else
		v=$(printf 'v%d' "$i" | base64)
		curl -s -m 5 -X POST "$url" -d "{\"key\":\"$(printf k | base64)\",\"value\":\"$v\"}" |
			grep -q '"revision"' && ok=$((ok + 1))
	fi
done
((ok == n)) || bad "$((n - ok)) of $n requests failed"
if [[ $pkg == etcd-server ]]; then
	got=$(curl -s -m 5 -X POST "http://127.0.0.1:$p1/v3/kv/range" -d "{\"key\":\"$(printf k | base64)\"}")
	grep -q "\"value\":\"$(printf 'v%d' $n | base64)\"" <<<"$got" || bad "the last put is not read back: $got"
fi
# The last connections' serve returns once the client has closed: until the report
# has none of the exactly counted functions in flight (up to 20 s).
settled() {
	"$GOLAT_CLI" report $pid --json 2>/dev/null | python3 -c '
import json, sys
fs = json.load(sys.stdin)["functions"]
names = ("net/http.(*conn).serve", "net/http.serverHandler.ServeHTTP")
sys.exit(1 if any(f.get("in_flight", 0) for f in fs if f["name"] in names or f["name"].endswith("etcdserver.(*EtcdServer).Put")) else 0)'
}
for _ in $(seq 100); do settled && break; sleep 0.2; done
"$GOLAT_CLI" report $pid --json >"$work/after.json" || bad "golat report $pid fails"
python3 - "$work/before.json" "$work/after.json" "$pkg" "$n" <<'PY' || bad "golat's counts (above)"
import json, sys
before, after = (json.load(open(p)) for p in sys.argv[1:3])
pkg, n = sys.argv[3], int(sys.argv[4])
b = {f["name"]: f["calls"] for f in before["functions"]}
a = {f["name"]: f for f in after["functions"]}
called = [f for f in a.values() if f["calls"] > 0]
top = sorted(called, key=lambda f: -f["calls"])[:3]
print(f"  report: {len(a)} functions with records, {len(called)} called; most: "
      + ", ".join(f"{f['name']} {f['calls']}" for f in top))
if pkg in ("caddy", "prometheus"):
    exact = ["net/http.(*conn).serve", "net/http.serverHandler.ServeHTTP"]
else:
    exact = [x for x in a if x.endswith("etcdserver.(*EtcdServer).Put")]
bad = len(called) < 50 or not exact
for name in exact:
    d = a.get(name, {}).get("calls", 0) - b.get(name, 0)
    print(f"  {'ok' if d == n else 'FAIL'}: {name}: {d} calls for {n} requests")
    bad |= d != n
sys.exit(bad)
PY
kill -0 $pid 2>/dev/null || bad "the service died"
if grep -aE -m3 '^(fatal error|panic:|unexpected signal|SIGSEGV|SIGILL|SIGTRAP)' "$work/service.log"; then
	bad "the service's log shows a crash (above)"
fi
stop

# caddy again, started with the library and nothing hooked: golat attach -f '*' (every
# function, steered branches and int3s included) under load, then detach: its text,
# read through /proc/PID/mem, is byte for byte what it was before.
if [[ $pkg == caddy ]]; then
	HOME=$work XDG_DATA_HOME=$work/data XDG_CONFIG_HOME=$work/config LD_PRELOAD=$GOLAT_LIB \
		"${cmd[@]}" >"$work/attach.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do ready && break; sleep 0.2; done
	t0=$(text $pid)
	"$GOLAT_CLI" attach $pid -f '*' >"$work/attach.out" 2>&1 || bad "golat attach -f '*' fails: $(tail -2 "$work/attach.out")"
	t1=$(text $pid)
	wrk -t2 -c8 -d3s "$url" >"$work/wrk2.txt" 2>&1
	grep -E 'Non-2xx|Socket errors' "$work/wrk2.txt" && bad "wrk saw failed requests with every function hooked (above)"
	"$GOLAT_CLI" detach $pid >"$work/detach.out" 2>&1 || bad "golat detach fails: $(tail -2 "$work/detach.out")"
	t2=$(text $pid)
	echo "  attach -f '*': $(grep -o 'hooked [0-9]* functions' "$work/attach.out"), $(awk '/Requests\/sec/ {print $2}' "$work/wrk2.txt") req/s"
	[[ $t0 != "$t1" && $t0 == "$t2" ]] || bad "the text after detach is not what it was (sha256 $t0, hooked $t1, after $t2)"
	[[ $t0 == "$t2" ]] && echo "  ok: after detach the text is byte for byte as before ($t0)"
	kill -0 $pid 2>/dev/null || bad "caddy died with every function hooked"
	stop
fi

# Once more, started without golat: golat attach loads the library through ptrace, for
# a 3-second window under load (its report counts what the window saw), then detaches:
# no failed request, the service runs on, and its text is byte for byte what it was.
HOME=$work XDG_DATA_HOME=$work/data XDG_CONFIG_HOME=$work/config "${cmd[@]}" >"$work/ptrace.log" 2>&1 &
pid=$!
for _ in $(seq 100); do ready && break; sleep 0.2; done
t0=$(text $pid)
load 5 "$work/wrk3.txt" &
wpid=$!
# Attached once wrk's connections are up (ss lists them), not after a guessed half second.
for _ in $(seq 100); do (($(ss -Htn state established "( dport = :$p1 )" | wc -l) >= 8)) && break; sleep 0.05; done
"$GOLAT_CLI" attach $pid -f "$funcs" -d 3 -o "$work/window.json" >"$work/ptrace.out" 2>&1 ||
	bad "golat attach through ptrace fails: $(tail -3 "$work/ptrace.out")"
wait $wpid
t1=$(text $pid)
grep -E 'Non-2xx|Socket errors' "$work/wrk3.txt" && bad "wrk saw failed requests during the ptrace attach (above)"
python3 - "$work/window.json" <<'PY' || bad "the window's report (above)"
import json, sys
d = json.load(open(sys.argv[1]))
called = [f for f in d["functions"] if f["calls"] > 0]
print(f"  attach through ptrace, a 3 s window: {len(called)} functions called, "
      + ", ".join(f"{f['name']} {f['calls']}" for f in sorted(called, key=lambda f: -f["calls"])[:2]))
sys.exit(len(called) < 10)
PY
[[ $t0 == "$t1" ]] && echo "  ok: after the window the text is byte for byte as before" ||
	bad "the text after the ptrace window is not what it was (sha256 $t0, after $t1)"
ready || bad "the service does not answer after the ptrace window"
stop
((fail == 0)) && echo "services $suite $pkg ($gover): all checks passed"
exit $fail
