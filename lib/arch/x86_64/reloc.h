/* reloc: moves the instructions of a patch window to another address (the
 * trampoline), and encodes the jumps that the patcher writes over the window.
 *
 * The rules of what may move live here, once (DESIGN.md, "Patching safely"):
 * analyze asks reloc_refusal() while it chooses windows, and reloc_window()
 * applies the same rules when a trampoline is built.
 *
 *  - jmp and jcc, rel8 or rel32, are re-encoded as rel32 (E9 / 0F 8x) to their
 *    original targets: a rel8 cannot reach back from the trampoline.
 *  - An operand [rip+disp32] gets its displacement adjusted, so that it still
 *    addresses the same byte.
 *  - Everything else without a position-dependent operand is copied byte for byte.
 *  - Refused: call (a return address inside a trampoline is fatal to Go's unwinder,
 *    runtime/traceback.go: "unexpected return pc"), ret other than the last
 *    instruction of a return window, loop/loope/loopne/jrcxz/jecxz (rel8 only: no
 *    wider form exists), indirect and far jumps, xbegin, traps (int, int3, syscall,
 *    ud2, hlt) and whatever capstone does not know.
 * Whether an instruction may *fault* where it is moved (a nil dereference in the
 * trampoline) is a question of where RSP stands, so it is analyze's, not reloc's.
 *
 * Addresses are run-time addresses where the code runs (or link-time ones in tests:
 * only differences matter). Every function here returns 0 or a negative errno-style
 * code with a reason ("call at 0x4a1f03 cannot be relocated: ...") that the caller
 * prefixes with the function's name. */
#ifndef GOLAT_RELOC_H
#define GOLAT_RELOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <capstone/capstone.h>

/* Bytes of the jumps written over windows. */
#define RELOC_JMP32_LEN 5 /* E9 rel32 */
#define RELOC_JMP8_LEN 2  /* EB rel8: the hop into a function's padding */

/* An upper bound of reloc_window's output for len input bytes: the worst growth is
 * a 2-byte jcc rel8 becoming a 6-byte jcc rel32. */
#define RELOC_MAX_OUT(len) (3 * (size_t)(len))

/* reloc_window flags */
#define RELOC_DROP_RET 0x1 /* the window ends with a ret: leave it out (the trampoline
			      records the exit, then returns itself) */

/* Opens a capstone handle for x86-64 with instruction details on, as reloc and
 * analyze need it. Returns 0 or -ENOMEM/-EINVAL; close it with cs_close. */
int reloc_capstone_open(csh *handle);

/* The calling thread's handle, opened like reloc_capstone_open on its first use and
 * closed when the thread exits; the caller must not close it. For code that decodes
 * once per function or per window: capstone builds a table of every x86 instruction
 * on a handle's first detailed decode, which costs more than decoding a typical Go
 * function, so a handle per call made GOLAT_FUNCS='*' spend most of its time there.
 * Returns 0 or -ENOMEM/-EINVAL. */
int reloc_capstone_thread(csh *handle);

/* Why insn (decoded with details) cannot run at another address, as a phrase that
 * follows its text ("call 0x4010a0" + " cannot be relocated: " + phrase), or NULL
 * when it can. A ret is refused here; return windows handle their final ret. */
const char *reloc_refusal(const cs_insn *insn);

/* Re-encodes the len bytes of code that sit at address src so that they run at
 * dst, writing at most cap bytes to out and their count to *outlen. Branches leave
 * to their original targets; the caller appends the jump back (or the ret).
 * A branch from the window into its own bytes other than its first byte is refused
 * (the patch jump overwrote them). With RELOC_DROP_RET the last instruction must be
 * a ret and is not emitted.
 * Returns 0; -EINVAL with a reason when an instruction cannot be decoded or
 * relocated, or the bytes do not end on an instruction boundary; -ERANGE when a
 * rel32 or an adjusted displacement does not reach from dst; -ENOSPC when cap is
 * too small (RELOC_MAX_OUT(len) always suffices). */
int reloc_window(const uint8_t *code, size_t len, uint64_t src, uint64_t dst, unsigned flags,
		 uint8_t *out, size_t cap, size_t *outlen, char *reason, size_t reasonlen);

/* One instruction of a window and where its relocated copy starts. */
struct reloc_place {
	uint64_t orig; /* the instruction, at src + its offset */
	uint64_t copy; /* dst + the bytes the instructions before it take once relocated */
	bool ret;      /* it is a ret */
};
#define RELOC_MAX_INSNS 32 /* a window's instructions at most (one byte each, at worst) */

/* Where each instruction of the len bytes at src lands when they are relocated to
 * dst, in order, into place[cap]; *n of them. Every later user of a trampoline's
 * layout (the resume table, signal translation) reads it from here, so that all agree
 * with reloc_window. 0 or -errno with a reason. */
int reloc_map(const uint8_t *code, size_t len, uint64_t src, uint64_t dst, struct reloc_place *place,
	      size_t cap, size_t *n, char *reason, size_t reasonlen);

/* True when a jump whose next instruction is at `next` reaches `to` with a rel32. */
bool reloc_rel32_reaches(uint64_t next, uint64_t to);

/* Encodes `jmp to` placed at `from`: E9 rel32 (5 bytes) or EB rel8 (2 bytes).
 * Return 0, or -ERANGE when to is out of reach. */
int reloc_jmp32(uint8_t out[RELOC_JMP32_LEN], uint64_t from, uint64_t to);
int reloc_jmp8(uint8_t out[RELOC_JMP8_LEN], uint64_t from, uint64_t to);

#endif
