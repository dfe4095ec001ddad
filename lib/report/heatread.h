/* heatread: the reader of a ring of per-interval counts (lib/record/heatring.h), the
 * file beside a stats file that GOLAT_INTERVAL makes. The bytes are hostile: read
 * (never mapped: a truncated file cannot SIGBUS) into memory of at most
 * HEAT_FILE_SIZE, every size, count and row bounded; a slot is kept only when whole
 * (its seq the same even number before and after it was read) and well formed. */
#ifndef GOLAT_HEATREAD_H
#define GOLAT_HEATREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heatring.h"

/* A kept interval: its slot's header as read, its entries at buf + off. */
struct heat_interval {
	uint64_t index, t0_ns, t1_ns;
	double tsc_hz; /* 0: unknown */
	uint32_t nfns, dropped;
	size_t off, used;
};

struct heat_ring {
	uint8_t *buf;  /* the file's bytes */
	size_t len;
	bool own;      /* buf is heat_ring_read's */
	uint32_t n;    /* intervals kept, oldest first */
	struct heat_interval *iv;
};

/* Checks data[0, len) (the caller's: not copied) and lists its whole slots, oldest
 * first. 0, -EINVAL (not a ring), -ENOMEM. */
int heat_ring_parse(struct heat_ring *r, const uint8_t *data, size_t len);
/* Reads the ring beside the stats file stats_path (heatring_path) and parses it,
 * dropping a slot a live writer rewrote while it was read. 0, -ENOENT (no ring: no
 * GOLAT_INTERVAL), -EINVAL, -ENOMEM. */
int heat_ring_read(struct heat_ring *r, const char *stats_path);
void heat_ring_free(struct heat_ring *r);
/* Function fn's cells in interval i: *cells (unaligned: read with memcpy) and their
 * number; 0 when the interval holds none of fn. */
uint32_t heat_ring_cells(const struct heat_ring *r, uint32_t i, uint32_t fn, const uint8_t **cells);

#endif
