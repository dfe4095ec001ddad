// A Go program whose own functions exercise the code shapes and run-time events a
// hook must survive: tiny frameless leaves, several returns, jump tables, recursion,
// stack growth inside and at the entry of hooked frames, panics through hooked frames,
// nil-receiver faults, goroutines moving between threads, methods, closures, generics,
// calls into C and back (from Go's threads and from one C created), a goroutine's first
// function, registers live across asynchronous preemption, recursion deeper than golat
// tracks, and 1500 threads that come and go. It prints only results (deterministic),
// and, with GOLAT_CHECK=1, one line per function it counts:
//
//	count NAME ours=X golat.calls=Y golat.entries=Z abandoned=W
//
// where ours is the program's own count of completed calls and the rest come from
// golat_counts (found with dlsym: the program is not linked against golat). A
// function golat did not hook prints `count NAME ours=X golat=unhooked`.
//
// Every counted function is called only from Go code that counts it, and every call
// that can panic is made from a hooked function that returns afterwards, so that the
// frames the panic left are resolved (as abandoned) before the counts are read.
package main

/*
#cgo LDFLAGS: -ldl -lpthread
#include <stdint.h>
#include <stdlib.h>
struct sem_gcounts { uint64_t entries, calls, abandoned; };
int sem_counts(const char *name, struct sem_gcounts *out);
int c_add(int a, int b);
int c_callback(int n);
int c_thread_callback(int n);
*/
import "C"

import (
	"fmt"
	"os"
	"reflect"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"
)

// ---- counting ----------------------------------------------------------------

// counted is one function the program counts: its completed calls, and the names
// golat may know it by (generic instantiations are named per shape from Go 1.21,
// and all "[...]" before).
type counted struct {
	key   string   // what the program calls it
	names []string // candidate symbol names, in order
	group string   // shared name when no candidate is known (Go 1.19 generics)
	n     int64
}

var (
	registry []*counted
	byKey    = map[string]*counted{}
)

func reg(key string, names ...string) *counted {
	c := &counted{key: key, names: names}
	if len(names) == 0 {
		c.names = []string{"main." + key}
	}
	registry = append(registry, c)
	byKey[key] = c
	return c
}

func regGeneric(key, group string, names ...string) *counted {
	c := reg(key, names...)
	c.group = group
	return c
}

// regFunc names a function value (closures) the way the runtime does.
func regFunc(key string, f interface{}) *counted {
	return reg(key, runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name())
}

var (
	cCadd    = reg("cadd")
	cCcb     = reg("ccb")
	cCthread = reg("ccbThread")
	cSquare  = reg("goSquare")
)

// The sizes of shapes.go's loops: 1500 threads that come and go, and long enough
// loops that asynchronous preemption lands in them.
const (
	nThreads = 1500
	mixIters = 10_000_000
)

func (c *counted) done() { atomic.AddInt64(&c.n, 1) }

// ---- cgo --------------------------------------------------------------------

//go:noinline
func cadd(a, b int) int { return int(C.c_add(C.int(a), C.int(b))) }

//go:noinline
func ccb(n int) int { return int(C.c_callback(C.int(n))) }

// ccbThread has C call back into Go from a thread that C created.
//
//go:noinline
func ccbThread(n int) int { return int(C.c_thread_callback(C.int(n))) }

//export goSquare
//go:noinline
func goSquare(x C.int) C.int {
	r := x * x
	cSquare.done()
	return r
}

func cgo() {
	s := 0
	for i := 0; i < 50; i++ {
		s += cadd(i, 2*i)
		cCadd.done()
		s += deferred(i)
		cDeferred.done()
	}
	var wg sync.WaitGroup
	var cb int64
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			r := ccb(10 + g)
			cCcb.done()
			atomic.AddInt64(&cb, int64(r))
		}(g)
	}
	wg.Wait()
	for i := 0; i < 3; i++ {
		s += ccbThread(5 + i)
		cCthread.done()
	}
	for i := 0; i < 8; i++ {
		go goEntry()
	}
	for i := 0; i < 8; i++ {
		s += <-goEntryOut
	}
	fmt.Println("cgo:", s, cb)
}

// ---- the check --------------------------------------------------------------

func golatCounts(name string) (C.struct_sem_gcounts, bool) {
	var c C.struct_sem_gcounts
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	return c, C.sem_counts(cs, &c) == 0
}

func check() {
	type group struct {
		ours int64
		keys []string
	}
	groups := map[string]*group{}
	var lines []string
	for _, c := range registry {
		found := false
		for _, name := range c.names {
			if g, ok := golatCounts(name); ok {
				lines = append(lines, fmt.Sprintf("count %s ours=%d golat.calls=%d golat.entries=%d abandoned=%d",
					name, c.n, g.calls, g.entries, g.abandoned))
				found = true
				break
			}
		}
		if found {
			continue
		}
		if c.group == "" {
			lines = append(lines, fmt.Sprintf("count %s ours=%d golat=unhooked", c.names[0], c.n))
			continue
		}
		g := groups[c.group]
		if g == nil {
			g = &group{}
			groups[c.group] = g
		}
		g.ours += c.n
		g.keys = append(g.keys, c.key)
	}
	for name, gr := range groups {
		if g, ok := golatCounts(name); ok {
			lines = append(lines, fmt.Sprintf("count %s ours=%d golat.calls=%d golat.entries=%d abandoned=%d",
				name, gr.ours, g.calls, g.entries, g.abandoned))
		} else {
			lines = append(lines, fmt.Sprintf("count %s ours=%d golat=unhooked", name, gr.ours))
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
}

func main() {
	runtime.GOMAXPROCS(4)
	setupClosures()
	leaves()
	registers()
	stacks()
	panics()
	goroutines()
	values()
	cgo()
	beyond()
	threads()
	if os.Getenv("GOLAT_CHECK") == "1" {
		check()
	}
}
