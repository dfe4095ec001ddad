/* statsfile: the writer side of the stats file. See statsfile.h and stats.h. */
#include "statsfile.h"

#include "paths.h"
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* /dev/shm when we may write there, else $TMPDIR or /tmp (paths_default_stats). */
static void default_path(char *out, size_t n)
{
	struct stat st;
	int shm = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0;
	paths_default_stats(out, n, getpid(), shm ? 0 : 1);
}

/* Opens path for a new file, replacing a stale regular file of ours. */
static int open_new(const char *path, char *warn, size_t n)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		int e = errno;
		struct stat st;
		if (e == EEXIST && lstat(path, &st) == 0) {
			if (S_ISLNK(st.st_mode)) {
				snprintf(warn, n, "%s is a symbolic link: not following it", path);
				return -ELOOP;
			}
			if (S_ISREG(st.st_mode) && st.st_uid == geteuid() && unlink(path) == 0)
				continue; /* a stale file of ours */
		}
		snprintf(warn, n, "cannot create %s: %s", path, strerror(e));
		return -e;
	}
	snprintf(warn, n, "cannot create %s: it keeps coming back", path);
	return -EEXIST;
}

static void init_header(struct stats_header *h, uint64_t size, uint32_t max_fns, uint32_t max_shards)
{
	memcpy(h->magic, STATS_MAGIC, 8);
	h->version = STATS_VERSION;
	h->header_size = STATS_HEADER_SIZE;
	h->file_size = size;
	h->pid = (uint32_t)getpid();
	h->max_fns = max_fns;
	h->max_shards = max_shards;
	h->fn_off = STATS_HEADER_SIZE;
	h->shard_off = (STATS_HEADER_SIZE + (uint64_t)max_fns * sizeof(struct stats_fn) + 4095) & ~4095ull;
	h->shard_size = stats_shard_size(max_fns);
	h->sample = 1;
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	h->real_start_ns = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
	h->mono_start_ns = mono_ns();
	h->tsc_start = stats_clock(0);
	h->tsc_last = h->tsc_start;
	h->mono_last_ns = h->mono_start_ns;
	h->start_time = proc_start_time(getpid());
	ssize_t k = readlink("/proc/self/exe", h->exe, sizeof(h->exe) - 1);
	h->exe[k > 0 ? k : 0] = 0;
}

int statsfile_create(struct statsfile *sf, const char *path, uint32_t max_fns, uint32_t max_shards,
		     char *warn, size_t n)
{
	memset(sf, 0, sizeof(*sf));
	sf->fd = -1;
	*warn = 0;
	uint64_t shard_off = (STATS_HEADER_SIZE + (uint64_t)max_fns * sizeof(struct stats_fn) + 4095) & ~4095ull;
	uint64_t size = shard_off + (uint64_t)max_shards * stats_shard_size(max_fns);
	sf->user_path = path != NULL;
	if (!path) {
		default_path(sf->path, sizeof(sf->path));
		path = sf->path;
	} else {
		snprintf(sf->path, sizeof(sf->path), "%s", path);
	}
	void *map = MAP_FAILED;
	int fd = open_new(sf->path, warn, n);
	if (fd >= 0) {
		if (ftruncate(fd, (off_t)size) != 0) { /* sparse: pages appear when touched */
			snprintf(warn, n, "cannot size %s: %s", sf->path, strerror(errno));
			unlink(sf->path);
		} else {
			map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (map == MAP_FAILED) {
				snprintf(warn, n, "cannot map %s: %s", sf->path, strerror(errno));
				unlink(sf->path);
			}
		}
		if (map == MAP_FAILED)
			close(fd);
		else
			sf->fd = fd; /* kept: readers skip the file's holes with SEEK_DATA */
	}
	if (map == MAP_FAILED) {
		sf->path[0] = 0;
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (map == MAP_FAILED)
			return -errno;
	}
	sf->h = map;
	init_header(sf->h, size, max_fns, max_shards);
	return 0;
}

void statsfile_use_monotonic(struct statsfile *sf)
{
	struct stats_header *h = sf->h;
	h->tsc_start = h->mono_start_ns;
	__atomic_fetch_or(&h->flags, STATS_F_MONOTONIC, __ATOMIC_RELEASE);
	statsfile_pair(sf);
}

void statsfile_set_fn(struct statsfile *sf, uint32_t id, const char *name, uint64_t entry, bool hooked)
{
	struct stats_header *h = sf->h;
	if (id >= h->max_fns)
		return;
	struct stats_fn *f = (struct stats_fn *)((char *)h + h->fn_off) + id;
	size_t len = strlen(name);
	if (len < STATS_NAME_MAX) {
		memcpy(f->name, name, len + 1);
	} else {
		memcpy(f->name, name, STATS_NAME_MAX - 4);
		memcpy(f->name + STATS_NAME_MAX - 4, "...", 4);
	}
	f->entry = entry;
	__atomic_store_n(&f->hooked, hooked ? 1u : 0u, __ATOMIC_RELEASE);
	if (id >= h->nfns)
		__atomic_store_n(&h->nfns, id + 1, __ATOMIC_RELEASE);
}

void statsfile_pair(struct statsfile *sf)
{
	struct stats_header *h = sf->h;
	__atomic_fetch_add(&h->pair_seq, 1, __ATOMIC_ACQ_REL);
	h->tsc_last = stats_clock(h->flags & STATS_F_MONOTONIC);
	h->mono_last_ns = mono_ns();
	__atomic_fetch_add(&h->pair_seq, 1, __ATOMIC_ACQ_REL);
}

struct stats_shard *statsfile_shard(const struct statsfile *sf, uint32_t i)
{
	const struct stats_header *h = sf->h;
	return (struct stats_shard *)((char *)h + h->shard_off + (uint64_t)i * h->shard_size);
}

struct stats_cell *statsfile_cells(struct stats_shard *s)
{
	return (struct stats_cell *)(s + 1);
}

void statsfile_remove(struct statsfile *sf)
{
	if (sf->path[0] && !sf->user_path)
		unlink(sf->path);
}
