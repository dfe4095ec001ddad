// The program the answers tests measure: every figure the report gives beyond a
// function's own numbers is one this program knows.
//   - callers: main.leaf is called 16 times from main.callerA, once from main.callerB;
//   - self time: main.parent spins 2 ms itself and calls main.child for 2 and 3 ms;
//   - the slowest calls: main.nap sleeps for its argument in ms, the longest 150 ms,
//     and returns it doubled; main.greet takes a string and sleeps for its length plus
//     its second argument in ms, the longest 123 ms.
// It prints what it did as "key value" lines for check.py. Built with cgo (cgo.go) for
// LD_PRELOAD, and with CGO_ENABLED=0 for golat run.
package main

import (
	"fmt"
	"os"
	"time"
)

//go:noinline
func leaf(n int) int { return n*2 + 1 }

//go:noinline
func callerA() int {
	s := 0
	for i := 0; i < 16; i++ {
		s += leaf(i)
	}
	return s
}

//go:noinline
func callerB() int { return leaf(100) }

// spin keeps the CPU busy for d: self time is time on CPU as much as parked.
func spin(d time.Duration) {
	for t := time.Now(); time.Since(t) < d; {
	}
}

//go:noinline
func child(ms int) { spin(time.Duration(ms) * time.Millisecond) }

//go:noinline
func parent() {
	spin(time.Millisecond)
	child(2)
	child(3)
	spin(time.Millisecond)
}

//go:noinline
func nap(ms int) int {
	time.Sleep(time.Duration(ms) * time.Millisecond)
	return ms * 2
}

//go:noinline
func greet(who string, pad int) int {
	time.Sleep(time.Duration(len(who)+pad) * time.Millisecond)
	return len(who)
}

func main() {
	start := time.Now()
	s := callerA() + callerB()
	for i := 0; i < 10; i++ {
		parent()
	}
	// The slowest by far, so that a loaded machine cannot reorder them.
	for _, ms := range []int{1, 4, 150, 2, 7, 3, 1, 12, 5, 2, 9} {
		s += nap(ms)
	}
	for i, w := range []string{"ab", "a long name to wait for", "abc"} {
		s += greet(w, 1+99*(i&1))
	}
	fmt.Printf("start_ns %d\nend_ns %d\nsum %d\n", start.UnixNano(), time.Now().UnixNano(), s)
	os.Exit(0)
}
