# What the page tests share (sourced): the toolchain, golat, Chromium, and loading a page
# until it has drawn. page_setup GO NAME: sets go, ver (gotool.sh), golat, chromium and
# work (GOLAT_TEST_WORK/NAME-VER, made empty); exits 77, saying why, where Chromium is
# missing or golat is built with ASan.
# shellcheck source=../gotool.sh
source "$(dirname "${BASH_SOURCE[0]}")/../gotool.sh"

page_setup() {
	go_toolchain "$1"
	golat=${GOLAT_CLI:?GOLAT_CLI is the golat binary}
	chromium=${GOLAT_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
	if [[ -z $chromium ]]; then
		echo "SKIP: chromium is not installed (deps.sh installs it)"
		exit 77
	fi
	if [[ $(ldd "$golat" 2>/dev/null) == *libasan* ]]; then
		echo "SKIP: golat is built with ASan, whose runtime cannot be preloaded into Go"
		exit 77
	fi
	work=${GOLAT_TEST_WORK:-/tmp}/$2-$ver
	rm -rf "$work" && mkdir -p "$work"
}

chrome() {
	"$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$(mktemp -d "$work/chrome.XXXXXX")" "$@" 2>>"$work/chromium.err"
}

# dom URL OUT: the page's DOM once it has drawn (polled: the page fetches, then draws).
dom() {
	local t
	for t in 3000 6000 12000 16000; do
		chrome --virtual-time-budget=$t --dump-dom "$1" >"$2"
		grep -q 'data-state="drawn"' "$2" && return 0
	done
	return 1
}
