/* golat serve's page: the self-contained page at / and the JSON it reads (/api/...),
 * with the once-a-second sampling behind its heat maps (serve_page.c); the function
 * details both the server and `golat report --html` render (serve_page_json.c). See
 * doc/page.md. */
#ifndef GOLAT_SERVE_PAGE_H
#define GOLAT_SERVE_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "statsread.h"

/* The page (tools/page/index.html), embedded at build time (tools/CMakeLists.txt). */
extern const char serve_page_html[];
extern const size_t serve_page_html_len;
/* Where `golat report --html` puts its data: the page reads it instead of /api. */
#define SERVE_PAGE_DATA_MARK "<!--GOLAT-DATA-->"

/* The heat map's rows: 8 of the stats file's buckets each (4 per power of two). */
#define PAGE_ROW_BUCKETS 8
#define PAGE_ROWS (STATS_BUCKETS / PAGE_ROW_BUCKETS)

struct callsite;
/* Function f's details as one JSON object: its numbers, its histogram by row
 * ("hist": [[row, count]...], "rows": each row's [lo_ns, hi_ns]), callers and slowest
 * calls; the slowest calls' argument values only with args (else the parameters'
 * names and types). hist: its histogram (STATS_BUCKETS). */
void page_json_func(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
		    const struct callsite *cs, const struct stats_func *f, const uint64_t *hist, bool args);
/* One row of the function list: id, name, calls, total_ns, self_ns, p50_ns, p99_ns. */
void page_json_row(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
		   const struct stats_func *f, uint64_t *hist);
/* The process as the list of processes shows it: pid, exe, go_version, alive, nfns. */
void page_json_proc(FILE *out, const struct stats_snapshot *s);

/* `golat report --html`: the page with v's data inlined, one file that opens offline.
 * 0 or -errno. */
int page_write_html(FILE *out, const struct stats_view *v, bool args);

/* The server's side. */
struct page_server;
struct cli_dirs;
struct page_server *page_server_new(const struct cli_dirs *dirs, bool args);
void page_server_free(struct page_server *ps);
/* Answers GET target when it is the page's ("/", "/api/..."): true, with *status,
 * *type and a malloc'ed *body (*len bytes). False: not the page's. */
bool page_server_route(struct page_server *ps, const char *target, const char **status,
		       const char **type, char **body, size_t *len);
/* The sampling: call when page_server_due says (monotonic ms); returns the next time. */
int64_t page_server_tick(struct page_server *ps, int64_t now_ms);

#endif
