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

static void read_sample(struct config *c)
{
	const char *v = getenv("GOLAT_SAMPLE");
	c->sample = 1;
	if (!v)
		return;
	char *end;
	errno = 0;
	unsigned long long s = strtoull(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || s == 0 || s > 1000000000ull) {
		log_info("GOLAT_SAMPLE='%s' is not a whole number from 1 to 1000000000; timing every call", v);
		return;
	}
	c->sample = (uint32_t)s;
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
	read_sample(c);
	read_interval(c);
}
