/* fixture: see fixture.h. */
#include "fixture.h"
#include "slowest.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int fixture_failures;

int fixture_init(struct fixture *fx, uint32_t max_fns)
{
	static int serial;
	memset(fx, 0, sizeof(*fx));
	if (max_fns > 4 * STATS_CELLS_PER_PAGE)
		return -1;
	char path[128], warn[256];
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(path, sizeof(path), "%s/golat-fixture-%d-%d.stats", dir, (int)getpid(), serial++);
	struct stats_geom g = { .fn_cap = max_fns, .page_cap = 64, .name_cap = 4096 };
	if (statsfile_create(&fx->sf, path, &g, warn, sizeof(warn)) != 0 || fx->sf.fd < 0)
		return -1;
	unlink(path); /* the mapping is all the tests need */
	struct stats_header *h = fx->h = fx->sf.h;
	fx->buf = (uint8_t *)h;
	fx->len = h->file_size;
	h->pid = FIXTURE_PID;
	h->flags = STATS_F_EXITED;
	h->start_time = 0;
	h->tsc_start = 1000000000000ull;
	h->mono_start_ns = 5000000000ull;
	h->tsc_last = h->tsc_start + (uint64_t)(FIXTURE_HZ * (FIXTURE_ELAPSED_NS / 1e9));
	h->mono_last_ns = h->mono_start_ns + FIXTURE_ELAPSED_NS;
	h->real_start_ns = FIXTURE_REAL_START_NS;
	h->slowest = 8;
	for (uint32_t t = 0; t < FIXTURE_THREADS; t++)
		fx->th[t].tid = 1000 + t;
	strcpy(h->exe, "./service");
	strcpy(h->go_version, "go1.22.12");
	return 0;
}

void fixture_free(struct fixture *fx)
{
	if (fx->buf) {
		munmap(fx->buf, fx->len);
		close(fx->sf.fd);
	}
	memset(fx, 0, sizeof(*fx));
}

uint32_t fixture_fn(struct fixture *fx, const char *name, uint64_t entry)
{
	uint32_t id = fx->h->nfns;
	statsfile_set_fn(&fx->sf, id, name, entry, true);
	return id;
}

struct stats_cell *fixture_cell(struct fixture *fx, uint32_t t, uint32_t id)
{
	uint32_t k = id / STATS_CELLS_PER_PAGE;
	if (!fx->pages[t][k])
		fx->pages[t][k] = statsfile_page(&fx->sf, STATS_PG_CELLS, 1000 + t, k);
	return &fx->pages[t][k][id % STATS_CELLS_PER_PAGE];
}

void fixture_call(struct fixture *fx, uint32_t t, uint32_t id, uint64_t cycles)
{
	struct stats_cell *c = fixture_cell(fx, t, id);
	c->entries++;
	c->calls++;
	c->seq++;
	statsfile_time(&fx->sf, c, id, cycles);
	struct stats_caller *e = fx->no_callers ? NULL : callers_entry(&fx->th[t], &fx->sf, id, 0x100 * (t + 1));
	if (e) {
		e->calls++;
		e->sum += cycles;
		e->self += cycles;
	}
}

/* Writes only the pages that hold a nonzero byte and the pages claimed, so the file is
 * as sparse as one the recorder filled (it reserves every page it claims). */
int fixture_write(const struct fixture *fx, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int rc = ftruncate(fd, (off_t)fx->len);
	static const uint8_t zero[4096];
	for (size_t off = 0; rc == 0 && off < fx->len; off += 4096) {
		size_t n = fx->len - off < 4096 ? fx->len - off : 4096;
		bool claimed = off >= fx->h->page_off && off < fx->h->page_off + (uint64_t)fx->h->npages * STATS_PAGE;
		if ((claimed || memcmp(fx->buf + off, zero, n) != 0) &&
		    pwrite(fd, fx->buf + off, n, (off_t)off) != (ssize_t)n)
			rc = -1;
	}
	return close(fd) == 0 ? rc : -1;
}

int fixture_demo(struct fixture *fx)
{
	if (fixture_init(fx, 8) != 0)
		return -1;
	uint32_t handle = fixture_fn(fx, "main.handle", 0x6f3a20);
	uint32_t fast = fixture_fn(fx, "main.fast", 0x401000);
	uint32_t odd = fixture_fn(fx, "main.\"odd\"\\name\n", 0x402000);
	uint32_t stuck = fixture_fn(fx, "main.stuck", 0x403000);
	fixture_fn(fx, "main.unused", 0x404000);
	static const unsigned split[3] = { 500, 300, 200 };
	for (uint32_t t = 0; t < 3; t++)
		for (unsigned i = 0; i < split[t]; i++)
			fixture_call(fx, t, handle, 2000000);
	fixture_cell(fx, 0, handle)->entries += 2;  /* in flight */
	fixture_cell(fx, 2, handle)->entries += 1;  /* unwound by a panic */
	fixture_cell(fx, 2, handle)->panicked += 1;
	for (unsigned i = 0; i < 500; i++) /* 100 ns to 10 us: 200 to 20,000 cycles */
		fixture_call(fx, i % 2, fast, 200 + (uint64_t)i * 19800 / 499);
	for (unsigned i = 0; i < 10; i++)
		fixture_call(fx, 1, odd, 4000);
	fixture_cell(fx, 3, stuck)->entries = 3;
	if (slowest_init() != 0)
		return -1;
	struct gframe f = { .tsc = fx->h->tsc_start + (uint64_t)FIXTURE_HZ, .args = { 42 } };
	uint64_t results[STATS_ARGS] = { 1 };
	slowest_offer(&fx->sf, handle, &f, 7, 0x100, 2000000, results);
	return 0;
}
