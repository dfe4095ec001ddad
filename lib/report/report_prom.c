/* report_prom: Prometheus text exposition (format 0.0.4) of one process (the `.prom`
 * report, `golat report --prom`) or of many (`golat serve`). See report.h.
 *
 * A series is identified by its labels, and Prometheus refuses a whole scrape that
 * holds one twice. A function name is not unique in a Go binary (two syscall.Syscall
 * at different entries in etcd, say), so the functions of one process that share a
 * name are summed into one series: calls, histograms and sums add up exactly. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "fmath.h"

/* One series of each family: the functions of one source with one name, summed. */
struct prom_fn {
	const char *name; /* NULL: summed into an earlier one */
	const struct report_prom_src *src;
	uint64_t calls, in_flight, panicked, count;
	double sum_s, self_s;
	uint64_t pow2[REPORT_POW2];
};

/* A label value: backslash, double quote and newline escaped (exposition format);
 * the format is UTF-8, so other control bytes and invalid UTF-8 become '?'. */
static void prom_label(FILE *out, const char *s)
{
	fputc('"', out);
	for (const char *p = s; *p;) {
		size_t k = strcspn(p, "\\\"\n");
		if (k) {
			char buf[STATS_NAME_MAX];
			size_t m = k < sizeof(buf) - 1 ? k : sizeof(buf) - 1;
			memcpy(buf, p, m);
			buf[m] = 0;
			report_put_clean(out, buf);
			p += m;
			continue;
		}
		fputs(*p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : "\\n", out);
		p++;
	}
	fputc('"', out);
}

/* A sample's name and labels up to where its own labels (le) or value go:
 * `name{function="f",pid="1",exe="x"`. */
static void prom_open(FILE *out, const char *name, const struct prom_fn *p)
{
	fprintf(out, "%s{function=", name);
	prom_label(out, p->name);
	for (size_t k = 0; k < p->src->nlabels; k++) {
		fprintf(out, ",%s=", p->src->labels[k].name);
		prom_label(out, p->src->labels[k].value);
	}
}

void report_prom_sample(FILE *out, const char *name, const struct report_label *l, size_t n,
			double value)
{
	fprintf(out, "%s{", name);
	for (size_t k = 0; k < n; k++) {
		fprintf(out, "%s%s=", k ? "," : "", l[k].name);
		prom_label(out, l[k].value);
	}
	fprintf(out, "} %.17g\n", value);
}

enum prom_series { PROM_CALLS, PROM_IN_FLIGHT, PROM_PANICKED, PROM_SELF };

static void prom_counter(FILE *out, const struct prom_fn *p, size_t n, enum prom_series which)
{
	static const char *const head[] = {
		"# HELP golat_calls_total Completed calls of each hooked function.\n"
		"# TYPE golat_calls_total counter\n",
		"# HELP golat_in_flight Calls entered and not yet returned.\n"
		"# TYPE golat_in_flight gauge\n",
		"# HELP golat_panicked_total Calls unwound by a panic (not in golat_calls_total).\n"
		"# TYPE golat_panicked_total counter\n",
		"# HELP golat_self_seconds_total Time of the timed calls less that of the hooked calls "
		"they made (golat_duration_seconds_sum less the callees').\n"
		"# TYPE golat_self_seconds_total counter\n",
	};
	static const char *const name[] = { "golat_calls_total", "golat_in_flight",
					    "golat_panicked_total", "golat_self_seconds_total" };
	fputs(head[which], out);
	for (size_t i = 0; i < n; i++) {
		if (!p[i].name)
			continue;
		prom_open(out, name[which], &p[i]);
		if (which == PROM_SELF) {
			fprintf(out, "} %.9g\n", p[i].self_s);
			continue;
		}
		fprintf(out, "} %llu\n", (unsigned long long)(which == PROM_CALLS       ? p[i].calls
							     : which == PROM_IN_FLIGHT ? p[i].in_flight
										       : p[i].panicked));
	}
}

/* One series' histogram over the power-of-two buckets [lo, hi], cumulative. */
static void prom_hist(FILE *out, const struct prom_fn *p, unsigned lo, unsigned hi)
{
	uint64_t cum = 0;
	for (unsigned i = 0; i < lo && i < REPORT_POW2; i++)
		cum += p->pow2[i];
	for (unsigned i = lo; i <= hi; i++) {
		cum += p->pow2[i];
		prom_open(out, "golat_duration_seconds_bucket", p);
		/* Bucket i holds [2^(i-1), 2^i) ns: its upper bound is le. */
		fprintf(out, ",le=\"%.15g\"} %llu\n", fm_ldexp(1e-9, (int)i), (unsigned long long)cum);
	}
	prom_open(out, "golat_duration_seconds_bucket", p);
	fprintf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)p->count);
	prom_open(out, "golat_duration_seconds_sum", p);
	fprintf(out, "} %.9g\n", p->sum_s);
	prom_open(out, "golat_duration_seconds_count", p);
	fprintf(out, "} %llu\n", (unsigned long long)p->count);
}

static void prom_fn_set(struct prom_fn *p, const struct report_prom_src *src, const struct report_fn *r)
{
	const struct stats_func *f = r->f;
	*p = (struct prom_fn){ f->name, src, f->calls, f->in_flight, f->abandoned, r->count,
			       stats_cycles_to_ns(src->s, (double)f->sum) / 1e9,
			       stats_cycles_to_ns(src->s, (double)f->self) / 1e9, { 0 } };
	memcpy(p->pow2, r->pow2, sizeof(p->pow2));
}

static void prom_fn_add(struct prom_fn *into, struct prom_fn *p)
{
	into->calls += p->calls;
	into->in_flight += p->in_flight;
	into->panicked += p->panicked;
	into->count += p->count;
	into->sum_s += p->sum_s;
	into->self_s += p->self_s;
	for (unsigned b = 0; b < REPORT_POW2; b++)
		into->pow2[b] += p->pow2[b];
	p->name = NULL;
}

static int by_name(const void *a, const void *b)
{
	const struct prom_fn *const *x = a, *const *y = b;
	int c = strcmp((*x)->name, (*y)->name);
	return c ? c : *x < *y ? -1 : *x > *y;
}

/* Sums p[0, n) (one source's) with equal names into the first of them. 0 or -ENOMEM. */
static int prom_merge(struct prom_fn *p, size_t n)
{
	struct prom_fn **by = malloc((n ? n : 1) * sizeof(*by));
	if (!by)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		by[i] = &p[i];
	qsort(by, n, sizeof(*by), by_name);
	for (size_t i = 0, first = 0; i < n; i++) {
		if (i && strcmp(by[i]->name, by[first]->name) == 0)
			prom_fn_add(by[first], by[i]); /* by[first] is the earliest: report order */
		else
			first = i;
	}
	free(by);
	return 0;
}

/* Fills p with every source's functions, merged by name, and widens [*lo, *hi] to
 * the buckets they use. 0 or -ENOMEM. */
static int prom_collect(const struct report_prom_src *src, size_t nsrc, struct prom_fn *p,
			unsigned *lo, unsigned *hi)
{
	uint64_t *hist = malloc(STATS_BUCKETS * sizeof(*hist));
	if (!hist)
		return -ENOMEM;
	int rc = 0;
	for (size_t j = 0, k = 0; j < nsrc && rc == 0; j++) {
		size_t start = k;
		for (size_t i = 0; i < src[j].n; i++, k++) {
			struct report_fn r;
			report_fn_compute(src[j].v, src[j].s, &src[j].s->fns[src[j].ids[i]], hist, &r);
			prom_fn_set(&p[k], &src[j], &r);
			for (unsigned b = 0; b < REPORT_POW2; b++)
				if (r.pow2[b]) {
					*lo = b < *lo ? b : *lo;
					*hi = b > *hi ? b : *hi;
				}
		}
		rc = prom_merge(p + start, k - start);
	}
	free(hist);
	return rc;
}

/* Every series shares one set of bucket bounds, from the fastest bucket any function
 * of any source uses to the slowest, so that they can be summed across functions and
 * processes. The exposition format wants a family's samples together: each family
 * goes through every source before the next begins. */
int report_prom_multi(FILE *out, const struct report_prom_src *src, size_t nsrc,
		      struct report_prom_bounds *keep)
{
	size_t total = 0;
	for (size_t j = 0; j < nsrc; j++)
		total += src[j].n;
	struct prom_fn *p = malloc((total ? total : 1) * sizeof(*p));
	unsigned lo = REPORT_POW2, hi = 0;
	int rc = p ? prom_collect(src, nsrc, p, &lo, &hi) : -ENOMEM;
	if (rc) {
		free(p);
		return rc;
	}
	if (keep) {
		lo = keep->lo < lo ? keep->lo : lo;
		hi = keep->lo <= keep->hi && keep->hi > hi ? keep->hi : hi;
		if (lo <= hi)
			*keep = (struct report_prom_bounds){ lo, hi };
	}
	prom_counter(out, p, total, PROM_CALLS);
	prom_counter(out, p, total, PROM_IN_FLIGHT);
	prom_counter(out, p, total, PROM_PANICKED);
	prom_counter(out, p, total, PROM_SELF);
	fputs("# HELP golat_duration_seconds Time from entry to return of the timed calls.\n"
	      "# TYPE golat_duration_seconds histogram\n",
	      out);
	for (size_t k = 0; k < total; k++)
		if (p[k].name)
			prom_hist(out, &p[k], lo, lo <= hi ? hi : 0);
	free(p);
	return 0;
}

int report_prom(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
		const uint32_t *ids, size_t n)
{
	const struct report_prom_src one = { v, s, ids, n, NULL, 0 };
	return report_prom_multi(out, &one, 1, NULL);
}
