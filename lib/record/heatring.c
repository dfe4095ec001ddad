/* heatring: the per-interval counts of GOLAT_INTERVAL (heatring.h). */
#include "heatring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "statsfile.h"
#include "statsread.h"

static struct {
	bool off;              /* no ring: it could not be made */
	uint8_t *map;          /* HEAT_FILE_SIZE bytes, shared */
	uint64_t next;         /* the next interval's number */
	uint64_t t0_ns;        /* when it began */
	bool have_a;
	struct stats_snapshot a; /* the counts at the last tick, and its histograms */
	struct stats_saved ah;
	uint32_t *ids;         /* scratch: the functions that moved */
	uint64_t *moved;       /* and their calls in the interval */
} H;

static uint64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Makes the file as the stats file is made: 0600, never through a link, a stale
 * regular file of ours replaced. */
static int make(const struct statsfile *sf, uint32_t interval_ms)
{
	char path[4200];
	if (!heatring_path(sf->path, path, sizeof(path)))
		return -ENAMETOOLONG;
	int fd = -1;
	for (int attempt = 0; attempt < 2 && fd < 0; attempt++) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		struct stat st;
		if (fd < 0 && (errno != EEXIST || lstat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
			       st.st_uid != geteuid() || unlink(path) != 0))
			break;
	}
	if (fd < 0) {
		int e = errno;
		log_info("no per-interval counts (%s: %s): the heat map of the run stays empty", path, strerror(e));
		return -e;
	}
	void *m = MAP_FAILED;
	if (ftruncate(fd, (off_t)HEAT_FILE_SIZE) == 0)
		m = mmap(NULL, HEAT_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int e = errno;
	close(fd);
	if (m == MAP_FAILED) {
		unlink(path);
		log_info("no per-interval counts (%s: %s)", path, strerror(e));
		return -e;
	}
	H.map = m;
	struct heat_header *h = m;
	h->version = HEAT_VERSION;
	h->slots = HEAT_SLOTS;
	h->slot_bytes = HEAT_SLOT_BYTES;
	h->row_buckets = HEAT_ROW_BUCKETS;
	h->pid = (uint32_t)getpid();
	h->interval_ms = interval_ms;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	memcpy(h->magic, HEAT_MAGIC, sizeof(h->magic)); /* last: a reader checks it first */
	return 0;
}

/* The most called first: what does not fit is the least seen. */
static int by_moved(const void *x, const void *y)
{
	uint64_t a = H.moved[*(const uint32_t *)x], b = H.moved[*(const uint32_t *)y];
	return a < b ? 1 : a > b ? -1 : 0;
}

/* Fills slot sl with d's histograms of ids[0, n). */
static void fill(struct heat_slot *sl, const struct stats_snapshot *d, const uint32_t *ids, size_t n)
{
	uint8_t *body = (uint8_t *)(sl + 1), *end = (uint8_t *)sl + HEAT_SLOT_BYTES, *p = body;
	uint32_t nfns = 0, dropped = 0;
	for (size_t i = 0; i < n; i++) {
		const uint64_t *hist = d->hists ? d->hists[ids[i]] : NULL;
		uint32_t rows[STATS_BUCKETS / HEAT_ROW_BUCKETS] = { 0 }, nc = 0;
		for (uint32_t b = 0; hist && b < STATS_BUCKETS; b++)
			rows[b / HEAT_ROW_BUCKETS] += (uint32_t)hist[b];
		for (uint32_t r = 0; r < STATS_BUCKETS / HEAT_ROW_BUCKETS; r++)
			nc += rows[r] != 0;
		if (!nc)
			continue;
		size_t need = sizeof(struct heat_entry) + nc * sizeof(struct heat_cell);
		if ((size_t)(end - p) < need) {
			dropped++;
			continue;
		}
		struct heat_entry e = { .fn = ids[i], .ncells = nc };
		memcpy(p, &e, sizeof(e));
		p += sizeof(e);
		for (uint32_t r = 0; r < STATS_BUCKETS / HEAT_ROW_BUCKETS; r++)
			if (rows[r]) {
				struct heat_cell c = { .row = r, .count = rows[r] };
				memcpy(p, &c, sizeof(c));
				p += sizeof(c);
			}
		nfns++;
	}
	sl->nfns = nfns;
	sl->dropped = dropped;
	sl->used = (uint32_t)(p - body);
}

void heatring_tick(struct statsfile *sf, uint32_t interval_ms)
{
	if (H.off || !sf || !sf->h || !sf->path[0])
		return;
	if (!H.map && (H.off = make(sf, interval_ms) != 0))
		return;
	struct stats_view v;
	struct stats_snapshot b, d;
	char err[256];
	if (stats_view_mem(&v, sf->h, sf->h->file_size, err, sizeof(err)) != 0)
		return;
	v.fd = sf->fd; /* the file's length bounds the pages read */
	if (stats_snapshot(&v, &b) != 0)
		return;
	uint64_t t1 = real_ns();
	uint32_t *ids = realloc(H.ids, (b.nfns ? b.nfns : 1) * sizeof(*ids));
	uint64_t *moved = ids ? realloc(H.moved, (b.nfns ? b.nfns : 1) * sizeof(*moved)) : NULL;
	H.ids = ids ? ids : H.ids;
	H.moved = moved ? moved : H.moved;
	size_t n = 0;
	for (uint32_t id = 0; moved && id < b.nfns; id++) {
		uint64_t was = H.have_a && id < H.a.nfns ? H.a.fns[id].timed : 0, held = 0;
		moved[id] = b.fns[id].timed - (b.fns[id].timed >= was ? was : b.fns[id].timed);
		/* A call is counted before its duration lands in a histogram (a spill to the
		 * shared octaves comes later): a function whose histogram held less than its
		 * count at the last tick is read again, or that call would be missed. */
		for (uint32_t k = H.have_a && id < H.ah.nfns ? H.ah.start[id] : 0;
		     H.have_a && id < H.ah.nfns && k < H.ah.start[id + 1]; k++)
			held += H.ah.count[k];
		if (moved[id] || held < was)
			ids[n++] = id;
	}
	if (moved && stats_delta(&v, H.have_a ? &H.a : NULL, H.have_a ? &H.ah : NULL, &b, ids, n, &d, err,
				 sizeof(err)) == 0) {
		qsort(ids, n, sizeof(*ids), by_moved);
		struct heat_slot *sl = (struct heat_slot *)(H.map + HEAT_HEADER + (H.next % HEAT_SLOTS) * HEAT_SLOT_BYTES);
		uint32_t seq = __atomic_load_n(&sl->seq, __ATOMIC_RELAXED);
		seq += 1 + (seq & 1); /* odd: a reader leaves it */
		__atomic_store_n(&sl->seq, seq, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		sl->index = H.next;
		sl->t0_ns = H.t0_ns ? H.t0_ns : b.real_start_ns;
		sl->t1_ns = t1;
		sl->tsc_hz_milli = (uint64_t)(b.tsc_hz * 1000);
		fill(sl, &d, ids, n);
		__atomic_store_n(&sl->seq, seq + 1, __ATOMIC_RELEASE); /* even: whole */
		H.next++;
		H.t0_ns = t1;
		stats_snapshot_free(&d);
	}
	if (H.have_a) {
		stats_snapshot_free(&H.a);
		stats_saved_free(&H.ah);
	}
	H.a = b;
	H.have_a = stats_save_hists(&v, &b, &H.ah) == 0;
	if (!H.have_a)
		stats_snapshot_free(&H.a);
}

void heatring_remove(const struct statsfile *sf)
{
	char path[4200];
	if (H.map && sf->path[0] && !sf->user_path && heatring_path(sf->path, path, sizeof(path)))
		unlink(path);
}
