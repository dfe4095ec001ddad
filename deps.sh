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
# The arm64 tests (tests/arm64): a cross compiler, the arm64 libraries golat links and the
# arm64 libc (multiarch: qemu runs the programs through its /lib/ld-linux-aarch64.so.1), and
# qemu-user-static with its binfmt_misc entry (tests/arm64/qemu.sh registers it): static, so
# that an LD_PRELOAD meant for the arm64 program never reaches a host dynamic linker
# (qemu-user's dynamic qemu-aarch64 made it print an error for every preloaded run);
# qemu-user too, for the tests that call `qemu-aarch64` by name; libzstd1:arm64 for
# Debian's arm64 caddy (tests/arm64/caddy.sh). Never fatal: when the
# archive has no arm64 or the network is down, the arm64 tests skip.
arm64_pkgs=(gcc-aarch64-linux-gnu libc6-dev:arm64 libcapstone-dev:arm64 zlib1g-dev:arm64
	libzstd1:arm64 qemu-user-static qemu-user)
arm64_log=$(mktemp)
arm64_deps() {
	local added=0 need=() p
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		$sudo dpkg --add-architecture arm64 || return 1
		added=1
	fi
	for p in "${arm64_pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
	done
	((${#need[@]})) || return 0
	echo "deps: installing (arm64 tests) ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"; then
		return 0
	fi
	# Leave the machine as it was: an arm64 architecture the archive lacks would only
	# make every later apt-get update slower.
	((added)) && $sudo dpkg --remove-architecture arm64
	return 1
}
if ! arm64_deps >"$arm64_log" 2>&1; then
	echo "deps: arm64 packages not installed ($(grep -E '^(E|W|dpkg):' "$arm64_log" | tail -n1)): the arm64 tests will skip"
else
	grep '^deps:' "$arm64_log" || true
fi
rm -f "$arm64_log"
echo "deps: Go toolchains: $(ls -d /usr/lib/go-1.*/bin/go 2>/dev/null | sed 's|/usr/lib/go-\([0-9.]*\)/bin/go|\1|' | sort -V | tr '\n' ' ')"
