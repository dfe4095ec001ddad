#!/usr/bin/env bash
# agent_selfcontained: golat-agent.so ($1) can be mapped into a static Go program with
# no loader and no libc, and started at its ELF entry point:
#  - no program interpreter (PT_INTERP), no DT_NEEDED library, no PT_TLS segment;
#  - no undefined symbol, and no dynamic relocation but R_X86_64_RELATIVE (which the
#    command applies itself, with the load address);
#  - its entry point is golat_agent_init.
# Each failure is named; the exit status is 1 if any.
set -uo pipefail
so=${1:?usage: selfcontained.sh golat-agent.so}
bad=0
fail() { echo "FAIL: ${*:0:400}"; bad=1; }

[[ -f $so ]] || { echo "FAIL: no $so"; exit 1; }
phdrs=$(readelf -lW "$so") || { echo "FAIL: readelf -l $so"; exit 1; }
grep -q '^ *INTERP ' <<<"$phdrs" && fail "it asks for a program interpreter (PT_INTERP)"
grep -q '^ *TLS ' <<<"$phdrs" && fail "it has thread-local storage (PT_TLS): Go owns FS in a static program"
grep -q '^ *LOAD ' <<<"$phdrs" || fail "it has no PT_LOAD segment"

needed=$(readelf -dW "$so" | grep '(NEEDED)')
[[ -z $needed ]] || fail "it needs libraries: $needed"

undef=$(readelf -sW --dyn-syms "$so" | awk '$7 == "UND" && $8 != "" { print $8 }')
[[ -z $undef ]] || fail "undefined symbols: $(echo $undef)"
undef=$(nm -u "$so" 2>/dev/null)
[[ -z $undef ]] || fail "undefined symbols (symtab): $(echo $undef)"

relocs=$(readelf -rW "$so" | awk '/^[0-9a-f]+ +[0-9a-f]+ +R_/ { print $3 }' | sort -u | grep -v '^R_X86_64_RELATIVE$')
[[ -z $relocs ]] || fail "relocations other than R_X86_64_RELATIVE: $(echo $relocs)"

entry=$(readelf -hW "$so" | awk '/Entry point address:/ { print $4 }')
init=$(readelf -sW --dyn-syms "$so" | awk '$8 == "golat_agent_init" { print "0x" $2; exit }')
[[ -n $init ]] || init=$(readelf -sW "$so" | awk '$8 == "golat_agent_init" { print "0x" $2; exit }')
if [[ -z $init ]]; then
	fail "no symbol golat_agent_init"
elif (( entry != init )); then
	fail "entry point $entry is not golat_agent_init ($init)"
fi

(( bad )) && exit 1
echo "ok: $so has no interpreter, no NEEDED, no TLS, no undefined symbol, only RELATIVE relocations, entry golat_agent_init"
