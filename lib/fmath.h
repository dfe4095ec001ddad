/* fmath: the few floating-point functions the reports use, without libm, so that
 * libgolat.so and the golat command NEED libc.so.6 alone (lib/glibc_compat.h says
 * why). Each is exact for the values golat gives it: finite, and well inside the
 * range of a long long where it rounds. */
#ifndef GOLAT_FMATH_H
#define GOLAT_FMATH_H

#include <stdint.h>
#include <string.h>

/* Whether x is an integer already, or too large to have a fraction (or NaN). */
static inline int fm_whole(double x)
{
	return !(x > -4503599627370496.0 && x < 4503599627370496.0) || (double)(long long)x == x;
}

static inline double fm_floor(double x)
{
	if (fm_whole(x))
		return x;
	double t = (double)(long long)x; /* toward zero */
	return t > x ? t - 1 : t;
}

static inline double fm_ceil(double x)
{
	if (fm_whole(x))
		return x;
	double t = (double)(long long)x;
	return t < x ? t + 1 : t;
}

/* Halfway cases away from zero, as round(3). */
static inline double fm_round(double x)
{
	if (fm_whole(x))
		return x;
	double a = x < 0 ? -x : x, f = fm_floor(a), r = a - f >= 0.5 ? f + 1 : f;
	return x < 0 ? -r : r;
}

/* The exponent e of x >= 1 (finite): 2^e <= x < 2^(e+1), as ilogb(3). */
static inline int fm_ilogb(double x)
{
	uint64_t b;
	memcpy(&b, &x, sizeof(b));
	return (int)((b >> 52) & 0x7ff) - 1023;
}

/* x * 2^e for -1022 <= e <= 1023, as ldexp(3) there: a product by a power of two is
 * exact. */
static inline double fm_ldexp(double x, int e)
{
	uint64_t b = (uint64_t)(e + 1023) << 52;
	double p;
	memcpy(&p, &b, sizeof(p));
	return x * p;
}

#endif
