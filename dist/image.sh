#!/usr/bin/env bash
# Builds golat's container image into the local podman store from a build tree, pulling
# nothing: golat (/usr/bin/golat), libgolat.so and golat-agent.so (/usr/lib/golat/, where
# the installed command looks first; GOLAT_LIB and GOLAT_AGENT name them too) and what
# they load, as ldd resolves it on this machine (the C library and its loader once
# libgolat.so needs nothing else), at the same paths. A debug container made from it
# reaches a service through a shared PID namespace:
#   podman run --rm --pid container:SVC --cap-add SYS_PTRACE localhost/golat:VERSION \
#       golat attach 1 -f 'main.*' -d 10
# Prints the image's name as its last line.
# Usage: dist/image.sh BUILD_DIR [IMAGE]   (IMAGE default: localhost/golat:VERSION, VERSION
# from `golat --version`)
set -euo pipefail
build=${1:?usage: dist/image.sh BUILD_DIR [IMAGE]}
golat=$build/tools/golat lib=$build/lib/libgolat.so agent=$build/lib/golat-agent.so
for f in "$golat" "$lib" "$agent"; do
	[[ -f $f ]] || { echo "image.sh: $f is missing: build $build first" >&2; exit 1; }
done
version=$("$golat" --version | awk '{print $2}')
[[ -n $version ]] || { echo "image.sh: $golat --version says no version" >&2; exit 1; }
image=${2:-localhost/golat:$version}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/usr/bin" "$root/usr/lib/golat" "$root/tmp"
chmod 1777 "$root/tmp"
cp "$golat" "$root/usr/bin/golat"
cp "$lib" "$agent" "$root/usr/lib/golat/"
# What the loader loads, each under the name ldd prints, its content the file it
# resolves to ($(ldd) fails on the freestanding agent: it loads nothing).
for f in "$golat" "$lib"; do
	ldd "$f" | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i}'
done | sort -u | while read -r p; do
	mkdir -p "$root${p%/*}"
	cp "$(readlink -f "$p")" "$root$p"
done

tar -C "$root" -cf "$root.tar" .
trap 'rm -rf "$root" "$root.tar"' EXIT
podman import --quiet \
	--change 'ENV=PATH=/usr/bin' \
	--change 'ENV=GOLAT_LIB=/usr/lib/golat/libgolat.so' \
	--change 'ENV=GOLAT_AGENT=/usr/lib/golat/golat-agent.so' \
	--change 'CMD=["/usr/bin/golat","--help"]' \
	--message "golat $version from $(cd "$build" && pwd)" \
	"$root.tar" "$image" >/dev/null
echo "$image: $(cd "$root" && find . -type f | sort | tr '\n' ' ')" >&2
echo "$image"
