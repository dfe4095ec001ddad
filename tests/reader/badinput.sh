#!/bin/bash
# badinput.sh: golat refuses bad input cleanly (one `golat: ` line, exit 1..123, within
# 10 s, no sanitizer report): missing file, directory, zero-length file, /dev/null, a
# symlink loop, a FIFO, non-ELF and non-Go ELF files, and damaged copies of real Go
# binaries (mutate.py: truncations, corrupted pclntab header, flipped bytes).
# The Go binaries come from the oldest and the newest installed toolchain: a cgo exe
# (pclntab in .gopclntab), a stripped PIE and a -s -w PIE (pclntab found by scanning;
# go1.19 PIE has no .gopclntab, go1.26+ has no textStart in the header), and the
# newest toolchain's linux/arm64 -s -w exe when reader_arm64_go1.N left one.
set -u
. "$(dirname "$0")/common.sh"
find_cli
build_ref
work=$top/badinput
mkdir -p "$work"
oldest_go=$(ls -d /usr/lib/go-1.*/bin/go 2>/dev/null | sort -t. -k2,2n | head -1)
bins=()
# b GO VER VARIANT [flags...]: prog/ as compare.sh builds VARIANT, taken from reader_go1.N
# of GOLAT_READER_BINS or of this tree when fresh there (the same link), else built.
b() {
	local go=$1 v=$2 var=$3
	shift 3
	take "${GOLAT_READER_BINS:-/nonexistent}/$v/prog.$var" "$work/$v.$var" "$go" ||
		take "$top/$v/prog.$var" "$work/$v.$var" "$go" ||
		CGO_ENABLED=1 gobuild "$go" "$work/$v.$var" "$@"
}
for go in $oldest_go $newest_go; do
	v=$(echo "$go" | sed -n 's|.*/go-\(1\.[0-9]*\)/.*|go\1|p')
	b "$go" "$v" exe || exit 1
	b "$go" "$v" pie -buildmode=pie || exit 1
	b "$go" "$v" pie.sw -buildmode=pie -ldflags=-s\ -w || exit 1
	strip -o "$work/$v.pie.strip" "$work/$v.pie" || exit 1
	bins+=("$work/$v.exe" "$work/$v.pie.strip" "$work/$v.pie.sw")
	[ "$oldest_go" = "$newest_go" ] && break
done
# And a linux/arm64 -s -w exe (pclntab quantum 4, AARCH64 relocations) as
# reader_arm64_go1.N of the newest toolchain linked it, when it ran first.
v=$(echo "$newest_go" | sed -n 's|.*/go-\(1\.[0-9]*\)/.*|go\1|p')
if take "$top/arm64-$v/prog.exe.sw" "$work/arm64-$v.exe.sw" "$newest_go"; then
	bins+=("$work/arm64-$v.exe.sw")
else
	echo "note: no fresh arm64 build from reader_arm64_$v: no arm64 input"
fi
exec python3 "$here/badinput.py" --cli "$CLI" --ref "$top/ref" --work "$work" "${bins[@]}"
