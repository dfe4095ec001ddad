# Shared by compare.sh, badinput.sh and make-corpus.sh (sourced, not run).
# Sets: here (this folder), top (work dir of this test area), CLI (the golat command),
# newest_go (the newest installed toolchain, which builds ref/), and the Go environment.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=${GOLAT_TEST_WORK:-${TMPDIR:-/tmp}/golat-testwork}/reader
mkdir -p "$top"

export PYTHONDONTWRITEBYTECODE=1
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=${GOFLAGS:--mod=mod}
# The toolchains are /usr/lib/go-1.N/bin/go; the newest one builds the reference.
newest_go=$(ls -d /usr/lib/go-1.*/bin/go 2>/dev/null | sort -t. -k2,2n | tail -1)

# Go's build cache is keyed by toolchain and inputs, so one cache for all versions
# and all build trees is safe and makes reruns cheap. Fall back to our work dir when
# the user has none (no HOME under some CI).
if [ -z "${GOCACHE:-}" ]; then
	GOCACHE=$(HOME=${HOME:-/nonexistent} "${newest_go:-go}" env GOCACHE 2>/dev/null | head -1)
	case "$GOCACHE" in ""|off|/nonexistent*) GOCACHE=$top/gocache ;; esac
	export GOCACHE
fi

find_cli() {
	CLI=${GOLAT_CLI:-}
	if [ -z "$CLI" ]; then
		CLI=$(ls -t "$here"/../../build*/tools/golat 2>/dev/null | head -1)
	fi
	if [ -z "$CLI" ] || [ ! -x "$CLI" ]; then
		echo "FAIL: the golat command is not built (set GOLAT_CLI; got '${CLI}')"
		exit 1
	fi
}

# fresh FILE SOURCE...: FILE is an executable and nothing in SOURCE... (files, folders)
# is newer.
fresh() {
	local f=$1
	shift
	[ -x "$f" ] && [ -z "$(find "$@" -newer "$f" -print -quit)" ]
}

# take FILE OUT GO: copies FILE, prog/ as GO linked it in another test (this tree's
# reader_go1.N or GOLAT_READER_BINS), to OUT when it is newer than prog/ and GO.
take() {
	fresh "$1" "$here/prog" "$(readlink -f "$3")" && cp -f "$1" "$2.tmp" && mv -f "$2.tmp" "$2"
}

# build_ref: builds ref/ with the newest toolchain into $top/ref (atomically: the
# tests of several toolchains run in parallel and all use it), unless it is there and
# newer than ref/'s sources and the toolchain.
build_ref() {
	if [ -z "$newest_go" ]; then
		echo "SKIP: no Go toolchain installed under /usr/lib/go-1.*"
		exit 77
	fi
	# Built once per work dir: the tests of all toolchains use the same one.
	if fresh "$top/ref" "$here/ref" "$(readlink -f "$newest_go")"; then
		return 0
	fi
	local tmp="$top/ref.tmp.$$"
	if ! (cd "$here/ref" && "$newest_go" build -o "$tmp" .) >"$tmp.log" 2>&1; then
		echo "FAIL: building ref/ with $newest_go:"
		cat "$tmp.log"
		rm -f "$tmp.log"
		rm -f "$tmp"
		exit 1
	fi
	rm -f "$tmp.log"
	mv -f "$tmp" "$top/ref"
}

# toolchain GO [PREFIX]: the start of a comparison test of toolchain GO
# (/usr/lib/go-1.N/bin/go): sets go, ver (go1.N), CLI and work ($top/PREFIX$ver), and
# builds ref/; exits 77 (CTest: skipped) when GO is not installed.
toolchain() {
	go=$1
	ver=$(echo "$go" | sed -n 's|.*/go-\(1\.[0-9]*\)/.*|go\1|p')
	ver=${ver:-$go}
	if [ ! -x "$go" ]; then
		echo "SKIP: $ver not installed"
		exit 77
	fi
	find_cli
	work=$top/${2:-}$ver
	mkdir -p "$work"
	build_ref
}

# gobuild GO OUTPUT [go build flags...]: builds prog/ (CGO_ENABLED from the caller).
gobuild() {
	local go=$1 out=$2
	shift 2
	if ! (cd "$here/prog" && "$go" build "$@" -o "$out.tmp" .) >"$out.log" 2>&1; then
		echo "FAIL: $(basename "$out"): CGO_ENABLED=${CGO_ENABLED:-} go build $*:"
		cat "$out.log"
		return 1
	fi
	mv -f "$out.tmp" "$out"
}
