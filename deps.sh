#!/usr/bin/env bash
# Installs what building and testing golat needs on Debian 12, and nothing that is
# already there. Run as root or with sudo available. Go toolchains: the ones golat
# is tested with (1.19 ... 1.27) when the workspace's toolchain installer is beside
# this clone (../shared/go-toolchains.sh); otherwise Debian 12's own golang-1.19, and
# the tests say which versions they skip.
set -euo pipefail
sudo=""
[[ $(id -u) == 0 ]] || sudo=sudo
# dpkg-dev, debhelper, lintian, man-db: the Debian package and the install tests
# (tests/install: dpkg-buildpackage, lintian, man -l). podman, runc, uidmap, debootstrap,
# curl: the container tests and dist/image.sh (tests/container: images made without a
# registry, run with runc; a Debian 11 root for an old glibc; the services asked over HTTP).
# musl-tools: a cgo program linked with musl, which golat attach must refuse by name.
# chromium, fonts-dejavu-core: golat serve's page, loaded headless (tests/page).
pkgs=(cmake make gcc clang pkg-config libcapstone-dev libunwind-dev zlib1g-dev binutils python3 wrk
	dpkg-dev debhelper lintian man-db podman runc uidmap debootstrap curl musl-tools
	chromium fonts-dejavu-core)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
here=$(cd "$(dirname "$0")" && pwd)
if [[ -x $here/../shared/go-toolchains.sh ]]; then
	"$here/../shared/go-toolchains.sh" >/dev/null
elif ! ls /usr/lib/go-1.*/bin/go >/dev/null 2>&1; then
	missing+=(golang-1.19-go)
fi
if ((${#missing[@]})); then
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "deps: Go toolchains: $(ls -d /usr/lib/go-1.*/bin/go 2>/dev/null | sed 's|/usr/lib/go-\([0-9.]*\)/bin/go|\1|' | sort -V | tr '\n' ' ')"
