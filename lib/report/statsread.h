/* statsread: the one reader of the live stats file (lib/record/stats.h), shared by the
 * library's final report and the CLI (`golat report`, `golat top`).
 *
 * A stats file may be live (its writer still running), dead (killed: nothing after
 * the last store), truncated, or written by someone else entirely: stats_view_mem
 * validates every size and offset of the header against the mapping before anything
 * else reads it, so no later access goes out of bounds whatever the file holds. Live
 * values that may still move (nfns, the tsc/ns pair) are re-read and re-checked at
 * each snapshot. Functions return 0 or a negative errno and fill `err` with a reason
 * a user can read ("truncated: 8192 bytes, the header says 1052672"). */
#ifndef GOLAT_STATSREAD_H
#define GOLAT_STATSREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stats.h"

/* Limits above what the writer uses (REC_MAX_FNS, its page region): a header beyond
 * them is corrupt, and they bound a reader's allocations and its walk over the pages
 * of a hostile file. */
#define STATSREAD_MAX_FNS (1u << 22)
#define STATSREAD_MAX_PAGES (1u << 24)
#define STATSREAD_MAX_NAMES (1ull << 30)
#define STATSREAD_MAX_MAP (1ull << 40) /* the most of a file's layout a reader maps */

/* A validated stats file: base[0, len) is mapped and covers the header and every
 * region it names; the first `data` bytes of it are the file (the rest lies past its
 * end, where the writer has claimed no page yet: never read). */
struct stats_view {
	const uint8_t *base;
	size_t len;
	uint64_t data;
	const struct stats_header *hdr;
	/* The geometry as validated, copied: the mapping is never trusted twice. */
	uint32_t fn_cap, page_cap;
	uint64_t fn_off, name_off, name_cap, dir_off, page_off;
	int fd;    /* stats_open's descriptor, -1 after stats_view_mem or a STATS_OPEN_COPY */
	bool own;  /* stats_open mapped base and opened fd */
	char path[256]; /* the file's path, "" for stats_view_mem */
	/* The writer as this reader knows it, when the header's pid is another PID
	 * namespace's (a container's): set by stats_open_pid and by the callers of
	 * stats_find_other after opening. 0: the header's own; STATS_PID_GONE: no process
	 * of its namespace has the header's pid any more (it exited). */
	uint32_t pid_here;
};
#define STATS_PID_GONE UINT32_MAX

/* One function id, summed over the shards. Times are TSC cycles. */
struct stats_func {
	uint32_t id;
	char name[STATS_NAME_MAX]; /* always NUL-terminated */
	uint64_t entry;            /* link-time address */
	uint64_t entries, calls, abandoned; /* abandoned: unwound by a panic ("panicked") */
	uint64_t in_flight;        /* entries - calls - abandoned, clamped at 0 */
	uint64_t timed, sum;
	uint64_t self; /* cycles of the timed calls, less their hooked children's */
	uint64_t min, max;         /* min 0 = no timed call */
};

/* The calls of function fn from one call site, summed over the threads' caller
 * tables (stats.h, struct stats_caller). */
struct stats_site {
	uint32_t fn;
	uint32_t site;  /* the return address less header.text_base; STATS_CALLER_NOSITE: unknown */
	uint64_t calls, sum, self; /* sum and self: cycles of the timed ones */
};

/* Everything a report shows but the histograms, which stats_func_hist sums on
 * demand (1280 buckets of 8 bytes per function: summing them all at once for 130,000
 * functions would take 1.3 GB inside the measured program). */
struct stats_snapshot {
	uint32_t pid;   /* the writer as this reader sees it (v->pid_here, else the header's) */
	uint32_t nspid; /* as it sees itself: the header's pid (differs in a container) */
	uint32_t flags, sample;
	char exe[256], go_version[32]; /* NUL-terminated copies */
	uint64_t exit_code, lost, unbinned;
	uint64_t traps;      /* returns through an int3 (header.traps) */
	double tsc_hz;       /* 0 when it cannot be measured yet */
	uint64_t elapsed_ns;
	bool alive;          /* the writer is still running (not exited, pid alive) */
	uint32_t nfns, npages;   /* ids and pages read: [0, nfns), [0, npages) */
	uint32_t nthreads;       /* threads that recorded */
	bool full;               /* the writer ran out of space (STATS_F_FULL) */
	struct stats_func *fns;  /* [nfns], by id */
	/* The CELLS pages of function group k (ids 16k..16k+15) are
	 * cell_pages[group_start[k] .. group_start[k + 1]). */
	uint32_t *cell_pages, *group_start;
	/* NULL, or each function's histogram held by the snapshot itself (STATS_BUCKETS
	 * counters, NULL for an empty one): a window's, which no file holds
	 * (statsdelta.c). stats_func_hist then returns these. */
	uint64_t **hists;
	/* Every (function, site) pair, by function then site: function id's are
	 * sites[site_start[id] .. site_start[id + 1]). */
	struct stats_site *sites;
	uint32_t *site_start;
	uint32_t nsites;
	uint64_t text_base;   /* header.text_base: link-time runtime.text */
	uint32_t slowest;     /* header.slowest: records per function */
	uint64_t tsc_start, real_start_ns; /* a TSC time t is real_start_ns + (t - tsc_start) / rate */
	uint64_t slow_from;   /* a window's first TSC: older slowest calls are not its own */
	uint64_t tsc_taken;   /* the TSC when the snapshot was taken */
};

/* Maps path read-only and validates it. Returns 0, or -errno with err filled. */
int stats_open(struct stats_view *v, const char *path, char *err, size_t errlen);
/* stats_open_opts flags. */
enum {
	/* Not through a symbolic link, owned by this user, mode 0600 (as the library
	 * creates it): what a scan of a shared directory like /dev/shm may trust. */
	STATS_OPEN_OWNED = 1,
	/* Read into private memory instead of mapped: a file truncated or rewritten
	 * under the reader cannot kill it with SIGBUS (`golat serve` reads many files it
	 * does not own the life of, for as long as it runs). The copy is the file as it
	 * was read; a page the writer was filling may be torn. */
	STATS_OPEN_COPY = 2,
	/* With STATS_OPEN_COPY: keep the descriptor open in v->fd all the same (for a
	 * reader that goes on with pread(2), statspread.h). */
	STATS_OPEN_KEEP_FD = 4,
};
/* stats_open with flags. */
int stats_open_opts(struct stats_view *v, const char *path, unsigned flags, char *err, size_t errlen);
/* stats_open_opts, where STATS_OPEN_OWNED means owned by uid owner rather than by this
 * user: a file golat found in a container's /dev/shm belongs to the uid its writer
 * runs as there, as the kernel here shows it (stats_find_other). */
int stats_open_owner(struct stats_view *v, const char *path, unsigned flags, uid_t owner, char *err,
		     size_t errlen);
/* Validates a mapping the caller owns (base 8-byte aligned, len bytes readable, all of
 * them data). */
int stats_view_mem(struct stats_view *v, const void *base, size_t len, char *err, size_t errlen);
/* Opens the stats file of process pid (as golat sees it), wherever it runs (lib/target.h):
 * its GOLAT_STATS when its environment says (with %p replaced by the pid it sees itself
 * as; relative to its working directory), else golat-<its pid>.stats in its /dev/shm,
 * else in its $TMPDIR (or /tmp); a container's reached through /proc/PID/root. A pid
 * that has exited: the default files of that pid here (a killed program's report). */
int stats_open_pid(struct stats_view *v, pid_t pid, char *err, size_t errlen);

/* A stats file of a process in a mount namespace other than golat's (a container),
 * found by stats_find_other. */
struct stats_found {
	char path[300];  /* /proc/PID/root/dev/shm/golat-N.stats: reachable from here */
	pid_t pid;       /* its writer as golat sees it; 0: none of its namespace has the
			  * header's pid (or the same start time): the writer exited */
	uid_t uid;       /* the writer's uid, as golat sees it (0 when pid is 0) */
	uint32_t nspid;  /* the header's pid: the writer's in its namespace */
};
/* The golat-*.stats files in /dev/shm and /tmp of every mount namespace but golat's
 * that this user may look into (target_scan), each directory once, and none that is
 * golat's own /dev/shm or $TMPDIR (the caller's glob sees those): *out malloc'ed,
 * sorted by pid (the exited last). Nothing is said of what this user may not see. 0,
 * or -ENOMEM. */
int stats_find_other(struct stats_found **out, size_t *n);
/* Opens what stats_find_other found, as stats_open_owner with flags (STATS_OPEN_OWNED:
 * owned by its writer's uid), and tells the view the writer's pid here (pid_here). */
int stats_open_found(struct stats_view *v, const struct stats_found *f, unsigned flags, char *err,
		     size_t errlen);
/* Unmaps what stats_open mapped; harmless on a stats_view_mem view. */
void stats_close(struct stats_view *v);

/* Sums the shards into a snapshot (fns malloc'ed). Returns 0 or -ENOMEM. */
int stats_snapshot(const struct stats_view *v, struct stats_snapshot *s);
void stats_snapshot_free(struct stats_snapshot *s);
/* Sums function id's histogram over the snapshot's cells and its shared histogram into
 * hist[STATS_BUCKETS] (or copies the one the snapshot holds);
 * returns the total count. Read live, after the snapshot: its counts may be a few
 * calls ahead of the snapshot's (percentiles are clamped to the snapshot's min/max). */
uint64_t stats_func_hist(const struct stats_view *v, const struct stats_snapshot *s, uint32_t id,
			 uint64_t *hist);

/* Reads function fn's slowest calls into out[max], slowest first, each read whole
 * (never one a writer is changing); returns how many. Only those that began at or
 * after s->slow_from. */
uint32_t stats_slowest(const struct stats_view *v, const struct stats_snapshot *s, uint32_t fn,
		       struct stats_slow *out, uint32_t max);
/* The Unix time in ns of TSC time tsc (0 when the rate is unknown). */
uint64_t stats_tsc_to_real_ns(const struct stats_snapshot *s, uint64_t tsc);

/* Between statsagg.c and statssite.c: sums the caller tables into s->sites and each
 * function's self; d's sites = b's less a's (a NULL: nothing before), for the
 * functions d has calls of. 0 or -ENOMEM. */
int stats_read_sites(const struct stats_view *v, struct stats_snapshot *s);
int stats_sites_delta(const struct stats_snapshot *a, const struct stats_snapshot *b,
		      struct stats_snapshot *d);

/* Conversions with the snapshot's TSC rate (0 when the rate is unknown). */
double stats_cycles_to_ns(const struct stats_snapshot *s, double cycles);
/* The q-th quantile (0 < q <= 1) of a histogram in ns, taken at the midpoint of the
 * bucket that holds it and clamped to [f->min, f->max]; 0 when it is empty. */
double stats_quantile_ns(const struct stats_snapshot *s, const struct stats_func *f,
			 const uint64_t *hist, uint64_t total, double q);
/* The value a bucket stands for, in cycles: the middle of the integers it holds. */
double stats_bucket_mid(uint32_t b);

/* ---- windows: what was recorded between two snapshots (statsdelta.c) ---- */

/* The histograms of a snapshot, kept sparse (only non-empty buckets of functions
 * with timed calls), so that a later snapshot can subtract them: the file only
 * grows, and a histogram read later holds the earlier counts too. */
struct stats_saved {
	uint32_t nfns;
	uint32_t *start;  /* [nfns + 1]: function id's buckets are [start[id], start[id + 1]) */
	uint32_t *bucket; /* bucket numbers */
	uint64_t *count;  /* and their counts */
};

/* Saves the histograms of s (read live from v, as stats_func_hist). 0 or -ENOMEM. */
int stats_save_hists(const struct stats_view *v, const struct stats_snapshot *s,
		     struct stats_saved *out);
void stats_saved_free(struct stats_saved *h);

/* d = b - a for the functions ids[0, n): their counts, sums and histograms (held by
 * d: d->hists), every other function left empty so that reports leave it out. a and
 * ah NULL: nothing before (the file is new). b's header fields are d's, but lost and
 * unbinned are differences; the caller sets d->elapsed_ns to the window's length.
 * Returns 0, -ENOMEM, or -ESTALE when b holds less than a (not the same file). */
int stats_delta(const struct stats_view *v, const struct stats_snapshot *a,
		const struct stats_saved *ah, const struct stats_snapshot *b, const uint32_t *ids,
		size_t n, struct stats_snapshot *d, char *err, size_t errlen);

#endif
