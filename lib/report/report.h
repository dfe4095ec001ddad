/* report: renders a stats file as text, JSON or Prometheus text exposition — the
 * formats of SPEC.md ("The report"), written once for the library's final report and
 * for `golat report` and `golat top`.
 *
 * Functions with no completed call and none in flight are left out. Functions come
 * slowest total first. Times are ns, converted with the snapshot's TSC rate.
 * Everything writes with stdio to a FILE* and returns 0 or -errno (a write error, or
 * -ENOMEM). */
#ifndef GOLAT_REPORT_H
#define GOLAT_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "callsite.h"
#include "gobin.h"
#include "statsread.h"

enum report_format { REPORT_TEXT, REPORT_JSON, REPORT_PROM };

/* A selected function the library did not hook (the JSON "skipped" array, and a
 * closing list in the text report). */
struct report_skip {
	const char *spec;   /* the GOLAT_FUNCS spec that selected it */
	const char *name;   /* the function, or the spec itself when it matched nothing */
	const char *reason;
};

struct report_opts {
	enum report_format format;
	const struct report_skip *skipped; /* may be NULL */
	size_t nskipped;
	/* The program's binary, already read (the library's own): names call sites.
	 * NULL: the report reads it (callsite.h). */
	const struct gobin *bin;
};

/* `.json` → JSON, `.prom` → Prometheus, anything else (and NULL, "-") → text. */
enum report_format report_format_for_path(const char *path);

/* Takes a snapshot of v and renders it. opts NULL: text, nothing skipped. */
int report_write(FILE *out, const struct stats_view *v, const struct report_opts *opts);
/* The same from a snapshot the caller took. */
int report_render(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
		  const struct report_opts *opts);

/* ---- pieces `golat top` shares ---- */

#define REPORT_POW2 64 /* power-of-two ns buckets: 0 is [0, 1), i is [2^(i-1), 2^i) */

/* One function's numbers, in ns. */
struct report_fn {
	const struct stats_func *f;
	uint64_t count;           /* timed calls in the histogram */
	uint64_t pow2[REPORT_POW2];
	double total_ns;          /* sum of the timed calls, scaled by calls/timed when sampled */
	double self_ns;           /* the same, less the time of the hooked calls they made */
	double mean_ns, min_ns, max_ns, p50_ns, p90_ns, p99_ns, p999_ns;
};

/* Computes f's numbers; hist (STATS_BUCKETS counters) receives its histogram. */
void report_fn_compute(const struct stats_view *v, const struct stats_snapshot *s,
		       const struct stats_func *f, uint64_t *hist, struct report_fn *out);
/* The ids of the functions a report shows, slowest total first, into ids[s->nfns];
 * returns how many. */
size_t report_order(const struct stats_snapshot *s, uint32_t *ids);
/* f's total time: the timed calls' sum, times calls/timed when 1 call in N is timed. */
double report_total_ns(const struct stats_snapshot *s, const struct stats_func *f);
/* f's self time, scaled alike: total less the time in hooked functions it called. */
double report_self_ns(const struct stats_snapshot *s, const struct stats_func *f);
/* ns with 3 significant digits and a unit: "980us", "1.21ms", "41.0ms"; sep goes
 * between number and unit ("12.8 s" in the text header). */
void report_human_ns(char *buf, size_t n, double ns, const char *sep);
/* Writes s with control bytes and invalid UTF-8 replaced by '?': names come from a
 * file anyone may have written and must not drive a terminal. */
void report_put_clean(FILE *out, const char *s);

/* ---- Prometheus text exposition of several processes (`golat serve`) ---- */

struct report_label {
	const char *name;  /* a valid label name: the caller's constant */
	const char *value; /* any bytes: escaped as the exposition format says */
};

/* One process's part of an exposition. */
struct report_prom_src {
	const struct stats_view *v;
	const struct stats_snapshot *s;
	const uint32_t *ids; /* the functions to show, as report_order gives them */
	size_t n;
	const struct report_label *labels; /* on every sample, after function=; may be NULL */
	size_t nlabels;
};

/* The histogram bounds (power-of-two ns buckets lo..hi) an exposition uses. */
struct report_prom_bounds {
	unsigned lo, hi; /* lo > hi: none yet */
};

/* The Prometheus text of every source: one HELP/TYPE block per metric family, then
 * that family's samples from every source (the format wants them together), with one
 * set of histogram bounds for all. The caller keeps the label sets of two sources
 * apart (pid, say), or the samples collide. keep NULL: the bounds are those the data
 * needs; else keep's, widened to the data's and kept there, so that a long-running
 * exporter's bucket series never end while their function lives (initialize it to
 * { REPORT_POW2, 0 }). 0 or -ENOMEM. */
int report_prom_multi(FILE *out, const struct report_prom_src *src, size_t nsrc,
		      struct report_prom_bounds *keep);
/* One sample `name{l0="v0",l1="v1"} value` (labels escaped as above). */
void report_prom_sample(FILE *out, const char *name, const struct report_label *l, size_t n,
			double value);


/* cycles summed over f's timed calls (a caller's, say), as ns of all its calls:
 * scaled as report_total_ns. */
double report_scaled_ns(const struct stats_snapshot *s, const struct stats_func *f, uint64_t cycles);

/* A calling function of a hooked function: its call sites added up. */
struct report_caller {
	char name[STATS_NAME_MAX]; /* or its address in hex */
	uint64_t entry;            /* link-time; 0 when unnamed */
	uint64_t calls, sum, self; /* sum and self: cycles of the timed calls */
};
/* Function id's callers, most calls first, into *out (malloc'ed, NULL when none);
 * returns how many. */
size_t report_callers(const struct stats_snapshot *s, const struct callsite *cs, uint32_t id,
		      struct report_caller **out);

/* ---- between report.c, report_export.c and report_calls.c ---- */
int report_json(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
		const uint32_t *ids, size_t n, const struct report_opts *o, const struct callsite *cs);
/* "self_ns", "callers" and "slowest" of f, as JSON keys (each preceded by a comma). */
void report_json_calls(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
		       const struct callsite *cs, const struct stats_func *f);
/* The text report's lines for f's callers and slowest calls. */
void report_text_calls(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
		       const struct callsite *cs, const struct stats_func *f);
int report_prom(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
		const uint32_t *ids, size_t n);
/* The power-of-two bucket of a value in ns. */
unsigned report_pow2_index(double ns);
/* Whole ns as an integer for JSON: rounded, clamped to [0, 2^64). */
unsigned long long report_ns_int(double ns);

#endif
