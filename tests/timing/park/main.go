// 2000 goroutines, released together, each parks 20 ms inside one hooked function
// (time.Sleep: the goroutine leaves its thread, which runs others meanwhile). Prints
// the p50 it measured itself around the calls, in ms, for comparison.
package main

// #include <unistd.h>
import "C"

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

//go:noinline
func park(d time.Duration) {
	time.Sleep(d)
}

func main() {
	const n = 2000
	start := make(chan struct{})
	took := make([]time.Duration, n)
	var ready, done sync.WaitGroup
	for i := 0; i < n; i++ {
		ready.Add(1)
		done.Add(1)
		go func(i int) {
			defer done.Done()
			ready.Done()
			<-start
			t := time.Now()
			park(20 * time.Millisecond)
			took[i] = time.Since(t)
		}(i)
	}
	ready.Wait()
	close(start)
	done.Wait()
	sort.Slice(took, func(a, b int) bool { return took[a] < took[b] })
	fmt.Printf("program p50 %.3f ms, max %.3f ms\n", float64(took[n/2])/1e6, float64(took[n-1])/1e6)
}
