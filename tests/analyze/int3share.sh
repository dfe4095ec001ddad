#!/usr/bin/env bash
# How golat hooks the returns of real binaries, and the share of patchable functions with a
# return through an int3 (a signal per call): at most 0.1% in the mode each binary is
# planned in (`golat list --totals --json`: "planned"). The binaries: each installed
# toolchain's own compile, link, vet, go and gofmt (static, but for go1.19's go), and
# the Debian services that tests/services has downloaded into the build folder's
# services-cache (cgo).
# Usage: int3share.sh GOLAT_CLI SERVICES_CACHE GOROOT...   (env: INT3_MAX_PCT, 0.1)
set -uo pipefail
cli=$1 cache=$2
shift 2
max=${INT3_MAX_PCT:-0.1}
bins=()
for root in "$@"; do
	for t in "$root"/pkg/tool/linux_amd64/{compile,link,vet} "$root"/bin/{go,gofmt}; do
		[[ -x $t ]] && bins+=("$t")
	done
done
if [[ -d $cache ]]; then
	while IFS= read -r b; do bins+=("$b"); done < <(find -L "$cache" -path '*/x/usr/bin/*' -type f -perm -u+x | sort)
fi
((${#bins[@]})) || { echo "SKIP: no toolchain and no downloaded service"; exit 77; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for b in "${bins[@]}"; do
	# The mode golat plans the binary in (auto); with Go's own handlers no return takes
	# an int3 (hops are refused there), so that mode is not planned here.
	if ! r=$("$cli" list --totals --json "$b" 2>&1); then
		echo "FAIL: golat list --totals $b: $r"
		exit 1
	fi
	printf '%s\t%s\n' "$b" "$r" >>"$out"
done
python3 - "$out" "$max" "$cache" <<'EOF'
import json, sys
rows, fails = [], []
for line in open(sys.argv[1]):
    b, r = line.rstrip("\n").split("\t", 1)
    rows.append((b, json.loads(r)))
most, cache = float(sys.argv[2]), sys.argv[3]
print(f"{'binary':52} {'go':9} {'link':6} {'planned':7} | {'funcs':>6} {'patch':>6} "
      f"{'int3 fn':>7} {'%':>6} | returns: jmp5 hop steered int3 whole")
for b, t in rows:
    name = b.replace(cache + "/", "") if b.startswith(cache) else b
    r = t["returns"]
    print(f"{name[-52:]:52} {t['go_version']:9} {'cgo' if t['dynamic'] else 'static':6} "
          f"{t['planned']:7} | {t['functions']:6} {t['patchable']:6} {t['with_int3']:7} "
          f"{t['int3_pct']:6.3f} | {r['jmp5']} {r['hop']} {r['steered']} {r['int3']} {r['whole']}")
    if t["int3_pct"] <= most:
        continue
    fails.append(f"{name}: {t['int3_pct']:.3f}% of patchable functions return through an int3 "
                 f"(signals {t['planned']}), above {most}%")
for f in fails:
    print("FAIL:", f)
sys.exit(1 if fails else 0)
EOF
