// argsprog: functions of many signatures for tests/args, each called once from main
// with the constant arguments that tests/args/expect.txt spells out. It stays
// single-goroutine and its functions call nothing, so that gdb stopping at an entry
// and then at the return address sees the registers of exactly that call.
package main

import (
	"errors"
	"os"
	"unsafe"
)

type pair struct{ a, b int }

// ten words: more than the 9 integer registers, so it goes on the stack
type big struct{ a, b, c, d, e, f, g, h, i, j int }

type T struct {
	x int
	s string
}

type small struct {
	x uint16
	y uint8
	z int32
}

type mixed struct {
	i int
	f float64
	u uint8
}

type empty struct{}

//go:noinline
func Ints(a int8, b int16, c int32, d int64, e int, f uint8, g uint16, h uint32, i uint64) int {
	return int(a) + int(b) + int(c) + int(d) + e + int(f) + int(g) + int(h) + int(i)
}

//go:noinline
func Str(s string, b []byte, p *T, ok bool) (string, bool) {
	if ok && p != nil {
		return s[1:], len(b) == 3
	}
	return "", false
}

//go:noinline
func Iface(x interface{}, err error) error {
	if x != nil {
		return err
	}
	return nil
}

//go:noinline
func Pair(p pair, x int) pair { return pair{p.b + x, p.a} }

//go:noinline
func FloatBetween(a int, f float64, b int) float64 { return float64(a+b) * f }

//go:noinline
func Big(b big, x int) int { return b.a + b.j + x }

//go:noinline
func TooMany(a, b, c, d, e, f, g, h int, s string, i int8) int {
	return a + b + c + d + e + f + g + h + len(s) + int(i)
}

//go:noinline
func (t T) Value(n int) int { return t.x + n }

//go:noinline
func (t *T) Ptr(n int) (int, string) { return t.x * n, t.s }

// An unnamed receiver: Go before 1.22 leaves it out of the DWARF.
//
//go:noinline
func (*T) Unnamed(n int) int { return n }

//go:noinline
func Named(a int) (x int, err error) {
	x = a * 2
	return
}

//go:noinline
func Generic[V any](v V, n int) V { return v }

type Box[V any] struct {
	v V
	n int
}

// The dictionary of a generic method: after the receiver since Go 1.20, before it in 1.19.
//
//go:noinline
func (b *Box[V]) Get(k int) V { return b.v }

//go:noinline
func Arrays(a [1]int, b [2]int, c uint32, d [0]int, e [1]string) uint32 {
	return uint32(a[0]+b[1]) + c + uint32(len(e[0]))
}

//go:noinline
func Small(s small, m mixed) (small, mixed) { return s, m }

//go:noinline
func Blank(_ int, y int) int { return y }

//go:noinline
func Shapes(u uintptr, up unsafe.Pointer, m map[int]int, ch chan int, fn func()) bool {
	return u != 0 && up != nil && m != nil && ch != nil && fn != nil
}

//go:noinline
func Empty(e empty, x int) int { return x }

//go:noinline
func Complex(c complex128, x int) (complex128, int) { return c, x }

// Strings that need quoting, and one longer than the 64 bytes the report shows.
//
//go:noinline
func Quote(a, b string) int { return len(a) + len(b) }

//go:noinline
func callClo(f func(int) int, n int) int { return f(n) }

var sink int

func main() {
	t := T{x: 7, s: "tee"}
	sink += Ints(-3, -300, -70000, -5000000000, 42, 200, 60000, 4000000000, 18000000000000000000)
	s, ok := Str("hello", []byte("abc"), &t, true)
	sink += len(s)
	if ok {
		sink++
	}
	if Iface(nil, errors.New("boom")) == nil {
		sink++
	}
	sink += Pair(pair{1, 2}, 3).a
	sink += int(FloatBetween(-1, 2.5, 9))
	sink += Big(big{a: 11, j: 20}, 5)
	sink += TooMany(1, 2, 3, 4, 5, 6, 7, 8, "stack", -9)
	sink += t.Value(3)
	n, str := t.Ptr(4)
	sink += n + len(str)
	x, _ := Named(21)
	sink += x
	sink += Generic(17, 1)
	sink += len(Generic("gen", 2))
	sink += (&Box[int]{v: 5, n: 1}).Get(2)
	sink += int(Arrays([1]int{5}, [2]int{6, 7}, 8, [0]int{}, [1]string{"arr"}))
	sm, mx := Small(small{x: 65535, y: 255, z: -2}, mixed{i: -4, f: 1.5, u: 9})
	sink += int(sm.z) + mx.i
	sink += Blank(1, 2)
	var fn = func() {}
	if Shapes(0x1234, unsafe.Pointer(&t), map[int]int{}, make(chan int), fn) {
		sink++
	}
	sink += Empty(empty{}, 6)
	c, _ := Complex(complex(1, 2), 12)
	sink += int(real(c))
	sink += Quote("tab\there \"q\" back\\slash\nnew é\x01",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefTAIL")
	k := len(os.Args)
	sink += callClo(func(n int) int { return n + k }, 30)
	sink += callClo(t.Value, 31)
	sink += t.Unnamed(5)
	os.Exit(sink & 0)
}
