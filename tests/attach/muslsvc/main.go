// A cgo program for tests/attach/musl.sh, built with musl-gcc: it calls into musl's libc
// once, then calls main.work forever, printing a tick every 100 calls (about 0.1 s).
package main

// #include <stdlib.h>
import "C"
import (
	"fmt"
	"time"
)

//go:noinline
func work(i int) int { return i * 3 }

func main() {
	_ = C.abs(-1)
	for i := 1; ; i++ {
		work(i)
		if i%100 == 0 {
			fmt.Println("tick", i)
		}
		time.Sleep(time.Millisecond)
	}
}
