// Many goroutines inside one hooked function at once. Phase 1: -n goroutines each enter
// main.hold and block there until all -n have entered (then the program writes what it
// measured of itself to -measure: VmRSS and the time taken, and, with -pause F, creates
// F.ready and waits for F.go, so that a reader can look at the live stats meanwhile); then
// one channel close lets them all return. Phase 2: -workers goroutines call main.after
// -calls times each (g structs of the ended goroutines are reused for them). Phase 3: -fresh
// new goroutines, one after another in -workers batches, call main.fresh once each.
//
// stdout: {"calls": {fn: n}, "threads": t}, the calls counted by the program itself (the
// same with or without golat); stderr: the times of the phases.
package main

// #include <unistd.h>
import "C"

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var nHold, nAfter, nFresh, sink int64

//go:noinline
func hold(entered *sync.WaitGroup, release <-chan struct{}) {
	atomic.AddInt64(&nHold, 1)
	entered.Done()
	<-release
}

//go:noinline
func after(x int64) int64 {
	atomic.AddInt64(&nAfter, 1)
	return x*7 + 1
}

//go:noinline
func fresh(x int64) int64 {
	atomic.AddInt64(&nFresh, 1)
	return x ^ 0x5bd1e995
}

func vmRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			if f := strings.Fields(l); len(f) >= 2 {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				return n
			}
		}
	}
	return -1
}

func main() {
	n := flag.Int("n", 1000000, "goroutines inside main.hold at once")
	workers := flag.Int("workers", 1000, "goroutines calling main.after")
	calls := flag.Int("calls", 100, "calls of main.after per worker")
	nfresh := flag.Int("fresh", 10000, "new goroutines calling main.fresh once each")
	measure := flag.String("measure", "", "where to write what the program measured of itself (JSON)")
	pause := flag.String("pause", "", "with all goroutines in main.hold: create this.ready, wait for this.go")
	flag.Parse()

	t0 := time.Now()
	var entered, returned sync.WaitGroup
	release := make(chan struct{})
	entered.Add(*n)
	returned.Add(*n)
	for i := 0; i < *n; i++ {
		go func() {
			hold(&entered, release)
			returned.Done()
		}()
	}
	entered.Wait()
	tIn := time.Since(t0)
	if *measure != "" {
		tasks, _ := os.ReadDir("/proc/self/task")
		b, _ := json.Marshal(map[string]interface{}{
			"rss_kb": vmRSS(), "goroutines": runtime.NumGoroutine(), "threads_now": len(tasks),
			"enter_s": tIn.Seconds(),
		})
		if err := os.WriteFile(*measure, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines:", err)
			os.Exit(2)
		}
	}
	if *pause != "" {
		if err := os.WriteFile(*pause+".ready", nil, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines:", err)
			os.Exit(2)
		}
		for {
			if _, err := os.Stat(*pause + ".go"); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t1 := time.Now()
	close(release)
	returned.Wait()
	tOut := time.Since(t1)

	t2 := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s := int64(w)
			for i := 0; i < *calls; i++ {
				s = after(s)
			}
			atomic.AddInt64(&sink, s)
		}(w)
	}
	wg.Wait()
	for done := 0; done < *nfresh; {
		batch := *workers
		if batch > *nfresh-done {
			batch = *nfresh - done
		}
		for i := 0; i < batch; i++ {
			wg.Add(1)
			go func(x int64) {
				defer wg.Done()
				atomic.AddInt64(&sink, fresh(x))
			}(int64(done + i))
		}
		wg.Wait()
		done += batch
	}
	tAfter := time.Since(t2)

	tasks, _ := os.ReadDir("/proc/self/task")
	json.NewEncoder(os.Stdout).Encode(map[string]interface{}{
		"threads": len(tasks),
		"calls":   map[string]int64{"main.hold": nHold, "main.after": nAfter, "main.fresh": nFresh},
	})
	fmt.Fprintf(os.Stderr, "goroutines: %d entered main.hold in %.2fs, returned in %.2fs; "+
		"%d x %d main.after and %d main.fresh in %.2fs\n",
		*n, tIn.Seconds(), tOut.Seconds(), *workers, *calls, *nfresh, tAfter.Seconds())
}
