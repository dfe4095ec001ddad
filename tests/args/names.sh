# Sourced by run.sh and big.sh. same_names EXE WORK LABEL: the parameters args_test finds
# (names, types, results, order, through abstract origins) for every function of the
# pclntab are those Go's own debug/dwarf finds (tests/args/ref, built by the newest
# installed toolchain into WORK). The reference also lists C functions, which the
# pclntab does not: only its lines for entries args_test printed are compared.
# shellcheck shell=bash
same_names() {
	local exe=$1 work=$2 label=$3 newest=
	for v in 1.27 1.26 1.25 1.24 1.23 1.22 1.21 1.19; do
		if [[ -x /usr/lib/go-$v/bin/go ]]; then newest=/usr/lib/go-$v/bin/go; break; fi
	done
	[[ -x $work/argsref ]] || (cd "$here/ref" && "$newest" build -o "$work/argsref" .)
	"$work/argsref" "$exe" >"$work/names.want"
	"$args_test" --names "$exe" >"$work/names.got"
	awk 'NR == FNR {want[$1] = $0; next} $1 in want {print want[$1]}' \
		"$work/names.want" "$work/names.got" >"$work/names.want.go"
	if diff -u "$work/names.want.go" "$work/names.got" >"$work/names.diff"; then
		echo "$label: the parameters of $(wc -l <"$work/names.got") functions agree with debug/dwarf"
		return 0
	fi
	echo "FAIL: $label: parameters differ from debug/dwarf (- want, + got):"
	head -20 "$work/names.diff"
	return 1
}
