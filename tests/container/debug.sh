#!/usr/bin/env bash
# golat from a debug container: golat's own image (dist/image.sh, made from this build)
# run beside a cgo service's container, sharing its PID namespace with CAP_SYS_PTRACE
# (podman's form of `kubectl debug --target`): `golat attach 1 -f SPECS -d 2` there
# prints a report with calls, and the service's text is byte for byte as before. The
# service's image has only its own libraries; no request fails; it exits 0.
# Usage: debug.sh GO   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK, GOLAT_BUILD_DIR)
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
ctr_setup debug "$1"
ctr_build
build=${GOLAT_BUILD_DIR:-$(dirname "$(dirname "$GOLAT_CLI")")}
gimg=localhost/$id-golat:test
images+=("$gimg")
if ! made=$("$ctr_here/../../dist/image.sh" "$build" "$gimg" 2>"$work/image.err") ||
	[[ $(tail -1 <<<"$made") != "$gimg" ]]; then
	bad "dist/image.sh $build $gimg: said '$made': $(tail -3 "$work/image.err")"
	finish
fi
ok "dist/image.sh: $(tail -1 "$work/image.err")"
svc_image cgo
ctr_run svc -- "$img" /svc || finish
load_start svc
text_save svc
containers+=("$id-golat")
pm run --rm --name "$id-golat" --pid "container:$svc_name" --cap-add SYS_PTRACE --network host \
	--ulimit nofile=4096:4096 --ulimit nproc=4096:4096 "$gimg" \
	golat attach 1 -f "$specs" -d 2 >"$work/debug.out" 2>"$work/debug.err"
status=$?
if ((status == 0)) && grep -q '^main\.(\*svc)\.ServeHTTP .*calls [1-9]' "$work/debug.out"; then
	ok "golat attach 1 in a debug container: $(grep -m1 '^main\.(\*svc)\.ServeHTTP' "$work/debug.out")"
else
	bad "golat attach 1 -f '$specs' -d 2 in a debug container exits $status: $(cat "$work/debug.err") $(head -3 "$work/debug.out")"
fi
text_same svc "after the debug container's window" && ok "the text is as before after the window"
load_stop svc
still_answers svc
svc_quit svc
finish
