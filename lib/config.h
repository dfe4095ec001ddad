/* config: the GOLAT_* environment of SPEC.md, read once at load. Malformed values
 * are reported on a `golat: ` line and replaced by their default: the program always
 * runs on. */
#ifndef GOLAT_CONFIG_H
#define GOLAT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_SLOWEST_MAX 16 /* STATS_SLOWEST_MAX: a function's records share a page */

struct config {
	const char *funcs;  /* GOLAT_FUNCS; NULL: inert */
	char output[4096];  /* GOLAT_OUTPUT with %p expanded; "" or "-": stderr */
	char stats[4096];   /* GOLAT_STATS with %p expanded; "": the default path */
	uint32_t sample;    /* GOLAT_SAMPLE, >= 1 */
	uint32_t slowest;   /* GOLAT_SLOWEST, 0 to CONFIG_SLOWEST_MAX */
	double interval;    /* GOLAT_INTERVAL seconds, 0: only at exit */
	int monotonic;      /* GOLAT_CLOCK=monotonic, or auto on a CPU without an invariant TSC */
};

/* Reads the environment (and sets log_level from GOLAT_LOG). */
void config_read(struct config *c);

#endif
