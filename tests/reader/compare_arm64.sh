#!/bin/bash
# compare_arm64.sh GO_BINARY [READER_PCLINE]: the reader conformance test for linux/arm64 binaries of one
# Go toolchain, read on this host (x86-64 or not: nothing of the arm64 code runs).
#
# Cross-builds prog/ with GOARCH=arm64 and compares `golat list --json` and `golat info
# --json` with ref/ run on the host (debug/elf, debug/gosym, debug/buildinfo, debug/dwarf
# reading the arm64 file), through the same check.py as compare.sh:
#   exe     CGO_ENABLED=0: internally linked, static
#   pie     CGO_ENABLED=0 -buildmode=pie: internally linked, a loader but no library
#   cgopie  cgo -buildmode=pie through aarch64-linux-gnu-gcc: externally linked, the
#           production shape; built only when that cross compiler is installed
# and for each BASE.strip (`strip` copy) and BASE.sw (-ldflags='-s -w'). The functions
# (name, entry, end), the pclntab, its PC quantum (4), the text start, the Go version,
# the g field offsets (against DWARF) and where g lives (R28, no TLS slot) must agree.
# Exit 77 (CTest: skipped) when the toolchain is not installed.
set -u
. "$(dirname "$0")/common.sh"
toolchain "${1:?usage: compare_arm64.sh /usr/lib/go-1.N/bin/go}" arm64-
pcline=${2:-} # tests/reader/pcline.c, built: the source positions are checked with it
export GOARCH=arm64

# A strip that reads arm64 ELF files: the cross binutils (beside the cross compiler),
# or LLVM's, which reads every target; the host's binutils read only their own.
strip=$(command -v aarch64-linux-gnu-strip || command -v llvm-strip || true)
[ -n "$strip" ] || echo "note: no aarch64-linux-gnu-strip nor llvm-strip: no .strip variants"

t0=$(date +%s)
variants=()
fails=0
b() { # b VARIANT CGO [flags...]
	local v=$1 cgo=$2
	shift 2
	if ! fresh "$work/prog.$v" "$here/prog" "$(readlink -f "$go")" &&
		! CGO_ENABLED=$cgo gobuild "$go" "$work/prog.$v" "$@"; then
		fails=$((fails + 1))
		return
	fi
	variants+=("$v")
	case $v in *.*) ;; *)
		if [ -n "$strip" ] && "$strip" -o "$work/prog.$v.strip" "$work/prog.$v"; then
			variants+=("$v.strip")
		fi ;;
	esac
}
b exe 0
b exe.sw 0 -ldflags=-s\ -w
b pie 0 -buildmode=pie
b pie.sw 0 -buildmode=pie -ldflags=-s\ -w
if command -v aarch64-linux-gnu-gcc >/dev/null; then
	export CC=aarch64-linux-gnu-gcc
	b cgopie 1 -buildmode=pie
	b cgopie.sw 1 -buildmode=pie -ldflags=-s\ -w
else
	echo "note: no aarch64-linux-gnu-gcc (deps.sh installs it): the cgo PIE variant is not built"
fi
# The builds must be arm64 programs: the static one runs under qemu-user when installed.
if command -v qemu-aarch64 >/dev/null && [ -x "$work/prog.exe" ]; then
	if ! out=$(timeout 60 qemu-aarch64 "$work/prog.exe" 2>&1) || [ -z "$out" ]; then
		echo "FAIL: prog.exe does not run under qemu-aarch64: $out"
		fails=$((fails + 1))
	fi
fi
echo "$ver arm64: built ${#variants[@]} variants in $(($(date +%s) - t0)) s: ${variants[*]}"

# `golat run` refuses an arm64 program by name, at once (this golat's libgolat.so and
# agent are x86-64): the static one and the cgo PIE, which binfmt_misc would run.
for v in exe cgopie; do
	[ -x "$work/prog.$v" ] || continue
	rc=0
	out=$(timeout 30 "$CLI" run "$work/prog.$v" 2>&1) || rc=$?
	if [ "$rc" -ne 1 ] || [[ $out != *"is a linux/arm64 program: this golat hooks linux/amd64 programs"* ]]; then
		echo "FAIL: golat run prog.$v: exit $rc, '$out' (want 1 and the refusal)"
		fails=$((fails + 1))
	else
		echo "ok: golat run prog.$v refused: $out"
	fi
done

python3 "$here/check.py" --cli "$CLI" --ref "$top/ref" --go "$go" --work "$work" ${pcline:+--pcline "$pcline"} \
	--specs-on exe.strip "${variants[@]}" || fails=$((fails + 1))
echo "$ver arm64: done in $(($(date +%s) - t0)) s"
[ "$fails" -eq 0 ]
