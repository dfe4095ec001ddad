/* serve_page_json: what the page shows of a stats file, as the JSON its endpoints
 * answer (serve_page.c) and `golat report --html` inlines (page_write_html). The
 * numbers are the --json report's (lib/report); what is the page's own is the
 * histogram by heat-map row and the slowest calls without their argument values unless
 * asked (argument values can hold secrets: SPEC.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "callsite.h"
#include "heatread.h"
#include "json.h"
#include "report.h"
#include "serve_page.h"

/* The lower edge of each row in ns, and the top of the last one. */
static void json_rows(FILE *out, const struct stats_snapshot *s)
{
	fputs(",\"rows_ns\":[", out);
	for (uint32_t r = 0; r <= PAGE_ROWS; r++) {
		uint64_t lo = r < PAGE_ROWS ? stats_bucket_lo(r * PAGE_ROW_BUCKETS) : stats_bucket_hi(STATS_BUCKETS - 1);
		fprintf(out, "%s%.4g", r ? "," : "", stats_cycles_to_ns(s, (double)lo));
	}
	fputc(']', out);
}

/* Callers and slowest calls, the parameters named and typed but no value: what the
 * page shows without `golat serve --args`. Self time and callers are the --json
 * report's: its output up to its "slowest" key, which no name can hold unescaped
 * (json_string escapes every quote); its slowest calls, which carry the values, are
 * left out. */
static void json_calls_noargs(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
			      const struct callsite *cs, const struct stats_func *f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (m) {
		report_json_calls(m, v, s, cs, f);
		fclose(m);
	}
	const char *cut = buf ? strstr(buf, "],\"slowest\":[") : NULL;
	if (cut)
		fwrite(buf, 1, (size_t)(cut - buf), out);
	else
		fputs(",\"callers\":[", out);
	free(buf);
	fputs("],\"slowest\":[", out);
	struct stats_slow r[STATS_SLOWEST_MAX];
	uint32_t k = stats_slowest(v, s, f->id, r, STATS_SLOWEST_MAX);
	const struct dwarf_func_sig *sig = callsite_sig(cs, f->entry);
	for (uint32_t i = 0; i < k; i++) {
		char who[STATS_NAME_MAX];
		unsigned long long ns = report_ns_int(stats_cycles_to_ns(s, (double)r[i].cycles));
		fputs(i ? ",{\"caller\":" : "{\"caller\":", out);
		callsite_name(cs, r[i].site, who, sizeof(who));
		json_string(out, who);
		fprintf(out, ",\"ns\":%llu,\"at_ns\":%llu,\"goid\":%llu,\"args\":[", ns,
			(unsigned long long)stats_tsc_to_real_ns(s, r[i].tsc), (unsigned long long)r[i].goid);
		for (size_t p = 0, shown = 0; sig && p < sig->nparams; p++) {
			if (sig->param[p].result)
				continue;
			fputs(shown++ ? ",{\"name\":" : "{\"name\":", out);
			json_string(out, sig->param[p].name);
			fputs(",\"type\":", out);
			json_string(out, sig->param[p].type);
			fputc('}', out);
		}
		fputs("]}", out);
	}
	fputc(']', out);
}

void page_json_func(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
		    const struct callsite *cs, const struct stats_func *f, const uint64_t *hist, bool args)
{
	struct report_fn r;
	uint64_t *h = malloc(STATS_BUCKETS * sizeof(*h));
	if (!h) {
		fputs("null", out);
		return;
	}
	report_fn_compute(v, s, f, h, &r);
	fprintf(out, "{\"id\":%u,\"name\":", f->id);
	json_string(out, f->name);
	fprintf(out, ",\"calls\":%llu,\"timed\":%llu,\"in_flight\":%llu,\"total_ns\":%llu,\"mean_ns\":%llu"
		",\"min_ns\":%llu,\"max_ns\":%llu,\"p50_ns\":%llu,\"p90_ns\":%llu,\"p99_ns\":%llu,\"args_shown\":%s",
		(unsigned long long)f->calls, (unsigned long long)f->timed, (unsigned long long)f->in_flight,
		report_ns_int(r.total_ns), report_ns_int(r.mean_ns), report_ns_int(r.min_ns),
		report_ns_int(r.max_ns), report_ns_int(r.p50_ns), report_ns_int(r.p90_ns),
		report_ns_int(r.p99_ns), args ? "true" : "false");
	if (args)
		report_json_calls(out, v, s, cs, f);
	else
		json_calls_noargs(out, v, s, cs, f);
	json_rows(out, s);
	fputs(",\"hist\":[", out);
	const uint64_t *src = hist ? hist : h;
	for (uint32_t row = 0, first = 1; row < PAGE_ROWS; row++) {
		uint64_t c = 0;
		for (uint32_t b = 0; b < PAGE_ROW_BUCKETS; b++)
			c += src[row * PAGE_ROW_BUCKETS + b];
		if (c) {
			fprintf(out, "%s[%u,%llu]", first ? "" : ",", row, (unsigned long long)c);
			first = 0;
		}
	}
	fputs("]}", out);
	free(h);
}

void page_json_row(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
		   const struct stats_func *f, uint64_t *hist)
{
	struct report_fn r;
	report_fn_compute(v, s, f, hist, &r);
	fprintf(out, "{\"id\":%u,\"name\":", f->id);
	json_string(out, f->name);
	fprintf(out, ",\"calls\":%llu,\"total_ns\":%llu,\"self_ns\":%llu,\"p50_ns\":%llu,\"p99_ns\":%llu}",
		(unsigned long long)f->calls, report_ns_int(r.total_ns), report_ns_int(r.self_ns),
		report_ns_int(r.p50_ns), report_ns_int(r.p99_ns));
}

void page_json_proc(FILE *out, const struct stats_snapshot *s)
{
	fprintf(out, "{\"pid\":%u,\"exe\":", s->pid);
	json_string(out, s->exe);
	fputs(",\"go_version\":", out);
	json_string(out, s->go_version);
	fprintf(out, ",\"alive\":%s,\"nfns\":%u,\"elapsed_ns\":%llu}", s->alive ? "true" : "false", s->nfns,
		(unsigned long long)s->elapsed_ns);
}

/* Details inlined for at most this many functions, slowest total first: the rest are
 * listed with their numbers (a file of 10,000 functions stays a few MB). */
#define HTML_DETAILS 500

/* The ns a row's q-th quantile stands for: the middle of the row that holds it. */
static double row_quantile(const uint32_t *rows, uint64_t total, double q, double hz)
{
	uint64_t want = (uint64_t)(q * (double)total + 0.999999), seen = 0;
	for (uint32_t r = 0; r < PAGE_ROWS && total && hz > 0; r++)
		if ((seen += rows[r]) >= want && rows[r])
			return ((double)stats_bucket_lo(r * PAGE_ROW_BUCKETS) +
				(double)stats_bucket_hi(r * PAGE_ROW_BUCKETS + PAGE_ROW_BUCKETS - 1)) / 2 * 1e9 / hz;
	return 0;
}

/* Function fn's heat map from the ring: {"cols":[...]} as /api/heat's, one column per
 * interval that holds it ("t": the Unix second it ended), oldest first. */
static void ring_json(FILE *out, const struct heat_ring *r, uint32_t fn, double hz)
{
	fputs("{\"cols\":[", out);
	for (uint32_t i = 0, k = 0; i < r->n; i++) {
		const uint8_t *p;
		uint32_t nc = heat_ring_cells(r, i, fn, &p), rows[PAGE_ROWS] = { 0 };
		uint64_t total = 0;
		if (!nc)
			continue;
		for (uint32_t c = 0; c < nc; c++) {
			struct heat_cell cell;
			memcpy(&cell, p + c * sizeof(cell), sizeof(cell));
			rows[cell.row] = cell.count; /* row < PAGE_ROWS: heat_ring_parse checked */
			total += cell.count;
		}
		double h = r->iv[i].tsc_hz > 0 ? r->iv[i].tsc_hz : hz;
		fprintf(out, "%s{\"t\":%llu,\"p50_ns\":%.6g,\"p99_ns\":%.6g,\"cells\":[", k++ ? "," : "",
			(unsigned long long)(r->iv[i].t1_ns / 1000000000u), row_quantile(rows, total, 0.5, h),
			row_quantile(rows, total, 0.99, h));
		for (uint32_t c = 0, first = 1; c < PAGE_ROWS; c++)
			if (rows[c]) {
				fprintf(out, "%s[%u,%u]", first ? "" : ",", c, rows[c]);
				first = 0;
			}
		fputs("]}", out);
	}
	fputs("]}", out);
}

/* The data of a report: {"procs":[...],"funcs":[rows],"details":{"id":{...}}}, and
 * "heat":{"id":{"cols":[...]}} where the run kept per-interval counts (GOLAT_INTERVAL). */
static int html_data(FILE *out, const struct stats_view *v, const struct stats_snapshot *s, bool args)
{
	uint32_t *ids = malloc((s->nfns ? s->nfns : 1) * sizeof(*ids));
	uint64_t *hist = malloc(STATS_BUCKETS * sizeof(*hist));
	if (!ids || !hist) {
		free(ids);
		free(hist);
		return -ENOMEM;
	}
	size_t n = report_order(s, ids);
	fputs("{\"report\":true,\"args\":", out);
	fputs(args ? "true" : "false", out);
	fputs(",\"procs\":[", out);
	page_json_proc(out, s);
	fputs("],\"funcs\":[", out);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', out);
		page_json_row(out, v, s, &s->fns[ids[i]], hist);
	}
	fputs("],\"details\":{", out);
	struct callsite cs;
	callsite_open(&cs, s, NULL);
	for (size_t i = 0; i < n && i < HTML_DETAILS; i++) {
		fprintf(out, "%s\"%u\":", i ? "," : "", ids[i]);
		page_json_func(out, v, s, &cs, &s->fns[ids[i]], NULL, args);
	}
	callsite_close(&cs);
	fputc('}', out);
	struct heat_ring ring;
	if (v->path[0] && heat_ring_read(&ring, v->path) == 0) {
		_Static_assert(PAGE_ROW_BUCKETS == HEAT_ROW_BUCKETS, "the ring's rows are the page's");
		fputs(",\"heat\":{", out);
		for (size_t i = 0; i < n && i < HTML_DETAILS; i++) {
			fprintf(out, "%s\"%u\":", i ? "," : "", ids[i]);
			ring_json(out, &ring, ids[i], s->tsc_hz);
		}
		fputc('}', out);
		heat_ring_free(&ring);
	}
	fputc('}', out);
	free(ids);
	free(hist);
	return 0;
}

/* Writes data into a <script type="application/json">: every '<' as \u003c, which
 * JSON reads back the same (a '<' is only ever inside a string), so that no name can
 * close the element. */
static void put_script_safe(FILE *out, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '<')
			fputs("\\u003c", out);
		else
			fputc(data[i], out);
	}
}

int page_write_html(FILE *out, const struct stats_view *v, bool args)
{
	struct stats_snapshot s;
	char *data = NULL;
	size_t len = 0;
	int rc = stats_snapshot(v, &s);
	if (rc)
		return rc;
	FILE *m = open_memstream(&data, &len);
	rc = m ? html_data(m, v, &s, args) : -ENOMEM;
	if (m && fclose(m) != 0 && rc == 0)
		rc = -ENOMEM;
	stats_snapshot_free(&s);
	const char *mark = strstr(serve_page_html, SERVE_PAGE_DATA_MARK);
	if (rc == 0 && !mark)
		rc = -EINVAL;
	if (rc == 0) {
		errno = 0;
		fwrite(serve_page_html, 1, (size_t)(mark - serve_page_html), out);
		fputs("<script id=\"golat-data\" type=\"application/json\">", out);
		put_script_safe(out, data, len);
		fputs("</script>", out);
		fputs(mark + strlen(SERVE_PAGE_DATA_MARK), out);
		if (fflush(out) != 0 || ferror(out))
			rc = errno ? -errno : -EIO;
	}
	free(data);
	return rc;
}
