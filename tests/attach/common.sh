# Shared by the attach tests (sourced, not run). Provides:
#   attach_setup AREA GO   the toolchain (ver, gover), the work directory (work), this folder
#                          (here), golat (the CLI); or exit 77 "SKIP: go1.N not installed"
#   attach_build           $work/exe (go build) and $work/pie (-buildmode=pie, stripped) of
#                          svc/, and $work/load of load/: copies of what build.sh built in
#                          GOLAT_ATTACH_BINS (CTest's fixture), else built here
#   bins                   exe pie
#   svc_start BIN [VAR=VALUE...]   starts $work/BIN with those variables (none: no golat);
#                          sets svc_pid and svc_url (http://127.0.0.1:PORT), stderr in
#                          $work/BIN.err; fails the test when it does not listen in 20 s
#   svc_quit               GET /quit, then its exit status must be 0
#   served                 prints the requests the service has served (GET /count)
#   bad MSG / ok MSG / finish
# Env: GOLAT_LIB, GOLAT_CLI, GOLAT_TEST_WORK (default: /tmp/golat-testwork).
# shellcheck shell=bash

source "$(dirname "${BASH_SOURCE[0]}")/../gotool.sh"

attach_setup() {
	area=$1
	go_toolchain "$2"
	golat=${GOLAT_CLI:?GOLAT_CLI must name the golat command}
	[[ -x $golat ]] || { echo "FAIL: GOLAT_CLI=$golat is not executable"; exit 1; }
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	work=${GOLAT_TEST_WORK:-/tmp/golat-testwork}/attach/$area/$ver
	rm -rf "$work"
	mkdir -p "$work"
	# shellcheck disable=SC2034 # for the scripts that source this
	bins=(exe pie)
	# A check that fails while a program runs in the background must not leave it running.
	trap 'kill -9 $(jobs -p) 2>/dev/null || true' EXIT
}

attach_build() {
	local b=${GOLAT_ATTACH_BINS:-}
	if [[ -n $b && -x $b/exe && -x $b/pie && -x $b/load ]]; then
		cp "$b/exe" "$b/pie" "$b/load" "$work/" && return
	fi
	(cd "$here/svc" && "$go" build -o "$work/exe" . && "$go" build -buildmode=pie -o "$work/pie" . &&
		strip "$work/pie" && cd "$here/load" && "$go" build -o "$work/load" .) ||
		{ echo "FAIL: $gover cannot build svc/ and load/"; exit 1; }
}

svc_start() {
	local bin=$1 i
	shift
	rm -f "$work/$bin.addr"
	env "$@" "$work/$bin" >"$work/$bin.addr" 2>"$work/$bin.err" &
	svc_pid=$!
	for ((i = 0; i < 400; i++)); do
		[[ -s $work/$bin.addr ]] && break
		sleep 0.05
	done
	if [[ ! -s $work/$bin.addr ]]; then
		bad "$bin does not listen after 20 s: $(cat "$work/$bin.err")"
		finish
	fi
	svc_url=http://$(head -1 "$work/$bin.addr")
}

served() {
	curl -sf --max-time 10 "$svc_url/count"
}

# served_beyond N: the service has served more than N requests.
served_beyond() {
	local n
	n=$(served) && (($n > $1))
}

# running PID EXE: PID has exec'd EXE (a path) and sleeps or runs in it: its
# constructors, a preloaded library's too, have run.
running() {
	[[ $(readlink "/proc/$1/exe" 2>/dev/null) == "$2" ]] || return 1
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[[ $st == S ]]
}

svc_quit() {
	local status=0
	curl -sf --max-time 10 "$svc_url/quit" >/dev/null || bad "GET /quit failed"
	wait "$svc_pid" || status=$?
	if [[ $status == 0 ]]; then
		ok "the service exited normally"
	else
		bad "the service exited with status $status: $(tail -3 "$work/$bin.err")"
	fi
	# GOLAT_FUNCS was unset: nothing asked for a final report, so the stats stay.
	# A golat killed while attaching leaves its lock file (golat-PID.attach) too.
	rm -f "/dev/shm/golat-$svc_pid.stats" "${TMPDIR:-/tmp}/golat-$svc_pid.stats" \
		"/dev/shm/golat-$svc_pid.sock" "${TMPDIR:-/tmp}/golat-$svc_pid.sock" \
		"/dev/shm/golat-$svc_pid.attach" "${TMPDIR:-/tmp}/golat-$svc_pid.attach"
}

finish() {
	if ((fail == 0)); then
		echo "attach $area $gover: all checks passed"
	else
		echo "attach $area $gover: FAILED"
	fi
	exit $fail
}
