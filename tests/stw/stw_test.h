/* Helpers shared by the C tests of tests/stw: checks that print what failed, a clock,
 * an independent reader of /proc/self/maps (the oracle for codemem and patch), and
 * percentiles for the numbers the tests report. */
#ifndef GOLAT_TEST_STW_H
#define GOLAT_TEST_STW_H

#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int test_failures;

#define CHECK(cond, ...)                                                          \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                             \
			fputc('\n', stderr);                                      \
			test_failures++;                                          \
		}                                                                 \
	} while (0)

#define REQUIRE(cond, ...)                                                        \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "%s:%d: REQUIRE(%s) failed: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                             \
			fputc('\n', stderr);                                      \
			exit(1);                                                  \
		}                                                                 \
	} while (0)

static inline uint64_t test_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Permissions ("r-xp") of the mapping holding addr, from /proc/self/maps read with
 * stdio; false when addr is not mapped. */
static inline bool test_perms(uint64_t addr, char perms[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	bool found = false;
	while (f && fgets(line, sizeof line, f)) {
		unsigned long long lo, hi;
		char p[5];
		if (sscanf(line, "%llx-%llx %4s", &lo, &hi, p) == 3 && addr >= lo && addr < hi) {
			memcpy(perms, p, 5);
			found = true;
			break;
		}
	}
	if (f)
		fclose(f);
	return found;
}

/* True when [lo, hi) overlaps no mapping listed in the snapshot text. */
static inline bool test_free_in(const char *maps, uint64_t lo, uint64_t hi)
{
	for (const char *line = maps; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		unsigned long long a, b;
		if (sscanf(line, "%llx-%llx", &a, &b) == 2 && lo < b && a < hi)
			return false;
	}
	return true;
}

static inline char *test_slurp_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	size_t got;
	while ((got = fread(buf + len, 1, cap - 1 - len, f)) > 0) {
		len += got;
		if (len + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	buf[len] = 0;
	return buf;
}

static int test_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorts v and returns the p-th percentile (0..100). */
static inline uint64_t test_percentile(uint64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof *v, test_cmp_u64);
	size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static inline int test_exit(const char *name)
{
	if (test_failures) {
		printf("FAIL: %s: %d check(s) failed\n", name, test_failures);
		return 1;
	}
	printf("PASS: %s\n", name);
	return 0;
}

#endif
