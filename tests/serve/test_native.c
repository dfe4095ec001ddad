/* The mapping of golat's cycle histogram to a native histogram at schema 5 (native.h):
 * the bounds of the native buckets, nested cycle buckets whole in one, split ones in
 * proportion and conserved, and every native bucket monotone while the cycle counts grow
 * (a native bucket that goes down is a counter reset to Prometheus). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "native.h"
#include "stats.h"

static int fails;
#define CHECK(c, ...)                                                     \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                     \
			fputc('\n', stderr);                              \
			if (++fails > 20)                                 \
				exit(1);                                  \
		}                                                         \
	} while (0)

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double total(const struct native_hist *h)
{
	double t = h->zero;
	for (int k = h->first; k <= h->last; k++)
		t += h->count[k - NATIVE_MIN_KEY];
	return t;
}

/* Bucket i covers (2^((i-1)/32), 2^(i/32)]. */
static void bounds(void)
{
	for (int i = -1200; i <= 600; i++) {
		double up = native_upper(i), want = exp2(i / 32.0);
		CHECK(fabs(up - want) <= 4e-16 * want, "upper(%d) = %.17g, want %.17g", i, up, want);
		CHECK(native_key(up) == i, "key(upper(%d)) = %d", i, native_key(up));
		CHECK(native_key(up * (1 + 1e-12)) == i + 1, "key just above upper(%d) = %d", i,
		      native_key(up * (1 + 1e-12)));
		CHECK(native_key(native_upper(i - 1) * (1 + 1e-12)) == i, "key just above upper(%d)", i - 1);
	}
	CHECK(native_key(1) == 0 && native_key(2) == 32 && native_key(0.5) == -32, "powers of two");
}

/* Each cycle bucket alone, at several rates: nested ones whole, split ones in proportion. */
static void one_bucket(double hz)
{
	static uint64_t hist[STATS_BUCKETS];
	static struct native_hist h;
	unsigned nested = 0, split = 0;
	for (uint32_t b = 0; b < STATS_BUCKETS; b++) {
		memset(hist, 0, sizeof(hist));
		hist[b] = 1000003;
		native_map(hist, hz, &h);
		double c = (double)hist[b], t = total(&h);
		CHECK(fabs(t - c) <= 1e-9 * c, "bucket %u at %g Hz: %.17g of %.17g", b, hz, t, c);
		uint64_t lo = stats_bucket_lo(b), hi = stats_bucket_hi(b);
		if (lo == 0) {
			CHECK(h.zero == c, "bucket 0 is the zero bucket");
			continue;
		}
		int ka = native_key((double)lo / hz), kz = native_key((double)hi / hz);
		if (hi - lo == 1 || ka == kz) {
			nested++;
			CHECK(h.first == ka && h.last == ka && h.count[ka - NATIVE_MIN_KEY] == c,
			      "bucket %u (%llu..%llu cycles) whole in native %d", b, (unsigned long long)lo,
			      (unsigned long long)hi, ka);
			continue;
		}
		split++;
		double a = (double)lo / hz, z = (double)hi / hz;
		for (int k = ka; k <= kz; k++) {
			double top = fmin(z, native_upper(k)), bot = fmax(a, native_upper(k - 1));
			double want = c * (top - bot) / (z - a);
			CHECK(fabs(h.count[k - NATIVE_MIN_KEY] - want) <= 1e-9 * c, "bucket %u share of %d: %g, want %g",
			      b, k, h.count[k - NATIVE_MIN_KEY], want);
		}
	}
	printf("ok: %g Hz: %u cycle buckets whole in one native bucket, %u split, each conserved\n", hz,
	       nested, split);
}

/* Random histograms growing at random: no native bucket ever goes down. */
static void monotone(double hz, int rounds)
{
	static uint64_t hist[STATS_BUCKETS];
	static struct native_hist a, b;
	memset(hist, 0, sizeof(hist));
	for (int i = 0; i < 200; i++)
		hist[next() % STATS_BUCKETS] += next() % 100000;
	native_map(hist, hz, &a);
	unsigned long long grown = 0;
	for (int r = 0; r < rounds; r++) {
		int n = 1 + (int)(next() % 8);
		for (int i = 0; i < n; i++) {
			uint64_t add = next() % 4 == 0 ? next() % 1000000 : 1; /* often by one */
			hist[32 + next() % (STATS_BUCKETS - 32)] += add;
			grown += add;
		}
		native_map(hist, hz, &b);
		CHECK(b.zero >= a.zero, "zero bucket went down");
		for (int k = a.first; k <= a.last; k++)
			CHECK(b.count[k - NATIVE_MIN_KEY] >= a.count[k - NATIVE_MIN_KEY],
			      "round %d at %g Hz: native bucket %d went from %.17g to %.17g", r, hz, k,
			      a.count[k - NATIVE_MIN_KEY], b.count[k - NATIVE_MIN_KEY]);
		memcpy(&a, &b, sizeof(a));
	}
	double want = 0;
	for (uint32_t i = 0; i < STATS_BUCKETS; i++)
		want += (double)hist[i];
	CHECK(fabs(total(&a) - want) <= 1e-9 * want, "the count is not conserved: %.17g of %.17g", total(&a),
	      want);
	printf("ok: %g Hz: %d random growths (%llu calls), every native bucket monotone\n", hz, rounds, grown);
}

int main(void)
{
	bounds();
	if (!fails)
		printf("ok: native bucket bounds at schema 5, keys -1200..600\n");
	const double rates[] = { 1e9, 2.1e9, 2994.374e6, 3.7e9 + 12345.678 };
	for (size_t i = 0; i < sizeof(rates) / sizeof(*rates); i++)
		one_bucket(rates[i]);
	for (size_t i = 0; i < sizeof(rates) / sizeof(*rates); i++)
		monotone(rates[i], 500);
	for (int i = 0; i < 8; i++)
		monotone(1e9 + (double)(next() % 4000000000ull) + (double)(next() % 1000) / 1000, 200);
	return fails ? 1 : 0;
}
