/* xlate: see xlate.h. */
#include "xlate.h"

#include <errno.h>
#include <stdio.h>

#include "reloc.h"
#include "sigown.h"
#include "tramp.h"

int xlate_window(const struct reloc_place *place, size_t n, uint64_t at, size_t code_len, size_t rlen,
		 enum xlate_layout layout, uint64_t t, size_t tlen, char *reason, size_t reasonlen)
{
	struct sigown_point p[SIGOWN_POINTS];
	size_t np = 0;
	bool ret = n && place[n - 1].ret;
	uint64_t ret_pc = ret ? place[n - 1].orig : 0;
	uint64_t end = place[0].copy + rlen; /* past the relocated instructions */
	if (n + 5 > SIGOWN_POINTS) {
		snprintf(reason, reasonlen, "window at %#llx: too many instructions", (unsigned long long)at);
		return -E2BIG;
	}
	if (layout != XLATE_EXIT) { /* the entry stub */
		p[np++] = (struct sigown_point){ t, at, false };
		p[np++] = (struct sigown_point){ t + TRAMP_STUB_LEA, at, false };
	}
	for (size_t i = 0; i < n; i++)
		if (!place[i].ret)
			p[np++] = (struct sigown_point){ place[i].copy, place[i].orig, true };
	if (!ret) { /* the jump back: the instruction past the window */
		p[np++] = (struct sigown_point){ end, at + code_len, true };
	} else {    /* the exit stub, then the ret */
		p[np++] = (struct sigown_point){ end, ret_pc, false };
		p[np++] = (struct sigown_point){ end + TRAMP_STUB_LEA, ret_pc, false };
		p[np++] = (struct sigown_point){ end + TRAMP_STUB_LEN, ret_pc, true };
	}
	uint64_t entry_pc = layout != XLATE_EXIT ? at : 0;
	int rc = sigown_add_tramp(t, t + tlen, p, np, entry_pc, ret_pc);
	if (rc)
		snprintf(reason, reasonlen, "cannot keep the signal translation of the window at %#llx",
			 (unsigned long long)at);
	return rc;
}
