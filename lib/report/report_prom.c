/* report_prom: Prometheus text exposition (format 0.0.4) of one process (the `.prom`
 * report, `golat report --prom`) or of many (`golat serve`). See report.h.
 *
 * A series is identified by its labels, and Prometheus refuses a whole scrape that
 * holds one twice. A function name is not unique in a Go binary (two syscall.Syscall
 * at different entries in etcd, say), so the functions of one process that share a
 * name are summed into one series: calls, histograms and sums add up exactly.
 *
 * The protobuf exposition (report_pb.h) is the same series, families and bounds, with
 * golat_duration_seconds also as a native histogram (native.h) and the slowest calls as
 * exemplars. */
#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "callsite.h"
#include "fmath.h"
#include "json.h"
#include "native.h"
#include "pbwire.h"
#include "report.h"
#include "report_pb.h"

/* One series of each family: the functions of one source with one name, summed. */
struct prom_fn {
	const char *name; /* NULL: summed into an earlier one */
	const struct report_prom_src *src;
	uint64_t calls, in_flight, panicked, count;
	double sum_s, self_s;
	uint64_t pow2[REPORT_POW2];
	/* The protobuf's only: the native buckets first .. first + nn - 1 (malloc'ed),
	 * and the slowest calls, slowest first (malloc'ed; NULL: none). */
	double *nat, zero;
	int first;
	unsigned nn, nex;
	struct prom_ex *ex;
};

/* An exemplar: one of the slowest calls. */
struct prom_ex {
	double s;          /* its duration in seconds */
	uint64_t goid, at_ns; /* its goroutine, and when it began (Unix ns) */
	char caller[STATS_NAME_MAX];
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

enum prom_series { PROM_CALLS, PROM_IN_FLIGHT, PROM_PANICKED, PROM_SELF, PROM_DURATION };

/* Each family's name, help and type, for the text and the protobuf alike. */
static const struct prom_family {
	const char *name, *help, *type;
	unsigned pbtype; /* io.prometheus.client.MetricType */
} families[] = {
	[PROM_CALLS] = { "golat_calls_total", "Completed calls of each hooked function.", "counter", 0 },
	[PROM_IN_FLIGHT] = { "golat_in_flight", "Calls entered and not yet returned.", "gauge", 1 },
	[PROM_PANICKED] = { "golat_panicked_total", "Calls unwound by a panic (not in golat_calls_total).",
			    "counter", 0 },
	[PROM_SELF] = { "golat_self_seconds_total",
			"Time of the timed calls less that of the hooked calls they made "
			"(golat_duration_seconds_sum less the callees').", "counter", 0 },
	[PROM_DURATION] = { "golat_duration_seconds", "Time from entry to return of the timed calls.",
			    "histogram", 4 },
};

/* The count of a series that counts calls. */
static uint64_t prom_count(const struct prom_fn *p, enum prom_series which)
{
	return which == PROM_CALLS ? p->calls : which == PROM_IN_FLIGHT ? p->in_flight : p->panicked;
}

static void prom_counter(FILE *out, const struct prom_fn *p, size_t n, enum prom_series which)
{
	const struct prom_family *fam = &families[which];
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", fam->name, fam->help, fam->name, fam->type);
	for (size_t i = 0; i < n; i++) {
		if (!p[i].name)
			continue;
		prom_open(out, fam->name, &p[i]);
		if (which == PROM_SELF)
			fprintf(out, "} %.9g\n", p[i].self_s);
		else
			fprintf(out, "} %llu\n", (unsigned long long)prom_count(&p[i], which));
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
	*p = (struct prom_fn){ .name = f->name, .src = src, .calls = f->calls, .in_flight = f->in_flight,
			       .panicked = f->abandoned, .count = r->count,
			       .sum_s = stats_cycles_to_ns(src->s, (double)f->sum) / 1e9,
			       .self_s = stats_cycles_to_ns(src->s, (double)f->self) / 1e9 };
	memcpy(p->pow2, r->pow2, sizeof(p->pow2));
}

static void prom_fn_free(struct prom_fn *p)
{
	free(p->nat);
	free(p->ex);
}

/* into's native buckets plus p's (a function of the same name and process: the same
 * rate). False when out of memory. */
static bool nat_add(struct prom_fn *into, const struct prom_fn *p)
{
	into->zero += p->zero;
	if (!p->nn)
		return true;
	int first = into->nn && into->first < p->first ? into->first : p->first;
	int end = into->nn && into->first + (int)into->nn > p->first + (int)p->nn ? into->first + (int)into->nn
										 : p->first + (int)p->nn;
	double *c = calloc((size_t)(end - first), sizeof(*c));
	if (!c)
		return false;
	for (unsigned k = 0; k < into->nn; k++)
		c[into->first - first + (int)k] += into->nat[k];
	for (unsigned k = 0; k < p->nn; k++)
		c[p->first - first + (int)k] += p->nat[k];
	free(into->nat);
	into->nat = c;
	into->first = first;
	into->nn = (unsigned)(end - first);
	return true;
}

static int by_slowest(const void *a, const void *b)
{
	const struct prom_ex *x = a, *y = b;
	return x->s > y->s ? -1 : x->s < y->s;
}

/* into's exemplars plus p's, the slowest REPORT_PB_EXEMPLARS kept. */
static bool ex_add(struct prom_fn *into, const struct prom_fn *p)
{
	if (!p->nex)
		return true;
	struct prom_ex *e = realloc(into->ex, (into->nex + p->nex) * sizeof(*e));
	if (!e)
		return false;
	memcpy(e + into->nex, p->ex, p->nex * sizeof(*e));
	into->ex = e;
	into->nex += p->nex;
	qsort(e, into->nex, sizeof(*e), by_slowest);
	if (into->nex > REPORT_PB_EXEMPLARS)
		into->nex = REPORT_PB_EXEMPLARS;
	return true;
}

static bool prom_fn_add(struct prom_fn *into, struct prom_fn *p)
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
	return nat_add(into, p) && ex_add(into, p);
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
	bool ok = true;
	for (size_t i = 0, first = 0; i < n; i++) {
		if (i && strcmp(by[i]->name, by[first]->name) == 0)
			ok &= prom_fn_add(by[first], by[i]); /* by[first] is the earliest: report order */
		else
			first = i;
	}
	free(by);
	return ok ? 0 : -ENOMEM;
}

/* What the protobuf adds to p: its native buckets (mapped through scratch) and its
 * slowest calls as exemplars. False when out of memory. */
static bool prom_fn_pb(struct prom_fn *p, const struct report_prom_src *src, double hz,
		       const struct stats_func *f, const uint64_t *hist, struct native_hist *scratch,
		       const struct callsite *cs)
{
	if (!(hz > 0))
		return true; /* no rate yet: no native buckets */
	native_map(hist, hz, scratch);
	p->zero = scratch->zero;
	if (scratch->first <= scratch->last) {
		p->first = scratch->first;
		p->nn = (unsigned)(scratch->last - scratch->first + 1);
		if (!(p->nat = malloc(p->nn * sizeof(*p->nat))))
			return false;
		memcpy(p->nat, &scratch->count[p->first - NATIVE_MIN_KEY], p->nn * sizeof(*p->nat));
	}
	struct stats_slow r[STATS_SLOWEST_MAX];
	uint32_t k = stats_slowest(src->v, src->s, f->id, r, STATS_SLOWEST_MAX);
	k = k < REPORT_PB_EXEMPLARS ? k : REPORT_PB_EXEMPLARS;
	if (k && !(p->ex = calloc(k, sizeof(*p->ex))))
		return false;
	for (uint32_t i = 0; i < k; i++) {
		uint64_t at = stats_tsc_to_real_ns(src->s, r[i].tsc);
		if (!at)
			continue; /* Prometheus keeps a native histogram's exemplars with a time only */
		struct prom_ex *e = &p->ex[p->nex++];
		*e = (struct prom_ex){ (double)r[i].cycles / hz, r[i].goid, at, "" };
		callsite_name(cs, r[i].site, e->caller, sizeof(e->caller));
	}
	return true;
}

/* Fills p with every source's functions, merged by name, and widens [*lo, *hi] to
 * the buckets they use; with hz (the protobuf), their native buckets and exemplars
 * too. 0 or -ENOMEM. */
static int prom_collect(const struct report_prom_src *src, size_t nsrc, const double *hz, bool pb,
			struct prom_fn *p, unsigned *lo, unsigned *hi)
{
	uint64_t *hist = malloc(STATS_BUCKETS * sizeof(*hist));
	struct native_hist *scratch = pb ? malloc(sizeof(*scratch)) : NULL;
	int rc = hist && (scratch || !pb) ? 0 : -ENOMEM;
	for (size_t j = 0, k = 0; j < nsrc && rc == 0; j++) {
		size_t start = k;
		struct callsite cs;
		if (pb)
			callsite_open(&cs, src[j].s, NULL);
		double rate = hz && hz[j] > 0 ? hz[j] : src[j].s->tsc_hz;
		for (size_t i = 0; i < src[j].n; i++, k++) {
			struct report_fn r;
			const struct stats_func *f = &src[j].s->fns[src[j].ids[i]];
			report_fn_compute(src[j].v, src[j].s, f, hist, &r);
			prom_fn_set(&p[k], &src[j], &r);
			if (pb && rc == 0 && !prom_fn_pb(&p[k], &src[j], rate, f, hist, scratch, &cs))
				rc = -ENOMEM;
			for (unsigned b = 0; b < REPORT_POW2; b++)
				if (r.pow2[b]) {
					*lo = b < *lo ? b : *lo;
					*hi = b > *hi ? b : *hi;
				}
		}
		if (pb)
			callsite_close(&cs);
		if (rc == 0)
			rc = prom_merge(p + start, k - start);
	}
	free(scratch);
	free(hist);
	return rc;
}

/* Every series shares one set of bucket bounds, from the fastest bucket any function
 * of any source uses to the slowest, so that they can be summed across functions and
 * processes: into *lo, *hi, widened to keep's. *out: every source's functions, merged
 * by name (*total entries, those with a NULL name summed into another). 0 or -ENOMEM. */
static int prom_prepare(const struct report_prom_src *src, size_t nsrc, const double *hz, bool pb,
			struct report_prom_bounds *keep, struct prom_fn **out, size_t *total,
			unsigned *lo, unsigned *hi)
{
	*total = 0;
	for (size_t j = 0; j < nsrc; j++)
		*total += src[j].n;
	struct prom_fn *p = calloc(*total ? *total : 1, sizeof(*p));
	*lo = REPORT_POW2;
	*hi = 0;
	int rc = p ? prom_collect(src, nsrc, hz, pb, p, lo, hi) : -ENOMEM;
	if (rc) {
		for (size_t k = 0; p && k < *total; k++)
			prom_fn_free(&p[k]);
		free(p);
		return rc;
	}
	if (keep) {
		*lo = keep->lo < *lo ? keep->lo : *lo;
		*hi = keep->lo <= keep->hi && keep->hi > *hi ? keep->hi : *hi;
		if (*lo <= *hi)
			*keep = (struct report_prom_bounds){ *lo, *hi };
	}
	if (*lo > *hi)
		*lo = *hi = 0;
	*out = p;
	return 0;
}

static void prom_free(struct prom_fn *p, size_t total)
{
	for (size_t k = 0; k < total; k++)
		prom_fn_free(&p[k]);
	free(p);
}

int report_prom(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
		const uint32_t *ids, size_t n)
{
	const struct report_prom_src one = { v, s, ids, n, NULL, 0 };
	return report_prom_multi(out, &one, 1, NULL);
}

/* ---- the protobuf exposition (field numbers: io.prometheus.client's metrics.proto) ---- */

/* A LabelPair (field f of the enclosing message) with value cleaned as the text's is
 * (invalid UTF-8 and control bytes but newline as '?'), at most max characters of it.
 * Returns the characters written. */
static size_t pb_label(struct pbw *m, unsigned f, const char *name, const char *value, size_t max)
{
	struct pbw l = { 0 }, v = { 0 };
	size_t runes = 0;
	for (const unsigned char *q = (const unsigned char *)value; *q && runes < max; runes++) {
		int n = *q < 0x80 ? 1 : json_utf8_len(q);
		if (n == 0 || (n == 1 && ((*q < 0x20 && *q != '\n') || *q == 0x7f))) {
			pbw_bytes(&v, "?", 1);
			q++;
		} else {
			pbw_bytes(&v, q, (size_t)n);
			q += n;
		}
	}
	pbw_str(&l, 1, name, strlen(name));
	pbw_str(&l, 2, (const char *)v.p, v.len);
	pbw_msg(m, f, &l);
	if (v.oom)
		m->oom = true;
	pbw_free(&l);
	pbw_free(&v);
	return runes;
}

static void pb_labels(struct pbw *m, const struct prom_fn *p)
{
	pb_label(m, 1, "function", p->name, SIZE_MAX);
	for (size_t k = 0; k < p->src->nlabels; k++)
		pb_label(m, 1, p->src->labels[k].name, p->src->labels[k].value, SIZE_MAX);
}

/* An Exemplar: value, labels goid and caller (the caller cut to keep the whole within
 * REPORT_PB_EXEMPLAR_RUNES), and its time. */
static void pb_exemplar(struct pbw *m, unsigned f, const struct prom_ex *e)
{
	struct pbw x = { 0 }, t = { 0 };
	char goid[24];
	snprintf(goid, sizeof(goid), "%llu", (unsigned long long)e->goid);
	size_t used = strlen("goid") + strlen(goid) + strlen("caller");
	pb_label(&x, 1, "goid", goid, SIZE_MAX);
	pb_label(&x, 1, "caller", e->caller, REPORT_PB_EXEMPLAR_RUNES - used);
	pbw_double(&x, 2, e->s);
	pbw_uint(&t, 1, e->at_ns / 1000000000u);
	pbw_uint(&t, 2, e->at_ns % 1000000000u);
	pbw_msg(&x, 3, &t);
	pbw_msg(m, f, &x);
	pbw_free(&x);
	pbw_free(&t);
}

static int by_time(const void *a, const void *b)
{
	const struct prom_ex *x = a, *y = b;
	return x->at_ns < y->at_ns ? -1 : x->at_ns > y->at_ns;
}

/* The native part of a Histogram: schema, zero bucket, spans and float counts. A span
 * ends at a run of more than two empty buckets. */
static void pb_native(struct pbw *h, const struct prom_fn *p)
{
	double total = p->zero;
	pbw_sint(h, 5, NATIVE_SCHEMA);
	pbw_double(h, 6, NATIVE_ZERO_THRESHOLD);
	if (p->zero > 0)
		pbw_double(h, 8, p->zero);
	struct pbw span = { 0 };
	int prev_end = 0; /* key after the last span */
	bool first = true;
	for (unsigned k = 0; k < p->nn;) {
		if (p->nat[k] == 0) {
			k++;
			continue;
		}
		unsigned end = k + 1, zeros = 0;
		for (unsigned e = k + 1; e < p->nn && zeros <= 2; e++) {
			zeros = p->nat[e] == 0 ? zeros + 1 : 0;
			if (!zeros)
				end = e + 1;
		}
		int key = p->first + (int)k;
		pbw_reset(&span);
		pbw_sint(&span, 1, first ? key : key - prev_end); /* the first absolute, then gaps */
		first = false;
		pbw_uint(&span, 2, end - k);
		pbw_msg(h, 12, &span);
		prev_end = p->first + (int)end;
		for (unsigned e = k; e < end; e++) {
			pbw_double(h, 14, p->nat[e]);
			total += p->nat[e];
		}
		k = end;
	}
	pbw_free(&span);
	/* The count: the exact count, or the sum of the float buckets when rounding put that
	 * above it (Prometheus refuses a count below its buckets' sum). Monotone either way. */
	pbw_double(h, 4, (double)p->count > total ? (double)p->count : total);
}

/* A Histogram: the classic buckets lo..hi (+Inf implied by the count), each with the
 * slowest call in it as its exemplar, and the native buckets with every exemplar. */
static void pb_hist(struct pbw *m, const struct prom_fn *p, unsigned lo, unsigned hi)
{
	struct pbw h = { 0 }, b = { 0 };
	pbw_uint(&h, 1, p->count);
	pbw_double(&h, 2, p->sum_s);
	uint64_t cum = 0;
	for (unsigned i = 0; i < lo && i < REPORT_POW2; i++)
		cum += p->pow2[i];
	for (unsigned i = lo; i <= hi; i++) {
		cum += p->pow2[i];
		pbw_reset(&b);
		pbw_uint(&b, 1, cum);
		pbw_double(&b, 2, fm_ldexp(1e-9, (int)i));
		for (unsigned e = 0; e < p->nex; e++) /* slowest first: the first in i */
			if (report_pow2_index(p->ex[e].s * 1e9) == i) {
				pb_exemplar(&b, 3, &p->ex[e]);
				break;
			}
		pbw_msg(&h, 3, &b);
	}
	if (p->nn || p->zero > 0) {
		pb_native(&h, p);
		struct prom_ex sorted[REPORT_PB_EXEMPLARS];
		if (p->nex) { /* In time order: Prometheus drops an exemplar older than the last it took. */
			memcpy(sorted, p->ex, p->nex * sizeof(*sorted));
			qsort(sorted, p->nex, sizeof(*sorted), by_time);
		}
		for (unsigned e = 0; e < p->nex; e++)
			pb_exemplar(&h, 16, &sorted[e]);
	}
	pbw_msg(m, 7, &h);
	pbw_free(&h);
	pbw_free(&b);
}

/* Writes family fam (its metrics in fam's buffer) length-delimited. False: out of memory. */
static bool pb_family_end(FILE *out, struct pbw *f)
{
	struct pbw len = { 0 };
	pbw_varint(&len, f->len);
	bool ok = !f->oom && !len.oom && fwrite(len.p, 1, len.len, out) == len.len &&
		  fwrite(f->p, 1, f->len, out) == f->len;
	pbw_free(&len);
	return ok;
}

static void pb_family_head(struct pbw *f, const char *name, const char *help, unsigned type)
{
	pbw_reset(f);
	pbw_str(f, 1, name, strlen(name));
	pbw_str(f, 2, help, strlen(help));
	pbw_uint(f, 3, type);
}

static bool pb_series(FILE *out, struct pbw *f, struct pbw *m, const struct prom_fn *p, size_t total,
		      enum prom_series which, unsigned lo, unsigned hi)
{
	const struct prom_family *fam = &families[which];
	pb_family_head(f, fam->name, fam->help, fam->pbtype);
	for (size_t k = 0; k < total; k++) {
		if (!p[k].name)
			continue;
		pbw_reset(m);
		pb_labels(m, &p[k]);
		if (which == PROM_DURATION) {
			pb_hist(m, &p[k], lo, hi);
		} else {
			struct pbw v = { 0 };
			pbw_double(&v, 1, which == PROM_SELF ? p[k].self_s : (double)prom_count(&p[k], which));
			pbw_msg(m, fam->pbtype == 1 ? 2 : 3, &v); /* Metric.gauge or Metric.counter */
			pbw_free(&v);
		}
		pbw_msg(f, 4, m);
	}
	return pb_family_end(out, f);
}

static bool pb_families(FILE *out, const struct prom_fn *p, size_t total, unsigned lo, unsigned hi)
{
	struct pbw f = { 0 }, m = { 0 };
	bool ok = true;
	for (enum prom_series w = PROM_CALLS; ok && w <= PROM_DURATION; w++)
		ok = total == 0 || pb_series(out, &f, &m, p, total, w, lo, hi);
	pbw_free(&f);
	pbw_free(&m);
	return ok;
}

/* The exposition format wants a family's samples together: each family goes through
 * every source before the next begins. */
static int prom_write(FILE *out, const struct report_prom_src *src, const double *hz, size_t nsrc,
		      bool pb, struct report_prom_bounds *keep)
{
	struct prom_fn *p;
	size_t total;
	unsigned lo, hi;
	int rc = prom_prepare(src, nsrc, hz, pb, keep, &p, &total, &lo, &hi);
	if (rc)
		return rc;
	if (pb && !pb_families(out, p, total, lo, hi))
		rc = -ENOMEM;
	if (!pb) {
		prom_counter(out, p, total, PROM_CALLS);
		prom_counter(out, p, total, PROM_IN_FLIGHT);
		prom_counter(out, p, total, PROM_PANICKED);
		prom_counter(out, p, total, PROM_SELF);
		const struct prom_family *fam = &families[PROM_DURATION];
		fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", fam->name, fam->help, fam->name, fam->type);
		for (size_t k = 0; k < total; k++)
			if (p[k].name)
				prom_hist(out, &p[k], lo, hi);
	}
	prom_free(p, total);
	return rc;
}

int report_prom_multi(FILE *out, const struct report_prom_src *src, size_t nsrc,
		      struct report_prom_bounds *keep)
{
	return prom_write(out, src, NULL, nsrc, false, keep);
}

int report_prom_pb(FILE *out, const struct report_prom_src *src, const double *hz, size_t nsrc,
		   struct report_prom_bounds *keep)
{
	return prom_write(out, src, hz, nsrc, true, keep);
}

int report_pb_gauges(FILE *out, const char *name, const char *help, const struct report_gauge *g,
		     size_t n)
{
	struct pbw f = { 0 }, m = { 0 }, v = { 0 };
	pb_family_head(&f, name, help, 1);
	for (size_t i = 0; i < n; i++) {
		pbw_reset(&m);
		pbw_reset(&v);
		for (size_t k = 0; k < g[i].n; k++)
			pb_label(&m, 1, g[i].l[k].name, g[i].l[k].value, SIZE_MAX);
		pbw_double(&v, 1, g[i].value);
		pbw_msg(&m, 2, &v);
		pbw_msg(&f, 4, &m);
	}
	bool ok = n == 0 || pb_family_end(out, &f);
	pbw_free(&f);
	pbw_free(&m);
	pbw_free(&v);
	return ok ? 0 : -ENOMEM;
}
