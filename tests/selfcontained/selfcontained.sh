#!/usr/bin/env bash
# selfcontained_elf: what libgolat.so ($1), golat-agent.so ($2) and the golat command
# ($3) ask of the machine, from their dynamic sections (readelf -d, objdump -T):
#  - they NEED libc.so.6 and ld-linux-x86-64.so.2 alone: a Go service's image on
#    glibc 2.34+ often holds nothing else. What lives in libpthread.so.0 or libdl.so.2
#    below glibc 2.34 (pthread_create and its kin, dlsym) is bound weakly, so that the
#    loader takes it from wherever the program loaded it, or leaves it 0 (lib/glibc_compat.h);
#  - no libcapstone, no libz: they are linked in;
#  - libgolat.so and golat-agent.so need no GLIBC_ version above 2.17, nor
#    GLIBC_PRIVATE (the command: printed, not required: its crt1 is the build
#    machine's);
#  - libgolat.so exports exactly what golat.map ($4) lets out, so no capstone (cs_*)
#    or zlib (inflate*, deflate*, crc32, ...) symbol; the command exports none either.
# One line per check; the exit status is 1 if any failed.
set -uo pipefail
lib=${1:?usage: selfcontained.sh libgolat.so golat-agent.so golat golat.map}
agent=${2:?} cli=${3:?} map=${4:?}
max=2.17
fail=0
bad() {
	echo "FAIL: $*"
	fail=1
}
ok() { echo "ok: $*"; }
words() { tr '\n' ' ' <<<"$1" | sed 's/ *$//'; }
or_none() { if [[ -n $1 ]]; then words "$1"; else echo none; fi; }

glibc_libs='^(libc\.so\.6|ld-linux-x86-64\.so\.2)$'
thirdparty='^(cs_|inflate|deflate|crc32|adler32|compress|uncompress|gz|zlib|zError|zcalloc|zcfree|get_crc_table|_tr_|z_)'

# NEEDED entries of $1, one a line.
needed() { readelf -dW "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'; }
# "symbol@GLIBC_x.y" for each undefined dynamic symbol of $1 with a glibc version.
undef_versions() {
	objdump -T "$1" | awk '$0 ~ /\*UND\*/ && match($0, /GLIBC_[A-Z0-9_.]+/) {
		print $NF "@" substr($0, RSTART, RLENGTH) }'
}
# Defined dynamic symbols of $1, one a line.
exported() { objdump -T "$1" | awk '$0 !~ /\*UND\*/ && $0 ~ /^[0-9a-f]+ / && $NF != "" { print $NF }' | sort -u; }

check_needed() {
	local name=$1 f=$2 n others
	n=$(needed "$f")
	others=$(grep -vE "$glibc_libs" <<<"$n" | grep -v '^$')
	if [[ -n $others ]]; then
		bad "$name NEEDs more than glibc: $(words "$others") (all: $(words "$n"))"
	else
		ok "$name NEEDs only glibc: $(or_none "$n")"
	fi
	if grep -qE '^lib(capstone|z)\.so' <<<"$n"; then
		bad "$name NEEDs capstone or zlib: they must be linked in statically"
	fi
}

# check_versions NAME FILE REQUIRED: each undefined symbol's GLIBC_ version <= $max.
check_versions() {
	local name=$1 f=$2 required=$3 all versions over newer
	all=$(undef_versions "$f")
	versions=$(sed -n 's/.*@GLIBC_//p' <<<"$all" | sort -uV)
	# The versions sort -V puts after $max, and GLIBC_PRIVATE.
	over=$(printf '%s\n' "$max" "$versions" | sort -uV | sed "1,/^${max//./\\.}\$/d")
	newer=$(for v in $over; do grep -E "@GLIBC_${v//./\\.}$" <<<"$all"; done)
	if [[ -z $newer ]]; then
		ok "$name needs no glibc newer than $max: $(or_none "$(sed '/./s/^/GLIBC_/' <<<"$versions")")"
	elif ((required)); then
		bad "$name needs glibc newer than $max: $(words "$newer") (lib/glibc_compat.h pins or replaces such calls)"
	else
		echo "note: $name needs glibc newer than $max (not required of it): $(words "$newer")"
	fi
}

for f in "$lib" "$agent" "$cli"; do
	[[ -f $f ]] || { echo "FAIL: no $f"; exit 1; }
done

check_needed libgolat.so "$lib"
check_needed golat-agent.so "$agent"
check_needed "the golat command" "$cli"

# Below glibc 2.34, these are libpthread.so.0's and libdl.so.2's, not libc.so.6's: each
# reference must be weak ("w" in objdump -T), or the loader refuses libgolat.so in a
# program that loaded neither.
lib_weak=$(objdump -T "$lib" | awk '$0 ~ /\*UND\*/ && $2 == "w" { print $NF }')
for sym in pthread_create pthread_once pthread_key_create pthread_getspecific pthread_setspecific \
	pthread_setname_np pthread_sigmask dlsym dlopen dladdr; do
	if ! objdump -T "$lib" | awk '$0 ~ /\*UND\*/ { print $NF }' | grep -qx "$sym"; then
		ok "libgolat.so does not call $sym"
	elif grep -qx "$sym" <<<"$lib_weak"; then
		ok "libgolat.so binds $sym weakly"
	else
		bad "libgolat.so binds $sym strongly: below glibc 2.34 it is not libc.so.6's"
	fi
done

check_versions libgolat.so "$lib" 1
check_versions golat-agent.so "$agent" 1
check_versions "the golat command" "$cli" 0

# golat.map: the patterns between "global:" and "local:".
patterns=$(tr '\n' ' ' <<<"$(cat "$map")" | sed -n 's/.*global:\(.*\)local:.*/\1/p' | tr ';' '\n' | tr -d ' \t' | grep -v '^$')
[[ -n $patterns ]] || bad "no global: patterns read from $map"
stray=()
while IFS= read -r sym; do
	[[ -n $sym ]] || continue
	matched=0
	while IFS= read -r pat; do
		# shellcheck disable=SC2053 # pat is a glob from golat.map
		[[ $sym == $pat ]] && matched=1 && break
	done <<<"$patterns"
	((matched)) || stray+=("$sym")
done <<<"$(exported "$lib")"
if ((${#stray[@]})); then
	bad "libgolat.so exports symbols golat.map does not: ${stray[*]}"
else
	ok "libgolat.so exports only what golat.map lets out: $(words "$(exported "$lib")")"
fi
for pair in "libgolat.so:$lib" "the golat command:$cli"; do
	name=${pair%%:*} f=${pair#*:}
	leaked=$(exported "$f" | grep -E "$thirdparty")
	if [[ -n $leaked ]]; then
		bad "$name exports capstone or zlib symbols: $(words "$leaked")"
	else
		ok "$name exports no capstone or zlib symbol"
	fi
done

((fail)) && exit 1
echo "selfcontained_elf: all checks passed"
