/* analyze_redirect: windows that take in branch targets by steering the branches to
 * the trampoline (see analyze_redirect.c). Internal to analyze. */
#ifndef GOLAT_ANALYZE_REDIRECT_H
#define GOLAT_ANALYZE_REDIRECT_H

#include <stdbool.h>
#include <stdint.h>

#include "analyze.h"
#include "analyze_decode.h"

/* Padding to hand out for the 5-byte jmp rel32 that a 2-byte jmp rel8 leads to, as
 * offsets from the function's entry: [lo, hi) is free. The function's own padding
 * goes upward from lo (the earliest window, farthest from it, asks first); the
 * padding of the function before it (analyze_input.prev_pad_*) downward from hi, its
 * bytes nearest to this function's entry. */
struct pad {
	int64_t lo, hi;
	bool down;
};

/* Takes 5 bytes of p for a rel8 jump whose next instruction is at offset from_end:
 * *at their offset. False when p has no 5 bytes left within the jump's reach. */
bool pad_take(struct pad *p, int64_t from_end, int64_t *at);

/* Every place a function's hops may go: v[POOL_OWN] its padding, v[POOL_PREV] the
 * previous function's, then runs of dead nops in its body (dead_runs). A pool whose
 * bit is set in `off` is not used for now. */
#define POOLS_MAX 8
#define POOL_OWN 0
#define POOL_PREV 1
struct pools {
	struct pad v[POOLS_MAX];
	uint32_t n, off;
	bool share; /* a rel8 branch may go to a twin window instead (analyze_redirect.c) */
	struct pad self; /* the bytes past the jump of the window being planned: first */
	/* Windows of earlier sites made shorter to leave a steered branch out, and what
	 * they were: put back when the window that asked fails. */
	struct {
		struct analyze_window *w, was;
	} undo[4];
	uint32_t nundo;
};

/* pad_take from the first pool that has room in reach. */
bool pools_take(struct pools *p, int64_t from_end, int64_t *at);

/* Adds to p the runs of at least 5 bytes of nops that nothing runs: after a ret or a
 * jmp, and no branch target. Go aligns loop heads with nops (cmd/internal/obj/x86,
 * PCALIGN; cmd/compile/internal/amd64, the loop-alignment pass of 1.21+), and such a
 * nop after an unconditional jump is never reached: its bytes can hold a hop's jmp,
 * which golat writes and takes out like any other (detach restores the nop). */
void dead_runs(const struct fn *f, struct pools *p);

/* The window of the ret at ins[r] (not below ins[floor]) with its inner targets'
 * branches steered: fills w and appends to plan->redirs (capacity *cap). 0; -ENOSPC
 * or -EINVAL when it cannot be done (then nothing changed), -ENOMEM. */
int redirect_site(const struct fn *f, uint32_t r, uint32_t floor, struct pools *pools,
		  struct analyze_plan *plan, size_t *cap, struct analyze_window *w);

/* Turns the entry window and the first site, a ret with no window of its own (an
 * int3 so far), into one whole window that records the entry, runs the code up to
 * that ret and records the exit, with the branches into its instructions steered.
 * The caller then drops sites[0]. Its rel8 branches hop through the window's own
 * bytes past the entry's jump first, then the pools but the function's own padding. 0, -ENOSPC/-EINVAL (nothing
 * changed), -ENOMEM. Small wrappers are its case: go1.19's `mov r12,[r14+0x20];
 * test r12,r12; jne L; <body>; ret; L: <panic argp fixup>; jmp <body>`
 * (cmd/internal/obj/x86/obj6.go, the WRAPPER prologue) leave no padding in reach. */
#define REDIRECT_GROW 16        /* bytes a steered return window grows to at most */
#define REDIRECT_WHOLE_INSNS 16 /* instructions, within sigown's points per trampoline */
#define ANALYZE_MAX_WHOLE 32    /* bytes, within what hook.c relocates into a trampoline */
int redirect_whole(const struct fn *f, uint32_t r, struct pools *pools, struct analyze_plan *plan,
		   size_t *cap);

/* After every window is planned: the sites left with an int3 try again, without the
 * function's own padding (see redirect_whole), and a rel8 branch may now go to the
 * first byte of another return window that holds the same bytes up to its ret (a
 * "twin": the same code, so the same trampoline work). 0 or -ENOMEM. */
int redirect_twins(const struct fn *f, struct pools *pools, struct analyze_plan *plan, size_t *cap);

/* The index of a site whose steered branch lies in a window (the entry's, a site's, or
 * a hop): that window's trampoline would carry the old branch into the cut target.
 * -1 when none. */
int64_t redirect_conflict(const struct analyze_plan *plan);

#endif
