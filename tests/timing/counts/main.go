// Calls a set of hooked functions a known number of times from many goroutines and
// prints, as one JSON object on stdout, how many times it called each one and how
// many OS threads the process had at the end (golat samples per function per thread).
// The functions cover what a recorder keyed by (g, stack depth) must get right:
// plain leaf calls, goroutines moving between threads mid-call (Gosched), recursion,
// a large frame that makes the entry's stack check grow the stack (morestack jumps
// back to the entry), a method, and a function that panics every seventh call (its
// caller recovers): those calls are "panicked", not "calls".
package main

// #include <unistd.h>
import "C"

import (
	"encoding/json"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

var (
	nLeaf, nYield, nRec, nBig, nMethod int64
	nRisky, nPanics                    int64
	sink                               int64
)

//go:noinline
func leaf(x int64) int64 {
	atomic.AddInt64(&nLeaf, 1)
	return x*3 + 1
}

//go:noinline
func yield(x int64) int64 {
	atomic.AddInt64(&nYield, 1)
	runtime.Gosched()
	return x + 1
}

//go:noinline
func rec(depth int) int64 {
	atomic.AddInt64(&nRec, 1)
	if depth == 0 {
		return 1
	}
	return rec(depth-1) + 1
}

//go:noinline
func big(x int64) int64 {
	atomic.AddInt64(&nBig, 1)
	var buf [16384]byte
	buf[x&1023] = byte(x)
	for i := range buf {
		buf[i] += byte(i)
	}
	return int64(buf[x&4095])
}

type box struct{ v int64 }

//go:noinline
func (b *box) add(x int64) int64 {
	atomic.AddInt64(&nMethod, 1)
	b.v += x
	return b.v
}

//go:noinline
func risky(x int64) int64 {
	atomic.AddInt64(&nRisky, 1)
	if x%7 == 0 {
		atomic.AddInt64(&nPanics, 1)
		panic("seventh")
	}
	return x + 2
}

// tryRisky recovers risky's panic, so that the hooked risky is unwound, not returned.
func tryRisky(x int64) (v int64) {
	defer func() {
		if recover() != nil {
			v = -1
		}
	}()
	return risky(x)
}

func worker(id int, rounds int, wg *sync.WaitGroup) {
	defer wg.Done()
	var s int64
	b := &box{}
	for i := 0; i < rounds; i++ {
		s += leaf(int64(i))
		if i%4 == 0 {
			s += yield(int64(i))
		}
		if i%50 == 0 {
			s += rec(id % 20)
		}
		if i%100 == 0 {
			s += big(int64(i))
		}
		s += b.add(int64(i))
		if i%10 == 0 {
			s += tryRisky(int64(i / 10))
		}
	}
	atomic.AddInt64(&sink, s)
}

func main() {
	goroutines, rounds := 200, 3000
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		// A fresh goroutine has a small stack: its first call of big grows it.
		go worker(g, rounds+g, &wg)
	}
	wg.Wait()
	tasks, _ := os.ReadDir("/proc/self/task")
	out := map[string]interface{}{
		"threads": len(tasks),
		"calls": map[string]int64{
			"main.leaf":       nLeaf,
			"main.yield":      nYield,
			"main.rec":        nRec,
			"main.big":        nBig,
			"main.(*box).add": nMethod,
			"main.risky":      nRisky - nPanics,
		},
		"panicked": map[string]int64{"main.risky": nPanics},
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
