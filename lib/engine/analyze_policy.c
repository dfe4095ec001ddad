/* analyze_policy: the functions golat refuses by name, whatever their code.
 *
 * A trampoline assumes a Go caller on a goroutine or g0 stack with a valid g, and
 * the recorder assumes it is not re-entered from inside itself. Two kinds of Go
 * code break that:
 *  - the runtime and the packages it calls from anywhere: signal handlers
 *    (runtime.sighandler on the gsignal stack), code that runs before g is set or
 *    while it is switched (mstart, cgocallback, systemstack, mcall, gogo), the
 *    scheduler and the exit path golat itself hooks. Go's compiler treats these
 *    packages apart for the same reasons: cmd/internal/objabi/pkgspecial.go,
 *    runtimePkgs (Go 1.22+; objabi/path.go before: runtime/internal/...), and the
 *    runtime refuses to preempt them (runtime/preempt.go, isAsyncSafePoint).
 *  - the child of fork/vfork before exec: syscall.forkAndExecInChild1 runs in a
 *    child that shares the parent's memory (CLONE_VFORK|CLONE_VM) and whose only
 *    calls are raw system calls (syscall/exec_linux.go: "the calls to RawSyscall are
 *    okay because they are assembly ... and no stack split"); a trampoline there
 *    would record into the parent's thread state.
 * Some runtime functions are what a service owner asks about most, and run like any
 * other Go function: on a goroutine (or g0 through systemstack, which has a g too),
 * never in a signal handler, never before g is set, and, when they switch stacks
 * (gopark's mcall, systemstack), back on the same goroutine before they return, so
 * that (g, depth) still names the call. Nothing on golat's path calls them (the
 * recorder calls no Go). Those are allowed by name, below. */
#include "analyze.h"

#include <string.h>

struct rule {
	const char *prefix;
	const char *why;
};

static const char runtime_why[] =
	"runtime function: it may run on g0 or a signal stack, without a g, or inside golat's own "
	"path (the runtime's exit is hooked by golat)";
static const char runtime_pkg_why[] =
	"package the runtime calls from anywhere (cmd/internal/objabi/pkgspecial.go, runtimePkgs): "
	"it may run without a g or on a signal stack";
static const char fork_why[] =
	"runs in the child between fork and exec, sharing the parent's memory "
	"(syscall/exec_linux.go)";

static const struct rule rules[] = {
	{ "runtime.", runtime_why },
	{ "runtime/internal/", runtime_why },
	{ "internal/runtime/", runtime_why },
	{ "internal/abi.", runtime_pkg_why },
	{ "internal/bytealg.", runtime_pkg_why },
	{ "internal/byteorder.", runtime_pkg_why },
	{ "internal/chacha8rand.", runtime_pkg_why },
	{ "internal/coverage/rtcov.", runtime_pkg_why },
	{ "internal/cpu.", runtime_pkg_why },
	{ "internal/goarch.", runtime_pkg_why },
	{ "internal/godebugs.", runtime_pkg_why },
	{ "internal/goexperiment.", runtime_pkg_why },
	{ "internal/goos.", runtime_pkg_why },
	{ "internal/profilerecord.", runtime_pkg_why },
	{ "internal/strconv.", runtime_pkg_why },
	{ "internal/stringslite.", runtime_pkg_why },
	/* forkAndExecInChild1 and what it calls after the clone. */
	{ "syscall.forkAndExecInChild", fork_why },
	{ "syscall.RawSyscall", fork_why }, /* RawSyscall and RawSyscall6 */
	{ "syscall.rawSyscallNoError", fork_why },
	{ "syscall.rawVforkSyscall", fork_why },
	/* runtime_BeforeFork, runtime_AfterFork, runtime_AfterForkInChild: runtime
	 * functions pushed into syscall with //go:linkname; the last runs in the child. */
	{ "syscall.runtime_", fork_why },
};

/* Allocation, slices, maps, channels, select and a forced collection: what
 * allocates or blocks in a service. */
static const char *const runtime_allowed[] = {
	"runtime.mallocgc",   "runtime.newobject",  "runtime.growslice", "runtime.makeslice",
	"runtime.makemap",    "runtime.mapassign",  "runtime.mapaccess1", "runtime.mapaccess2",
	"runtime.selectgo",   "runtime.chansend1",  "runtime.chanrecv1", "runtime.chanrecv2",
	"runtime.GC",
};

const char *analyze_name_policy(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof runtime_allowed / sizeof runtime_allowed[0]; i++)
		if (strcmp(name, runtime_allowed[i]) == 0)
			return NULL;
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		if (strncmp(name, rules[i].prefix, strlen(rules[i].prefix)) == 0)
			return rules[i].why;
	return NULL;
}
