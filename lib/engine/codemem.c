/* codemem: trampoline memory within rel32 reach of a range (see codemem.h). The
 * gaps come from /proc/self/maps, read by proc.c. */
#define _GNU_SOURCE
#include "codemem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proc.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000 /* Linux 4.17; older kernels ignore it (a hint) */
#endif

#define CODEMEM_USER_TOP 0x7ffffffff000ULL /* end of the 47-bit user address space */
#define CODEMEM_ATTEMPTS 16                /* gaps tried per chunk before -ENOMEM */

static uint64_t codemem_page(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

/* ---- finding and mapping a chunk ----------------------------------------------- */

/* Lowest address the kernel lets us map (vm.mmap_min_addr). */
static uint64_t codemem_floor(void)
{
	uint64_t floor = 0x10000;
	char buf[32];
	int fd = open("/proc/sys/vm/mmap_min_addr", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t got = read(fd, buf, sizeof buf - 1);
		if (got > 0) {
			buf[got] = 0;
			floor = strtoull(buf, NULL, 10);
		}
		close(fd);
	}
	uint64_t page = codemem_page();
	return (floor + page - 1) & ~(page - 1);
}

struct codemem_pick {
	uint64_t base;
	bool below;     /* entirely below the range: preferred */
	uint64_t score; /* smaller is better */
	bool found;
};

static bool codemem_tried(const uint64_t *tried, size_t ntried, uint64_t base)
{
	for (size_t i = 0; i < ntried; i++)
		if (tried[i] == base)
			return true;
	return false;
}

/* Considers [glo, ghi), a free part of a gap, for a chunk of size bytes: the chunk
 * goes at its top, within reach (nearest the range when below it; farthest from the
 * brk heap, which grows up from the end of bss, when above it). */
static void codemem_consider(const struct codemem *cm, uint64_t glo, uint64_t ghi, size_t size,
			     const uint64_t *tried, size_t ntried, struct codemem_pick *best)
{
	uint64_t lo = glo > cm->reach_lo ? glo : cm->reach_lo;
	uint64_t hi = ghi < cm->reach_hi ? ghi : cm->reach_hi;
	if (hi <= lo || hi - lo < size)
		return;
	uint64_t base = (hi - size) & ~(codemem_page() - 1);
	if (base < lo || codemem_tried(tried, ntried, base))
		return;
	struct codemem_pick p = { .base = base, .below = base + size <= cm->lo, .found = true };
	p.score = p.below ? cm->lo - (base + size) : UINT64_MAX - base;
	if (!best->found || (p.below && !best->below) ||
	    (p.below == best->below && p.score < best->score))
		*best = p;
}

/* A gap may hold the range itself when the range is not (all) mapped: its parts
 * below and above the range are considered apart. */
static void codemem_consider_gap(const struct codemem *cm, uint64_t glo, uint64_t ghi,
				 size_t size, const uint64_t *tried, size_t ntried,
				 struct codemem_pick *best)
{
	if (glo < cm->lo)
		codemem_consider(cm, glo, ghi < cm->lo ? ghi : cm->lo, size, tried, ntried, best);
	if (ghi > cm->hi)
		codemem_consider(cm, glo > cm->hi ? glo : cm->hi, ghi, size, tried, ntried, best);
}

static struct codemem_pick codemem_choose(const struct codemem *cm, const struct proc_vma *v,
					  size_t nv, size_t size, const uint64_t *tried,
					  size_t ntried)
{
	struct codemem_pick best = { 0 };
	uint64_t prev = codemem_floor();
	for (size_t i = 0; i <= nv; i++) {
		uint64_t next = i < nv ? v[i].lo : CODEMEM_USER_TOP;
		if (next > prev)
			codemem_consider_gap(cm, prev, next, size, tried, ntried, &best);
		if (i < nv && v[i].hi > prev)
			prev = v[i].hi;
	}
	return best;
}

/* Maps a fresh read-write chunk of size bytes at a free place within reach. */
static int codemem_map(struct codemem *cm, size_t size, uint64_t *out, char *reason, size_t n)
{
	uint64_t tried[CODEMEM_ATTEMPTS];
	size_t ntried = 0;
	while (ntried < CODEMEM_ATTEMPTS) {
		struct proc_vma *v;
		size_t nv;
		int err = proc_maps_of(cm->remote ? cm->remote->pid : 0, &v, &nv, reason, n);
		if (err)
			return err;
		struct codemem_pick pick = codemem_choose(cm, v, nv, size, tried, ntried);
		free(v);
		if (!pick.found)
			break;
		tried[ntried++] = pick.base;
		if (cm->remote) {
			err = cm->remote->map(cm->remote->ctx, pick.base, size);
			if (err == -EEXIST)
				continue;
			if (err) {
				snprintf(reason, n, "cannot map %zu KiB of code memory in pid %d: %s", size / 1024,
					 cm->remote->pid, strerror(-err));
				return err;
			}
			*out = pick.base;
			return 0;
		}
		void *want = (void *)(uintptr_t)pick.base;
		void *p = mmap(want, size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED)
			continue; /* EEXIST: someone mapped it since we read the maps */
		if (p != want) {
			munmap(p, size); /* a kernel that took the flag as a hint: ours to drop */
			continue;
		}
		*out = pick.base;
		return 0;
	}
	snprintf(reason, n, "no free gap of %zu KiB within reach of [0x%llx, 0x%llx) (%zu tried)",
		 size / 1024, (unsigned long long)cm->lo, (unsigned long long)cm->hi, ntried);
	return -ENOMEM;
}

/* ---- the allocator ------------------------------------------------------------------ */

int codemem_init(struct codemem *cm, uint64_t lo, uint64_t hi, size_t chunk_size, char *reason,
		 size_t n)
{
	memset(cm, 0, sizeof *cm);
	if (lo >= hi || hi - lo >= CODEMEM_REACH || hi > CODEMEM_USER_TOP) {
		snprintf(reason, n, "range [0x%llx, 0x%llx) is empty or wider than rel32 reach",
			 (unsigned long long)lo, (unsigned long long)hi);
		return -EINVAL;
	}
	uint64_t page = codemem_page();
	cm->lo = lo;
	cm->hi = hi;
	cm->reach_lo = hi > CODEMEM_REACH ? hi - CODEMEM_REACH : 0;
	cm->reach_hi = lo + CODEMEM_REACH < CODEMEM_USER_TOP ? lo + CODEMEM_REACH : CODEMEM_USER_TOP;
	cm->chunk_size = chunk_size ? chunk_size : CODEMEM_CHUNK_DEFAULT;
	cm->chunk_size = (cm->chunk_size + page - 1) & ~(page - 1);
	return 0;
}

int codemem_init_remote(struct codemem *cm, const struct codemem_remote *remote, uint64_t lo, uint64_t hi,
			size_t chunk_size, char *reason, size_t n)
{
	int rc = codemem_init(cm, lo, hi, chunk_size, reason, n);
	cm->remote = remote;
	return rc;
}

uint64_t codemem_addr(const struct codemem *cm, const void *p)
{
	const uint8_t *q = p;
	for (size_t i = cm->nchunks; i-- > 0;) {
		const struct codemem_chunk *c = &cm->chunks[i];
		if (q >= c->local && q < c->local + c->size)
			return c->base + (uint64_t)(q - c->local);
	}
	return (uint64_t)(uintptr_t)p;
}

static int codemem_new_chunk(struct codemem *cm, size_t len, char *reason, size_t n)
{
	uint64_t page = codemem_page();
	size_t size = (cm->mapped / 4 + page - 1) & ~(page - 1);
	size = size > CODEMEM_CHUNK_MAX ? CODEMEM_CHUNK_MAX : size;
	size = size < cm->chunk_size ? cm->chunk_size : size;
	size = len > size ? (len + page - 1) & ~(page - 1) : size;
	if (cm->nchunks == cm->cap) {
		size_t cap = cm->cap ? cm->cap * 2 : 8;
		struct codemem_chunk *c = realloc(cm->chunks, cap * sizeof *c);
		if (!c) {
			snprintf(reason, n, "out of memory for the chunk list");
			return -ENOMEM;
		}
		cm->chunks = c;
		cm->cap = cap;
	}
	uint64_t base;
	uint8_t *local = NULL;
	if (cm->remote && !(local = calloc(1, size))) {
		snprintf(reason, n, "out of memory for a copy of %zu KiB of code memory", size / 1024);
		return -ENOMEM;
	}
	int err = codemem_map(cm, size, &base, reason, n);
	if (err) {
		free(local);
		return err;
	}
	cm->chunks[cm->nchunks++] = (struct codemem_chunk){ .base = base, .size = size,
							     .local = local ? local : (uint8_t *)(uintptr_t)base };
	cm->mapped += size;
	return 0;
}

int codemem_alloc(struct codemem *cm, size_t len, size_t align, void **out, char *reason,
		  size_t n)
{
	if (len == 0 || align == 0 || (align & (align - 1)) || align > codemem_page() ||
	    len > CODEMEM_REACH / 2) {
		snprintf(reason, n, "bad trampoline request: %zu bytes aligned to %zu", len, align);
		return -EINVAL;
	}
	struct codemem_chunk *c = cm->nchunks ? &cm->chunks[cm->nchunks - 1] : NULL;
	size_t off = c ? (c->used + align - 1) & ~(align - 1) : 0;
	if (!c || c->sealed || off + len > c->size) {
		int err = codemem_new_chunk(cm, len, reason, n);
		if (err)
			return err;
		c = &cm->chunks[cm->nchunks - 1];
		off = 0; /* chunks are page aligned */
	}
	c->used = off + len;
	cm->last = c->base + off;
	*out = c->local + off;
	return 0;
}

void codemem_trim(struct codemem *cm, void *p, size_t used)
{
	struct codemem_chunk *c = cm->nchunks ? &cm->chunks[cm->nchunks - 1] : NULL;
	uint64_t a = codemem_addr(cm, p);
	if (c && !c->sealed && a == cm->last && a >= c->base && a + used <= c->base + c->used)
		c->used = a + used - c->base;
}

int codemem_seal(struct codemem *cm, char *reason, size_t n)
{
	for (size_t i = 0; i < cm->nchunks; i++) {
		struct codemem_chunk *c = &cm->chunks[i];
		if (c->sealed)
			continue;
		if (cm->remote) {
			/* Mapped read-execute from the start: nothing runs there before the
			 * jumps are written, after this. */
			int rc = cm->remote->write(cm->remote->ctx, c->base, c->local, c->used);
			if (rc) {
				snprintf(reason, n, "cannot write trampolines at 0x%llx in pid %d: %s",
					 (unsigned long long)c->base, cm->remote->pid, strerror(-rc));
				return rc;
			}
			c->sealed = true;
			continue;
		}
		if (mprotect((void *)(uintptr_t)c->base, c->size, PROT_READ | PROT_EXEC) != 0) {
			int e = errno;
			snprintf(reason, n, "cannot seal trampolines at 0x%llx: %s",
				 (unsigned long long)c->base, strerror(e));
			return -e;
		}
		c->sealed = true;
	}
	/* The writes above were ordinary stores on this thread; a core that runs them
	 * later fetches them fresh: no other core has executed this memory yet. */
	return 0;
}

bool codemem_owns(const struct codemem *cm, uint64_t addr, size_t len)
{
	for (size_t i = 0; i < cm->nchunks; i++) {
		const struct codemem_chunk *c = &cm->chunks[i];
		if (addr >= c->base && addr + len <= c->base + c->size && addr + len >= addr)
			return true;
	}
	return false;
}

bool codemem_reaches(const struct codemem *cm, uint64_t addr, size_t len)
{
	return addr >= cm->reach_lo && addr + len <= cm->reach_hi && addr + len >= addr;
}

void codemem_fini(struct codemem *cm)
{
	for (size_t i = 0; cm->remote && i < cm->nchunks; i++)
		free(cm->chunks[i].local);
	free(cm->chunks);
	cm->chunks = NULL;
	cm->nchunks = cm->cap = 0;
}
