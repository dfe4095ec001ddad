/* An LD_PRELOAD library for the Go test (goprog/): golat_core's stw and patch, a
 * constructor that installs the stop handler before the Go runtime starts (as
 * libgolat.so will), and entry points the Go program finds with dlsym, so that it
 * builds with nothing but a Go toolchain.
 * STWTEST_LATE=1 skips the constructor's stw_init: the Go program then calls
 * stwtest_init itself, with the runtime running. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "patch.h"
#include "stw.h"

#define STWTEST_API __attribute__((visibility("default")))

static int ctor_err = 1; /* 1: not tried */
static char ctor_reason[256];

__attribute__((constructor)) static void stwtest_ctor(void)
{
	const char *late = getenv("STWTEST_LATE");
	if (late && *late == '1')
		return;
	ctor_err = stw_init(ctor_reason, sizeof ctor_reason);
}

/* 0: stw_init succeeded in the constructor; 1: skipped (STWTEST_LATE); <0: failed. */
STWTEST_API int stwtest_ctor_result(char *reason, int n)
{
	snprintf(reason, (size_t)n, "%s", ctor_reason);
	return ctor_err;
}

STWTEST_API int stwtest_init(char *reason, int n)
{
	return stw_init(reason, (size_t)n);
}

STWTEST_API int stwtest_installed(void)
{
	return stw_installed();
}

static uint64_t stwtest_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int stwtest_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* n stops and resumes. out[0..4]: median ns, p99 ns, max ns, fewest and most threads
 * frozen. Returns 0 or the first error. */
STWTEST_API int stwtest_stops(int n, long long *out, char *reason, int rn)
{
	uint64_t *lat = calloc((size_t)n, sizeof *lat);
	size_t fewest = SIZE_MAX, most = 0;
	int err = 0;
	for (int i = 0; i < n && !err; i++) {
		struct stw s = { .timeout_ms = 2000 };
		uint64_t t0 = stwtest_now();
		err = stw_stop(&s, reason, (size_t)rn);
		lat[i] = stwtest_now() - t0;
		if (err)
			break;
		size_t c = stw_count(&s);
		fewest = c < fewest ? c : fewest;
		most = c > most ? c : most;
		stw_resume(&s);
	}
	if (!err) {
		qsort(lat, (size_t)n, sizeof *lat, stwtest_cmp);
		out[0] = (long long)lat[n / 2];
		out[1] = (long long)lat[(size_t)(n - 1) * 99 / 100];
		out[2] = (long long)lat[n - 1];
		out[3] = (long long)fewest;
		out[4] = (long long)most;
	}
	free(lat);
	return err;
}

/* n cycles of patch and revert of len bytes at addr. out[0]: retries (a thread was
 * in the window), out[1]: median ns the world stayed stopped, out[2]: p99. */
STWTEST_API int stwtest_patch_cycles(uint64_t addr, const uint8_t *bytes, int len, int n,
				     long long *out, char *reason, int rn)
{
	struct patch_stats st;
	struct patch_opts o = { .stats = &st, .timeout_ms = 2000 };
	struct patch_write w = { .addr = addr, .len = (uint8_t)len };
	uint64_t *stopped = calloc((size_t)n, sizeof *stopped);
	memcpy(w.bytes, bytes, (size_t)len);
	long long retries = 0;
	int err = 0;
	for (int i = 0; i < n && !err; i++) {
		err = patch_apply(&w, 1, &o, reason, (size_t)rn);
		if (err)
			break;
		retries += st.attempts - 1;
		stopped[i] = st.stopped_ns;
		err = patch_revert(&w, 1, &o, reason, (size_t)rn);
		retries += err ? 0 : st.attempts - 1;
	}
	if (!err) {
		qsort(stopped, (size_t)n, sizeof *stopped, stwtest_cmp);
		out[0] = retries;
		out[1] = (long long)stopped[n / 2];
		out[2] = (long long)stopped[(size_t)(n - 1) * 99 / 100];
	}
	free(stopped);
	return err;
}
