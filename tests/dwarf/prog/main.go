// dwarfprog: a cgo program for tests/dwarf. Its DWARF holds the Go runtime's g, m and
// stack (Go's units) and golat_cgo_probe (a C unit, from gcc), and net/http makes it
// as large as the services golat is for, so that run.sh times a realistic lookup.
package main

/*
struct golat_cgo_probe {
	char a;
	double b;
	struct { short x, y; } in;
};

static int golat_dwarf_add(struct golat_cgo_probe *p) { return p->a + p->in.y; }
*/
import "C"

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	var p C.struct_golat_cgo_probe
	fmt.Println(C.golat_dwarf_add(&p))
	if len(os.Args) > 1 { // never in the tests: it keeps the HTTP server in the binary
		fmt.Println(http.ListenAndServe(os.Args[1], nil))
	}
}
