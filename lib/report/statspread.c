/* statspread: one function's histogram through pread(2) (statspread.h). */
#include "statspread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* n bytes at off, whole: false on a short read (the file ends before) or an error. */
static bool rd(int fd, void *buf, size_t n, uint64_t off)
{
	for (size_t got = 0; got < n;) {
		ssize_t k = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		got += (size_t)k;
	}
	return true;
}

int stats_hist_reader_open(struct stats_hist_reader *r, const struct stats_view *v, uint32_t id)
{
	memset(r, 0, sizeof(*r));
	r->fd = v->fd >= 0 ? fcntl(v->fd, F_DUPFD_CLOEXEC, 0) : -1;
	if (r->fd < 0)
		return v->fd >= 0 ? -errno : -EBADF;
	r->id = id;
	r->fn_cap = v->fn_cap;
	r->page_cap = v->page_cap;
	r->fn_off = v->fn_off;
	r->dir_off = v->dir_off;
	r->page_off = v->page_off;
	return 0;
}

void stats_hist_reader_close(struct stats_hist_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->cells);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

/* Reads the directory entries [dir_seen, npages) in chunks, keeping the CELLS pages
 * of the function's group. A page's entry is written before npages covers it, and
 * never changes after. */
static int read_dir(struct stats_hist_reader *r, uint32_t npages)
{
	struct stats_page chunk[512];
	uint32_t group = r->id / STATS_CELLS_PER_PAGE;
	while (r->dir_seen < npages) {
		uint32_t n = npages - r->dir_seen < 512 ? npages - r->dir_seen : 512;
		if (!rd(r->fd, chunk, n * sizeof(chunk[0]), r->dir_off + (uint64_t)r->dir_seen * sizeof(chunk[0])))
			return -ESTALE;
		for (uint32_t i = 0; i < n; i++) {
			uint32_t what = chunk[i].what;
			if (what >> 24 != STATS_PG_CELLS || (what & 0xffffffu) != group)
				continue;
			if (r->ncells == r->cap) {
				uint32_t cap = r->cap ? 2 * r->cap : 8;
				uint32_t *c = realloc(r->cells, cap * sizeof(*c));
				if (!c)
					return -ENOMEM;
				r->cells = c;
				r->cap = cap;
			}
			r->cells[r->ncells++] = r->dir_seen + i;
		}
		r->dir_seen += n;
	}
	return 0;
}

/* The 256-byte block 1 + id1 names into out, when it lies in a BLOCKS page below
 * npages: 1; 0 when it does not; -ESTALE when the file ends before it. */
static int read_block(const struct stats_hist_reader *r, uint32_t npages, uint32_t id1, void *out)
{
	if (id1 == 0)
		return 0;
	uint32_t page = (id1 - 1) / STATS_BLOCKS_PER_PAGE;
	struct stats_page p;
	if (page >= npages)
		return 0;
	if (!rd(r->fd, &p, sizeof(p), r->dir_off + (uint64_t)page * sizeof(p)))
		return -ESTALE;
	if (p.what >> 24 != STATS_PG_BLOCKS)
		return 0;
	uint64_t off = r->page_off + (uint64_t)page * STATS_PAGE + (uint64_t)((id1 - 1) % STATS_BLOCKS_PER_PAGE) * STATS_BLOCK;
	return rd(r->fd, out, STATS_BLOCK, off) ? 1 : -ESTALE;
}

int stats_hist_read(struct stats_hist_reader *r, uint64_t *hist, uint64_t *total)
{
	struct stats_header h;
	memset(hist, 0, STATS_BUCKETS * sizeof(*hist));
	*total = 0;
	if (r->fd < 0)
		return -EBADF;
	/* pread copies: each field is read once, then checked against the geometry the
	 * view validated (a header rewritten since says nothing to us). */
	if (!rd(r->fd, &h, sizeof(h), 0))
		return -ESTALE;
	uint32_t nfns = h.nfns < r->fn_cap ? h.nfns : r->fn_cap;
	uint32_t npages = h.npages < r->page_cap ? h.npages : r->page_cap;
	if (r->id >= nfns)
		return -ENOENT;
	int rc = read_dir(r, npages);
	if (rc)
		return rc;
	for (uint32_t j = 0; j < r->ncells; j++) {
		struct stats_cell c;
		uint64_t off = r->page_off + (uint64_t)r->cells[j] * STATS_PAGE +
			       (uint64_t)(r->id % STATS_CELLS_PER_PAGE) * sizeof(c);
		if (!rd(r->fd, &c, sizeof(c), off))
			return -ESTALE;
		if (c.base == 0 || c.base - 1u > STATS_OCTAVES - STATS_WIN)
			continue;
		for (uint32_t i = 0; i < STATS_WIN * STATS_SUB; i++)
			hist[(c.base - 1u) * STATS_SUB + i] += c.win[i];
	}
	struct stats_fn fn;
	if (!rd(r->fd, &fn, sizeof(fn), r->fn_off + (uint64_t)r->id * sizeof(fn)))
		return -ESTALE;
	uint32_t tab[STATS_BLOCK / sizeof(uint32_t)];
	uint64_t oct[STATS_BLOCK / sizeof(uint64_t)];
	_Static_assert(STATS_OCTAVES <= sizeof(tab) / sizeof(tab[0]) && STATS_SUB <= sizeof(oct) / sizeof(oct[0]),
		       "an octave table and an octave fit a block");
	if ((rc = read_block(r, npages, fn.hist, tab)) < 0)
		return rc;
	for (uint32_t o = 0; rc == 1 && o < STATS_OCTAVES; o++) {
		int k = read_block(r, npages, tab[o], oct);
		if (k < 0)
			return k;
		for (uint32_t i = 0; k == 1 && i < STATS_SUB; i++)
			hist[o * STATS_SUB + i] += oct[i];
	}
	for (uint32_t b = 0; b < STATS_BUCKETS; b++)
		*total += hist[b];
	return 0;
}
