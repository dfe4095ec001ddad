#!/bin/bash
# badinput.sh: golat refuses bad input cleanly (one `golat: ` line, exit 1..123, within
# 10 s, no sanitizer report): missing file, directory, zero-length file, /dev/null, a
# symlink loop, a FIFO, non-ELF and non-Go ELF files, and damaged copies of real Go
# binaries (mutate.py: truncations, corrupted pclntab header, flipped bytes).
# The Go binaries come from the oldest and the newest installed toolchain: a cgo exe
# (pclntab in .gopclntab), a stripped PIE and a -s -w PIE (pclntab found by scanning;
# go1.19 PIE has no .gopclntab, go1.26+ has no textStart in the header).
set -u
. "$(dirname "$0")/common.sh"
find_cli
build_ref
work=$top/badinput
mkdir -p "$work"
oldest_go=$(ls -d /usr/lib/go-1.*/bin/go 2>/dev/null | sort -t. -k2,2n | head -1)
bins=()
for go in $oldest_go $newest_go; do
	v=$(echo "$go" | sed -n 's|.*/go-\(1\.[0-9]*\)/.*|go\1|p')
	CGO_ENABLED=1 gobuild "$go" "$work/$v.exe" || exit 1
	CGO_ENABLED=1 gobuild "$go" "$work/$v.pie" -buildmode=pie || exit 1
	CGO_ENABLED=1 gobuild "$go" "$work/$v.pie.sw" -buildmode=pie -ldflags=-s\ -w || exit 1
	strip -o "$work/$v.pie.strip" "$work/$v.pie" || exit 1
	bins+=("$work/$v.exe" "$work/$v.pie.strip" "$work/$v.pie.sw")
	[ "$oldest_go" = "$newest_go" ] && break
done
exec python3 "$here/badinput.py" --cli "$CLI" --ref "$top/ref" --work "$work" "${bins[@]}"
