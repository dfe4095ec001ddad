//go:build cgo

package main

/*
#include <stdint.h>
#include <time.h>
#include <x86intrin.h>

// ns per pair of rdtsc over n pairs (what the recorder pays at least per call).
static double rdtsc_pair_ns(long n) {
	struct timespec a, b;
	uint64_t acc = 0;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		uint64_t t0 = __rdtsc();
		uint64_t t1 = __rdtsc();
		acc += t1 - t0;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	volatile uint64_t sink = acc; (void)sink;
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
}
*/
import "C"

const haveRdtsc = true

func rdtscPairNs(n int) float64 { return float64(C.rdtsc_pair_ns(C.long(n))) }
