// tailprog calls, for every rune below 0x20000, standard-library functions whose
// short exits golat hooks through another window's tail or a twin on Go 1.21+
// (lib/engine/analyze_tail.c): strconv.IsPrint, unicode.SimpleFold, unicode.Is,
// which calls unicode.is16 and is32, and sort.Ints of nearly sorted slices, which
// calls slices.partialInsertionSortOrdered[go.shape.int] (Go 1.22+). It prints what
// they returned, so that a hooked run that took a wrong exit prints something else.
package main

/*
static int tailprog_cgo(void) { return 1; }
*/
import "C"

import (
	"fmt"
	"sort"
	"strconv"
	"unicode"
)

// N is the number of runes tried; the test expects exactly N calls of IsPrint and
// of SimpleFold.
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
