/* callers: who called each hooked function, and the self time of its calls.
 *
 * Each thread counts its completed calls by (function, call site) in a caller table
 * of its own in the stats file (CALLERS pages, struct stats_caller): the calls, their
 * time, and their self time (their time less that of the hooked calls their goroutine
 * made from them). The site is the call's return address, which the entry finds at
 * [SP], as an offset from runtime.text: readers name the calling function through
 * pclntab, so the hot path never looks a name up.
 *
 * A table holds 2^k entries and STATS_CALLER_PROBES more, so that a key's probes
 * [hash, hash + STATS_CALLER_PROBES) never wrap: recfast.S probes them in a row; then
 * a few for keys whose probes were all taken, which only C looks at. It starts at 2^8
 * and, when half full or when a key finds no room, the thread starts one twice as big; the old one keeps its counts (readers
 * add every table). A thread that exits passes its table on to the next new thread,
 * as with cell pages, so threads that come and go do not make the file grow.
 *
 * Compiled like the recorder (-mgeneral-regs-only): it runs on the recorder's path. */
#ifndef GOLAT_CALLERS_H
#define GOLAT_CALLERS_H

#include <stdint.h>

#include "recfast.h"
#include "statsfile.h"
#include "tramp.h"

/* The first entry a key probes: recfast.S computes the same. */
static inline uint32_t callers_hash(uint32_t site, uint32_t fn1, uint32_t mask)
{
	return ((site ^ fn1 * (uint32_t)K_MUL1) * (uint32_t)K_MUL2) >> K_SHIFT & mask;
}

/* This thread's entry for calls of function fn from site, made when missing (a new
 * table when there is no room); NULL when the stats file has no space. */
struct stats_caller *callers_entry(struct tramp_thread *m, struct statsfile *sf, uint32_t fn, uint32_t site);
/* The thread ends: its table goes to the next thread that needs one. */
void callers_thread_exit(struct tramp_thread *m);

#endif
