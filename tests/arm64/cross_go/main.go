// An arm64 cgo program that tests/arm64/cross_go.sh runs under qemu-user with an arm64
// library preloaded (LD_PRELOAD), the way golat's library is loaded: it prints its
// architecture, a sum the Go code computes, and what the preloaded library's
// constructor left in the process (found through dlsym, as libc sees it). It prints
// with println (to stderr) and imports nothing but runtime: on a fresh machine the test
// compiles the arm64 standard library it needs, and fmt would triple that.
package main

/*
#define _GNU_SOURCE
#include <dlfcn.h>

// The preloaded library's counter of constructor runs, or -1 when no such library is
// loaded into this process.
static int preload_runs(void)
{
	int *p = dlsym(RTLD_DEFAULT, "crossgo_preload_runs");
	return p ? *p : -1;
}
*/
import "C"

import "runtime"

//go:noinline
func sum(n int) int {
	s := 0
	for i := 1; i <= n; i++ {
		s += i * i
	}
	return s
}

func main() {
	println("go: " + runtime.GOOS + "/" + runtime.GOARCH + " " + runtime.Version())
	println("go: sum", sum(1000))
	println("go: preload runs", int(C.preload_runs()))
}
