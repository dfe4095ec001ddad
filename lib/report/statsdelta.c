/* statsdelta: the numbers of a window — what a process recorded between two
 * snapshots of its stats file (golat attach -d). See statsread.h.
 *
 * Counts, sums and histogram buckets only grow while a program runs, so a window's
 * are differences. Not so min and max: the smallest call of a window is not the
 * difference of two minima. They are taken from the window's own histogram instead,
 * as the bounds of its lowest and highest non-empty buckets: exact below 32 cycles,
 * within 1/32 (3%) above, which is the precision of every percentile anyway. */
#include "statsread.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int stats_save_hists(const struct stats_view *v, const struct stats_snapshot *s,
		     struct stats_saved *out)
{
	memset(out, 0, sizeof(*out));
	uint64_t *hist = malloc(STATS_BUCKETS * sizeof(*hist));
	out->start = calloc((size_t)s->nfns + 1, sizeof(*out->start));
	size_t cap = 0, n = 0;
	int rc = hist && out->start ? 0 : -ENOMEM;
	for (uint32_t id = 0; rc == 0 && id < s->nfns; id++) {
		out->start[id] = (uint32_t)n;
		if (!s->fns[id].timed || !stats_func_hist(v, s, id, hist))
			continue;
		for (uint32_t b = 0; rc == 0 && b < STATS_BUCKETS; b++) {
			if (!hist[b])
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 1024;
				uint32_t *bk = realloc(out->bucket, cap * sizeof(*bk));
				out->bucket = bk ? bk : out->bucket;
				uint64_t *ct = bk ? realloc(out->count, cap * sizeof(*ct)) : NULL;
				out->count = ct ? ct : out->count;
				if (!bk || !ct) {
					rc = -ENOMEM;
					break;
				}
			}
			out->bucket[n] = b;
			out->count[n++] = hist[b];
		}
	}
	free(hist);
	if (rc) {
		stats_saved_free(out);
		return rc;
	}
	out->nfns = s->nfns;
	out->start[s->nfns] = (uint32_t)n;
	return 0;
}

void stats_saved_free(struct stats_saved *h)
{
	free(h->start);
	free(h->bucket);
	free(h->count);
	memset(h, 0, sizeof(*h));
}

static int stale(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int stale(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -ESTALE;
}

/* x - y, or false when y > x (the later snapshot holds less: another file). */
static bool sub(uint64_t x, uint64_t y, uint64_t *out)
{
	*out = x - y;
	return x >= y;
}

/* f = fb - fa (fa NULL: nothing before), its histogram in d->hists[id]. */
static int delta_fn(const struct stats_view *v, const struct stats_snapshot *b,
		    const struct stats_func *fa, const struct stats_saved *ah, uint32_t id,
		    struct stats_snapshot *d, uint64_t *hist, char *err, size_t errlen)
{
	const struct stats_func *fb = &b->fns[id];
	struct stats_func *f = &d->fns[id];
	bool ok = true;
	if (fa) {
		ok = sub(fb->entries, fa->entries, &f->entries) && sub(fb->calls, fa->calls, &f->calls) &&
		     sub(fb->abandoned, fa->abandoned, &f->abandoned) &&
		     sub(fb->timed, fa->timed, &f->timed) && sub(fb->sum, fa->sum, &f->sum);
	} else {
		f->entries = fb->entries, f->calls = fb->calls, f->abandoned = fb->abandoned;
		f->timed = fb->timed, f->sum = fb->sum;
	}
	/* self: from the window's sites (stats_sites_delta), once every function is done. */
	if (!ok)
		return stale(err, errlen, "%s: fewer calls at the end of the window than at its start", fb->name);
	uint64_t open = f->entries > f->calls ? f->entries - f->calls : 0;
	f->in_flight = open > f->abandoned ? open - f->abandoned : 0;
	f->min = f->max = 0;
	if (!f->timed)
		return 0;
	stats_func_hist(v, b, id, hist);
	for (uint32_t k = ah && id < ah->nfns ? ah->start[id] : 0; ah && id < ah->nfns && k < ah->start[id + 1]; k++)
		if (!sub(hist[ah->bucket[k]], ah->count[k], &hist[ah->bucket[k]]))
			return stale(err, errlen, "%s: a histogram bucket shrank during the window", fb->name);
	free(d->hists[id]); /* an id given twice */
	if (!(d->hists[id] = malloc(STATS_BUCKETS * sizeof(*hist))))
		return -ENOMEM;
	memcpy(d->hists[id], hist, STATS_BUCKETS * sizeof(*hist));
	for (uint32_t k = 0; k < STATS_BUCKETS; k++) {
		if (!hist[k])
			continue;
		if (!f->min) /* 0 means none: a call of 0 cycles counts as 1 */
			f->min = stats_bucket_lo(k) ? stats_bucket_lo(k) : 1;
		f->max = stats_bucket_hi(k) - 1;
	}
	return 0;
}

int stats_delta(const struct stats_view *v, const struct stats_snapshot *a,
		const struct stats_saved *ah, const struct stats_snapshot *b, const uint32_t *ids,
		size_t n, struct stats_snapshot *d, char *err, size_t errlen)
{
	*d = *b;
	d->fns = NULL;
	d->cell_pages = d->group_start = NULL; /* b's: a window's histograms are in d->hists */
	d->sites = NULL;
	d->site_start = NULL;
	d->nsites = 0;
	d->slow_from = a ? a->tsc_taken : 0; /* the slowest calls of the window only */
	if (a && (!sub(b->lost, a->lost, &d->lost) || !sub(b->unbinned, a->unbinned, &d->unbinned)))
		return stale(err, errlen, "the stats file lost counts during the window (replaced?)");
	d->fns = calloc(b->nfns ? b->nfns : 1, sizeof(*d->fns));
	d->hists = calloc(b->nfns ? b->nfns : 1, sizeof(*d->hists));
	uint64_t *hist = malloc(STATS_BUCKETS * sizeof(*hist));
	int rc = d->fns && d->hists && hist ? 0 : -ENOMEM;
	for (uint32_t id = 0; rc == 0 && id < b->nfns; id++) {
		d->fns[id].id = id;
		d->fns[id].entry = b->fns[id].entry;
		memcpy(d->fns[id].name, b->fns[id].name, sizeof(d->fns[id].name));
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (ids[i] >= b->nfns)
			continue; /* never published: nothing recorded */
		const struct stats_func *fa = a && ids[i] < a->nfns ? &a->fns[ids[i]] : NULL;
		rc = delta_fn(v, b, fa, ah, ids[i], d, hist, err, errlen);
	}
	free(hist);
	if (rc == 0)
		rc = stats_sites_delta(a, b, d);
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (rc)
		stats_snapshot_free(d);
	return rc;
}
