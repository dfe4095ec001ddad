/* statsfile: the writer side of the stats file. See statsfile.h and stats.h. */
#include "statsfile.h"

#include "paths.h"
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEF_FN_CAP (1u << 20)
#define DEF_NAME_CAP (64ull << 20)
#define DEF_PAGE_CAP (1u << 21)

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t round_page(uint64_t v)
{
	return (v + STATS_PAGE - 1) & ~(uint64_t)(STATS_PAGE - 1);
}

/* /dev/shm when we may write there, else $TMPDIR or /tmp (paths_default_stats). */
static void default_path(char *out, size_t n, pid_t pid)
{
	struct stat st;
	int shm = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0;
	paths_default_stats(out, n, pid, shm ? 0 : 1);
}

/* Opens path for a new file (in dirfd, its last component, when dirfd >= 0),
 * replacing a stale regular file of ours or of owner's. */
static int open_new(int dirfd, const char *path, uid_t owner, char *warn, size_t n)
{
	const char *name = dirfd >= 0 && strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int at = dirfd >= 0 ? dirfd : AT_FDCWD;
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = openat(at, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		int e = errno;
		struct stat st;
		if (e == EEXIST && fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISLNK(st.st_mode)) {
				snprintf(warn, n, "%s is a symbolic link: not following it", path);
				return -ELOOP;
			}
			if (S_ISREG(st.st_mode) && (st.st_uid == geteuid() || st.st_uid == owner) &&
			    unlinkat(at, name, 0) == 0)
				continue; /* a stale file of ours (the pid's before it was reused) */
		}
		snprintf(warn, n, "cannot create %s: %s", path, strerror(e));
		return -e;
	}
	snprintf(warn, n, "cannot create %s: it keeps coming back", path);
	return -EEXIST;
}

static void set_geometry(struct stats_header *h, const struct stats_geom *g)
{
	h->fn_cap = g && g->fn_cap ? g->fn_cap : DEF_FN_CAP;
	h->page_cap = g && g->page_cap ? g->page_cap : DEF_PAGE_CAP;
	h->name_cap = round_page(g && g->name_cap ? g->name_cap : DEF_NAME_CAP);
	h->fn_off = STATS_HEADER_SIZE;
	h->name_off = round_page(h->fn_off + (uint64_t)h->fn_cap * sizeof(struct stats_fn));
	h->dir_off = h->name_off + h->name_cap;
	h->page_off = round_page(h->dir_off + (uint64_t)h->page_cap * sizeof(struct stats_page));
	h->file_size = h->page_off + (uint64_t)h->page_cap * STATS_PAGE;
}

static void init_header(struct stats_header *h, const struct stats_writer *w)
{
	char exe[64];
	memcpy(h->magic, STATS_MAGIC, 8);
	h->version = STATS_VERSION;
	h->header_size = STATS_HEADER_SIZE;
	h->pid = (uint32_t)w->nspid;
	h->sample = 1;
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	h->real_start_ns = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
	h->mono_start_ns = mono_ns();
	h->tsc_start = stats_clock(0);
	h->tsc_last = h->tsc_start;
	h->mono_last_ns = h->mono_start_ns;
	h->start_time = proc_start_time(w->pid); /* ticks since boot: the same in every PID namespace */
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)w->pid); /* as it names its executable */
	ssize_t k = readlink(exe, h->exe, sizeof(h->exe) - 1);
	h->exe[k > 0 ? k : 0] = 0;
}

/* Maps the file at sf->path with its header page reserved; -errno and warn on failure
 * (the file is gone again then). */
static int map_file(struct statsfile *sf, const struct stats_writer *w, const struct stats_header *g, char *warn,
		    size_t n)
{
	int fd = open_new(w->dirfd, sf->path, w->uid, warn, n);
	if (fd < 0)
		return fd;
	const char *what = "size";
	void *map = MAP_FAILED;
	/* The writer's, when it is another user's process: it opens the file itself (0600).
	 * Root gives it (and its group); another user cannot, and hears so now rather than
	 * from the writer that cannot open it. */
	bool give = w->uid != (uid_t)-1 && (w->uid != geteuid() || (geteuid() == 0 && w->gid != getegid()));
	/* As long as the regions before the pages, sparse: nothing allocated yet. The
	 * mapping covers the whole layout; claim_page lengthens the file before it
	 * touches a page past its end (which would be SIGBUS). */
	bool given = !give || fchown(fd, w->uid, w->gid) == 0;
	if (!given) {
		what = "give";
	} else if (ftruncate(fd, (off_t)g->page_off) == 0) {
		what = "map";
		map = mmap(NULL, g->file_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		sf->length = g->page_off;
	}
	if (map != MAP_FAILED) {
		sf->fd = fd;
		sf->h = map;
		if (statsfile_reserve(sf, 0, STATS_HEADER_SIZE) == 0)
			return 0;
		errno = sf->full_errno;
		what = "reserve space for";
		munmap(map, g->file_size);
		sf->h = NULL;
		sf->fd = -1;
		sf->full_errno = 0;
	}
	int e = errno;
	if (!given)
		snprintf(warn, n, "cannot give %s to uid %u, its writer's: %s", sf->path, (unsigned)w->uid, strerror(e));
	else
		snprintf(warn, n, "cannot %s %s: %s", what, sf->path, strerror(e));
	if (w->dirfd >= 0)
		unlinkat(w->dirfd, strrchr(sf->path, '/') ? strrchr(sf->path, '/') + 1 : sf->path, 0);
	else
		unlink(sf->path);
	close(fd);
	return -e;
}

int statsfile_create(struct statsfile *sf, const char *path, const struct stats_geom *geom,
		     char *warn, size_t n)
{
	const struct stats_writer self = { .pid = getpid(), .nspid = getpid(), .dirfd = -1, .uid = (uid_t)-1,
					   .gid = (gid_t)-1 };
	return statsfile_create_for(sf, &self, path, geom, warn, n);
}

int statsfile_create_for(struct statsfile *sf, const struct stats_writer *w, const char *path,
			 const struct stats_geom *geom, char *warn, size_t n)
{
	memset(sf, 0, sizeof(*sf));
	sf->fd = -1;
	sf->blk_next = STATS_BLOCKS_PER_PAGE;
	sf->slow_next = STATS_SLOW_PER_PAGE;
	*warn = 0;
	struct stats_header g = { 0 };
	set_geometry(&g, geom);
	sf->user_path = path != NULL;
	if (!path)
		default_path(sf->path, sizeof(sf->path), w->nspid);
	else
		snprintf(sf->path, sizeof(sf->path), "%s", path);
	if (map_file(sf, w, &g, warn, n) != 0) {
		sf->path[0] = 0;
		void *map = mmap(NULL, g.file_size, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (map == MAP_FAILED)
			return -errno;
		sf->h = map;
		if (statsfile_reserve(sf, 0, STATS_HEADER_SIZE) != 0) {
			munmap(map, g.file_size);
			sf->h = NULL;
			return -ENOMEM;
		}
	}
	sf->header_ok = true;
	memcpy(sf->h, &g, sizeof(g));
	init_header(sf->h, w);
	return 0;
}

int statsfile_reopen(struct statsfile *sf, const char *path, char *warn, size_t n)
{
	memset(sf, 0, sizeof(*sf));
	sf->fd = -1;
	sf->blk_next = STATS_BLOCKS_PER_PAGE;
	sf->slow_next = STATS_SLOW_PER_PAGE;
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	struct stats_header g;
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || pread(fd, &g, sizeof(g), 0) != (ssize_t)sizeof(g)) {
		snprintf(warn, n, "cannot open %s: %s", path, fd < 0 || errno ? strerror(errno) : "too short");
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	if (memcmp(g.magic, STATS_MAGIC, 8) != 0 || g.version != STATS_VERSION || g.file_size < (uint64_t)st.st_size) {
		snprintf(warn, n, "%s is not a stats file of this golat", path);
		close(fd);
		return -EINVAL;
	}
	void *map = mmap(NULL, g.file_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		snprintf(warn, n, "cannot map %s: %s", path, strerror(errno));
		close(fd);
		return -EIO;
	}
	sf->fd = fd;
	sf->h = map;
	sf->length = (uint64_t)st.st_size;
	sf->header_ok = true;
	sf->user_path = true; /* its writer removes it, not this one */
	snprintf(sf->path, sizeof(sf->path), "%s", path);
	return 0;
}

void statsfile_close(struct statsfile *sf)
{
	if (sf->h)
		munmap(sf->h, sf->h->file_size);
	if (sf->fd >= 0)
		close(sf->fd);
	sf->h = NULL;
	sf->fd = -1;
}

void statsfile_use_monotonic(struct statsfile *sf)
{
	struct stats_header *h = sf->h;
	h->tsc_start = h->mono_start_ns;
	__atomic_fetch_or(&h->flags, STATS_F_MONOTONIC, __ATOMIC_RELEASE);
	statsfile_pair(sf);
}

bool statsfile_sample_fits(uint32_t now, uint32_t want, char *why, size_t n)
{
	if (want == 0 || want == now)
		return true;
	char rate[48];
	snprintf(rate, sizeof(rate), now > 1 ? "1 in %u calls" : "every call", now);
	snprintf(why, n, "this process times %s of every hooked function (set by GOLAT_SAMPLE or -s "
		 "when golat first hooked it): golat has one sampling rate per process; give -s %u or no -s",
		 rate, now);
	return false;
}

static struct stats_fn *fn_rec(const struct statsfile *sf, uint32_t id)
{
	return (struct stats_fn *)((char *)sf->h + sf->h->fn_off) + id;
}

/* Reserves [region, region + need) in whole pages past what *done covers. */
static int reserve_upto(struct statsfile *sf, uint64_t region, uint64_t *done, uint64_t need)
{
	if (need <= *done)
		return 0;
	uint64_t to = round_page(need);
	if (statsfile_reserve(sf, region + *done, to - *done) != 0)
		return -ENOSPC;
	*done = to;
	return 0;
}

int statsfile_set_fn(struct statsfile *sf, uint32_t id, const char *name, uint64_t entry, bool hooked)
{
	struct stats_header *h = sf->h;
	if (id < h->nfns) {
		__atomic_store_n(&fn_rec(sf, id)->hooked, hooked ? 1u : 0u, __ATOMIC_RELEASE);
		return 0;
	}
	if (id != h->nfns || id >= h->fn_cap)
		return -E2BIG;
	size_t len = strlen(name);
	if (len >= STATS_NAME_MAX)
		len = STATS_NAME_MAX - 1;
	if (h->name_used + len + 1 > h->name_cap)
		return -E2BIG;
	if (reserve_upto(sf, h->fn_off, &sf->fn_reserved, (uint64_t)(id + 1) * sizeof(struct stats_fn)) ||
	    reserve_upto(sf, h->name_off, &sf->name_reserved, h->name_used + len + 1))
		return -ENOSPC;
	char *dst = (char *)h + h->name_off + h->name_used;
	memcpy(dst, name, len);
	if (len == STATS_NAME_MAX - 1)
		memcpy(dst + len - 3, "...", 3);
	dst[len] = 0;
	struct stats_fn *f = fn_rec(sf, id);
	f->entry = entry;
	f->name = h->name_used;
	f->name_len = (uint32_t)len;
	f->hooked = hooked ? 1u : 0u;
	h->name_used += len + 1;
	__atomic_store_n(&h->nfns, id + 1, __ATOMIC_RELEASE);
	return 0;
}

void statsfile_pair(struct statsfile *sf)
{
	struct stats_header *h = sf->h;
	__atomic_fetch_add(&h->pair_seq, 1, __ATOMIC_ACQ_REL);
	h->tsc_last = stats_clock(h->flags & STATS_F_MONOTONIC);
	h->mono_last_ns = mono_ns();
	__atomic_fetch_add(&h->pair_seq, 1, __ATOMIC_ACQ_REL);
}

void statsfile_remove(struct statsfile *sf)
{
	if (sf->path[0] && !sf->user_path)
		unlink(sf->path);
}
