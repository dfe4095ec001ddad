// Calls a hooked function (a 1 ms sleep) from 4 goroutines until the file named by its
// argument exists (at most 60 s), then prints how many calls it made.
package main

// #include <unistd.h>
import "C"

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

var calls int64

//go:noinline
func tick() {
	time.Sleep(time.Millisecond)
}

func main() {
	stop := os.Args[1]
	var stopped int32
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.LoadInt32(&stopped) == 0 {
				tick()
				atomic.AddInt64(&calls, 1)
			}
		}()
	}
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(stop); err == nil {
			break
		}
	}
	atomic.StoreInt32(&stopped, 1)
	wg.Wait()
	fmt.Println("calls", calls)
}
