#!/usr/bin/env bash
# Bad settings never break the program: GOLAT_SAMPLE=abc/0/-5, GOLAT_INTERVAL=abc/-1,
# GOLAT_OUTPUT in a missing or read-only directory, GOLAT_STATS in a missing directory or
# at a symbolic link (never followed: its target stays untouched), GOLAT_LOG=loud, and
# GOLAT_FUNCS matching nothing. Each gives a `golat: ` line naming the variable; the
# program's stdout and exit status are unchanged; the report is still written (to
# stderr when GOLAT_OUTPUT cannot be). A program that is not Go (/bin/true) stays silent
# and untouched whatever is set.
# Usage: badinput.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
timing_setup badinput "$1"
timing_build "$here/badinput"

# A directory the program cannot write to. root writes through mode bits: then a
# read-only tmpfs mounted in a private mount namespace (unshare), seen only by the run.
rodir=$work/readonly
mkdir -p "$rodir"
ro_prefix=()
if ((EUID != 0)); then
	chmod 555 "$rodir"
elif unshare -m --propagation private true 2>/dev/null; then
	# shellcheck disable=SC2016 # $0 and $@ are the inner sh's
	ro_prefix=(unshare -m --propagation private sh -c 'mount -t tmpfs -o ro,size=64k golat-ro "$0" && exec "$@"' "$rodir")
else
	rodir=
fi

# expect BIN NAME VAR REPORT [ENV...]: runs BIN with golat and ENV; wants a golat: line
# naming VAR, stdout and status as without golat, every stderr line golat's, and the
# report: REPORT is "json" ($work/NAME.json lists main.work), "stderr" (a text report on
# stderr) or "none".
expect() {
	local bin=$1 name=$2 var=$3 report=$4
	shift 4
	local out=$work/$bin.$name status=0 pre=()
	[[ $name == readonly* ]] && pre=("${ro_prefix[@]}")
	"${pre[@]}" env GOLAT_FUNCS=main.work LD_PRELOAD="$GOLAT_LIB" "$@" "$work/$bin" >"$out.out" 2>"$out.err" ||
		status=$?
	local what="$bin $name ($*)"
	[[ $status == 5 ]] || bad "$what: exit status $status, want 5 (as without golat)"
	[[ $(cat "$out.out") == "$plain" ]] || bad "$what: stdout '$(cat "$out.out")', want '$plain'"
	# A text report on stderr has lines of its own after its "golat: pid" header.
	if [[ $report != stderr ]] && grep -v '^golat: ' "$out.err" | grep -q .; then
		bad "$what: stderr lines that are not golat's: $(grep -v '^golat: ' "$out.err" | head -3)"
	fi
	if grep -q "^golat: .*$var" "$out.err"; then
		ok "$what: $(grep -m1 "^golat: .*$var" "$out.err")"
	else
		bad "$what: no golat: line naming $var; golat said: $(grep '^golat: ' "$out.err" | grep -v ' calls ')"
	fi
	case $report in
	json)
		if calls=$(check calls "$work/$bin.$name.json" main.work); then
			[[ $calls == 50 ]] || bad "$what: report: main.work calls $calls, want 50"
		else
			bad "$what: $calls"
		fi
		;;
	stderr)
		grep -q '^main\.work .*calls 50 ' "$out.err" ||
			bad "$what: no text report on stderr ('main.work ... calls 50'): $(cat "$out.err")"
		;;
	esac
}

for bin in "${bins[@]}"; do
	plain=$("$work/$bin") && status=0 || status=$?
	[[ $status == 5 ]] || bad "$bin: without golat: status $status, the test expects 5"
	for v in abc 0 -5; do
		expect "$bin" "sample$v" GOLAT_SAMPLE json GOLAT_SAMPLE="$v" GOLAT_OUTPUT="$work/$bin.sample$v.json"
		t=$(check field "$work/$bin.sample$v.json" main.work timed) || true
		[[ $t == 50 ]] || bad "$bin: GOLAT_SAMPLE=$v: timed $t, want 50 (every call, the default)"
	done
	for v in abc -1; do
		expect "$bin" "interval$v" GOLAT_INTERVAL json GOLAT_INTERVAL="$v" GOLAT_OUTPUT="$work/$bin.interval$v.json"
	done
	expect "$bin" outmissing GOLAT_OUTPUT stderr GOLAT_OUTPUT="$work/no/such/dir/r.json"
	if [[ -n $rodir ]]; then
		expect "$bin" readonly GOLAT_OUTPUT stderr GOLAT_OUTPUT="$rodir/r.json"
		[[ ! -e $rodir/r.json ]] || bad "$bin: a report appeared in the read-only directory"
	else
		echo "note: no read-only directory available (root, no unshare): case skipped"
	fi
	expect "$bin" statsmissing GOLAT_STATS json GOLAT_STATS="$work/no/such/dir/x.stats" \
		GOLAT_OUTPUT="$work/$bin.statsmissing.json"
	# A symlink to a file that must keep its content, and one to a file that must not appear.
	echo precious >"$work/target"
	ln -sfn "$work/target" "$work/link.stats"
	expect "$bin" statslink GOLAT_STATS json GOLAT_STATS="$work/link.stats" GOLAT_OUTPUT="$work/$bin.statslink.json"
	[[ $(cat "$work/target") == precious ]] || bad "$bin: GOLAT_STATS symlink was followed: its target now holds $(head -c 80 "$work/target" | od -c | head -2)"
	[[ -L $work/link.stats ]] || bad "$bin: the GOLAT_STATS symlink was replaced"
	rm -f "$work/absent"
	ln -sfn "$work/absent" "$work/dangling.stats"
	expect "$bin" statsdangling GOLAT_STATS json GOLAT_STATS="$work/dangling.stats" \
		GOLAT_OUTPUT="$work/$bin.statsdangling.json"
	[[ ! -e $work/absent ]] || bad "$bin: a dangling GOLAT_STATS symlink was followed: $work/absent was created"
	expect "$bin" logloud GOLAT_LOG stderr GOLAT_LOG=loud
	expect "$bin" nomatch "GOLAT_FUNCS: 'main.nosuch'" none GOLAT_FUNCS=main.nosuch GOLAT_OUTPUT="$work/$bin.nomatch.json"
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(not any(s.get("spec") == "main.nosuch" for s in r["skipped"]))' \
		"$work/$bin.nomatch.json" || bad "$bin: GOLAT_FUNCS=main.nosuch: the report does not list it as skipped: $(cat "$work/$bin.nomatch.json")"
done

# Not Go: no output, no files, same status, with good settings and with bad ones.
for set in good bad; do
	if [[ $set == good ]]; then
		env=(GOLAT_SAMPLE=10 GOLAT_INTERVAL=0.5 GOLAT_LOG=debug)
	else
		env=(GOLAT_SAMPLE=abc GOLAT_INTERVAL=-1 GOLAT_LOG=loud)
	fi
	status=0
	out=$(env GOLAT_FUNCS='main.*' GOLAT_OUTPUT="$work/true.json" GOLAT_STATS="$work/true.stats" \
		"${env[@]}" LD_PRELOAD="$GOLAT_LIB" /bin/true 2>&1) || status=$?
	[[ $status == 0 ]] || bad "/bin/true ($set settings): status $status"
	if [[ -n $out ]]; then
		bad "/bin/true with every GOLAT_ variable set ($set settings: ${env[*]}) printed: $out"
	else
		ok "/bin/true with every GOLAT_ variable set ($set settings): silent"
	fi
	[[ ! -e $work/true.json && ! -e $work/true.stats ]] || bad "/bin/true ($set settings) left files: $(ls "$work"/true.*)"
	rm -f "$work"/true.*
done
finish
