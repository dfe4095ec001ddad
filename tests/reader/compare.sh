#!/bin/bash
# compare.sh GO_BINARY [READER_PCLINE]: the reader conformance test for one Go toolchain.
#
# Builds prog/ with GO_BINARY (/usr/lib/go-1.N/bin/go) in several ways, runs
# `golat list --json` and `golat info --json` on each build and compares them with
# ref/ (the Go standard library's reading of the same binary), see check.py:
#   exe      cgo, dynamically linked (the usual production shape)
#   pie      cgo, -buildmode=pie (externally linked: pclntab may lose its section)
#   static   CGO_ENABLED=0: internally linked, static, no runtime.tlsg
#   xstatic  cgo linked with -extldflags=-static: glibc's TLS moves g off -8(FS)
# and for each: BASE.strip (`strip` copy: golat on it must match ref on BASE) and
# BASE.sw (rebuilt with -ldflags='-s -w'; xstatic has none, nobody ships that).
# Exit 77 (CTest: skipped) when the toolchain is not installed.
set -u
. "$(dirname "$0")/common.sh"
toolchain "${1:?usage: compare.sh /usr/lib/go-1.N/bin/go}"
pcline=${2:-} # tests/reader/pcline.c, built: the source positions are checked with it

# GOLAT_READER_BINS: another build tree's reader work dir (tests/run.sh passes build/'s
# to the ASan stage): the same prog/ linked by the same toolchain moments before, so its
# binaries are taken instead of linking the 11 variants again. Taken only when newer than
# prog/'s sources and the toolchain; anything else (run alone, a stale or missing file)
# is built here as before.
reuse=""
if [ -n "${GOLAT_READER_BINS:-}" ] && [ -d "$GOLAT_READER_BINS/$ver" ] &&
	[ "$(cd "$GOLAT_READER_BINS/$ver" && pwd -P)" != "$(cd "$work" && pwd -P)" ]; then
	reuse=$GOLAT_READER_BINS/$ver
fi
t0=$(date +%s)
variants=()
fails=0
reused=0
b() { # b VARIANT CGO [flags...]
	local v=$1 cgo=$2
	shift 2
	if [ -n "$reuse" ] && take "$reuse/prog.$v" "$work/prog.$v" "$go"; then
		reused=$((reused + 1))
	elif ! CGO_ENABLED=$cgo gobuild "$go" "$work/prog.$v" "$@"; then
		fails=$((fails + 1))
		return
	fi
	variants+=("$v")
	case $v in *.*) ;; *)
		if strip -o "$work/prog.$v.strip" "$work/prog.$v"; then variants+=("$v.strip"); fi ;;
	esac
}
b exe 1
b exe.sw 1 -ldflags=-s\ -w
b pie 1 -buildmode=pie
b pie.sw 1 -buildmode=pie -ldflags=-s\ -w
b static 0
b static.sw 0 -ldflags=-s\ -w
if [ -e /usr/lib/x86_64-linux-gnu/libc.a ] || [ -e /usr/lib64/libc.a ] || [ -e /usr/lib/libc.a ]; then
	b xstatic 1 "-ldflags=-linkmode=external -extldflags=-static"
else
	echo "note: no static libc (libc.a): xstatic variant not built"
fi
# The builds must really be programs: run them once.
for v in exe pie static xstatic; do
	[ -x "$work/prog.$v" ] || continue
	if ! out=$(timeout 20 "$work/prog.$v" 2>&1) || [ -z "$out" ]; then
		echo "FAIL: prog.$v does not run: $out"
		fails=$((fails + 1))
	fi
done
[ -z "$reuse" ] || echo "$ver: $reused of the builds taken from $reuse"
echo "$ver: built ${#variants[@]} variants in $(($(date +%s) - t0)) s: ${variants[*]}"

python3 "$here/check.py" --cli "$CLI" --ref "$top/ref" --go "$go" --work "$work" ${pcline:+--pcline "$pcline"} \
	--specs-on exe --specs-on pie.strip "${variants[@]}" || fails=$((fails + 1))
echo "$ver: done in $(($(date +%s) - t0)) s"
[ "$fails" -eq 0 ]
