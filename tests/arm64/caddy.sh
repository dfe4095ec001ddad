#!/usr/bin/env bash
# arm64_selfpatch_caddy: Debian's arm64 caddy (bookworm: go1.19, stripped, cgo), every
# patchable function's entry and RETs rewritten as in selfpatch.sh (planned on this host
# by lib/arch/arm64, applied by selfpatch_so.c's preloaded constructor), serves under
# qemu-user: 300 requests answered right, a gzip'd file and a directory listing intact.
# The package is downloaded once into CACHE (apt-get download caddy:arm64); caddy needs
# libzstd1:arm64. Skips (77) without them, the cross compiler or binfmt_misc.
# Usage: caddy.sh SELFPATCH_TOOL CACHE   (env: GOLAT_TEST_WORK)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../gotool.sh
source "$here/../gotool.sh"
# shellcheck source=qemu.sh
source "$here/qemu.sh"
work=${GOLAT_TEST_WORK:-${TMPDIR:-/tmp}/golat-testwork}/arm64/caddy
rm -rf "$work"
mkdir -p "$work/www"
arm64_ready "$work"
for tool in curl python3 apt-get dpkg gzip; do
	command -v $tool >/dev/null || arm64_skip "$tool is not installed"
done

dir=$2/bookworm/caddy-arm64
bin=$dir/x/usr/bin/caddy
if [[ ! -x $bin ]]; then
	rm -rf "$dir" && mkdir -p "$dir"
	(cd "$dir" && apt-get download -t bookworm caddy:arm64) >"$work/download.log" 2>&1 ||
		arm64_skip "apt-get download -t bookworm caddy:arm64 failed: $(grep -E '^(E|Err):' "$work/download.log" | head -1)"
	dpkg -x "$dir"/*.deb "$dir/x" || arm64_skip "dpkg -x failed"
fi
out=$(timeout 60 "$bin" version 2>&1) ||
	arm64_skip "Debian's arm64 caddy does not start under qemu-user: ${out:0:200} (apt-get install libzstd1:arm64)"

"$ARM64_CC" -shared -fPIC -O2 -Wall -Wextra -Werror -o "$work/selfpatch.so" "$here/selfpatch_so.c" ||
	{ echo "FAIL: $ARM64_CC cannot build selfpatch_so.c"; exit 1; }
"$1" "$bin" "$work/plan" || { echo "FAIL: no plan for $bin"; exit 1; }

seq 1 5000 >"$work/www/nums.txt"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/Caddyfile" <<CADDY
{
	admin off
	auto_https off
}
http://127.0.0.1:$port {
	handle /hello* {
		respond "hello {uri}" 200
	}
	handle {
		root * $work/www
		encode gzip
		file_server browse
	}
}
CADDY
env ARM64_SELFPATCH="$work/plan" LD_PRELOAD="$work/selfpatch.so" "$bin" run --adapter caddyfile \
	--config "$work/Caddyfile" >"$work/caddy.log" 2>&1 &
pid=$!
trap 'kill -9 $pid 2>/dev/null' EXIT
up() { curl -sf -o /dev/null "http://127.0.0.1:$port/hello"; }
wait_until 60 up || { echo "FAIL: patched caddy does not answer: $(tail -c 400 "$work/caddy.log")"; exit 1; }
grep '^selfpatch:' "$work/caddy.log"
grep -q '^selfpatch: patched [0-9]* entries' "$work/caddy.log" || bad "the constructor patched nothing"
good=0
for i in $(seq 1 300); do
	[[ $(curl -s "http://127.0.0.1:$port/hello/$i?q=$i") == "hello /hello/$i?q=$i" ]] && good=$((good + 1))
done
((good == 300)) || bad "$good of 300 requests answered right"
[[ $(curl -s -H 'Accept-Encoding: gzip' "http://127.0.0.1:$port/nums.txt" | gzip -dc | md5sum) == \
	$(md5sum <"$work/www/nums.txt") ]] || bad "the gzip'd file differs"
# Into a variable first: grep -q leaving early would fail curl's write (pipefail).
listing=$(curl -s "http://127.0.0.1:$port/")
grep -q 'nums.txt' <<<"$listing" || bad "the directory listing lacks nums.txt: ${listing:0:200}"
kill -0 $pid 2>/dev/null || bad "patched caddy died: $(tail -c 400 "$work/caddy.log")"
((fail)) && exit 1
ok "Debian's arm64 caddy, patched, served 300 requests, a gzip'd file and a listing under qemu-user"
