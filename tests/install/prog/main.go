// The program the install tests run under an installed golat: cgo (so dynamically
// linked and LD_PRELOAD applies), a function called a known number of times, and an
// exit status of its own that golat run must pass on.
package main

// int installprog_twice(int x) { return 2 * x; }
import "C"

import (
	"fmt"
	"os"
)

const calls = 1000

//go:noinline
func work(i int) int {
	s := 0
	for k := 0; k < 100+i%7; k++ {
		s += k ^ i
	}
	return s
}

func main() {
	sum := 0
	for i := 0; i < calls; i++ {
		sum += work(i)
	}
	sum += int(C.installprog_twice(C.int(calls)))
	fmt.Printf("calls %d sum %d\n", calls, sum)
	fmt.Printf("LD_PRELOAD=%s\n", os.Getenv("LD_PRELOAD"))
	os.Exit(7)
}
