// Calls a hooked function 50 times, prints what it computed and exits with status 5:
// whatever golat is told, the output and the status stay these.
package main

// #include <unistd.h>
import "C"

import (
	"fmt"
	"os"
)

//go:noinline
func work(i int) int {
	return i*i + 7
}

func main() {
	s := 0
	for i := 0; i < 50; i++ {
		s += work(i)
	}
	fmt.Println("sum", s)
	os.Exit(5)
}
