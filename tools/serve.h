/* golat serve: between the HTTP server (serve.c) and the scrape (serve_scrape.c). */
#ifndef GOLAT_SERVE_H
#define GOLAT_SERVE_H

#include <stddef.h>

/* The stats files one scrape found, by what became of them. */
struct serve_counts {
	unsigned live;       /* shown */
	unsigned exited;     /* the writer exited or died: left out */
	unsigned unreadable; /* not this user's 0600 regular file, or not a valid stats file */
	unsigned duplicate;  /* a second file of a pid already shown */
};

/* The Prometheus text of every live golat stats file of this user in dirs (none:
 * /dev/shm and $TMPDIR, see cli_find_stats_files, and those of the containers this
 * user may see, see stats_find_other), malloc'ed into *body (*len bytes),
 * with histogram bounds that only widen over the server's life (bounds: see
 * report_prom_multi). Returns 0 or -ENOMEM. */
struct report_prom_bounds;
struct cli_dirs;
int serve_scrape(char **body, size_t *len, struct serve_counts *st, struct report_prom_bounds *bounds,
		 const struct cli_dirs *dirs);

#endif
