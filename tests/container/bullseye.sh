#!/usr/bin/env bash
# A cgo service built against Debian 11's glibc 2.31 (older than 2.34, where libdl and
# libpthread were still their own libraries and libc had no dlopen), in an image of its
# own libraries from Debian 11, under load from the host:
#  - golat attach from the host (the ptrace route): windows with calls, the text byte
#    for byte as before after each detach;
#  - the preloaded route: the host's libgolat.so mounted read-only into the container
#    alone (LD_PRELOAD=/golat/libgolat.so, GOLAT_FUNCS), so it must load into glibc
#    2.31 needing nothing the image lacks; its final report, written to a mounted
#    directory when the service exits, has calls.
# No request fails; the service exits 0.
# Usage: bullseye.sh GO   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK, GOLAT_CTR_CACHE)
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
ctr_setup bullseye "$1"
ctr_build
bullseye_build "/tmp/svc-$id"
ctr_root "$work/root" -r "$broot" "/tmp/svc-$id"
mv "$work/root/tmp/svc-$id" "$work/root/svc"
rm -f "$broot/tmp/svc-$id"
ctr_image bullseye "$work/root" || { bad "podman import: $(cat "$work/import.err")"; finish; }
echo "image: $(cd "$work/root" && find . -type f | sort | tr '\n' ' ')"

ctr_run attach -- "$img" /svc || finish
load_start attach
attach_cycles attach 2
load_stop attach
still_answers attach
svc_quit attach

mkdir -p "$work/out" && chmod 777 "$work/out"
if ctr_run preload -v "$GOLAT_LIB:/golat/libgolat.so:ro" -v "$work/out:/out" \
	-e LD_PRELOAD=/golat/libgolat.so -e "GOLAT_FUNCS=$specs" -e GOLAT_OUTPUT=/out/report.json -- "$img" /svc; then
	load_start preload
	load_stop preload
	quit_counted preload
fi
finish
