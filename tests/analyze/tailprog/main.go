// tailprog calls, for every rune below 0x20000, standard-library functions whose
// short exits golat hooks through another window's tail or a twin on Go 1.21+
// (lib/arch/x86_64/analyze_tail.c): strconv.IsPrint, unicode.SimpleFold, unicode.Is,
// which calls unicode.is16 and is32, base32's Encode (a return that hops into the
// tail of a window that steers a branch), math.Ldexp (math.ldexp: a lone ret that rel8
// branches reach, steered through hops in its entry window's tail), and sort.Ints of nearly sorted slices, which
// calls slices.partialInsertionSortOrdered[go.shape.int] (Go 1.22+). It prints what
// they returned, so that a hooked run that took a wrong exit prints something else.
package main

/*
static int tailprog_cgo(void) { return 1; }
*/
import "C"

import (
	"encoding/base32"
	"fmt"
	"math"
	"sort"
	"strconv"
	"unicode"
)

// N is the number of runes tried; the test expects exactly N calls of IsPrint, of
// SimpleFold and of math.ldexp.
const N = 0x20000

func main() {
	_ = C.tailprog_cgo() // cgo: the loader runs the program, LD_PRELOAD applies
	printable, han, letters, fold := 0, 0, 0, 0
	for r := rune(0); r < N; r++ {
		if strconv.IsPrint(r) {
			printable++
		}
		if unicode.Is(unicode.Han, r) {
			han++
		}
		if unicode.Is(unicode.Letter, r) {
			letters++
		}
		fold += int(unicode.SimpleFold(r)) % 7
	}
	// Every exit of math.ldexp: zero, NaN and ±Inf (its lone ret), overflow, underflow,
	// subnormal results and ordinary ones.
	fracs := []float64{0, math.NaN(), math.Inf(1), math.Inf(-1), 1.5, -0.75, 5e-324, 3.0e300}
	nan, inf, zero, bits := 0, 0, 0, uint64(0)
	for r := 0; r < N; r++ {
		x := math.Ldexp(fracs[r%len(fracs)], r%2200-1100)
		switch {
		case math.IsNaN(x):
			nan++
		case math.IsInf(x, 0):
			inf++
		case x == 0:
			zero++
		default:
			bits ^= math.Float64bits(x) * uint64(r|1)
		}
	}
	fmt.Println(nan, inf, zero, bits)
	// Encode N times, over every length 0 to 12 (its loop, its tail and its padding).
	buf, enc, sum := make([]byte, 32), make([]byte, 64), 0
	for r := 0; r < N; r++ {
		in := buf[:r%13]
		for i := range in {
			in[i] = byte(r >> (i % 3 * 8))
		}
		e := base32.StdEncoding
		if r%2 == 1 {
			e = base32.HexEncoding.WithPadding(base32.NoPadding)
		}
		e.Encode(enc, in)
		for _, c := range enc[:e.EncodedLen(len(in))] {
			sum = sum*31 + int(c)
		}
		if r%4096 == 7 { // a panic out of Encode (dst too short), recovered
			sum += encodePanics(e, in)
		}
	}
	fmt.Println(sum)
	s := make([]int, 5000)
	sorted := 0
	for k := 0; k < 200; k++ {
		for i := range s {
			s[i] = i
		}
		for i := 0; i < 30; i++ { // a few swaps: pdqsort tries a partial insertion sort
			j := (i*7919 + k*31) % (len(s) - 1)
			s[j], s[j+1] = s[j+1], s[j]
		}
		sort.Ints(s)
		sorted += s[k*17%len(s)]
	}
	fmt.Println(printable, han, letters, fold, sorted)
}

// encodePanics has e encode in into a buffer too short for it: Encode panics (index out
// of range) from inside, through its hooked frame, and 1 is returned once recovered.
func encodePanics(e *base32.Encoding, in []byte) (n int) {
	defer func() {
		if recover() != nil {
			n = 1
		}
	}()
	e.Encode(make([]byte, 1), in)
	return 0
}
