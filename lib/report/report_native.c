/* native: the cycle histogram as a Prometheus native histogram. See native.h. */
#include <string.h>

#include "fmath.h"
#include "native.h"
#include "stats.h"

/* 2^(j/32), j = 0..32. */
static const double pow32[33] = {
	1, 1.0218971486541166, 1.0442737824274138, 1.0671404006768237, 1.0905077326652577,
	1.1143867425958924, 1.1387886347566916, 1.1637248587775775, 1.189207115002721,
	1.215247359980469, 1.241857812073484, 1.2690509571917332, 1.2968395546510096,
	1.3252366431597413, 1.3542555469368927, 1.383909881963832, 1.4142135623730951,
	1.4451808069770467, 1.4768261459394993, 1.5091644275934228, 1.5422108254079407,
	1.5759808451078865, 1.6104903319492543, 1.6457554781539649, 1.681792830507429,
	1.7186192981224779, 1.7562521603732995, 1.7947090750031072, 1.8340080864093424,
	1.8741676341103, 1.9152065613971474, 1.9571441241754002, 2,
};

int native_key(double v)
{
	/* v = m * 2^e, 1 <= m < 2 (v a positive normal double: golat's are). */
	uint64_t b;
	memcpy(&b, &v, sizeof(b));
	int e = (int)((b >> 52) & 0x7ff) - 1023;
	b = (b & ((1ull << 52) - 1)) | (1023ull << 52);
	double m;
	memcpy(&m, &b, sizeof(m));
	int j = 0;
	while (pow32[j] < m) /* m == 1 is 2^e exactly: the top of bucket 32e */
		j++;
	return e * 32 + j;
}

double native_upper(int k)
{
	int q = k >= 0 ? k / 32 : -((-k + 31) / 32); /* floor(k / 32) */
	return fm_ldexp(pow32[k - q * 32], q);
}

static void put(struct native_hist *o, int k, double c)
{
	if (k < NATIVE_MIN_KEY)
		k = NATIVE_MIN_KEY;
	if (k >= NATIVE_MIN_KEY + NATIVE_KEYS)
		k = NATIVE_MIN_KEY + NATIVE_KEYS - 1;
	o->count[k - NATIVE_MIN_KEY] += c;
	o->first = k < o->first ? k : o->first;
	o->last = k > o->last ? k : o->last;
}

void native_map(const uint64_t *hist, double tsc_hz, struct native_hist *o)
{
	memset(o, 0, sizeof(*o));
	o->first = NATIVE_MIN_KEY + NATIVE_KEYS;
	o->last = NATIVE_MIN_KEY - 1;
	for (uint32_t b = 0; b < STATS_BUCKETS; b++) {
		if (!hist[b])
			continue;
		double c = (double)hist[b];
		uint64_t lo = stats_bucket_lo(b), hi = stats_bucket_hi(b);
		if (lo == 0) {
			o->zero += c;
			continue;
		}
		double a = (double)lo / tsc_hz, z = (double)hi / tsc_hz;
		int ka = native_key(a), kz = native_key(z);
		if (hi - lo == 1 || ka == kz) { /* one value, or nested in one native bucket */
			put(o, ka, c);
			continue;
		}
		/* [a, z) over native buckets ka..kz: the share of each is its overlap. The weights
		 * depend on (b, tsc_hz) alone, the order of the sums is fixed: see native.h. */
		double w = z - a;
		for (int k = ka; k <= kz; k++) {
			double top = k == kz ? z : native_upper(k), bot = k == ka ? a : native_upper(k - 1);
			if (top > bot)
				put(o, k, c * ((top - bot) / w));
		}
	}
}

void native_add(struct native_hist *a, const struct native_hist *b)
{
	a->zero += b->zero;
	for (int k = b->first; k <= b->last; k++)
		put(a, k, b->count[k - NATIVE_MIN_KEY]);
}
