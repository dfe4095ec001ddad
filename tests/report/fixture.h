/* fixture: synthetic stats files for the reader's tests, made by the real writer
 * (lib/record/statsfile.c) with a small geometry: functions, and cells of "threads" with
 * known calls, recorded as the recorder records them. */
#ifndef GOLAT_TEST_FIXTURE_H
#define GOLAT_TEST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "callers.h"
#include "statsfile.h"

/* CHECK(cond, fmt, ...): a failed check prints the function, line and message and
 * counts in fixture_failures; the test goes on to show every failure at once. */
extern int fixture_failures;
#define CHECK(cond, ...)                                            \
	do {                                                        \
		if (!(cond)) {                                      \
			printf("FAIL %s:%d: ", __func__, __LINE__); \
			printf(__VA_ARGS__);                        \
			putchar('\n');                              \
			fixture_failures++;                         \
		}                                                   \
	} while (0)

#define FIXTURE_HZ 2000000000.0 /* 2.0 GHz: 1 ms is 2,000,000 cycles */
#define FIXTURE_ELAPSED_NS 12800000000ull
#define FIXTURE_PID 999999999u /* past any pid_max: never a live process */

#define FIXTURE_THREADS 8

struct fixture {
	uint8_t *buf; /* page-aligned, len bytes: the writer's mapping */
	size_t len;
	struct stats_header *h;
	struct statsfile sf;
	struct stats_cell *pages[FIXTURE_THREADS][4]; /* cell pages by thread and group */
	struct tramp_thread th[FIXTURE_THREADS];      /* their caller tables */
	bool no_callers; /* fixture_call leaves the caller tables alone */
};
#define FIXTURE_REAL_START_NS 1795000000000000000ull /* 2026-11-18T11:06:40Z */

/* A file with room for max_fns (<= 64) functions and 16 pages, marked exited, whose
 * TSC pairs give FIXTURE_HZ over FIXTURE_ELAPSED_NS. Returns 0 or -1. */
int fixture_init(struct fixture *fx, uint32_t max_fns);
void fixture_free(struct fixture *fx);
/* Adds a function; returns its id. */
uint32_t fixture_fn(struct fixture *fx, const char *name, uint64_t entry);
/* The cell of function id of thread t (< FIXTURE_THREADS), claimed on first use. */
struct stats_cell *fixture_cell(struct fixture *fx, uint32_t t, uint32_t id);
/* One completed, timed call of c cycles in thread t's cell of id, as the recorder
 * counts it, and in its caller table from site 0x100 * (t + 1), with no children. */
void fixture_call(struct fixture *fx, uint32_t t, uint32_t id, uint64_t cycles);
/* Writes the file (its holes as holes). Returns 0 or -1. */
int fixture_write(const struct fixture *fx, const char *path);

/* The demo file the report tests render: "main.handle" (1000 calls at exactly 1 ms
 * over 3 threads, 2 in flight, 1 panicked; one slowest call, 1 s after the start, of
 * goroutine 7 from site 0x100, argument 42, result 1), "main.fast" (a spread of 100 ns to 10 us),
 * "main.\"odd\"\\name\n" (names that need escaping), "main.stuck" (in flight only),
 * "main.unused" (nothing: omitted). */
int fixture_demo(struct fixture *fx);

#endif
