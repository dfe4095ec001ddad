/* tramp.S: the two stubs trampolines jump to. See tramp.h for the contract.
 *
 * golat_tramp_common: on entry R12 = struct tramp_desc *, RSP = the goroutine's SP
 * (untouched), R13 free; on exit every register but R12, R13 and flags as it was.
 * It runs the recorder on a stack of the thread's own, whose top the thread's block
 * (struct tramp_thread, tramp.h, found with TRAMP_SELF: tramp_self.h) holds in
 * stack_top. It is also where recfast.S goes when its fast path does not apply:
 * every register as the trampoline left it. The busy word of the block is 1 while
 * the thread is in the recorder: a nested call (from a signal handler running hooked
 * code on this thread) is let through unrecorded, counted in tramp_busy, instead of
 * reusing the stack. The flag is cleared only once RSP is back on the goroutine's
 * stack.
 *
 * A thread's first recorded call finds no stack (libgolat: stack_top 0 in its TLS
 * block; the agent: no block at all, fs:0 is 0), and none can be mapped on the
 * goroutine's stack (a few bytes may be all that is left of it). It takes the
 * bootstrap stack, golat_tramp_boot (one for the process, behind a spin lock that
 * needs no register: lock bts on memory), calls tramp_stack_map there, gives the
 * bootstrap stack back and goes on with its own. Mapping fails only when the process
 * is out of memory: then the call goes unrecorded, counted in tramp_busy. */
#include "recfast.h"
#include "tramp_self.h"
#define BOOT_STACK 8192 /* tramp_stack_map and the mmap it calls; a few hundred bytes */

#ifndef GOLAT_AGENT
	.section .tbss,"awT",@nobits
	.p2align 4
	.globl tramp_tls
	.hidden tramp_tls
	.type tramp_tls, @object
	.size tramp_tls, T_HDR
tramp_tls:
	.zero T_HDR
#else
	/* What fs:0 points at while a thread's first recorded call makes its block: a
	 * block that is always busy, so that a hooked call from a signal handler on that
	 * thread meanwhile is let through (the bootstrap stack's lock is held) and
	 * nothing is ever written to it. */
	.data
	.p2align 6
golat_tramp_nobody:
	.quad	1
	.zero	T_HDR - 8
#endif

	.bss
	.p2align 6
	.globl tramp_busy
	.hidden tramp_busy
tramp_busy: .zero 8
#ifdef GOLAT_AGENT
	/* &header.lost of the stats file (rec_init): the agent counts the calls it lets
	 * through there, live, for there is no final report in the agent to add
	 * tramp_busy to it (recorder.c, count_lost). */
	.globl golat_rec_lost
	.hidden golat_rec_lost
golat_rec_lost: .zero 8
#endif
	.p2align 6
golat_tramp_boot_lock: .zero 8	/* bit 0: a thread is on the bootstrap stack */
	.p2align 6
	.globl golat_tramp_boot, golat_tramp_boot_top
	.hidden golat_tramp_boot, golat_tramp_boot_top
golat_tramp_boot: .zero BOOT_STACK
golat_tramp_boot_top:

	.text
	.p2align 4
	.globl golat_tramp_common
	.hidden golat_tramp_common
	.type golat_tramp_common, @function
golat_tramp_common:
	TRAMP_SELF %r13, .Lnoblock
	cmpq	$0, T_BUSY(%r13)
	jne	.Lbusy
	movq	%r12, T_DESC(%r13)	/* before busy: sigown reads it when busy */
	movq	$1, T_BUSY(%r13)
	movq	T_STACK_TOP(%r13), %r13	/* the top of our stack, 16-aligned */
	testq	%r13, %r13
	jz	.Lboot
.Lstack:
	movq	%rsp, -8(%r13)
	leaq	-8(%r13), %rsp
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx			/* closure context at a Go entry */
	pushq	%rdi
	pushq	%rsi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	subq	$8, %rsp		/* top-8-80-8 is 16-aligned again */
	movq	%r12, %rdi
	movq	88(%rsp), %rsi		/* the goroutine's SP, saved at top-8 */
	leaq	8(%rsp), %rdx		/* the saved registers, R11 first */
	call	tramp_record
	addq	$8, %rsp
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rsi
	popq	%rdi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	movq	(%rsp), %rsp		/* back on the goroutine's stack */
	TRAMP_SELF %r13, .Lbusy		/* the thread has its block: never .Lbusy */
	movq	$0, T_BUSY(%r13)
	jmp	*(%r12)

#ifdef GOLAT_AGENT
	/* No block (fs:0 was 0): fs:0 becomes the always busy golat_tramp_nobody first,
	 * in one instruction, so that a hooked call in a signal handler on this thread is
	 * let through from here on. One that came between the load and the xchg has run
	 * to its end and may have made the block: then it is put back, and we start over
	 * as a thread that has one, from golat_rec_fast: every call goes through it first,
	 * and an exit's time is the one it reads (recorder.c, tramp_record). */
.Lnoblock:
	leaq	golat_tramp_nobody(%rip), %r13
	xchgq	%r13, %fs:0
	testq	%r13, %r13
	jz	.Lboot
	movq	%r13, %fs:0
	jmp	golat_rec_fast
#endif

	/* No stack yet: map one from the bootstrap stack. R12 survives the C call
	 * (callee-saved); the registers C may clobber are saved on the bootstrap stack,
	 * the goroutine's SP at its top, as on our own stack (sigown reads it there). */
.Lboot:
	lock btsq $0, golat_tramp_boot_lock(%rip)
	jnc	2f
1:	pause
	cmpq	$0, golat_tramp_boot_lock(%rip)
	jne	1b
	jmp	.Lboot
2:	leaq	golat_tramp_boot_top(%rip), %r13
	movq	%rsp, -8(%r13)
	leaq	-8(%r13), %rsp
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11			/* top-8-72 is 16-aligned */
	call	tramp_stack_map
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	movq	(%rsp), %rsp		/* back on the goroutine's stack */
	movq	$0, golat_tramp_boot_lock(%rip)	/* a store: release on x86 */
#ifdef GOLAT_AGENT
	/* tramp_stack_map left fs:0 the new block (not busy yet), or 0: start over with it
	 * from golat_rec_fast, as above. */
	cmpq	$0, %fs:0
	jne	golat_rec_fast
#else
	TRAMP_SELF %r13, .Lbusy
	movq	T_STACK_TOP(%r13), %r13
	testq	%r13, %r13
	jnz	.Lstack
	TRAMP_SELF %r13, .Lbusy
	movq	$0, T_BUSY(%r13)	/* out of memory: unrecorded, not busy */
#endif
.Lbusy:
#ifdef GOLAT_AGENT
	movq	golat_rec_lost(%rip), %r13	/* the stats header's lost, once rec_init ran */
	testq	%r13, %r13
	jz	3f
	lock incq (%r13)
	jmp	*(%r12)
3:
#endif
	lock incq tramp_busy(%rip)
	jmp	*(%r12)
	.globl golat_tramp_common_end
	.hidden golat_tramp_common_end
golat_tramp_common_end:
	.size golat_tramp_common, .-golat_tramp_common

/* golat_tramp_resume: the end of runtime.asyncPreempt jumps here (through a
 * trampoline that ran its epilogue) instead of executing its RET, which takes the
 * goroutine back to the instruction the preemption signal interrupted. If that
 * instruction lies inside a window golat has overwritten (after the window's first
 * byte), the return address is redirected to the instruction's relocated copy in the
 * trampoline: the goroutine resumes in the same code, never in the middle of a jump.
 * Every register and the flags are live here (asyncPreempt has just restored them),
 * so everything used is saved; the 40 bytes pushed lie in asyncPreempt's frame, just
 * popped (runtime/preempt.go, asyncPreemptStack, guarantees it was there). Then RET.
 * golat_resume_tab: a struct tramp_resume_tab (tramp.h): shift at +0, mask at +8,
 * {pc, to} slots from +16; loaded once, so that shift, mask and slots all come from
 * the same table while tramp_resume_add publishes a bigger one. */
	.bss
	.p2align 3
	.globl golat_resume_tab
	.hidden golat_resume_tab
golat_resume_tab: .zero 8

	.text
	.p2align 4
	.globl golat_tramp_resume
	.hidden golat_tramp_resume
	.type golat_tramp_resume, @function
golat_tramp_resume:
	pushfq
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	movq	40(%rsp), %rax		/* where the goroutine resumes */
	movq	golat_resume_tab(%rip), %rdx
	testq	%rdx, %rdx
	jz	.Lrdone
	movq	(%rdx), %rcx		/* tab->shift */
	movabsq	$0x9e3779b97f4a7c15, %rsi	/* TRAMP_RESUME_MUL */
	imulq	%rax, %rsi
	shrq	%cl, %rsi
	movq	%rsi, %rcx		/* the first slot to probe */
.Lrprobe:
	movq	%rcx, %rsi
	shlq	$4, %rsi
	leaq	16(%rdx,%rsi), %rsi	/* &tab->slot[rcx] */
	cmpq	%rax, (%rsi)
	je	.Lrfound
	cmpq	$0, (%rsi)
	je	.Lrdone
	incq	%rcx
	andq	8(%rdx), %rcx		/* tab->mask */
	jmp	.Lrprobe
.Lrfound:
	movq	8(%rsi), %rsi
	movq	%rsi, 40(%rsp)
.Lrdone:
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	popfq
	ret
	.globl golat_tramp_resume_end
	.hidden golat_tramp_resume_end
golat_tramp_resume_end:
	.size golat_tramp_resume, .-golat_tramp_resume

	.section .note.GNU-stack,"",@progbits
