/* config: GOLAT_* variables. See config.h and SPEC.md. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "paths.h"

static void read_path(char *out, size_t n, const char *var)
{
	const char *v = getenv(var);
	out[0] = 0;
	if (v && *v && !paths_expand(out, n, v, getpid())) {
		log_info("%s is too long; using the default", var);
		out[0] = 0;
	}
}

/* A whole number in [lo, hi] from variable var, else def (said on a `golat: ` line,
 * with what the default means). */
static uint32_t read_uint(const char *var, uint32_t lo, uint32_t hi, uint32_t def, const char *meaning)
{
	const char *v = getenv(var);
	if (!v)
		return def;
	char *end;
	errno = 0;
	unsigned long long s = strtoull(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || s < lo || s > hi) {
		log_info("%s='%s' is not a whole number from %u to %u; %s", var, v, lo, hi, meaning);
		return def;
	}
	return (uint32_t)s;
}

static void read_interval(struct config *c)
{
	const char *v = getenv("GOLAT_INTERVAL");
	c->interval = 0;
	if (!v)
		return;
	char *end;
	errno = 0;
	double s = strtod(v, &end);
	if (errno || end == v || *end || !isfinite(s) || s < 0 || s > 86400 * 365) {
		log_info("GOLAT_INTERVAL='%s' is not a number of seconds; reporting only at exit", v);
		return;
	}
	if (s > 0 && s < 0.1) {
		log_info("GOLAT_INTERVAL=%s is below 0.1 s; using 0.1 s", v);
		s = 0.1;
	}
	c->interval = s;
}

/* CPUID 0x80000007 EDX bit 8: the TSC runs at a constant rate in every P-, C- and
 * T-state (Intel SDM 17.17.1, AMD APM 2.5), so cycles convert to time. */
static bool invariant_tsc(void)
{
	unsigned a, b, c, d;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000u), "c"(0));
	if (a < 0x80000007u)
		return false;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000007u), "c"(0));
	return d & (1u << 8);
}

static void read_clock(struct config *c)
{
	const char *v = getenv("GOLAT_CLOCK");
	if (v && strcmp(v, "monotonic") == 0) {
		c->monotonic = 1;
		return;
	}
	if (v && strcmp(v, "tsc") != 0 && strcmp(v, "auto") != 0)
		log_info("GOLAT_CLOCK=%s is not tsc, monotonic or auto; using auto", v);
	if ((!v || strcmp(v, "tsc") != 0) && !invariant_tsc()) {
		log_info("this CPU's TSC is not invariant (CPUID 0x80000007): timing with "
			 "CLOCK_MONOTONIC instead, which costs more per call");
		c->monotonic = 1;
	}
}

void config_read(struct config *c)
{
	memset(c, 0, sizeof(*c));
	const char *lv = getenv("GOLAT_LOG");
	if (lv) {
		int l = log_parse_level(lv);
		if (l < 0)
			log_info("GOLAT_LOG=%s is not quiet, info or debug; using info", lv);
		else
			log_level = (enum log_level)l;
	}
	c->funcs = getenv("GOLAT_FUNCS");
	read_path(c->output, sizeof(c->output), "GOLAT_OUTPUT");
	read_path(c->stats, sizeof(c->stats), "GOLAT_STATS");
	c->sample = read_uint("GOLAT_SAMPLE", 1, 1000000000, 1, "timing every call");
	c->slowest = read_uint("GOLAT_SLOWEST", 0, CONFIG_SLOWEST_MAX, 8, "keeping the 8 slowest calls");
	read_interval(c);
	read_clock(c);
}
