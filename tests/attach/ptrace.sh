#!/usr/bin/env bash
# golat attach on a service started WITHOUT libgolat.so: golat loads it through ptrace
# (lib/attach). CYCLES times, each on a fresh service (so that each cycle really goes
# through ptrace; exe and stripped PIE in turn) under load: while signals rain on it
# (signal 40, real-time, counted by a C handler: the kernel queues every one, so a
# signal golat swallowed would show; and SIGURG, Go's preemption signal), golat attach
# -d loads the library, times a window, reports, detaches. Then: golat said it went
# through ptrace and how long its threads stopped; the window's ServeHTTP calls are some
# and no more than the requests served around it; the text read through /proc/PID/mem
# is byte for byte what it was before golat; every signal 40 sent arrived; a second
# attach goes through the control socket, without ptrace; no request failed; the
# service exits normally. Once: two golats attaching at the same moment (the lock:
# one loads, the other waits its turn or says the lock is held; never two loads); the
# library came from a memfd the service made (maps: /memfd:libgolat.so (deleted)), of
# which no descriptor stays open. Once: a service whose seccomp filter refuses
# memfd_create (deny.c, as a container's profile may): one sentence naming the call and
# the filter, and the service as it was.
# Usage: ptrace.sh GO [CYCLES] [SECONDS]   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
attach_setup ptrace "$1"
cycles=${2:-10}
window=${3:-0.3}
attach_build
specs='main.(*svc).ServeHTTP,main.work'

# rain PID STOPFILE: every 0.2 ms, signal 40 to PID and to each of its threads in turn
# it had before golat (tgkill: a thread-directed signal waits for the very thread golat
# holds stopped; golat's own threads block every signal), and
# SIGURG to PID, until STOPFILE exists; prints how many signal 40 it sent.
rain() {
	python3 - "$1" "$2" <<'PY'
import ctypes, os, signal, sys, time
libc = ctypes.CDLL(None, use_errno=True)
pid, stop, n, k = int(sys.argv[1]), sys.argv[2], 0, 0
started = False
# The program's threads, before golat: golat's own (made during the attach, named
# golat-* a moment later) block every signal, by design, and would keep one for ever.
tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
while not os.path.exists(stop):
    if n and not started:
        open(stop + ".raining", "w").close()  # golat attaches once signals fly
        started = True
    try:
        os.kill(pid, 40)
        n += 1
        tid = tids[k % len(tids)]
        if libc.syscall(234, pid, tid, 40) == 0:  # tgkill
            n += 1
        k += 1
        os.kill(pid, signal.SIGURG)
    except (ProcessLookupError, FileNotFoundError):
        break
    time.sleep(0.0002)
print(n)
PY
}

# rt_all SENT: waits (up to 2 s) until the service counted SENT signal 40.
rt_all() {
	local got i
	for ((i = 0; i < 40; i++)); do
		got=$(curl -sf --max-time 5 "$svc_url/rt")
		[[ $got == "$1" ]] && return 0
		sleep 0.05
	done
	echo "$got"
	return 1
}

window_ok() { # JSON BEFORE AFTER
	python3 - "$@" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
served = int(sys.argv[3]) - int(sys.argv[2])
h = next((f for f in r["functions"] if f["name"] == "main.(*svc).ServeHTTP"), {"calls": 0})
ok = 0 < h["calls"] <= served
print(f"ServeHTTP {h['calls']} calls, served {served}" + ("" if ok else " (want 0 < calls <= served)"))
sys.exit(0 if ok else 1)
PY
}

good=0
for ((i = 1; i <= cycles; i++)); do
	bin=${bins[$(((i - 1) % 2))]}
	svc_start "$bin"
	python3 "$here/text.py" save "$svc_pid" "$work/text" >/dev/null || bad "cycle $i: cannot read the text"
	rm -f "$work/stop" "$work/nomore"
	"$work/load" "$svc_url/hello" 4 1 "$work/stop" >"$work/load.out" 2>&1 &
	load=$!
	rm -f "$work/nomore.raining"
	rain "$svc_pid" "$work/nomore" >"$work/sent" &
	rainer=$!
	wait_until 5 test -e "$work/nomore.raining" || true
	before=$(served)
	wait_until 10 served_beyond "$before" || bad "cycle $i: the load serves nothing"
	before=$(served)
	status=0
	"$golat" attach "$svc_pid" -f "$specs" -d "$window" -o "$work/win$i.json" 2>"$work/win$i.err" || status=$?
	after=$(served)
	touch "$work/nomore"
	wait $rainer
	sent=$(cat "$work/sent")
	problems=()
	[[ $status == 0 ]] || problems+=("golat attach exited $status")
	grep -q 'loaded through ptrace' "$work/win$i.err" || problems+=("no ptrace line")
	why=$(window_ok "$work/win$i.json" "$before" "$after") || problems+=("$why")
	text=$(python3 "$here/text.py" same "$svc_pid" "$work/text" 2>&1) || problems+=("text: $text")
	got=$(rt_all "$sent") || problems+=("signal 40: sent $sent, the service counted $got; pending per thread: $(
		for t in /proc/"$svc_pid"/task/*; do printf '%s:%s ' "$(cat "$t/comm")" "$(awk '/^SigPnd/ {print $2}' "$t/status")"; done)")
	if ((i == 1)); then # a second attach: through the socket, no ptrace
		"$golat" attach "$svc_pid" -f "$specs" -d 0.1 >/dev/null 2>"$work/again.err" &&
			! grep -q ptrace "$work/again.err" || problems+=("second attach: $(cat "$work/again.err")")
	fi
	touch "$work/stop"
	wait $load || problems+=("load: $(cat "$work/load.out")")
	svc_quit
	if ((${#problems[@]} == 0)); then
		good=$((good + 1))
		echo "  cycle $i ($bin): $why; $sent signal 40 sent, all counted;" \
			"$(grep -o 'threads stopped .*' "$work/win$i.err" | head -1)"
	else
		bad "cycle $i ($bin): $(printf '%s; ' "${problems[@]}") -- $(cat "$work/win$i.err")"
	fi
done
((good == cycles)) && ok "$cycles services started without golat: attached through ptrace under load and signals, windows right, text as before, no signal lost, no request failed"
cat "$work"/win*.err | python3 -c '
import re, statistics, sys
t = sys.stdin.read()
w = [int(x) for x in re.findall(r"stopped one by one, each let go at most (\d+) us", t)]
h = [float(x) for x in re.findall(r"alone ([0-9.]+) ms for dlopen", t)]
if w:
    print(f"  ptrace: the longest any thread but the dlopen one stayed stopped once seen: median {statistics.median(w):.0f} us, "
          f"max {max(w)} us; the dlopen thread: median {statistics.median(h):.1f} ms, max {max(h):.1f} ms; {len(w)} attaches")'

# Two golats at once (each its own function: a window leaves out what another window
# hooked): one loads the library; the other finds it loaded or the lock held. Never two
# loads, never a crash.
svc_start exe
"$golat" attach "$svc_pid" -f 'main.(*svc).ServeHTTP' -d 0.2 >/dev/null 2>"$work/two.1" &
one=$!
"$golat" attach "$svc_pid" -f 'main.work' -d 0.2 >/dev/null 2>"$work/two.2" &
two=$!
s1=0 s2=0
wait $one || s1=$?
wait $two || s2=$?
loads=$(cat "$work/two.1" "$work/two.2" | grep -c 'loaded through ptrace')
mapped=$(grep -c '/memfd:libgolat.so (deleted)$' "/proc/$svc_pid/maps")
held=$(cat "$work/two.1" "$work/two.2" | grep -c 'another golat is attaching')
if [[ $loads == 1 && $((s1 + s2)) -le 1 && $((s1 + s2)) == "$held" ]] && served >/dev/null; then
	ok "two golats at once: one loaded the library through ptrace, the other $( ((held)) && echo 'found the lock held' || echo 'used the socket')"
else
	bad "two golats at once: status $s1 and $s2, $loads loads: $(cat "$work/two.1" "$work/two.2")"
fi
open_fds=$(find "/proc/$svc_pid/fd" -lname '/memfd:libgolat.so*' | wc -l)
if ((mapped > 0 && open_fds == 0)) && ! grep -q "$GOLAT_LIB" "/proc/$svc_pid/maps"; then
	ok "the library came from a memfd: $mapped mappings of /memfd:libgolat.so, none of $GOLAT_LIB, no descriptor left open"
else
	bad "the memfd route: $mapped mappings of /memfd:libgolat.so, $open_fds descriptors of it open: $(grep golat "/proc/$svc_pid/maps")"
fi
svc_quit

# seccomp refuses memfd_create (319 on x86-64): golat names the call and the filter,
# and leaves the service as it was: its text, no library, no descriptor, serving.
if ! cc -O2 -o "$work/deny" "$here/deny.c"; then
	bad "cannot build deny.c"
	finish
fi
printf '#!/bin/sh\nexec "%s" 319 "%s"\n' "$work/deny" "$work/exe" >"$work/denied"
chmod +x "$work/denied"
svc_start denied
python3 "$here/text.py" save "$svc_pid" "$work/text" >/dev/null || bad "seccomp: cannot read the text"
status=0
"$golat" attach "$svc_pid" -f "$specs" -d 0.2 >/dev/null 2>"$work/sec.err" || status=$?
if [[ $status == 1 ]] && grep -q "refused memfd_create (EPERM): its seccomp filter" "$work/sec.err" &&
	python3 "$here/text.py" same "$svc_pid" "$work/text" >/dev/null &&
	! grep -q golat "/proc/$svc_pid/maps" && [[ $(find "/proc/$svc_pid/fd" -lname '/memfd:*' | wc -l) == 0 ]] &&
	served >/dev/null; then
	ok "seccomp refuses memfd_create: $(cat "$work/sec.err")"
else
	bad "seccomp refuses memfd_create: status $status: $(cat "$work/sec.err")"
fi
bin=denied svc_quit
finish
