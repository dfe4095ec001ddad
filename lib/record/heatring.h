/* heatring: per-interval latency counts for the heat map of a finished run
 * (doc/page.md). With GOLAT_INTERVAL=N, golat's own interval thread (never a hooked
 * goroutine) writes, every N seconds and once more at exit, what each function whose
 * timed calls moved in the interval gained: its coarse histogram (HEAT_ROWS rows, 4 per
 * power of two, as the page's heat map), into a file beside the stats file named after
 * it (golat-<pid>.stats -> golat-<pid>.heat): created 0600 without following a link,
 * kept when the program is killed, removed when the stats file is.
 *
 * Bounded: HEAT_SLOTS intervals (the newest overwrite the oldest) of HEAT_SLOT_BYTES
 * each, a file of at most ~9.8 MB whatever the run's length or its number of functions;
 * an interval whose functions do not fit keeps the most called ones and counts the
 * others in `dropped`. Without GOLAT_INTERVAL there is no file and no cost.
 *
 * Torn data: a slot's seq is odd while the writer fills it and even, stored last with
 * release semantics, once it is whole; a reader reads seq, the slot, then seq again,
 * and keeps the slot only when both are the same even number. A reader treats every
 * other byte as hostile (lib/report/heatread.c). */
#ifndef GOLAT_HEATRING_H
#define GOLAT_HEATRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEAT_MAGIC "GOLATHT1"
#define HEAT_VERSION 1
#define HEAT_HEADER 4096
#define HEAT_SLOTS 600
#define HEAT_SLOT_BYTES 16384
#define HEAT_ROW_BUCKETS 8 /* of the stats file's 32 buckets per power of two */
#define HEAT_FILE_SIZE (HEAT_HEADER + (uint64_t)HEAT_SLOTS * HEAT_SLOT_BYTES)

struct heat_header {
	char magic[8];
	uint32_t version, slots, slot_bytes, row_buckets;
	uint32_t pid, interval_ms; /* the writer's pid (as it sees itself), GOLAT_INTERVAL in ms */
};

/* A slot: the interval's header, then nfns entries in used bytes. */
struct heat_slot {
	uint32_t seq;      /* odd: being written; even: whole */
	uint32_t nfns;     /* entries that follow */
	uint32_t dropped;  /* functions that moved but did not fit */
	uint32_t used;     /* bytes of entries */
	uint64_t index;    /* the interval's number since the start, from 0 */
	uint64_t t0_ns, t1_ns; /* the interval, Unix ns */
	uint64_t tsc_hz_milli; /* the TSC rate then, in mHz (0: unknown) */
};
struct heat_entry {
	uint32_t fn;     /* function id, as the stats file's */
	uint32_t ncells; /* heat_cells that follow */
};
struct heat_cell {
	uint32_t row;    /* bucket / HEAT_ROW_BUCKETS */
	uint32_t count;  /* calls timed in the interval with a duration in that row */
};

struct statsfile;
/* One interval: writes what moved since the last call (the first: since the start).
 * On golat's interval thread only. A file that cannot be made is said once; then no
 * more tries. */
void heatring_tick(struct statsfile *sf, uint32_t interval_ms);
/* Removes the ring with the stats file (when statsfile_remove removes that). */
void heatring_remove(const struct statsfile *sf);
/* The ring's path for a stats file's: ".stats" replaced by ".heat", else ".heat"
 * appended. false: it does not fit. (In lib/report/heatread.c.) */
bool heatring_path(const char *stats_path, char *out, size_t n);

#endif
