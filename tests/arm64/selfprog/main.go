// An arm64 cgo program that selfpatch.sh runs under qemu-user twice, alone and with every
// hookable function patched (selfpatch_so.c): the transcript it prints must not change.
// It goes where a relocated instruction or a patched return could go wrong: stack growth
// (morestack re-enters the patched entry), panics unwinding through patched frames,
// tracebacks and runtime.Callers naming the functions (Go sees original PCs only),
// collections scanning stacks, goroutines, closures, interfaces, defers, JSON.
package main

// static int twice(int x) { return 2 * x; }
import "C"

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
)

type shape interface{ area() int }

type rect struct{ w, h int }
type square struct{ s int }

func (r rect) area() int   { return r.w * r.h }
func (s square) area() int { return s.s * s.s }

// deep recurses with a frame large enough that the goroutine's stack grows many times.
//
//go:noinline
func deep(n int) int {
	var pad [64]int
	pad[n%64] = n
	if n == 0 {
		return pad[0]
	}
	return deep(n-1) + pad[n%64]%7
}

var errOdd = errors.New("odd")

//go:noinline
func check(n int) error {
	if n%2 == 1 {
		return fmt.Errorf("check %d: %w", n, errOdd)
	}
	return nil
}

//go:noinline
func thrower(n int) {
	if n == 0 {
		panic("bottom")
	}
	defer func() { _ = n }()
	thrower(n - 1)
}

func catch() (msg string) {
	defer func() {
		msg = fmt.Sprint(recover())
	}()
	thrower(20)
	return "no panic"
}

// nilDeref faults inside a patched function, not at its entry.
//
//go:noinline
func nilDeref(p *rect) int {
	return p.w + 1
}

func catchNil() (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = strings.SplitN(fmt.Sprint(r), "\n", 2)[0]
		}
	}()
	return strconv.Itoa(nilDeref(nil))
}

// callers names the functions on its stack: they must be the original ones.
//
//go:noinline
func callers() string {
	pcs := make([]uintptr, 8)
	n := runtime.Callers(1, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	var names []string
	for {
		f, more := frames.Next()
		if strings.HasPrefix(f.Function, "main.") {
			names = append(names, f.Function)
		}
		if !more {
			break
		}
	}
	return strings.Join(names, " < ")
}

//go:noinline
func viaClosure() string {
	f := func() string { return callers() }
	return f()
}

func main() {
	fmt.Println("deep", deep(5000))
	shapes := []shape{rect{3, 4}, square{5}, rect{6, 7}}
	total := 0
	for _, s := range shapes {
		total += s.area()
	}
	fmt.Println("areas", total)
	for i := 0; i < 4; i++ {
		fmt.Println("check", i, check(i), errors.Is(check(i), errOdd))
	}
	fmt.Println("panic", catch())
	fmt.Println("nil", catchNil())
	fmt.Println("callers", viaClosure())

	var wg sync.WaitGroup
	var mu sync.Mutex
	sums := map[int]int{}
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			ch := make(chan int, 4)
			go func() {
				for i := 0; i < 1000; i++ {
					ch <- i * g
				}
				close(ch)
			}()
			s := 0
			for v := range ch {
				s += v
				if v%250 == 0 {
					runtime.GC()
				}
			}
			mu.Lock()
			sums[g] = s + deep(200)
			mu.Unlock()
		}(g)
	}
	wg.Wait()
	keys := make([]int, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		fmt.Println("sum", k, sums[k])
	}

	type rec struct {
		Name  string
		Tags  []string
		Score float64
	}
	in := []rec{{"a", []string{"x", "y"}, 1.5}, {"b", nil, -2}}
	data, err := json.Marshal(in)
	fmt.Println("json", string(data), err)
	var out []rec
	fmt.Println("unjson", json.Unmarshal(data, &out), len(out), out[0].Tags)
	fmt.Println("cgo", int(C.twice(21)))
}
