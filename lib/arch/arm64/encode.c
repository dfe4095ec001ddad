/* encode: reads the PC-relative fields of A64 instructions and writes the few
 * instructions golat generates (B, BL, ADR, ADRP, ADD, MOVZ/MOVK, BR). Field
 * positions are the Arm ARM's (DDI 0487, C4.1 and C6.2); see arm64.h for the kinds. */
#include "arm64.h"
#include "arm64_int.h"

#include <errno.h>

/* Unconditional branch (register), bits 31:25 = 1101011: opc 24:21, op2 20:16 (11111),
 * op3 15:10, Rn 9:5, op4 4:0. BR, BLR and RET are opc 0000/0001/0010 with op3 and op4
 * zero; the rest of the class is pointer-authenticated or an exception return. */
#define A64_BR_MASK 0xfffffc1fu
#define A64_BR 0xd61f0000u
#define A64_BLR 0xd63f0000u
#define A64_RET 0xd65f0000u

enum arm64_kind arm64_kind(uint32_t w)
{
	if ((w & 0xfc000000u) == 0x14000000u) /* B: 000101 imm26 */
		return ARM64_B;
	if ((w & 0xfc000000u) == 0x94000000u) /* BL: 100101 imm26 */
		return ARM64_BL;
	if ((w & 0xff000000u) == 0x54000000u) /* B.cond: 01010100 imm19(23:5) o0(4) cond(3:0) */
		return ARM64_BCOND;
	if ((w & 0x7e000000u) == 0x34000000u) /* CBZ/CBNZ: sf 011010 op(24) imm19(23:5) Rt */
		return ARM64_CBZ;
	if ((w & 0x7e000000u) == 0x36000000u) /* TBZ/TBNZ: b5 011011 op(24) b40(23:19) imm14(18:5) Rt */
		return ARM64_TBZ;
	if ((w & 0x9f000000u) == 0x10000000u) /* ADR: 0 immlo(30:29) 10000 immhi(23:5) Rd */
		return ARM64_ADR;
	if ((w & 0x9f000000u) == 0x90000000u) /* ADRP: 1 immlo 10000 immhi Rd */
		return ARM64_ADRP;
	if ((w & 0x3b000000u) == 0x18000000u) /* LDR literal: opc(31:30) 011 V(26) 00 imm19 Rt */
		return (w >> 30) == 3 && (w & (1u << 26)) ? ARM64_REFUSED : ARM64_LDR_LIT;
	if ((w & 0xfe000000u) == 0xd6000000u) {
		if ((w & A64_BR_MASK) == A64_BR)
			return ARM64_OTHER;
		if ((w & A64_BR_MASK) == A64_BLR)
			return ARM64_BLR;
		if ((w & A64_BR_MASK) == A64_RET)
			return ARM64_RET;
		return ARM64_REFUSED;
	}
	if ((w & 0xff000000u) == 0xd4000000u) /* exception generation: SVC, HVC, SMC, BRK, HLT, DCPS */
		return ARM64_REFUSED;
	if ((w & 0xffff0000u) == 0) /* UDF #imm16 */
		return ARM64_REFUSED;
	return ARM64_OTHER;
}

const char *arm64_refusal(uint32_t w)
{
	if (arm64_kind(w) != ARM64_REFUSED)
		return NULL;
	if ((w & 0xfe000000u) == 0xd6000000u)
		return "a pointer-authenticated branch or an exception return";
	if ((w & 0x3b000000u) == 0x18000000u)
		return "an unallocated literal load encoding";
	return "it traps or enters the kernel, which would see the trampoline's pc";
}

bool arm64_target(uint32_t w, uint64_t pc, uint64_t *target)
{
	int64_t off;
	switch (arm64_kind(w)) {
	case ARM64_B:
	case ARM64_BL:
		off = a64_sfield(w, 0, 26) * 4;
		break;
	case ARM64_BCOND:
	case ARM64_CBZ:
	case ARM64_LDR_LIT:
		off = a64_sfield(w, 5, 19) * 4;
		break;
	case ARM64_TBZ:
		off = a64_sfield(w, 5, 14) * 4;
		break;
	case ARM64_ADR:
	case ARM64_ADRP: {
		/* imm = immhi(23:5):immlo(30:29), 21 bits signed */
		uint32_t imm = ((w >> 5) & 0x7ffffu) << 2 | ((w >> 29) & 3u);
		off = a64_sfield(imm, 0, 21);
		if (arm64_kind(w) == ARM64_ADRP) {
			*target = (pc & ~0xfffull) + (uint64_t)(off * 4096);
			return true;
		}
		break;
	}
	default:
		return false;
	}
	*target = pc + (uint64_t)off;
	return true;
}

unsigned arm64_literal_size(uint32_t w)
{
	unsigned opc = w >> 30;
	if (w & (1u << 26)) /* V: S, D, Q */
		return 4u << opc;
	return opc == 0 ? 4 : opc == 1 ? 8 : opc == 2 ? 4 : 0; /* W, X, LDRSW, PRFM */
}

bool a64_adr_reaches(uint64_t pc, uint64_t target)
{
	return a64_fits((int64_t)(target - pc), 21, 1);
}

bool a64_adrp_reaches(uint64_t pc, uint64_t target)
{
	return a64_fits((int64_t)((target & ~0xfffull) - (pc & ~0xfffull)), 21, 4096);
}

static uint32_t adr_imm(uint32_t base, unsigned rd, int64_t imm)
{
	uint32_t u = (uint32_t)imm & 0x1fffffu;
	return base | (u & 3u) << 29 | (u >> 2) << 5 | rd;
}

uint32_t a64_adr(unsigned rd, uint64_t pc, uint64_t target)
{
	return adr_imm(0x10000000u, rd, (int64_t)(target - pc));
}

uint32_t a64_adrp(unsigned rd, uint64_t pc, uint64_t target)
{
	return adr_imm(0x90000000u, rd, (int64_t)((target & ~0xfffull) - (pc & ~0xfffull)) / 4096);
}

/* ADD Xd, Xn, #imm12: sf=1 op=0 S=0 100010 sh(22)=0 imm12(21:10) Rn(9:5) Rd(4:0) */
uint32_t a64_add_imm(unsigned rd, unsigned rn, unsigned imm12)
{
	return 0x91000000u | (imm12 & 0xfffu) << 10 | rn << 5 | rd;
}

uint32_t a64_br(unsigned rn)
{
	return A64_BR | rn << 5;
}

/* ORR Xd, XZR, Xm (MOV Xd, Xm): sf=1 01 01010 shift=00 N=0 Rm(20:16) imm6=0 Rn=11111 Rd */
uint32_t a64_mov_reg(unsigned rd, unsigned rm)
{
	return 0xaa0003e0u | rm << 16 | rd;
}

/* MOVZ: sf=1 10 100101 hw(22:21) imm16(20:5) Rd; MOVK: sf=1 11 100101 ... */
static uint32_t movzk(bool keep, unsigned rd, unsigned hw, unsigned imm16)
{
	return (keep ? 0xf2800000u : 0xd2800000u) | hw << 21 | (imm16 & 0xffffu) << 5 | rd;
}

size_t a64_addr(uint32_t *out, uint64_t pc, unsigned reg, uint64_t addr, unsigned scale, unsigned *off)
{
	size_t n = 0;
	if (off)
		*off = 0;
	if (a64_adr_reaches(pc, addr)) {
		out[n++] = a64_adr(reg, pc, addr);
		return n;
	}
	if (a64_adrp_reaches(pc, addr)) {
		unsigned lo = addr & 0xfffu;
		out[n++] = a64_adrp(reg, pc, addr);
		if (scale && off && lo % scale == 0)
			*off = lo;
		else if (lo)
			out[n++] = a64_add_imm(reg, reg, lo);
		return n;
	}
	for (unsigned hw = 0; hw < 4; hw++) {
		unsigned part = (addr >> (16 * hw)) & 0xffffu;
		if (part || (hw == 3 && n == 0)) {
			out[n] = movzk(n > 0, reg, hw, part);
			n++;
		}
	}
	return n;
}

bool arm64_b_reaches(uint64_t from, uint64_t to)
{
	return a64_fits((int64_t)(to - from), 26, 4);
}

static int branch26(uint32_t *out, uint32_t op, uint64_t from, uint64_t to)
{
	if (!arm64_b_reaches(from, to))
		return -ERANGE;
	/* B/BL: op(31) 00101 imm26(25:0), the offset in words */
	*out = op | ((uint32_t)((int64_t)(to - from) / 4) & 0x3ffffffu);
	return 0;
}

int arm64_b(uint32_t *out, uint64_t from, uint64_t to)
{
	return branch26(out, 0x14000000u, from, to);
}

int arm64_bl(uint32_t *out, uint64_t from, uint64_t to)
{
	return branch26(out, 0x94000000u, from, to);
}

int arm64_jump(uint32_t out[ARM64_JUMP_MAX], size_t *n, uint64_t from, uint64_t to, int scratch)
{
	*n = 0;
	if (to & 3)
		return -ERANGE;
	if (arm64_b(out, from, to) == 0) {
		*n = 1;
		return 0;
	}
	if (scratch < 0 || scratch > 29)
		return -EINVAL;
	size_t k = a64_addr(out, from, (unsigned)scratch, to, 0, NULL);
	out[k++] = a64_br((unsigned)scratch);
	*n = k;
	return 0;
}
