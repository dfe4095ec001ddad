#!/bin/bash
# make-corpus.sh OUTDIR [--all]: a fuzzing seed corpus from what the reader tests built.
#
# Copies every build of prog/ that compare.sh left under $GOLAT_TEST_WORK/reader/go1.*/
# (all variants, all toolchains that ran) as OUTDIR/go1.N-VARIANT, plus damaged copies
# (mutate.py: truncations, corrupted pclntab header and functab, flipped bytes) of the
# cgo exe and the -s -w PIE of the oldest and newest toolchain (of every toolchain
# with --all: a few GB), and the newest toolchain's linux/arm64 builds (-s -w exe,
# damaged too, and cgo PIE) when reader_arm64_go1.N left them. GOLAT_TEST_WORK defaults to the newest build*/testwork of this
# checkout. Prints what it wrote; exits 1 if it found no binaries.
set -u
out=${1:?usage: make-corpus.sh OUTDIR [--all]}
all=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${GOLAT_TEST_WORK:-}" ]; then
	GOLAT_TEST_WORK=$(ls -td "$here"/../../build*/testwork 2>/dev/null | head -1)
fi
src=${GOLAT_TEST_WORK:-/nonexistent}/reader
mkdir -p "$out"
vers=$(ls -d "$src"/go1.* 2>/dev/null | sed 's|.*/||' | sort -t. -k2,2n)
if [ -z "$vers" ]; then
	echo "make-corpus.sh: no builds under $src (run the reader_go* tests first)" >&2
	exit 1
fi
n=0
for v in $vers; do
	for f in "$src/$v"/prog.*; do
		case $f in *.log|*.tmp) continue ;; esac
		[ -f "$f" ] || continue
		cp -f "$f" "$out/$v-${f##*/prog.}"
		n=$((n + 1))
	done
done
oldest=$(echo "$vers" | head -1)
newest=$(echo "$vers" | tail -1)
damage=()
for v in $vers; do
	if [ "$all" = --all ] || [ "$v" = "$oldest" ] || [ "$v" = "$newest" ]; then
		for k in exe pie.sw; do
			[ -f "$out/$v-$k" ] && damage+=("$out/$v-$k")
		done
	fi
done
# linux/arm64 builds (reader_arm64_go1.N), read on any host: the newest toolchain's
# stripped static exe and cgo PIE, the exe damaged too.
arm=$(ls -d "$src"/arm64-go1.* 2>/dev/null | sort -t. -k2,2n | tail -1)
for k in exe.sw cgopie.sw; do
	[ -n "$arm" ] && [ -f "$arm/prog.$k" ] || continue
	cp -f "$arm/prog.$k" "$out/${arm##*/}-$k"
	n=$((n + 1))
	[ "$k" = exe.sw ] && damage+=("$out/${arm##*/}-$k")
done
ref=()
[ -x "$src/ref" ] && ref=(--ref "$src/ref")
m=0
if [ ${#damage[@]} -gt 0 ]; then
	m=$(python3 "$here/mutate.py" "${ref[@]}" --flips 3 "$out" "${damage[@]}" | wc -l)
fi
echo "make-corpus.sh: $n binaries and $m damaged copies in $out ($(du -sh "$out" | cut -f1))"
