// Leaves by the exit path named by its argument after 100 calls of a hooked function:
//   return   return from main.main (status 0)
//   exit3    os.Exit(3)
//   fatal    log.Fatal (status 1)
//   panic    an unrecovered panic (status 2)
//   wait     writes "ready" to the file named by the second argument, then runs until a
//            signal kills it (no signal.Notify: SIGTERM and SIGINT kill a Go program)
// Prints its pid first, then "calls N" when it has made its calls.
package main

// #include <unistd.h>
import "C"

import (
	"fmt"
	"log"
	"os"
	"time"
)

var sink int

//go:noinline
func step(i int) int {
	return i*i + 1
}

func main() {
	fmt.Println("pid", os.Getpid())
	for i := 0; i < 100; i++ {
		sink += step(i)
	}
	fmt.Println("calls 100")
	switch os.Args[1] {
	case "return":
		return
	case "exit3":
		os.Exit(3)
	case "fatal":
		log.Fatal("fatal as asked")
	case "panic":
		panic("panic as asked")
	case "wait":
		os.WriteFile(os.Args[2], []byte("ready\n"), 0o644)
		for {
			sink += step(1)
			time.Sleep(time.Millisecond)
		}
	}
	fmt.Println("unknown exit path", os.Args[1])
	os.Exit(9)
}
