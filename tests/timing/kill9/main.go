// Runs hooked calls forever from 8 goroutines, counting the calls that returned, and
// every 100 ms writes that count to the file named by its argument (written to a temporary
// file and renamed: a reader never sees half a number). Waits to be killed.
package main

// #include <unistd.h>
import "C"

import (
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

var done int64

//go:noinline
func work(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i * i
	}
	if n%7 == 0 {
		time.Sleep(100 * time.Microsecond)
	}
	return s
}

func main() {
	path := os.Args[1]
	for g := 0; g < 8; g++ {
		go func(g int) {
			for i := g; ; i++ {
				work(1000 + i%100)
				atomic.AddInt64(&done, 1)
			}
		}(g)
	}
	for {
		n := atomic.LoadInt64(&done)
		os.WriteFile(path+".tmp", []byte(strconv.FormatInt(n, 10)), 0o644)
		os.Rename(path+".tmp", path)
		time.Sleep(100 * time.Millisecond)
	}
}
