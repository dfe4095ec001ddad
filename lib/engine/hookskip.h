/* hookskip: the most common reasons functions were skipped, in one line. */
#ifndef GOLAT_HOOKSKIP_H
#define GOLAT_HOOKSKIP_H

#include <stddef.h>

#include "hook.h"

/* Up to three reasons, most common first, each with its count ("12× return at +0x… has
 * no 5-byte window"); unmatched specs are not counted. "" when nothing was skipped. */
void hook_skips_top(const struct hook_skip *skips, size_t nskips, char *top, size_t n);

#endif
