#!/usr/bin/env bash
# golat at scale: one command, two tables, every figure measured in this run.
#   1. memory, for N hooked functions (100, 1000) each called 10 times from T threads (1, 16,
#      64; goroutines locked to OS threads of their own: tests/scale/many): the bytes
#      allocated to the live stats file (st_blocks * 512, measured by the program while all
#      its threads are alive, the file in /dev/shm as by default), the VmRSS golat adds at
#      that same point (hooked minus unhooked, median of BENCH_RUNS runs each), and whether
#      everything was recorded (calls, "lost", a "cannot reserve" line);
#   2. goroutines, for N goroutines (10,000 to 1,000,000) inside one hooked function at once
#      (tests/scale/goroutines): the VmRSS golat adds with all N inside, the time they take
#      to enter with and without golat, and what the final report recorded of the N calls
#      and of the calls made afterwards (1,000 x 100 and 10,000 on new goroutines).
# Env: BENCH_GO (a go binary; default the newest installed), BENCH_RUNS (default 3),
# BENCH_GOROUTINES (default "10000 32768 100000 1000000").
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./deps.sh >/dev/null
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DGOLAT_TESTS=OFF >/dev/null
cmake --build build-bench -j "$(nproc)" >/dev/null
lib=$top/build-bench/lib/libgolat.so
go=${BENCH_GO:-$(printf '%s\n' /usr/lib/go-1.*/bin/go | sort -V | tail -n 1)}
runs=${BENCH_RUNS:-3}
read -r -a gcounts <<<"${BENCH_GOROUTINES:-10000 32768 100000 1000000}"
work=$top/build-bench/scale
rm -rf "$work"
mkdir -p "$work/src"
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=1
cp -r tests/scale/many "$work/src/"
python3 tests/scale/genfuncs.py 1000 "$work/src/many/funcs_gen.go"
(cd "$work/src/many" && "$go" build -o "$work/many" .)
(cd tests/scale/goroutines && "$go" build -o "$work/goroutines" .)
shm=/dev/shm
[[ -d $shm && -w $shm ]] || shm=${TMPDIR:-/tmp}
stats=$(mktemp -d "$shm/golat-bench-scale.XXXXXX")
trap 'rm -rf "$stats"' EXIT

echo "golat scale benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores," \
	"$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), Linux $(uname -r)," \
	"load $(cut -d' ' -f1 /proc/loadavg); $("$go" version | cut -d' ' -f3); stats file in $shm"
echo

# --- 1. memory: functions x threads -------------------------------------------
# row FUNCS THREADS: prints one line of the table from the runs' files in $work/mem.*
row() {
	python3 - "$work" "$1" "$2" "$runs" <<'PY'
import json, statistics, sys
work, nf, nt, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def js(p):
    try:
        return json.load(open(p))
    except (OSError, ValueError):
        return None
def why(p):  # the first line of a Go crash, else the last line
    lines = [l for l in open(p).read().splitlines() if not l.startswith("golat: ")] or ["?"]
    return next((l for l in lines if "fatal error" in l or "signal" in l), lines[-1])[:120]
base = [js(f"{work}/mem.base{i}.m") for i in range(runs)]
hook = [js(f"{work}/mem.hook{i}.m") for i in range(runs)]
if any(m is None for m in base + hook):
    print(f"{nf:9} {nt:8}   the hooked program failed: {why(f'{work}/mem.hook0.err')}")
    sys.exit(0)
alloc = max(m["stats_alloc"] for m in hook)
rss = statistics.median(m["rss_kb"] for m in hook) - statistics.median(m["rss_kb"] for m in base)
rep, prog = js(f"{work}/mem.hook0.json"), js(f"{work}/mem.hook0.out")
want = sum(prog["calls"].values())
got = sum(f["calls"] for f in rep["functions"]) if rep else 0
lost = rep["lost"] if rep else "-"
err = open(f"{work}/mem.hook0.err").read().lower()
reserve = "yes" if "cannot reserve" in err else "no"
made = f"{got}/{want}"
print(f"{nf:9} {nt:8} {alloc / 1048576:14.1f} {rss / 1024:13.1f} {made:>21} {lost!s:>8} {reserve:>15}")
PY
}
echo "memory (N functions hooked, each called 10x by each of T threads; stats file: the largest of $runs runs, RSS: the median)"
printf '%9s %8s %14s %13s %21s %8s %15s\n' functions threads "stats file MiB" "RSS added MiB" \
	"calls recorded/made" lost "cannot reserve"
for nf in 100 1000; do
	spec=$(seq -f 'main.f%04g' 0 $((nf - 1)) | paste -sd, -)
	for nt in 1 16 64; do
		args=(-funcs "$nf" -threads "$nt" -rounds 10)
		for ((i = 0; i < runs; i++)); do
			"$work/many" "${args[@]}" -measure "$work/mem.base$i.m" >/dev/null 2>&1 || true
			rm -f "$work/mem.hook$i.m" "$work/mem.hook$i.json"
			LD_PRELOAD=$lib GOLAT_FUNCS=$spec GOLAT_STATS=$stats/s$i GOLAT_OUTPUT=$work/mem.hook$i.json \
				"$work/many" "${args[@]}" -measure "$work/mem.hook$i.m" \
				>"$work/mem.hook$i.out" 2>"$work/mem.hook$i.err" || true
			rm -f "$stats/s$i"
		done
		row "$nf" "$nt"
	done
done
echo

# --- 2. goroutines --------------------------------------------------------------
echo "goroutines (N inside main.hold at once; then 1000x100 main.after, 10000 main.fresh on new goroutines)"
printf '%9s %14s %16s %18s %6s %21s %21s %9s\n' N "RSS added MiB" bytes/goroutine "enter s: no golat" golat \
	"main.hold recorded" "after+fresh recorded" lost
for n in "${gcounts[@]}"; do
	rm -f "$work/g.base.m" "$work/g.hook.m" "$work/g.hook.json"
	"$work/goroutines" -n "$n" -measure "$work/g.base.m" >/dev/null 2>&1 || true
	LD_PRELOAD=$lib GOLAT_FUNCS=main.hold,main.after,main.fresh GOLAT_LOG=quiet \
		GOLAT_STATS=$stats/g GOLAT_OUTPUT=$work/g.hook.json \
		"$work/goroutines" -n "$n" -measure "$work/g.hook.m" >"$work/g.hook.out" 2>"$work/g.hook.err" || true
	rm -f "$stats/g"
	python3 - "$work" "$n" <<'PY'
import json, sys
work, n = sys.argv[1], int(sys.argv[2])
def js(p):
    try:
        return json.load(open(p))
    except (OSError, ValueError):
        return None
def why(p):  # the first line of a Go crash, else the last line
    lines = [l for l in open(p).read().splitlines() if not l.startswith("golat: ")] or ["?"]
    return next((l for l in lines if "fatal error" in l or "signal" in l), lines[-1])[:120]
b, h, rep, prog = (js(f"{work}/{f}") for f in ("g.base.m", "g.hook.m", "g.hook.json", "g.hook.out"))
if not (b and h and rep and prog):
    print(f"{n:9}  the hooked program failed: {why(f'{work}/g.hook.err')}")
    sys.exit(0)
fns = {}
for f in rep["functions"]:
    if f["calls"] >= fns.get(f["name"], {}).get("calls", -1):
        fns[f["name"]] = f
added = (h["rss_kb"] - b["rss_kb"]) * 1024
hold = fns.get("main.hold", {}).get("calls", 0)
rest = sum(fns.get(k, {}).get("calls", 0) for k in ("main.after", "main.fresh"))
want = prog["calls"]["main.after"] + prog["calls"]["main.fresh"]
held = f"{hold}/{prog['calls']['main.hold']}"
after = f"{rest}/{want}"
print(f"{n:9} {added / 1048576:14.1f} {added / n:16.0f} {b['enter_s']:18.2f} {h['enter_s']:6.2f}"
      f" {held:>21} {after:>21} {rep['lost']:>9}")
PY
done
