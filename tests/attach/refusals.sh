#!/usr/bin/env bash
# What golat attach refuses, each with status 1 and one `golat: ` line: a process that
# is gone; a program that is not Go (sleep, which the preloaded library leaves inert:
# one thread, no socket; and sleep without it); a static Go program when there is no
# golat-agent.so; golat detach on a Go program started without libgolat.so; a process the
# kernel will not let golat ptrace (non-dumpable, golat without CAP_SYS_PTRACE); a
# process that dies or quits while golat loads the library into it; another user's
# process (golat run by nobody against ours: the socket's mode keeps it out; and with
# the mode opened up, the library's peer-credential check); a second sampling rate. A
# process that exits during a window: golat reports what the window saw, says so, and
# exits 1. The first attach's -s N sets the rate. Malformed requests on the socket
# (proto.py) are answered and crash nothing. Exe and stripped PIE alike (exe here).
# Usage: refusals.sh GO   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
attach_setup refusals "$1"
attach_build
bin=exe

# refused WHAT PATTERN CMD...: CMD exits 1 with one golat: line matching PATTERN.
refused() {
	local what=$1 pattern=$2 status=0
	shift 2
	"$@" >"$work/refused.out" 2>"$work/refused.err" || status=$?
	local err
	err=$(cat "$work/refused.err")
	if [[ $status == 1 && $(wc -l <"$work/refused.err") == 1 && $err == golat:\ * && $err =~ $pattern &&
		! -s $work/refused.out ]]; then
		ok "$what: $err"
	else
		bad "$what: status $status (want 1), stdout '$(cat "$work/refused.out")', stderr '$err' (want one golat: line matching '$pattern')"
	fi
}

# A process that is gone.
true &
gone=$!
wait $gone
refused "a pid that is gone" "no process $gone" "$golat" attach $gone -f 'main.*'

# Not Go: sleep with the library preloaded stays inert (one thread, no socket).
LD_PRELOAD=$GOLAT_LIB sleep 30 &
sl=$!
sleep_exe=$(readlink -f "$(command -v sleep)")
wait_until 10 running $sl "$sleep_exe" || bad "sleep with libgolat.so preloaded is not asleep after 10 s"
[[ $(ls /proc/$sl/task | wc -l) == 1 && ! -e /dev/shm/golat-$sl.sock && ! -e ${TMPDIR:-/tmp}/golat-$sl.sock ]] ||
	bad "sleep with libgolat.so preloaded: $(ls /proc/$sl/task | wc -l) threads, or a socket"
refused "not a Go program" "pid $sl \(sleep\) is not a Go program" "$golat" attach $sl -f 'main.*'
kill $sl

# Not Go, and without the library: nothing for ptrace to do.
sleep 30 &
sl=$!
wait_until 10 running $sl "$sleep_exe" || bad "sleep has not exec'd after 10 s"
refused "not a Go program, started without golat" "pid $sl \(sleep\) is not a Go program" "$golat" attach $sl -f 'main.*'
kill $sl

# A statically linked Go program started without golat is hooked from outside with
# golat-agent.so (tests/static): without it, golat says so and touches nothing.
(cd "$here/load" && CGO_ENABLED=0 "$go" build -o "$work/static" .) || bad "cannot build a static Go program"
rm -f "$work/static.stop"
"$work/static" http://127.0.0.1:1/ 1 100 "$work/static.stop" >/dev/null 2>&1 &
st=$!
exec_done() { [[ $(readlink "/proc/$st/exe" 2>/dev/null) == "$work/static" ]]; }
wait_until 10 exec_done || bad "the static program has not exec'd after 10 s"
GOLAT_AGENT=$work/no-agent.so refused "a static Go program, without golat-agent.so" \
	"GOLAT_AGENT=$work/no-agent.so: No such file or directory" "$golat" attach $st -f 'main.*'
touch "$work/static.stop"
wait $st 2>/dev/null

# A Go program started without the library: golat detach has nothing to undo (golat
# attach would load it through ptrace: ptrace.sh).
svc_start "$bin"
refused "golat detach on a program started without golat" "was not started with libgolat.so.*ptrace" \
	"$golat" detach "$svc_pid"
svc_quit

# The kernel refuses ptrace: a non-dumpable service (prctl PR_SET_DUMPABLE 0) of
# nobody, and golat as nobody, without CAP_SYS_PTRACE. One line naming why, and the
# other way in (LD_PRELOAD); the service unharmed.
if [[ $(id -u) == 0 ]] && runuser -u nobody -- test -x "$golat" && runuser -u nobody -- test -r "$GOLAT_LIB" &&
	runuser -u nobody -- test -x "$work/$bin"; then
	: >"$work/nodump.addr"
	chmod 666 "$work/nodump.addr"
	SVC_NODUMP=1 runuser -u nobody -- "$work/$bin" >"$work/nodump.addr" 2>"$work/nodump.err" &
	nd=$!
	for ((k = 0; k < 100; k++)); do [[ -s $work/nodump.addr ]] && break; sleep 0.05; done
	ndpid=$(pgrep -u nobody -f "$work/$bin" | head -1)
	refused "ptrace refused (not dumpable)" "refuses ptrace to pid $ndpid.*(dumpable|ptrace_scope).*LD_PRELOAD=/.*libgolat.so" \
		runuser -u nobody -- "$golat" attach "$ndpid" -f 'main.*'
	if curl -sf --max-time 5 "http://$(head -1 "$work/nodump.addr")/count" >/dev/null; then
		ok "the non-dumpable service still serves"
	else
		bad "the non-dumpable service does not serve after the refusal"
	fi
	kill "$ndpid" 2>/dev/null
	wait $nd 2>/dev/null
else
	echo "SKIP: ptrace refused: needs root to run the service and golat as nobody (this is uid $(id -u), or nobody cannot reach the files)"
fi
if [[ -r /proc/sys/kernel/yama/ptrace_scope ]]; then
	echo "  (kernel.yama.ptrace_scope is $(cat /proc/sys/kernel/yama/ptrace_scope) here)"
else
	echo "SKIP: Yama's ptrace_scope: this kernel has no Yama, so its refusal cannot be shown here"
fi

# A process that exits while golat loads the library: killed, or quitting by itself.
# golat ends with a sentence (or, if it was done first, a report); never hangs, and a
# service that quits exits 0. GOLAT_ATTACH_SHORT=1 (CTest, on all but the newest
# toolchain): 2 of the 5 moments, one before golat has the process stopped and one in the
# middle of the load; the others land on other steps of golat's own ptrace sequence, the
# same code on every toolchain (and kill.sh sweeps them all).
delays=(0 0.002 0.01 0.04 0.07)
[[ ${GOLAT_ATTACH_SHORT:-} == 1 ]] && delays=(0 0.04)
for delay in "${delays[@]}"; do
	svc_start "$bin"
	timeout 30 "$golat" attach "$svc_pid" -f 'main.*' -d 1 >/dev/null 2>"$work/die.err" &
	cli=$!
	sleep $delay
	kill -9 "$svc_pid"
	status=0
	wait $cli || status=$?
	wait "$svc_pid" 2>/dev/null
	rm -rf /dev/shm/golat-"$svc_pid".* /dev/shm/.golat-"$svc_pid".* # killed: golat's files stay, not ours to keep
	if [[ $status == 0 || ($status == 1 && $(grep -v 'loaded through ptrace' "$work/die.err") =~ golat:\ .*(exited|no\ process|closed) ) ]]; then
		ok "killed $delay s into golat attach: golat exited $status: $(tail -1 "$work/die.err")"
	else
		bad "killed $delay s into golat attach: status $status: $(cat "$work/die.err")"
	fi
	svc_start "$bin"
	timeout 30 "$golat" attach "$svc_pid" -f 'main.*' -d 1 >/dev/null 2>"$work/quit.err" &
	cli=$!
	sleep $delay
	curl -sf --max-time 10 "$svc_url/quit" >/dev/null
	qs=0
	wait "$svc_pid" || qs=$?
	status=0
	wait $cli || status=$?
	if [[ $qs == 0 && ($status == 0 || $status == 1) ]]; then
		ok "quit $delay s into golat attach: the service exited 0, golat $status: $(tail -1 "$work/quit.err")"
	else
		bad "quit $delay s into golat attach: the service exited $qs, golat $status: $(cat "$work/quit.err")"
	fi
	rm -f /dev/shm/golat-"$svc_pid".*
done

# Sampling: the first attach sets the rate, a second rate is refused.
svc_start "$bin" LD_PRELOAD="$GOLAT_LIB"
# Before that, the protocol spoken badly: every request answered, nothing hooked, no crash.
sock=/dev/shm/golat-$svc_pid.sock
[[ -S $sock ]] || sock=${TMPDIR:-/tmp}/golat-$svc_pid.sock
if why=$(python3 "$here/proto.py" "$svc_pid" "$sock") && served >/dev/null; then
	ok "the control protocol spoken badly: $why"
else
	bad "the control protocol spoken badly: $why"
fi
"$golat" attach "$svc_pid" -f 'main.(*svc).ServeHTTP' -s 4 2>"$work/sample.err" || bad "attach -s 4: $(cat "$work/sample.err")"
refused "a second sampling rate" "one sampling rate per process; give -s 4" \
	"$golat" attach "$svc_pid" -f 'main.work' -s 8
for _ in $(seq 300); do curl -sf "$svc_url/a" >/dev/null; done
if "$golat" report "$svc_pid" --json >"$work/sample.json"; then
	python3 - "$work/sample.json" <<'PY' && ok "attach -s 4: 1 call in 4 timed, calls exact" || bad "attach -s 4: $(head -c 400 "$work/sample.json")"
import json, sys
f = next(f for f in json.load(open(sys.argv[1]))["functions"] if f["name"] == "main.(*svc).ServeHTTP")
t = json.load(open(sys.argv[1]))["threads"]
print(f"  ServeHTTP calls {f['calls']} timed {f['timed']} ({t} threads, each times 1 in 4)")
sys.exit(0 if f["calls"] == 300 and abs(f["timed"] - f["calls"] / 4) <= t + 1 else 1)
PY
else
	bad "golat report $svc_pid --json failed"
fi
"$golat" detach "$svc_pid" 2>/dev/null || bad "golat detach after the sampling checks"

# Another user's process: golat as nobody against ours.
if [[ $(id -u) == 0 ]] && runuser -u nobody -- true 2>/dev/null && runuser -u nobody -- test -x "$golat"; then
	refused "another user's process" "belongs to root \(uid 0\): golat attaches only to processes of its own user" \
		runuser -u nobody -- "$golat" attach "$svc_pid" -f 'main.*'
	sock=/dev/shm/golat-$svc_pid.sock
	[[ -S $sock ]] || sock=${TMPDIR:-/tmp}/golat-$svc_pid.sock
	chmod 666 "$sock" # as if someone opened it up: the library still checks its peer
	refused "the library refuses a peer of another uid" "refused the connection: uid [0-9]+ may not control pid $svc_pid" \
		runuser -u nobody -- "$golat" detach "$svc_pid"
	chmod 600 "$sock"
	grep -q 'control: refused a connection' "$work/$bin.err" || bad "the service did not log the refusal"
else
	echo "SKIP: another user's process: needs root and runuser -u nobody (this is uid $(id -u))"
fi

# A process that exits during the window: the report of what it saw, then status 1.
( sleep 0.8; curl -sf "$svc_url/quit" >/dev/null ) &
for _ in $(seq 200); do curl -sf "$svc_url/b" >/dev/null || break; sleep 0.002; done &
status=0
"$golat" attach "$svc_pid" -f 'main.(*svc).ServeHTTP' -d 30 -o "$work/died.json" 2>"$work/died.err" || status=$?
if [[ $status == 1 && $(cat "$work/died.err") =~ exited\ [0-9.]+\ s\ into\ the\ window ]] &&
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["functions"] and r["functions"][0]["calls"] > 0 else 1)' "$work/died.json"; then
	ok "a process that exits during the window: $(cat "$work/died.err")"
else
	bad "a process that exits during the window: status $status: $(cat "$work/died.err"), $(head -c 300 "$work/died.json" 2>/dev/null)"
fi
wait "$svc_pid" || bad "the service exited with $? after /quit"
refused "its pid, now gone" "no process $svc_pid" "$golat" attach "$svc_pid" -f 'main.*'
rm -f "/dev/shm/golat-$svc_pid".* "${TMPDIR:-/tmp}/golat-$svc_pid".*
finish
