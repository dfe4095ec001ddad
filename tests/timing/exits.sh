#!/usr/bin/env bash
# Every exit path writes the report: return from main, os.Exit(3), log.Fatal, an
# unrecovered panic, and death by SIGTERM and SIGINT (Go has no handler for them: it dies
# of the signal through runtime.dieFromSignal). For each, with GOLAT_OUTPUT=FILE.json:
# the report exists, parses and lists the hooked function with its calls; the exit status
# (or the signal) and stdout are what the program gives without golat; the default stats
# file (/dev/shm/golat-<pid>.stats) is gone after a successful report, and one named by
# GOLAT_STATS stays and still renders.
# Usage: exits.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
timing_setup exits "$1"
timing_build "$here/exits"

declare -A want=([return]=0 [exit3]=3 [fatal]=1 [panic]=2 [sigterm]=143 [sigint]=130)
paths=(return exit3 fatal panic sigterm sigint)

# run BIN PATH NAME [ENV...]: runs BIN to exit by PATH with ENV, outputs in $work/NAME.*;
# sets status and pid. A background job of a script starts with SIGINT ignored (and Go
# keeps an ignored SIGINT ignored): env --default-signal gives it back its default.
run() {
	local bin=$1 path=$2 name=$3
	shift 3
	local out=$work/$name
	rm -f "$out".*
	status=0
	case $path in
	sig*)
		env --default-signal=INT,TERM "$@" "$work/$bin" wait "$out.ready" >"$out.out" 2>"$out.err" &
		pid=$!
		if ! wait_for "$out.ready" 10; then
			kill -9 $pid
			bad "$name: the program did not start in 10 s"
		fi
		sleep 0.2
		kill "-${path#sig}" $pid
		wait $pid 2>/dev/null || status=$?
		;;
	*)
		env "$@" "$work/$bin" "$path" >"$out.out" 2>"$out.err" || status=$?
		pid=$(sed -n 's/^pid //p' "$out.out")
		;;
	esac
}

for bin in "${bins[@]}"; do
	for path in "${paths[@]}"; do
		run "$bin" "$path" "$bin.$path.plain"
		plain=$status
		plain_out=$(grep -v '^pid ' "$work/$bin.$path.plain.out" || true)
		if [[ $plain != "${want[$path]}" ]]; then
			bad "$bin $path: without golat the program gives status $plain, the test expects ${want[$path]}"
		fi
		for stats in default named; do
			name=$bin.$path.$stats
			env=(GOLAT_FUNCS='main.step' GOLAT_OUTPUT="$work/$name.json" LD_PRELOAD="$GOLAT_LIB")
			[[ $stats == named ]] && env+=(GOLAT_STATS="$work/$name.stats")
			run "$bin" "$path" "$name" "${env[@]}"
			what="$bin $path (stats $stats)"
			[[ $status == "$plain" ]] || bad "$what: exit status $status under golat, $plain without"
			[[ $(grep -v '^pid ' "$work/$name.out" || true) == "$plain_out" ]] ||
				bad "$what: stdout differs under golat: $(cat "$work/$name.out")"
			case $path in
			fatal) grep -q 'fatal as asked' "$work/$name.err" || bad "$what: log.Fatal's message is gone from stderr" ;;
			panic) grep -q '^panic: panic as asked' "$work/$name.err" || bad "$what: the panic message is gone from stderr" ;;
			esac
			if [[ ! -f $work/$name.json ]]; then
				bad "$what: no report $work/$name.json; golat said: $(grep '^golat: ' "$work/$name.err")"
			elif calls=$(check calls "$work/$name.json" main.step); then
				if [[ $path == sig* ]] && ((calls >= 100)) || [[ $calls == 100 ]]; then
					ok "$what: status $status, report lists main.step with calls $calls"
				else
					bad "$what: report lists main.step with calls $calls, want 100 (at least, when killed)"
				fi
			else
				bad "$what: $calls"
			fi
			if [[ $stats == default ]]; then
				def=$(stats_default "$pid")
				[[ ! -e $def ]] || bad "$what: the default stats file $def is still there"
				grep -q "live stats in $def" "$work/$name.err" ||
					bad "$what: golat did not say it keeps the stats in $def: $(grep '^golat: ' "$work/$name.err")"
			elif [[ ! -f $work/$name.stats ]]; then
				bad "$what: GOLAT_STATS=$work/$name.stats is gone after the report"
			else
				"$GOLAT_CLI" report "$work/$name.stats" --json >"$work/$name.stats.json" 2>&1 ||
					bad "$what: golat report on the kept stats file failed: $(cat "$work/$name.stats.json")"
				calls=$(check calls "$work/$name.stats.json" main.step) ||
					bad "$what: golat report on the kept stats file: $calls"
			fi
		done
	done
done
finish
