/* arm64: what golat must know of the A64 instruction set to hook a Go function on
 * linux/arm64. Pure computation on 4-byte words and addresses: no mmap, no process
 * state, so that it builds and is tested on any host.
 *
 * On arm64 every instruction is one aligned 4-byte word, so a hook site is one word
 * replaced by a `B` to its trampoline (±128 MiB): the function's entry instruction,
 * and each `RET`. No instruction straddles a site, so a branch that lands on a site
 * lands on the `B` and goes through the trampoline as the original would have gone
 * through the word (DESIGN.md, "arm64"). Three pieces:
 *  - reloc.c: the replaced word, moved into the trampoline, still does at `to` what
 *    it did at `from` (arm64_reloc);
 *  - encode.c: B, BL and the jump the trampolines use to get anywhere (arm64_b,
 *    arm64_bl, arm64_jump), and the field decoding both share;
 *  - decode.c: with capstone's ARM64 mode, a function's entry and returns and which
 *    of them can be patched (arm64_plan_func).
 *
 * Scratch registers. Go's ABI (cmd/compile/abi-internal.md, "arm64 architecture"):
 * "Registers R16 and R17 are permanent scratch registers. They are also used as
 * scratch registers by the linker (Go linker and external linker) in trampolines."
 * A call may reach its callee through such a linker veneer, so neither holds
 * anything at a function's entry; results come back in R0-R15 (F0-F15), so neither
 * holds anything at a RET either. R27 is also scratch for the assembler, R26 the
 * closure context at entry (live!), R28 is g, R29 the frame pointer, R30 the link
 * register (live at entry and at RET). golat uses R16 (IP0), ARM64_SCRATCH_GO, for
 * the relocated forms that need a register of their own; the trampolines may take
 * R17 too. Assembly functions (ABI0, NOFRAME) do not always follow this
 * (runtime.duffzero takes R20, for one): the analyzer refuses them by policy.
 *
 * A branch through a register (`BR X16`) lands fine on a page without BTI guard,
 * which is every Go page; through X16/X17 it would even be allowed to land on a
 * `BTI c`. */
#ifndef GOLAT_ARM64_H
#define GOLAT_ARM64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The register golat clobbers at a Go function's entry or RET (see above). */
#define ARM64_SCRATCH_GO 16
#define ARM64_NO_SCRATCH (-1)
#define ARM64_LR 30

/* The most words arm64_reloc writes: a BL to beyond ±4 GiB from `to` takes the link
 * address in 4 MOVZ/MOVK, the target in 4 more, and a BR. */
#define ARM64_RELOC_MAX 9
/* The most words arm64_jump writes: MOVZ + 3 MOVK + BR. */
#define ARM64_JUMP_MAX 5

/* What an instruction is, as far as moving it goes. */
enum arm64_kind {
	ARM64_OTHER,   /* no PC-relative operand: copied as is */
	ARM64_ADR,     /* Xd = pc + imm21 */
	ARM64_ADRP,    /* Xd = (pc & ~0xfff) + (imm21 << 12) */
	ARM64_LDR_LIT, /* LDR Wt/Xt/St/Dt/Qt, LDRSW Xt, PRFM, from pc + imm19*4 */
	ARM64_B,
	ARM64_BL,
	ARM64_BCOND,   /* B.cond (and BC.cond), ±1 MiB; B.AL and B.NV always branch */
	ARM64_CBZ,     /* CBZ/CBNZ, ±1 MiB */
	ARM64_TBZ,     /* TBZ/TBNZ, ±32 KiB */
	ARM64_BLR,     /* BLR Xn: the link register gets pc + 4 */
	ARM64_RET,     /* RET Xn (Xn is X30 for Go's RET) */
	ARM64_REFUSED, /* cannot run elsewhere: see arm64_refusal */
};

/* The kind of insn. */
enum arm64_kind arm64_kind(uint32_t insn);

/* The address insn at pc refers to: a branch's target, an ADR/ADRP's value, a
 * literal load's address. False for kinds without one (OTHER, BLR, RET, REFUSED). */
bool arm64_target(uint32_t insn, uint64_t pc, uint64_t *target);

/* How many bytes a literal load reads (4, 8 or 16; PRFM 0: it reads nothing).
 * insn must be of kind ARM64_LDR_LIT. */
unsigned arm64_literal_size(uint32_t insn);

/* Why insn cannot run at another address, or NULL: a phrase that follows "... cannot
 * be relocated: ". Refused: what traps or enters the kernel (SVC, HVC, SMC, BRK,
 * HLT, UDF, DCPS, ERET: the kernel and Go's signal handler would see the
 * trampoline's PC), and the pointer-authenticated branches and returns (their
 * modifier is SP or a register, but the link value of BLRAA & co. would be signed
 * in the trampoline). Go's compiler emits none of them. */
const char *arm64_refusal(uint32_t insn);

/* Relocates the one instruction `insn` that sits at `from` to `to`: writes into out
 * the words, placed at `to`, that have the effect the original had at `from`, and
 * their count to *n (1..ARM64_RELOC_MAX). When they end without branching away, the
 * program continues after them, at to + 4 * *n, where the caller puts whatever comes
 * next (the jump back to from + 4).
 *
 *  - ADR, ADRP: the same value in Xd: ADR/ADRP re-encoded when they reach, else
 *    ADRP + ADD, else MOVZ/MOVK.
 *  - Literal loads: re-encoded when the literal is within ±1 MiB of `to`, else its
 *    address is built in Xt itself (integer loads) or in the scratch register (S, D,
 *    Q, and a load into XZR) and loaded from there. PRFM out of reach becomes a NOP:
 *    a prefetch has no architectural effect.
 *  - B, B.cond, CBZ/CBNZ, TBZ/TBNZ: re-encoded when the target is in reach; else the
 *    condition inverted jumps over a B to the target, or over the absolute jump of
 *    arm64_jump through the scratch register when the B does not reach either.
 *  - BL, BLR: LR = from + 4, then a branch to the target. The callee returns to
 *    the original code right after the replaced instruction, which is where the
 *    trampoline would have jumped back to anyway: a return address inside a trampoline
 *    is fatal to Go's unwinder (runtime/traceback.go: "unexpected return pc"; it is
 *    why lib/arch/x86_64/reloc.c refuses x86's CALL), and it would be saved on the callee's
 *    stack. So after a BL nothing of the trampoline runs.
 *  - Everything else is copied as is (arm64_kind ARM64_OTHER and RET).
 * scratch is a register number (0-29) the relocated words may clobber, or
 * ARM64_NO_SCRATCH; only the forms said above use it.
 * A test of the scratch register itself (CBZ X16) is fine: the test runs before the
 * jump writes it.
 * Returns 0, or -EINVAL with a reason ("instruction 9c000043 at 0x... cannot be
 * relocated to 0x...: ...") when insn is refused, needs the scratch register and was
 * given none, or an address is not 4-byte aligned; scratch X30 (LR) or 31 is refused. */
int arm64_reloc(uint32_t insn, uint64_t from, uint64_t to, int scratch, uint32_t out[ARM64_RELOC_MAX],
		size_t *n, char *reason, size_t reasonlen);

/* Encoders. Each returns 0, or -ERANGE when the target is out of the form's reach
 * (or is not 4-byte aligned). */
bool arm64_b_reaches(uint64_t from, uint64_t to); /* ±128 MiB, aligned */
int arm64_b(uint32_t *out, uint64_t from, uint64_t to);
int arm64_bl(uint32_t *out, uint64_t from, uint64_t to);
/* A jump from `from` to anywhere: B when it reaches (1 word), else through the scratch
 * register: ADRP (+ ADD) + BR within ±4 GiB (2 or 3 words), else MOVZ/MOVK + BR (at most
 * 5). Writes *n words. -EINVAL when it needs scratch and scratch is
 * ARM64_NO_SCRATCH. */
int arm64_jump(uint32_t out[ARM64_JUMP_MAX], size_t *n, uint64_t from, uint64_t to, int scratch);

/* ---- decode.c: one function's hook sites (needs capstone) ---- */

/* A return of a function. */
struct arm64_site {
	uint64_t addr;   /* the RET */
	bool patchable;  /* the B to the trampoline reaches and nothing else forbids it */
	const char *why; /* why not, when !patchable */
};

struct arm64_plan {
	bool entry_ok;         /* the entry instruction can be relocated and the B reaches */
	char entry_why[160];   /* why not, when !entry_ok */
	uint32_t entry_insn;   /* the word the B replaces */
	bool entry_is_ret;     /* a one-instruction function: the entry is its RET */
	bool entry_is_target;  /* a branch inside the function goes to its entry (a loop
				  or the morestack path's `B entry`): it re-enters the
				  trampoline, which counts it as the same call */
	struct arm64_site *sites; /* every RET, by address (entry_is_ret: the entry too) */
	size_t nsites;
	uint32_t ninsns;       /* words decoded as instructions */
	uint32_t ndata;        /* words a literal load of the function reads: data */
	uint32_t npad;         /* zero words: the padding to 16 bytes between functions
				  (UDF #0, which capstone 4 does not know) */
	uint32_t nunknown;     /* other words capstone 4 does not know (newer instructions) */
};

/* Plans the function of len bytes at entry (code: its bytes as in the file; len may
 * include the padding up to the next function), for trampolines at tramp (the entry's
 * and each site's; 0: assume they reach). scratch is what the entry's relocation may
 * clobber (ARM64_SCRATCH_GO for Go functions). Returns 0 and fills plan (release it
 * with arm64_plan_free), or -EINVAL (len not a multiple of 4, or 0) / -ENOMEM with a
 * reason. A site that cannot be patched is not an error: see entry_ok and
 * arm64_site.patchable. */
int arm64_plan_func(const uint8_t *code, size_t len, uint64_t entry, uint64_t tramp, int scratch,
		    struct arm64_plan *plan, char *reason, size_t reasonlen);
void arm64_plan_free(struct arm64_plan *plan);

#endif
