#!/usr/bin/env bash
# Part of bench/run.sh: how long hooking takes and what it costs in memory, for 1, 100,
# 1000 and every patchable function of the demo service (hooked at load, by the
# constructor), and whether the service still serves afterwards.
# Usage: attach.sh WORK GOLAT LIBGOLAT
set -euo pipefail
work=$1 golat=$2 lib=$3
"$golat" list --json "$work/service" >"$work/funcs.json"
python3 - "$work/funcs.json" "$work" <<'PY'
import json, sys
names = [f["name"] for f in json.load(open(sys.argv[1])) if f["patchable"]]
seen, uniq = set(), []
for n in names:
    if n not in seen:
        seen.add(n); uniq.append(n)
for k in (1, 100, 1000, len(uniq)):
    open(f"{sys.argv[2]}/set.{k}", "w").write(",".join(uniq[:k]))
print(len(uniq), file=open(f"{sys.argv[2]}/set.all", "w"))
PY
all=$(cat "$work/set.all")
rss_of() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
start() { # FUNCS(or empty) -> prints pid; log in $work/attach.log
	local port=$((20000 + RANDOM % 20000))
	echo "$port" >"$work/port"
	if [[ -n $1 ]]; then
		LD_PRELOAD=$lib GOLAT_FUNCS=$1 GOLAT_OUTPUT=$work/attach.json "$work/service" \
			-addr "127.0.0.1:$port" >/dev/null 2>"$work/attach.log" &
	else
		"$work/service" -addr "127.0.0.1:$port" >/dev/null 2>"$work/attach.log" &
	fi
	echo $!
}
serve_ok() { # port -> number of 200 answers out of 50
	python3 - "$1" <<'PY'
import sys, urllib.request, time
port = sys.argv[1]
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/items/1", timeout=2); break
    except Exception: time.sleep(0.05)
ok = 0
for i in range(50):
    try:
        ok += urllib.request.urlopen(f"http://127.0.0.1:{port}/items/{i}", timeout=5).status == 200
    except Exception: pass
print(ok)
PY
}
pid=$(start "")
serve_ok "$(cat "$work/port")" >/dev/null
base=$(rss_of "$pid")
kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
echo "attach at load (GOLAT_FUNCS), demo service: $all patchable functions; RSS unhooked $((base / 1024)) MiB"
printf '  %-10s %-9s %-12s %-14s %-13s %s\n' functions hooked "attach (ms)" "trampolines" "RSS added" "serves"
echo '*' >"$work/set.$all" # every function: golat refuses the ones it cannot patch
for k in 1 100 1000 "$all"; do
	[[ -f $work/set.$k ]] || continue
	pid=$(start "$(cat "$work/set.$k")")
	ok=$(serve_ok "$(cat "$work/port")")
	rss=$(rss_of "$pid")
	kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
	line=$(grep -m1 'selected functions in' "$work/attach.log" || echo "hooked ? of ? selected functions in ? ms (? KiB of trampolines)")
	hooked=$(sed 's/.*hooked \([0-9?]*\) of.*/\1/' <<<"$line")
	ms=$(sed 's/.* in \([0-9.?]*\) ms.*/\1/' <<<"$line")
	kib=$(sed 's/.*(\([0-9.?]*\) KiB.*/\1/' <<<"$line")
	printf '  %-10s %-9s %-12s %-14s %-13s %s\n' "$k" "$hooked" "$ms" "$kib KiB" \
		"$(((rss - base) / 1024)) MiB" "$ok/50 requests"
done
