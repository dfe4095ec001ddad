/* The stats reader on synthetic files: sums over threads' cells, in-flight calls, the TSC
 * rate, percentiles within 2% for several distributions, every corrupt or truncated
 * header rejected with a reason, and stats_open_opts's checks and private copy. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "statsread.h"

static void sums_over_cells(void)
{
	struct fixture fx;
	struct stats_view v;
	struct stats_snapshot s;
	char err[256];
	CHECK(fixture_demo(&fx) == 0, "fixture");
	CHECK(stats_view_mem(&v, fx.buf, fx.len, err, sizeof(err)) == 0, "view: %s", err);
	CHECK(stats_snapshot(&v, &s) == 0, "snapshot");
	CHECK(s.nfns == 5 && s.npages >= 4, "nfns %u npages %u", s.nfns, s.npages);
	const struct stats_func *h = &s.fns[0];
	CHECK(strcmp(h->name, "main.handle") == 0 && h->entry == 0x6f3a20, "name %s", h->name);
	CHECK(h->calls == 1000 && h->timed == 1000 && h->entries == 1003 && h->abandoned == 1,
	      "calls %llu entries %llu", (unsigned long long)h->calls, (unsigned long long)h->entries);
	CHECK(h->in_flight == 2, "in_flight %llu", (unsigned long long)h->in_flight);
	CHECK(h->sum == 2000000000ull && h->min == 2000000 && h->max == 2000000, "sum/min/max");
	CHECK(fabs(s.tsc_hz - FIXTURE_HZ) < 1, "tsc_hz %.0f", s.tsc_hz);
	CHECK(s.elapsed_ns == FIXTURE_ELAPSED_NS && !s.alive, "elapsed %llu",
	      (unsigned long long)s.elapsed_ns);
	CHECK(s.fns[3].in_flight == 3 && s.fns[3].calls == 0, "stuck in flight");
	uint64_t hist[STATS_BUCKETS];
	uint64_t n = stats_func_hist(&v, &s, 0, hist);
	CHECK(n == 1000 && hist[stats_bucket(2000000)] == 1000, "hist total %llu", (unsigned long long)n);
	/* min == max: every percentile is the exact value, 1 ms. */
	double p = stats_quantile_ns(&s, h, hist, n, 0.99);
	CHECK(fabs(p - 1e6) < 1e-6, "p99 %.3f", p);
	CHECK(fabs(stats_cycles_to_ns(&s, (double)h->sum / (double)h->timed) - 1e6) < 1e-6, "mean");
	stats_snapshot_free(&s);
	fixture_free(&fx);
}

/* Pages past npages are not read, nor functions past nfns. */
static void page_bounds(void)
{
	struct fixture fx;
	struct stats_view v;
	struct stats_snapshot s;
	char err[256];
	CHECK(fixture_init(&fx, 4) == 0, "fixture");
	fx.no_callers = true; /* one page a thread */
	uint32_t id = fixture_fn(&fx, "main.f", 0x1000);
	for (uint32_t t = 0; t < 3; t++)
		fixture_call(&fx, t, id, 100);
	CHECK(stats_view_mem(&v, fx.buf, fx.len, err, sizeof(err)) == 0, "view: %s", err);
	CHECK(stats_snapshot(&v, &s) == 0 && s.fns[0].calls == 3 && s.npages == 3, "calls %llu pages %u",
	      (unsigned long long)s.fns[0].calls, s.npages);
	stats_snapshot_free(&s);
	fx.h->npages = 2; /* the third thread's page written but not published: ignored */
	CHECK(stats_snapshot(&v, &s) == 0 && s.fns[0].calls == 2, "calls %llu",
	      (unsigned long long)s.fns[0].calls);
	stats_snapshot_free(&s);
	fx.h->npages = 3;
	fx.h->nfns = 0; /* a function not yet published is not read */
	CHECK(stats_snapshot(&v, &s) == 0 && s.nfns == 0, "nfns 0");
	stats_snapshot_free(&s);
	fixture_free(&fx);
}

/* Durations far apart on one thread: the window takes the first ones, the shared
 * histogram the rest, and a counter that wraps past 65,535 carries there. On another
 * thread the durations move away for good, and the window follows them. */
static void window_and_shared(void)
{
	struct fixture fx;
	struct stats_view v;
	struct stats_snapshot s;
	char err[256];
	CHECK(fixture_init(&fx, 2) == 0, "fixture");
	uint32_t id = fixture_fn(&fx, "main.f", 0x1000);
	for (int i = 0; i < 70000; i++)
		fixture_call(&fx, 0, id, 1000); /* wraps its window counter once */
	for (int i = 0; i < 3000; i++)
		fixture_call(&fx, 0, id, 1000000); /* outside the window: shared */
	fixture_call(&fx, 1, id, 5);
	for (int i = 0; i < 3000; i++)
		fixture_call(&fx, 1, id, 1000000);
	CHECK(fixture_cell(&fx, 0, id)->base == stats_win_first(stats_bucket(1000) / STATS_SUB) + 1 &&
	      fixture_cell(&fx, 1, id)->base == stats_win_first(stats_bucket(1000000) / STATS_SUB) + 1,
	      "windows at %u and %u", fixture_cell(&fx, 0, id)->base, fixture_cell(&fx, 1, id)->base);
	CHECK(stats_view_mem(&v, fx.buf, fx.len, err, sizeof(err)) == 0, "view: %s", err);
	CHECK(stats_snapshot(&v, &s) == 0, "snapshot");
	uint64_t hist[STATS_BUCKETS];
	uint64_t n = stats_func_hist(&v, &s, id, hist);
	CHECK(n == 76001 && s.fns[id].calls == 76001, "total %llu calls %llu", (unsigned long long)n,
	      (unsigned long long)s.fns[id].calls);
	CHECK(hist[stats_bucket(1000)] == 70000 && hist[stats_bucket(1000000)] == 6000 && hist[5] == 1,
	      "buckets %llu %llu %llu", (unsigned long long)hist[stats_bucket(1000)],
	      (unsigned long long)hist[stats_bucket(1000000)], (unsigned long long)hist[5]);
	CHECK(s.unbinned == 0 && !s.full, "unbinned %llu", (unsigned long long)s.unbinned);
	stats_snapshot_free(&s);
	fixture_free(&fx);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double uniform(void) { return (rand() + 1.0) / (RAND_MAX + 2.0); }

/* Durations in cycles of each distribution. */
static uint64_t draw(int dist)
{
	switch (dist) {
	case 0: return 2000 + (uint64_t)(uniform() * 2e6);                     /* uniform 1us..1ms */
	case 1: return uniform() < 0.7 ? 20000 + rand() % 4000 : 2e7 + rand() % 4000000; /* bimodal */
	case 2: return 1 + (uint64_t)(-log(uniform()) * 2e5);                  /* exponential */
	default: return (uint64_t)exp(10 + 2.5 * sqrt(-2 * log(uniform())) * cos(6.2831853 * uniform()));
	}
}

/* Percentiles from the histogram against the exact order statistics of the same
 * durations: the rank is ceil(q*n), as the reader takes it. */
static void percentiles(void)
{
	static const char *names[] = { "uniform", "bimodal", "exponential", "lognormal" };
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
	enum { N = 200000 };
	uint64_t *d = malloc(N * sizeof(*d));
	srand(42);
	for (int dist = 0; dist < 4; dist++) {
		struct fixture fx;
		struct stats_view v;
		struct stats_snapshot s;
		char err[256];
		fixture_init(&fx, 2);
		uint32_t id = fixture_fn(&fx, names[dist], 0x1000);
		for (int i = 0; i < N; i++) {
			d[i] = draw(dist);
			fixture_call(&fx, (uint32_t)i % 4, id, d[i]);
		}
		qsort(d, N, sizeof(*d), cmp_u64);
		CHECK(stats_view_mem(&v, fx.buf, fx.len, err, sizeof(err)) == 0, "view: %s", err);
		stats_snapshot(&v, &s);
		uint64_t hist[STATS_BUCKETS];
		uint64_t n = stats_func_hist(&v, &s, id, hist);
		for (int k = 0; k < 4; k++) {
			double exact = (double)d[(size_t)ceil(qs[k] * N - 1e-9) - 1] * 1e9 / FIXTURE_HZ;
			double got = stats_quantile_ns(&s, &s.fns[id], hist, n, qs[k]);
			CHECK(fabs(got - exact) <= 0.02 * exact, "%s p%g: %.1f ns, exact %.1f ns", names[dist],
			      qs[k] * 100, got, exact);
		}
		stats_snapshot_free(&s);
		fixture_free(&fx);
	}
	free(d);
}

/* Header field k made corrupt; returns a word the reason must contain. */
static const char *mutate(struct stats_header *h, int k)
{
	switch (k) {
	case 0: h->magic[0] = 'X'; return "magic";
	case 1: h->version = 1; return "version";
	case 2: h->header_size = 8192; return "header size";
	case 3: h->file_size += 4096; return "truncated";
	case 4: h->fn_cap = 0; return "fn_cap";
	case 5: h->fn_cap = STATSREAD_MAX_FNS + 1; return "fn_cap";
	case 6: h->page_cap = STATSREAD_MAX_PAGES + 1; return "page_cap";
	case 7: h->name_cap = STATSREAD_MAX_NAMES + 1; return "name_cap";
	case 8: h->nfns = h->fn_cap + 1; return "room for";
	case 9: h->fn_off += 4; return "aligned";
	case 10: h->fn_off = h->file_size; return "function table";
	case 11: h->fn_off = 0; return "function table";
	case 12: h->fn_cap = STATSREAD_MAX_FNS; return "function table";
	case 13: h->npages = h->page_cap + 1; return "room for";
	case 14: h->page_off = h->dir_off & ~4095ull; return "pages";
	case 15: h->page_off = UINT64_MAX & ~4095ull; return "pages";
	case 16: h->page_cap += 1; return "pages";
	case 17: h->dir_off = h->name_off; return "directory";
	case 18: h->file_size = 0; return "function table";
	case 19: h->name_cap = h->file_size; return "names";
	case 20: h->page_off += 8; return "aligned";
	default: return NULL;
	}
}

static void corrupt_headers(void)
{
	struct fixture fx;
	struct stats_view v;
	char err[256];
	fixture_demo(&fx);
	struct stats_header good = *fx.h;
	for (int k = 0;; k++) {
		*fx.h = good;
		const char *word = mutate(fx.h, k);
		if (!word)
			break;
		err[0] = 0;
		int rc = stats_view_mem(&v, fx.buf, fx.len, err, sizeof(err));
		CHECK(rc == -EINVAL && strstr(err, word), "case %d: rc %d, reason '%s', want '%s'", k, rc,
		      err, word);
	}
	*fx.h = good;
	size_t lens[] = { 0, 100, 4095, 4096, 8192, fx.len / 2, fx.len - 1 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		err[0] = 0;
		CHECK(stats_view_mem(&v, fx.buf, lens[i], err, sizeof(err)) == -EINVAL &&
			      strstr(err, "truncated"), "length %zu: '%s'", lens[i], err);
	}
	CHECK(stats_view_mem(&v, fx.buf + 4, fx.len - 4, err, sizeof(err)) == -EINVAL, "misaligned");
	CHECK(stats_view_mem(&v, fx.buf, fx.len, err, sizeof(err)) == 0, "the good one: %s", err);
	fixture_free(&fx);
}

/* A writer killed inside its seqlock leaves pair_seq odd: the reader still returns. */
static void odd_seqlock_and_liveness(void)
{
	struct fixture fx;
	struct stats_view v;
	struct stats_snapshot s;
	char err[256];
	fixture_demo(&fx);
	fx.h->pair_seq = 7;
	stats_view_mem(&v, fx.buf, fx.len, err, sizeof(err));
	CHECK(stats_snapshot(&v, &s) == 0 && fabs(s.tsc_hz - FIXTURE_HZ) < 1, "hz %.0f", s.tsc_hz);
	stats_snapshot_free(&s);
	fx.h->flags = 0; /* not exited, but the pid is dead: killed */
	stats_snapshot(&v, &s);
	CHECK(!s.alive && s.elapsed_ns == FIXTURE_ELAPSED_NS, "killed: elapsed %llu",
	      (unsigned long long)s.elapsed_ns);
	stats_snapshot_free(&s);
	fx.h->pid = (uint32_t)getpid();
	stats_snapshot(&v, &s);
	CHECK(s.alive, "own pid alive");
	stats_snapshot_free(&s);
	fx.h->pid = 0; /* kill(0, 0) would ask about our process group */
	stats_snapshot(&v, &s);
	CHECK(!s.alive, "pid 0 is not alive");
	stats_snapshot_free(&s);
	fixture_free(&fx);
}

static void files(const char *dir)
{
	struct fixture fx;
	struct stats_view v;
	char err[512], path[512], path2[512];
	fixture_demo(&fx);
	snprintf(path, sizeof(path), "%s/golat-test-%d.stats", dir, (int)getpid());
	CHECK(fixture_write(&fx, path) == 0, "write %s", path);
	CHECK(stats_open(&v, path, err, sizeof(err)) == 0, "open: %s", err);
	struct stat st0, st1;
	stat(path, &st0);
	struct stats_snapshot s;
	CHECK(stats_snapshot(&v, &s) == 0 && s.fns[0].calls == 1000, "snapshot of the file");
	uint64_t hist[STATS_BUCKETS];
	for (uint32_t id = 0; id < s.nfns; id++)
		stats_func_hist(&v, &s, id, hist);
	stat(path, &st1);
	/* On tmpfs a read fault on a hole allocates a page: the reader must skip holes. */
	CHECK(st1.st_blocks == st0.st_blocks, "reading filled holes: %lld blocks, were %lld",
	      (long long)st1.st_blocks, (long long)st0.st_blocks);
	stats_snapshot_free(&s);
	stats_close(&v);
	/* Cut inside the pages: those past the end are not read (a read there is SIGBUS). */
	CHECK(truncate(path, (off_t)(fx.h->page_off + STATS_PAGE)) == 0, "truncate");
	CHECK(stats_open(&v, path, err, sizeof(err)) == 0, "open cut: '%s'", err);
	CHECK(stats_snapshot(&v, &s) == 0 && s.npages == 1, "pages of a cut file: %u", s.npages);
	stats_snapshot_free(&s);
	stats_close(&v);
	/* Cut before the pages: not a stats file any more. */
	CHECK(truncate(path, (off_t)fx.h->page_off / 2) == 0, "truncate");
	CHECK(stats_open(&v, path, err, sizeof(err)) == -EINVAL && strstr(err, "truncated"), "'%s'", err);
	unlink(path);
	CHECK(stats_open(&v, path, err, sizeof(err)) == -ENOENT, "missing: '%s'", err);
	CHECK(stats_open(&v, dir, err, sizeof(err)) == -EINVAL && strstr(err, "regular"), "dir: '%s'",
	      err);
	snprintf(path2, sizeof(path2), "%s/golat-test-%d.fifo", dir, (int)getpid());
	if (mkfifo(path2, 0600) == 0) {
		CHECK(stats_open(&v, path2, err, sizeof(err)) == -EINVAL, "fifo: '%s'", err);
		unlink(path2);
	}
	CHECK(stats_open_pid(&v, 999999999, err, sizeof(err)) == -ENOENT && strstr(err, "999999999"),
	      "no such pid: '%s'", err);
	fixture_free(&fx);
}

/* STATS_OPEN_OWNED refuses what a scan of a shared directory must not trust (a link, a
 * file of another mode), and STATS_OPEN_COPY reads a copy: the file truncated to nothing
 * after the open, every page is still read, where a mapping would raise SIGBUS. */
static void open_opts(const char *dir)
{
	struct fixture fx;
	struct stats_view v;
	struct stats_snapshot s;
	char err[512], path[512], link[512];
	const unsigned both = STATS_OPEN_OWNED | STATS_OPEN_COPY;
	fixture_demo(&fx);
	snprintf(path, sizeof(path), "%s/golat-test-opts-%d.stats", dir, (int)getpid());
	snprintf(link, sizeof(link), "%s/golat-test-link-%d.stats", dir, (int)getpid());
	CHECK(fixture_write(&fx, path) == 0, "write %s", path);
	CHECK(symlink(path, link) == 0, "symlink");
	CHECK(stats_open_opts(&v, link, STATS_OPEN_OWNED, err, sizeof(err)) == -ELOOP &&
	      strstr(err, "symbolic link"), "a link: '%s'", err);
	CHECK(stats_open(&v, link, err, sizeof(err)) == 0, "a link without OWNED: '%s'", err);
	stats_close(&v);
	chmod(path, 0640);
	CHECK(stats_open_opts(&v, path, STATS_OPEN_OWNED, err, sizeof(err)) == -EPERM &&
	      strstr(err, "mode 0640"), "mode 0640: '%s'", err);
	chmod(path, 0600);
	CHECK(stats_open_opts(&v, path, both, err, sizeof(err)) == 0 && v.fd == -1, "copy: '%s'", err);
	CHECK(truncate(path, 0) == 0, "truncate");
	CHECK(stats_snapshot(&v, &s) == 0 && s.nfns == 5 && s.fns[0].calls == 1000,
	      "a copy's snapshot after the file was emptied");
	uint64_t hist[STATS_BUCKETS], total = 0;
	for (uint32_t id = 0; id < s.nfns; id++)
		total += stats_func_hist(&v, &s, id, hist);
	CHECK(total == 1000 + 500 + 10, "a copy's histograms: %llu calls", (unsigned long long)total);
	stats_snapshot_free(&s);
	stats_close(&v);
	CHECK(stats_open_opts(&v, path, both, err, sizeof(err)) == -EINVAL && strstr(err, "truncated"),
	      "an empty file: '%s'", err);
	unlink(link);
	unlink(path);
	fixture_free(&fx);
}

int main(void)
{
	sums_over_cells();
	page_bounds();
	window_and_shared();
	percentiles();
	corrupt_headers();
	odd_seqlock_and_liveness();
	struct stat st;
	const char *dir = stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) == 0 ? "/dev/shm"
			  : getenv("TMPDIR")				      ? getenv("TMPDIR")
									      : "/tmp";
	files(dir);
	open_opts(dir);
	printf("%s\n", fixture_failures ? "FAILED" : "ok");
	return fixture_failures != 0;
}
