/* report_calls: the answers beyond a function's own numbers — its self time, its
 * callers, its slowest calls — in text and JSON (SPEC.md, "Each function also
 * carries"). Call sites are named through callsite.h. See report.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "report.h"

#define TEXT_CALLERS 3 /* callers the text report shows: JSON has them all */
#define TEXT_SLOWEST 3
#define TEXT_ARGS 6    /* raw registers a text line shows: most functions take fewer */
#define TEXT_RESULTS 2

static int by_calls(const void *a, const void *b)
{
	const struct report_caller *x = a, *y = b;
	if (x->calls != y->calls)
		return x->calls < y->calls ? 1 : -1;
	return strcmp(x->name, y->name);
}

size_t report_callers(const struct stats_snapshot *s, const struct callsite *cs, uint32_t id,
		      struct report_caller **out)
{
	*out = NULL;
	if (!s->site_start || id >= s->nfns)
		return 0;
	uint32_t lo = s->site_start[id], hi = s->site_start[id + 1];
	struct report_caller *r = calloc(hi > lo ? hi - lo : 1, sizeof(*r));
	if (!r)
		return 0;
	size_t n = 0;
	for (uint32_t i = lo; i < hi; i++) {
		const struct stats_site *x = &s->sites[i];
		char name[STATS_NAME_MAX];
		uint64_t entry = callsite_name(cs, x->site, name, sizeof(name));
		size_t k = 0; /* sites of one function add up; unnamed ones stay apart */
		while (k < n && !(entry && r[k].entry == entry) && strcmp(r[k].name, name) != 0)
			k++;
		if (k == n) {
			snprintf(r[n].name, sizeof(r[n].name), "%s", name);
			r[n++].entry = entry;
		}
		r[k].calls += x->calls;
		r[k].sum += x->sum;
		r[k].self += x->self;
	}
	qsort(r, n, sizeof(*r), by_calls);
	*out = r;
	return n;
}

/* dwarf_read_fn over the string bytes a record kept: the only memory of the program
 * a report reads (the program may be gone, and its memory has moved on). */
static bool kept_bytes(void *arg, uint64_t addr, void *buf, size_t len)
{
	const struct stats_slow *r = arg;
	if (!r->text_reg || addr != r->args[r->text_reg - 1] || len > r->text_len)
		return false;
	memcpy(buf, r->text, len);
	return true;
}

/* The parameter (results: the result) of sig held in integer register reg, and
 * whether reg holds its first part. */
static const struct dwarf_param *param_in(const struct dwarf_func_sig *sig, bool results, int reg, bool *first)
{
	for (size_t i = 0; sig && i < sig->nparams; i++) {
		const struct dwarf_param *p = &sig->param[i];
		if (p->result != results || p->where != DWARF_WHERE_REGS)
			continue;
		for (uint8_t k = 0; k < p->nparts; k++)
			if (p->part[k].reg == reg) {
				*first = k == 0;
				return p;
			}
	}
	return NULL;
}

/* Each register as {"value"}, with "name" and "type" of what DWARF says it holds,
 * and "text" (the value rendered; a string's contents) on its first register. */
static void json_regs(FILE *out, const char *key, const uint64_t *regs, const struct stats_slow *r,
		      const struct dwarf_func_sig *sig, bool results)
{
	fprintf(out, ",\"%s\":[", key);
	for (int i = 0; i < STATS_ARGS; i++) {
		fprintf(out, "%s{\"value\":%llu", i ? "," : "", (unsigned long long)regs[i]);
		bool first = false;
		const struct dwarf_param *p = param_in(sig, results, i, &first);
		char t[STATS_SLOW_TEXT + 256];
		if (p) {
			fputs(",\"name\":", out);
			json_string(out, p->name);
			fputs(",\"type\":", out);
			json_string(out, p->type);
		}
		if (!results && r->text_reg == i + 1) {
			fputs(",\"text\":", out);
			json_string_n(out, r->text, r->text_len < STATS_SLOW_TEXT ? r->text_len : STATS_SLOW_TEXT);
		} else if (p && first && dwarf_arg_format(p, regs, kept_bytes, (void *)r, t, sizeof(t)) >= 0) {
			fputs(",\"text\":", out);
			json_string(out, t);
		}
		fputc('}', out);
	}
	fputc(']', out);
}

void report_json_calls(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
		       const struct callsite *cs, const struct stats_func *f)
{
	fprintf(out, ",\"self_ns\":%llu,\"callers\":[", report_ns_int(report_scaled_ns(s, f, f->self)));
	struct report_caller *c;
	size_t n = report_callers(s, cs, f->id, &c);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", out);
		json_string(out, c[i].name);
		fprintf(out, ",\"calls\":%llu,\"total_ns\":%llu,\"self_ns\":%llu}", (unsigned long long)c[i].calls,
			report_ns_int(report_scaled_ns(s, f, c[i].sum)), report_ns_int(report_scaled_ns(s, f, c[i].self)));
	}
	free(c);
	fputs("],\"slowest\":[", out);
	struct stats_slow r[STATS_SLOWEST_MAX];
	uint32_t k = stats_slowest(v, s, f->id, r, STATS_SLOWEST_MAX);
	for (uint32_t i = 0; i < k; i++) {
		char who[STATS_NAME_MAX];
		callsite_name(cs, r[i].site, who, sizeof(who));
		fprintf(out, "%s{\"ns\":%llu,\"at_ns\":%llu,\"goid\":%llu,\"caller\":", i ? "," : "",
			report_ns_int(stats_cycles_to_ns(s, (double)r[i].cycles)),
			(unsigned long long)stats_tsc_to_real_ns(s, r[i].tsc), (unsigned long long)r[i].goid);
		json_string(out, who);
		const struct dwarf_func_sig *sig = callsite_sig(cs, f->entry);
		json_regs(out, "args", r[i].args, &r[i], sig, false);
		json_regs(out, "results", r[i].results, &r[i], sig, true);
		fputc('}', out);
	}
	fputc(']', out);
}

/* name=value of each parameter (results: each result) of sig. */
static void text_params(FILE *out, const char *what, const struct dwarf_func_sig *sig, const uint64_t *regs,
			const struct stats_slow *r, bool results)
{
	fprintf(out, "  %s", what);
	for (size_t i = 0; i < sig->nparams; i++) {
		const struct dwarf_param *p = &sig->param[i];
		char v[STATS_SLOW_TEXT + 256];
		if (p->result != results || dwarf_arg_format(p, regs, kept_bytes, (void *)r, v, sizeof(v)) < 0)
			continue;
		fputc(' ', out);
		report_put_clean(out, p->name);
		fputc('=', out);
		report_put_clean(out, v);
	}
}

/* The first max registers, up to the last one that is not 0 (at least one): without
 * DWARF nothing tells how many a function takes. JSON has all nine. */
static void text_regs(FILE *out, const char *what, const uint64_t *regs, int max)
{
	int last = 0;
	for (int i = 0; i < max; i++)
		if (regs[i])
			last = i;
	fprintf(out, "  %s", what);
	for (int i = 0; i <= last; i++)
		fprintf(out, "%s%#llx", i ? "," : " ", (unsigned long long)regs[i]);
}

static void text_slow(FILE *out, const struct stats_snapshot *s, const struct callsite *cs,
		      const struct stats_func *f, const struct stats_slow *r)
{
	char d[16], who[STATS_NAME_MAX], when[64] = "?";
	report_human_ns(d, sizeof(d), stats_cycles_to_ns(s, (double)r->cycles), "");
	callsite_name(cs, r->site, who, sizeof(who));
	uint64_t at = stats_tsc_to_real_ns(s, r->tsc);
	time_t t = (time_t)(at / 1000000000u);
	struct tm tm;
	if (at && gmtime_r(&t, &tm))
		snprintf(when + strftime(when, sizeof(when), "%H:%M:%S", &tm), 16, ".%06lluZ",
			 (unsigned long long)(at % 1000000000u / 1000u));
	fprintf(out, "  slow %-7s at %s  goroutine %llu  from ", d, when, (unsigned long long)r->goid);
	report_put_clean(out, who);
	const struct dwarf_func_sig *sig = callsite_sig(cs, f->entry);
	if (sig) {
		text_params(out, "args", sig, r->args, r, false);
		text_params(out, "results", sig, r->results, r, true);
	} else {
		text_regs(out, "args", r->args, TEXT_ARGS);
		text_regs(out, "results", r->results, TEXT_RESULTS);
	}
	fputc('\n', out);
}

void report_text_calls(FILE *out, const struct stats_view *v, const struct stats_snapshot *s,
		       const struct callsite *cs, const struct stats_func *f)
{
	struct report_caller *c;
	size_t n = report_callers(s, cs, f->id, &c);
	for (size_t i = 0; i < n && i < TEXT_CALLERS; i++) {
		char t[16], self[16];
		report_human_ns(t, sizeof(t), report_scaled_ns(s, f, c[i].sum), "");
		report_human_ns(self, sizeof(self), report_scaled_ns(s, f, c[i].self), "");
		fputs(i ? ", " : "  callers ", out);
		report_put_clean(out, c[i].name);
		fprintf(out, " %llu (%s)", (unsigned long long)c[i].calls, t);
	}
	if (n > TEXT_CALLERS)
		fprintf(out, ", %zu more", n - TEXT_CALLERS);
	if (n)
		fputc('\n', out);
	free(c);
	struct stats_slow r[STATS_SLOWEST_MAX];
	uint32_t k = stats_slowest(v, s, f->id, r, STATS_SLOWEST_MAX);
	for (uint32_t i = 0; i < k && i < TEXT_SLOWEST; i++)
		text_slow(out, s, cs, f, &r[i]);
}
