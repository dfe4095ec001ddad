#!/usr/bin/env bash
# golat's benchmark: one command, one table, every figure measured in this run.
#   1. the cost golat adds to a call (hooked minus unhooked, ns per call, median of
#      rounds) beside the cost of two rdtsc measured in the same run, with 1, 2 and 4
#      goroutines calling in parallel, with GOLAT_SAMPLE=100, and with 8 goroutines
#      taking turns on one thread (runtime.Gosched() between two calls: a goroutine
#      switch before every call, as on a server);
#   2. the same function under bpftrace uprobes on its entry and every ret (the
#      go-bpf-gen way), when bpftrace and uprobes are usable here, with both counts;
#   3. the demo service's throughput under wrk, unhooked and with its hot functions
#      hooked; a real server hooked broadly (Debian sid's caddy, bench/server.sh);
#   4. attach time and memory for hooking 1, 100, 1000 and every patchable function
#      of the demo service.
# Env: BENCH_GO (a go binary; default the newest installed), BENCH_SECONDS (wrk run
# length, default 5). Every ratio is printed with the CPU's name (/proc/cpuinfo).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./deps.sh >/dev/null
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DGOLAT_TESTS=OFF >/dev/null
cmake --build build-bench -j "$(nproc)" >/dev/null
golat=$top/build-bench/tools/golat
lib=$top/build-bench/lib/libgolat.so
go=${BENCH_GO:-$(ls -d /usr/lib/go-1.*/bin/go | sort -V | tail -n 1)}
secs=${BENCH_SECONDS:-5}
work=$top/build-bench/work
mkdir -p "$work"
export GOTOOLCHAIN=local GOPROXY=off
(cd bench/overhead && CGO_ENABLED=1 "$go" build -o "$work/overhead" .)
(cd bench/overhead && CGO_ENABLED=0 "$go" build -o "$work/overhead.static" .) # golat run's static route
(cd demo/service && CGO_ENABLED=1 "$go" build -ldflags='-s -w' -o "$work/service" .)

echo "golat benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores," \
	"Linux $(uname -r), load $(cut -d' ' -f1 /proc/loadavg); $("$go" version | cut -d' ' -f3)"
echo

# --- 1. call cost -------------------------------------------------------------
run_overhead() { # label, then env assignments; prints "g ns" lines and rdtsc2
	env "${@:2}" "$work/overhead" -rounds 7 >"$work/ovh.$1"
}
for i in 1 2 3; do # alternate, so that drift in the machine's load hits both sides
	run_overhead off.$i
	run_overhead on.$i LD_PRELOAD="$lib" GOLAT_FUNCS=main.leaf GOLAT_LOG=quiet GOLAT_OUTPUT="$work/ovh.json"
	run_overhead s100.$i LD_PRELOAD="$lib" GOLAT_FUNCS=main.leaf GOLAT_LOG=quiet GOLAT_SAMPLE=100 GOLAT_OUTPUT="$work/ovh.json"
	# The same program without cgo: statically linked, hooked from outside by golat run
	# with golat-agent.so (the same recorder and stub, reached through m.tls, not TLS).
	"$work/overhead.static" -rounds 7 >"$work/ovh.stoff.$i"
	"$golat" run -f main.leaf -o "$work/ovh.st.json" -- "$work/overhead.static" -rounds 7 >"$work/ovh.ston.$i" 2>/dev/null
done
python3 - "$work" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" <<'PY'
import statistics, sys, glob
work, cpu = sys.argv[1], sys.argv[2]
par = {}
def load(kind):
    leaf, rd = {}, []
    sw = {}
    for f in glob.glob(f"{work}/ovh.{kind}.*"):
        for line in open(f):
            p = line.split()
            if p[0] == "rdtsc2": rd.append(float(p[1]))
            elif p[0] == "rdtscpar": par.setdefault(int(p[1]), []).append(float(p[2]))
            elif p[0] == "switch": sw.setdefault(int(p[1]), []).append(float(p[2]))
            else: leaf.setdefault(int(p[1]), []).append(float(p[2]))
    leaf = {g: statistics.median(v) for g, v in leaf.items()}
    switch[kind] = {g: statistics.median(v) for g, v in sw.items()}
    return leaf, rd
switch = {}
off, r1 = load("off"); on, r2 = load("on"); s100, r3 = load("s100")
stoff, _ = load("stoff"); ston, _ = load("ston") # before par becomes medians
rd = statistics.median(r1 + r2 + r3)
par = {g: statistics.median(v) for g, v in par.items()}
print("call cost (CPU ns per call, median of 3x7 rounds)  unhooked   golat   added  2x rdtsc  added/2x rdtsc")
for g in sorted(off):
    a = on[g] - off[g]
    print(f"  main.leaf, {g} goroutine{'s' if g > 1 else ' '} in parallel          {off[g]:8.1f} {on[g]:7.1f} {a:7.1f} {rd:9.1f} {a / rd:10.2f}  on {cpu}")
g = 1
print(f"  main.leaf, 1 goroutine, GOLAT_SAMPLE=100        {off[g]:8.1f} {s100[g]:7.1f} {s100[g] - off[g]:7.1f} {rd:9.1f} {(s100[g] - off[g]) / rd:10.2f}  on {cpu}")
for g in sorted(switch["off"]):
    a = switch["on"][g] - switch["off"][g]
    print(f"  main.leaf, {g} goroutines on 1 thread, Gosched  {switch['off'][g]:8.1f} {switch['on'][g]:7.1f} {a:7.1f} {rd:9.1f} {a / rd:10.2f}  on {cpu}")
print("in parallel, against 1 goroutine (CPU ns per call or pair; the floor's own ratio beside golat's)")
for g in sorted(par):
    if g > 1:
        a1, ag = on[1] - off[1], on[g] - off[g]
        print(f"  {g} goroutines: golat added {ag:6.1f} ({ag / a1:4.2f}x)   two rdtsc {par[g]:6.1f} ({par[g] / par[1]:4.2f}x)  on {cpu}")
print("a static program (built without cgo), hooked by golat run from outside   unhooked   golat   added  added/preloaded's")
for g in sorted(stoff):
    a, p = ston[g] - stoff[g], on[g] - off[g]
    print(f"  main.leaf, {g} goroutine{'s' if g > 1 else ' '} in parallel          {stoff[g]:8.1f} {ston[g]:7.1f} {a:7.1f} {a / p:10.2f}  on {cpu}")
open(f"{work}/leaf_added_ns", "w").write(f"{on[1] - off[1]:.1f}\n")
PY
echo

# --- 2. bpftrace --------------------------------------------------------------
"$top/bench/bpftrace.sh" "$work" "$golat" "$lib" || true
echo

# --- 3. demo throughput -------------------------------------------------------
"$top/bench/throughput.sh" "$work" "$lib" "$secs" || true
"$top/bench/server.sh" "$work" "$lib" "$secs" || true
echo

# --- 4. attach time and memory ------------------------------------------------
"$top/bench/attach.sh" "$work" "$golat" "$lib" || true
