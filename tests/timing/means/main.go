// Three kinds of time a call can spend, each in its own hooked function, 150 calls each,
// the three running at once in their own goroutines: burning CPU (~2 ms of arithmetic),
// parked in the Go scheduler (time.Sleep 5 ms), and blocked in C (usleep 3 ms through
// cgo: the thread leaves Go). The program times every call itself with time.Now around
// it and prints {"main.cpu": mean_ns, "main.sleep": ..., "main.cgo": ...} on stdout.
package main

// #include <unistd.h>
import "C"

import (
	"encoding/json"
	"os"
	"sync"
	"time"
)

const calls = 150

var sink uint64

//go:noinline
func cpu(n int) uint64 {
	x := uint64(n)
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		x ^= x >> 29
	}
	return x
}

//go:noinline
func sleep() {
	time.Sleep(5 * time.Millisecond)
}

//go:noinline
func cgo() {
	C.usleep(3000)
}

// spins is how many rounds of cpu's loop take ~2 ms here: the fastest of 5 timings of
// an unhooked copy of the loop, so that a busy moment does not skew it.
func spins() int {
	n := 100000
	for {
		best := time.Hour
		for i := 0; i < 5; i++ {
			t := time.Now()
			sink += loop(n)
			if d := time.Since(t); d < best {
				best = d
			}
		}
		if best > time.Millisecond {
			return int(float64(n) * float64(2*time.Millisecond) / float64(best))
		}
		n *= 2
	}
}

//go:noinline
func loop(n int) uint64 {
	x := uint64(n)
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		x ^= x >> 29
	}
	return x
}

func measure(f func()) float64 {
	var total time.Duration
	for i := 0; i < calls; i++ {
		t := time.Now()
		f()
		total += time.Since(t)
	}
	return float64(total.Nanoseconds()) / calls
}

func main() {
	n := spins()
	means := map[string]float64{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	run := func(name string, f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := measure(f)
			mu.Lock()
			means[name] = m
			mu.Unlock()
		}()
	}
	var s uint64
	run("main.cpu", func() { s += cpu(n) })
	run("main.sleep", sleep)
	run("main.cgo", cgo)
	wg.Wait()
	sink += s
	json.NewEncoder(os.Stdout).Encode(means)
}
