#!/usr/bin/env bash
# The Debian package of golat (debian/), built from this source tree the way Debian
# builds packages, and met the way a user meets it:
#   deb.sh build    copies the tree (the files git tracks or would track, else all but
#                   the build directories) and builds the source and binary packages
#                   (dpkg-buildpackage -us -uc); the .deb holds the expected files, and
#                   Depends names the package of every library the binaries link
#                   (dpkg-shlibdeps: libc6 alone: capstone and zlib are linked in)
#   deb.sh lintian  lintian on both packages, failing on any tag down to pedantic that
#                   an override in debian/ does not explain
#   deb.sh dpkg     as root: dpkg -i; dpkg --verify; golat --version, golat run with no
#                   GOLAT_LIB, pkg-config, man; dpkg -r; then nothing is left of what
#                   dpkg -L listed (a directory may stay only if something else is in it)
# Env: GOLAT_SOURCE_DIR, GOLAT_VERSION, GOLAT_TEST_WORK; JOBS (default 2) for the build.
set -uo pipefail
mode=$1
source "$(dirname "$0")/common.sh"
out=$GOLAT_TEST_WORK/install-deb
work=$out/$mode
ver=$GOLAT_VERSION
arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
deb=$out/golat_${ver}_$arch.deb
changes=$out/golat_${ver}_$arch.changes
skip() {
	echo "SKIP: $*"
	exit 77
}
need_package() {
	[[ -f $deb && -f $changes ]] || skip "no package was built (install_deb_build)"
}

# Copies the source tree to $1 without build directories or .git.
copy_tree() {
	local src=$GOLAT_SOURCE_DIR dst=$1
	mkdir -p "$dst"
	if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$src" && git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
			tar -cf - --null -T -) | tar -xf - -C "$dst"
	else
		tar -C "$src" --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$dst"
	fi
}

# The package that ships the library the loader finds for SONAME $1.
owner() {
	local path p
	path=$(ldconfig -p | awk -v so="$1" '$1 == so && /x86-64/ { print $NF; exit }')
	[[ -n $path ]] || return 1
	for p in "$path" "/usr$path" "${path#/usr}"; do
		dpkg -S "$p" 2>/dev/null | head -n 1 | cut -d: -f1 && return 0
	done
	return 1
}

build() {
	command -v dpkg-buildpackage >/dev/null || skip "dpkg-buildpackage not installed (deps.sh installs dpkg-dev)"
	command -v dh >/dev/null || skip "dh not installed (deps.sh installs debhelper)"
	rm -rf "$out" && mkdir -p "$work"
	copy_tree "$out/golat"
	if ! (cd "$out/golat" && dpkg-checkbuilddeps) >"$work/builddeps.log" 2>&1; then
		bad "build dependencies missing (deps.sh installs them): $(cat "$work/builddeps.log")"
		return
	fi
	if ! (cd "$out/golat" && DEB_BUILD_OPTIONS="parallel=${JOBS:-2}" dpkg-buildpackage -us -uc) \
		>"$work/build.log" 2>&1; then
		tail -n 40 "$work/build.log"
		bad "dpkg-buildpackage failed (log: $work/build.log)"
		return
	fi
	[[ -f $deb ]] || { bad "no $deb: is debian/changelog's version $ver?"; ls "$out"; return; }
	ok "built $(cd "$out" && echo *.deb)"
	dpkg-deb -c "$deb"

	local ma want got
	ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
	want=$(printf './usr/%s\n' bin/golat include/golat.h "lib/$ma/golat/libgolat.so" \
		"lib/$ma/golat/golat-agent.so" "lib/$ma/pkgconfig/golat.pc" share/bash-completion/completions/golat \
		share/doc/golat/changelog.gz share/doc/golat/copyright share/lintian/overrides/golat \
		share/man/man1/golat.1.gz \
		share/man/man7/golat.7.gz | sort)
	got=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $6 }' | sort)
	if [[ $got == "$want" ]]; then
		ok "the package holds the expected $(wc -l <<<"$want") files"
	else
		bad "package files, missing (<) and unexpected (>): $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')"
	fi

	local depends needed so pkg f0=$fail
	depends=$(dpkg-deb -f "$deb" Depends)
	echo "Depends: $depends"
	dpkg-deb -x "$deb" "$work/x"
	needed=$(objdump -p "$work/x/usr/bin/golat" "$work/x/usr/lib/$ma/golat/libgolat.so" |
		awk '$1 == "NEEDED" { print $2 }' | sort -u)
	for so in $needed; do
		if ! pkg=$(owner "$so") || [[ -z $pkg ]]; then
			bad "no installed package ships $so"
		elif ! grep -qE "(^|, )$pkg( |,|$)" <<<"$depends"; then
			bad "the binaries link $so ($pkg), Depends does not name $pkg"
		fi
	done
	if grep -q libunwind <<<"$depends$needed"; then bad "libunwind in Depends or NEEDED"; fi
	if ((fail == f0)); then ok "Depends names the package of each NEEDED library: $(words "$needed")"; fi
}

run_lintian() {
	command -v lintian >/dev/null || skip "lintian not installed (deps.sh installs it)"
	need_package
	mkdir -p "$work"
	local rc=0
	# The verdict; then, for the log, what the overrides hide (with --show-overrides,
	# lintian 2.116 fails on overridden tags too).
	lintian --display-info --pedantic --display-experimental \
		--fail-on error,warning,info,pedantic "$changes" >"$work/lintian.txt" 2>&1 || rc=$?
	lintian --display-info --pedantic --show-overrides "$changes" 2>&1 | grep -E '^(O|N):' >"$work/overridden.txt"
	grep -v 'running with root privileges is not recommended' "$work/lintian.txt"
	cat "$work/overridden.txt"
	if ((rc)); then
		bad "lintian exited $rc: a tag neither fixed nor overridden with a reason"
	else
		ok "lintian: no tag but those overridden ($(grep -c '^O:' "$work/overridden.txt") overridden)"
	fi
}

run_dpkg() {
	[[ $(id -u) == 0 ]] || skip "dpkg -i needs root"
	need_package
	local status
	status=$(dpkg-query -W -f='${Status}' golat 2>/dev/null)
	[[ -z $status || $status == *not-installed ]] || skip "a golat package is installed already ($status): not replacing it"
	newest_go
	rm -rf "$work" && mkdir -p "$work"
	trap 'dpkg -P golat >/dev/null 2>&1' EXIT
	if ! dpkg -i "$deb" >"$work/dpkg-i.log" 2>&1; then
		cat "$work/dpkg-i.log"
		bad "dpkg -i $deb failed"
		return
	fi
	ok "dpkg -i $(basename "$deb")"
	dpkg -L golat >"$work/files"
	if dpkg --verify golat >"$work/verify" 2>&1 && [[ ! -s $work/verify ]]; then
		ok "dpkg --verify: every file as packaged"
	else
		bad "dpkg --verify: $(cat "$work/verify")"
	fi

	local v
	v=$(/usr/bin/golat --version)
	if [[ $v == "golat $ver" ]]; then ok "golat --version: $v"; else bad "golat --version printed '$v'"; fi
	check_run /usr/bin/golat "$(grep '/libgolat\.so$' "$work/files")"
	check_attach_pc ""
	if grep -qs '^path-exclude.*/usr/share/man' /etc/dpkg/dpkg.cfg.d/*; then
		echo "not checked: this system's dpkg leaves out manual pages (path-exclude)"
	elif man -w golat | grep -q '^/usr/share/man/man1/golat\.1\.gz$' &&
		man -w 7 golat | grep -q '^/usr/share/man/man7/golat\.7\.gz$'; then
		ok "man finds golat(1) and golat(7)"
	else
		bad "man -w golat: $(man -w golat 2>&1)"
	fi

	if ! dpkg -r golat >"$work/dpkg-r.log" 2>&1; then
		cat "$work/dpkg-r.log"
		bad "dpkg -r golat failed"
		return
	fi
	trap - EXIT
	status=$(dpkg-query -W -f='${Status}' golat 2>/dev/null)
	[[ -z $status || $status == *not-installed ]] || bad "after dpkg -r, golat is '$status' (a conffile left?)"
	local p left=0
	while IFS= read -r p; do
		[[ $p == /. ]] && continue
		if [[ -L $p || (-e $p && ! -d $p) ]]; then
			bad "left behind after dpkg -r: $p"
			left=1
		elif [[ -d $p && -z $(ls -A "$p") ]]; then
			bad "left behind after dpkg -r: the empty directory $p"
			left=1
		fi
	done <"$work/files"
	((left)) || ok "dpkg -r: none of the $(wc -l <"$work/files") paths of dpkg -L is left but shared directories"
}

case $mode in
build) build ;;
lintian) run_lintian ;;
dpkg) run_dpkg ;;
*)
	echo "usage: deb.sh build|lintian|dpkg"
	exit 2
	;;
esac
finish "install deb $mode"
