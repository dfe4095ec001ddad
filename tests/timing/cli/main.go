// The program the CLI tests run:
//   prog exit N ARGS...   prints its arguments and what it computed with a hooked
//                         function, writes a line on stderr, exits with status N
//   prog live SECONDS     calls the hooked function for SECONDS (for report and top)
// Built with cgo (cgo.go) it is dynamically linked; with CGO_ENABLED=0, static.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

//go:noinline
func handle(i int) int {
	return i*3 + 1
}

func main() {
	switch os.Args[1] {
	case "exit":
		s := 0
		for i := 0; i < 20; i++ {
			s += handle(i)
		}
		fmt.Printf("args %q sum %d\n", os.Args[3:], s)
		fmt.Fprintln(os.Stderr, "a line of the program's own on stderr")
		n, _ := strconv.Atoi(os.Args[2])
		os.Exit(n)
	case "live":
		secs, _ := strconv.ParseFloat(os.Args[2], 64)
		end := time.Now().Add(time.Duration(secs * float64(time.Second)))
		for time.Now().Before(end) {
			handle(1)
			time.Sleep(time.Millisecond)
		}
	}
}
