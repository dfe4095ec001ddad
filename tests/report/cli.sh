#!/usr/bin/env bash
# golat report / top / run from the outside: the three formats of a synthetic stats
# file (and of the library's own renderer with a skipped list) checked by check.py,
# how a stats file is found (path, pid, none, several; --dir, or /dev/shm and $TMPDIR in
# a /dev/shm of the test's own), and every error path: one "golat: " line and exit 1,
# usage errors exit 2. No check depends on the stats files of other programs.
# Usage: cli.sh MKSTATS   (env GOLAT_CLI, GOLAT_TEST_WORK; GOLAT_GO for the static case)
set -uo pipefail
mkstats=$1
here=$(cd "$(dirname "$0")" && pwd)
golat=${GOLAT_CLI:?GOLAT_CLI is the golat binary}
work=${GOLAT_TEST_WORK:-/tmp}/report-cli
rm -rf "$work" && mkdir -p "$work/tmp" "$work/two"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# expect RC PATTERN CMD...: exit status RC and, for errors, exactly one stderr line
# starting "golat: " (or "usage:" for 2) that matches PATTERN.
expect() {
	local rc=$1 pat=$2
	shift 2
	"$@" >"$work/out" 2>"$work/err"
	local got=$?
	if [[ $got != "$rc" ]]; then
		fail "$* exited $got, want $rc: $(head -c 300 "$work/err")"
		return
	fi
	[[ $rc == 0 || $rc -gt 2 ]] && return
	local lines prefix=golat:
	lines=$(wc -l <"$work/err")
	[[ $rc == 2 ]] && prefix=usage:
	if [[ $lines != 1 ]] || ! grep -q "^$prefix" "$work/err" || ! grep -qE -- "$pat" "$work/err"; then
		fail "$*: stderr should be one '$prefix' line matching '$pat', got: $(cat "$work/err")"
	fi
}

check() { python3 "$here/check.py" "$@" || fails=$((fails + 1)); }

stats=$work/demo.stats
"$mkstats" "$stats" "$work/lib" || { echo "FAIL: mkstats"; exit 1; }

# The library's renderer, as its final report calls it (with a skipped list).
check text "$work/lib.txt" --skipped
check json "$work/lib.json" --skipped
check prom "$work/lib.prom"

# golat report: text by default, each flag, from a path.
for f in text json prom; do
	expect 0 "" "$golat" report "$stats" --$f
	cp "$work/out" "$work/cli.$f"
	check $f "$work/cli.$f"
done
expect 0 "" "$golat" report "$stats"
cmp -s "$work/out" "$work/cli.text" || fail "report without a flag is not the text report"

# By pid: the file is found in $TMPDIR when /dev/shm has none.
cp "$stats" "$work/tmp/golat-999999998.stats"
TMPDIR=$work/tmp expect 0 "" "$golat" report 999999998 --json
check json "$work/out"
# With no argument, the only stats file; two are an error naming both. --dir: only
# there, whatever /dev/shm holds.
cp "$stats" "$work/two/golat-1.stats" && cp "$stats" "$work/two/golat-2.stats"
expect 1 "^golat: 2 stats files, name one \(or a pid\): $work/two/golat-1.stats, $work/two/golat-2.stats$" \
	"$golat" report --dir "$work/two"
expect 0 "" "$golat" report --dir "$work/tmp" --prom
check prom "$work/out"
expect 0 "" "$golat" report --dir "$work/tmp" --dir "$work/tmp/" --json # one directory, one file
check json "$work/out"
expect 1 "^golat: 3 stats files, name one \(or a pid\): $work/tmp/golat-999999998.stats, $work/two/golat-1.stats, " \
	"$golat" report --dir="$work/tmp" --dir "$work/two"
mkdir -p "$work/empty"
expect 1 "^golat: no stats file in $work/empty \(golat-\*\.stats\): name a file or a pid$" \
	"$golat" report --dir "$work/empty"
expect 1 "^golat: --dir $work/missing: No such file or directory$" "$golat" report --dir "$work/missing"
expect 1 "^golat: --dir $stats: not a directory$" "$golat" report --dir "$stats"
expect 2 "" "$golat" report --dir
expect 2 "" "$golat" report "$stats" --dir "$work/tmp"
# Without --dir, /dev/shm and $TMPDIR: in an empty /dev/shm of its own (a user and mount
# namespace), so that no other program's stats file is seen.
private_shm() { unshare -rm sh -c 'mount -t tmpfs tmpfs /dev/shm && exec "$@"' sh "$@"; }
if private_shm true 2>/dev/null; then
	TMPDIR=$work/two expect 1 "^golat: 2 stats files, name one \(or a pid\): $work/two/golat-1.stats, $work/two/golat-2.stats$" \
		private_shm "$golat" report
	TMPDIR=$work/tmp expect 0 "" private_shm "$golat" report --prom
	check prom "$work/out"
	TMPDIR=$work/empty expect 1 "^golat: no stats file in /dev/shm or $work/empty \(golat-\*\.stats\)" \
		private_shm "$golat" report
else
	echo "note: no user namespaces (unshare -rm): the search of /dev/shm and \$TMPDIR is not run"
fi

# Errors.
expect 1 "no stats file for pid 999999999" "$golat" report 999999999
expect 1 "No such file" "$golat" report "$work/missing.stats"
head -c 10000 "$stats" >"$work/short.stats"
expect 1 "truncated" "$golat" report "$work/short.stats"
expect 1 "bad magic" "$golat" report "$golat"
expect 1 "not a regular file" "$golat" report "$work"
expect 2 "" "$golat" report --yaml
expect 2 "" "$golat" report a b

# golat top: a dead program's file renders once and exits 0, whatever -n says.
expect 0 "" "$golat" top -n 3 -d 0.1 "$stats"
[[ $(grep -c '^FUNCTION' "$work/out") == 1 ]] || fail "top on a dead file: $(cat "$work/out")"
grep -qE '^main.handle +1000 +[0-9.]+ +2 +1 +1.00ms +1.00ms +1.00ms +1.00ms +1.00s +1.00s$' "$work/out" ||
	fail "top row: $(cat "$work/out")"
# A live one (this shell's pid, not exited) refreshes -n times, tables apart by a blank line.
"$mkstats" --live $$ "$work/live.stats" || fail "mkstats --live"
expect 0 "" "$golat" top -n 3 -d 0.1 "$work/live.stats"
[[ $(grep -c '^FUNCTION' "$work/out") == 3 && $(grep -c '^$' "$work/out") == 2 ]] ||
	fail "top -n 3 on a live file: $(cat "$work/out")"
expect 2 "" "$golat" top -n 0 "$stats"
expect 2 "" "$golat" top -d x "$stats"
expect 1 "no stats file for pid 999999999" "$golat" top 999999999

# golat run refuses what LD_PRELOAD cannot reach, and says why.
expect 1 "^golat: /bin/true is not a Go program: " "$golat" run -- /bin/true
expect 1 "^golat: no-such-command-golat: command not found" "$golat" run -- no-such-command-golat
expect 1 "^golat: /nonexistent/x: " "$golat" run -- /nonexistent/x
expect 2 "" "$golat" run
expect 2 "" "$golat" run -f
expect 2 "" "$golat" run -s 0 -- /bin/true
expect 2 "" "$golat" run -i -1 -- /bin/true
go=${GOLAT_GO:-/usr/lib/go-1.27/bin/go}
if [[ -x $go ]]; then
	export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod
	# The user's warm build cache (see e2e.sh); one of our own only without a home.
	[[ -n ${GOCACHE:-}${XDG_CACHE_HOME:-}${HOME:-} ]] || export GOCACHE=${GOLAT_TEST_WORK:-/tmp}/report-gocache
	(cd "$here/prog" && CGO_ENABLED=0 "$go" build -o "$work/static" .) || fail "go build static"
	# A static one is hooked from outside with golat-agent.so: without it, golat says
	# so before starting anything (tests/static runs the whole route).
	GOLAT_AGENT=$work/no-agent.so expect 1 "GOLAT_AGENT=$work/no-agent.so: No such file or directory" \
		"$golat" run -f main.work -- "$work/static"
	# A dynamically linked one runs with the environment set and its own exit status
	# (not with a sanitized build: ASan's runtime refuses to come after a preload).
	if [[ $(ldd "$golat" 2>/dev/null) == *libasan* ]]; then
		echo "note: golat is built with ASan: the preload case is not run"
	elif (cd "$here/prog" && CGO_ENABLED=1 "$go" build -o "$work/dynamic" .); then
		LD_PRELOAD=/lib/x.so GOLAT_FUNCS=old PATH=$work:$PATH expect 3 "" \
			"$golat" run -f 'main.work' -o "$work/env.json" -s 4 -i 2 -- dynamic env
		lib=$(sed -n 's/^LD_PRELOAD=//p' "$work/out")
		[[ $lib == /*/libgolat.so:/lib/x.so ]] || fail "LD_PRELOAD=$lib"
		grep -qx 'GOLAT_FUNCS=main.work' "$work/out" && grep -qx "GOLAT_OUTPUT=$work/env.json" "$work/out" &&
			grep -qx 'GOLAT_SAMPLE=4' "$work/out" && grep -qx 'GOLAT_INTERVAL=2' "$work/out" ||
			fail "golat run environment: $(cat "$work/out")"
	else
		fail "go build dynamic"
	fi
else
	echo "note: $go not installed: the static and dynamic Go cases are not run"
fi

if ((fails)); then
	echo "report cli: $fails failures"
	exit 1
fi
echo "report cli: ok"
