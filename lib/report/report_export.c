/* report_export: the two machine formats, JSON (keys of SPEC.md, times in integer ns)
 * and Prometheus text exposition (format 0.0.4). See report.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "report.h"

static void json_fn_hist(FILE *out, const struct stats_snapshot *s, const uint64_t *hist)
{
	fputs(",\"histogram\":[", out);
	int first = 1;
	for (uint32_t b = 0; b < STATS_BUCKETS; b++) {
		if (!hist[b])
			continue;
		/* The bucket's upper bound, rounded up so that every value in it is <= le_ns. */
		double le = ceil(stats_cycles_to_ns(s, (double)stats_bucket_hi(b)));
		fprintf(out, "%s{\"le_ns\":%llu,\"count\":%llu}", first ? "" : ",", report_ns_int(le),
			(unsigned long long)hist[b]);
		first = 0;
	}
	fputs("]}", out);
}

static void json_fn(FILE *out, const struct stats_snapshot *s, const struct report_fn *r,
		    const uint64_t *hist)
{
	const struct stats_func *f = r->f;
	fputs("{\"name\":", out);
	json_string(out, f->name);
	fprintf(out, ",\"entry\":\"0x%llx\",\"calls\":%llu,\"timed\":%llu,\"in_flight\":%llu"
		",\"panicked\":%llu", (unsigned long long)f->entry, (unsigned long long)f->calls,
		(unsigned long long)f->timed, (unsigned long long)f->in_flight,
		(unsigned long long)f->abandoned);
	fprintf(out, ",\"total_ns\":%llu,\"min_ns\":%llu,\"max_ns\":%llu,\"mean_ns\":%llu",
		report_ns_int(r->total_ns), report_ns_int(r->min_ns), report_ns_int(r->max_ns),
		report_ns_int(r->mean_ns));
	fprintf(out, ",\"p50_ns\":%llu,\"p90_ns\":%llu,\"p99_ns\":%llu,\"p999_ns\":%llu",
		report_ns_int(r->p50_ns), report_ns_int(r->p90_ns), report_ns_int(r->p99_ns),
		report_ns_int(r->p999_ns));
	json_fn_hist(out, s, hist);
}

static void json_skipped(FILE *out, const struct report_opts *o)
{
	fputs("],\n \"skipped\":[", out);
	for (size_t i = 0; i < o->nskipped; i++) {
		const struct report_skip *k = &o->skipped[i];
		fputs(i ? ",\n  {\"spec\":" : "\n  {\"spec\":", out);
		json_string(out, k->spec ? k->spec : "");
		fputs(",\"name\":", out);
		json_string(out, k->name ? k->name : "");
		fputs(",\"reason\":", out);
		json_string(out, k->reason ? k->reason : "");
		fputc('}', out);
	}
	fputs("]}\n", out);
}

int report_json(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
		const uint32_t *ids, size_t n, const struct report_opts *o)
{
	uint64_t *hist = malloc(STATS_BUCKETS * sizeof(*hist));
	if (!hist)
		return -ENOMEM;
	fprintf(out, "{\"version\":1,\"pid\":%u,\"exe\":", s->pid);
	json_string(out, s->exe);
	fputs(",\"go_version\":", out);
	json_string(out, s->go_version);
	/* "lost" (calls let through unrecorded: deeper than the shadow stacks, no space
	 * for the stats, and the like), "unbinned" (timed calls no histogram could take)
	 * and "stats_full" are golat's additions to SPEC.md's keys: a silent undercount
	 * otherwise. */
	fprintf(out, ",\"elapsed_ns\":%llu,\n \"tsc_hz\":%llu,\"lost\":%llu,\"unbinned\":%llu,"
		"\"stats_full\":%s,\"threads\":%u,\n \"functions\":[",
		(unsigned long long)s->elapsed_ns, report_ns_int(s->tsc_hz), (unsigned long long)s->lost,
		(unsigned long long)s->unbinned, s->full ? "true" : "false", s->nthreads);
	for (size_t i = 0; i < n; i++) {
		struct report_fn r;
		report_fn_compute(v, s, &s->fns[ids[i]], hist, &r);
		fputs(i ? ",\n  " : "\n  ", out);
		json_fn(out, s, &r, hist);
	}
	free(hist);
	json_skipped(out, o);
	return 0;
}

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
static void prom_open(FILE *out, const char *name, const char *fn, const struct report_prom_src *src)
{
	fprintf(out, "%s{function=", name);
	prom_label(out, fn);
	for (size_t k = 0; k < src->nlabels; k++) {
		fprintf(out, ",%s=", src->labels[k].name);
		prom_label(out, src->labels[k].value);
	}
}

enum prom_series { PROM_CALLS, PROM_IN_FLIGHT, PROM_PANICKED };

static void prom_counter(FILE *out, const struct report_prom_src *src, size_t nsrc,
			 enum prom_series which)
{
	static const char *const head[] = {
		"# HELP golat_calls_total Completed calls of each hooked function.\n"
		"# TYPE golat_calls_total counter\n",
		"# HELP golat_in_flight Calls entered and not yet returned.\n"
		"# TYPE golat_in_flight gauge\n",
		"# HELP golat_panicked_total Calls unwound by a panic (not in golat_calls_total).\n"
		"# TYPE golat_panicked_total counter\n",
	};
	static const char *const name[] = { "golat_calls_total", "golat_in_flight",
					    "golat_panicked_total" };
	fputs(head[which], out);
	for (size_t j = 0; j < nsrc; j++)
		for (size_t i = 0; i < src[j].n; i++) {
			const struct stats_func *f = &src[j].s->fns[src[j].ids[i]];
			prom_open(out, name[which], f->name, &src[j]);
			fprintf(out, "} %llu\n", (unsigned long long)(which == PROM_CALLS ? f->calls
								     : which == PROM_IN_FLIGHT ? f->in_flight
								     : f->abandoned));
		}
}

/* One function's histogram over the power-of-two buckets [lo, hi], cumulative. */
static void prom_hist(FILE *out, const struct report_prom_src *src, const struct report_fn *r,
		      unsigned lo, unsigned hi)
{
	const char *fn = r->f->name;
	uint64_t cum = 0;
	for (unsigned i = 0; i < lo && i < REPORT_POW2; i++)
		cum += r->pow2[i];
	for (unsigned i = lo; i <= hi; i++) {
		cum += r->pow2[i];
		prom_open(out, "golat_duration_seconds_bucket", fn, src);
		/* Bucket i holds [2^(i-1), 2^i) ns: its upper bound is le. */
		fprintf(out, ",le=\"%.15g\"} %llu\n", ldexp(1e-9, (int)i), (unsigned long long)cum);
	}
	prom_open(out, "golat_duration_seconds_bucket", fn, src);
	fprintf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)r->count);
	prom_open(out, "golat_duration_seconds_sum", fn, src);
	fprintf(out, "} %.9g\n", stats_cycles_to_ns(src->s, (double)r->f->sum) / 1e9);
	prom_open(out, "golat_duration_seconds_count", fn, src);
	fprintf(out, "} %llu\n", (unsigned long long)r->count);
}

/* Every series shares one set of bucket bounds, from the fastest bucket any function
 * of any source uses to the slowest, so that they can be summed across functions and
 * processes. The exposition format wants a family's samples together: each family
 * goes through every source before the next begins. */
int report_prom_multi(FILE *out, const struct report_prom_src *src, size_t nsrc)
{
	size_t total = 0;
	for (size_t j = 0; j < nsrc; j++)
		total += src[j].n;
	uint64_t *hist = malloc(STATS_BUCKETS * sizeof(*hist));
	struct report_fn *r = calloc(total ? total : 1, sizeof(*r));
	if (!hist || !r) {
		free(hist);
		free(r);
		return -ENOMEM;
	}
	unsigned lo = REPORT_POW2, hi = 0;
	for (size_t j = 0, k = 0; j < nsrc; j++)
		for (size_t i = 0; i < src[j].n; i++, k++) {
			report_fn_compute(src[j].v, src[j].s, &src[j].s->fns[src[j].ids[i]], hist, &r[k]);
			for (unsigned b = 0; b < REPORT_POW2; b++)
				if (r[k].pow2[b]) {
					lo = b < lo ? b : lo;
					hi = b > hi ? b : hi;
				}
		}
	prom_counter(out, src, nsrc, PROM_CALLS);
	prom_counter(out, src, nsrc, PROM_IN_FLIGHT);
	prom_counter(out, src, nsrc, PROM_PANICKED);
	fputs("# HELP golat_duration_seconds Time from entry to return of the timed calls.\n"
	      "# TYPE golat_duration_seconds histogram\n",
	      out);
	for (size_t j = 0, k = 0; j < nsrc; j++)
		for (size_t i = 0; i < src[j].n; i++, k++)
			prom_hist(out, &src[j], &r[k], lo, lo <= hi ? hi : 0);
	free(hist);
	free(r);
	return 0;
}

int report_prom(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
		const uint32_t *ids, size_t n)
{
	const struct report_prom_src one = { v, s, ids, n, NULL, 0 };
	return report_prom_multi(out, &one, 1);
}
