/* callsite: names what the hot path keeps as numbers, through the program's binary:
 * the call sites of a stats file — the Go function around a return address, from
 * pclntab — and, where the binary has DWARF, the parameters and results the argument
 * registers of the slowest calls hold (dwarf_args.h). Used by every report.
 *
 * The binary is the caller's (the library passes its own, already read), or the
 * running program's /proc/<pid>/exe while the writer lives, or the path the stats file
 * names; one whose runtime.text is not the stats file's is not the program's (it was
 * rebuilt), and then sites stay addresses. */
#ifndef GOLAT_CALLSITE_H
#define GOLAT_CALLSITE_H

#include <stdbool.h>
#include <stdint.h>

#include "dwarf_args.h"
#include "gobin.h"
#include "statsread.h"

struct callsite {
	const struct gobin *gb; /* NULL: sites are shown as addresses */
	struct gobin own;       /* what callsite_open read itself */
	bool opened;
	uint64_t text_base;
	struct dwarf_args *args; /* signatures of the functions with slowest calls, or NULL */
};

/* given: a binary already read (NULL: read it as above). Never fails: without a
 * binary the names are addresses. */
void callsite_open(struct callsite *c, const struct stats_snapshot *s, const struct gobin *given);
void callsite_close(struct callsite *c);
/* The signature of the function at link-time entry, NULL without DWARF for it. */
const struct dwarf_func_sig *callsite_sig(const struct callsite *c, uint64_t entry);
/* The calling function of a site (stats_site.site) into buf: its name, or its
 * link-time address in hex when it cannot be named. Returns its entry, 0 when unnamed. */
uint64_t callsite_name(const struct callsite *c, uint32_t site, char *buf, size_t n);

#endif
