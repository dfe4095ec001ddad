/* report: what every format shares (order, per-function numbers, units) and the text
 * format. JSON and Prometheus are in report_export.c. See report.h. */
#include "report.h"
#include "json.h"
#include "fmath.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BAR 40 /* '@'s of the fullest histogram line */

enum report_format report_format_for_path(const char *path)
{
	size_t n = path ? strlen(path) : 0;
	if (n >= 5 && strcmp(path + n - 5, ".json") == 0)
		return REPORT_JSON;
	if (n >= 5 && strcmp(path + n - 5, ".prom") == 0)
		return REPORT_PROM;
	return REPORT_TEXT;
}

unsigned report_pow2_index(double ns)
{
	if (!(ns >= 1)) /* also NaN */
		return 0;
	int e = fm_ilogb(ns); /* 2^e <= ns < 2^(e+1) */
	return e + 1 < REPORT_POW2 ? (unsigned)e + 1 : REPORT_POW2 - 1;
}

unsigned long long report_ns_int(double ns)
{
	if (!(ns > 0))
		return 0;
	return ns >= 1.8e19 ? 18000000000000000000ull : (unsigned long long)fm_round(ns);
}

/* cycles summed over f's timed calls, in ns for all its calls: times calls/timed when
 * 1 call in N is timed. */
double report_scaled_ns(const struct stats_snapshot *s, const struct stats_func *f, uint64_t cycles)
{
	double sum = (double)cycles;
	if (s->sample > 1 && f->timed && f->calls > f->timed)
		sum *= (double)f->calls / (double)f->timed;
	return stats_cycles_to_ns(s, sum);
}

double report_total_ns(const struct stats_snapshot *s, const struct stats_func *f)
{
	return report_scaled_ns(s, f, f->sum);
}

double report_self_ns(const struct stats_snapshot *s, const struct stats_func *f)
{
	return report_scaled_ns(s, f, f->self);
}

void report_fn_compute(const struct stats_view *v, const struct stats_snapshot *s,
		       const struct stats_func *f, uint64_t *hist, struct report_fn *o)
{
	memset(o, 0, sizeof(*o));
	o->f = f;
	o->count = stats_func_hist(v, s, f->id, hist);
	/* A log-linear bucket straddling a power of two goes where its midpoint is. */
	for (uint32_t b = 0; b < STATS_BUCKETS; b++)
		if (hist[b])
			o->pow2[report_pow2_index(stats_cycles_to_ns(s, stats_bucket_mid(b)))] += hist[b];
	o->total_ns = report_total_ns(s, f);
	o->self_ns = report_self_ns(s, f);
	o->mean_ns = f->timed ? stats_cycles_to_ns(s, (double)f->sum / (double)f->timed) : 0;
	o->min_ns = stats_cycles_to_ns(s, (double)f->min);
	o->max_ns = stats_cycles_to_ns(s, (double)f->max);
	o->p50_ns = stats_quantile_ns(s, f, hist, o->count, 0.5);
	o->p90_ns = stats_quantile_ns(s, f, hist, o->count, 0.9);
	o->p99_ns = stats_quantile_ns(s, f, hist, o->count, 0.99);
	o->p999_ns = stats_quantile_ns(s, f, hist, o->count, 0.999);
}

struct ranked {
	double total;
	uint64_t calls;
	uint32_t id;
};

static int by_total(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	if (x->calls != y->calls)
		return x->calls < y->calls ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;
}

size_t report_order(const struct stats_snapshot *s, uint32_t *ids)
{
	struct ranked *r = malloc((s->nfns ? s->nfns : 1) * sizeof(*r));
	size_t n = 0;
	for (uint32_t id = 0; id < s->nfns; id++) {
		const struct stats_func *f = &s->fns[id];
		if (f->calls || f->in_flight || f->abandoned) {
			if (r)
				r[n] = (struct ranked){ report_total_ns(s, f), f->calls, id };
			ids[n++] = id;
		}
	}
	if (r) { /* without memory for sorting, id order still shows everything */
		qsort(r, n, sizeof(*r), by_total);
		for (size_t i = 0; i < n; i++)
			ids[i] = r[i].id;
	}
	free(r);
	return n;
}

/* v with 3 significant digits; returns false when it rounds to 1000 or more. */
static bool fmt3(char *buf, size_t n, double v, const char *sep, const char *unit, bool last)
{
	double r = v >= 100 ? fm_round(v) : v >= 10 ? fm_round(v * 10) / 10 : fm_round(v * 100) / 100;
	if (r >= 1000 && !last)
		return false;
	if (r == 0)
		snprintf(buf, n, "0%s%s", sep, unit);
	else
		snprintf(buf, n, r >= 100 ? "%.0f%s%s" : r >= 10 ? "%.1f%s%s" : "%.2f%s%s", r, sep, unit);
	return true;
}

void report_human_ns(char *buf, size_t n, double ns, const char *sep)
{
	static const char *unit[] = { "ns", "us", "ms", "s" };
	if (!(ns > 0))
		ns = 0;
	for (int u = 0; u < 4; u++, ns /= 1000)
		if (fmt3(buf, n, ns, sep, unit[u], u == 3))
			return;
}

static void human_hz(char *buf, size_t n, double hz)
{
	static const char *unit[] = { "Hz", "kHz", "MHz", "GHz" };
	if (!(hz > 0)) {
		snprintf(buf, n, "rate unknown");
		return;
	}
	for (int u = 0; u < 4; u++, hz /= 1000)
		if (fmt3(buf, n, hz, " ", unit[u], u == 3))
			return;
}

void report_put_clean(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		int n = *p < 0x80 ? 1 : json_utf8_len(p);
		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
			fputc('?', out);
			p++;
		} else {
			fwrite(p, 1, (size_t)n, out);
			p += n;
		}
	}
}

/* "512", "1K", "2M": a power of two with bpftrace's binary suffixes. */
static void pow2_label(char *buf, size_t n, unsigned e)
{
	static const char suffix[] = " KMGTPE";
	unsigned u = e / 10 < sizeof(suffix) - 2 ? e / 10 : sizeof(suffix) - 2;
	if (u == 0)
		snprintf(buf, n, "%llu", 1ull << e);
	else
		snprintf(buf, n, "%llu%c", 1ull << (e - 10 * u), suffix[u]);
}

static void text_histogram(FILE *out, const struct report_fn *r)
{
	unsigned lo = REPORT_POW2, hi = 0;
	uint64_t top = 0;
	for (unsigned i = 0; i < REPORT_POW2; i++)
		if (r->pow2[i]) {
			lo = lo < i ? lo : i;
			hi = i;
			top = r->pow2[i] > top ? r->pow2[i] : top;
		}
	if (lo > hi)
		return;
	fprintf(out, "          ns            : count    distribution\n");
	for (unsigned i = lo; i <= hi; i++) {
		char a[24] = "0", b[24] = "1", range[56], bar[BAR + 1];
		if (i > 0) {
			pow2_label(a, sizeof(a), i - 1);
			pow2_label(b, sizeof(b), i);
		}
		snprintf(range, sizeof(range), "[%s, %s)", a, b);
		size_t w = (size_t)((double)r->pow2[i] * BAR / (double)top);
		memset(bar, '@', w);
		memset(bar + w, ' ', BAR - w);
		bar[BAR] = 0;
		fprintf(out, "  %-22s: %-8llu |%s|\n", range, (unsigned long long)r->pow2[i], bar);
	}
}

static void text_fn(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
		    const struct callsite *cs, const struct report_fn *r)
{
	const struct stats_func *f = r->f;
	report_put_clean(out, f->name);
	fprintf(out, "   calls %llu", (unsigned long long)f->calls);
	if (f->in_flight)
		fprintf(out, "  in flight %llu", (unsigned long long)f->in_flight);
	if (f->abandoned)
		fprintf(out, "  panicked %llu", (unsigned long long)f->abandoned);
	if (s->sample > 1)
		fprintf(out, "  timed %llu", (unsigned long long)f->timed);
	if (r->count) {
		char m[16], p50[16], p90[16], p99[16], mx[16];
		report_human_ns(m, sizeof(m), r->mean_ns, "");
		report_human_ns(p50, sizeof(p50), r->p50_ns, "");
		report_human_ns(p90, sizeof(p90), r->p90_ns, "");
		report_human_ns(p99, sizeof(p99), r->p99_ns, "");
		report_human_ns(mx, sizeof(mx), r->max_ns, "");
		fprintf(out, "  mean %s  p50 %s  p90 %s  p99 %s  max %s", m, p50, p90, p99, mx);
		char t[16], self[16];
		report_human_ns(t, sizeof(t), r->total_ns, "");
		report_human_ns(self, sizeof(self), r->self_ns, "");
		fprintf(out, "  total %s  self %s", t, self);
	}
	fputc('\n', out);
	report_text_calls(out, v, s, cs, f);
	text_histogram(out, r);
}

static void text_header(FILE *out, const struct stats_snapshot *s)
{
	char el[32], hz[32];
	report_human_ns(el, sizeof(el), (double)s->elapsed_ns, " ");
	human_hz(hz, sizeof(hz), s->tsc_hz);
	fprintf(out, "golat: pid %u ", s->pid);
	if (s->nspid != s->pid) /* a container's: the pid it sees itself as too */
		fprintf(out, "(%u in its namespace) ", s->nspid);
	report_put_clean(out, s->exe[0] ? s->exe : "?");
	fputs(" (", out);
	report_put_clean(out, s->go_version[0] ? s->go_version : "unknown Go version");
	if (s->flags & STATS_F_MONOTONIC)
		fprintf(out, ") %s, clock CLOCK_MONOTONIC (the TSC is not invariant)\n", el);
	else
		fprintf(out, ") %s, TSC %s\n", el, hz);
}

static void text_skipped(FILE *out, const struct report_opts *o)
{
	for (size_t i = 0; i < o->nskipped; i++) {
		const struct report_skip *k = &o->skipped[i];
		fputs("skipped ", out);
		report_put_clean(out, k->name ? k->name : "?");
		if (k->spec && (!k->name || strcmp(k->spec, k->name) != 0)) {
			fputs(" (", out);
			report_put_clean(out, k->spec);
			fputc(')', out);
		}
		fputs(": ", out);
		report_put_clean(out, k->reason ? k->reason : "?");
		fputc('\n', out);
	}
}

static int report_text(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
		       const uint32_t *ids, size_t n, const struct report_opts *o, const struct callsite *cs)
{
	uint64_t *hist = malloc(STATS_BUCKETS * sizeof(*hist));
	if (!hist)
		return -ENOMEM;
	text_header(out, s);
	if (n == 0)
		fputs("no completed calls yet\n", out);
	for (size_t i = 0; i < n; i++) {
		struct report_fn r;
		report_fn_compute(v, s, &s->fns[ids[i]], hist, &r);
		if (i)
			fputc('\n', out);
		text_fn(out, v, s, cs, &r);
	}
	free(hist);
	if (s->lost)
		fprintf(out, "%s%llu calls let through unrecorded (no goroutine, nested too deep%s)\n",
			n ? "\n" : "", (unsigned long long)s->lost, s->full ? ", or no space for the stats" : "");
	if (s->unbinned)
		fprintf(out, "%llu timed calls in no histogram (no space for the stats)\n",
			(unsigned long long)s->unbinned);
	if (s->traps)
		fprintf(out, "%llu returns taken through an int3 (a signal each: golat list says which "
			"functions)\n", (unsigned long long)s->traps);
	text_skipped(out, o);
	return 0;
}

int report_render(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
		  const struct report_opts *opts)
{
	static const struct report_opts text = { .format = REPORT_TEXT };
	const struct report_opts *o = opts ? opts : &text;
	errno = 0; /* what a failed stdio write leaves is the error to return */
	uint32_t *ids = malloc((s->nfns ? s->nfns : 1) * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	size_t n = report_order(s, ids);
	struct callsite cs;
	callsite_open(&cs, s, o->bin);
	int rc = o->format == REPORT_JSON   ? report_json(out, v, s, ids, n, o, &cs)
		 : o->format == REPORT_PROM ? report_prom(out, v, s, ids, n)
					    : report_text(out, v, s, ids, n, o, &cs);
	callsite_close(&cs);
	free(ids);
	if (rc == 0 && (fflush(out) != 0 || ferror(out)))
		rc = errno ? -errno : -EIO;
	return rc;
}

int report_write(FILE *out, const struct stats_view *v, const struct report_opts *opts)
{
	struct stats_snapshot s;
	int rc = stats_snapshot(v, &s);
	if (rc == 0)
		rc = report_render(out, v, &s, opts);
	stats_snapshot_free(&s);
	return rc;
}
