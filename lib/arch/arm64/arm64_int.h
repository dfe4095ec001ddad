/* arm64_int: the A64 field layouts that encode.c, reloc.c and decode.c share. The
 * encodings are the Arm ARM's (DDI 0487, C4 "A64 instruction set encoding"); each
 * helper names its fields with their bit positions. */
#ifndef GOLAT_ARM64_INT_H
#define GOLAT_ARM64_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define A64_NOP 0xd503201fu

/* The signed value of the bits [lo, lo + width) of w. */
static inline int64_t a64_sfield(uint32_t w, unsigned lo, unsigned width)
{
	uint64_t v = (w >> lo) & ((1ull << width) - 1);
	uint64_t sign = 1ull << (width - 1);
	return (int64_t)(v ^ sign) - (int64_t)sign;
}

/* Whether the byte distance d fits a signed field of `bits` bits counting units of
 * `unit` bytes (4 for branches and literals, 4096 for ADRP pages). */
static inline bool a64_fits(int64_t d, unsigned bits, int64_t unit)
{
	if (d % unit)
		return false;
	int64_t q = d / unit, lim = 1ll << (bits - 1);
	return q >= -lim && q < lim;
}

/* Encoders of the words the relocated forms are made of. reg numbers 0-30 (31 is
 * XZR or SP by instruction: the callers never pass it). */
uint32_t a64_adr(unsigned rd, uint64_t pc, uint64_t target);   /* caller checked reach */
uint32_t a64_adrp(unsigned rd, uint64_t pc, uint64_t target);  /* caller checked reach */
uint32_t a64_add_imm(unsigned rd, unsigned rn, unsigned imm12); /* ADD Xd, Xn, #imm12 */
uint32_t a64_br(unsigned rn);
uint32_t a64_mov_reg(unsigned rd, unsigned rm); /* ORR Xd, XZR, Xm */
bool a64_adr_reaches(uint64_t pc, uint64_t target);
bool a64_adrp_reaches(uint64_t pc, uint64_t target);

/* Builds the 64-bit address addr in Xreg with words placed from pc: ADR when it
 * reaches, else ADRP (+ ADD of the page offset), else MOVZ + up to 3 MOVK. With
 * scale non-zero the caller will load from [Xreg, #off] with an offset scaled by
 * `scale`: a page offset that is a multiple of it is left to the load (*off), not
 * added. Returns the number of words written to out (at most 4). */
size_t a64_addr(uint32_t *out, uint64_t pc, unsigned reg, uint64_t addr, unsigned scale, unsigned *off);

#endif
