#!/usr/bin/env bash
# Part of bench/run.sh: the same function (main.leaf of bench/overhead) under kernel
# uprobes, the way bpftrace and go-bpf-gen time Go functions (a probe on the entry and
# on every ret, since uretprobes crash Go), side by side with golat; with the counts.
# Needs root, tracefs and bpftrace; says why it skips otherwise.
# Usage: bpftrace.sh WORK GOLAT LIBGOLAT
set -euo pipefail
work=$1 golat=$2 lib=$3
exe=$work/overhead
n=20000 rounds=1 # a uprobe hit costs tens of microseconds here: keep the run short
skip() { echo "uprobes: skipped ($*)"; exit 0; }
[[ $(id -u) == 0 ]] || skip "needs root"
command -v bpftrace >/dev/null || skip "bpftrace is not installed: apt-get install bpftrace"
tr=/sys/kernel/tracing
[[ -e $tr/uprobe_events ]] || mount -t tracefs nodev "$tr" 2>/dev/null || true
[[ -w $tr/uprobe_events ]] || skip "no tracefs with uprobe_events at $tr"
ulimit -l unlimited 2>/dev/null || true

# Calls of main.leaf the program makes: for 1, 2 and 4 goroutines, a warm-up of n/10
# calls and `rounds` rounds of n calls per goroutine.
expected=$(((1 + 2 + 4) * (n / 10 + rounds * n)))
# Entry and ret sites of main.leaf as file offsets (what uprobe_events takes).
sites=$("$golat" list --json "$exe" main.leaf | python3 -c '
import json, subprocess, sys
exe = sys.argv[1]
f = json.load(sys.stdin)[0]
lo, hi = int(f["entry"], 16), int(f["end"], 16)
segs = []
for line in subprocess.run(["readelf", "-lW", exe], capture_output=True, text=True).stdout.splitlines():
    p = line.split()
    if p and p[0] == "LOAD":
        segs.append((int(p[2], 16), int(p[1], 16), int(p[4], 16)))
def off(a):
    for va, fo, fs in segs:
        if va <= a < va + fs:
            return a - va + fo
dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "--start-address=%d" % lo,
                      "--stop-address=%d" % hi, exe], capture_output=True, text=True).stdout
rets = [int(l.split(":")[0], 16) for l in dis.splitlines() if l.split("\t")[-1].strip() == "ret"]
print(" ".join("0x%x" % off(a) for a in [lo] + rets))
' "$exe")
read -r entry rets <<<"$sites"
events=(); i=0
echo "p:golat_bench/entry $exe:$entry" >>"$tr/uprobe_events"
events+=(entry)
for r in $rets; do
	echo "p:golat_bench/ret$i $exe:$r" >>"$tr/uprobe_events"
	events+=("ret$i"); i=$((i + 1))
done
cleanup() {
	echo 0 >"$tr/events/golat_bench/enable" 2>/dev/null || true
	for e in "${events[@]}"; do echo "-:golat_bench/$e" >>"$tr/uprobe_events" 2>/dev/null || true; done
}
trap cleanup EXIT
echo 1 >"$tr/events/golat_bench/enable"
echo 0 >"$tr/tracing_on" # count hits (uprobe_profile) without filling the ring buffer
up=$("$exe" -n $n -rounds $rounds | awk '$1 == "leaf" && $2 == 1 {print $3}')
hits=$(awk -v exe="$exe" '$1 == exe {printf "%s=%s ", $2, $3}' "$tr/uprobe_profile")
cleanup; trap - EXIT
echo 1 >"$tr/tracing_on"

# bpftrace itself: its Debian build refuses probes at an offset inside a function
# (built without offset checking), so it can only take the entry here.
bt=$(bpftrace -e "uprobe:$exe:main.leaf { @calls = count(); }" -c "$exe -n $n -rounds $rounds" 2>/dev/null)
btns=$(awk '$1 == "leaf" && $2 == 1 {print $3}' <<<"$bt")
btcount=$(awk -F': ' '/@calls/ {print $2}' <<<"$bt")

gl=$(LD_PRELOAD=$lib GOLAT_FUNCS=main.leaf GOLAT_LOG=quiet GOLAT_OUTPUT=$work/bt.json "$exe" -n $n -rounds $rounds |
	awk '$1 == "leaf" && $2 == 1 {print $3}')
glcount=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["functions"][0]["calls"])' "$work/bt.json")
base=$("$exe" -n $n -rounds $rounds | awk '$1 == "leaf" && $2 == 1 {print $3}')

echo "main.leaf under uprobes and golat (1 goroutine, ns per call; the program makes $expected calls)"
printf '  %-58s %9s  %s\n' "unhooked" "$base" ""
printf '  %-58s %9s  %s\n' "kernel uprobes on the entry and ${i} ret (tracefs, no BPF)" "$up" "hits: $hits"
printf '  %-58s %9s  %s\n' "bpftrace $(bpftrace --version | cut -d' ' -f2) uprobe on the entry only, count()" "$btns" "count: $btcount"
printf '  %-58s %9s  %s\n' "golat on the entry and every ret, TSC timing" "$gl" "calls: $glcount"
