#!/usr/bin/env bash
# What golat says when it cannot: a failed exit and one `golat:` line saying why, and
# the service runs on.
#  - a PID that is not there (a container's service that has exited): attach, report;
#  - a cgo service in a container whose /dev/shm (64 KB, --shm-size) is full and whose
#    /tmp is read-only (--read-only-tmpfs=false): golat attach from the host has nowhere
#    for the stats, says so in one line (and the service, once, in its own), and leaves
#    the text byte for byte as it was;
#    no request fails, the service answers and exits 0.
# Usage: refusals.sh GO   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
ctr_setup refusals "$1"
ctr_build
svc_image cgo

# refused WHAT PATTERN CMD...: CMD fails, and says why in one golat: line matching
# PATTERN; anything else it says is golat: lines too (the ptrace route's account of
# how it loaded the library comes before a refusal found once it is in).
refused() {
	local what=$1 pattern=$2 status=0
	shift 2
	"$@" >"$work/refused.out" 2>"$work/refused.err" || status=$?
	if ((status != 0)) && [[ $(grep -cE "^golat: .*($pattern)" "$work/refused.err") == 1 ]] &&
		! grep -qv '^golat: ' "$work/refused.err"; then
		ok "$what: $(grep -E "^golat: .*($pattern)" "$work/refused.err")"
	else
		bad "$what: exit $status, said: $(cat "$work/refused.err")"
	fi
}

# A PID that was a container's service and is no longer there.
ctr_run gone -- "$img" /svc || finish
gone=$svc_pid
svc_quit gone
kill -0 "$gone" 2>/dev/null && { bad "pid $gone is still there after its container exited"; finish; }
refused "attach of a pid that is gone" "$gone" "$golat" attach "$gone" -f "$specs" -d 0.5
refused "report of a pid that is gone" "$gone" "$golat" report "$gone" --json

# /dev/shm full, /tmp read-only.
ctr_run full --shm-size 64k --read-only-tmpfs=false -- "$img" /svc || finish
dd if=/dev/zero of="/proc/$svc_pid/root/dev/shm/fill" bs=4k >/dev/null 2>&1
left=$(df --output=avail -k "/proc/$svc_pid/root/dev/shm" | tail -1 | tr -d ' ')
[[ $left == 0 ]] || bad "the container's /dev/shm still has $left KB free"
load_start full
text_save full
refused "attach into a container whose /dev/shm is full" "space|shm|stats" \
	"$golat" attach "$svc_pid" -f "$specs" -d 0.5
text_same full "after the refused attach" && ok "full: the text is as before"
load_stop full
still_answers full
svc_quit full
if [[ $(grep -c '^golat: .*No space left on device' "$work/full.logs") == 1 ]]; then
	ok "full: the service said why once: $(grep '^golat: .*No space left' "$work/full.logs")"
else
	bad "full: the service did not say once that /dev/shm has no space: $(grep '^golat: ' "$work/full.logs")"
fi
finish
