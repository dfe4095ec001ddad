#!/usr/bin/env bash
# golat killed (SIGKILL) at any instant leaves the program running (issue 19, item 4).
# KILLS kills in all (default 105, CI's count), on svc/ under load from load/, on both routes:
#  A. cgo, loaded through ptrace: golat attach -d killed at each step of the injection
#     (GOLAT_TEST_DIE_AT=N: golat kills itself at its N-th step: a ptrace stop seen,
#     registers or a mask set, a write into the target), N walking the whole attach with
#     a stride that fits the budget (dlopen's system calls included: each is a stop). A
#     service that got the library (memfd:libgolat.so in its maps) is detached, its
#     text compared, and replaced by a fresh one, so that each N goes through ptrace;
#  B. cgo, through the control socket: golat attach -d killed after a random delay
#     (attach, window or detach), all on one service;
#  C. static (built without cgo): golat attach -d killed at each step (agent mapped,
#     system calls, trampolines, jumps, window, unhook), N walking the whole range;
#  D. static: golat attach -d killed after a random delay;
#  E. static: golat detach of hooks left in by an attach, killed at each step;
#  F. static: golat run killed at each step of its hold of the program in runtime.main
#     and its hooking, the first (N=1) between its fork and its seizing the child: the
#     program, orphaned, starts serving (at N=1 unhooked).
# After every kill: the same pid alive, still serving (its request count grows), its
# stderr without a Go crash. At the end of each service: `golat detach PID` leaves the
# text read through /proc/PID/mem byte for byte as before golat, no load request failed,
# and the service quits with status 0.
# Usage: kill.sh GO [KILLS]   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
attach_setup kill "$1"
kills=${2:-105}
b=${GOLAT_ATTACH_BINS:-}
if [[ -n $b && -x $b/exe && -x $b/static && -x $b/load ]]; then
	cp "$b/exe" "$b/static" "$b/load" "$work/" || exit 1
else
	(cd "$here/svc" && "$go" build -o "$work/exe" . && CGO_ENABLED=0 "$go" build -o "$work/static" . &&
		cd "$here/load" && "$go" build -o "$work/load" .) || { echo "FAIL: $gover cannot build svc/ and load/"; exit 1; }
fi
specs='main.(*svc).ServeHTTP,main.work'
# Shares of the kills: A, B, C, D, E, F (A and F cost a fresh service for most kills).
# At 105 (CI): A 20 (every 7th of ~136 steps), B 15, C 30 (every 7th of ~213), D 10,
# E 20 (every 3rd of ~61), F 10. The aimed ones (A, C, E, F) walk the whole range with
# a stride, so every stretch of steps of one kind (ptrace stops, register and mask
# sets, writes, dlopen's system calls, agent, trampolines, jumps, window, unhook) longer
# than the stride is hit; the random ones (B, D) land in the attach, window or detach of
# a route the aimed ones already walk, and need fewer. bench/kill_soak.sh's 1,000 kill at
# every step of A, C and E (their shares exceed their ranges).
nA=$((kills * 4 / 21)) nB=$((kills / 7)) nC=$((kills * 2 / 7)) nD=$((kills * 2 / 21)) nF=$((kills * 2 / 21))
nE=$((kills - nA - nB - nC - nD - nF))
total=0 lost=0

# begin BIN [fast]: a service under load; its text saved (not when fast).
begin() {
	svc_start "$1"
	[[ ${2:-} == fast ]] ||
		python3 "$here/text.py" save "$svc_pid" "$work/text" >/dev/null || bad "$1: cannot read its text"
	rm -f "$work/stop"
	"$work/load" "$svc_url/hello" 2 1 "$work/stop" >"$work/load.out" 2>&1 &
	load=$!
	wait_until 10 served_beyond 0 || bad "$1: the load serves nothing"
}

# after WHAT: golat was just killed; the service must be alive and serve on.
after() {
	total=$((total + 1))
	local n
	n=$(served) || { lost=$((lost + 1)); bad "$1: the service does not answer (pid $svc_pid: $(
		[[ -d /proc/$svc_pid ]] && echo alive || echo gone)): $(tail -3 "$work/$bin.err")"; finish; }
	wait_until 20 served_beyond "$n" || bad "$1: the service serves no more ($n)"
	if grep -qE '^(panic|fatal|SIG|runtime:|goroutine )' "$work/$bin.err"; then
		bad "$1: the service crashed: $(grep -m3 -E '^(panic|fatal|SIG|runtime:)' "$work/$bin.err")"
		finish
	fi
}

# end [fast]: golat detach, the text as before (not when fast), the load without
# failure, a clean quit.
end() {
	if [[ ${1:-} == fast ]]; then
		touch "$work/stop"
		wait "$load" || bad "$bin: load: $(cat "$work/load.out")"
		svc_quit >/dev/null
		return
	fi
	"$golat" detach "$svc_pid" >/dev/null 2>"$work/detach.err" ||
		grep -q 'nothing\|no golat\|not hooked\|unhooked 0' "$work/detach.err" ||
		bad "$bin: golat detach: $(cat "$work/detach.err")"
	local t
	t=$(python3 "$here/text.py" same "$svc_pid" "$work/text" 2>&1) || bad "$bin: text: $t"
	touch "$work/stop"
	wait "$load" || bad "$bin: load: $(cat "$work/load.out")"
	svc_quit
}

# die_at N ARGS...: golat ARGS, told to kill itself at its N-th step (its stderr in
# g.err; the shell's "Killed" kept out of the log).
die_at() {
	local n=$1
	shift
	(GOLAT_TEST_DIE_AT=$n "$golat" "$@" >/dev/null 2>"$work/g.err"; exit $?) 2>/dev/null
}

# killed STATUS: golat died of SIGKILL (137), as asked.
killed() { (($1 == 137)); }

# steps CMD...: how many steps CMD takes when nobody kills it.
steps() {
	rm -f "$work/steps"
	GOLAT_TEST_STEPS=$work/steps "$@" >/dev/null 2>&1
	cat "$work/steps" 2>/dev/null || echo 0
}

lib_in() { grep -q 'memfd:libgolat.so' "/proc/$svc_pid/maps"; }

# aim WHAT WANT RANGE ARGS...: golat ARGS (PID: the service's pid, anew each time) killed at WANT steps spread over 1..RANGE, each
# kill checked (after), then $on_kill run. A golat that ends before its step took fewer
# steps than the first run (an agent already there, fewer threads): RANGE shrinks to
# it and the spread goes on. Sets aimed, the kills that landed.
on_kill=: before=:
aim() {
	local what=$1 want=$2 range=$3 k=0 tries=0 N st
	shift 3
	aimed=0
	while ((aimed < want && tries < want * 3 && range > 0)); do
		tries=$((tries + 1))
		N=$((1 + (k * range) / want))
		$before
		st=0
		die_at "$N" "${@/#PID/$svc_pid}" || st=$?
		if ! killed $st && ((st == 0)); then
			range=$((N - 1))
			continue
		elif ! killed $st; then # hooks a golat killed earlier left in: taken out, and again
			grep -q 'hooked already' "$work/g.err" || echo "$what: golat said at step $N: $(head -c 300 "$work/g.err")"
			"$golat" detach "$svc_pid" >/dev/null 2>&1
			continue
		fi
		k=$((k + 1)) aimed=$((aimed + 1))
		after "$what step $N of $range"
		$on_kill
	done
}

# A: the ptrace load, aimed. (exe is not a PIE: every service's text is the first one's.)
# A service that got the library is replaced: the next step must go through ptrace.
fresh() {
	if lib_in; then
		end fast
		begin exe fast
	fi
}
bin=exe
begin exe
range=$(steps "$golat" attach "$svc_pid" -f "$specs" -d 0.1)
end fast
begin exe fast
on_kill=fresh
aim A "$nA" "$range" attach PID -f "$specs" -d 0.1
on_kill=:
lib_in || "$golat" attach "$svc_pid" -f "$specs" -d 0.05 >/dev/null 2>&1 || bad "A: attach after the kills failed"
"$golat" detach "$svc_pid" >/dev/null 2>&1
t=$(python3 "$here/text.py" same "$svc_pid" "$work/text" 2>&1) || bad "A: text after the kills: $t"
end fast
echo "A ($SECONDS s): $aimed kills over the $range steps of a ptrace load"

# B: the socket route, random instants.
begin exe
"$golat" attach "$svc_pid" -f "$specs" -d 0.05 >/dev/null 2>&1 || bad "B: the first attach failed"
for ((i = 0, j = 0; i < nB && j < nB * 3; j++)); do
	"$golat" attach "$svc_pid" -f "$specs" -d 0.15 >/dev/null 2>&1 &
	g=$!
	sleep "0.$(printf '%03d' $((RANDOM % 250)))" # a random instant, not a wait
	kill -9 $g 2>/dev/null
	st=0
	wait $g 2>/dev/null || st=$?
	killed $st || continue # it had ended: not a kill
	i=$((i + 1))
	after "B kill $i"
done
end
echo "B ($SECONDS s): $i kills at random instants through the socket"

# C: static attach, window and detach, aimed.
bin=static
begin static
range=$(steps "$golat" attach "$svc_pid" -f "$specs" -d 0.1)
aim C "$nC" "$range" attach PID -f "$specs" -d 0.1
echo "C ($SECONDS s): $aimed kills over the $range steps of a static attach -d"

# D: static, random instants.
for ((i = 0, j = 0; i < nD && j < nD * 3; j++)); do
	"$golat" attach "$svc_pid" -f "$specs" -d 0.1 >/dev/null 2>&1 &
	g=$!
	sleep "0.$(printf '%03d' $((RANDOM % 400)))"
	kill -9 $g 2>/dev/null
	st=0
	wait $g 2>/dev/null || st=$?
	if ! killed $st; then # it had ended (or found hooks a killed golat left: out with them)
		"$golat" detach "$svc_pid" >/dev/null 2>&1
		continue
	fi
	i=$((i + 1))
	after "D kill $i"
done
echo "D ($SECONDS s): $i kills at random instants of a static attach -d"

# E: static detach, aimed: each time hooks put in again first.
hook() { "$golat" attach "$svc_pid" -f "$specs" >/dev/null 2>"$work/g.err" || bad "E: attach: $(cat "$work/g.err")"; }
hook
range=$(steps "$golat" detach "$svc_pid")
before=hook
aim E "$nE" "$range" detach PID
before=:
end
echo "E ($SECONDS s): $aimed kills over the $range steps of a static detach"

# F: golat run of the static service, aimed: each time a fresh one, golat killed at its
# N-th step while it holds the program in runtime.main and hooks it; the program (golat's
# orphan now) must start serving.
run_one() { # N: golat run killed at step N (0: not killed; the service quits by /quit)
	rm -f "$work/run.addr"
	(GOLAT_TEST_DIE_AT=$1 GOLAT_TEST_STEPS=$work/steps "$golat" run -f "$specs" -- "$work/static" \
		>"$work/run.addr" 2>"$work/run.err"; exit $?) 2>/dev/null &
	local g=$! i st=0
	for ((i = 0; i < 400; i++)); do
		[[ -s $work/run.addr ]] && break
		sleep 0.05
	done
	if [[ ! -s $work/run.addr ]]; then
		lost=$((lost + 1))
		bad "F step $1: the service never listened: $(tail -3 "$work/run.err")"
		return 1
	fi
	local url=http://$(head -1 "$work/run.addr")
	if ((${1} > 0)); then
		# Serving, the program is past the hold: golat died at step N (a zombie now),
		# or it did not and waits for the program (then nothing landed).
		if [[ -e /proc/$g/stat && $(awk '{print $3}' "/proc/$g/stat") != Z ]]; then
			curl -sf --max-time 10 "$url/quit" >/dev/null
			wait $g
			return 2
		fi
		wait $g || st=$?
		killed $st || { curl -sf --max-time 10 "$url/quit" >/dev/null; return 2; }
		total=$((total + 1))
	fi
	curl -sf --max-time 10 "$url/hello" >/dev/null && [[ $(curl -sf --max-time 10 "$url/count") -ge 1 ]] ||
		bad "F step $1: the service does not serve after golat run died: $(grep -v '^golat: ' "$work/run.err" | tail -3)"
	curl -sf --max-time 10 "$url/quit" >/dev/null || bad "F step $1: GET /quit failed"
	((${1} > 0)) || wait $g
}
bin=static
run_one 0
range=$(cat "$work/steps" 2>/dev/null || echo 0)
for ((k = 0, landed = 0; landed < nF && k < nF * 3; k++)); do
	N=$((1 + (k * range / nF) % range)) # past the end (a run of fewer steps): around again
	run_one "$N" && landed=$((landed + 1))
done
echo "F ($SECONDS s): $landed kills over the $range steps of golat run's hold"

echo "$total kills, $lost services lost"
((total >= kills * 9 / 10)) || bad "only $total kills of $kills landed"

# What the killed golats and their programs leave behind (a killed golat never removes its
# lock file; golat run's orphans keep their stats files): this test's own go, told by the
# program the stats file names, once that program has ended.
for f in /dev/shm/golat-*.stats "${TMPDIR:-/tmp}"/golat-*.stats; do
	[[ -e $f ]] || continue
	p=${f##*/golat-}
	[[ -d /proc/${p%.stats} ]] && continue
	"$golat" report "$f" 2>/dev/null | head -1 | grep -qF " $work/" || continue
	rm -f "$f" "${f%.stats}.attach" "${f%.stats}.sock"
done
finish
