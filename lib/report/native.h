/* native: golat's cycle histogram (lib/record/stats.h: 32 linear buckets per power of two
 * of TSC cycles, exact below 32) as a Prometheus native histogram of seconds at schema 5
 * (32 exponential buckets per power of two), for `golat serve`'s protobuf answer.
 *
 * Native bucket i holds the values in (2^((i-1)/32), 2^(i/32)] seconds. A cycle bucket
 * [lo, hi) is lo/tsc_hz to hi/tsc_hz seconds: when that lies inside one native bucket its
 * count goes there whole; when it spans several, its count is split in proportion to
 * the overlap of each (the calls taken as spread evenly over the cycle bucket, as golat's
 * own quantiles take them). A bucket one cycle wide (below 64 cycles) is one value, and
 * falls whole into the native bucket of that value; 0 cycles is the zero bucket.
 *
 * The counts are floats. Prometheus takes any bucket of a counter histogram that goes
 * down as a counter reset, and an integer split (a floor here, a ceiling there) can make
 * a native bucket go down by one when a cycle bucket's count grows by one. A float split
 * cannot: each native bucket is a fixed-order sum of count * weight, with weights that
 * depend only on tsc_hz, and floating-point multiplication and addition are monotone, so
 * no native bucket ever decreases while no cycle bucket does. The caller must keep
 * tsc_hz fixed for a process's life (serve.c does). */
#ifndef GOLAT_NATIVE_H
#define GOLAT_NATIVE_H

#include <stdint.h>

#define NATIVE_SCHEMA 5
/* The native buckets a mapping can reach: 1 cycle at 100 THz to 2^44 cycles at 1 MHz
 * are keys -1500 to 450. */
#define NATIVE_MIN_KEY (-2048)
#define NATIVE_KEYS 4096
/* Prometheus's default zero threshold (client_golang's): only 0 falls in it. */
#define NATIVE_ZERO_THRESHOLD 2.9387358770557188e-39 /* 2^-128 */

struct native_hist {
	double zero;              /* calls of 0 cycles */
	int first, last;          /* keys of the first and last non-zero bucket; first > last: none */
	double count[NATIVE_KEYS]; /* count[k - NATIVE_MIN_KEY]: native bucket k */
};

/* The native bucket of v > 0 seconds: the smallest k with v <= 2^(k/32), as Prometheus
 * computes it (frexp and a table of 2^(j/32)). */
int native_key(double v);
/* The upper bound of native bucket k: 2^(k/32) seconds. */
double native_upper(int k);
/* Maps hist[STATS_BUCKETS] (cycles) with tsc_hz (> 0) into *out (cleared first). */
void native_map(const uint64_t *hist, double tsc_hz, struct native_hist *out);
/* Adds b into a (two functions of one name of one process). */
void native_add(struct native_hist *a, const struct native_hist *b);

#endif
