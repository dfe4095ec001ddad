//go:build !cgo

package main

// Without cgo (a static program, for golat's static route) there is no C to time
// rdtsc with: main prints the leaf lines only.
const haveRdtsc = false

func rdtscPairNs(n int) float64 { return 0 }
