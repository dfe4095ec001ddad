// A cgo program that prints where its own functions are in memory, so that the test
// can check the addresses golat's constructor computed from /proc/self/exe and the
// load bias.
package main

// static int twice(int x) { return 2 * x; }
import "C"

import (
	"fmt"
	"reflect"
)

//go:noinline
func work(n int) int { return int(C.twice(C.int(n))) + 1 }

type box struct{ v int }

//go:noinline
func (b *box) get() int { return b.v }

func main() {
	b := &box{v: work(20)}
	fmt.Printf("main.work %#x\n", reflect.ValueOf(work).Pointer())
	fmt.Printf("main.(*box).get %#x\n", reflect.ValueOf((*box).get).Pointer())
	fmt.Println("result", b.get())
}
