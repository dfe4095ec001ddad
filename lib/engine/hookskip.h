/* hookskip: the most common reasons functions were skipped, in one line. */
#ifndef GOLAT_HOOKSKIP_H
#define GOLAT_HOOKSKIP_H

#include <stddef.h>

#include "hook.h"

/* Appends a skip to a list of *n in room for *cap (doubling: GOLAT_FUNCS='*' skips tens
 * of thousands of functions), an unmatched spec counted in *nunmatched too: a hook
 * result's (hook.h) or a static one's (static.h). 0, or -ENOMEM (the list unchanged). */
int hook_skip_add(struct hook_skip **skips, size_t *n, size_t *cap, size_t *nunmatched, const char *spec,
		  const char *name, const char *reason, int unmatched);

/* Up to three reasons, most common first, each with its count ("12× return at +0x… has
 * no 5-byte window"); unmatched specs are not counted. "" when nothing was skipped. */
void hook_skips_top(const struct hook_skip *skips, size_t nskips, char *top, size_t n);

#endif
