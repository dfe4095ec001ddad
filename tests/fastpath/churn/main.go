// Goroutines that come and go, change threads and nest hooked calls four deep, so that
// each thread's cache of goroutines (lib/record/gslot.h) keeps entries whose slots other
// threads took over and gave back, and the table's keys are claimed again for new
// goroutines on reused g structs. -rounds times, -width goroutines start, each calls
// main.outer -iters times (outer -> mid -> inner -> leaf, all hooked: the last two in a
// slot's extension frames) with a runtime.Gosched() inside inner, and every fourth a
// blocking handoff through a channel, then exits. -hold goroutines stay inside the
// hooked main.hold for the whole run (slots with a call in flight, evicted from caches
// and found again). GOMAXPROCS is -procs, more than the machine's cores.
//
// stdout: {"calls": {fn: n}}, the calls the program counted itself.
package main

import "C" // cgo: libgolat.so keeps its thread state in libc's TLS

import (
	"encoding/json"
	"flag"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

var nOuter, nMid, nInner, nLeaf, nHold, sink int64

var handoff = make(chan int64)

//go:noinline
func leaf(x int64) int64 {
	atomic.AddInt64(&nLeaf, 1)
	return x*31 + 7
}

//go:noinline
func inner(x int64, block bool) int64 {
	atomic.AddInt64(&nInner, 1)
	runtime.Gosched()
	if block {
		select {
		case handoff <- x:
		case y := <-handoff:
			x ^= y
		}
	}
	return leaf(x)
}

//go:noinline
func mid(x int64, block bool) int64 {
	atomic.AddInt64(&nMid, 1)
	return inner(x+1, block) + 1
}

//go:noinline
func outer(x int64, block bool) int64 {
	atomic.AddInt64(&nOuter, 1)
	return mid(x, block) * 3
}

//go:noinline
func hold(release <-chan struct{}) {
	atomic.AddInt64(&nHold, 1)
	<-release
}

func main() {
	rounds := flag.Int("rounds", 40, "rounds of goroutines")
	width := flag.Int("width", 3000, "goroutines started per round")
	iters := flag.Int("iters", 8, "calls of main.outer per goroutine")
	holders := flag.Int("hold", 2000, "goroutines inside main.hold all along")
	procs := flag.Int("procs", 8, "GOMAXPROCS")
	flag.Parse()
	runtime.GOMAXPROCS(*procs)

	release := make(chan struct{})
	var held sync.WaitGroup
	for i := 0; i < *holders; i++ {
		held.Add(1)
		go func() {
			defer held.Done()
			hold(release)
		}()
	}
	// A partner for handoffs left without one when the round ends.
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-handoff:
			case <-stop:
				return
			}
		}
	}()
	for r := 0; r < *rounds; r++ {
		var wg sync.WaitGroup
		for i := 0; i < *width; i++ {
			wg.Add(1)
			go func(x int64) {
				defer wg.Done()
				s := x
				for j := 0; j < *iters; j++ {
					s = outer(s, j%4 == 3)
				}
				atomic.AddInt64(&sink, s)
			}(int64(r**width + i))
		}
		wg.Wait()
	}
	close(stop)
	close(release)
	held.Wait()
	json.NewEncoder(os.Stdout).Encode(map[string]interface{}{
		"calls": map[string]int64{"main.outer": nOuter, "main.mid": nMid, "main.inner": nInner,
			"main.leaf": nLeaf, "main.hold": nHold},
	})
}
