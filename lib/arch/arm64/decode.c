/* decode: finds a Go function's hook sites on arm64 (its entry and every RET) and
 * says which can be patched with one B.
 *
 * With one-word sites the x86 analyzer's hardest question is gone: no instruction
 * straddles a site, so a branch target on a site is fine (the branch lands on the B)
 * and a goroutine preempted at a site resumes on the B. What remains:
 *  - data in text. Go's arm64 assembler keeps a literal pool for constants and
 *    offsets it cannot build in one instruction (cmd/internal/obj/arm64/asm7.go,
 *    addpool/flushpool): the pool is emitted inside the function, after a B, a RET or
 *    at its end behind an UNDEF, and read with LDR literal. Assembly uses it
 *    (runtime.callNNN), and so did compiled code with large frames up to go1.19 at
 *    least (time.readFile). A pool word may have any value, a RET's too: the words a
 *    literal load of the function reads are data, never sites. The zero words that
 *    pad a function to 16 bytes are not instructions either (capstone 4 does not know
 *    UDF #0), nor sites.
 *  - reach: a B reaches ±128 MiB; a trampoline farther away cannot be used.
 *  - the entry instruction must move: arm64_reloc refuses traps and pointer
 *    authentication, and a word capstone does not know is refused here (it may be a
 *    PC-relative instruction of an extension newer than this relocator). Capstone 4
 *    does not know Armv8.1's atomics (CAS, LDADD, SWP, ...), which Go's compiled code
 *    holds behind a check of the CPU's features: never at an entry, in what the
 *    arm64_plans tests read.
 *  - a branch back to the entry (a loop, the morestack path's `B entry`) re-enters
 *    the trampoline: counted as the same call, as on x86 (entry_is_target says so).
 * A fault in the relocated entry instruction happens with LR and SP as at the entry,
 * so Go's preparePanic (runtime/signal_arm64.go), finding no function at the
 * trampoline's pc, makes the caller look as if it called sigpanic: a nil dereference
 * there is an ordinary panic, as on x86. Functions without a RET (tail calls, those
 * that never return) have no return site: plan.nsites is 0. */
#include "arm64.h"

#include <capstone/capstone.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t word(const uint8_t *code, size_t i)
{
	uint32_t w;
	memcpy(&w, code + 4 * i, 4);
	return w; /* the host is little-endian, as A64 code is */
}

/* Marks the words of the function that its literal loads read. */
static void mark_data(const uint8_t *code, size_t nwords, uint64_t entry, uint8_t *data)
{
	uint64_t end = entry + 4 * nwords;
	for (size_t i = 0; i < nwords; i++) {
		uint32_t w = word(code, i);
		uint64_t at;
		if (data[i] || arm64_kind(w) != ARM64_LDR_LIT || !arm64_target(w, entry + 4 * i, &at))
			continue;
		unsigned size = arm64_literal_size(w);
		for (uint64_t a = at; a < at + size; a += 4)
			if (a >= entry && a < end)
				data[(a - entry) / 4] = 1;
	}
}

static void plan_entry(struct arm64_plan *p, bool known, uint64_t entry, uint64_t tramp, int scratch)
{
	uint32_t out[ARM64_RELOC_MAX];
	size_t n;
	char why[160];
	p->entry_ok = false;
	if (!known)
		snprintf(p->entry_why, sizeof p->entry_why,
			 "entry instruction %08" PRIx32 " is unknown to capstone 4 (it may be PC-relative)", p->entry_insn);
	else if (!arm64_b_reaches(entry, tramp))
		snprintf(p->entry_why, sizeof p->entry_why, "trampoline at 0x%" PRIx64 " is out of a B's reach", tramp);
	else if (arm64_reloc(p->entry_insn, entry, tramp, scratch, out, &n, why, sizeof why) != 0)
		snprintf(p->entry_why, sizeof p->entry_why, "%s", why);
	else
		p->entry_ok = true;
}

int arm64_plan_func(const uint8_t *code, size_t len, uint64_t entry, uint64_t tramp, int scratch,
		    struct arm64_plan *plan, char *reason, size_t reasonlen)
{
	memset(plan, 0, sizeof *plan);
	if (len == 0 || len % 4 || entry % 4) {
		snprintf(reason, reasonlen, "function at 0x%" PRIx64 " of %zu bytes is not whole 4-byte words", entry, len);
		return -EINVAL;
	}
	size_t nwords = len / 4;
	uint8_t *data = calloc(nwords, 1);
	struct arm64_site *sites = calloc(nwords, sizeof *sites);
	csh cs = 0;
	if (!data || !sites || cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &cs) != CS_ERR_OK) {
		free(data);
		free(sites);
		snprintf(reason, reasonlen, "out of memory");
		return -ENOMEM;
	}
	mark_data(code, nwords, entry, data);
	cs_insn *insn = cs_malloc(cs);
	bool entry_known = false;
	for (size_t i = 0; insn && i < nwords; i++) {
		uint64_t pc = entry + 4 * i, target;
		uint32_t w = word(code, i);
		if (data[i]) {
			plan->ndata++;
			continue;
		}
		const uint8_t *p = code + 4 * i;
		size_t left = 4;
		uint64_t addr = pc;
		if (!cs_disasm_iter(cs, &p, &left, &addr, insn)) {
			if (w == 0)
				plan->npad++;
			else
				plan->nunknown++;
			continue;
		}
		plan->ninsns++;
		entry_known |= i == 0;
		enum arm64_kind k = arm64_kind(w);
		if ((k == ARM64_B || k == ARM64_BCOND || k == ARM64_CBZ || k == ARM64_TBZ) &&
		    arm64_target(w, pc, &target) && target == entry)
			plan->entry_is_target = true;
		if (k != ARM64_RET)
			continue;
		struct arm64_site *s = &sites[plan->nsites++];
		s->addr = pc;
		s->patchable = tramp == 0 || arm64_b_reaches(pc, tramp);
		s->why = s->patchable ? NULL : "the trampoline is out of a B's reach (±128 MiB)";
	}
	int rc = 0;
	if (!insn) {
		snprintf(reason, reasonlen, "out of memory");
		rc = -ENOMEM;
		free(sites);
		sites = NULL;
		plan->nsites = 0;
	}
	cs_free(insn, 1);
	cs_close(&cs);
	free(data);
	plan->sites = sites;
	if (rc)
		return rc;
	plan->entry_insn = word(code, 0);
	plan->entry_is_ret = arm64_kind(plan->entry_insn) == ARM64_RET;
	plan_entry(plan, entry_known, entry, tramp ? tramp : entry, scratch);
	return 0;
}

void arm64_plan_free(struct arm64_plan *plan)
{
	free(plan->sites);
	plan->sites = NULL;
	plan->nsites = 0;
}
