/* hookargs: what the recorder should keep of a hooked function's arguments beyond
 * their registers: the first bytes of its first string argument, when the binary's
 * DWARF says which registers hold one (slowest.h, slowest_set_text). A stripped
 * binary has no DWARF: its slowest calls keep the registers alone. */
#ifndef GOLAT_HOOKARGS_H
#define GOLAT_HOOKARGS_H

#include <stddef.h>
#include <stdint.h>

#include "gobin.h"

/* Functions at link-time entries[i] with argument frames frames[i] (pclntab's args,
 * to check DWARF against): words[i] is what slowest_set_text takes for the function
 * (slowest_text_word), 0 when no string's text can be kept. Reads the DWARF once for
 * all of them; returns how many have one. */
size_t hookargs_text(const struct gobin *gb, const uint64_t *entries, const uint32_t *frames, size_t n,
		     uint16_t *words);

#endif
