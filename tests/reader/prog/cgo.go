//go:build cgo

package main

// #include <stdint.h>
// int64_t golat_prog_add(int64_t a, int64_t b);
// const char *golat_prog_name(void);
// static inline int golat_prog_twice(int x) { return 2 * x; }
import "C"

func cAdd(a, b int) int {
	return int(C.golat_prog_add(C.int64_t(a), C.int64_t(b))) + int(C.golat_prog_twice(0))
}
func cName() string { return C.GoString(C.golat_prog_name()) }
