/* sigtab: the signal translation tables that golat's handler reads (sigown.h), and the
 * lookups on them. Freestanding (no libc, no allocation): the same code runs in
 * libgolat.so's handler (sigown.c) and in golat-agent.so's (lib/agent/sig.c), where
 * the golat command builds the tables and writes them into the program
 * (lib/attach/static_sig.c), so their layout is one. A published table is sorted,
 * immutable and never freed: a handler may still read an old one. */
#ifndef GOLAT_SIGTAB_H
#define GOLAT_SIGTAB_H

#include <stdbool.h>
#include <stdint.h>

#define SIGOWN_POINTS 24 /* points of one trampoline at most */

/* One trampoline's points: pc = lo + toff[i] stands for orig + ooff[i]. */
struct sigtab_tramp {
	uint64_t lo, orig;
	uint16_t len;
	uint8_t n, _pad;
	uint8_t entry, exit; /* 1 + offset from orig of what recording stands for, 0 none */
	uint32_t any; /* bit i: point i is translated for every signal */
	uint8_t toff[SIGOWN_POINTS], ooff[SIGOWN_POINTS];
};

/* A jump golat wrote at pc that stands for orig (a hop), or an int3 at pc whose
 * SIGTRAP sends the thread to orig (its trampoline). */
struct sigtab_jump {
	uint64_t pc, orig;
};

struct sigtab {
	uint64_t ntr, nj, nt;
	const struct sigtab_tramp *tr; /* by lo */
	const struct sigtab_jump *j;   /* by pc */
	const struct sigtab_jump *trap;
};

/* The original PC that pc stands for, for signal sig (Linux's number); false when none. */
bool sigtab_translate(const struct sigtab *t, uint64_t pc, int sig, uint64_t *orig);
/* Where golat's int3 at pc sends the thread; false: not golat's. */
bool sigtab_trap(const struct sigtab *t, uint64_t pc, uint64_t *to);
/* A profiling signal at *pc (stack *sp, R12 r12) while this thread (its block me, NULL:
 * none yet) records a hooked call: true with *pc the function's entry or ret and *sp
 * the goroutine's SP, so that the sample belongs to that function. */
struct tramp_thread;
bool sigtab_recording(const struct sigtab *t, const struct tramp_thread *me, uint64_t *pc, uint64_t *sp,
		      uint64_t r12);

#endif
