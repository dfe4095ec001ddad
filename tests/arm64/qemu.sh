# Sourced by the arm64 tests. arm64_ready DIR: the cross compiler is there, binfmt_misc
# is mounted, qemu-aarch64 is registered in it (from qemu-user-static's
# /usr/lib/binfmt.d/qemu-aarch64.conf; mounting and registering need root), and a
# trivial arm64 program built into DIR runs and prints what it should. Otherwise the test
# exits 77 with one line saying why (deps.sh installs what it needs; DESIGN.md, arm64).
# Programs run directly (the kernel hands them to qemu), never through
# `qemu-aarch64 -L /usr/aarch64-linux-gnu` (it hung): the arm64 libc is multiarch's.
# shellcheck shell=bash
ARM64_CC=${ARM64_CC:-aarch64-linux-gnu-gcc}
binfmt=/proc/sys/fs/binfmt_misc

arm64_skip() {
	echo "SKIP: $*"
	exit 77
}

arm64_binfmt() {
	local conf=/usr/lib/binfmt.d/qemu-aarch64.conf
	if [[ ! -e $binfmt/register ]]; then
		[[ $(id -u) == 0 ]] || arm64_skip "binfmt_misc is not mounted and mounting it needs root"
		mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null || [[ -e $binfmt/register ]] ||
			arm64_skip "cannot mount binfmt_misc on $binfmt (no CAP_SYS_ADMIN here?)"
	fi
	if [[ ! -e $binfmt/qemu-aarch64 ]]; then
		[[ -r $conf ]] || arm64_skip "no $conf (deps.sh installs qemu-user-static)"
		[[ $(id -u) == 0 ]] || arm64_skip "qemu-aarch64 is not registered in binfmt_misc and registering it needs root"
		# Another test may register it at the same moment: its entry is as good as ours.
		grep -v '^#' "$conf" >"$binfmt/register" 2>/dev/null || true
		[[ -e $binfmt/qemu-aarch64 ]] || arm64_skip "cannot register qemu-aarch64 in $binfmt/register"
	fi
	if [[ $(head -n1 "$binfmt/qemu-aarch64") != enabled ]]; then
		[[ $(id -u) == 0 ]] || arm64_skip "qemu-aarch64 is disabled in binfmt_misc and enabling it needs root"
		echo 1 >"$binfmt/qemu-aarch64" 2>/dev/null || arm64_skip "cannot enable qemu-aarch64 in binfmt_misc"
	fi
	[[ $(head -n1 "$binfmt/status") == enabled ]] || arm64_skip "binfmt_misc is disabled ($binfmt/status)"
}

arm64_ready() {
	local dir=$1 out
	command -v "$ARM64_CC" >/dev/null || arm64_skip "no $ARM64_CC (deps.sh installs gcc-aarch64-linux-gnu)"
	arm64_binfmt
	mkdir -p "$dir"
	printf '#include <stdio.h>\nint main(void) { printf("arm64 %%zu\\n", sizeof(void *)); return 0; }\n' >"$dir/hello.c"
	"$ARM64_CC" -O2 -o "$dir/hello" "$dir/hello.c" 2>"$dir/hello.err" ||
		arm64_skip "$ARM64_CC cannot build a program: $(head -n1 "$dir/hello.err") (deps.sh installs libc6-dev:arm64)"
	out=$(timeout 20 "$dir/hello" 2>&1)
	[[ $out == "arm64 8" ]] ||
		arm64_skip "an arm64 program does not run under qemu-aarch64 (it printed: ${out:0:200}; deps.sh installs libc6:arm64 and qemu-user-static)"
}
