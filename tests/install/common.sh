# Shared by the install tests (sourced, not run): the checks made on an installed golat,
# whether installed by `cmake --install` (tree.sh) or by dpkg (deb.sh). Provides:
#   bad MSG / ok MSG / finish NAME a failed check (fail counts them) / a passed one / the
#                                  verdict, as the exit status
#   words TEXT                     TEXT's lines joined by spaces
#   newest_go                      go: the newest /usr/lib/go-1.N/bin/go, or exit 77
#   check_run GOLAT LIB            the installed GOLAT runs tests/install/prog (built with
#                                  $go) without GOLAT_LIB: LIB (a path) must be what it
#                                  preloads, the exit status and the report the program's
#   check_man PAGE...              man-db renders each page without a warning, and no
#                                  @VARIABLE@ is left unreplaced
#   check_attach_pc PCDIR [ARGS]   links attach.c with pkg-config (PCDIR, ARGS for
#                                  pkg-config) and runs it with nothing in the environment
#                                  to find libgolat.so
#   check_completion FILE GOLAT    the bash completion completes each verb of GOLAT --help
# Env: GOLAT_TEST_WORK; work (the test's directory) must be set before the checks.
# shellcheck shell=bash disable=SC2154  # work: set by the sourcing script

fail=0
bad() {
	echo "FAIL: $*"
	fail=$((fail + 1))
}
ok() { echo "ok: $*"; }
words() { tr '\n' ' ' <<<"$1" | sed 's/ *$//'; }
finish() {
	((fail == 0)) || exit 1
	echo "$1: all checks passed"
	exit 0
}
install_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The library must be found from the installed golat alone.
unset GOLAT_LIB

newest_go() {
	go=$(printf '%s\n' /usr/lib/go-1.*/bin/go | grep -v '\*' | sort -V | tail -n 1)
	if [[ -z $go ]]; then
		echo "SKIP: no Go toolchain in /usr/lib/go-1.N"
		exit 77
	fi
	export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=1
}

check_run() {
	local golat=$1 lib=$2 prog=$work/prog rc=0 f0=$fail
	[[ -x $prog ]] || (cd "$install_here/prog" && "$go" build -o "$prog" .) ||
		{ bad "cannot build the test program with $go"; return; }
	"$golat" run -f 'main.work' -o "$work/report.json" -- "$prog" >"$work/run.out" 2>"$work/run.err" || rc=$?
	[[ $rc == 7 ]] || bad "golat run exited $rc, the program exits 7: $(cat "$work/run.err")"
	grep -qx "LD_PRELOAD=$(realpath "$lib")" "$work/run.out" ||
		bad "golat run did not preload $lib: $(grep LD_PRELOAD "$work/run.out") $(cat "$work/run.err")"
	grep -q 'hooked 1 of 1 selected functions' "$work/run.err" || bad "no golat: summary line: $(cat "$work/run.err")"
	python3 - "$work/report.json" <<-'PY' || bad "the JSON report is not the program's: $(head -c 600 "$work/report.json")"
		import json, sys
		d = json.load(open(sys.argv[1]))
		f = {x["name"]: x for x in d["functions"]}
		assert set(f) == {"main.work"}, f.keys()
		assert f["main.work"]["calls"] == 1000 and f["main.work"]["timed"] == 1000, f["main.work"]
	PY
	# The text report on stderr, without -o.
	rc=0
	"$golat" run -f 'main.work' "$prog" >/dev/null 2>"$work/run2.err" || rc=$?
	[[ $rc == 7 ]] || bad "golat run (text report) exited $rc: $(cat "$work/run2.err")"
	grep -qE '^main\.work +calls 1000 ' "$work/run2.err" || bad "no text report on stderr: $(cat "$work/run2.err")"
	if ((fail == f0)); then ok "$golat run: preloads $lib, report and exit status of the program"; fi
}

check_man() {
	local page err
	for page in "$@"; do
		[[ -f $page ]] || { bad "$page is not installed"; continue; }
		# As lintian renders pages: warnings on, UTF-8, 80 columns.
		if ! err=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null); then
			bad "man -l $page failed: $err"
		elif [[ -n $err ]]; then
			bad "man -l $page: $err"
		else
			ok "man -l ${page##*/}: no warnings"
		fi
		if grep -n '@[A-Z_]*@' "$page"; then bad "$page: a variable left unreplaced"; fi
	done
}

check_attach_pc() {
	local pcdir=$1 flags
	shift
	flags=$(PKG_CONFIG_PATH=$pcdir pkg-config "$@" --cflags --libs golat) || { bad "pkg-config golat failed"; return; }
	# shellcheck disable=SC2086  # flags is a list of words
	if ! cc -Wall -Wextra -Werror -o "$work/attach" "$install_here/attach.c" $flags 2>"$work/attach.err"; then
		bad "cannot link attach.c with $flags: $(cat "$work/attach.err")"
		return
	fi
	local out
	if out=$(env -u LD_PRELOAD -u LD_LIBRARY_PATH "$work/attach" 2>&1); then
		ok "attach.c linked with pkg-config ($flags): $out"
	else
		bad "attach.c linked with $flags: $out"
	fi
}

# The verbs `golat --help` lists.
help_verbs() {
	"$1" --help | sed -nE 's/^(usage:)? +golat ([a-z]+).*/\2/p' | sort -u
}

check_completion() {
	local file=$1 golat=$2 got want f0=$fail
	want=$(help_verbs "$golat")
	got=$(bash -c 'source "$1"; COMP_WORDS=(golat ""); COMP_CWORD=1; _golat; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$file" | sort -u)
	[[ -n $want && $got == "$want" ]] || bad "completion offers '$(words "$got")', golat --help lists '$(words "$want")'"
	got=$(bash -c 'source "$1"; COMP_WORDS=(golat report --j); COMP_CWORD=2; _golat; echo "${COMPREPLY[*]}"' _ "$file")
	[[ $got == --json ]] || bad "completion of 'golat report --j' is '$got'"
	if ((fail == f0)); then ok "bash completion: every verb, and the options of a verb"; fi
}
