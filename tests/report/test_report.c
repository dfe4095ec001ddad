/* The three report formats of the demo fixture, line by line: the text header and
 * blocks as SPEC.md shows them, JSON values, Prometheus series and escaping; the
 * human units; the format chosen by a path's suffix. */
#define _GNU_SOURCE /* open_memstream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "json.h"
#include "report.h"

static const struct report_skip skips[] = {
	{ "main.tiny", "main.tiny", "return at +0x9 has no 5-byte window" },
	{ "main.nothing*", "main.nothing*", "matches no function" },
};

/* The demo rendered in format f into a malloc'ed string. */
static char *render(enum report_format f)
{
	struct fixture fx;
	struct stats_view v;
	char err[256], *buf = NULL;
	size_t len = 0;
	fixture_demo(&fx);
	CHECK(stats_view_mem(&v, fx.buf, fx.len, err, sizeof(err)) == 0, "view: %s", err);
	FILE *out = open_memstream(&buf, &len);
	struct report_opts o = { .format = f, .skipped = skips, .nskipped = 2 };
	CHECK(report_write(out, &v, &o) == 0, "report_write");
	fclose(out);
	fixture_free(&fx);
	return buf;
}

static void has(const char *text, const char *want, const char *what)
{
	CHECK(strstr(text, want) != NULL, "%s: no line\n  %s\nin\n%s", what, want, text);
}

static void text(void)
{
	char *t = render(REPORT_TEXT);
	const char *head = "golat: pid 999999999 ./service (go1.22.12) 12.8 s, TSC 2.00 GHz\n";
	CHECK(strncmp(t, head, strlen(head)) == 0, "header: %.80s", t);
	has(t, "\nmain.handle   calls 1000  in flight 2  panicked 1  mean 1.00ms  p50 1.00ms  p90 1.00ms  p99 1.00ms"
	       "  max 1.00ms  total 1.00s  self 1.00s\n"
	       "  callers 0x100 500 (500ms), 0x200 300 (300ms), 0x300 200 (200ms)\n"
	       "  slow 1.00ms  at 11:06:41.000000Z  goroutine 7  from 0x100  args 0x2a  results 0x1\n"
	       "          ns            : count    distribution\n"
	       "  [512K, 1M)            : 1000     |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n",
	    "main.handle block");
	/* Slowest total first: handle (1 s), fast (2.5 ms), odd (20 us), stuck (none). */
	char *h = strstr(t, "main.handle "), *f = strstr(t, "main.fast "), *o = strstr(t, "main.\"odd\"");
	char *s = strstr(t, "main.stuck ");
	CHECK(h && f && o && s && h < f && f < o && o < s, "order");
	has(t, "main.\"odd\"\\name?   calls 10  mean 2.00us", "control bytes replaced");
	has(t, "\nmain.stuck   calls 0  in flight 3\n", "in flight only");
	CHECK(!strstr(t, "main.unused"), "a function never called is omitted");
	has(t, "  [64, 128)             : ", "power-of-two labels under 1K");
	has(t, "skipped main.tiny: return at +0x9 has no 5-byte window\n", "skipped");
	free(t);
}

static void json(void)
{
	char *j = render(REPORT_JSON);
	has(j, "{\"version\":1,\"pid\":999999999,\"exe\":\"./service\",\"go_version\":\"go1.22.12\","
	       "\"elapsed_ns\":12800000000,\n \"tsc_hz\":2000000000,", "top level");
	char want[2048];
	uint32_t b = stats_bucket(2000000);
	snprintf(want, sizeof(want),
		 "{\"name\":\"main.handle\",\"entry\":\"0x6f3a20\",\"calls\":1000,\"timed\":1000,"
		 "\"in_flight\":2,\"panicked\":1,\"total_ns\":1000000000,\"min_ns\":1000000,\"max_ns\":1000000,"
		 "\"mean_ns\":1000000,\"p50_ns\":1000000,\"p90_ns\":1000000,\"p99_ns\":1000000,"
		 "\"p999_ns\":1000000,\"self_ns\":1000000000,\"callers\":[{\"name\":\"0x100\",\"calls\":500,"
		 "\"total_ns\":500000000,\"self_ns\":500000000},{\"name\":\"0x200\",\"calls\":300,\"total_ns\":300000000,"
		 "\"self_ns\":300000000},{\"name\":\"0x300\",\"calls\":200,\"total_ns\":200000000,\"self_ns\":200000000}],"
		 "\"slowest\":[{\"ns\":1000000,\"at_ns\":1795000001000000000,\"goid\":7,\"caller\":\"0x100\","
		 "\"args\":[{\"value\":42},{\"value\":0},{\"value\":0},{\"value\":0},{\"value\":0},{\"value\":0},"
		 "{\"value\":0},{\"value\":0},{\"value\":0}],\"results\":[{\"value\":1},{\"value\":0},{\"value\":0},"
		 "{\"value\":0},{\"value\":0},{\"value\":0},{\"value\":0},{\"value\":0},{\"value\":0}]}],"
		 "\"histogram\":[{\"le_ns\":%llu,\"count\":1000}]}",
		 (unsigned long long)(stats_bucket_hi(b) + 1) / 2);
	has(j, want, "main.handle");
	has(j, "\"name\":\"main.\\\"odd\\\"\\\\name\\u000a\"", "escaped name");
	has(j, "\"skipped\":[\n  {\"spec\":\"main.tiny\",\"name\":\"main.tiny\",\"reason\":\"return at",
	    "skipped");
	CHECK(!strstr(j, "main.unused"), "omitted");
	free(j);
}

static void prom(void)
{
	char *p = render(REPORT_PROM);
	has(p, "# TYPE golat_calls_total counter\n", "TYPE counter");
	has(p, "\ngolat_calls_total{function=\"main.handle\"} 1000\n", "calls");
	has(p, "\ngolat_in_flight{function=\"main.handle\"} 2\n", "in flight");
	has(p, "\ngolat_panicked_total{function=\"main.handle\"} 1\n", "panicked");
	has(p, "\ngolat_calls_total{function=\"main.\\\"odd\\\"\\\\name\\n\"} 10\n", "label escaping");
	has(p, "# TYPE golat_duration_seconds histogram\n", "TYPE histogram");
	/* Shared bounds from main.fast's [64, 128) ns to main.handle's [512K, 1M). */
#define BUCKET "\ngolat_duration_seconds_bucket{function=\"main.handle\","
	has(p, BUCKET "le=\"1.28e-07\"} 0\n", "first bound");
	has(p, BUCKET "le=\"0.000524288\"} 0\n", "bucket");
	has(p, BUCKET "le=\"0.001048576\"} 1000\n", "bucket");
	has(p, "\ngolat_duration_seconds_bucket{function=\"main.handle\",le=\"+Inf\"} 1000\n", "+Inf");
	has(p, "\ngolat_duration_seconds_sum{function=\"main.handle\"} 1\n", "sum");
	has(p, "\ngolat_duration_seconds_count{function=\"main.handle\"} 1000\n", "count");
	CHECK(!strstr(p, "le=\"2.097152e-06\"} 1000" BUCKET),
	      "no bound past the slowest bucket");
	free(p);
}

/* Two functions of one name (Go binaries have them: etcd's two syscall.Syscall) are one
 * series, their numbers summed: Prometheus refuses a scrape with a series twice. And
 * report_prom_multi: two processes, their labels, each family once, and bounds that
 * only widen when kept. */
static void prom_merged_and_multi(void)
{
	struct fixture fx;
	struct stats_view v;
	struct stats_snapshot s;
	char err[256], *buf = NULL;
	size_t len = 0;
	CHECK(fixture_init(&fx, 4) == 0, "fixture");
	uint32_t a = fixture_fn(&fx, "syscall.Syscall", 0x1000), b = fixture_fn(&fx, "syscall.Syscall", 0x2000);
	for (int i = 0; i < 3; i++)
		fixture_call(&fx, 0, a, 2000); /* 1 us */
	fixture_call(&fx, 1, b, 2000000); /* 1 ms */
	CHECK(stats_view_mem(&v, fx.buf, fx.len, err, sizeof(err)) == 0 && stats_snapshot(&v, &s) == 0,
	      "view: %s", err);
	uint32_t ids[4];
	size_t n = report_order(&s, ids);
	const struct report_label l1[] = { { "pid", "1" } }, l2[] = { { "pid", "2" } };
	const struct report_prom_src src[] = { { &v, &s, ids, n, l1, 1 }, { &v, &s, ids, n, l2, 1 } };
	struct report_prom_bounds keep = { 3, 40 };
	FILE *out = open_memstream(&buf, &len);
	CHECK(report_prom_multi(out, src, 2, &keep) == 0, "render");
	fclose(out);
	has(buf, "\ngolat_calls_total{function=\"syscall.Syscall\",pid=\"1\"} 4\n", "summed calls");
	has(buf, "\ngolat_calls_total{function=\"syscall.Syscall\",pid=\"2\"} 4\n# HELP golat_in_flight",
	    "two sources, the family together");
	const char *one = strstr(buf, "golat_calls_total{function=\"syscall.Syscall\",pid=\"1\"}");
	CHECK(one && !strstr(one + 1, "golat_calls_total{function=\"syscall.Syscall\",pid=\"1\"}"),
	      "one series per name:\n%s", buf);
	has(buf, "{function=\"syscall.Syscall\",pid=\"2\",le=\"1.024e-06\"} 3\n", "summed buckets");
	/* Kept bounds 3..40: buckets up to 2^3 ns and 2^40 ns, wider than the data's. */
	has(buf, "{function=\"syscall.Syscall\",pid=\"2\",le=\"8e-09\"} 0\n", "kept lower bound");
	CHECK(!strstr(buf, "le=\"4e-09\""), "no bound below the kept ones");
	has(buf, "{function=\"syscall.Syscall\",pid=\"1\",le=\"1099.511627776\"} 4\n", "kept upper bound");
	has(buf, "golat_duration_seconds_sum{function=\"syscall.Syscall\",pid=\"1\"} 0.001003\n", "summed sum");
	CHECK(keep.lo == 3 && keep.hi == 40, "kept bounds %u..%u", keep.lo, keep.hi);
	const char *first = strstr(buf, "# TYPE golat_calls_total"), *again = first ? strstr(first + 1, "# TYPE golat_calls_total") : NULL;
	CHECK(first && !again, "one TYPE per family");
	free(buf);
	stats_snapshot_free(&s);
	fixture_free(&fx);
}

static void units(void)
{
	static const struct { double ns; const char *sep, *want; } cases[] = {
		{ 980000, "", "980us" }, { 1210000, "", "1.21ms" }, { 41002311, "", "41.0ms" },
		{ 12.8e9, " ", "12.8 s" }, { 999.6, "", "1.00us" }, { 0, "", "0ns" },
		{ 5.214, "", "5.21ns" }, { 999499, "", "999us" }, { 4321e9, "", "4321s" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[32];
		report_human_ns(buf, sizeof(buf), cases[i].ns, cases[i].sep);
		CHECK(strcmp(buf, cases[i].want) == 0, "%g ns: '%s', want '%s'", cases[i].ns, buf, cases[i].want);
	}
	CHECK(report_format_for_path("out.json") == REPORT_JSON, ".json");
	CHECK(report_format_for_path("/x/out.prom") == REPORT_PROM, ".prom");
	CHECK(report_format_for_path("out.txt") == REPORT_TEXT &&
		      report_format_for_path("-") == REPORT_TEXT &&
		      report_format_for_path(NULL) == REPORT_TEXT &&
		      report_format_for_path("json") == REPORT_TEXT,
	      "text");
	CHECK(report_pow2_index(0.5) == 0 && report_pow2_index(1) == 1 &&
		      report_pow2_index(1023.9) == 10 &&
		      report_pow2_index(1024) == 11, "power-of-two index");
}

/* A log-linear bucket straddling a power of two goes where its midpoint is. */
static void straddling_bucket(void)
{
	struct fixture fx;
	struct stats_view v;
	struct stats_snapshot s;
	char err[256];
	fixture_init(&fx, 2);
	/* At 3.1 GHz, 1024 ns is 3174.4 cycles, inside the bucket [3136, 3200) cycles =
	 * [1011.6, 1032.3) ns, whose midpoint (3167.5 cycles, 1021.8 ns) is under 1024. */
	fx.h->tsc_last = fx.h->tsc_start + (uint64_t)(3.1e9 * (FIXTURE_ELAPSED_NS / 1e9));
	uint32_t id = fixture_fn(&fx, "main.f", 0x1000);
	fixture_call(&fx, 0, id, 3190); /* 1029 ns, but counted in [512, 1K) */
	fixture_call(&fx, 0, id, 3200); /* [3200, 3264): all of it >= 1024 ns */
	stats_view_mem(&v, fx.buf, fx.len, err, sizeof(err));
	stats_snapshot(&v, &s);
	uint64_t hist[STATS_BUCKETS];
	struct report_fn r;
	report_fn_compute(&v, &s, &s.fns[id], hist, &r);
	CHECK(r.pow2[10] == 1 && r.pow2[11] == 1, "[512,1K) %llu, [1K,2K) %llu",
	      (unsigned long long)r.pow2[10], (unsigned long long)r.pow2[11]);
	stats_snapshot_free(&s);
	fixture_free(&fx);
}

/* A string argument's bytes are anything: what is not UTF-8 (a lead byte past F4,
 * overlong forms, surrogates, a sequence cut short) and NULs are escaped, so that the
 * JSON is UTF-8 a strict decoder takes. */
static void json_bytes(void)
{
	static const char in[] = "a\xf7\xbf\xbf \xed\xa0\x80 \xe0\x80\x80 \xc3\xa9 \xf0\x9f\x98\x80 \x00 cut\xe6\x97";
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	json_string_n(f, in, sizeof(in) - 1);
	fclose(f);
	const char *want = "\"a\\u00f7\\u00bf\\u00bf \\u00ed\\u00a0\\u0080 \\u00e0\\u0080\\u0080 \xc3\xa9 "
			   "\xf0\x9f\x98\x80 \\u0000 cut\\u00e6\\u0097\"";
	CHECK(strcmp(out, want) == 0, "json_string_n: %s", out);
	free(out);
}

int main(void)
{
	json_bytes();
	text();
	json();
	prom();
	prom_merged_and_multi();
	units();
	straddling_bucket();
	printf("%s\n", fixture_failures ? "FAILED" : "ok");
	return fixture_failures != 0;
}
