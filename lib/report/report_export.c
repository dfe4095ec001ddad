/* report_export: the JSON report (keys of SPEC.md, times in integer ns). The other
 * machine format, Prometheus text, is report_prom.c. See report.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "report.h"
#include "fmath.h"

static void json_fn_hist(FILE *out, const struct stats_snapshot *s, const uint64_t *hist)
{
	fputs(",\"histogram\":[", out);
	int first = 1;
	for (uint32_t b = 0; b < STATS_BUCKETS; b++) {
		if (!hist[b])
			continue;
		/* The bucket's upper bound, rounded up so that every value in it is <= le_ns. */
		double le = fm_ceil(stats_cycles_to_ns(s, (double)stats_bucket_hi(b)));
		fprintf(out, "%s{\"le_ns\":%llu,\"count\":%llu}", first ? "" : ",", report_ns_int(le),
			(unsigned long long)hist[b]);
		first = 0;
	}
	fputs("]}", out);
}

static void json_fn(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
		    const struct callsite *cs, const struct report_fn *r, const uint64_t *hist)
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
	report_json_calls(out, v, s, cs, f);
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
		const uint32_t *ids, size_t n, const struct report_opts *o, const struct callsite *cs)
{
	uint64_t *hist = malloc(STATS_BUCKETS * sizeof(*hist));
	if (!hist)
		return -ENOMEM;
	fprintf(out, "{\"version\":1,\"pid\":%u,", s->pid);
	/* "nspid": the pid a container's process sees itself as, where it is not "pid". */
	if (s->nspid != s->pid)
		fprintf(out, "\"nspid\":%u,", s->nspid);
	fputs("\"exe\":", out);
	json_string(out, s->exe);
	fputs(",\"go_version\":", out);
	json_string(out, s->go_version);
	/* "lost" (calls let through unrecorded: deeper than the shadow stacks, no space
	 * for the stats, and the like), "unbinned" (timed calls no histogram could take)
	 * and "stats_full" are golat's additions to SPEC.md's keys: a silent undercount
	 * otherwise; "threads" (threads that recorded) and "traps" (returns taken through
	 * an int3, a signal each: what the hooks cost beyond nanoseconds) too. */
	fprintf(out, ",\"elapsed_ns\":%llu,\n \"tsc_hz\":%llu,\"lost\":%llu,\"unbinned\":%llu,"
		"\"stats_full\":%s,\"threads\":%u,\"traps\":%llu,\n \"functions\":[",
		(unsigned long long)s->elapsed_ns, report_ns_int(s->tsc_hz), (unsigned long long)s->lost,
		(unsigned long long)s->unbinned, s->full ? "true" : "false", s->nthreads,
		(unsigned long long)s->traps);
	for (size_t i = 0; i < n; i++) {
		struct report_fn r;
		report_fn_compute(v, s, &s->fns[ids[i]], hist, &r);
		fputs(i ? ",\n  " : "\n  ", out);
		json_fn(out, v, s, cs, &r, hist);
	}
	free(hist);
	json_skipped(out, o);
	return 0;
}
