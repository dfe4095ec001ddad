/* statsagg: the sums over shards, the TSC rate and the percentiles — what every
 * report of a stats file is computed from. See statsread.h.
 *
 * Loads from the mapping are relaxed atomics: 8-byte aligned loads that are never
 * torn and that the compiler may not merge or repeat while a writer is storing. */
#define _GNU_SOURCE /* SEEK_DATA, SEEK_HOLE */
#include "statsread.h"
#include "proc.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

/* Byte ranges of the shard region that hold data; the rest are holes (zeros). */
struct stats_extents {
	size_t n;
	struct { uint64_t lo, hi; } r[];
};

static inline uint64_t ld64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline uint32_t ld32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static const struct stats_fn *fn_at(const struct stats_view *v, uint32_t id)
{
	return (const struct stats_fn *)(v->base + v->fn_off) + id;
}

static uint64_t cell_off(const struct stats_view *v, uint32_t shard, uint32_t id)
{
	return v->shard_off + shard * v->shard_size + sizeof(struct stats_shard) +
	       (uint64_t)id * sizeof(struct stats_cell);
}

/* The data ranges of [lo, hi) of v's file, or NULL when holes cannot be told apart
 * (no descriptor, a file system without SEEK_DATA, no memory): then all is read. */
static struct stats_extents *find_extents(const struct stats_view *v, uint64_t lo, uint64_t hi)
{
	if (v->fd < 0)
		return NULL;
	size_t cap = 16;
	struct stats_extents *e = malloc(sizeof(*e) + cap * sizeof(e->r[0]));
	if (!e)
		return NULL;
	e->n = 0;
	for (uint64_t pos = lo; pos < hi;) {
		off_t d = lseek(v->fd, (off_t)pos, SEEK_DATA);
		if (d < 0 && errno == ENXIO)
			break; /* no data past pos */
		off_t h = d < 0 ? -1 : lseek(v->fd, d, SEEK_HOLE);
		if (h < 0) {
			free(e);
			return NULL;
		}
		if ((uint64_t)d >= hi)
			break;
		if (e->n == cap) {
			struct stats_extents *g = realloc(e, sizeof(*e) + 2 * cap * sizeof(e->r[0]));
			if (!g) {
				free(e);
				return NULL;
			}
			e = g;
			cap *= 2;
		}
		e->r[e->n].lo = (uint64_t)d;
		e->r[e->n].hi = (uint64_t)h < hi ? (uint64_t)h : hi;
		pos = e->r[e->n++].hi;
	}
	return e;
}

/* Whether any byte of [off, off + len) may hold data. */
static bool has_data(const struct stats_extents *e, uint64_t off, uint64_t len)
{
	if (!e)
		return true;
	size_t a = 0, b = e->n; /* the first extent ending past off */
	while (a < b) {
		size_t m = (a + b) / 2;
		if (e->r[m].hi <= off)
			a = m + 1;
		else
			b = m;
	}
	return a < e->n && e->r[a].lo < off + len;
}

/* Adds one cell's counters into f; min 0 means none. */
static void add_cell(struct stats_func *f, const struct stats_cell *c)
{
	f->entries += ld64(&c->entries);
	f->calls += ld64(&c->calls);
	f->abandoned += ld64(&c->abandoned);
	f->timed += ld64(&c->timed);
	f->sum += ld64(&c->sum);
	uint64_t mn = ld64(&c->min), mx = ld64(&c->max);
	if (mn && (f->min == 0 || mn < f->min))
		f->min = mn;
	if (mx > f->max)
		f->max = mx;
}

static void read_names(const struct stats_view *v, struct stats_snapshot *s)
{
	for (uint32_t id = 0; id < s->nfns; id++) {
		const struct stats_fn *fn = fn_at(v, id);
		struct stats_func *f = &s->fns[id];
		f->id = id;
		memcpy(f->name, fn->name, sizeof(f->name));
		f->name[sizeof(f->name) - 1] = 0;
		f->entry = ld64(&fn->entry);
	}
}

static void sum_cells(const struct stats_view *v, struct stats_snapshot *s)
{
	/* Shard by shard: a shard's cells are contiguous. */
	for (uint32_t sh = 0; sh < s->nshards; sh++)
		for (uint32_t id = 0; id < s->nfns; id++) {
			uint64_t off = cell_off(v, sh, id);
			if (has_data(s->data, off, offsetof(struct stats_cell, hist)))
				add_cell(&s->fns[id], (const struct stats_cell *)(v->base + off));
		}
	for (uint32_t id = 0; id < s->nfns; id++) {
		struct stats_func *f = &s->fns[id];
		uint64_t open = f->entries > f->calls ? f->entries - f->calls : 0;
		f->in_flight = open > f->abandoned ? open - f->abandoned : 0;
	}
}

static uint64_t mono_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The newest (tsc, ns) pair, read under its seqlock. Only a live writer is worth
 * waiting for: one killed in the middle leaves the sequence odd for good, and then
 * the rate check in tsc_rate() catches a half-written pair. */
static void read_pair(const struct stats_header *h, bool live, uint64_t *tsc, uint64_t *ns)
{
	for (int i = 0; i < (live ? 1000 : 1); i++) {
		uint32_t s1 = __atomic_load_n(&h->pair_seq, __ATOMIC_ACQUIRE);
		*tsc = ld64(&h->tsc_last);
		*ns = ld64(&h->mono_last_ns);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!(s1 & 1) && s1 == ld32(&h->pair_seq))
			return;
		if (i > 10)
			usleep(100);
	}
}

static double rate(uint64_t tsc0, uint64_t ns0, uint64_t tsc1, uint64_t ns1)
{
	if (tsc1 <= tsc0 || ns1 <= ns0)
		return 0;
	double hz = (double)(tsc1 - tsc0) * 1e9 / (double)(ns1 - ns0);
	return hz >= 1e7 && hz <= 1e11 ? hz : 0; /* else a corrupt or half-written pair */
}

/* The TSC rate, from the start pair and the newest; while the writer runs and the
 * newest pair is still too close to the start (under 50 ms: the first refresh comes
 * after a second), from the start pair and our own clock: one machine, one TSC. */
static void tsc_rate(const struct stats_header *h, struct stats_snapshot *s)
{
	uint64_t tsc0 = ld64(&h->tsc_start), ns0 = ld64(&h->mono_start_ns), tsc1, ns1;
	read_pair(h, s->alive, &tsc1, &ns1);
	if (s->flags & STATS_F_MONOTONIC) { /* the writer counted ns */
		s->tsc_hz = 1e9;
		s->elapsed_ns = s->alive && mono_now_ns() >= ns0 ? mono_now_ns() - ns0 : ns1 - ns0;
		return;
	}
	s->tsc_hz = ns1 - ns0 >= 50000000 ? rate(tsc0, ns0, tsc1, ns1) : 0;
	if (s->tsc_hz == 0 && s->alive)
		s->tsc_hz = rate(tsc0, ns0, __rdtsc(), mono_now_ns());
	if (s->tsc_hz == 0)
		s->tsc_hz = rate(tsc0, ns0, tsc1, ns1);
	if (s->alive && ns0 && mono_now_ns() >= ns0)
		s->elapsed_ns = mono_now_ns() - ns0;
	else
		s->elapsed_ns = ns1 > ns0 ? ns1 - ns0 : 0;
}

/* The writer runs on: it has not reached Go's exit, its pid is in use, and by the
 * same process (its start time, when the header has one, rules out a reused pid). */
static bool writer_alive(uint32_t pid, uint32_t flags, uint64_t start_time)
{
	if (flags & STATS_F_EXITED)
		return false;
	if (pid == (uint32_t)getpid())
		return true;
	/* pid 0 or one past INT_MAX would make kill() signal a process group. */
	if (pid == 0 || pid > 0x3fffffff)
		return false;
	if (kill((pid_t)pid, 0) != 0 && errno != EPERM)
		return false;
	return !start_time || proc_start_time((int)pid) == start_time;
}

int stats_snapshot(const struct stats_view *v, struct stats_snapshot *s)
{
	const struct stats_header *h = v->hdr;
	memset(s, 0, sizeof(*s));
	s->pid = ld32(&h->pid);
	s->flags = ld32(&h->flags);
	s->sample = ld32(&h->sample);
	memcpy(s->exe, h->exe, sizeof(s->exe));
	s->exe[sizeof(s->exe) - 1] = 0;
	memcpy(s->go_version, h->go_version, sizeof(s->go_version));
	s->go_version[sizeof(s->go_version) - 1] = 0;
	s->exit_code = ld64(&h->exit_code);
	s->lost = ld64(&h->lost);
	s->alive = writer_alive(s->pid, s->flags, ld64(&h->start_time));
	tsc_rate(h, s);
	/* nfns is published with a release store after the function's entry is written. */
	uint32_t nfns = __atomic_load_n(&h->nfns, __ATOMIC_ACQUIRE);
	uint32_t nsh = ld32(&h->nshards);
	s->nfns = nfns < v->max_fns ? nfns : v->max_fns;
	s->nshards = nsh < v->max_shards ? nsh : v->max_shards;
	s->fns = calloc(s->nfns ? s->nfns : 1, sizeof(*s->fns));
	if (!s->fns)
		return -ENOMEM;
	s->data = find_extents(v, v->shard_off, v->shard_off + s->nshards * v->shard_size);
	read_names(v, s);
	sum_cells(v, s);
	return 0;
}

void stats_snapshot_free(struct stats_snapshot *s)
{
	free(s->fns);
	free(s->data);
	memset(s, 0, sizeof(*s));
}

uint64_t stats_func_hist(const struct stats_view *v, const struct stats_snapshot *s, uint32_t id,
			 uint64_t *hist)
{
	memset(hist, 0, STATS_BUCKETS * sizeof(*hist));
	if (id >= s->nfns)
		return 0;
	for (uint32_t sh = 0; sh < s->nshards; sh++) {
		uint64_t off = cell_off(v, sh, id) + offsetof(struct stats_cell, hist);
		/* Page by page: buckets no call reached are often holes. */
		for (uint32_t b = 0; b < STATS_BUCKETS;) {
			uint64_t o = off + b * 8ull, page_end = (o | 4095) + 1;
			uint32_t k = (uint32_t)((page_end - o) / 8);
			if (k > STATS_BUCKETS - b)
				k = STATS_BUCKETS - b;
			if (has_data(s->data, o, k * 8ull)) {
				const uint64_t *p = (const uint64_t *)(v->base + o);
				for (uint32_t j = 0; j < k; j++)
					hist[b + j] += ld64(&p[j]);
			}
			b += k;
		}
	}
	uint64_t total = 0;
	for (uint32_t b = 0; b < STATS_BUCKETS; b++)
		total += hist[b];
	return total;
}

double stats_cycles_to_ns(const struct stats_snapshot *s, double cycles)
{
	return s->tsc_hz > 0 ? cycles * 1e9 / s->tsc_hz : 0;
}

double stats_bucket_mid(uint32_t b)
{
	return ((double)stats_bucket_lo(b) + (double)stats_bucket_hi(b) - 1) / 2;
}

double stats_quantile_ns(const struct stats_snapshot *s, const struct stats_func *f,
			 const uint64_t *hist, uint64_t total, double q)
{
	if (total == 0)
		return 0;
	/* The rank of the q-th value, 1-based; the epsilon keeps 0.99 * 1000 at 990. */
	double r = ceil(q * (double)total - 1e-9);
	uint64_t rank = r < 1 ? 1 : r >= (double)total ? total : (uint64_t)r;
	uint64_t cum = 0;
	uint32_t b = 0;
	for (; b < STATS_BUCKETS - 1; b++)
		if ((cum += hist[b]) >= rank)
			break;
	double c = stats_bucket_mid(b);
	if (f->min && c < (double)f->min)
		c = (double)f->min;
	if (f->max && c > (double)f->max)
		c = (double)f->max;
	return stats_cycles_to_ns(s, c);
}
