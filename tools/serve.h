/* golat serve: between the HTTP server (serve.c) and the scrape (serve_scrape.c). */
#ifndef GOLAT_SERVE_H
#define GOLAT_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report.h"

/* The stats files one scrape found, by what became of them. */
struct serve_counts {
	unsigned live;       /* shown */
	unsigned exited;     /* the writer exited or died: left out */
	unsigned unreadable; /* not this user's 0600 regular file, or not a valid stats file */
	unsigned duplicate;  /* a second file of a pid already shown */
};

/* The TSC rate a process's native buckets are mapped with: the first one seen, kept for
 * its life (a rate measured anew at each scrape would move the split of the cycle
 * buckets, and a native bucket that goes down is a counter reset: native.h). */
struct serve_rate {
	uint32_t pid;
	uint64_t tsc_start; /* with pid: the process (a pid is reused) */
	double hz;
};

#define SERVE_LABELS_MAX 16
/* What lasts between scrapes. */
struct serve_conf {
	const struct cli_dirs *dirs; /* --dir (none: /dev/shm, $TMPDIR and the containers') */
	struct report_label extra[SERVE_LABELS_MAX]; /* --label: on every series */
	size_t nextra;
	/* The histogram bounds exposed so far: they only widen, so that Prometheus sees
	 * a function's bucket series go on rather than end when a slow process exits. */
	struct report_prom_bounds bounds;
	struct serve_rate *rates;
	size_t nrates;
};

enum serve_format {
	SERVE_TEXT,     /* Prometheus text 0.0.4 */
	SERVE_PROTOBUF, /* delimited io.prometheus.client.MetricFamily (report_pb.h) */
	SERVE_TARGETS,  /* the HTTP service discovery's JSON: one target per process */
};

/* The answer in format fmt for every live golat stats file of this user (see
 * cli_find_stats_files and stats_find_other), or for process pid alone (0: all),
 * malloc'ed into *body (*len bytes). self: this server's host:port, the targets' address.
 * Returns 0, -ENOMEM, or -ESRCH when pid has no live stats file. */
int serve_scrape(char **body, size_t *len, struct serve_counts *st, struct serve_conf *c,
		 enum serve_format fmt, uint32_t pid, const char *self);
/* Whether name is a label name Prometheus takes and golat's series do not use already;
 * else false with why in err. */
bool serve_label_ok(const char *name, char *err, size_t errlen);

/* Whether the request head req (NUL-terminated) asks for the protobuf in an Accept
 * header, at a q no lower than the text's (serve_http.c). Else the text. */
bool serve_wants_protobuf(const char *req);
/* The pid of a target's query (?pid=N): 1 with *pid set, 0 when none, -1 when it is not
 * a pid. */
int serve_query_pid(const char *target, uint32_t *pid);

#endif
