#!/usr/bin/env bash
# The command line around a program: `golat run -f SPECS -o out.json -- PROG ARGS` gives
# the program's own stdout, stderr lines and exit status and writes out.json; on a live
# program `golat report PID` and `golat top PID -n 2` show the hooked function; `golat run`
# refuses a program that is not Go (/bin/true) with one `golat: ` line and status 1,
# running nothing, and runs a static Go binary (CGO_ENABLED=0) hooked from outside: its
# own stdout and status, and a report counting its calls (tests/static has the rest).
# Usage: cli.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
timing_setup cli "$1"
timing_build "$here/cli"
(cd "$here/cli" && CGO_ENABLED=0 "$go" build -o "$work/static" .) || { echo "FAIL: $gover cannot build a static binary"; exit 1; }

for bin in "${bins[@]}"; do
	prog=$work/$bin
	args=(exit 4 one 'two words' '')
	status=0
	"$prog" "${args[@]}" >"$prog.plain.out" 2>"$prog.plain.err" || status=$?
	[[ $status == 4 ]] || bad "$bin: without golat: status $status, the test expects 4"
	status=0
	"$GOLAT_CLI" run -f 'main.*' -o "$prog.out.json" -- "$prog" "${args[@]}" >"$prog.run.out" 2>"$prog.run.err" ||
		status=$?
	[[ $status == 4 ]] || bad "$bin: golat run: status $status, want 4 as without golat"
	if cmp -s "$prog.plain.out" "$prog.run.out"; then
		ok "$bin: golat run: stdout as without golat: $(cat "$prog.run.out")"
	else
		bad "$bin: golat run: stdout '$(cat "$prog.run.out")', without golat '$(cat "$prog.plain.out")'"
	fi
	[[ $(grep -v '^golat: ' "$prog.run.err") == "$(cat "$prog.plain.err")" ]] ||
		bad "$bin: golat run: the program's stderr changed: $(cat "$prog.run.err")"
	if calls=$(check calls "$prog.out.json" main.handle); then
		if [[ $calls == 20 ]]; then
			ok "$bin: golat run -o out.json: main.handle calls 20"
		else
			bad "$bin: golat run -o out.json: main.handle calls $calls, want 20"
		fi
	else
		bad "$bin: golat run -o out.json: $calls"
	fi

	# A live program: report and top by pid (golat run execs: its pid is the program's);
	# then SIGTERM ends it.
	"$GOLAT_CLI" run -f 'main.*' -- "$prog" live 60 >"$prog.live.out" 2>"$prog.live.err" &
	pid=$!
	if ! wait_for "$(stats_default $pid)" 10; then
		bad "$bin: no stats file $(stats_default $pid) 10 s after golat run: $(cat "$prog.live.err")"
	fi
	handled() {
		"$GOLAT_CLI" report $pid >"$prog.report.txt" 2>&1 && grep -q '^main\.handle .*calls [1-9]' "$prog.report.txt"
	}
	if wait_until 10 handled; then
		ok "$bin: golat report PID: $(grep '^main\.handle ' "$prog.report.txt")"
	else
		bad "$bin: golat report $pid: no 'main.handle ... calls N' line: $(head -5 "$prog.report.txt")"
	fi
	"$GOLAT_CLI" report $pid --json >"$prog.report.json" 2>&1 || bad "$bin: golat report $pid --json failed: $(cat "$prog.report.json")"
	calls=$(check calls "$prog.report.json" main.handle) || bad "$bin: golat report $pid --json: $calls"
	if timeout 20 "$GOLAT_CLI" top $pid -n 2 >"$prog.top.txt" 2>&1; then
		n=$(grep -c '^main\.handle ' "$prog.top.txt" || true)
		if [[ $n == 2 ]]; then
			ok "$bin: golat top PID -n 2: two tables with main.handle"
		else
			bad "$bin: golat top $pid -n 2: main.handle in $n tables, want 2: $(cat "$prog.top.txt")"
		fi
	else
		bad "$bin: golat top $pid -n 2 failed or hung: $(head -5 "$prog.top.txt")"
	fi
	kill -TERM $pid
	status=0
	wait $pid || status=$?
	[[ $status == 143 ]] || bad "$bin: the live program, sent SIGTERM, exited with $status: $(tail -3 "$prog.live.err")"
done

# A static binary: hooked from outside (lib/attach/static.h), the same output and status.
status=0
want=$("$work/static" exit 0 a b 2>/dev/null) || true
out=$("$GOLAT_CLI" run -f 'main.*' -o "$work/static.json" -- "$work/static" exit 0 a b 2>"$work/static.err") || status=$?
calls=$(python3 -c 'import json,sys; print(sum(f["calls"] for f in json.load(open(sys.argv[1]))["functions"] if f["name"] == "main.handle"))' "$work/static.json" 2>/dev/null || echo none)
if [[ $status == 0 && $out == "$want" && $calls =~ ^[1-9][0-9]*$ ]]; then
	ok "golat run -- a static binary: hooked from outside, same output, main.handle $calls calls"
else
	bad "golat run -- $work/static: status $status, stdout '$out' (want '$want'), main.handle calls $calls: $(head -3 "$work/static.err")"
fi

# Refusals: one golat: line, status 1, the command never runs (no output of its own).
for cmd in /bin/true; do
	status=0
	out=$("$GOLAT_CLI" run -f 'main.*' -- "$cmd" exit 0 2>"$work/refuse.err") || status=$?
	err=$(cat "$work/refuse.err")
	if [[ $status == 1 && -z $out && $(wc -l <"$work/refuse.err") == 1 && $err == golat:\ * ]]; then
		ok "golat run -- $cmd refused: $err"
	else
		bad "golat run -- $cmd: status $status (want 1), stdout '$out' (want none), stderr '$err' (want one golat: line)"
	fi
done
finish
