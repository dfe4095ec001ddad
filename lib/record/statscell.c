/* statscell: the part of the stats file's writer that the recorder calls while the
 * program runs — reserving space, claiming cell and block pages, and putting a timed
 * duration in a cell's window or in the function's shared histogram. Compiled like
 * the recorder (-mgeneral-regs-only, no sanitizer): it runs on the recorder's stack
 * with only the general registers saved, so it calls nothing that may touch a vector
 * register (no memcpy or memset: loops the compiler keeps scalar), and no libc at all
 * (system calls: sys.h), for golat-agent.so has none. See statsfile.h. */
#include "statsfile.h"
#include "spin.h"
#include "sys.h"

#define DIR_PER_PAGE (STATS_PAGE / sizeof(struct stats_page))

static struct stats_fn *fn_rec(const struct statsfile *sf, uint32_t id)
{
	return (struct stats_fn *)((char *)sf->h + sf->h->fn_off) + id;
}

/* Makes [off, off + len) of the file (or of the anonymous mapping) real memory, so
 * that writing it can never fault. The first failure marks the file full for good:
 * later claims fail without a system call. */
int statsfile_reserve(struct statsfile *sf, uint64_t off, uint64_t len)
{
	if (__atomic_load_n(&sf->full_errno, __ATOMIC_RELAXED))
		return -SYS_ENOSPC;
	long rc = 0;
	if (sf->fd >= 0) {
		do
			rc = sys_fallocate(sf->fd, 0, off, len);
		while (rc == -SYS_EINTR);
		if (rc == -SYS_EOPNOTSUPP) {
			/* A file system without fallocate: writing the zeros allocates. */
			static const uint8_t zero[STATS_PAGE];
			rc = 0;
			for (uint64_t o = off; rc == 0 && o < off + len; o += STATS_PAGE) {
				uint64_t k = off + len - o < STATS_PAGE ? off + len - o : STATS_PAGE;
				long w = sys_pwrite64(sf->fd, zero, k, o);
				if (w != (long)k)
					rc = w < 0 ? w : -SYS_ENOSPC;
			}
		}
	} else {
		rc = sys_madvise((char *)sf->h + off, len, SYS_MADV_POPULATE_WRITE);
		if (rc == -SYS_EINVAL)
			rc = 0; /* a kernel before 5.14; anonymous memory cannot SIGBUS anyway */
	}
	if (rc == 0)
		return 0;
	int e = (int)-rc, zero = 0;
	if (__atomic_compare_exchange_n(&sf->full_errno, &zero, e, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED) &&
	    sf->header_ok) /* never a write to an unreserved header */
		__atomic_fetch_or(&sf->h->flags, STATS_F_FULL, __ATOMIC_RELEASE);
	return -SYS_ENOSPC;
}

/* Makes the file at least `end` bytes long, a MiB at a time (lock held). */
static int lengthen(struct statsfile *sf, uint64_t end)
{
	if (sf->fd < 0 || end <= sf->length)
		return 0;
	uint64_t to = (end + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
	if (to > sf->h->file_size)
		to = sf->h->file_size;
	if (sys_ftruncate(sf->fd, to) != 0)
		return -1;
	sf->length = to;
	return 0;
}

/* Claims the next page (lock held): the file lengthened, its directory entry's page
 * and the page itself reserved, the entry written, then npages published. UINT32_MAX
 * when none. */
static uint32_t claim_page(struct statsfile *sf, enum stats_page_kind kind, uint32_t owner, uint32_t index)
{
	struct stats_header *h = sf->h;
	uint32_t i = h->npages;
	if (i >= h->page_cap || lengthen(sf, h->page_off + (uint64_t)(i + 1) * STATS_PAGE))
		return UINT32_MAX;
	if (i % DIR_PER_PAGE == 0 && statsfile_reserve(sf, h->dir_off + (uint64_t)i * sizeof(struct stats_page), STATS_PAGE))
		return UINT32_MAX;
	if (statsfile_reserve(sf, h->page_off + (uint64_t)i * STATS_PAGE, STATS_PAGE))
		return UINT32_MAX;
	struct stats_page *d = (struct stats_page *)((char *)h + h->dir_off) + i;
	d->owner = owner;
	d->what = (uint32_t)kind << 24 | (index & 0xffffffu);
	__atomic_store_n(&h->npages, i + 1, __ATOMIC_RELEASE);
	return i;
}

static uint32_t page_index(const struct statsfile *sf, const void *page)
{
	return (uint32_t)(((const char *)page - ((const char *)sf->h + sf->h->page_off)) / STATS_PAGE);
}

/* A CELLS page of group k that an exited thread gave back (lock held), or UINT32_MAX. */
static uint32_t reuse_page(struct statsfile *sf, uint32_t owner, uint32_t k)
{
	if (!sf->free_head || k >= sf->h->fn_cap / STATS_CELLS_PER_PAGE + 1 || !sf->free_head[k])
		return UINT32_MAX;
	uint32_t i = sf->free_head[k] - 1;
	sf->free_head[k] = sf->free_next[i];
	struct stats_page *d = (struct stats_page *)((char *)sf->h + sf->h->dir_off) + i;
	__atomic_store_n(&d->owner, owner, __ATOMIC_RELAXED);
	return i;
}

void statsfile_page_free(struct statsfile *sf, void *page, uint32_t k)
{
	struct stats_header *h = sf->h;
	spin_lock(&sf->lock);
	if (!sf->free_head) {
		uint64_t groups = h->fn_cap / STATS_CELLS_PER_PAGE + 1;
		long a = sys_mmap(0, groups * 4, SYS_PROT_READ | SYS_PROT_WRITE, SYS_MAP_PRIVATE | SYS_MAP_ANONYMOUS, -1, 0);
		long b = sys_mmap(0, (uint64_t)h->page_cap * 4, SYS_PROT_READ | SYS_PROT_WRITE,
				  SYS_MAP_PRIVATE | SYS_MAP_ANONYMOUS, -1, 0);
		if (!sys_failed(a) && !sys_failed(b)) {
			sf->free_head = (uint32_t *)a;
			sf->free_next = (uint32_t *)b;
		} else {
			if (!sys_failed(a))
				sys_munmap((void *)a, groups * 4);
			if (!sys_failed(b))
				sys_munmap((void *)b, (uint64_t)h->page_cap * 4);
		}
	}
	uint32_t i = page_index(sf, page);
	if (sf->free_head && i < h->page_cap) {
		sf->free_next[i] = sf->free_head[k];
		sf->free_head[k] = i + 1;
	}
	spin_unlock(&sf->lock);
}

void *statsfile_page(struct statsfile *sf, enum stats_page_kind kind, uint32_t owner, uint32_t index)
{
	spin_lock(&sf->lock);
	uint32_t i = kind == STATS_PG_CELLS ? reuse_page(sf, owner, index) : UINT32_MAX;
	if (i == UINT32_MAX)
		i = claim_page(sf, kind, owner, index);
	spin_unlock(&sf->lock);
	return i == UINT32_MAX ? NULL : (char *)sf->h + sf->h->page_off + (uint64_t)i * STATS_PAGE;
}

void *statsfile_pages(struct statsfile *sf, enum stats_page_kind kind, uint32_t owner, uint32_t count)
{
	spin_lock(&sf->lock);
	uint32_t first = claim_page(sf, kind, owner, 0), i = first;
	for (uint32_t k = 1; k < count && i != UINT32_MAX; k++)
		i = claim_page(sf, kind, owner, k);
	spin_unlock(&sf->lock);
	/* Pages claimed before a failure stay in the file, empty: readers skip them. */
	return i == UINT32_MAX ? NULL : (char *)sf->h + sf->h->page_off + (uint64_t)first * STATS_PAGE;
}

/* Cuts `count` consecutive pieces of a page of `kind` (per_page pieces a page; lock
 * held), a new page when the current one (*page, with *next cut) has too few left:
 * 1 + the first piece's index over the page region, or 0 when there is no space. */
static uint32_t cut(struct statsfile *sf, enum stats_page_kind kind, uint32_t *page, uint32_t *next,
		    uint32_t per_page, uint32_t count)
{
	if (*next + count > per_page) {
		uint32_t p = claim_page(sf, kind, 0, 0);
		if (p == UINT32_MAX)
			return 0;
		*page = p;
		*next = 0;
	}
	uint32_t id = 1 + *page * per_page + *next;
	*next += count;
	return id;
}

/* A new zeroed 256-byte block: 1 + its id, or 0 when there is no space. */
static uint32_t claim_block(struct statsfile *sf)
{
	spin_lock(&sf->lock);
	uint32_t id = cut(sf, STATS_PG_BLOCKS, &sf->blk_page, &sf->blk_next, STATS_BLOCKS_PER_PAGE, 1);
	spin_unlock(&sf->lock);
	return id;
}

struct stats_slow *statsfile_slow(struct statsfile *sf, uint32_t fn)
{
	struct stats_header *h = sf->h;
	uint32_t n = h->slowest;
	if (fn >= __atomic_load_n(&h->nfns, __ATOMIC_ACQUIRE) || n == 0 || n > STATS_SLOWEST_MAX)
		return NULL;
	uint32_t *slot = &fn_rec(sf, fn)->slow, id = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!id) {
		spin_lock(&sf->lock);
		if (!(id = *slot)) {
			id = cut(sf, STATS_PG_SLOW, &sf->slow_page, &sf->slow_next, STATS_SLOW_PER_PAGE, n);
			__atomic_store_n(slot, id, __ATOMIC_RELEASE);
		}
		spin_unlock(&sf->lock);
	}
	return id ? (struct stats_slow *)((char *)h + h->page_off) + (id - 1) : NULL;
}

static void *block(const struct statsfile *sf, uint32_t id1)
{
	return (char *)sf->h + sf->h->page_off + (uint64_t)(id1 - 1) * STATS_BLOCK;
}

/* *slot, made from a new block when 0. A block lost to a race costs 256 bytes. */
static uint32_t block_at(struct statsfile *sf, uint32_t *slot)
{
	uint32_t id = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (id)
		return id;
	uint32_t mine = claim_block(sf);
	if (!mine)
		return 0;
	if (__atomic_compare_exchange_n(slot, &id, mine, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return mine;
	return id;
}

uint64_t *statsfile_octave(struct statsfile *sf, uint32_t fn, uint32_t o)
{
	if (fn >= __atomic_load_n(&sf->h->nfns, __ATOMIC_ACQUIRE) || o >= STATS_OCTAVES)
		return NULL;
	uint32_t tab = block_at(sf, &fn_rec(sf, fn)->hist);
	if (!tab)
		return NULL;
	uint32_t oct = block_at(sf, (uint32_t *)block(sf, tab) + o);
	return oct ? block(sf, oct) : NULL;
}

/* Adds v to bucket b of fn's shared histogram. */
static void shared_add(struct statsfile *sf, uint32_t fn, uint32_t b, uint64_t v)
{
	uint64_t *oct = statsfile_octave(sf, fn, b / STATS_SUB);
	if (oct)
		__atomic_fetch_add(&oct[b % STATS_SUB], v, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&sf->h->unbinned, v, __ATOMIC_RELAXED);
}

/* Moves the window's counts to the shared histogram and places it anew at octave o:
 * the function's durations on this thread have moved away from where they started. */
static void move_window(struct statsfile *sf, struct stats_cell *c, uint32_t fn, uint32_t o)
{
	uint32_t first = c->base - 1u;
	for (uint32_t i = 0; i < STATS_WIN * STATS_SUB; i++)
		if (c->win[i]) {
			shared_add(sf, fn, first * STATS_SUB + i, c->win[i]);
			c->win[i] = 0;
		}
	c->base = (uint8_t)(stats_win_first(o) + 1);
}

void statsfile_time(struct statsfile *sf, struct stats_cell *c, uint32_t fn, uint64_t d)
{
	c->timed++;
	c->sum += d;
	if (d > c->max)
		c->max = d;
	if (c->min == 0 || d < c->min)
		c->min = d;
	uint32_t b = stats_bucket(d), o = b / STATS_SUB;
	if (__builtin_expect(c->base == 0, 0))
		c->base = (uint8_t)(stats_win_first(o) + 1);
	uint32_t w = o - (c->base - 1u);
	if (__builtin_expect(w < STATS_WIN, 1)) {
		if (__builtin_expect(++c->win[w * STATS_SUB + b % STATS_SUB] == 0, 0))
			shared_add(sf, fn, b, 1u << 16); /* the counter wrapped */
		return;
	}
	shared_add(sf, fn, b, 1);
	/* Every 1024 durations outside the window, move the window where they fall if
	 * they now outnumber those inside it. */
	if (++c->spills < 1024)
		return;
	c->spills = 0;
	uint32_t in = 0;
	for (uint32_t i = 0; i < STATS_WIN * STATS_SUB; i++)
		in += c->win[i];
	if (in < 1024)
		move_window(sf, c, fn, o);
}

bool statsfile_full(const struct statsfile *sf, int *err)
{
	int e = __atomic_load_n(&sf->full_errno, __ATOMIC_RELAXED);
	if (err)
		*err = e;
	return e != 0;
}

