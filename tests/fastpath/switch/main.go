// A goroutine switch between two hooked calls stays on the recorder's fast path: 8
// goroutines on one thread (GOMAXPROCS 1) call main.leaf and yield (runtime.Gosched)
// after every call, so that every entry follows a switch. After a warm-up (each
// goroutine's first call, the thread's first, the cells' and callers' pages), the
// program reads the calls the fast path gave to C from its own stats file's header
// (lib/record/stats.h, slowpath; -stats names the file) before and after 8 x 10,000
// more calls, and prints:
//
//	calls <hooked calls after the warm-up> slow <calls given to C meanwhile>
package main

import "C" // cgo: libgolat.so keeps its thread state in libc's TLS

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
)

// The offset of slowpath in struct stats_header (lib/record/stats.h asserts it).
const slowpathOff = 496

var sink [64]int

//go:noinline
func leaf(x int) int { return x + 1 }

func run(g, n int) {
	var wg sync.WaitGroup
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			v := sink[i*8]
			for j := 0; j < n; j++ {
				v = leaf(v)
				runtime.Gosched()
			}
			sink[i*8] = v
		}(i)
	}
	wg.Wait()
}

func slowpath(path string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil || len(b) < slowpathOff+8 {
		fmt.Fprintln(os.Stderr, "cannot read the stats header:", path, err)
		os.Exit(2)
	}
	return binary.LittleEndian.Uint64(b[slowpathOff:])
}

func main() {
	stats := flag.String("stats", "", "this process's stats file")
	flag.Parse()
	runtime.GOMAXPROCS(1)
	run(8, 100) // warm-up
	before := slowpath(*stats)
	const g, n = 8, 10000
	run(g, n)
	after := slowpath(*stats)
	fmt.Printf("calls %d slow %d\n", g*n, after-before)
}
