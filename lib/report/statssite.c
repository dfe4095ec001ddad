/* statssite: the reader side of the caller tables (CALLERS pages) and of the slowest
 * calls (SLOW records): per function, its calls by call site with their time and
 * self time, and its slowest calls. See statsread.h.
 *
 * A caller table may be any thread's, live, and the file anyone's: an entry whose
 * function id is not published is skipped, a slowest record is read whole under its
 * sequence count (or not at all), and nothing is read outside the pages counted. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "statsread.h"

static inline uint64_t ld64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static uint32_t page_kind(const struct stats_view *v, uint32_t i)
{
	return __atomic_load_n(&((const struct stats_page *)(v->base + v->dir_off))[i].what,
			       __ATOMIC_RELAXED) >> 24;
}

static int by_fn_site(const void *a, const void *b)
{
	const struct stats_site *x = a, *y = b;
	if (x->fn != y->fn)
		return x->fn < y->fn ? -1 : 1;
	return x->site < y->site ? -1 : x->site > y->site;
}

/* Every used entry of every CALLERS page (appended to *out, *n of *cap). */
static int collect(const struct stats_view *v, const struct stats_snapshot *s, struct stats_site **out,
		   size_t *n, size_t *cap)
{
	for (uint32_t p = 0; p < s->npages; p++) {
		if (page_kind(v, p) != STATS_PG_CALLERS)
			continue;
		const struct stats_caller *e = (const void *)(v->base + v->page_off + (uint64_t)p * STATS_PAGE);
		for (size_t i = 0; i < STATS_CALLERS_PER_PAGE; i++) {
			uint64_t key = __atomic_load_n(&e[i].key, __ATOMIC_ACQUIRE);
			uint32_t fn1 = (uint32_t)key;
			if (fn1 == 0 || fn1 > s->nfns)
				continue;
			if (*n == *cap) {
				size_t c = *cap ? *cap * 2 : 1024;
				struct stats_site *m = realloc(*out, c * sizeof(*m));
				if (!m)
					return -ENOMEM;
				*out = m;
				*cap = c;
			}
			(*out)[(*n)++] = (struct stats_site){ fn1 - 1, (uint32_t)(key >> 32), ld64(&e[i].calls),
							      ld64(&e[i].sum), ld64(&e[i].self) };
		}
	}
	return 0;
}

/* Sorts and merges equal (fn, site) pairs, then indexes them by function. */
static int index_sites(struct stats_snapshot *s, struct stats_site *a, size_t n)
{
	if (n)
		qsort(a, n, sizeof(*a), by_fn_site);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m && a[m - 1].fn == a[i].fn && a[m - 1].site == a[i].site) {
			a[m - 1].calls += a[i].calls;
			a[m - 1].sum += a[i].sum;
			a[m - 1].self += a[i].self;
		} else {
			a[m++] = a[i];
		}
	}
	s->sites = a;
	s->nsites = (uint32_t)m;
	s->site_start = calloc((size_t)s->nfns + 1, sizeof(uint32_t));
	if (!s->site_start)
		return -ENOMEM;
	for (size_t i = 0; i < m; i++)
		s->site_start[a[i].fn + 1]++;
	for (uint32_t id = 0; id < s->nfns; id++)
		s->site_start[id + 1] += s->site_start[id];
	return 0;
}

int stats_read_sites(const struct stats_view *v, struct stats_snapshot *s)
{
	struct stats_site *a = NULL;
	size_t n = 0, cap = 0;
	int rc = collect(v, s, &a, &n, &cap);
	if (rc == 0)
		rc = index_sites(s, a, n);
	else
		free(a);
	for (uint32_t i = 0; rc == 0 && i < s->nsites; i++)
		s->fns[s->sites[i].fn].self += s->sites[i].self;
	return rc;
}

int stats_sites_delta(const struct stats_snapshot *a, const struct stats_snapshot *b, struct stats_snapshot *d)
{
	struct stats_site *out = malloc((b->nsites ? b->nsites : 1) * sizeof(*out));
	if (!out)
		return -ENOMEM;
	size_t n = 0, j = 0;
	for (uint32_t i = 0; i < b->nsites; i++) {
		struct stats_site x = b->sites[i];
		if (x.fn >= d->nfns || !d->fns[x.fn].calls)
			continue; /* not a function of the window */
		while (a && j < a->nsites && by_fn_site(&a->sites[j], &x) < 0)
			j++;
		if (a && j < a->nsites && by_fn_site(&a->sites[j], &x) == 0) {
			const struct stats_site *y = &a->sites[j];
			x.calls -= y->calls < x.calls ? y->calls : x.calls;
			x.sum -= y->sum < x.sum ? y->sum : x.sum;
			x.self -= y->self < x.self ? y->self : x.self;
		}
		if (x.calls)
			out[n++] = x;
	}
	int rc = index_sites(d, out, n);
	for (uint32_t id = 0; rc == 0 && id < d->nfns; id++)
		d->fns[id].self = 0;
	for (uint32_t i = 0; rc == 0 && i < d->nsites; i++)
		d->fns[d->sites[i].fn].self += d->sites[i].self;
	return rc;
}

/* Record r read whole into *out: false when a writer kept changing it. */
static bool read_slow(const struct stats_slow *r, struct stats_slow *out)
{
	for (int tries = 0; tries < 100; tries++) {
		uint32_t s1 = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);
		if (s1 & 1)
			continue;
		const volatile uint64_t *from = (const volatile uint64_t *)r;
		uint64_t *to = (uint64_t *)out;
		for (size_t i = 0; i < sizeof(*r) / 8; i++)
			to[i] = from[i];
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&r->seq, __ATOMIC_RELAXED) == s1)
			return true;
	}
	return false;
}

static int by_cycles(const void *a, const void *b)
{
	const struct stats_slow *x = a, *y = b;
	return x->cycles < y->cycles ? 1 : x->cycles > y->cycles ? -1 : 0;
}

uint32_t stats_slowest(const struct stats_view *v, const struct stats_snapshot *s, uint32_t fn,
		       struct stats_slow *out, uint32_t max)
{
	if (fn >= s->nfns || s->slowest == 0 || s->slowest > STATS_SLOWEST_MAX)
		return 0;
	const struct stats_fn *rec = (const struct stats_fn *)(v->base + v->fn_off) + fn;
	uint32_t id1 = __atomic_load_n(&rec->slow, __ATOMIC_ACQUIRE);
	uint64_t first = (uint64_t)id1 - 1, page = first / STATS_SLOW_PER_PAGE;
	if (id1 == 0 || page >= s->npages || page_kind(v, (uint32_t)page) != STATS_PG_SLOW ||
	    first % STATS_SLOW_PER_PAGE + s->slowest > STATS_SLOW_PER_PAGE)
		return 0;
	const struct stats_slow *r = (const struct stats_slow *)(v->base + v->page_off) + first;
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->slowest && n < max; i++)
		if (read_slow(&r[i], &out[n]) && out[n].cycles && out[n].tsc >= s->slow_from)
			n++;
	qsort(out, n, sizeof(*out), by_cycles);
	return n;
}

uint64_t stats_tsc_to_real_ns(const struct stats_snapshot *s, uint64_t tsc)
{
	if (!(s->tsc_hz > 0) || !s->real_start_ns)
		return 0;
	double d = ((double)tsc - (double)s->tsc_start) * 1e9 / s->tsc_hz;
	return d < -(double)s->real_start_ns ? 0 : (uint64_t)((double)s->real_start_ns + d);
}
