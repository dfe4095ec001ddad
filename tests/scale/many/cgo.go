// Linked with libc when cgo is on, so that LD_PRELOAD=libgolat.so applies; left out of
// a CGO_ENABLED=0 build (a file that imports "C" needs cgo), which golat run hooks.
package main

// #include <unistd.h>
import "C"
