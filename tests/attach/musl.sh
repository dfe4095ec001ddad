#!/usr/bin/env bash
# golat and a cgo Go program linked with musl (Debian's musl-gcc): golat run refuses to
# start it (musl's loader would die of libgolat.so before main), and golat attach refuses
# it in one sentence that names musl (golat's library needs glibc) and leaves it as it
# was: nothing of golat mapped, its text byte for byte as before, still running.
# Skipped, saying so, where musl-gcc is not installed (deps.sh installs musl-tools).
# Usage: musl.sh GO   (env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK)
set -uo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
attach_setup musl "$1"
if ! command -v musl-gcc >/dev/null; then
	echo "SKIP: musl-gcc is not installed (apt-get install musl-tools)"
	exit 77
fi
(cd "$here/muslsvc" && CC=musl-gcc "$go" build -o "$work/m" .) || { bad "$gover cannot build muslsvc/ with musl-gcc"; finish; }
readelf -l "$work/m" | grep -q 'ld-musl' || { bad "$work/m does not ask for musl's loader"; finish; }

out=$(timeout 20 "$golat" run -f main.work -- "$work/m" 2>&1)
status=$?
if ((status == 1)) && [[ $out == "golat: $work/m is linked with musl libc: libgolat.so needs glibc"* ]]; then
	ok "golat run refuses it: $out"
else
	bad "golat run said (status $status): $(head -3 <<<"$out")"
fi

"$work/m" >"$work/m.out" 2>&1 &
pid=$!
for ((i = 0; i < 400; i++)); do
	[[ -s $work/m.out ]] && break
	sleep 0.05
done
[[ -s $work/m.out ]] || { bad "the musl program did not start in 20 s"; finish; }
python3 "$here/text.py" save "$pid" "$work/text.before" || bad "cannot read the text of pid $pid"

out=$("$golat" attach "$pid" -f main.work -d 1 2>&1)
status=$?
if ((status != 0)) && [[ $out == "golat: pid $pid uses musl libc ("*"golat's library needs glibc"* && $(grep -c . <<<"$out") == 1 ]]; then
	ok "refused in one sentence: $out"
else
	bad "golat attach said (status $status): $out"
fi
if grep -qE 'golat|memfd' "/proc/$pid/maps"; then
	bad "something of golat is mapped in pid $pid: $(grep -E 'golat|memfd' "/proc/$pid/maps" | head -2)"
else
	ok "nothing of golat mapped"
fi
python3 "$here/text.py" same "$pid" "$work/text.before" && ok "the text is byte for byte as before" ||
	bad "the text changed"
before=$(grep -c tick "$work/m.out")
for ((i = 0; i < 400; i++)); do
	(($(grep -c tick "$work/m.out") > before)) && break
	sleep 0.05
done
if kill -0 "$pid" 2>/dev/null && (($(grep -c tick "$work/m.out") > before)); then
	ok "the program runs on"
else
	bad "the program stopped: $(tail -2 "$work/m.out")"
fi
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
finish
