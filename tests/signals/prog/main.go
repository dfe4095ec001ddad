// The signals test program: what golat's signal handler must keep true for Go.
//
//	sigprog nil    nil receivers through getters (a fault at the function's first
//	               load) and through methods that fault after their frame is set up,
//	               recovered: prints each recovered error and the Go functions on the
//	               stack at the recover, which must be the same hooked or not.
//	sigprog c      C code installs its own SIGTRAP handler, reads it back, raises it twice:
//	               prints what it saw (the same hooked or not).
//	sigprog rt     allocation, slices, maps, channels, select and runtime.GC from 8
//	               goroutines: prints what it computed and how many times it ran
//	               select and forced a collection, for hooked runtime functions.
//	sigprog prof F hot functions on 4 goroutines for 2 s under a 1 kHz CPU profile
//	               written to F, with the GC running: no crash; the profile must
//	               name the hot functions.
package main

/*
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t traps;
static void on_trap(int sig) { (void)sig; traps++; }

// C code of the program installs its own handler for a signal golat stands in front of
// (SIGTRAP), reads it back and raises it: the handler runs, and the read-back is its own.
static int c_handler(void) {
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_trap;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTRAP, &sa, NULL) != 0 || sigaction(SIGTRAP, NULL, &old) != 0)
		return -1;
	raise(SIGTRAP);
	raise(SIGTRAP);
	return old.sa_handler == on_trap ? (int)traps : -2;
}
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"
)

type box struct {
	v    int
	next *box
	name string
}

//go:noinline
func (b *box) get() int { return b.v }

//go:noinline
func (b *box) second() int { return b.next.v }

//go:noinline
func (b *box) label(n int) string {
	var buf [64]byte
	s := strconv.AppendInt(buf[:0], int64(n), 10)
	return string(s) + b.name
}

//go:noinline
func (b *box) sum(k int) int {
	t := 0
	for i := 0; i < k; i++ {
		t += i * k
	}
	return t + b.next.v
}

// try runs f, recovers its panic and prints the error and the Go functions on the
// stack where it was recovered (without line numbers: the same source either way).
func try(what string, f func()) {
	defer func() {
		r := recover()
		pcs := make([]uintptr, 32)
		n := runtime.Callers(1, pcs)
		frames := runtime.CallersFrames(pcs[:n])
		var names []string
		for {
			fr, more := frames.Next()
			if strings.HasPrefix(fr.Function, "main.") || strings.HasPrefix(fr.Function, "runtime.") {
				names = append(names, fr.Function)
			}
			if !more {
				break
			}
		}
		fmt.Printf("%s: %v\n  %s\n", what, r, strings.Join(names, " < "))
	}()
	f()
}

func nilCases() {
	var b *box
	ok := &box{v: 7, next: &box{v: 8}, name: "x"}
	for i := 0; i < 3; i++ {
		try("get", func() { fmt.Println(b.get()) })
		try("second", func() { fmt.Println((&box{}).second()) })
		try("label", func() { fmt.Println(b.label(i)) })
		try("sum", func() { fmt.Println((&box{}).sum(i + 3)) })
		fmt.Println(ok.get(), ok.second(), ok.label(i), ok.sum(i+3))
	}
}

//go:noinline
func hotMix(x uint64) uint64 {
	x ^= x << 13
	x ^= x >> 7
	return x ^ x<<17
}

//go:noinline
func hotFormat(n int) int { return len(strconv.Itoa(n)) + len(fmt.Sprint(n)) }

//go:noinline
func hotAlloc(n int) int {
	s := make([]int, n%64+1)
	for i := range s {
		s[i] = i
	}
	return len(s)
}

func prof(path string) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	runtime.SetCPUProfileRate(1000) // before StartCPUProfile, which then keeps it
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	var wg sync.WaitGroup
	stop := time.Now().Add(2 * time.Second)
	total := make([]uint64, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			x := uint64(g + 1)
			for i := 0; time.Now().Before(stop); i++ {
				for k := 0; k < 1000; k++ {
					x = hotMix(x)
				}
				total[g] += uint64(hotFormat(i) + hotAlloc(i))
			}
			total[g] += x & 1
		}(g)
	}
	wg.Wait()
	pprof.StopCPUProfile()
	f.Close()
	fmt.Println("prof: done", total[0] > 0)
}

type rec struct {
	k    int
	next *rec
}

func rt() {
	var wg sync.WaitGroup
	out := make([]int, 8)
	selects := make([]int, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			ch, done := make(chan int, 4), make(chan bool)
			go func() {
				for v := range ch {
					out[g] += v
				}
				done <- true
			}()
			m := map[int]*rec{}
			var s []int
			for i := 0; i < 20000; i++ {
				r := &rec{k: i}
				m[i%512] = r
				s = append(s, i)
				if v, ok := m[(i*7)%512]; ok {
					r.next = v
				}
				select {
				case ch <- i % 3:
					selects[g]++
				default: // the buffer is full: wait for the reader, same value
					ch <- i % 3
				}
				if i%5000 == 0 {
					runtime.GC()
				}
			}
			close(ch)
			<-done
			out[g] += len(s) + len(m)
		}(g)
	}
	wg.Wait()
	n := 0
	for _, k := range selects {
		n += k
	}
	fmt.Println("rt:", out, n <= 8*20000)
}

func main() {
	switch {
	case len(os.Args) > 1 && os.Args[1] == "nil":
		nilCases()
	case len(os.Args) > 1 && os.Args[1] == "c":
		fmt.Println("c handler:", int(C.c_handler()))
	case len(os.Args) > 1 && os.Args[1] == "rt":
		rt()
	case len(os.Args) > 2 && os.Args[1] == "prof":
		prof(os.Args[2])
	default:
		fmt.Println("usage: sigprog nil | prof FILE")
		os.Exit(2)
	}
}
