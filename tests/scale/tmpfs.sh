#!/usr/bin/env bash
# Never crash the host for want of space. The live stats file (GOLAT_STATS) on a small
# tmpfs mounted for the test; the program: 1,000 hooked functions x 64 threads (goroutines
# locked to OS threads of their own) x 10 calls, exit status 3; the report (GOLAT_OUTPUT) to
# a file on the test's work directory.
#   256k  a 256 KiB tmpfs: the program runs to its end with the stdout, stderr (golat's
#         lines aside) and exit status it has without golat; golat says so in exactly one
#         line 'golat: ... cannot reserve ...' (case-insensitive); the JSON report is
#         written.
#   64m   a 64 MiB tmpfs, the size Docker gives /dev/shm: golat never fills it by itself,
#         so everything is recorded: exact counts, in_flight 0, timed == calls, "lost" 0,
#         no "cannot reserve" line, at most 32 MiB allocated to the stats file; and the
#         program's output and exit status are unchanged.
#   64m-full  the same 64 MiB tmpfs with all but 256 KiB of it taken by another file (what
#         other programs of a container can do to its /dev/shm): as for 256k.
# Mounting needs root: without it, or when mount fails, the test is skipped (exit 77). The
# tmpfs is always unmounted on exit.
# Usage: tmpfs.sh /usr/lib/go-1.N/bin/go   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
scale_setup tmpfs "$1"
if [[ $(id -u) != 0 ]]; then
	echo "SKIP: mounting a tmpfs needs root"
	exit 77
fi
mnt=$(mktemp -d)
unmount() {
	if mountpoint -q "$mnt"; then umount "$mnt" || umount -l "$mnt"; fi
}
trap 'kill $(jobs -p) 2>/dev/null || true; unmount || true; rmdir "$mnt" 2>/dev/null || true' EXIT
trap 'exit 143' TERM INT
mount_tmpfs() { # SIZE
	unmount
	if ! mount -t tmpfs -o "size=$1,mode=0700" tmpfs "$mnt" 2>"$work/mount.err"; then
		echo "SKIP: cannot mount a tmpfs: $(cat "$work/mount.err")"
		exit 77
	fi
}
mount_tmpfs 256k # before building: skip early where mounting is not allowed

funcs=1000 threads=64 rounds=10
max_stats=$((32 << 20))
build_many $funcs
args=(-funcs "$funcs" -threads "$threads" -rounds "$rounds" -exit 3)
spec=$(spec_funcs $funcs)
run base "$work/many" "${args[@]}"
echo "without golat: exit status $(cat "$work/base.rc"), $(wc -c <"$work/base.out") bytes of stdout"

hooked() { # NAME: the program with its stats on the tmpfs
	local t=$SECONDS alloc
	run "$1" env LD_PRELOAD="$GOLAT_LIB" GOLAT_FUNCS="$spec" GOLAT_STATS="$mnt/golat.stats" \
		GOLAT_OUTPUT="$work/$1.json" "$work/many" "${args[@]}"
	alloc=$(allocated "$mnt/golat.stats")
	((alloc < 0)) && alloc="no stats file" || alloc="stats file allocated $(mib "$alloc") MiB"
	echo "$1: ran in $((SECONDS - t))s, exit status $(cat "$work/$1.rc");" \
		"tmpfs $(df -k --output=used,size "$mnt" | tail -1 | awk '{print $1 " of " $2}') KiB used;" \
		"$alloc; golat said:"
	grep '^golat: ' "$work/$1.err" | cut -c1-300 | sed 's/^/  /' || true
}

short_of_space() { # NAME: runs on, one "cannot reserve" line, a report
	local name=$1 n
	same_as base "$name"
	n=$(reserve_lines "$name")
	if ((n == 1)); then
		ok "$name: one line: $(grep -iE 'golat: .*cannot reserve' "$work/$name.err" | cut -c1-200)"
	else
		bad "$name: $n lines 'golat: ... cannot reserve' on stderr (want exactly 1)"
	fi
	if [[ ! -s $work/$name.json ]]; then
		bad "$name: no report in $work/$name.json"
	elif check summary "$work/$name.json"; then
		ok "$name: the report was written"
	else
		bad "$name: the report is not a JSON report"
	fi
}

echo "== 256k: a 256 KiB tmpfs"
hooked 256k
short_of_space 256k

echo "== 64m: a 64 MiB tmpfs"
mount_tmpfs 64m
hooked 64m
same_as base 64m
n=$(reserve_lines 64m)
((n == 0)) || bad "64m: golat said it cannot reserve space on a 64 MiB tmpfs ($n lines)"
alloc=$(allocated "$mnt/golat.stats")
if ((alloc > max_stats)); then
	bad "64m: stats file allocated $(mib "$alloc") MiB (want <= $(mib $max_stats) MiB)"
elif ((alloc >= 0)); then
	ok "64m: stats file allocated $(mib "$alloc") MiB (want <= $(mib $max_stats) MiB)"
fi
echo "counts ($funcs functions x $threads threads x $rounds rounds):"
if [[ ! -s $work/64m.json ]]; then
	bad "64m: no report in $work/64m.json"
elif ! check exact "$work/64m.json" "$work/64m.out"; then
	bad "64m: golat's counts are not the program's (above)"
fi

echo "== 64m-full: a 64 MiB tmpfs with 256 KiB free"
mount_tmpfs 64m
head -c $(((64 << 20) - (256 << 10))) /dev/zero >"$mnt/other"
hooked 64m-full
short_of_space 64m-full
finish
