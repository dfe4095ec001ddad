//go:build cgo

// C functions of the cgo build. They are in .text but not in pclntab: the reader must
// list only Go functions. (cgo compiles every .c file of this directory.)
#include <stdint.h>

int64_t golat_prog_add(int64_t a, int64_t b) { return a + b; }
const char *golat_prog_name(void) { return "cgo"; }
