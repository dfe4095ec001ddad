# Shared by the container tests (sourced, not run): Go services in podman containers
# (uid 1000, --read-only, the default private /dev/shm, --network host), made from
# images that hold only the program and what it loads, reached by golat from outside.
#   ctr_setup CASE GO      go_toolchain (exit 77 without it), $golat, $work (fresh),
#                          $id (golat-test-<pid>-CASE: every container and image this
#                          test makes is named from it, so parallel runs never collide),
#                          a trap that removes them; exit 77 "SKIP: ..." when this
#                          machine cannot run a container (no podman, or a trivial
#                          image does not run)
#   pm ARGS                podman with the runtime that works here (runc)
#   ctr_build              $work/svc (tests/attach/svc, cgo), $work/ssvc (the same, no cgo,
#                          static) and $work/load (tests/attach/load, run on the host)
#   ctr_root DIR [-r ROOT] FILE...   DIR gets each FILE at its path and what ldd lists
#                          for it, resolved (inside ROOT, default /), plus the loader
#   svc_image cgo|static   the image of a service (img), see there
#   ctr_image NAME DIR [--change C]...  imports DIR as localhost/$id-NAME:test; sets img
#   ctr_run NAME [PODMAN_ARGS...] -- IMAGE CMD...  starts a service container; sets
#                          svc_name, svc_pid (as the host sees it), svc_ctr (its id),
#                          svc_url once it says its address; fails the test otherwise
#   served / load_start / load_stop / still_answers / svc_quit / quit_counted / text_save /
#   text_same
#   attach_cycles NAME N   N windows of golat attach -d from the host, each checked
#   bad MSG / ok MSG / finish
# Env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK, GOLAT_CTR_CACHE (where the Debian 11 root
# is kept between runs, default /var/cache/golat-tests).
# shellcheck shell=bash disable=SC2034  # set here for the sourcing script

source "$(dirname "${BASH_SOURCE[0]}")/../gotool.sh"
ctr_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
attach_here=$(cd "$ctr_here/../attach" && pwd)
specs='main.(*svc).ServeHTTP,main.work'

pm() { podman --runtime runc "$@"; }

skip() {
	echo "SKIP: $*"
	exit 77
}

ctr_setup() {
	area=$1
	SECONDS=0
	go_toolchain "$2"
	golat=${GOLAT_CLI:?GOLAT_CLI must name the golat command}
	[[ -x $golat ]] || { echo "FAIL: GOLAT_CLI=$golat is not executable"; exit 1; }
	[[ $(ldd "$golat" 2>/dev/null) == *libasan* ]] &&
		skip "golat is built with ASan, whose runtime cannot be loaded into Go"
	work=${GOLAT_TEST_WORK:-/tmp/golat-testwork}/container/$area-$ver
	rm -rf "$work" && mkdir -p "$work"
	# Go's own cache, as the other tests use it (they build svc/ and load/ too); one of
	# ours where there is no home to keep it in.
	[[ -n ${GOCACHE:-}${XDG_CACHE_HOME:-}${HOME:-} ]] ||
		export GOCACHE=${GOLAT_TEST_WORK:-/tmp/golat-testwork}/container/gocache
	id=golat-test-$$-$area
	containers=() images=()
	trap ctr_cleanup EXIT
	command -v podman >/dev/null || skip "podman is not installed (deps.sh installs it)"
	command -v runc >/dev/null || skip "runc is not installed (deps.sh installs it)"
	# A trivial image: /bin/true and its libraries. If that does not run as uid 1000,
	# read-only, nothing here can.
	ctr_root "$work/probe" /bin/true
	ctr_image probe "$work/probe" || skip "podman import fails here: $(tail -1 "$work/import.err")"
	ctr_opts=(--user 1000 --read-only --network host --ulimit nofile=4096:4096 --ulimit nproc=4096:4096)
	ctr_sweep
	if ! pm run --rm --name "$id-probe" "${ctr_opts[@]}" "$img" /bin/true >"$work/probe.err" 2>&1; then
		skip "podman cannot run a container here: $(tail -1 "$work/probe.err")"
	fi
}

# What a test killed before its trap ran (a CTest timeout) left: containers and images
# named golat-test-PID-... whose PID is gone.
ctr_sweep() {
	local n p
	while read -r n; do
		p=${n#*golat-test-} p=${p%%-*}
		[[ $p =~ ^[0-9]+$ ]] && ! kill -0 "$p" 2>/dev/null && pm rm -f -t 0 "$n" >/dev/null 2>&1
	done < <(pm ps -a --format '{{.Names}}' --filter name=golat-test- 2>/dev/null)
	while read -r n; do
		p=${n#localhost/golat-test-} p=${p%%-*}
		[[ $p =~ ^[0-9]+$ ]] && ! kill -0 "$p" 2>/dev/null && pm rmi -f "$n:test" >/dev/null 2>&1
	done < <(pm images --format '{{.Repository}}' --filter reference='localhost/golat-test-*' 2>/dev/null)
	return 0
}

ctr_cleanup() {
	local j
	for j in $(jobs -p); do kill -9 "$j" 2>/dev/null; done
	local c
	for c in "${containers[@]}"; do
		pm rm -f -t 0 "$c" >/dev/null 2>&1
	done
	((${#images[@]})) && pm rmi -f "${images[@]}" >/dev/null 2>&1
	return 0
}

ctr_build() {
	local b=${GOLAT_ATTACH_BINS:-} # tests/attach/build.sh's, when CTest ran it
	if [[ -n $b && -x $b/exe && -x $b/static && -x $b/load ]]; then
		cp "$b/exe" "$work/svc" && cp "$b/static" "$work/ssvc" && cp "$b/load" "$work/load" ||
			{ echo "FAIL: cannot copy the services from $b"; exit 1; }
	else
		(cd "$attach_here/svc" && "$go" build -o "$work/svc" . &&
			CGO_ENABLED=0 "$go" build -o "$work/ssvc" . &&
			cd "$attach_here/load" && "$go" build -o "$work/load" .) >"$work/build.err" 2>&1 ||
			{ echo "FAIL: $gover cannot build the services: $(tail -5 "$work/build.err")"; exit 1; }
	fi
	[[ $(ldd "$work/ssvc" 2>&1) == *'not a dynamic executable'* ]] ||
		{ echo "FAIL: svc built with CGO_ENABLED=0 is not static"; exit 1; }
}

ctr_root() {
	local dir=$1 root=/ f p real
	shift
	[[ $1 == -r ]] && { root=$2; shift 2; }
	in_root() { if [[ $root == / ]]; then "$@"; else chroot "$root" "$@"; fi; }
	for f in "$@"; do
		# ldd prints "name => /path (addr)" and "/loader (addr)"; static: no paths. Each
		# is copied as the file it resolves to in that root (Debian 11's loader is an
		# absolute link), under the name the program asks for.
		while read -r p; do
			if ! real=$(in_root readlink -f "$p") || ! mkdir -p "$dir${p%/*}" || ! cp "$root$real" "$dir$p"; then
				bad "cannot copy $p of $root into the image"
			fi
		done < <(echo "$f"; in_root ldd "$f" 2>/dev/null | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i}')
	done
}

# svc_image cgo|static: the image of a service at /svc, as localhost/$id-KIND:test (img):
# cgo, tests/attach/svc with its own libraries only; static, it built without cgo, alone (scratch).
svc_image() {
	local dir=$work/root-$1
	case $1 in
	cgo) ctr_root "$dir" "$work/svc" && mv "$dir$work/svc" "$dir/svc" ;;
	static) mkdir -p "$dir" && cp "$work/ssvc" "$dir/svc" ;;
	esac
	ctr_image "$1" "$dir" || { bad "podman import: $(cat "$work/import.err")"; finish; }
}

ctr_image() {
	local name=$1 dir=$2 changes=() c
	shift 2
	while (($#)); do changes+=(--change "$2"); shift 2; done
	img=localhost/$id-$name:test
	tar -C "$dir" -cf "$work/$name.tar" . || return 1
	images+=("$img")
	pm import "${changes[@]}" "$work/$name.tar" "$img" >/dev/null 2>"$work/import.err"
}

ctr_run() {
	local name=$1 args=() i
	shift
	while [[ $1 != -- ]]; do args+=("$1"); shift; done
	shift
	svc_name=$id-$name
	containers+=("$svc_name")
	svc_url='' svc_pid='' svc_ctr=
	if ! pm run -d --name "$svc_name" "${ctr_opts[@]}" "${args[@]}" "$@" >"$work/$name.run" 2>&1; then
		bad "$name: podman run: $(tail -3 "$work/$name.run")"
		return 1
	fi
	for ((i = 0; i < 100; i++)); do
		svc_url=$(pm logs "$svc_name" 2>/dev/null | grep -m1 -E '^127\.0\.0\.1:[0-9]+$')
		[[ -n $svc_url ]] && break
		[[ $(pm inspect -f '{{.State.Running}}' "$svc_name" 2>/dev/null) == true ]] || break
		sleep 0.2
	done
	if [[ -z $svc_url ]]; then
		bad "$name does not listen after 20 s: $(pm logs "$svc_name" 2>&1 | tail -5)"
		return 1
	fi
	svc_url=http://$svc_url
	svc_pid=$(pm inspect -f '{{.State.Pid}}' "$svc_name")
	svc_ctr=$(pm inspect -f '{{.Id}}' "$svc_name")
	return 0
}

served() { curl -sf --max-time 10 "$svc_url/count"; }

# still_answers NAME: the service is alive and answers GET /count.
still_answers() {
	if [[ $(served) =~ ^[0-9]+$ ]] && kill -0 "$svc_pid" 2>/dev/null; then
		ok "$1: the service still answers"
	else
		bad "$1: the service no longer answers"
	fi
}

# load_start NAME: tests/attach/load on the host, 4 clients, 2 ms apart.
load_start() {
	load_dir=$work/$1
	rm -f "$load_dir.stop"
	"$work/load" "$svc_url/hello" 4 2 "$load_dir.stop" >"$load_dir.load" 2>&1 &
	load_pid=$!
	local i n
	n=$(served)
	for ((i = 0; i < 100; i++)); do
		(($(served) > n)) && return 0
		sleep 0.05
	done
	bad "$1: the load client got no request served in 5 s: $(cat "$load_dir.load")"
}

load_stop() {
	touch "$load_dir.stop"
	if wait "$load_pid"; then
		ok "$1: no request failed: $(cat "$load_dir.load")"
	else
		bad "$1: the load client says: $(cat "$load_dir.load")"
	fi
}

# svc_quit NAME: GET /quit; the container must then exit 0, and everything golat
# printed in it is golat: lines. Its logs (stdout and stderr) go to $work/NAME.logs.
svc_quit() {
	local status
	curl -sf --max-time 10 "$svc_url/quit" >/dev/null || bad "$1: GET /quit failed"
	status=$(timeout 30 podman --runtime runc wait "$svc_name" 2>&1)
	pm logs "$svc_name" >"$work/$1.logs" 2>&1
	if [[ $status == 0 ]]; then
		ok "$1: the service exited normally"
	else
		bad "$1: the service exited with status $status: $(tail -3 "$work/$1.logs")"
	fi
	if grep -vE '^(golat: |127\.0\.0\.1:[0-9]+$)' "$work/$1.logs"; then
		bad "$1: the service printed lines without the golat: prefix"
	fi
}

# quit_counted NAME: svc_quit NAME for a service started with GOLAT_FUNCS and
# GOLAT_OUTPUT=/out/report.json ($work/out mounted at /out): its final report must count
# a ServeHTTP call for every request it served.
quit_counted() {
	local n c
	n=$(served)
	svc_quit "$1"
	c=$(calls "$work/out/report.json" 'main.(*svc).ServeHTTP')
	if ((c > 0 && c >= n)); then
		ok "$1: the final report: ServeHTTP $c calls, served $n"
	else
		bad "$1: the final report says ServeHTTP $c calls, served $n: $(grep '^golat: ' "$work/$1.logs" | tail -3)"
	fi
}

text_save() {
	python3 "$attach_here/text.py" save "$svc_pid" "$work/$1.text" >/dev/null ||
		bad "$1: cannot read the text of pid $svc_pid"
}

# text_same NAME WHEN: the service's text is byte for byte what text_save NAME saw.
text_same() {
	local why
	why=$(python3 "$attach_here/text.py" same "$svc_pid" "$work/$1.text" 2>&1) && return 0
	bad "$1: $2: $why"
	return 1
}

# calls JSON NAME: the calls of function NAME in a golat JSON report (0 when absent).
calls() {
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(sum(f["calls"] for f in r["functions"] if f["name"] == sys.argv[2]))' "$1" "$2" 2>/dev/null || echo -1
}

# attach_cycles NAME N: N windows of 0.5 s, golat attach -d from the host, each with
# calls of ServeHTTP no more than the requests served around it, and the text byte for
# byte as before after each detach. The load must be running.
attach_cycles() {
	local name=$1 n=$2 i before after c good=0 out
	text_save "$name"
	for ((i = 1; i <= n; i++)); do
		before=$(served)
		out=$work/$name.win$i
		if ! "$golat" attach "$svc_pid" -f "$specs" -d 0.5 -o "$out.json" >"$out.out" 2>"$out.err"; then
			bad "$name cycle $i: golat attach $svc_pid -f '$specs' -d 0.5 failed: $(head -5 "$out.err")"
			continue
		fi
		after=$(served)
		c=$(calls "$out.json" 'main.(*svc).ServeHTTP')
		if ((c <= 0 || c > after - before)); then
			bad "$name cycle $i: ServeHTTP calls $c, served $((after - before)) around the window"
			continue
		fi
		text_same "$name" "after cycle $i" || continue
		echo "  cycle $i: ServeHTTP $c calls, main.work $(calls "$out.json" main.work), served $((after - before))"
		good=$((good + 1))
	done
	((good == n)) && ok "$name: $n windows from the host: calls within the requests served, text as before after each"
}

# bullseye_build OUT: tests/attach/svc built by this toolchain against Debian 11's glibc
# 2.31, in a chroot of a Debian 11 root kept between runs in $GOLAT_CTR_CACHE (made by
# debootstrap the first time, a few minutes); sets broot, and OUT is the program's path
# inside it. The toolchain is bound at its own paths in a private mount namespace, so
# nothing stays mounted however the test ends. One test at a time (flock).
bullseye_build() {
	local out=$1 cache=${GOLAT_CTR_CACHE:-/var/cache/golat-tests} gv lock
	(($(id -u) == 0)) || skip "a Debian 11 root needs root (debootstrap, chroot, mount)"
	command -v debootstrap >/dev/null || skip "debootstrap is not installed (deps.sh installs it)"
	broot=$cache/bullseye
	mkdir -p "$cache"
	exec {lock}>"$cache/bullseye.lock"
	flock "$lock"
	if [[ ! -e $broot/.golat-ready ]]; then
		echo "making the Debian 11 root $broot (once per machine)"
		rm -rf "$broot" "$broot.tmp"
		if ! debootstrap --variant=minbase --include=gcc,libc6-dev bullseye "$broot.tmp" \
			http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1; then
			echo "FAIL: debootstrap bullseye: $(tail -3 "$work/debootstrap.log")"
			exit 1
		fi
		mv "$broot.tmp" "$broot" && touch "$broot/.golat-ready"
	fi
	gv=$(basename "$(dirname "$(dirname "$go")")")
	rm -rf "$broot/tmp/src-$id" && cp -r "$attach_here/svc" "$broot/tmp/src-$id"
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m --propagation private bash -c '
		set -e
		r=$1 gv=$2
		for d in /usr/lib/$gv /usr/share/$gv; do
			[[ -d $d ]] && mkdir -p "$r$d" && mount --bind "$d" "$r$d"
		done
		mount -t proc proc "$r/proc"
		mount --bind /dev "$r/dev"
		chroot "$r" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/tmp GOCACHE=/tmp/gocache-$gv \
			GOPATH=/tmp/gopath GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod CGO_ENABLED=1 \
			/bin/sh -c "cd /tmp/src-$3 && /usr/lib/$gv/bin/go build -o $4 ."' \
		_ "$broot" "$gv" "$id" "$out" >"$work/bullseye-build.err" 2>&1
	local status=$?
	rm -rf "$broot/tmp/src-$id"
	flock -u "$lock"
	((status == 0)) || { echo "FAIL: $gover cannot build svc/ in Debian 11: $(tail -5 "$work/bullseye-build.err")"; exit 1; }
}

finish() {
	if ((fail == 0)); then
		echo "container $area $gover: all checks passed in $SECONDS s"
	else
		echo "container $area $gover: FAILED in $SECONDS s"
	fi
	exit $fail
}
