/* recfast.S: the recorder's fast path — every trampoline jumps to golat_rec_fast.
 *
 * On entry R12 = struct tramp_desc * and RSP = the goroutine's SP, untouched, as for
 * golat_tramp_common (tramp.S). It handles the common case whole: the goroutine is
 * one this thread recorded lately (its entry in the thread's cache of goroutines,
 * gslot.h) and its slot is still this thread's, its calls in flight fit the slot's
 * frames (inline, or in an extension block it has), and (at an exit) the frame on top is this call and the duration
 * falls inside the cell's window. Anything else — a first call, a goroutine new to
 * this thread or one whose entry another took, a panic's leftovers, morestack coming back to an entry, a cell
 * page not claimed yet, a duration outside the window, CLOCK_MONOTONIC — it leaves
 * to golat_tramp_common and recorder.c, having changed nothing: every check comes
 * before the first store to the recorder's state, and the registers are restored
 * before the jump.
 *
 * Registers: R12 and R13 (dead at a Go function's entry and at its ret in
 * ABIInternal: cmd/compile/internal/abi, "R12, R13: scratch"), and RAX RBX RCX RDX RSI
 * RDI R8, saved in this thread's block (struct tramp_thread, tramp.h: TLS in
 * libgolat.so, at fs:0 in the agent) and restored: no byte of the goroutine's stack,
 * none of golat's stack, flags clobbered (dead at both points). T_BUSY is 1 while the
 * saved registers are in use: a hooked call from a signal handler on this thread is
 * let through unrecorded (tramp_busy), as golat_tramp_common does. A thread with no
 * block yet (the agent's, before its first recorded call: TRAMP_SELF, tramp_self.h) goes
 * to golat_tramp_common, which makes it; in libgolat.so the lookup is the same two
 * instructions as ever. Offsets: recfast.h. */
#include "recfast.h"
#include "tramp_self.h"

#define TRAMP_ENTRY 1
#define TRAMP_EXIT 2

/* FRAME_AT check: rsi = frame r8d of the slot at rbx (gslot.h, gslot_frame): inline,
 * or in the extension block; with check 1, a jump to .Lslow when it is an extension
 * frame and the slot has no block (0 where the frame is known to exist: after the
 * first store). r8 clobbered. */
.macro FRAME_AT check
	cmpl	$S_INLINE, %r8d
	jae	81f
	imull	$F_SIZE, %r8d, %r8d
	leaq	S_F0(%rbx,%r8), %rsi
	jmp	82f
81:	subl	$S_INLINE, %r8d
	imull	$F_SIZE, %r8d, %r8d
	movq	S_EXT(%rbx), %rsi
.if \check
	testq	%rsi, %rsi
	jz	.Lslow
.endif
	addq	%r8, %rsi
82:
.endm

/* The registers as the trampoline left them, and the thread no longer busy: the two
 * ways out (done, or on to golat_tramp_common) differ only in where they jump. */
.macro RESTORE
	movq	T_SAVE(%r13), %rax
	movq	T_SAVE+8(%r13), %rbx
	movq	T_SAVE+16(%r13), %rcx
	movq	T_SAVE+24(%r13), %rdx
	movq	T_SAVE+32(%r13), %rsi
	movq	T_SAVE+40(%r13), %rdi
	movq	T_SAVE+48(%r13), %r8
	movq	$0, T_BUSY(%r13)
.endm

	.bss
	.p2align 3
	/* Set by rec_init (recorder.c); golat_rec_on is 0 until then, and stays 0 when
	 * the fast path cannot be used (CLOCK_MONOTONIC, g.stack.hi elsewhere). */
	.globl golat_rec_on, golat_rec_g_tls, golat_rec_goid, golat_rec_gens, golat_rec_sample
	.hidden golat_rec_on, golat_rec_g_tls, golat_rec_goid, golat_rec_gens, golat_rec_sample
	.globl golat_rec_pcbase, golat_rec_args
	.hidden golat_rec_pcbase, golat_rec_args
golat_rec_g_tls: .zero 8	/* g is at fs:[golat_rec_g_tls] */
golat_rec_gens: .zero 8		/* uint32_t gens[REC_MAX_FNS] */
golat_rec_pcbase: .zero 8	/* runtime.text here: call sites are offsets from it */
golat_rec_on: .zero 4
golat_rec_goid: .zero 4		/* offset of goid in runtime.g */
golat_rec_sample: .zero 4	/* GOLAT_SAMPLE */
golat_rec_args: .zero 4		/* GOLAT_SLOWEST > 0: frames keep the argument registers */

	.text
	.p2align 4
	.globl golat_rec_fast
	.hidden golat_rec_fast
	.type golat_rec_fast, @function
golat_rec_fast:
	TRAMP_SELF %r13, .Lcommon		/* r13 = this thread's struct tramp_thread */
	cmpq	$0, T_BUSY(%r13)
	jne	.Lcommon			/* nested: golat_tramp_common counts it */
	movq	%r12, T_DESC(%r13)		/* before busy: sigown reads it when busy */
	movq	$1, T_BUSY(%r13)
	movq	%rax, T_SAVE(%r13)
	movq	%rbx, T_SAVE+8(%r13)
	movq	%rcx, T_SAVE+16(%r13)
	movq	%rdx, T_SAVE+24(%r13)
	movq	%rsi, T_SAVE+32(%r13)
	movq	%rdi, T_SAVE+40(%r13)
	movq	%r8, T_SAVE+48(%r13)
	movl	12(%r12), %eax			/* desc->kind */
	cmpl	$TRAMP_EXIT, %eax
	ja	.Lslow				/* the process-exit hook: C */
	jne	1f
	cmpl	$1, golat_rec_sample(%rip)	/* every call timed: the clock first, as C does */
	jne	1f
	rdtsc
	shlq	$32, %rdx
	orq	%rdx, %rax
	movq	%rax, T_NOW(%r13)
1:	cmpl	$0, golat_rec_on(%rip)
	je	.Lslow
	/* The goroutine, its slot (its entry in this thread's cache, gslot.h), and that
	 * the slot is still this goroutine's there. */
	movq	golat_rec_g_tls(%rip), %rax
	movq	%fs:(%rax), %rax		/* rax = g */
	testq	%rax, %rax
	jz	.Lslow
	movq	T_GCACHE(%r13), %rbx
	testq	%rbx, %rbx
	jz	.Lslow
	imull	$E_MUL, %eax, %edx
	shrl	$(32 - E_BITS), %edx
	shll	$(E_SHIFT + 1), %edx
	addq	%rdx, %rbx			/* rbx = g's set of two entries */
	cmpq	%rax, E_G(%rbx)
	je	18f
	addq	$(1 << E_SHIFT), %rbx		/* the other one */
	cmpq	%rax, E_G(%rbx)
	jne	.Lslow
18:	/* rbx = g's entry */
	movq	E_KEYP(%rbx), %rdx
	movq	(%rdx), %rdx
	cmpq	%rdx, E_KEY(%rbx)
	jne	.Lslow
	movq	E_SLOT(%rbx), %rbx		/* rbx = slot */
	movl	golat_rec_goid(%rip), %edx
	movq	(%rax,%rdx), %rdx
	cmpq	%rdx, S_GOID(%rbx)
	jne	.Lslow				/* a new goroutine on a reused g */
	cmpl	$0, S_UNTRACKED(%rbx)
	jne	.Lslow
	movq	G_STACK_HI(%rax), %rcx
	subq	%rsp, %rcx			/* rcx = depth */
	/* This thread's cell of the function. */
	movl	8(%r12), %edx			/* rdx = fn (desc->fn) */
	movl	%edx, %edi
	shrl	$4, %edi
	cmpl	T_NDIR(%r13), %edi
	jae	.Lslow
	movq	T_DIR(%r13), %rsi
	movq	(%rsi,%rdi,8), %rdi
	testq	%rdi, %rdi
	jz	.Lslow
	movl	%edx, %esi
	andl	$15, %esi
	shll	$8, %esi
	addq	%rsi, %rdi			/* rdi = cell */
	/* The frame id: fn and its attach generation (recorder.c, frame_id). */
	movq	golat_rec_gens(%rip), %rax
	movl	(%rax,%rdx,4), %eax
	andl	$0xfff, %eax
	shll	$20, %eax
	orl	%edx, %eax			/* eax = id */
	movl	S_N(%rbx), %edx
	cmpl	$TRAMP_ENTRY, 12(%r12)
	jne	.Lexit

	/* Entry: pushes frame n above a shallower one; in the extension block past the
	 * inline frames, when the slot has one (C gives it one, and takes the calls past
	 * the last frame). */
	testl	%edx, %edx
	jnz	1f
	leaq	S_F0(%rbx), %rsi		/* the first frame: the common case */
	jmp	2f
1:	cmpl	$S_FRAMES, %edx
	jae	.Lslow
	leal	-1(%rdx), %r8d
	FRAME_AT 1				/* rsi = the frame on top */
	cmpl	%ecx, F_DEPTH(%rsi)		/* must be shallower */
	jae	.Lslow				/* the same call again, or one a panic left */
	movl	%edx, %r8d
	FRAME_AT 1				/* rsi = the new frame */
2:
	incq	C_ENTRIES(%rdi)
	movl	%eax, F_ID(%rsi)
	movl	%ecx, F_DEPTH(%rsi)
	movq	(%rsp), %rax			/* the return address: the call site */
	movq	%rax, F_PC(%rsi)
	movq	$0, F_CHILD(%rsi)
	cmpl	$0, golat_rec_args(%rip)
	je	13f
	movq	T_SAVE(%r13), %rax		/* RAX RBX RCX RDI RSI R8 R9 R10 R11 */
	movq	%rax, F_ARGS(%rsi)
	movq	T_SAVE+8(%r13), %rax
	movq	%rax, F_ARGS+8(%rsi)
	movq	T_SAVE+16(%r13), %rax
	movq	%rax, F_ARGS+16(%rsi)
	movq	T_SAVE+40(%r13), %rax
	movq	%rax, F_ARGS+24(%rsi)
	movq	T_SAVE+32(%r13), %rax
	movq	%rax, F_ARGS+32(%rsi)
	movq	T_SAVE+48(%r13), %rax
	movq	%rax, F_ARGS+40(%rsi)
	movq	%r9, F_ARGS+48(%rsi)
	movq	%r10, F_ARGS+56(%rsi)
	movq	%r11, F_ARGS+64(%rsi)
13:	incl	S_N(%rbx)
	movl	golat_rec_sample(%rip), %eax
	cmpl	$1, %eax
	jbe	4f
	movl	C_SEQ(%rdi), %edx		/* entries to skip before the next timed one */
	testl	%edx, %edx
	jz	3f
	decl	C_SEQ(%rdi)
	movq	$0, F_TSC(%rsi)
	jmp	.Lrestore
3:	decl	%eax
	movl	%eax, C_SEQ(%rdi)
4:	rdtsc					/* last: the bookkeeping is not the call's time */
	shlq	$32, %rdx
	orq	%rdx, %rax
	movq	%rax, F_TSC(%rsi)
	jmp	.Lrestore

	/* Exit: pops frame n - 1, which must be this call: same depth, same id. */
.Lexit:
	cmpl	$1, %edx
	jb	.Lslow
	ja	5f
	cmpq	$0, S_EXT(%rbx)			/* the last frame: C gives the extension back */
	jne	.Lslow
	leaq	S_F0(%rbx), %rsi		/* rsi = the frame on top, the first */
	jmp	6f
5:	cmpl	$S_FRAMES, %edx
	ja	.Lslow
	leal	-1(%rdx), %r8d
	FRAME_AT 1				/* rsi = the frame on top */
6:
	cmpl	%ecx, F_DEPTH(%rsi)
	jne	.Lslow
	cmpl	%eax, F_ID(%rsi)
	jne	.Lslow
	/* Its caller entry (callers.h): key site << 32 | 1 + fn, at one of the
	 * K_PROBES entries from its hash; a new key, or a site outside the Go text, C
	 * handles. Kept in T_SCRATCH: the bucket needs every register. */
	movl	8(%r12), %edx
	incl	%edx				/* edx = 1 + fn */
	movq	F_PC(%rsi), %r8
	subq	golat_rec_pcbase(%rip), %r8	/* r8 = the site */
	movl	$STATS_NOSITE, %eax
	cmpq	%rax, %r8
	jae	.Lslow
	imull	$K_MUL1, %edx, %eax
	xorl	%r8d, %eax
	imull	$K_MUL2, %eax, %eax
	shrl	$K_SHIFT, %eax
	andl	T_CMASK(%r13), %eax		/* eax = the first probe */
	shlq	$32, %r8
	orq	%rdx, %r8			/* r8 = the key */
	movq	T_CALLERS(%r13), %rdx
	testq	%rdx, %rdx
	jz	.Lslow
	shlq	$5, %rax
	addq	%rax, %rdx
	movl	$K_PROBES, %eax
14:	cmpq	%r8, K_KEY(%rdx)
	je	15f
	cmpq	$0, K_KEY(%rdx)
	je	.Lslow
	addq	$32, %rdx
	decl	%eax
	jnz	14b
	jmp	.Lslow
15:	movq	%rdx, T_SCRATCH(%r13)
	movq	F_TSC(%rsi), %rcx
	testq	%rcx, %rcx
	jz	.Luntimed
	cmpl	$1, golat_rec_sample(%rip)
	jne	6f
	movq	T_NOW(%r13), %rax
	jmp	7f
6:	rdtsc
	shlq	$32, %rdx
	orq	%rdx, %rax
7:	subq	%rcx, %rax			/* rax = cycles */
	jae	8f
	xorl	%eax, %eax			/* a TSC a little behind on this CPU: 0 */
8:	/* One of the slowest calls so far: C keeps it (slowest.h). */
	movl	8(%r12), %edx
	movq	golat_rec_slowmin(%rip), %rcx
	cmpq	(%rcx,%rdx,8), %rax
	ja	.Lslow
	/* Its bucket (stats.h, stats_bucket): ecx = octave, edx = sub-bucket. */
	cmpq	$32, %rax
	jae	9f
	movl	%eax, %edx
	xorl	%ecx, %ecx
	jmp	10f
9:	bsrq	%rax, %rcx			/* 2^e <= cycles */
	cmpl	$44, %ecx			/* STATS_MAX_EXP: the last bucket, in C */
	jae	.Lslow
	subl	$5, %ecx
	movq	%rax, %rdx
	shrq	%cl, %rdx
	andl	$31, %edx
	incl	%ecx				/* octave e - 4 */
10:	movzbl	C_BASE(%rdi), %r8d		/* 1 + the window's first octave */
	testl	%r8d, %r8d
	jz	.Lslow
	subl	%r8d, %ecx
	incl	%ecx				/* the octave's place in the window */
	cmpl	$3, %ecx			/* STATS_WIN */
	jae	.Lslow
	shll	$5, %ecx
	addl	%edx, %ecx
	cmpw	$0xffff, C_WIN(%rdi,%rcx,2)	/* a carry: C adds it to the shared histogram */
	je	.Lslow
	decl	S_N(%rbx)
	incq	C_CALLS(%rdi)
	incq	C_TIMED(%rdi)
	addq	%rax, C_SUM(%rdi)
	incw	C_WIN(%rdi,%rcx,2)
	/* The caller entry, with the call's self time; the parent's child time. */
	movq	T_SCRATCH(%r13), %rdx
	incq	K_CALLS(%rdx)
	addq	%rax, K_SUM(%rdx)
	movq	%rax, %rcx
	subq	F_CHILD(%rsi), %rcx
	jae	16f
	xorl	%ecx, %ecx
16:	addq	%rcx, K_SELF(%rdx)
	movl	S_N(%rbx), %r8d
	testl	%r8d, %r8d
	je	17f
	decl	%r8d
	FRAME_AT 0				/* rsi = the frame that called this one */
	addq	%rax, F_CHILD(%rsi)
17:	cmpq	C_MAX(%rdi), %rax
	jbe	11f
	movq	%rax, C_MAX(%rdi)
11:	movq	C_MIN(%rdi), %rdx
	testq	%rdx, %rdx
	jz	12f
	cmpq	%rdx, %rax
	jae	.Lrestore
12:	movq	%rax, C_MIN(%rdi)
	jmp	.Lrestore
.Luntimed:
	decl	S_N(%rbx)
	incq	C_CALLS(%rdi)
	movq	T_SCRATCH(%r13), %rdx
	incq	K_CALLS(%rdx)

.Lrestore:
	RESTORE
	jmp	*(%r12)

.Lslow:
	RESTORE
.Lcommon:
	jmp	golat_tramp_common
	.globl golat_rec_fast_end
	.hidden golat_rec_fast_end
golat_rec_fast_end:
	.size golat_rec_fast, .-golat_rec_fast

	.section .note.GNU-stack,"",@progbits
