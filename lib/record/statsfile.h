/* statsfile: creating and keeping the live stats file of this process (the writer
 * side of stats.h; statsread.c is the reader side).
 *
 * The file is created with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600: never through a
 * symbolic link, never another user's file. A stale file of ours at the same path (a
 * dead process with the same pid) is replaced. When no file can be made, the stats
 * live in anonymous memory: the final report still works, live readers and crash
 * survival do not, and the caller says so.
 *
 * Space is reserved before it is written (fallocate on the file, MADV_POPULATE_WRITE
 * on anonymous memory), page by page as it is claimed: function records and names when
 * a function gets an id (before it is patched), cell and block pages when a thread
 * first needs one (off the hot path's common case). Once a reservation fails the file
 * is full for good (STATS_F_FULL): every later claim fails fast, without a system
 * call, and the caller counts what it could not record as lost. */
#ifndef GOLAT_STATSFILE_H
#define GOLAT_STATSFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stats.h"

/* Region sizes; 0 takes the default (a million functions, 64 MiB of names, 8 GiB of
 * pages: virtual room in a sparse file, not space). */
struct stats_geom {
	uint32_t fn_cap, page_cap;
	uint64_t name_cap;
};

struct statsfile {
	struct stats_header *h; /* the mapping, h->file_size bytes */
	int fd;                 /* the file, or -1 when anonymous */
	char path[4096];        /* "" when anonymous */
	bool user_path;         /* GOLAT_STATS named it: it is kept after the report */
	int lock;               /* spinlock: page and block claims */
	uint32_t blk_page;      /* the BLOCKS page blocks are cut from, and the next one */
	uint32_t blk_next;      /* STATS_BLOCKS_PER_PAGE: none left */
	uint32_t slow_page, slow_next; /* the same for the SLOW page records are cut from */
	uint64_t fn_reserved, name_reserved; /* bytes reserved of each region */
	uint64_t length;        /* the file's length now (lock held to grow it) */
	uint32_t *free_head;    /* CELLS pages of exited threads: 1 + page, by group */
	uint32_t *free_next;    /* 1 + the next free page of the same group, by page */
	int full_errno;         /* why the first reservation failed */
	bool header_ok;         /* the header page is reserved */
};

/* Creates the file at path (NULL: the default, /dev/shm/golat-<pid>.stats, else
 * $TMPDIR or /tmp) and maps it. On failure to create a file it falls back to
 * anonymous memory, returns 0 and puts the reason in warn ("" when none). A negative
 * errno only when not even memory could be had (or the header could not be
 * reserved anywhere). */
int statsfile_create(struct statsfile *sf, const char *path, const struct stats_geom *geom,
		     char *warn, size_t n);
/* Another process whose agent will write the file (lib/agent/agent.h), perhaps in
 * other namespaces (lib/target.h). */
struct stats_writer {
	pid_t pid;   /* as this process sees it: its /proc (start time, executable) */
	pid_t nspid; /* as it sees itself (its getpid()): the header's pid, as the preloaded
		      * library writes it, and the default path's */
	int dirfd;   /* the directory the path's last component is made in, opened by the
		      * caller (a container's /dev/shm, resolved in its root), or -1 */
	uid_t uid;   /* the file's owner when this process is root ((uid_t)-1: its own), */
	gid_t gid;   /* so that the writer, another user, can open it (mode 0600) */
};
/* statsfile_create for w: the header names w->nspid, its start time and executable; a
 * stale file of w->uid's at the path is replaced as one of this process's would be. */
int statsfile_create_for(struct statsfile *sf, const struct stats_writer *w, const char *path,
			 const struct stats_geom *geom, char *warn, size_t n);

/* Maps the existing file at path that another process's agent writes, to name more
 * functions in it (statsfile_set_fn): it is not removed by this one. 0 or -errno with
 * warn. */
int statsfile_reopen(struct statsfile *sf, const char *path, char *warn, size_t n);
/* Unmaps and closes (the file stays). */
void statsfile_close(struct statsfile *sf);
/* Counts time in CLOCK_MONOTONIC ns instead of TSC cycles (before any call is timed). */
void statsfile_use_monotonic(struct statsfile *sf);
/* Whether a later hook of the process may ask for 1 in want (0: none asked) when its file
 * was counted at 1 in now: true, or false with why (one rate per process: counts made
 * at two rates cannot be added up). */
bool statsfile_sample_fits(uint32_t now, uint32_t want, char *why, size_t n);
/* Names function id (its name and link-time entry), reserving its record and name
 * first, and publishes it to readers; for an id already named, sets only `hooked`.
 * Ids are given in order (id == nfns for a new one). 0, -ENOSPC (no space: the
 * function must not be hooked), or -E2BIG (past fn_cap). */
int statsfile_set_fn(struct statsfile *sf, uint32_t id, const char *name, uint64_t entry, bool hooked);
/* Claims, reserves and publishes a page of the given kind; NULL when the file is full
 * or out of pages. Thread-safe; may be called from the recorder (not async-signal
 * reentrant on one thread: the recorder is never nested). */
void *statsfile_page(struct statsfile *sf, enum stats_page_kind kind, uint32_t owner, uint32_t index);
/* Claims `count` consecutive pages of kind (a caller table); NULL when there is no
 * space for all of them. Thread-safe, as statsfile_page. */
void *statsfile_pages(struct statsfile *sf, enum stats_page_kind kind, uint32_t owner, uint32_t count);
/* Function fn's header.slowest records of its slowest calls, made on first use; NULL
 * when there is no space or slowest is 0. Thread-safe. */
struct stats_slow *statsfile_slow(struct statsfile *sf, uint32_t fn);
/* Gives the CELLS page of group k of a thread that exited to the next thread that
 * needs one: its counts stay (a reader sums every page), the new thread adds to
 * them, so threads that come and go do not make the file grow. */
void statsfile_page_free(struct statsfile *sf, void *page, uint32_t k);
/* The shared histogram's 32 counters of octave o of function fn, made on first use;
 * NULL when there is no space. Thread-safe, lock-free but for block claims. */
uint64_t *statsfile_octave(struct statsfile *sf, uint32_t fn, uint32_t o);
/* Records one timed call of d cycles in cell c of function fn (its window, or the
 * shared histogram). Only c's thread calls it for c. */
void statsfile_time(struct statsfile *sf, struct stats_cell *c, uint32_t fn, uint64_t d);
/* Reserves [off, off + len) of the mapping (page-aligned); 0 or -ENOSPC, after which
 * the file is full. */
int statsfile_reserve(struct statsfile *sf, uint64_t off, uint64_t len);
/* Whether space ran out (STATS_F_FULL), and why (an errno). */
bool statsfile_full(const struct statsfile *sf, int *err);
/* Records a new (TSC, CLOCK_MONOTONIC) pair under the header's seqlock. */
void statsfile_pair(struct statsfile *sf);
/* Removes the file (after a successful final report). */
void statsfile_remove(struct statsfile *sf);

#endif
