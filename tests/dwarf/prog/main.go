// dwarfprog: the smallest cgo program whose DWARF holds runtime.g, runtime.m and
// runtime.stack, built by each toolchain to check golat's DWARF reader.
package main

/*
static int golat_dwarf_add(int a, int b) { return a + b; }
*/
import "C"

import "fmt"

func main() {
	fmt.Println(C.golat_dwarf_add(1, 2))
}
