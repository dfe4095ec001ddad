/* statsagg: the sums over cells, the TSC rate and the percentiles — what every
 * report of a stats file is computed from. See statsread.h.
 *
 * Loads from the mapping are relaxed atomics: 8-byte aligned loads that are never
 * torn and that the compiler may not merge or repeat while a writer is storing. */
#include "statsread.h"
#include "proc.h"
#include "fmath.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

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

static const uint8_t *page_at(const struct stats_view *v, uint32_t i)
{
	return v->base + v->page_off + (uint64_t)i * STATS_PAGE;
}

static uint32_t page_what(const struct stats_view *v, uint32_t i)
{
	return ld32(&((const struct stats_page *)(v->base + v->dir_off))[i].what);
}

/* Adds one cell's counters into f; min 0 means none. */
static void add_cell(struct stats_func *f, const struct stats_cell *c)
{
	f->entries += ld64(&c->entries);
	f->calls += ld64(&c->calls);
	f->abandoned += ld64(&c->panicked);
	f->timed += ld64(&c->timed);
	f->sum += ld64(&c->sum);
	uint64_t mn = ld64(&c->min), mx = ld64(&c->max);
	if (mn && (f->min == 0 || mn < f->min))
		f->min = mn;
	if (mx > f->max)
		f->max = mx;
}

/* Names are copied from the name region, bounded by it and by STATS_NAME_MAX. */
static void read_names(const struct stats_view *v, struct stats_snapshot *s)
{
	for (uint32_t id = 0; id < s->nfns; id++) {
		const struct stats_fn *fn = fn_at(v, id);
		struct stats_func *f = &s->fns[id];
		f->id = id;
		f->entry = ld64(&fn->entry);
		uint64_t off = ld64(&fn->name), len = ld32(&fn->name_len);
		if (off > v->name_cap)
			off = v->name_cap;
		if (len > v->name_cap - off)
			len = v->name_cap - off;
		if (len > sizeof(f->name) - 1)
			len = sizeof(f->name) - 1;
		memcpy(f->name, v->base + v->name_off + off, len);
		f->name[len] = 0;
		f->name[strnlen(f->name, len)] = 0; /* a NUL inside ends it */
	}
}

/* Groups the CELLS pages by function group (a counting sort), and sums their cells. */
static int sum_cells(const struct stats_view *v, struct stats_snapshot *s)
{
	uint32_t ngroups = (s->nfns + STATS_CELLS_PER_PAGE - 1) / STATS_CELLS_PER_PAGE;
	s->group_start = calloc(ngroups + 2, sizeof(uint32_t));
	s->cell_pages = calloc(s->npages ? s->npages : 1, sizeof(uint32_t));
	if (!s->group_start || !s->cell_pages)
		return -ENOMEM;
	uint32_t *what = malloc((s->npages ? s->npages : 1) * sizeof(uint32_t));
	if (!what)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->npages; i++) {
		what[i] = page_what(v, i); /* read once: the counting and the filling agree */
		uint32_t k = what[i] & 0xffffffu;
		if (what[i] >> 24 == STATS_PG_CELLS && k < ngroups)
			s->group_start[k + 2]++;
	}
	for (uint32_t k = 0; k < ngroups; k++)
		s->group_start[k + 2] += s->group_start[k + 1];
	for (uint32_t i = 0; i < s->npages; i++) {
		uint32_t k = what[i] & 0xffffffu;
		if (what[i] >> 24 == STATS_PG_CELLS && k < ngroups)
			s->cell_pages[s->group_start[k + 1]++] = i;
	}
	free(what);
	for (uint32_t k = 0; k < ngroups; k++)
		for (uint32_t j = s->group_start[k]; j < s->group_start[k + 1]; j++) {
			const struct stats_cell *c = (const struct stats_cell *)page_at(v, s->cell_pages[j]);
			for (uint32_t i = 0; i < STATS_CELLS_PER_PAGE; i++)
				if (k * STATS_CELLS_PER_PAGE + i < s->nfns)
					add_cell(&s->fns[k * STATS_CELLS_PER_PAGE + i], &c[i]);
		}
	for (uint32_t id = 0; id < s->nfns; id++) {
		struct stats_func *f = &s->fns[id];
		uint64_t open = f->entries > f->calls ? f->entries - f->calls : 0;
		f->in_flight = open > f->abandoned ? open - f->abandoned : 0;
	}
	return 0;
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
	s->nspid = ld32(&h->pid);
	s->pid = v->pid_here && v->pid_here != STATS_PID_GONE ? v->pid_here : s->nspid;
	s->flags = ld32(&h->flags);
	s->sample = ld32(&h->sample);
	memcpy(s->exe, h->exe, sizeof(s->exe));
	s->exe[sizeof(s->exe) - 1] = 0;
	memcpy(s->go_version, h->go_version, sizeof(s->go_version));
	s->go_version[sizeof(s->go_version) - 1] = 0;
	s->exit_code = ld64(&h->exit_code);
	s->lost = ld64(&h->lost);
	s->unbinned = ld64(&h->unbinned);
	s->traps = ld64(&h->traps);
	s->full = s->flags & STATS_F_FULL;
	s->nthreads = ld32(&h->nthreads);
	/* A container's writer is checked by the pid golat knows it by: the header's
	 * names another process here, or none. */
	s->alive = v->pid_here != STATS_PID_GONE && writer_alive(s->pid, s->flags, ld64(&h->start_time));
	s->text_base = ld64(&h->text_base);
	s->slowest = ld32(&h->slowest);
	s->tsc_start = ld64(&h->tsc_start);
	s->real_start_ns = ld64(&h->real_start_ns);
	s->tsc_taken = s->flags & STATS_F_MONOTONIC ? mono_now_ns() : __rdtsc();
	tsc_rate(h, s);
	/* nfns and npages are published with release stores after what they cover. */
	uint32_t nfns = __atomic_load_n(&h->nfns, __ATOMIC_ACQUIRE);
	uint32_t np = __atomic_load_n(&h->npages, __ATOMIC_ACQUIRE);
	s->nfns = nfns < v->fn_cap ? nfns : v->fn_cap;
	s->npages = np < v->page_cap ? np : v->page_cap;
	/* Only pages inside the file: past its end a read is SIGBUS. A live writer
	 * lengthens it before it publishes a page. */
	uint64_t data = v->data;
	struct stat st;
	if (v->fd >= 0 && fstat(v->fd, &st) == 0 && (uint64_t)st.st_size < v->len)
		data = (uint64_t)st.st_size;
	uint64_t fit = data > v->page_off ? (data - v->page_off) / STATS_PAGE : 0;
	if (s->npages > fit)
		s->npages = (uint32_t)fit;
	s->fns = calloc(s->nfns ? s->nfns : 1, sizeof(*s->fns));
	if (!s->fns)
		return -ENOMEM;
	read_names(v, s);
	if (sum_cells(v, s) != 0 || stats_read_sites(v, s) != 0) {
		stats_snapshot_free(s);
		return -ENOMEM;
	}
	return 0;
}

void stats_snapshot_free(struct stats_snapshot *s)
{
	for (uint32_t id = 0; s->hists && id < s->nfns; id++)
		free(s->hists[id]);
	free(s->hists);
	free(s->fns);
	free(s->cell_pages);
	free(s->group_start);
	free(s->sites);
	free(s->site_start);
	memset(s, 0, sizeof(*s));
}

/* The 256-byte block 1 + id names, when it lies in a BLOCKS page read; else NULL. */
static const void *block_at(const struct stats_view *v, const struct stats_snapshot *s, uint32_t id1)
{
	if (id1 == 0)
		return NULL;
	uint32_t page = (id1 - 1) / STATS_BLOCKS_PER_PAGE;
	if (page >= s->npages || page_what(v, page) >> 24 != STATS_PG_BLOCKS)
		return NULL;
	return page_at(v, page) + (uint64_t)((id1 - 1) % STATS_BLOCKS_PER_PAGE) * STATS_BLOCK;
}

uint64_t stats_func_hist(const struct stats_view *v, const struct stats_snapshot *s, uint32_t id,
			 uint64_t *hist)
{
	memset(hist, 0, STATS_BUCKETS * sizeof(*hist));
	if (id >= s->nfns)
		return 0;
	uint64_t total = 0;
	if (s->hists) { /* a window's (statsdelta.c) */
		for (uint32_t b = 0; s->hists[id] && b < STATS_BUCKETS; b++)
			total += hist[b] = s->hists[id][b];
		return total;
	}
	uint32_t k = id / STATS_CELLS_PER_PAGE;
	for (uint32_t j = s->group_start[k]; j < s->group_start[k + 1]; j++) {
		const struct stats_cell *c =
			(const struct stats_cell *)page_at(v, s->cell_pages[j]) + id % STATS_CELLS_PER_PAGE;
		uint32_t base = __atomic_load_n(&c->base, __ATOMIC_RELAXED);
		if (base == 0 || base - 1 > STATS_OCTAVES - STATS_WIN)
			continue;
		for (uint32_t i = 0; i < STATS_WIN * STATS_SUB; i++)
			hist[(base - 1) * STATS_SUB + i] += __atomic_load_n(&c->win[i], __ATOMIC_RELAXED);
	}
	const uint32_t *tab = block_at(v, s, ld32(&fn_at(v, id)->hist));
	for (uint32_t o = 0; tab && o < STATS_OCTAVES; o++) {
		const uint64_t *oct = block_at(v, s, ld32(&tab[o]));
		for (uint32_t i = 0; oct && i < STATS_SUB; i++)
			hist[o * STATS_SUB + i] += ld64(&oct[i]);
	}
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
	double r = fm_ceil(q * (double)total - 1e-9);
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
