// A Go program built without cgo (statically linked) whose own functions exercise the
// code shapes and run-time events a hook must survive when golat hooks it from
// outside: tiny frameless leaves, several returns, jump tables, recursion (also
// deeper than the 64 hooked frames golat tracks), stack growth inside and at the entry
// of hooked frames, panics recovered through hooked frames, nil-receiver faults
// recovered as panics, goroutines moving between threads, methods, closures,
// generics, registers live across asynchronous preemption, and threads that come and
// go (shapes.go, shared with tests/hook/semantics). It counts its own completed calls of each function and prints, after its
// results, one line per function:
//
//	count NAME N
//
// NAME as the runtime names it (generic instantiations as main.Max[int]; golat names
// them per shape, main.Max[go.shape.int], or main.Max[...] before Go 1.21). The output
// is the same hooked or not. Then it leaves by the path argv[1] names:
//
//	exit0    returns from main.main (status 0)
//	exit3    os.Exit(3)
//	panic    an unrecovered panic in main.explode (status 2)
//	sigterm  SIGTERM to itself, no handler (the process dies of it: 143 in a shell)
//	kill9    prints "waiting for SIGKILL" and waits to be killed from outside
//	load STOP  (tests/static/attach.sh) no workload: goroutines call main.work until
//	         the file STOP exists, checking every result; see load.go
//
// Every counted function is called only from Go code that counts it, and every call
// that can panic is made from a hooked function that returns afterwards.
package main

import (
	"fmt"
	"os"
	"reflect"
	"runtime"
	"sort"
	"sync/atomic"
	"syscall"
	"time"
)

// counted is one function the program counts: its completed calls.
type counted struct {
	name string
	n    int64
}

var registry []*counted

// reg, regGeneric and regFunc have tests/hook/semantics/main.go's signatures (the
// functions of shapes.go register with them), but name a function as the runtime
// does, main.KEY: golat's other names for a generic instantiation are check.py's to
// find.
func reg(key string, _ ...string) *counted {
	c := &counted{name: "main." + key}
	registry = append(registry, c)
	return c
}

func regGeneric(key, _ string, _ ...string) *counted { return reg(key) }

// regFunc names a function value (a closure) the way the runtime does.
func regFunc(_ string, f interface{}) *counted {
	c := &counted{name: runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name()}
	registry = append(registry, c)
	return c
}

// The sizes of shapes.go's loops: fewer threads than the semantics program (golat run
// hooks this one once per exit path), loops long enough for asynchronous preemption.
const (
	nThreads = 300
	mixIters = 15_000_000
)

func (c *counted) done() { atomic.AddInt64(&c.n, 1) }

func printCounts() {
	lines := make([]string, 0, len(registry))
	for _, c := range registry {
		lines = append(lines, fmt.Sprintf("count %s %d", c.name, atomic.LoadInt64(&c.n)))
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
}

// entries calls what the semantics program calls among its cgo calls: a goroutine's
// first function and a return through deferreturn.
func entries() {
	s := 0
	for i := 0; i < 50; i++ {
		s += deferred(i)
		cDeferred.done()
	}
	for i := 0; i < 8; i++ {
		go goEntry()
	}
	for i := 0; i < 8; i++ {
		s += <-goEntryOut
	}
	fmt.Println("entries:", s)
}

// explode panics two hooked frames below main.main, unrecovered.
//
//go:noinline
func explode(why string) int { return boom(why) + 1 }

//go:noinline
func boom(why string) int { panic("static prog: " + why) }

func usage() {
	fmt.Fprintln(os.Stderr, "usage: prog exit0|exit3|panic|sigterm|kill9|load STOPFILE")
	os.Exit(64)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	runtime.GOMAXPROCS(4)
	how := os.Args[1]
	if how == "load" {
		if len(os.Args) != 3 {
			usage()
		}
		load(os.Args[2])
		return
	}
	switch how {
	case "exit0", "exit3", "panic", "sigterm", "kill9":
	default:
		usage()
	}
	setupClosures()
	leaves()
	registers()
	stacks()
	panics()
	goroutines()
	values()
	entries()
	beyond()
	threads()
	printCounts()
	switch how {
	case "exit3":
		os.Exit(3)
	case "panic":
		explode(how)
	case "sigterm":
		// Go's handler finds no signal.Notify for SIGTERM and dies of it
		// (runtime/signal_unix.go, dieFromSignal): wait for that to happen.
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		for {
			time.Sleep(time.Second)
		}
	case "kill9":
		fmt.Println("waiting for SIGKILL")
		for {
			time.Sleep(time.Second)
		}
	}
}
