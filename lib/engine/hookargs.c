/* hookargs: string arguments whose text the slowest calls keep. See hookargs.h. */
#include "hookargs.h"

#include <stdlib.h>

#include "dwarf_args.h"
#include "slowest.h"

/* The first parameter (not a result) that is a string held in two integer registers:
 * its data pointer and length registers. */
static int first_string(const struct dwarf_func_sig *sig, uint8_t *ptr, uint8_t *len)
{
	for (size_t i = 0; i < sig->nparams; i++) {
		const struct dwarf_param *p = &sig->param[i];
		if (p->result || p->kind != DWARF_KIND_STRING || p->where != DWARF_WHERE_REGS || p->nparts != 2)
			continue;
		if (p->part[0].reg >= DWARF_INT_REGS || p->part[1].reg >= DWARF_INT_REGS)
			continue;
		*ptr = p->part[0].reg;
		*len = p->part[1].reg;
		return 1;
	}
	return 0;
}

size_t hookargs_text(const struct gobin *gb, const uint64_t *entries, const uint32_t *frames, size_t n,
		     uint16_t *words)
{
	struct dwarf_args *ix;
	for (size_t i = 0; i < n; i++)
		words[i] = 0;
	if (!n || !gb->has_dwarf || dwarf_args_index(&gb->elf, entries, frames, n, &ix) != 0)
		return 0;
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		const struct dwarf_func_sig *sig;
		uint8_t ptr, len;
		/* Only a signature whose frame agrees with the compiler's (pclntab's args):
		 * the registers of one that does not may hold something else. */
		if (dwarf_func_args(ix, entries[i], &sig) == 0 && sig->check == DWARF_SIG_OK &&
		    first_string(sig, &ptr, &len) && (words[i] = slowest_text_word(ptr, len)) != 0)
			kept++;
	}
	dwarf_args_free(ix);
	return kept;
}
