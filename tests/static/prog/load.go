// load STOP: what tests/static/attach.sh attaches to. Until the file STOP exists:
// four goroutines call main.work (which calls main.square and yields now and then, so
// they move between threads); one spins in main.mix (a tight loop with 14 live
// registers: preempted asynchronously, and the likeliest place for golat to find a
// thread; its result is checked against one computed before golat came); and one
// starts a goroutine every millisecond that locks its thread, calls main.onThread and
// exits, taking the thread with it (threads come and go while golat holds the
// others). Each result is checked against what it must be. Prints "load: started",
// "progress N" (calls of main.work so far) every 50 ms, and at the end "load: N calls
// of main.work, M wrong" and the count lines; exits 1 when M > 0.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

var (
	cWork   = reg("work")
	cSquare = reg("square")
)

//go:noinline
func square(x int) int { return x * x }

//go:noinline
func work(i int) int {
	r := square(i) + 1
	cSquare.done()
	if i%64 == 0 {
		runtime.Gosched()
	}
	return r
}

func load(stop string) {
	var stopped int32
	var wrong int64
	var wg sync.WaitGroup
	// What main.mix must return, computed before golat can be there.
	const spins = 2_000_000
	spun := mix(spins)
	cMix.done()
	fmt.Println("load: started")
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; atomic.LoadInt32(&stopped) == 0; i += 4 {
				if work(i) != i*i+1 {
					atomic.AddInt64(&wrong, 1)
				}
				cWork.done()
			}
		}(w)
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		for atomic.LoadInt32(&stopped) == 0 {
			if mix(spins) != spun {
				atomic.AddInt64(&wrong, 1)
			}
			cMix.done()
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; atomic.LoadInt32(&stopped) == 0; i++ {
			done := make(chan int)
			go func(i int) {
				runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
				r := onThread(i)
				cOnThread.done()
				done <- r
			}(i)
			if <-done != i*7+1 {
				atomic.AddInt64(&wrong, 1)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for {
		time.Sleep(50 * time.Millisecond)
		fmt.Println("progress", atomic.LoadInt64(&cWork.n))
		if _, err := os.Stat(stop); err == nil {
			break
		}
	}
	atomic.StoreInt32(&stopped, 1)
	wg.Wait()
	fmt.Printf("load: %d calls of main.work, %d wrong\n", atomic.LoadInt64(&cWork.n), wrong)
	printCounts()
	if wrong > 0 {
		os.Exit(1)
	}
}
