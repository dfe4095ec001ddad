// The overhead benchmark's program: it times, by itself, loops of calls to a tiny
// function that golat may have hooked (main.leaf), and the cost of two rdtsc in C
// (rdtsc_cgo.go: built without cgo, for golat's static route, it has no C and prints
// the leaf lines only), and prints one line per measurement:
//
//	rdtsc2 <ns per pair>
//	rdtscpar <goroutines> <CPU ns per pair, with that many calling at once>
//	leaf <goroutines> <ns per call>
//	switch <goroutines> <ns per call, goroutines taking turns on one thread>
//
// Each figure is the median of -rounds rounds. Run it with and without golat.
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

var sink [64]int // one cache line per goroutine: nothing shared in the loop

//go:noinline
func leaf(x int) int { return x + 1 }

func loop(slot, n int) {
	v := sink[slot*8]
	for i := 0; i < n; i++ {
		v = leaf(v)
	}
	sink[slot*8] = v
}

// perCall runs g goroutines of n calls each and returns the CPU time of one call: the
// wall time per call of each goroutine, times the share of a core each one had (with
// more goroutines than cores they take turns, and wall time grows for that alone).
func perCall(g, n int) float64 {
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func(i int) { defer wg.Done(); loop(i, n) }(i)
	}
	wg.Wait()
	cores := runtime.NumCPU()
	if cores > g {
		cores = g
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n) * float64(cores) / float64(g)
}

// rdtscPar is perCall for rdtsc pairs in C, g goroutines (so g threads) at once.
func rdtscPar(g, n int) float64 {
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < g; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); rdtscPairNs(n) }()
	}
	wg.Wait()
	cores := runtime.NumCPU()
	if cores > g {
		cores = g
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n) * float64(cores) / float64(g)
}

// perSwitch runs g goroutines of n calls each on one thread (GOMAXPROCS 1), each
// yielding with runtime.Gosched() after every call, so that every call follows a
// goroutine switch, as on a server: wall time per call, switch included.
func perSwitch(g, n int) float64 {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	var wg sync.WaitGroup
	start := time.Now()
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
	return float64(time.Since(start).Nanoseconds()) / float64(g*n)
}

func median(f func() float64, rounds int) float64 {
	v := make([]float64, rounds)
	for i := range v {
		v[i] = f()
	}
	sort.Float64s(v)
	return v[rounds/2]
}

func main() {
	n := flag.Int("n", 2000000, "calls per goroutine per round")
	rounds := flag.Int("rounds", 7, "rounds per figure (the median is printed)")
	cases := flag.String("cases", "rdtsc,leaf,switch", "what to measure (callgrind runs one at a time)")
	flag.Parse()
	want := func(c string) bool { return strings.Contains(","+*cases+",", ","+c+",") }
	runtime.GOMAXPROCS(runtime.NumCPU())
	if haveRdtsc && want("rdtsc") {
		fmt.Printf("rdtsc2 %.2f\n", median(func() float64 { return rdtscPairNs(*n) }, *rounds))
		// The floor in parallel: two vCPUs may be siblings of one core, and rdtsc is
		// microcoded, so pairs on both cost more than on one, whatever golat does.
		for _, g := range []int{1, 2, 4} {
			fmt.Printf("rdtscpar %d %.2f\n", g, median(func() float64 { return rdtscPar(g, *n) }, *rounds))
		}
	}
	for _, g := range []int{1, 2, 4} {
		if !want("leaf") {
			break
		}
		perCall(g, *n/10) // warm up: threads, stacks, the stats shards
		fmt.Printf("leaf %d %.2f\n", g, median(func() float64 { return perCall(g, *n) }, *rounds))
	}
	if want("switch") {
		perSwitch(8, *n/80) // warm up
		fmt.Printf("switch 8 %.2f\n", median(func() float64 { return perSwitch(8, *n/8) }, *rounds))
	}
}
