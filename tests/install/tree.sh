#!/usr/bin/env bash
# golat as `cmake --install` lays it out, used from there with no GOLAT_LIB:
#   tree.sh destdir   DESTDIR=<work>/root cmake --install BUILD (the configured prefix)
#   tree.sh prefix    cmake --install BUILD --prefix <work>/prefix
# Then: exactly the expected files; golat --version and --help; golat run finds the
# installed library by itself and reports on a cgo program; man-db renders golat(1) and
# golat(7) without a warning, and they name the installed paths; golat.pc links the
# attach API; the bash completion offers every verb. With destdir, also that golat(1)
# documents exactly the verbs golat --help lists and the GOLAT_* variables the code reads.
# Env (tests/install/CMakeLists.txt): GOLAT_BUILD_DIR, GOLAT_SOURCE_DIR, GOLAT_VERSION,
# GOLAT_INSTALL_PREFIX and GOLAT_INSTALL_{BINDIR,LIBDIR,INCLUDEDIR,MANDIR,DATADIR} as
# configured, GOLAT_TEST_WORK.
set -uo pipefail
mode=$1
source "$(dirname "$0")/common.sh"
newest_go
work=$GOLAT_TEST_WORK/install-$mode
rm -rf "$work" && mkdir -p "$work"

case $mode in
destdir)
	prefix=$GOLAT_INSTALL_PREFIX
	top=$work/root$prefix
	DESTDIR=$work/root cmake --install "$GOLAT_BUILD_DIR" >"$work/install.log" 2>&1
	;;
prefix)
	for d in BINDIR LIBDIR INCLUDEDIR MANDIR DATADIR; do
		v=GOLAT_INSTALL_$d
		if [[ ${!v} == /* ]]; then
			echo "SKIP: CMAKE_INSTALL_$d is absolute (${!v}): --prefix does not move it"
			exit 77
		fi
	done
	prefix=$work/prefix
	top=$prefix
	cmake --install "$GOLAT_BUILD_DIR" --prefix "$prefix" >"$work/install.log" 2>&1
	;;
*)
	echo "usage: tree.sh destdir|prefix"
	exit 2
	;;
esac || { cat "$work/install.log"; echo "FAIL: cmake --install"; exit 1; }
echo "installed with prefix $prefix into $top"

# Installed where GNUInstallDirs says, and nothing else.
at() { [[ $1 == /* ]] && echo "${top%"$prefix"}$1" || echo "$top/$1"; }
bin=$(at "$GOLAT_INSTALL_BINDIR")/golat
lib=$(at "$GOLAT_INSTALL_LIBDIR")/golat/libgolat.so
agent=$(at "$GOLAT_INSTALL_LIBDIR")/golat/golat-agent.so
pcdir=$(at "$GOLAT_INSTALL_LIBDIR")/pkgconfig
man1=$(at "$GOLAT_INSTALL_MANDIR")/man1/golat.1
man7=$(at "$GOLAT_INSTALL_MANDIR")/man7/golat.7
compl=$(at "$GOLAT_INSTALL_DATADIR")/bash-completion/completions/golat
header=$(at "$GOLAT_INSTALL_INCLUDEDIR")/golat.h
want=$(printf '%s\n' "$bin" "$lib" "$agent" "$pcdir/golat.pc" "$man1" "$man7" "$compl" "$header" | sort)
got=$(find "$work/${mode/destdir/root}" \( -type f -o -type l \) | sort)
if [[ $got == "$want" ]]; then
	ok "installed files: $(words "${want//$top\//}")"
else
	bad "installed files, missing (<) and unexpected (>): $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')"
fi
[[ -x $bin ]] || { bad "$bin is not executable"; finish "install $mode"; }

v=$("$bin" --version)
if [[ $v == "golat $GOLAT_VERSION" ]]; then ok "golat --version: $v"; else bad "golat --version printed '$v'"; fi
if "$bin" --help >"$work/help" && grep -q '^usage: golat ' "$work/help"; then
	ok "golat --help"
else
	bad "golat --help: $(cat "$work/help")"
fi

check_run "$bin" "$lib"

check_man "$man1" "$man7"
installed_lib=$prefix/$GOLAT_INSTALL_LIBDIR/golat/libgolat.so
[[ $GOLAT_INSTALL_LIBDIR == /* ]] && installed_lib=$GOLAT_INSTALL_LIBDIR/golat/libgolat.so
if grep -qF "$installed_lib" "$man1"; then
	ok "golat.1 names the library as installed: $installed_lib"
else
	bad "golat.1 does not name the library as installed: $installed_lib"
fi

if [[ $mode == destdir ]]; then
	check_attach_pc "$pcdir" --define-variable=prefix="$top"
	# golat(1) against the code: the verbs golat --help lists, the variables lib/ reads.
	src=$GOLAT_SOURCE_DIR/man/golat.1
	verbs=$(help_verbs "$bin")
	documented=$(sed -nE 's/^\.B golat ([a-z]+)$/\1/p' "$src" | sort -u)
	if [[ $documented == "$verbs" ]]; then
		ok "golat(1) documents the verbs: $(words "$verbs")"
	else
		bad "golat(1) synopsis has '$(words "$documented")', golat --help '$(words "$verbs")'"
	fi
	# A variable's name appears in the C sources as a string of its own ("GOLAT_FUNCS").
	read_vars=$(grep -rhoE --include='*.c' '"GOLAT_[A-Z_]+"' "$GOLAT_SOURCE_DIR/lib" "$GOLAT_SOURCE_DIR/tools" |
		tr -d '"' | sort -u)
	doc_vars=$(awk 'p == ".TP" && /^\.B GOLAT_[A-Z_]+$/ { print $2 } { p = $0 }' "$src" | sort -u)
	if [[ $doc_vars == "$read_vars" ]]; then
		ok "golat(1) documents the variables: $(words "$doc_vars")"
	else
		bad "golat(1) documents '$(words "$doc_vars")', the code reads '$(words "$read_vars")'"
	fi
else
	check_attach_pc "$pcdir"
fi
check_completion "$compl" "$bin"
finish "install $mode"
