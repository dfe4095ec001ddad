// cgo: dynamically linked, so that LD_PRELOAD applies; a CGO_ENABLED=0 build leaves
// this file out (it imports "C") and is static, for golat run.
package main

// #include <unistd.h>
import "C"
