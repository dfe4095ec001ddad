/* statspread: one function's histogram read from a stats file with pread(2), never
 * through a mapping: a file truncated under the reader (by a same-user process, at any
 * moment) ends the read with a short count, not with SIGBUS. `golat serve` samples
 * the functions its page watches this way each second (tools/serve_page.c): per tick
 * the header, the page directory's new entries, the function's cells (one per thread
 * that ran it, 256 bytes each) and its octave blocks: a few KB, whatever the file's
 * size. Every offset is bounded by the geometry the view validated at open. */
#ifndef GOLAT_STATSPREAD_H
#define GOLAT_STATSPREAD_H

#include <stdint.h>

#include "statsread.h"

struct stats_hist_reader {
	int fd; /* its own (dup'ed): the view may be closed */
	uint32_t id, fn_cap, page_cap;
	uint64_t fn_off, dir_off, page_off;
	uint32_t dir_seen;   /* directory entries read: [0, dir_seen) */
	uint32_t ncells, cap; /* the CELLS pages of id's group seen so far */
	uint32_t *cells;
};

/* Starts reading function id of v's file (v opened by stats_open*: it has a
 * descriptor). 0 or -errno. */
int stats_hist_reader_open(struct stats_hist_reader *r, const struct stats_view *v, uint32_t id);
void stats_hist_reader_close(struct stats_hist_reader *r);
/* Reads the function's histogram now into hist[STATS_BUCKETS] and its total into
 * *total. 0; -ENOENT: the function is not in the file (yet); -ESTALE: the file is
 * shorter than what its header or directory names (truncated: stop reading it);
 * -ENOMEM. */
int stats_hist_read(struct stats_hist_reader *r, uint64_t *hist, uint64_t *total);

#endif
