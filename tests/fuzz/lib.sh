# Sourced by the fuzz scripts: build a libFuzzer target with clang (ASan + UBSan) and
# run it for a bounded time, printing libFuzzer's counts. The sources are compiled as
# libgolat.so's are: glibc_compat.h force-included (lib/CMakeLists.txt).
#   fuzz_build OUT SOURCES...   (exit 77 when clang is missing)
#   fuzz_run NAME BIN CORPUS WORK SECONDS MAXLEN
# The folder of this host's instruction set under lib/arch (lib/CMakeLists.txt, GOLAT_ARCH).
fuzz_isa() {
	case $(uname -m) in aarch64 | arm64) echo arm64 ;; *) echo x86_64 ;; esac
}

fuzz_build() {
	local out=$1 top
	shift
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	if ! command -v clang >/dev/null; then
		echo "SKIP: clang is not installed (apt-get install clang)"
		exit 77
	fi
	clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Wall -Wextra -Werror -DGOLAT_VERSION_STRING='"fuzz"' -include "$top/lib/glibc_compat.h" -I"$top/lib" $(for d in "$top"/lib/*/ "$top/lib/arch/$(fuzz_isa)/"; do printf -- '-I%s ' "$d"; done) -I"$top/include" \
		"$@" $(pkg-config --cflags --libs capstone zlib) -lm -o "$out"
}

fuzz_run() {
	local name=$1 bin=$2 corpus=$3 work=$4 secs=$5 maxlen=$6 rc
	mkdir -p "$work/artifacts"
	echo "$name: $(find "$corpus" -type f | wc -l) seeds, ${secs}s"
	set +e
	"$bin" -max_total_time="$secs" -rss_limit_mb=4096 -max_len="$maxlen" -timeout=20 \
		-artifact_prefix="$work/artifacts/" -print_final_stats=1 "$corpus" >"$work/fuzz.log" 2>&1
	rc=$?
	set -e
	grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|Done [0-9]+ runs' "$work/fuzz.log" || true
	if ((rc != 0)); then
		tail -n 60 "$work/fuzz.log"
		echo "$name: FAILED (exit $rc), crashing input in $work/artifacts"
		exit 1
	fi
	echo "$name: no crash in ${secs}s"
}
