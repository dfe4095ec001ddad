/* A window's numbers (lib/report/statsdelta.c) on synthetic files: what was recorded between
 * two snapshots and only that — counts, sums and histograms subtracted, min and max
 * from the window's own buckets, a function first seen inside the window, functions
 * outside the window left out of its report, and a later snapshot that holds less
 * than the earlier one refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "report.h"
#include "statsread.h"

static void window_is_the_difference(void)
{
	struct fixture fx;
	struct stats_view v;
	struct stats_snapshot a, b, d;
	struct stats_saved ah;
	char err[256];
	CHECK(fixture_init(&fx, 8) == 0, "fixture");
	uint32_t hot = fixture_fn(&fx, "main.hot", 0x1000), other = fixture_fn(&fx, "main.other", 0x2000);
	for (int i = 0; i < 500; i++) /* before the window: 1 ms calls, and 10 ms ones */
		fixture_call(&fx, (uint32_t)i % 3, hot, i % 2 ? 2000000 : 20000000);
	fixture_call(&fx, 0, other, 4000);
	CHECK(stats_view_mem(&v, fx.buf, fx.len, err, sizeof(err)) == 0, "view: %s", err);
	CHECK(stats_snapshot(&v, &a) == 0 && stats_save_hists(&v, &a, &ah) == 0, "snapshot a");
	/* The window: 40 calls of 100 us and 10 of 300 us; a function first hooked now. */
	for (int i = 0; i < 50; i++)
		fixture_call(&fx, (uint32_t)i % 4, hot, i < 40 ? 200000 : 600000);
	uint32_t fresh = fixture_fn(&fx, "main.fresh", 0x3000);
	fixture_call(&fx, 5, fresh, 7);
	fixture_call(&fx, 5, fresh, 9);
	fixture_call(&fx, 1, other, 4000); /* not in the window's ids */
	CHECK(stats_snapshot(&v, &b) == 0, "snapshot b");
	uint32_t ids[] = { hot, fresh };
	CHECK(stats_delta(&v, &a, &ah, &b, ids, 2, &d, err, sizeof(err)) == 0, "delta: %s", err);
	const struct stats_func *h = &d.fns[hot], *f = &d.fns[fresh];
	CHECK(h->calls == 50 && h->timed == 50 && h->entries == 50 && h->in_flight == 0,
	      "hot: calls %llu", (unsigned long long)h->calls);
	CHECK(h->sum == 40ull * 200000 + 10ull * 600000, "hot: sum %llu", (unsigned long long)h->sum);
	uint64_t hist[STATS_BUCKETS];
	CHECK(stats_func_hist(&v, &d, hot, hist) == 50 && hist[stats_bucket(200000)] == 40 &&
	      hist[stats_bucket(600000)] == 10 && hist[stats_bucket(2000000)] == 0,
	      "hot: the window's histogram only");
	/* min and max: the bounds of the lowest and highest buckets, which hold the values. */
	CHECK(h->min <= 200000 && h->min >= 200000 - 200000 / 32 && h->max >= 600000 &&
	      h->max <= 600000 + 600000 / 32, "hot: min %llu max %llu", (unsigned long long)h->min,
	      (unsigned long long)h->max);
	CHECK(f->calls == 2 && f->min == 7 && f->max == 9, "fresh: exact below 32 cycles: %llu..%llu",
	      (unsigned long long)f->min, (unsigned long long)f->max);
	CHECK(d.fns[other].calls == 0 && stats_func_hist(&v, &d, other, hist) == 0,
	      "a function outside the window is empty");
	/* Callers and self time: the window's calls only (fixture_call: site 0x100 * (t + 1)). */
	uint64_t by_site[5] = { 0 }, total = 0;
	for (uint32_t i = d.site_start[hot]; i < d.site_start[hot + 1]; i++) {
		CHECK(d.sites[i].fn == hot && d.sites[i].site % 0x100 == 0 && d.sites[i].site <= 0x400,
		      "site 0x%x", d.sites[i].site);
		by_site[d.sites[i].site / 0x100] += d.sites[i].calls;
		total += d.sites[i].calls;
	}
	CHECK(total == 50 && by_site[1] == 13 && by_site[2] == 13 && by_site[3] == 12 && by_site[4] == 12,
	      "hot: callers in the window %llu (%llu %llu %llu %llu)", (unsigned long long)total,
	      (unsigned long long)by_site[1], (unsigned long long)by_site[2], (unsigned long long)by_site[3],
	      (unsigned long long)by_site[4]);
	CHECK(h->self == h->sum, "hot: self %llu, sum %llu", (unsigned long long)h->self, (unsigned long long)h->sum);
	CHECK(d.site_start[other + 1] == d.site_start[other], "no callers outside the window");
	uint32_t order[8];
	CHECK(report_order(&d, order) == 2, "the report shows the window's two functions");
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	CHECK(report_render(out, &v, &d, NULL) == 0, "render");
	fclose(out);
	CHECK(strstr(text, "main.hot   calls 50 ") && !strstr(text, "main.other"), "text: %s", text);
	free(text);
	stats_snapshot_free(&d);

	/* Nothing before (a new file): the window is all of b. */
	CHECK(stats_delta(&v, NULL, NULL, &b, ids, 2, &d, err, sizeof(err)) == 0 &&
	      d.fns[hot].calls == 550, "no earlier snapshot: calls %llu", (unsigned long long)d.fns[hot].calls);
	stats_snapshot_free(&d);
	/* The other way round, b holds less than a: not the same file. */
	struct stats_saved bh;
	CHECK(stats_save_hists(&v, &b, &bh) == 0, "save b");
	CHECK(stats_delta(&v, &b, &bh, &a, ids, 1, &d, err, sizeof(err)) == -ESTALE && strstr(err, "main.hot"),
	      "shrinking counts refused: '%s'", err);
	stats_saved_free(&bh);
	stats_saved_free(&ah);
	stats_snapshot_free(&a);
	stats_snapshot_free(&b);
	fixture_free(&fx);
}

int main(void)
{
	window_is_the_difference();
	printf("%s\n", fixture_failures ? "FAILED" : "ok");
	return fixture_failures != 0;
}
