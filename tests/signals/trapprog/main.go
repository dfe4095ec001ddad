// trapprog: hot calls of standard-library functions whose returns golat can only reach
// through an int3 (each call a SIGTRAP golat handles before Go): math.ldexp on every
// toolchain here, strconv.IsPrint and unicode.SimpleFold on Go 1.26 and later (their
// `ret`s are targets of branches with no room for a hop), on 4 goroutines for `rounds`
// calls each, under a 1 kHz CPU
// profile written to FILE and a GC every millisecond that preempts the loops
// asynchronously. Prints a result that does not depend on timing.
//
//	trapprog FILE
package main

// #include <unistd.h>
import "C" // cgo: dynamically linked, so LD_PRELOAD applies

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"
	"unicode"
)

const rounds = 50000

func work(seed int) uint64 {
	// Arguments that take every return: the int3 ones are the rare paths (a zero, an
	// infinity or a NaN for ldexp; runes out of range, past the BMP, or with no fold).
	fracs := []float64{1.5, 0, math.Inf(1), math.NaN(), -3.25, math.Inf(-1), 1e-310}
	runes := []rune{-1, 'A', 'k', 0x3a3, 0x1e9e, 0x10400, 0x10ffff, 0x110000, 0xad, 0x2028}
	var sum uint64
	n := 0
	for i := 0; i < rounds; i++ {
		r := runes[(i+seed)%len(runes)] + rune(i%3)
		if strconv.IsPrint(r) {
			n++
		}
		n += int(unicode.SimpleFold(r) & 0xff)
		sum += math.Float64bits(math.Ldexp(fracs[(i+seed)%len(fracs)], (i+seed)%2100-1050)) >> 32
	}
	return sum + uint64(n)
}

func main() {
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	runtime.SetCPUProfileRate(1000)
	if err := pprof.StartCPUProfile(f); err != nil {
		panic(err)
	}
	stop := make(chan struct{})
	go func() { // a GC every millisecond: stop-the-world preempts the loops
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				runtime.GC()
			}
		}
	}()
	var wg sync.WaitGroup
	out := make([]uint64, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			out[g] = work(g)
		}(g)
	}
	wg.Wait()
	close(stop)
	pprof.StopCPUProfile()
	f.Close()
	fmt.Println(out)
}
