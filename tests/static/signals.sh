#!/usr/bin/env bash
# Static programs own their signals (issue 19): sigprog/ built without cgo, attached
# with `golat attach PID -f 'main.*'`, then, hooked:
#  - the kernel has golat's agent as the handler of SIGSEGV, SIGURG, SIGPROF, SIGTRAP
#    (the program reads them back with a raw rt_sigaction and finds them in
#    /memfd:golat-agent.so);
#  - 2000 calls of main.load (MOVQ (AX), AX; RET: its whole body relocated into the
#    trampoline), every other one on nil: 1000 panics recovered, each with main.load
#    on its stack (Go was told the original PC), and golat counts the 1000 that returned;
#  - two goroutines that never yield on one P both advance (Go's SIGURG preemption
#    lands in hooked code), golat's count of main.spin exactly the program's;
#  - a CPU profile (SIGPROF) of a loop calling main.tiny: `go tool pprof` gives most
#    samples to main.tiny and (almost) none to external code, golat's recorder
#    included: the samples in golat's code are the hooked function's;
#  - strconv.IsPrint over 0x20000 runes hooked: the answer unhooked, every call counted,
#    and (go1.27, where one of its returns goes through an int3) golat's int3s taken;
#  - signal.Ignore(SIGURG) then signal.Notify(SIGURG, SIGUSR1) after the attach: Go
#    installs handlers again, and golat's agent is still in front; preemption works
#    (the program re-arms its threads with a SIGURG each: one lost while SIGURG was
#    ignored stops Go's preemption of that thread, golat or not);
#  - golat detach: the text byte for byte the file's, Go's handlers back in the kernel
#    (unless golat said a thread was in its code), the program exits 0.
# Usage: signals.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_CLI, GOLAT_TEST_WORK)
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
static_setup signals "$1"
text=$here/../attach/text.py

(cd "$here/sigprog" && "$go" build -o "$work/sigprog" .) || { echo "FAIL: $gover cannot build sigprog/"; exit 1; }
is_static "$work/sigprog" || { echo "FAIL: sigprog needs shared libraries"; exit 1; }

# waitfor PATTERN SECONDS: until the program's output has PATTERN.
waitfor() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		grep -q "$1" "$work/out" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
line() { grep "^$1" "$work/out" | tail -1; }

"$work/sigprog" "$work" >"$work/out" 2>"$work/err" &
pid=$!
waitfor '^started$' 10 || { bad "sigprog did not start: $(cat "$work/err")"; finish; }
python3 "$text" save "$pid" "$work/text" >/dev/null || bad "cannot read sigprog's text"
status=0
"$golat" attach "$pid" -f 'main.*,strconv.IsPrint' >"$work/attach.out" 2>"$work/attach.err" || status=$?
[[ $status == 0 ]] || { bad "golat attach exits $status: $(head -3 "$work/attach.err")"; finish; }
grep -q 'skipped main.\(load\|spin\|tiny\)' "$work/attach.err" && bad "golat skipped a function under test: $(grep skipped "$work/attach.err")"
touch "$work/go"
if ! waitfor '^done$' 50; then
	bad "sigprog did not finish its checks hooked: $(tail -3 "$work/out") $(head -5 "$work/err")"
	# Where it is stuck: Go prints every goroutine's stack on SIGQUIT (not a signal of golat's).
	kill -QUIT "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	echo "sigprog's goroutines on SIGQUIT:"
	grep -A12 '^goroutine ' "$work/err" | head -60
	rm -f "/dev/shm/golat-$pid.stats"
	finish
fi

h=$(line 'handlers hooked')
[[ $h == "handlers hooked: SIGSEGV agent SIGURG agent SIGPROF agent SIGTRAP agent" ]] &&
	ok "hooked: golat's handler in front: $h" || bad "hooked: want every handler in the agent: '$h'"
f=$(line faults)
[[ $f == "faults 2000 recovered 1000 in main.load 1000" ]] && ok "nil dereferences inside main.load's relocated body: $f" ||
	bad "faults: '$f' (want 2000 recovered 1000, each in main.load)"
for p in 'preempt [0-9]' 'preempt after notify'; do
	l=$(line "$p")
	[[ $l =~ ([0-9]+)\ ([0-9]+)\ in ]] && ((BASH_REMATCH[1] > 0 && BASH_REMATCH[2] > 0)) &&
		ok "SIGURG preemption in hooked code: $l" || bad "preemption: '$l' (want both goroutines advancing)"
done
h=$(line 'handlers notified')
[[ $h == "handlers notified: SIGSEGV agent SIGURG agent SIGPROF agent SIGTRAP agent" ]] &&
	ok "after signal.Ignore and signal.Notify, still in front: $h" || bad "after Notify: '$h'"

# Exact counts: golat's report against the program's.
"$golat" report "$pid" --json >"$work/report.json" 2>"$work/report.err" || bad "golat report: $(cat "$work/report.err")"
verdict "exact counts" python3 - "$work/report.json" "$(line counts)" <<'PY'
import json, sys
got = {f["name"]: f.get("calls") for f in json.load(open(sys.argv[1])).get("functions", [])}
w = sys.argv[2].split()  # counts load N spin N tiny N
want = {"main." + w[i]: int(w[i + 1]) for i in range(1, len(w), 2)}
bad = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
print(", ".join(f"{k} {v}" for k, v in want.items()) + ("" if not bad else f" (golat, program: {bad})"))
sys.exit(1 if bad else 0)
PY

# strconv.IsPrint hooked: the same answer as unhooked, every call counted, and where golat
# plans one of its returns through an int3 (go1.27), the int3s taken.
want=$("$work/sigprog" -printable)
l=$(line printable)
[[ $l == "printable $want" ]] && ok "strconv.IsPrint hooked: $l, as unhooked" || bad "strconv.IsPrint: '$l' (want $want)"
int3=$("$golat" list --json "$work/sigprog" strconv.IsPrint | python3 -c 'import json,sys; print(sum((f.get("returns") or {}).get("int3", 0) for f in json.load(sys.stdin)))')
verdict "strconv.IsPrint's calls and int3s" python3 - "$work/report.json" "$int3" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
calls = {f["name"]: f.get("calls") for f in r.get("functions", [])}.get("strconv.IsPrint")
traps, int3 = r.get("traps", 0), int(sys.argv[2])
print(f"{calls} calls, {traps} int3s taken ({int3} of its returns planned through one)")
sys.exit(0 if calls == 0x20000 and (traps > 0) == (int3 > 0) else 1)
PY

# The profile: golat's time in main.tiny's calls is main.tiny's, not external code.
"$go" tool pprof -top "$work/sigprog" "$work/cpu.prof" >"$work/pprof.txt" 2>&1 || bad "go tool pprof: $(head -3 "$work/pprof.txt")"
verdict "profile attribution" python3 - "$work/pprof.txt" <<'PY'
import re, sys
flat, total = {}, 0.0
for l in open(sys.argv[1]):
    m = re.match(r"\s*([\d.]+)(m?s)\s+[\d.]+%\s+[\d.]+%\s+[\d.]+m?s\s+[\d.]+%\s+(\S+)", l)
    if m:
        v = float(m.group(1)) * (1 if m.group(2) == "ms" else 1000)
        flat[m.group(3)] = v
        total += v
tiny, ext = flat.get("main.tiny", 0), flat.get("runtime._ExternalCode", 0)
print(f"{total:.0f} ms sampled: main.tiny {tiny:.0f} ms, external code {ext:.0f} ms")
sys.exit(0 if total > 0 and tiny >= 0.5 * total and ext <= 0.1 * total else 1)
PY

status=0
"$golat" detach "$pid" >"$work/detach.out" 2>"$work/detach.err" || status=$?
[[ $status == 0 ]] || bad "golat detach exits $status: $(head -3 "$work/detach.err")"
verdict "after golat detach" python3 "$text" same "$pid" "$work/text"
touch "$work/stop"
status=0
wait "$pid" || status=$?
# Nothing asked for a final report: the stats stay. Not ours to keep.
rm -f "/dev/shm/golat-$pid.stats" "${TMPDIR:-/tmp}/golat-$pid.stats"
[[ $status == 0 ]] && ! grep -q . "$work/err" && ok "sigprog exits 0 after detach" ||
	bad "sigprog: status $status, stderr $(head -5 "$work/err")"
h=$(line 'handlers detached')
if grep -q "signal handlers stay in front" "$work/detach.err"; then
	[[ $h == *"SIGSEGV agent"* ]] && ok "detached while a thread was in golat's code: golat's handlers stayed: $h" ||
		bad "golat said its handlers stay, the program says '$h'"
else
	[[ $h == "handlers detached: SIGSEGV binary SIGURG binary SIGPROF binary SIGTRAP binary" ]] &&
		ok "detached: Go's handlers back: $h" || bad "detached: want Go's handlers back: '$h'"
fi
finish
