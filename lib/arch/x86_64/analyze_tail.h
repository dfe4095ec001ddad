/* analyze_tail: a hop for a return left with an int3, into the tail of another window
 * of the same plan grown for it (see analyze_tail.c). Internal to analyze. */
#ifndef GOLAT_ANALYZE_TAIL_H
#define GOLAT_ANALYZE_TAIL_H

#include <stdint.h>

#include "analyze.h"
#include "analyze_decode.h"
#include "analyze_redirect.h"

/* The int3 site w, whose own window would be ins[first, end) (end - 1 its ret, at
 * least 2 bytes), becomes a hop: its jmp rel8 at ins[first] leads to the first byte of
 * a twin (a return window of the same instructions: w->twin), or to the 5 bytes past
 * the jump of another window of plan (the entry's or a return's), grown to 10 bytes
 * for it. 0, or -ENOSPC when neither can be (then nothing changed). */
int tail_hop(const struct fn *f, struct analyze_plan *plan, uint32_t first, uint32_t end,
	     struct analyze_window *w);

/* The int3 site w, the ret at ins[r] (its window not below ins[floor]), gets a window
 * whose branches are steered (redirect_site) through hops in the bytes past the jump
 * of another window of plan, the entry's or a return's, grown to at least 10 bytes
 * for them: where the function has no padding in rel8 reach of its branches. 0;
 * -ENOSPC when it cannot be (nothing changed); -ENOMEM. */
int tail_steer(const struct fn *f, struct analyze_plan *plan, uint32_t r, uint32_t floor, size_t *cap,
	       struct analyze_window *w);

#endif
