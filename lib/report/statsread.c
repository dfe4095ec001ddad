/* statsread: opening and validating a stats file, and finding a process's one. The
 * sums over cells are in statsagg.c. See statsread.h. */
#define _GNU_SOURCE /* SEEK_DATA, SEEK_HOLE */
#include "statsread.h"
#include "paths.h"
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* [off, off + n * size) lies inside [lo, end), computed without overflow. */
static bool region_inside(uint64_t off, uint64_t n, uint64_t size, uint64_t lo, uint64_t end)
{
	return off >= lo && off <= end && (size == 0 || n <= (end - off) / size);
}

/* The header's own fields: everything but where the regions are. */
static int check_header(const struct stats_header *h, size_t len, char *err, size_t errlen)
{
	if (memcmp(h->magic, STATS_MAGIC, sizeof(h->magic)) != 0)
		return fail(err, errlen, -EINVAL, "not a golat stats file (bad magic)");
	if (h->version != STATS_VERSION)
		return fail(err, errlen, -EINVAL, "stats file version %u; this golat reads version %d",
			    h->version, STATS_VERSION);
	if (h->header_size != STATS_HEADER_SIZE)
		return fail(err, errlen, -EINVAL, "corrupt: header size %u, expected %d",
			    h->header_size, STATS_HEADER_SIZE);
	if (h->file_size > len)
		return fail(err, errlen, -EINVAL, "truncated: %zu bytes, the header says %llu", len,
			    (unsigned long long)h->file_size);
	if (h->fn_cap == 0 || h->fn_cap > STATSREAD_MAX_FNS)
		return fail(err, errlen, -EINVAL, "corrupt: fn_cap %u (1 to %u)", h->fn_cap,
			    STATSREAD_MAX_FNS);
	if (h->page_cap > STATSREAD_MAX_PAGES)
		return fail(err, errlen, -EINVAL, "corrupt: page_cap %u (at most %u)", h->page_cap,
			    STATSREAD_MAX_PAGES);
	if (h->name_cap > STATSREAD_MAX_NAMES)
		return fail(err, errlen, -EINVAL, "corrupt: name_cap %llu (at most %llu)",
			    (unsigned long long)h->name_cap, (unsigned long long)STATSREAD_MAX_NAMES);
	if (h->nfns > h->fn_cap)
		return fail(err, errlen, -EINVAL, "corrupt: %u functions, room for %u", h->nfns, h->fn_cap);
	if (h->npages > h->page_cap)
		return fail(err, errlen, -EINVAL, "corrupt: %u pages, room for %u", h->npages, h->page_cap);
	return 0;
}

/* Where the regions are: aligned, inside the file, in order and apart. */
static int check_regions(const struct stats_header *h, char *err, size_t errlen)
{
	uint64_t end = h->file_size;
	if ((h->fn_off | h->name_off | h->dir_off) % 8 || h->page_off % STATS_PAGE)
		return fail(err, errlen, -EINVAL, "corrupt: region offsets not aligned");
	if (!region_inside(h->fn_off, h->fn_cap, sizeof(struct stats_fn), STATS_HEADER_SIZE, end))
		return fail(err, errlen, -EINVAL,
			    "corrupt: function table at %#llx (%u entries) outside the %llu-byte file",
			    (unsigned long long)h->fn_off, h->fn_cap, (unsigned long long)end);
	uint64_t fn_end = h->fn_off + (uint64_t)h->fn_cap * sizeof(struct stats_fn);
	if (!region_inside(h->name_off, h->name_cap, 1, fn_end, end))
		return fail(err, errlen, -EINVAL, "corrupt: names at %#llx outside the file or overlapping",
			    (unsigned long long)h->name_off);
	if (!region_inside(h->dir_off, h->page_cap, sizeof(struct stats_page), h->name_off + h->name_cap, end))
		return fail(err, errlen, -EINVAL, "corrupt: page directory at %#llx outside the file or overlapping",
			    (unsigned long long)h->dir_off);
	uint64_t dir_end = h->dir_off + (uint64_t)h->page_cap * sizeof(struct stats_page);
	if (!region_inside(h->page_off, h->page_cap, STATS_PAGE, dir_end, end))
		return fail(err, errlen, -EINVAL,
			    "corrupt: %u pages at %#llx outside the %llu-byte file or overlapping",
			    h->page_cap, (unsigned long long)h->page_off, (unsigned long long)end);
	return 0;
}

int stats_view_mem(struct stats_view *v, const void *base, size_t len, char *err, size_t errlen)
{
	memset(v, 0, sizeof(*v));
	v->fd = -1;
	if ((uintptr_t)base % 8)
		return fail(err, errlen, -EINVAL, "stats mapping not 8-byte aligned");
	if (len < STATS_HEADER_SIZE)
		return fail(err, errlen, -EINVAL, "truncated: %zu bytes, a stats file has a %d-byte header",
			    len, STATS_HEADER_SIZE);
	/* One copy of the header, checked: a writer (or anyone with write access) changing
	 * the mapping under us cannot change the geometry we go on to use. */
	struct stats_header h;
	memcpy(&h, base, sizeof(h));
	int rc = check_header(&h, len, err, errlen);
	if (rc == 0)
		rc = check_regions(&h, err, errlen);
	if (rc)
		return rc;
	v->base = base;
	v->len = len;
	v->data = len;
	v->hdr = base;
	v->fn_cap = h.fn_cap;
	v->page_cap = h.page_cap;
	v->fn_off = h.fn_off;
	v->name_off = h.name_off;
	v->name_cap = h.name_cap;
	v->dir_off = h.dir_off;
	v->page_off = h.page_off;
	return 0;
}

/* Opens path as flags say and checks what kind of file it is: the descriptor, or -errno
 * with err filled. */
static int open_checked(const char *path, unsigned flags, uid_t owner, struct stat *st, char *err,
			size_t errlen)
{
	/* O_NONBLOCK: a FIFO named like a stats file must not hang the reader. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY |
				    (flags & STATS_OPEN_OWNED ? O_NOFOLLOW : 0));
	if (fd < 0) {
		int e = errno;
		return fail(err, errlen, -e, "%s: %s", path,
			    e == ELOOP && flags & STATS_OPEN_OWNED ? "a symbolic link" : strerror(e));
	}
	int rc = 0;
	if (fstat(fd, st) != 0)
		rc = fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(st->st_mode))
		rc = fail(err, errlen, -EINVAL, "%s: not a regular file", path);
	else if (flags & STATS_OPEN_OWNED && st->st_uid != owner)
		rc = fail(err, errlen, -EPERM, "%s: owned by uid %u, not %s %u", path, (unsigned)st->st_uid,
			  owner == geteuid() ? "this user's" : "its writer's", (unsigned)owner);
	else if (flags & STATS_OPEN_OWNED && (st->st_mode & 07777) != 0600)
		rc = fail(err, errlen, -EPERM, "%s: mode %04o, a stats file has 0600", path,
			  (unsigned)(st->st_mode & 07777));
	else if (st->st_size < STATS_HEADER_SIZE)
		rc = fail(err, errlen, -EINVAL, "%s: truncated: %lld bytes, a stats file has a %d-byte header",
			  path, (long long)st->st_size, STATS_HEADER_SIZE);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

/* Copies [off, end) of fd into p + off; returns where the file ended (a short read:
 * truncated under us) or end. */
static uint64_t copy_range(int fd, uint8_t *p, uint64_t off, uint64_t end)
{
	while (off < end) {
		ssize_t k = pread(fd, p + off, end - off, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return off;
		off += (uint64_t)k;
	}
	return end;
}

/* A private copy of the file's first `size` bytes in a mapping of len: returns the
 * mapping (MAP_FAILED on error) and in *got how much the file still held. Only the
 * data is read: a stats file is sparse (150 MB long for some 30 KB written), and holes
 * read as the zeros the anonymous mapping already holds. */
static void *copy_file(int fd, size_t len, uint64_t size, uint64_t *got)
{
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			  -1, 0);
	if (p == MAP_FAILED)
		return p;
	uint64_t off = 0;
	while (off < size) {
		off_t d = lseek(fd, (off_t)off, SEEK_DATA), h = d < 0 ? -1 : lseek(fd, d, SEEK_HOLE);
		if (d < 0 && errno == ENXIO)
			break; /* no data past off: the rest is a hole, or the file ends there */
		if (d < 0 || h < 0) { /* no SEEK_DATA here: read it all */
			off = copy_range(fd, p, off, size);
			break;
		}
		uint64_t end = (uint64_t)h < size ? (uint64_t)h : size;
		off = (uint64_t)d >= size ? size : copy_range(fd, p, (uint64_t)d, end);
		if (off < end)
			break; /* truncated under us */
	}
	struct stat st;
	*got = fstat(fd, &st) == 0 && (uint64_t)st.st_size < size ? (uint64_t)st.st_size : size;
	mprotect(p, len, PROT_READ);
	return p;
}

int stats_open_opts(struct stats_view *v, const char *path, unsigned flags, char *err, size_t errlen)
{
	return stats_open_owner(v, path, flags, geteuid(), err, errlen);
}

int stats_open_owner(struct stats_view *v, const char *path, unsigned flags, uid_t owner, char *err,
		     size_t errlen)
{
	memset(v, 0, sizeof(*v));
	v->fd = -1;
	struct stat st;
	int fd = open_checked(path, flags, owner, &st, err, errlen), rc;
	if (fd < 0)
		return fd;
	/* The file grows as its writer claims pages: map the whole layout the header
	 * names (validated below), and read only what lies inside the file. */
	size_t len = (size_t)st.st_size;
	uint64_t data = (uint64_t)st.st_size;
	struct stats_header hh;
	if (pread(fd, &hh, sizeof(hh), 0) == (ssize_t)sizeof(hh) && memcmp(hh.magic, STATS_MAGIC, 8) == 0 &&
	    hh.file_size > len && hh.file_size <= STATSREAD_MAX_MAP)
		len = (size_t)hh.file_size;
	void *p = flags & STATS_OPEN_COPY ? copy_file(fd, len, data, &data)
					  : mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		rc = fail(err, errlen, -errno, "%s: cannot map: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	char why[256];
	if ((rc = stats_view_mem(v, p, len, why, sizeof(why))) == 0 && v->page_off > data)
		rc = fail(why, sizeof(why), -EINVAL, "truncated: %llu bytes, the regions before the pages need %llu",
			  (unsigned long long)data, (unsigned long long)v->page_off);
	if (rc) {
		munmap(p, len);
		close(fd);
		memset(v, 0, sizeof(*v));
		v->fd = -1;
		return fail(err, errlen, rc, "%s: %s", path, why);
	}
	v->data = data;
	if ((flags & STATS_OPEN_COPY) && !(flags & STATS_OPEN_KEEP_FD)) {
		close(fd); /* the copy is all there is to read */
		fd = -1;
	}
	v->fd = fd;
	v->own = true;
	snprintf(v->path, sizeof(v->path), "%s", path);
	return 0;
}

int stats_open(struct stats_view *v, const char *path, char *err, size_t errlen)
{
	return stats_open_opts(v, path, 0, err, errlen);
}

void stats_close(struct stats_view *v)
{
	if (v->own) {
		munmap((void *)v->base, v->len);
		if (v->fd >= 0)
			close(v->fd);
	}
	memset(v, 0, sizeof(*v));
	v->fd = -1;
}

/* The GOLAT_STATS target t started with, expanded with the pid it sees itself as and
 * made reachable from here: an absolute path in its root, a relative one in its working
 * directory (/proc/PID/cwd, which the kernel resolves in its mount namespace). 0 or
 * -ENOENT. */
static int environ_stats_path(char *buf, size_t n, const struct target *t)
{
	char val[4096], rel[4096];
	if (!target_getenv(t->pid, "GOLAT_STATS", val, sizeof(val)) || !val[0] ||
	    !paths_expand(rel, sizeof(rel), val, (int)t->nspid))
		return -ENOENT;
	if (rel[0] == '/')
		return target_path(t, rel, buf, n) == 0 ? 0 : -ENOENT;
	return target_cwd_path(t, rel, buf, n) == 0 ? 0 : -ENOENT;
}

/* A process that has exited leaves its file where the default paths of its pid say:
 * the file of a killed program, read here as before containers. */
static int open_exited(struct stats_view *v, pid_t pid, char *err, size_t errlen)
{
	char tried[2][300];
	for (int d = 0; d < 2; d++) {
		if (paths_default_stats(tried[d], sizeof(tried[d]), (int)pid, d) != 0)
			tried[d][0] = 0;
		else if (access(tried[d], F_OK) == 0)
			return stats_open(v, tried[d], err, errlen);
	}
	return fail(err, errlen, -ENOENT, "no stats file for pid %d (no such process, and neither %s nor %s "
		    "exists)", (int)pid, tried[0], tried[1]);
}

int stats_open_pid(struct stats_view *v, pid_t pid, char *err, size_t errlen)
{
	char path[4200], tried[2][300], why[512], where[64];
	if (pid <= 0)
		return fail(err, errlen, -EINVAL, "bad pid %d", (int)pid);
	struct target t;
	int rc = target_open(&t, pid, why, sizeof(why));
	if (rc == -ESRCH)
		return open_exited(v, pid, err, errlen);
	if (rc)
		return fail(err, errlen, rc, "%s", why);
	if (environ_stats_path(path, sizeof(path), &t) == 0 && access(path, F_OK) == 0)
		rc = stats_open(v, path, err, errlen);
	else {
		rc = -ENOENT;
		for (int d = 0; d < 2 && rc == -ENOENT; d++)
			if (target_stats(&t, d, tried[d], path, sizeof(path)) != 0)
				tried[d][0] = 0;
			else if (access(path, F_OK) == 0)
				rc = stats_open(v, path, err, errlen);
		if (rc == -ENOENT)
			return fail(err, errlen, -ENOENT, "no stats file for pid %d%s (neither %s nor %s exists%s)",
				    (int)pid, target_where(&t, where, sizeof(where)), tried[0], tried[1],
				    t.other_mnt ? " there" : "");
	}
	/* The header says the pid the writer sees itself as: the reader's is this one. */
	if (rc == 0 && t.nspid != t.pid)
		v->pid_here = (uint32_t)pid;
	return rc;
}
