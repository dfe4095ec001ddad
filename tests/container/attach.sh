#!/usr/bin/env bash
# golat attach and detach from the host into a service in a container (uid 1000,
# --read-only, its own /dev/shm, under load from the host): a few windows of
# `golat attach HOSTPID -f SPECS -d 0.5`, each with calls and the service's text byte
# for byte as before after each detach; then attach without -d, golat report of the
# live hooks, golat detach; no request fails, and the service answers and exits 0.
#   cgo     tests/attach/svc, cgo-linked, in an image of its own libraries only (no
#           golat inside: the library must reach the process without a file path)
#   static  tests/attach/svc built with CGO_ENABLED=0, in a scratch image (the program alone)
#   userns  the cgo image in a user namespace of its own (--uidmap, as rootless podman
#           and Kubernetes user namespaces run it): uid 1000 inside is 201000 here
# Usage: attach.sh GO cgo|static|userns   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
kind=$2
ctr_setup "$kind" "$1"
ctr_build
args=()
case $kind in
cgo | static) svc_image "$kind" ;;
userns) svc_image cgo && args=(--uidmap 0:200000:65536 --gidmap 0:200000:65536) ;;
*) echo "FAIL: kind $kind is not cgo, static or userns"; exit 1 ;;
esac
ctr_run "$kind" "${args[@]}" -- "$img" /svc || finish
echo "$kind: container $svc_name, host pid $svc_pid, uid $(awk '/^Uid:/ {print $2}' "/proc/$svc_pid/status") here"
load_start "$kind"
attach_cycles "$kind" 3

# Without -d the hooks stay; golat report reads them live from the host; golat detach
# takes them out and the text is as before.
if "$golat" attach "$svc_pid" -f "$specs" >"$work/keep.out" 2>"$work/keep.err"; then
	if "$golat" report "$svc_pid" >"$work/report.out" 2>"$work/report.err" &&
		grep -q '^main\.(\*svc)\.ServeHTTP .*calls [1-9]' "$work/report.out"; then
		ok "$kind: attach without -d, golat report $svc_pid from the host has calls"
	else
		bad "$kind: attach without -d, then golat report $svc_pid: $(head -3 "$work/report.out" "$work/report.err")"
	fi
	if "$golat" detach "$svc_pid" 2>"$work/detach.err" && text_same "$kind" "after golat detach"; then
		ok "$kind: golat detach: $(sed 's/^golat: //' "$work/detach.err" | head -1)"
	else
		bad "$kind: golat detach $svc_pid: $(head -3 "$work/detach.err")"
	fi
else
	bad "$kind: golat attach $svc_pid -f '$specs' (no -d): $(head -5 "$work/keep.err")"
fi
load_stop "$kind"
still_answers "$kind"
svc_quit "$kind"
finish
