/* statsfile: creating and keeping the live stats file of this process (the writer
 * side of stats.h; statsread.c is the reader side).
 *
 * The file is created with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600: never through a
 * symbolic link, never another user's file. A stale file of ours at the same path (a
 * dead process with the same pid) is replaced. When no file can be made, the stats
 * live in anonymous memory: the final report still works, live readers and crash
 * survival do not, and the caller says so. */
#ifndef GOLAT_STATSFILE_H
#define GOLAT_STATSFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

struct statsfile {
	struct stats_header *h; /* the mapping, h->file_size bytes */
	int fd;                 /* the file, or -1 when anonymous */
	char path[4096];        /* "" when anonymous */
	bool user_path;         /* GOLAT_STATS named it: it is kept after the report */
};

/* Creates the file at path (NULL: the default, /dev/shm/golat-<pid>.stats, else
 * $TMPDIR or /tmp) and maps it. On failure to create a file it falls back to
 * anonymous memory, returns 0 and puts the reason in warn ("" when none). A negative
 * errno only when not even memory could be had. */
int statsfile_create(struct statsfile *sf, const char *path, uint32_t max_fns, uint32_t max_shards,
		     char *warn, size_t n);

/* Counts time in CLOCK_MONOTONIC ns instead of TSC cycles (before any call is timed). */
void statsfile_use_monotonic(struct statsfile *sf);
/* Names function id (its name and link-time entry) and publishes it to readers. */
void statsfile_set_fn(struct statsfile *sf, uint32_t id, const char *name, uint64_t entry, bool hooked);
/* Records a new (TSC, CLOCK_MONOTONIC) pair under the header's seqlock. */
void statsfile_pair(struct statsfile *sf);
/* The shard at index i (0 <= i < max_shards). */
struct stats_shard *statsfile_shard(const struct statsfile *sf, uint32_t i);
struct stats_cell *statsfile_cells(struct stats_shard *s);
/* Removes the file (after a successful final report). */
void statsfile_remove(struct statsfile *sf);

#endif
