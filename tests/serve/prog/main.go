// The program the serve tests scrape: `prog N READY` calls main.work exactly N times
// and main.other N/2 times, then creates the file READY and sleeps until it is killed,
// so that a scrape must find exactly N and N/2 completed calls. Built with cgo (cgo.go)
// so that it is dynamically linked and LD_PRELOAD reaches it.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

var sink int

//go:noinline
func work(i int) int { return i * 3 }

//go:noinline
func other(i int) int { return i + 1 }

func main() {
	n, err := strconv.Atoi(os.Args[1])
	if err != nil || len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: prog N READY")
		os.Exit(2)
	}
	for i := 0; i < n; i++ {
		sink += work(i)
		if i%2 == 1 {
			sink += other(i)
		}
	}
	if err := os.WriteFile(os.Args[2], []byte(fmt.Sprint(sink)), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for cgoCheck() == 42 {
		time.Sleep(time.Hour)
	}
}
