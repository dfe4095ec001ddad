// The functions the semantics program counts, without cgo: shared with the program
// golat hooks from outside, tests/static/prog (a symbolic link to this file there),
// which defines the same counting (reg, regGeneric, regFunc, counted.done) and the
// sizes nThreads and mixIters.
package main

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
)

var (
	cZero     = reg("zero")
	cIdent    = reg("ident")
	cAdd      = reg("add")
	cFma      = reg("fma")
	cClassify = reg("classify")
	cSwitch   = reg("dense")
	cSwitchF  = reg("denseFrame")
	cDivmod   = reg("divmod")
	cMany     = reg("many")
	cFib      = reg("fib")
	cGrower   = reg("grower")
	cDeep     = reg("deep")
	cPad      = reg("pad")
	cAtBottom = reg("atBottom")
	cRecoverF = reg("recoverInF")
	cPanicG   = reg("panicInG")
	cOuter    = reg("outer")
	cMid      = reg("mid")
	cThrow    = reg("throw")
	cIndex    = reg("index")
	cSafeIdx  = reg("safeIndex")
	cSafeGet  = reg("safeGet")
	cGet      = reg("(*T).Get")
	cDot      = reg("Vec.Dot")
	cScale    = reg("(*Vec).Scale")
	cNorm1    = reg("(*Vec).Norm1")
	cHop      = reg("hop")
	cBlocker  = reg("blocker")
	cMk       = reg("mk")
	cGoEntry  = reg("goEntry")
	cDeferred = reg("deferred")
	cOnThread = reg("onThread")
	cMix      = reg("mix")
	cAfter    = reg("afterDeep")
	cDeepRec  = reg("deepRecover")
	cMaxInt   = regGeneric("Max[int]", "main.Max[...]", "main.Max[go.shape.int]", "main.Max[go.shape.int_0]")
	cMaxF     = regGeneric("Max[float64]", "main.Max[...]", "main.Max[go.shape.float64]", "main.Max[go.shape.float64_0]")
	cSumInt   = regGeneric("Sum[int]", "main.Sum[...]", "main.Sum[go.shape.int]", "main.Sum[go.shape.int_0]")
	cSumF     = regGeneric("Sum[float64]", "main.Sum[...]", "main.Sum[go.shape.float64]", "main.Sum[go.shape.float64_0]")
	cPush     = regGeneric("(*Stack[int]).Push", "main.(*Stack[...]).Push",
		"main.(*Stack[go.shape.int]).Push", "main.(*Stack[go.shape.int_0]).Push")
	cPop = regGeneric("(*Stack[int]).Pop", "main.(*Stack[...]).Pop",
		"main.(*Stack[go.shape.int]).Pop", "main.(*Stack[go.shape.int_0]).Pop")
)

// ---- leaves: a few bytes long, no frame ----------------------------------------

//go:noinline
func zero() int { return 0 } // xor eax,eax; ret

//go:noinline
func ident(x int) int { return x } // ret: the argument is the result

//go:noinline
func add(a, b int) int { return a + b }

//go:noinline
func fma(a, b, c float64) float64 { return a*b + c } // X registers

//go:noinline
func classify(x int) int { // several returns
	if x < 0 {
		return -1
	}
	if x == 0 {
		return 0
	}
	if x < 10 {
		return 1
	}
	if x < 100 {
		return 2
	}
	return 3
}

//go:noinline
func dense(x int) int { // a jump table (Go 1.19+), every case a return
	switch x {
	case 0:
		return 17
	case 1:
		return 4
	case 2:
		return 99
	case 3:
		return 23
	case 4:
		return 5
	case 5:
		return 61
	case 6:
		return 7
	case 7:
		return 88
	case 8:
		return 12
	case 9:
		return 40
	}
	return -1
}

var sink []int

//go:noinline
func denseFrame(x int) (r int) { // a jump table in a function with a frame
	switch x {
	case 0:
		r = len(fmt.Sprint(x))
	case 1:
		sink = append(sink, x)
		r = len(sink)
	case 2:
		r = ident(x) * 3
	case 3:
		r = add(x, 7)
	case 4:
		r = classify(x * 30)
	case 5:
		r = len(strings.Repeat("ab", x))
	case 6:
		r = dense(x)
	case 7:
		r = x << 2
	case 8:
		r = -x
	case 9:
		r = x * x
	default:
		return 0
	}
	return r
}

//go:noinline
func divmod(a, b int) (int, int) { return a / b, a % b }

//go:noinline
func many(a, b, c, d, e, f, g, h, i, j, k, l int) int { // arguments on the stack
	return a - b + c - d + e - f + g - h + i - j + k - l + j*k*l
}

func leaves() {
	s := 0
	for i := -5; i < 120; i++ {
		s += zero()
		cZero.done()
		s += ident(i)
		cIdent.done()
		s += add(i, 3)
		cAdd.done()
		s += classify(i)
		cClassify.done()
		s += dense(i % 12)
		cSwitch.done()
		r := denseFrame(i % 11)
		cSwitchF.done()
		// denseFrame calls some counted leaves itself: count them here.
		switch i % 11 {
		case 2:
			cIdent.done()
		case 3:
			cAdd.done()
		case 4:
			cClassify.done()
		case 6:
			cSwitch.done()
		}
		s += r
		if i != 0 {
			q, m := divmod(1000+i, i)
			cDivmod.done()
			s += q + m
		}
		s += many(i, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, i)
		cMany.done()
	}
	f := 0.0
	for i := 0; i < 50; i++ {
		f = fma(f, 0.5, float64(i))
		cFma.done()
	}
	fmt.Printf("leaves: %d %.6f %d\n", s, f, len(sink))
}

// ---- recursion and stack growth ---------------------------------------------

//go:noinline
func fib(n int) int {
	if n < 2 {
		cFib.done()
		return n
	}
	r := fib(n-1) + fib(n-2)
	cFib.done()
	return r
}

// deep recurses with big frames: the stack is copied (morestack) while the frames
// above it, grower's included, are in flight, and deep's own entry meets the stack
// check again after each growth.
//
//go:noinline
func deep(n int) int {
	var buf [1024]int
	for i := range buf {
		buf[i] = n + i
	}
	r := buf[n*7%1024]
	if n > 0 {
		r += deep(n - 1)
		cDeep.done()
	}
	return r + buf[1023]
}

//go:noinline
func grower(n int) int {
	r := deep(n)
	cDeep.done()
	return r + 1
}

// pad eats stack in uneven steps and then calls atBottom: over the depths tried,
// atBottom's entry meets the end of the stack (morestack at a hooked entry).
//
//go:noinline
func pad(n, step int) int {
	var buf [96]int
	buf[n%96] = n
	if n == 0 {
		r := atBottom(step)
		cAtBottom.done()
		return r + buf[0]
	}
	r := pad(n-1, step)
	cPad.done()
	return r + buf[n%96]
}

//go:noinline
func atBottom(step int) int {
	var buf [200]int
	for i := range buf {
		buf[i] = i * step
	}
	return buf[step%200]
}

func stacks() {
	fmt.Println("fib:", fib(25)) // fib counts its own calls
	var wg sync.WaitGroup
	res := make([]int, 40)
	for d := 0; d < 40; d++ {
		wg.Add(1)
		go func(d int) {
			defer wg.Done()
			r := grower(d % 30)
			cGrower.done()
			r += pad(d, d)
			cPad.done()
			res[d] = r
		}(d)
	}
	wg.Wait()
	sum := 0
	for _, r := range res {
		sum += r
	}
	fmt.Println("stacks:", sum)
}

// ---- panics through hooked frames -------------------------------------------

//go:noinline
func panicInG(i int) int {
	if i%2 == 1 {
		panic(fmt.Sprintf("odd %d", i))
	}
	return i * 10
}

//go:noinline
func recoverInF(i int) (r int) {
	defer func() {
		if e := recover(); e != nil {
			r = -len(e.(string))
		}
	}()
	r = panicInG(i)
	cPanicG.done()
	return r
}

//go:noinline
func throw(i int) int {
	if i > 2 {
		panic(i)
	}
	return i
}

//go:noinline
func mid(i int) int {
	r := throw(i) + 1
	cThrow.done()
	return r
}

// outer recovers in a deferred closure what throw panicked two hooked frames down.
//
//go:noinline
func outer(i int) (r int) {
	defer func() {
		if e := recover(); e != nil {
			r = 1000 + e.(int)
		}
	}()
	r = mid(i)
	cMid.done()
	return r
}

var table = []int{3, 1, 4, 1, 5}

//go:noinline
func index(i int) int { return table[i] } // panicIndex: a call after the last ret

//go:noinline
func safeIndex(i int) (r int) {
	defer func() {
		if recover() != nil {
			r = -1
		}
	}()
	r = index(i)
	cIndex.done()
	return r
}

type T struct{ a, b int }

// Get's nil check is its first instruction: a fault in the trampoline.
//
//go:noinline
func (t *T) Get() int { return t.b }

//go:noinline
func safeGet(t *T) (r int) {
	defer func() {
		if e := recover(); e != nil {
			r = -7
			if !strings.Contains(fmt.Sprint(e), "nil pointer dereference") {
				r = -8
			}
		}
	}()
	r = t.Get()
	cGet.done()
	return r
}

func panics() {
	s := 0
	for i := 0; i < 20; i++ {
		s += recoverInF(i)
		cRecoverF.done()
		s += outer(i % 5)
		cOuter.done()
		s += safeIndex(i % 7)
		cSafeIdx.done()
		var t *T
		if i%3 == 0 {
			t = &T{i, i * 2}
		}
		s += safeGet(t)
		cSafeGet.done()
	}
	fmt.Println("panics:", s)
}

// ---- goroutines that block and move between threads -------------------------

var mu sync.Mutex
var shared int

//go:noinline
func hop(id, i int, ch chan int) int {
	runtime.Gosched()
	ch <- id*100 + i
	v := <-ch
	if i%4 == 0 {
		time.Sleep(50 * time.Microsecond)
	}
	mu.Lock()
	shared += v % 7
	mu.Unlock()
	runtime.Gosched()
	return v % 13
}

//go:noinline
func blocker(id int, in <-chan int, out chan<- int) int {
	n := 0
	for v := range in {
		out <- v * 2
		n++
	}
	return n
}

func goroutines() {
	var wg sync.WaitGroup
	ch := make(chan int, 8)
	res := make([]int, 64)
	for id := 0; id < 64; id++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				res[id] += hop(id, i, ch)
				cHop.done()
			}
		}(id)
	}
	wg.Wait()
	in, out := make(chan int), make(chan int)
	got := make(chan int)
	for w := 0; w < 4; w++ {
		go func(w int) {
			got <- blocker(w, in, out)
			cBlocker.done()
		}(w)
	}
	go func() {
		for i := 0; i < 400; i++ {
			in <- i
		}
		close(in)
	}()
	total := 0
	for i := 0; i < 400; i++ {
		total += <-out
	}
	handled := 0
	for w := 0; w < 4; w++ {
		handled += <-got
	}
	sum := 0
	for _, r := range res {
		sum += r
	}
	fmt.Println("goroutines:", sum, shared, total, handled)
}

// ---- methods, closures, generics --------------------------------------------

type Vec struct{ X, Y int }

//go:noinline
func (v Vec) Dot(w Vec) int { return v.X*w.X + v.Y*w.Y }

//go:noinline
func (p *Vec) Scale(k int) { p.X *= k; p.Y *= k }

//go:noinline
func (p *Vec) Norm1() int {
	x, y := p.X, p.Y
	if x < 0 {
		x = -x
	}
	if y < 0 {
		y = -y
	}
	return x + y
}

type Celsius float64

func (c Celsius) String() string { return fmt.Sprintf("%.1f°C", float64(c)) }

//go:noinline
func mk(k int) func(int) int {
	return func(x int) int { return x*k + 1 }
}

type Number interface{ ~int | ~float64 }

//go:noinline
func Max[N Number](a, b N) N {
	if a > b {
		return a
	}
	return b
}

//go:noinline
func Sum[N Number](v []N) N {
	var s N
	for _, x := range v {
		s += x
	}
	return s
}

type Stack[E any] struct{ s []E }

//go:noinline
func (s *Stack[E]) Push(v E) { s.s = append(s.s, v) }

//go:noinline
func (s *Stack[E]) Pop() (E, bool) {
	var z E
	if len(s.s) == 0 {
		return z, false
	}
	v := s.s[len(s.s)-1]
	s.s = s.s[:len(s.s)-1]
	return v, true
}

var (
	counter  int
	closures []func(int) int
	cClos    []*counted
)

func setupClosures() {
	c1 := mk(3)
	cMk.done()
	bump := func(x int) int { counter += x; return counter }
	closures = []func(int) int{c1, bump}
	cClos = []*counted{regFunc("mk.func1", c1), regFunc("setupClosures.func1", bump)}
}

func values() {
	v := Vec{3, -4}
	w := Vec{2, 5}
	s := v.Dot(w)
	cDot.done()
	for i := 1; i < 4; i++ {
		v.Scale(i)
		cScale.done()
		s += v.Norm1()
		cNorm1.done()
	}
	for i := 0; i < 30; i++ {
		for k, f := range closures {
			s += f(i)
			cClos[k].done()
		}
	}
	s += Max(3, 9)
	cMaxInt.done()
	s += int(Max(2.5, -1.5))
	cMaxF.done()
	s += Sum([]int{1, 2, 3, 4})
	cSumInt.done()
	s += int(Sum([]float64{0.5, 1.5, 2}))
	cSumF.done()
	var st Stack[int]
	for i := 0; i < 10; i++ {
		st.Push(i * i)
		cPush.done()
	}
	for {
		x, ok := st.Pop()
		cPop.done()
		if !ok {
			break
		}
		s += x
	}
	fmt.Println("values:", s, counter, Celsius(21.5))
}

// ---- a goroutine's first function, deferreturn --------------------------------

var goEntryOut = make(chan int, 8)

// goEntry is a goroutine's first function (`go goEntry()`): it returns to goexit.
//
//go:noinline
func goEntry() {
	r := fib(10) // counted by fib
	cGoEntry.done()
	goEntryOut <- r
}

// deferred returns through deferreturn.
//
//go:noinline
func deferred(i int) (r int) {
	defer func() { r += i }()
	if i%2 == 0 {
		return i * 3
	}
	return i
}

// ---- registers across asynchronous preemption ------------------------------------

// mix keeps 14 values live through a long loop, so that R12 and R13 hold some of them
// when Go preempts the goroutine asynchronously (SIGURG, after 10 ms of running,
// runtime/preempt.go): it must resume with every register as it was, whatever golat
// does at runtime.asyncPreempt's return.
//
//go:noinline
func mix(n int) [14]uint64 {
	a, b, c, d, e, f, g := uint64(1), uint64(2), uint64(3), uint64(4), uint64(5), uint64(6), uint64(7)
	h, i, j, k, l, m, o := uint64(8), uint64(9), uint64(10), uint64(11), uint64(12), uint64(13), uint64(14)
	for x := 0; x < n; x++ {
		a += b ^ o
		b += c ^ a
		c += d ^ b
		d += e ^ c
		e += f ^ d
		f += g ^ e
		g += h ^ f
		h += i ^ g
		i += j ^ h
		j += k ^ i
		k += l ^ j
		l += m ^ k
		m += o ^ l
		o += a ^ m
	}
	return [14]uint64{a, b, c, d, e, f, g, h, i, j, k, l, m, o}
}

func registers() {
	var wg sync.WaitGroup
	res := make([][14]uint64, 3)
	for k := range res {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			res[k] = mix(mixIters + k)
			cMix.done()
		}(k)
	}
	wg.Wait()
	h := uint64(0)
	for _, r := range res {
		for _, v := range r {
			h = h*31 + v
		}
	}
	fmt.Println("registers:", h)
}

// ---- threads that come and go -------------------------------------------------

// onThread runs once on each of nThreads OS threads that then exit (a goroutine that
// locks its thread and ends without unlocking takes the thread with it,
// runtime.LockOSThread): whatever golat keeps per thread must not run out.
//
//go:noinline
func onThread(x int) int { return x*7 + 1 }

func threads() {
	s := 0
	for i := 0; i < nThreads; i++ {
		done := make(chan int)
		go func(i int) {
			runtime.LockOSThread()
			r := onThread(i)
			cOnThread.done()
			done <- r
		}(i)
		s += <-done
	}
	fmt.Println("threads:", s)
}

// ---- deeper than golat tracks ---------------------------------------------------

// recDeep recurses past the 64 hooked frames a goroutine's shadow stack holds
// (lib/record/recorder.h, REC_FRAMES): the calls beyond are not counted (so recDeep is not
// checked), and the stack grows (morestack, a second entry) in frames beyond it. What
// is checked is that the calls the goroutine makes afterwards are counted again:
// after a deep return, and after a panic that unwound through the deep frames.
//
//go:noinline
func recDeep(n int, boom bool) int {
	var buf [64]int
	buf[n%64] = n
	if n == 0 {
		if boom {
			panic("deep")
		}
		return 0
	}
	return recDeep(n-1, boom) + buf[n%64]
}

//go:noinline
func afterDeep(x int) int { return x*2 + 1 }

//go:noinline
func deepRecover() (r int) {
	defer func() {
		if recover() != nil {
			r = -1
		}
	}()
	return recDeep(100, true)
}

func beyond() {
	done := make(chan int)
	go func() {
		s := recDeep(300, false)
		for i := 0; i < 10; i++ {
			s += afterDeep(i)
			cAfter.done()
		}
		s += deepRecover()
		cDeepRec.done()
		for i := 0; i < 10; i++ {
			s += afterDeep(i)
			cAfter.done()
		}
		done <- s
	}()
	fmt.Println("beyond:", <-done)
}
