/* slowest: the GOLAT_SLOWEST slowest calls of each function, with their goroutine,
 * call site, argument registers at entry and result registers at return, kept in the
 * function's SLOW records of the stats file (stats.h, struct stats_slow).
 *
 * The hot path decides with one compare: golat_rec_slowmin[fn] is the shortest
 * duration the function's records hold once they are all taken (0 before: every call
 * is a candidate), so a call no longer than it goes on without a look. A candidate
 * goes to slowest_offer, in C, which takes a lock (one of 64, by function), replaces
 * the shortest record and raises the bar. Calls at least as slow as the slowest N
 * beat it only ~N ln(calls / N) times in all, so the lock is rare.
 *
 * Readers see a record whole: its seq is odd while it is written.
 * Compiled like the recorder (-mgeneral-regs-only). */
#ifndef GOLAT_SLOWEST_H
#define GOLAT_SLOWEST_H

#include <stdint.h>

#include "gslot.h"
#include "statsfile.h"

/* The bars, by function id: recfast.S reads them too. */
extern uint64_t *golat_rec_slowmin;
/* Maps the bars (one per function id). 0 or -ENOMEM. */
int slowest_init(void);
/* A call of fn that took `cycles` and is longer than the bar: f its frame (its entry's
 * TSC, site and arguments), results the registers at its return in ABI order. */
void slowest_offer(struct statsfile *sf, uint32_t fn, const struct gframe *f, uint64_t goid,
		   uint32_t site, uint64_t cycles, const uint64_t *results);
/* Which argument registers hold a string, as one word (0: none): ptr and len are
 * indexes in ABI order. */
static inline uint16_t slowest_text_word(uint8_t ptr, uint8_t len)
{
	return ptr < STATS_ARGS && len < STATS_ARGS ? (uint16_t)(0x8000u | ptr << 8 | len) : 0;
}
/* For fn, from DWARF: the first bytes of that string are copied into each record. */
void slowest_set_text(uint32_t fn, uint16_t word);
/* The words by function id (REC_MAX_FNS of them), NULL before slowest_init: where the
 * golat command writes them in the agent, from outside (agent.h). */
uint16_t *slowest_text_table(void);

#endif
