/* The Prometheus protobuf exposition (io.prometheus.client.MetricFamily, each preceded
 * by its length as a varint: "encoding=delimited") of what report_prom_multi writes as
 * text, with golat_duration_seconds as classic and native histogram at once (native.h)
 * and the slowest calls as exemplars. `golat serve` answers it to a scraper that asks. */
#ifndef GOLAT_REPORT_PB_H
#define GOLAT_REPORT_PB_H

#include <stddef.h>
#include <stdio.h>

#include "report.h"

#define REPORT_PB_TYPE \
	"application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"

/* The exemplars of a series: its slowest calls, at most this many. */
#define REPORT_PB_EXEMPLARS 8
/* Prometheus's limit on an exemplar's label names and values together, in characters. */
#define REPORT_PB_EXEMPLAR_RUNES 128

/* As report_prom_multi, in protobuf. hz[j]: the TSC rate to map source j's cycles to
 * native buckets with (NULL, or 0: its snapshot's), which must stay the same for a
 * process's life: see native.h. 0 or -ENOMEM. */
int report_prom_pb(FILE *out, const struct report_prom_src *src, const double *hz, size_t nsrc,
		   struct report_prom_bounds *keep);

/* A family of gauges, one sample per label set. 0 or -ENOMEM. */
struct report_gauge {
	const struct report_label *l;
	size_t n;
	double value;
};
int report_pb_gauges(FILE *out, const char *name, const char *help, const struct report_gauge *g,
		     size_t n);

#endif
