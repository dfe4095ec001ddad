/* reloc: one A64 instruction moved from `from` to `to` (a trampoline), with the
 * same effect; see arm64.h for the forms and arm64_int.h for the encoders. */
#include "arm64.h"
#include "arm64_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

struct out {
	uint32_t *w;
	size_t n;
	uint64_t to; /* where w[0] sits */
	uint32_t insn;
	uint64_t from;
	char *reason;
	size_t reasonlen;
};

static uint64_t here(const struct out *o)
{
	return o->to + 4 * o->n;
}

static int refuse(struct out *o, const char *why)
{
	snprintf(o->reason, o->reasonlen, "instruction %08" PRIx32 " at 0x%" PRIx64 " cannot be relocated to 0x%" PRIx64 ": %s",
		 o->insn, o->from, o->to, why);
	return -EINVAL;
}

/* Appends a jump from here to target, through scratch when a B does not reach. */
static int jump(struct out *o, uint64_t target, int scratch)
{
	size_t k;
	int rc = arm64_jump(o->w + o->n, &k, here(o), target, scratch);
	if (rc == -EINVAL)
		return refuse(o, "its target is out of a B's reach and no scratch register is free");
	if (rc)
		return refuse(o, "its target is not 4-byte aligned");
	o->n += k;
	return 0;
}

/* B.cond, CBZ/CBNZ, TBZ/TBNZ: the same word with a new offset when it reaches, else
 * the inverted condition over a jump to the target. The immediate is imm19 at bits
 * 23:5 (B.cond, CB) or imm14 at bits 18:5 (TB); the sense is cond bit 0 (B.cond:
 * cond 1110 and 1111 always branch) or op, bit 24 (CBZ 0 / CBNZ 1, TBZ 0 / TBNZ 1). */
static int cond_branch(struct out *o, unsigned bits, int scratch)
{
	uint64_t target;
	arm64_target(o->insn, o->from, &target);
	uint32_t field = ((1u << bits) - 1) << 5;
	int64_t d = (int64_t)(target - o->to);
	if (a64_fits(d, bits, 4)) {
		o->w[o->n++] = (o->insn & ~field) | (((uint32_t)(d / 4) << 5) & field);
		return 0;
	}
	bool bcond = arm64_kind(o->insn) == ARM64_BCOND;
	if (bcond && (o->insn & 0xfu) >= 0xe)
		return jump(o, target, scratch);
	/* B.cond's bit 4 (o0: BC.cond, the "consistent" hint) is dropped on the inverted
	 * branch, whose behaviour is no longer the original's. */
	uint32_t inv = bcond ? (o->insn & ~(field | 0x10u)) ^ 1u : (o->insn & ~field) ^ (1u << 24);
	size_t at = o->n++;
	int rc = jump(o, target, scratch);
	if (rc)
		return rc;
	/* Over the jump: to the word after it, where the trampoline goes on. */
	o->w[at] = inv | (((uint32_t)(o->n - at)) << 5 & field);
	return 0;
}

/* LDR/LDRSW/PRFM literal, and the loads of S, D, Q. The unsigned-offset form
 * (LDR Xt, [Xn, #imm12 * size]) has, for each literal form (opc 31:30, V 26):
 *   opc V | literal      | unsigned offset
 *   00  0 | LDR Wt       | 0xb9400000 (size 4)
 *   01  0 | LDR Xt       | 0xf9400000 (size 8)
 *   10  0 | LDRSW Xt     | 0xb9800000 (size 4)
 *   11  0 | PRFM         | 0xf9800000 (size 8)
 *   00  1 | LDR St       | 0xbd400000 (size 4)
 *   01  1 | LDR Dt       | 0xfd400000 (size 8)
 *   10  1 | LDR Qt       | 0x3dc00000 (size 16)
 * imm12 at 21:10, Rn at 9:5, Rt at 4:0. */
static int literal(struct out *o, int scratch)
{
	static const uint32_t uoff[2][4] = {
		{ 0xb9400000u, 0xf9400000u, 0xb9800000u, 0xf9800000u },
		{ 0xbd400000u, 0xfd400000u, 0x3dc00000u, 0 },
	};
	uint64_t addr;
	arm64_target(o->insn, o->from, &addr);
	int64_t d = (int64_t)(addr - o->to);
	if (a64_fits(d, 19, 4)) {
		o->w[o->n++] = (o->insn & ~(0x7ffffu << 5)) | ((uint32_t)(d / 4) & 0x7ffffu) << 5;
		return 0;
	}
	unsigned opc = o->insn >> 30, v = (o->insn >> 26) & 1, rt = o->insn & 31;
	unsigned size = arm64_literal_size(o->insn);
	if (!v && opc == 3) { /* PRFM: a hint, nothing to do */
		o->w[o->n++] = A64_NOP;
		return 0;
	}
	/* The address goes into Xt itself when the load overwrites it anyway; Rt 31 of
	 * an integer load is XZR, but as a base register 31 is SP. */
	int base = !v && rt != 31 ? (int)rt : scratch;
	if (base < 0 || base > 29)
		return refuse(o, "its literal is out of reach and no scratch register is free");
	unsigned off;
	o->n += a64_addr(o->w + o->n, here(o), (unsigned)base, addr, size, &off);
	o->w[o->n++] = uoff[v][opc] | (off / size) << 10 | (unsigned)base << 5 | rt;
	return 0;
}

/* ADR, ADRP: Xd gets the value the original computed at from. Rd 31 is XZR here:
 * the instruction has no effect. */
static void address(struct out *o)
{
	uint64_t value;
	unsigned rd = o->insn & 31;
	arm64_target(o->insn, o->from, &value);
	if (rd == 31)
		o->w[o->n++] = A64_NOP;
	else if (arm64_kind(o->insn) == ARM64_ADRP && a64_adrp_reaches(o->to, value))
		o->w[o->n++] = a64_adrp(rd, o->to, value);
	else
		o->n += a64_addr(o->w + o->n, o->to, rd, value, 0, NULL);
}

/* BL, BLR: LR = from + 4, then branch (arm64.h says why not the trampoline). */
static int call(struct out *o, int scratch)
{
	uint64_t target = 0;
	unsigned rn = (o->insn >> 5) & 31;
	bool blr = arm64_kind(o->insn) == ARM64_BLR;
	if (blr && rn == ARM64_LR) { /* BLR X30: keep the target before LR changes */
		if (scratch < 0 || scratch > 29)
			return refuse(o, "BLR X30 needs a scratch register and none is free");
		o->w[o->n++] = a64_mov_reg((unsigned)scratch, ARM64_LR);
		rn = (unsigned)scratch;
	}
	o->n += a64_addr(o->w + o->n, here(o), ARM64_LR, o->from + 4, 0, NULL);
	if (blr) {
		o->w[o->n++] = a64_br(rn);
		return 0;
	}
	arm64_target(o->insn, o->from, &target);
	return jump(o, target, scratch);
}

int arm64_reloc(uint32_t insn, uint64_t from, uint64_t to, int scratch, uint32_t out[ARM64_RELOC_MAX],
		size_t *n, char *reason, size_t reasonlen)
{
	struct out o = { .w = out, .to = to, .insn = insn, .from = from, .reason = reason, .reasonlen = reasonlen };
	int rc = 0;
	*n = 0;
	if ((from | to) & 3)
		return refuse(&o, "an address is not 4-byte aligned");
	if (scratch == ARM64_LR || scratch == 31)
		return refuse(&o, "X30 and SP/XZR cannot be scratch registers");
	uint64_t target;
	switch (arm64_kind(insn)) {
	case ARM64_REFUSED:
		return refuse(&o, arm64_refusal(insn));
	case ARM64_ADR:
	case ARM64_ADRP:
		address(&o);
		break;
	case ARM64_LDR_LIT:
		rc = literal(&o, scratch);
		break;
	case ARM64_B:
		arm64_target(insn, from, &target);
		rc = jump(&o, target, scratch);
		break;
	case ARM64_BL:
	case ARM64_BLR:
		rc = call(&o, scratch);
		break;
	case ARM64_BCOND:
	case ARM64_CBZ:
		rc = cond_branch(&o, 19, scratch);
		break;
	case ARM64_TBZ:
		rc = cond_branch(&o, 14, scratch);
		break;
	case ARM64_OTHER:
	case ARM64_RET:
		out[o.n++] = insn;
		break;
	}
	*n = rc ? 0 : o.n;
	return rc;
}
