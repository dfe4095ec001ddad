/* xlate: which original instruction each instruction of a trampoline stands for, so
 * that a signal that interrupts it can be handed to Go as if it had interrupted the
 * original (sigown.h). Built from the window's own bytes and the trampoline's layout
 * (tramp.h), the same way golat_tramp_resume's table is: the relocated copy of the
 * window's instruction at offset o starts where relocating the bytes before it ends.
 *
 *  - a relocated instruction stands for its original, for every signal: it runs with
 *    the original's RSP, so a fault there is the original's fault, and a goroutine
 *    preempted there resumes at the original, which the resume table leads back;
 *  - the jump back at the end of an entry trampoline stands for the first
 *    instruction past the window;
 *  - a trampoline's final ret stands for the window's ret (the exit is recorded by
 *    then);
 *  - the two instructions of a stub (lea r12 / jmp) stand for the window's first
 *    byte (entry) or its ret (exit), for SIGPROF only: a profile sample lands in the
 *    hooked function, but nothing may resume a goroutine in a half-done stub. */
#ifndef GOLAT_XLATE_H
#define GOLAT_XLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reloc.h"

enum xlate_layout {
	XLATE_ENTRY, /* stub, code, jmp back */
	XLATE_EXIT,  /* code (ret dropped), stub, ret */
	XLATE_WHOLE, /* stub, code (ret dropped), stub, ret */
};

/* Registers with sigown the points of the trampoline [t, t + tlen) built from a window
 * of code_len bytes at `at`, whose n instructions were relocated to `place` (reloc_map)
 * and take rlen bytes there (the ret left out). 0 or -errno with a reason. */
int xlate_window(const struct reloc_place *place, size_t n, uint64_t at, size_t code_len, size_t rlen,
		 enum xlate_layout layout, uint64_t t, size_t tlen, char *reason, size_t reasonlen);

#endif
