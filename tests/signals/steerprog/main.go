// steerprog: hot calls of functions whose returns golat hooks by steering branches or
// through an int3 (tests/signals/steer.sh). Each generated function (funcs.go) is
// called exactly `calls` times, and hash/crc32's slicingUpdate (a return steered on
// every toolchain here) once per crc32.ChecksumIEEE of 1 to 63 bytes
// (hash/crc32/crc32_amd64.go, archUpdateIEEE), from 4 goroutines, over arguments that
// take every branch, while a 1 kHz CPU profile runs and a goroutine asks for a GC
// every millisecond (a stop of the world that preempts the loops asynchronously:
// runtime/preempt.go). It prints a checksum of every result, the same with golat or
// without.
package main

/*
#include <stdlib.h>
*/
import "C"

import (
	"fmt"
	"hash/crc32"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"
)

const calls = 8000

func main() {
	// "rate": SIGPROF at 1 kHz with nothing written (pprof gzips its output, and
	// gzip calls crc32 too); a path: a CPU profile written there.
	var f *os.File
	if len(os.Args) > 1 && os.Args[1] == "rate" {
		runtime.SetCPUProfileRate(1000)
	} else if len(os.Args) > 1 {
		var err error
		if f, err = os.Create(os.Args[1]); err != nil {
			panic(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			panic(err)
		}
	}
	_ = C.free
	var stop atomic.Bool
	go func() {
		for !stop.Load() {
			runtime.GC()
			time.Sleep(time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	sums := make([]int, 4)
	buf := make([]byte, 64)
	for i := range buf {
		buf[i] = byte(i * 37)
	}
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			s := 0
			for i := 0; i < calls/4; i++ {
				a, b := (i*7+g)%211-20, (i*13+g)%97-10
				for _, fn := range funcs {
					s = s*31 + fn(a, b)
				}
				s += int(crc32.ChecksumIEEE(buf[:1+(i+g)%63]))
			}
			sums[g] = s
		}(g)
	}
	wg.Wait()
	stop.Store(true)
	if f != nil {
		pprof.StopCPUProfile()
		f.Close()
	}
	fmt.Println("checksum", sums[0]^sums[1]^sums[2]^sums[3], "functions", len(funcs), "calls", calls,
		"crc32", calls)
}
