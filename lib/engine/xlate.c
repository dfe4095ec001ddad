/* xlate: see xlate.h. */
#include "xlate.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <stdio.h>

#include "reloc.h"
#include "sigown.h"
#include "tramp.h"

int xlate_window(const uint8_t *src, size_t code_len, uint64_t at, enum xlate_layout layout,
		 uint64_t t, size_t tlen, char *reason, size_t n)
{
	csh cs;
	int rc = reloc_capstone_thread(&cs);
	if (rc) {
		snprintf(reason, n, "cannot open capstone");
		return rc;
	}
	cs_insn *insn;
	size_t cnt = cs_disasm(cs, src, code_len, at, 0, &insn);
	if (cnt == 0) {
		snprintf(reason, n, "cannot decode the window at %#llx", (unsigned long long)at);
		return -EINVAL;
	}
	struct sigown_point p[SIGOWN_POINTS];
	size_t np = 0;
	bool ret = insn[cnt - 1].id == X86_INS_RET;
	uint64_t code = layout == XLATE_EXIT ? t : t + TRAMP_STUB_LEN;
	uint64_t ret_pc = insn[cnt - 1].address;
	if (layout != XLATE_EXIT) { /* the entry stub */
		p[np++] = (struct sigown_point){ t, at, false };
		p[np++] = (struct sigown_point){ t + TRAMP_STUB_LEA, at, false };
	}
	size_t rlen = 0;
	for (size_t i = 0; i < cnt && rc == 0 && np + 4 <= SIGOWN_POINTS; i++) {
		size_t off = insn[i].address - at;
		uint8_t tmp[RELOC_MAX_OUT(32)];
		rc = reloc_window(src, off, at, code, 0, tmp, sizeof(tmp), &rlen, reason, n);
		if (rc == 0 && !(ret && i == cnt - 1))
			p[np++] = (struct sigown_point){ code + rlen, insn[i].address, true };
	}
	if (rc == 0 && np + 4 > SIGOWN_POINTS) {
		snprintf(reason, n, "window at %#llx: too many instructions", (unsigned long long)at);
		rc = -E2BIG;
	}
	if (rc == 0) {
		/* rlen: the relocated bytes before the window's last instruction. */
		size_t all = rlen;
		if (!ret) {
			uint8_t tmp[RELOC_MAX_OUT(32)];
			rc = reloc_window(src, code_len, at, code, 0, tmp, sizeof(tmp), &all, reason, n);
			if (rc == 0) /* the jump back: the instruction past the window */
				p[np++] = (struct sigown_point){ code + all, at + code_len, true };
		} else {
			uint64_t stub = code + all;
			p[np++] = (struct sigown_point){ stub, ret_pc, false };
			p[np++] = (struct sigown_point){ stub + TRAMP_STUB_LEA, ret_pc, false };
			p[np++] = (struct sigown_point){ stub + TRAMP_STUB_LEN, ret_pc, true };
		}
	}
	cs_free(insn, cnt);
	uint64_t entry_pc = layout != XLATE_EXIT ? at : 0, exit_pc = ret ? ret_pc : 0;
	if (rc == 0 && (rc = sigown_add_tramp(t, t + tlen, p, np, entry_pc, exit_pc)) != 0)
		snprintf(reason, n, "cannot keep the signal translation of the window at %#llx",
			 (unsigned long long)at);
	return rc;
}
