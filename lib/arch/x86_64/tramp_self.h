/* tramp_self.h, x86-64: how the stubs in assembly (tramp.S, recfast.S) find this
 * thread's block (struct tramp_thread, tramp.h), as tramp_self does in C. */
#ifndef GOLAT_TRAMP_SELF_H
#define GOLAT_TRAMP_SELF_H

/* TRAMP_SELF reg, none: reg = this thread's struct tramp_thread (tramp.h, tramp_self),
 * flags clobbered. libgolat: tramp_tls, at its initial-exec offset from FS's base
 * (never none). Agent: the pointer at fs:0 (m.tls[1]), and a jump to `none` when the
 * thread has no block yet. */
#ifdef GOLAT_AGENT
.macro TRAMP_SELF reg, none
	movq	%fs:0, \reg
	testq	\reg, \reg
	jz	\none
.endm
#else
.macro TRAMP_SELF reg, none
	movq	tramp_tls@gottpoff(%rip), \reg
	addq	%fs:0, \reg
.endm
#endif

#endif
