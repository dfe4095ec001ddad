#!/usr/bin/env bash
# golat report, top and serve reach a process in its own mount and PID namespaces (what
# a container is to them), with no container runtime: unshare(1) makes the namespaces
# and a /dev/shm of their own, where the "process" (a sleep, pid 1 there) has a live
# synthetic stats file named by its pid there, golat-1.stats, and a dead one beside it.
#  - report PID and top PID with the host's pid: the file found through /proc/PID/root,
#    the header's pid (1) told apart from golat's;
#  - a second namespace whose process says GOLAT_STATS=st-%p.stats, relative to its
#    working directory: report PID follows it;
#  - report without a pid lists the live file by the host's pid and the dead one by path;
#  - serve without --dir shows the live one's series labelled with the host's pid,
#    golat_process_info with nspid="1", and counts the dead one as exited.
# Skipped (77) where this user cannot make PID and mount namespaces.
# Usage: namespaces.sh MKSTATS   (env GOLAT_CLI, GOLAT_TEST_WORK)
set -uo pipefail
mkstats=$(realpath "$1")
golat=${GOLAT_CLI:?GOLAT_CLI is the golat binary}
work=${GOLAT_TEST_WORK:-/tmp}/report-namespaces
rm -rf "$work" && mkdir -p "$work"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# Root makes the namespaces as they are; another user in a user namespace of its own.
userns=()
[[ $(id -u) == 0 ]] || userns=(-r)
if ! unshare "${userns[@]}" -mpf --mount-proc true 2>/dev/null; then
	echo "skip: this user cannot make PID and mount namespaces (unshare -mpf)"
	exit 77
fi

# A namespace's pid 1 takes no signal it does not handle but SIGKILL, and unshare -f
# waits for it, ignoring SIGTERM.
pids=()
serve=
cleanup() {
	[[ -n $serve ]] && kill "$serve" 2>/dev/null
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT

# start NAME SCRIPT: runs SCRIPT as pid 1 of new PID and mount namespaces with a /dev/shm
# of their own; sets hostpid to that process's pid here once it says it is ready, and
# upid to unshare's, which is in the mount namespace too.
start() {
	local name=$1 script=$2
	rm -f "$work/$name.ready"
	unshare "${userns[@]}" -mpf --mount-proc --kill-child sh -c "mount -t tmpfs tmpfs /dev/shm && $script" \
		>"$work/$name.log" 2>&1 &
	local u=$! i
	upid=$u
	for i in $(seq 100); do
		[[ -e $work/$name.ready ]] && break
		sleep 0.1
	done
	hostpid=$(cat "/proc/$u/task/$u/children" 2>/dev/null | awk '{print $1}')
	[[ -n $hostpid ]] && pids+=("$hostpid")
	if [[ ! -e $work/$name.ready || -z $hostpid ]]; then
		fail "$name: the namespace did not start: $(cat "$work/$name.log")"
		exit 1
	fi
}

start one "'$mkstats' --live 1 /dev/shm/golat-1.stats >/dev/null && '$mkstats' /dev/shm/golat-5.stats >/dev/null && touch '$work/one.ready' && exec sleep 1000"
one=$hostpid one_u=$upid
start two "cd /dev/shm && '$mkstats' --live 1 st-1.stats >/dev/null && touch '$work/two.ready' && GOLAT_STATS=st-%p.stats exec sleep 1000"
two=$hostpid

# report PID, top PID.
"$golat" report "$one" >"$work/report.txt" 2>"$work/report.err"
head=$(head -n 1 "$work/report.txt")
[[ $head == "golat: pid $one (1 in its namespace) ./service "* ]] &&
	ok "report $one: the file in its /dev/shm, both pids said: $head" ||
	fail "report $one: '$head' $(cat "$work/report.err")"
"$golat" report "$one" --json >"$work/report.json" 2>&1
grep -q "^{\"version\":1,\"pid\":$one,\"nspid\":1,\"exe\":" "$work/report.json" &&
	ok "report $one --json: pid $one, nspid 1" || fail "report --json: $(head -c 200 "$work/report.json")"
"$golat" top -n 1 "$one" >"$work/top.txt" 2>&1
head=$(head -n 1 "$work/top.txt")
[[ $head == "golat top: pid $one (in other namespaces, pid 1 there) ./service "* && $head != *"not running"* ]] &&
	ok "top $one: live, $head" || fail "top $one: '$head'"
"$golat" report "$two" >"$work/two.txt" 2>&1
[[ $(head -n 1 "$work/two.txt") == "golat: pid $two (1 in its namespace) "* ]] &&
	ok "report $two: its GOLAT_STATS, relative to its working directory there" ||
	fail "report $two (GOLAT_STATS=st-%p.stats): $(head -n 2 "$work/two.txt")"

# report without a pid: other programs' files may be on this machine too; ours are named.
"$golat" report >"$work/all.txt" 2>"$work/all.err"
grep -qF "pid $one (in other namespaces, pid 1 there)" "$work/all.err" &&
	grep -qE "/proc/($one|$one_u)/root/dev/shm/golat-5.stats" "$work/all.err" &&
	! grep -qF "/proc/$two/" "$work/all.err" &&
	ok "report without a pid: the live file by pid $one, the dead one by its path" ||
	fail "report without a pid: $(cat "$work/all.err")"

# serve without --dir.
"$golat" serve --listen 127.0.0.1:0 2>"$work/serve.err" &
serve=$!
for i in $(seq 100); do
	url=$(sed -n 's/^golat: serving \(http.*\)$/\1/p' "$work/serve.err")
	[[ -n $url ]] && break
	sleep 0.1
done
python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=60).read().decode())' \
	"$url" >"$work/metrics.prom" 2>"$work/curl.err" || fail "scrape $url: $(cat "$work/curl.err")"
grep -q "^golat_calls_total{function=\"main.handle\",pid=\"$one\",exe=\"./service\"[,}]" "$work/metrics.prom" &&
	grep -q "^golat_process_info{pid=\"$one\",exe=\"./service\".*,nspid=\"1\"} 1$" "$work/metrics.prom" &&
	ok "serve: the namespace's series labelled pid=\"$one\", golat_process_info nspid=\"1\"" ||
	fail "serve: $(grep -E "pid=\"$one\"|process_info" "$work/metrics.prom" | head -n 5)"
exited=$(sed -n 's/^golat_serve_stats_files{state="exited"} //p' "$work/metrics.prom")
[[ ${exited:-0} -ge 1 ]] && ok "serve: the dead file is counted exited ($exited on this machine)" ||
	fail "serve: exited ${exited:-none}"

# The namespace ends: its files go with its /dev/shm, and nothing is left to show.
kill -KILL "$one" 2>/dev/null
wait "$one_u" 2>/dev/null
"$golat" report "$one" >/dev/null 2>"$work/gone.err"
grep -q "no stats file for pid $one" "$work/gone.err" && ok "after its end: $(cat "$work/gone.err")" ||
	fail "after its end: $(cat "$work/gone.err")"

((fails)) && { echo "$fails failures"; exit 1; }
echo "namespaces: ok"
