/* csim: runs a few A64 words symbolically, reading them only through capstone's
 * ARM64 decoder (never through lib/arch/arm64's own field decoding), so that a
 * relocated sequence can be checked against the original instruction by what it
 * does: where control leaves, which general registers it sets to what, which
 * address it loads from. Memory is not read: a load writes a value made from its
 * address, so that two loads agree only when their addresses do.
 *
 * Knows what arm64_reloc emits and what it relocates: ADR, ADRP, MOVZ, MOVK, ADD
 * (immediate), MOV (register), LDR/LDRSW/PRFM (literal and [Xn, #imm]), B, BL, B.cond,
 * CBZ/CBNZ, TBZ/TBNZ, BR, BLR, RET, NOP. Anything else is an error. */
#ifndef GOLAT_TEST_CSIM_H
#define GOLAT_TEST_CSIM_H

#include <capstone/capstone.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CSIM_FALLTHROUGH UINT64_MAX /* exit_pc when the words ran to their end */

struct csim_state {
	uint64_t x[31]; /* X0-X30 */
	unsigned nzcv;  /* N Z C V in bits 3..0 */
};

struct csim_result {
	uint64_t exit_pc;  /* where control left the words, or CSIM_FALLTHROUGH */
	uint64_t x[31];    /* registers at the exit */
	int vreg;          /* the SIMD/FP register a load wrote, or -1 */
	uint64_t vaddr;    /* and the address it loaded from */
	unsigned vsize;
	bool prefetch;     /* a PRFM ran */
	uint64_t paddr;    /* its address */
	unsigned steps;
	unsigned nzcv_in; /* the flags it ran with */
};

/* The value a load from addr of size bytes puts in a general register. */
uint64_t csim_loaded(uint64_t addr, unsigned size, bool sign);

/* Runs words[0..n) placed at pc from state in; 0 or -1 with err. cs must be an
 * ARM64 handle with details on. */
int csim_run(csh cs, const uint32_t *words, size_t n, uint64_t pc, const struct csim_state *in,
	     struct csim_result *out, char *err, size_t errlen);

/* Compares the original's run (at from, its fall-through from + 4) with the relocated
 * words' run (their fall-through is the original's, after them): the same exit, the
 * same registers but for scratch (-1: none), the same SIMD load. A PRFM may have
 * become a NOP. Returns NULL or what differs. */
const char *csim_same(const struct csim_result *orig, uint64_t from, const struct csim_result *rel,
		      int scratch, char *buf, size_t buflen);

/* The condition code cc (capstone's arm64_cc: EQ=1 .. NV=16) under nzcv. */
bool csim_cond(int cc, unsigned nzcv);

#endif
