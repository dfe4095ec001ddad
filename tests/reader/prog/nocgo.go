//go:build !cgo

package main

// The pure-Go (CGO_ENABLED=0, statically linked) build of prog: the same program
// without its C functions.
func cAdd(a, b int) int { return a + b }
func cName() string     { return "nocgo" }
