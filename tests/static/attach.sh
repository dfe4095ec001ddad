#!/usr/bin/env bash
# golat attach and golat detach on a running Go program built without cgo (statically
# linked: hooked from outside, issue 11), prog/'s load mode under load (goroutines
# calling main.work, a tight loop in main.mix, threads that come and go):
#  - exe: `golat attach PID -f 'main.*'` hooks and returns; a second later `golat report
#    PID --json` counts calls of main.work, no more than the program made; `golat detach
#    PID` unhooks: the text read through /proc/PID/mem is byte for byte what it was
#    before golat, and the program runs on (its progress grows); then `golat attach -s 10`
#    is refused (its agent times every call into the same file), the text untouched;
#  - stripped PIE: `golat attach PID -f 'main.*' -d 1 -o W.json` times a window of 1 s,
#    reports it (main.work counted, no more than the program made) and detaches: the
#    text as before;
#  - each program then stops when asked, with status 0, every result right (main.work's
#    and main.mix's, whose registers golat stopped and resumed), nothing on stderr but
#    golat's lines;
#  - two golat attach at the same moment: one hooks, the other is refused with a
#    `golat: ` line (never both at once); the text as before after the window;
#  - another tracer holds the program (a debugger): status 1, one `golat: ` line naming the
#    tracer and golat run; the text as before, and it runs on once the tracer is gone;
#  - golat attach to a pid that is gone: status 1, one `golat: ` line naming the pid;
#  - in namespaces of its own, as in a container (unshare: pid 1 there, its own /dev/shm,
#    golat's build directory out of its sight, uid 65534): a window from outside counts
#    main.work; the agent is the memfd the process made (/proc/PID/maps); the stats file
#    is golat-1.stats in its /dev/shm, its header's pid 1, owned by 65534, mode 0600,
#    nothing in golat's /dev/shm; attach for good, golat report of that file, detach:
#    the text as before. (Before, the process's openat of golat's path to the agent
#    failed there, and golat said "'main.work' selects no function golat can hook".)
# GOLAT_STATIC_SHORT=1 (CTest, on all but the newest toolchain): the exe attached for
# good and detached, the stripped PIE's window and the pid that is gone, which read
# what the toolchain decides (its runtime's layout, the binary's shape, the stop and
# resume of its threads); the rest is golat's own code run again (the attach lock, the
# tracer check, the agent's memfd and the namespaces' paths), on the newest only.
# Usage: attach.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
static_setup attach "$1"
text=$here/../attach/text.py

static_build "$work/exe"
static_build "$work/pie" -buildmode=pie
strip "$work/pie"

# start BIN: prog's load mode as $work/BIN; sets pid; saves its text in $work/BIN.text.
start() {
	local i
	rm -f "$work/$1.stop" "$work/$1.out" # (not the last run's "load: started")
	"$work/$1" load "$work/$1.stop" >"$work/$1.out" 2>"$work/$1.err" &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		grep -qs '^load: started$' "$work/$1.out" && break
		sleep 0.05
	done
	grep -q '^load: started$' "$work/$1.out" || { bad "$1 did not start in 10 s: $(cat "$work/$1.err")"; finish; }
	python3 "$text" save "$pid" "$work/$1.text" >/dev/null || bad "$1: cannot read its text"
}

progress() { awk '$1 == "progress" { n = $2 } END { print n + 0 }' "$work/$1.out"; }
# advances BIN BEFORE: whether BIN's progress passes BEFORE within 20 s (on a loaded
# machine a fixed 0.3 s proved nothing either way).
advances() {
	local i
	for ((i = 0; i < 400; i++)); do
		(($(progress "$1") > $2)) && return 0
		sleep 0.05
	done
	return 1
}

# stop BIN [WAITFOR [WHAT]]: asks it to stop; it (or WAITFOR, the process that waits
# for it) must exit 0, every result right, nothing on stderr but golat's lines.
stop() {
	local status=0
	touch "$work/$1.stop"
	wait "${2:-$pid}" || status=$?
	local said
	said=$(grep '^load: ' "$work/$1.out" | tail -1)
	if [[ $status == 0 && $said =~ ^load:\ [0-9]+\ calls\ of\ main.work,\ 0\ wrong$ ]] && ! grep -qv '^golat: ' "$work/$1.err"; then
		ok "${3:-$1} ran on after golat and stopped normally: ${said#load: }"
	else
		bad "${3:-$1}: status $status, '$said', stderr: $(grep -v '^golat: ' "$work/$1.err" | head -5)"
	fi
	# Nothing asked for a final report: the stats stay. Not ours to keep.
	rm -f "/dev/shm/golat-$pid.stats" "${TMPDIR:-/tmp}/golat-$pid.stats"
}

# counted JSON BIN: main.work's calls in the report JSON, more than 0 and no more than
# the program made (its count lines, once it stopped).
# shellcheck disable=SC2317 # (called through verdict)
counted() {
	python3 - "$1" "$work/$2.out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
got = sum(f["calls"] for f in r["functions"] if f["name"] == "main.work")
ours = next((int(l.split()[2]) for l in open(sys.argv[2]) if l.startswith("count main.work ")), None)
ok = ours is not None and 0 < got <= ours
print(f"main.work: {got} calls in the report, {ours} made" + ("" if ok else " (want 0 < report <= made)"))
sys.exit(0 if ok else 1)
PY
}

golat_only() { # WHAT ERRFILE: only golat's lines on golat's stderr
	if grep -v '^golat: ' "$2" | grep -q .; then
		bad "$1: stderr lines that are not golat's: $(grep -v '^golat: ' "$2" | head -5)"
	fi
}

# Hooked for good, read live, detached.
start exe
status=0
"$golat" attach "$pid" -f 'main.*' >"$work/attach.out" 2>"$work/attach.err" || status=$?
if [[ $status != 0 ]]; then
	bad "golat attach $pid -f 'main.*' (exe) exits $status: $(head -5 "$work/attach.err")"
else
	golat_only "golat attach" "$work/attach.err"
	before=$(progress exe)
	advances exe "$before" || bad "exe: no progress in 20 s after golat attach (stuck at $before)"
	"$golat" report "$pid" --json >"$work/live.json" 2>"$work/report.err" || bad "golat report $pid --json: $(head -3 "$work/report.err")"
	status=0
	"$golat" detach "$pid" >"$work/detach.out" 2>"$work/detach.err" || status=$?
	[[ $status == 0 ]] || bad "golat detach $pid (exe) exits $status: $(head -5 "$work/detach.err")"
	golat_only "golat detach" "$work/detach.err"
	verdict "exe after golat detach" python3 "$text" same "$pid" "$work/exe.text"
	# Its agent times every call, into the same file: another rate is refused, nothing hooked.
	status=0
	"$golat" attach "$pid" -f 'main.*' -s 10 >"$work/rate.out" 2>"$work/rate.err" || status=$?
	if [[ $status == 1 ]] && grep -q '^golat: .*one sampling rate per process; give -s 1 or no -s' "$work/rate.err"; then
		ok "exe: attach -s 10 after -s 1 refused: $(head -1 "$work/rate.err")"
	else
		bad "exe: attach -s 10 after -s 1: status $status (want 1), $(head -3 "$work/rate.err")"
	fi
	golat_only "golat attach -s 10" "$work/rate.err"
	verdict "exe after a refused attach" python3 "$text" same "$pid" "$work/exe.text"
	before=$(progress exe)
	advances exe "$before" || bad "exe: no progress in 20 s after golat detach (stuck at $before)"
fi
stop exe
if [[ -s $work/live.json ]]; then
	verdict "golat report, live" counted "$work/live.json" exe
fi

# window WHAT SPECS NAME BIN: a 1 s window on pid ($work/NAME.json), nothing but golat's
# lines on its stderr, and BIN's text as before it afterwards.
window() {
	local status=0
	"$golat" attach "$pid" -f "$2" -d 1 -o "$work/$3.json" >"$work/$3.out" 2>"$work/$3.err" || status=$?
	if [[ $status == 0 ]]; then
		golat_only "golat attach -d 1 ($1)" "$work/$3.err"
		verdict "$1, after the window" python3 "$text" same "$pid" "$work/$4.text"
	else
		bad "golat attach $pid -f '$2' -d 1 ($1) exits $status: $(head -5 "$work/$3.err")"
	fi
}

# A window on the stripped PIE.
start pie
window "stripped PIE" 'main.*' win pie
stop pie
if ((status == 0)); then
	verdict "the window's report" counted "$work/win.json" pie
fi

# A pid that is gone.
true &
gone=$!
wait $gone
status=0
"$golat" attach "$gone" -f 'main.*' >"$work/gone.out" 2>"$work/gone.err" || status=$?
err=$(cat "$work/gone.err")
if [[ $status == 1 && $(wc -l <"$work/gone.err") == 1 && $err == golat:\ *$gone* && ! -s $work/gone.out ]]; then
	ok "a pid that is gone: $err"
else
	bad "a pid that is gone: status $status (want 1), stderr '$err' (want one golat: line naming $gone)"
fi

if [[ ${GOLAT_STATIC_SHORT:-} == 1 ]]; then
	echo "short form (GOLAT_STATIC_SHORT=1): two attaches at once, another tracer and the namespaces run on the newest toolchain"
	finish
fi

# Two at once: one hooks; the other is refused with a golat: line, or waits its turn
# (as tests/attach/ptrace.sh allows on the cgo route); never both refused, never a crash.
start exe
"$golat" attach "$pid" -f 'main.work' -d 1 -o "$work/two.1.json" >/dev/null 2>"$work/two.1" &
one=$!
"$golat" attach "$pid" -f 'main.square' -d 1 -o "$work/two.2.json" >/dev/null 2>"$work/two.2" &
two=$!
s1=0 s2=0
wait $one || s1=$?
wait $two || s2=$?
if [[ $s1$s2 == 00 ]]; then
	ok "two golat attach at once: both hooked, one after the other"
elif [[ $s1$s2 == 01 || $s1$s2 == 10 ]]; then
	refusal=$work/two.2
	[[ $s1 == 1 ]] && refusal=$work/two.1
	if grep -q . "$refusal" && ! grep -qv '^golat: ' "$refusal"; then
		ok "two golat attach at once: one hooked, the other refused: $(head -1 "$refusal")"
	else
		bad "two golat attach at once: the refused one says '$(cat "$refusal")' (want golat: lines)"
	fi
else
	bad "two golat attach at once: status $s1 and $s2 (want one 0, the other 0 or 1): $(cat "$work/two.1" "$work/two.2" | head -10)"
fi
verdict "exe after the two" python3 "$text" same "$pid" "$work/exe.text"

# Another tracer holds it (as a debugger would): one line naming that tracer and golat
# run; the program untouched, and it runs on once the tracer has gone.
python3 -c '
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
if libc.ptrace(0x4206, int(sys.argv[1]), None, None) != 0:  # PTRACE_SEIZE: it runs on
    sys.exit("PTRACE_SEIZE: errno %d" % ctypes.get_errno())
print("seized", flush=True)
time.sleep(30)' "$pid" >"$work/tracer.out" 2>&1 &
tracer=$!
for _ in $(seq 400); do grep -q seized "$work/tracer.out" && break; sleep 0.05; done
status=0
"$golat" attach "$pid" -f 'main.*' >/dev/null 2>"$work/traced.err" || status=$?
if [[ $status == 1 && $(wc -l <"$work/traced.err") == 1 ]] &&
	grep -q "^golat: pid $pid is being traced by pid $tracer .*start it with golat run" "$work/traced.err"; then
	ok "traced by another: $(cat "$work/traced.err")"
else
	bad "traced by another (pid $tracer: $(cat "$work/tracer.out")): status $status (want 1), $(cat "$work/traced.err")"
fi
kill $tracer
wait $tracer 2>/dev/null
verdict "exe after the refusal" python3 "$text" same "$pid" "$work/exe.text"
before=$(progress exe)
advances exe "$before" || bad "exe: no progress in 20 s once the tracer had gone (stuck at $before)"
stop exe

# In namespaces of its own, as a container runs it (root only: mounts).
# start_ns BIN: as start, but pid 1 of a PID namespace of its own, with a mount namespace
# where /dev/shm is its own tmpfs and golat's lib/ (the agent) an empty one, as uid
# 65534; sets pid (as golat sees it) and nsroot (unshare, which waits for it).
start_ns() {
	local lib i
	lib=$(cd "$(dirname "$golat")/../lib" && pwd)
	rm -f "$work/$1.stop" "$work/$1.out"
	unshare --pid --fork --kill-child --mount --propagation private sh -c 'mount -t tmpfs -o size=64m shm /dev/shm &&
		mount -t tmpfs none "$1" && exec setpriv --reuid 65534 --regid 65534 --clear-groups "$2" load "$3"' \
		sh "$lib" "$work/$1" "$work/$1.stop" >"$work/$1.out" 2>"$work/$1.err" &
	nsroot=$!
	pid=$(run_pid "$nsroot" "$work/$1") || { bad "$1 in namespaces of its own did not start: $(cat "$work/$1.err")"; return 1; }
	for ((i = 0; i < 200; i++)); do
		grep -qs '^load: started$' "$work/$1.out" && break
		sleep 0.05
	done
	grep -q '^load: started$' "$work/$1.out" || { bad "$1 in namespaces did not start in 10 s: $(cat "$work/$1.err")"; return 1; }
	python3 "$text" save "$pid" "$work/$1.text" >/dev/null || bad "$1 in namespaces: cannot read its text"
}

# ns_file PATH: the stats file as golat made it for the process: its header's pid, owner, mode.
ns_file() {
	python3 - "$1" <<'PY'
import os, struct, sys
st = os.stat(sys.argv[1])
with open(sys.argv[1], "rb") as f:
    pid, = struct.unpack_from("<I", f.read(28), 24)
ok = pid == 1 and st.st_uid == 65534 and st.st_mode & 0o7777 == 0o600
print(f"header pid {pid}, uid {st.st_uid}, mode {st.st_mode & 0o7777:04o}" +
      ("" if ok else " (want pid 1, uid 65534, mode 0600)"))
sys.exit(0 if ok else 1)
PY
}

if [[ $(id -u) == 0 ]] && unshare --pid --fork --mount true 2>/dev/null && start_ns exe; then
	shm=/proc/$pid/root/dev/shm/golat-1.stats
	window "in namespaces" main.work ns exe
	if grep -q ' /memfd:golat-agent.so (deleted)$' "/proc/$pid/maps"; then
		ok "in namespaces: the agent is the memfd the process made"
	else
		bad "in namespaces: no /memfd:golat-agent.so in its maps: $(grep golat "/proc/$pid/maps" | head -3)"
	fi
	[[ -e $shm ]] && verdict "in namespaces: $shm" ns_file "$shm"
	[[ -e /dev/shm/golat-1.stats || -e /dev/shm/golat-$pid.stats ]] && bad "in namespaces: a stats file in golat's /dev/shm"
	status=0
	"$golat" attach "$pid" -f 'main.*' >"$work/ns2.out" 2>"$work/ns2.err" || status=$?
	before=$(progress exe)
	advances exe "$before" || bad "in namespaces: no progress in 20 s after golat attach"
	"$golat" report "$shm" --json >"$work/ns-live.json" 2>"$work/ns-report.err" || status=$?
	"$golat" detach "$pid" >"$work/ns3.out" 2>"$work/ns3.err" || status=$?
	if [[ $status == 0 ]]; then
		golat_only "golat attach, report, detach (namespaces)" "$work/ns2.err"
		golat_only "golat detach (namespaces)" "$work/ns3.err"
		verdict "in namespaces, after golat detach" python3 "$text" same "$pid" "$work/exe.text"
	else
		bad "in namespaces: attach, report $shm, detach: status $status: $(cat "$work/ns2.err" "$work/ns-report.err" "$work/ns3.err" | head -5)"
	fi
	stop exe "$nsroot" "exe in namespaces"
	[[ -s $work/ns.json ]] && verdict "in namespaces: the window's report" counted "$work/ns.json" exe
	[[ -s $work/ns-live.json ]] && verdict "in namespaces: golat report $shm" counted "$work/ns-live.json" exe
elif [[ $(id -u) == 0 ]]; then
	echo "skipped: in namespaces of its own (unshare --pid --mount refused here)"
fi

finish
