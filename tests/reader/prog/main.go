// prog is the Go program whose binaries the reader tests read: a spread of the kinds of
// function the Go compiler emits (value and pointer methods, promoted-method and
// interface wrappers, closures, generic instantiations, init functions, deferred calls,
// a panic/recover path) plus, in the cgo build, a few C functions (cgo.go, cfuncs.c).
// It is built, never just compiled: run it to check that the build really works.
package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
)

type Shape interface {
	Area() float64
	Name() string
}

type Rect struct{ W, H float64 }

func (r Rect) Area() float64 { return r.W * r.H } // value receiver: also gets a (*Rect) wrapper
func (r Rect) Name() string  { return "rect" }

type Circle struct{ R float64 }

func (c *Circle) Area() float64  { return 3 * c.R * c.R } // pointer receiver
func (c *Circle) Name() string   { return "circle" }
func (c *Circle) Grow(f float64) { c.R *= f }

// Labeled embeds *Circle: the compiler emits promoted-method wrappers for it.
type Labeled struct {
	*Circle
	Label string
}

type Number interface {
	~int | ~int64 | ~float64
}

// Generic functions and types: one instantiation per GC shape ("main.Sum[...]").
// Kept out of line (go:noinline) so that their symbols exist.
//
//go:noinline
func Sum[T Number](xs []T) T {
	var s T
	for _, x := range xs {
		s += x
	}
	return s
}

//go:noinline
func Map[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

type Stack[T any] struct{ items []T }

//go:noinline
func (s *Stack[T]) Push(v T) { s.items = append(s.items, v) }

//go:noinline
func (s *Stack[T]) Pop() (T, bool) {
	var zero T
	if len(s.items) == 0 {
		return zero, false
	}
	v := s.items[len(s.items)-1]
	s.items = s.items[:len(s.items)-1]
	return v, true
}

var registry []string

func init() { registry = append(registry, "first") }
func init() { registry = append(registry, "second") }

var errOdd = errors.New("odd")

//go:noinline
func check(n int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("recovered: %v", r)
		}
	}()
	if n%2 == 1 {
		panic(errOdd)
	}
	return nil
}

//go:noinline
func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

//go:noinline
func counter() func() int {
	n := 0
	return func() int { // closure: main.counter.func1
		n++
		return n
	}
}

// wide has more integer arguments than amd64 has argument registers (9) and fewer than
// arm64 has (16): the last three are on the stack on amd64, in R9-R11 on arm64
// (cmd/compile/abi-internal.md). mixed takes integer and float registers in turn.
//
//go:noinline
func wide(a, b, c, d, e, f, g, h, i, j, k, l int) int {
	return a + b + c + d + e + f + g + h + i + j + k + l
}

//go:noinline
func mixed(a int, x float64, b int, y float64) float64 { return float64(a)*x + float64(b)*y }

func main() {
	grow := &Circle{1}
	fmt.Println(wide(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), mixed(1, 0.5, 2, 0.25))
	grow.Grow(2)
	shapes := []Shape{Rect{2, 3}, grow, Labeled{&Circle{2}, "l"}}
	sort.Slice(shapes, func(i, j int) bool { return shapes[i].Area() < shapes[j].Area() })
	names := Map(shapes, func(s Shape) string { return s.Name() })

	var wg sync.WaitGroup
	results := make([]int, 4)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = fib(10 + i)
		}(i)
	}
	wg.Wait()

	var st Stack[string]
	var ints Stack[int]
	ints.Push(1)
	st.Push("a")
	st.Push("b")
	top, _ := st.Pop()
	next := counter()
	next()

	fmt.Println(strings.Join(names, ","), Sum(results), Sum([]float64{1.5, 2.5}), top, next(),
		check(1), check(2), len(registry), cAdd(2, 3), cName())
	if len(os.Args) > 1 {
		os.Exit(3)
	}
}
