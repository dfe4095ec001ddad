/* tramp.S: golat_tramp_common, the stub every trampoline jumps to. See tramp.h for
 * the contract. In short: on entry R12 = struct tramp_desc *, RSP = the goroutine's
 * SP (untouched), R13 free; on exit every register but R12, R13 and flags as it was.
 *
 * Per-thread state, initial-exec TLS: tramp_tls[0] is the top of the thread's own
 * stack (0 before its first hooked call), tramp_tls[1] is 1 while the thread is in
 * the recorder. A nested call (from a signal handler that runs hooked Go code on this
 * thread) is let through unrecorded instead of reusing the stack, and counted in
 * tramp_busy. A thread's first call takes the next stack of the pool with one atomic
 * add; when the pool is exhausted calls are let through and counted in tramp_nostack.
 * The busy flag is cleared only once RSP is back on the goroutine's stack, so no
 * instant exists where the stack is marked free while we still stand on it. */
	.section .tbss,"awT",@nobits
	.p2align 4
	.globl tramp_tls
	.hidden tramp_tls
	.type tramp_tls, @object
	.size tramp_tls, 16
tramp_tls:
	.zero 16

	.bss
	.p2align 6
	.globl tramp_pool_base, tramp_pool_n, tramp_pool_next, tramp_busy, tramp_nostack
	.hidden tramp_pool_base, tramp_pool_n, tramp_pool_next, tramp_busy, tramp_nostack
tramp_pool_base: .zero 8
tramp_pool_n:    .zero 8
	.p2align 6 /* contended counters on their own cache lines */
tramp_pool_next: .zero 8
	.p2align 6
tramp_busy:      .zero 8
tramp_nostack:   .zero 8

	.text
	.p2align 4
	.globl golat_tramp_common
	.hidden golat_tramp_common
	.type golat_tramp_common, @function
golat_tramp_common:
	movq	tramp_tls@gottpoff(%rip), %r13
	cmpq	$0, %fs:8(%r13)
	jne	.Lbusy
	movq	$1, %fs:8(%r13)
	movq	%fs:(%r13), %r13
	testq	%r13, %r13
	jz	.Lalloc
.Lswitch:				/* r13 = top of this thread's stack */
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
	subq	$8, %rsp		/* top is 16-aligned: top-8-80-8 is too */
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
	movq	tramp_tls@gottpoff(%rip), %r13
	movq	$0, %fs:8(%r13)
	jmp	*(%r12)
.Lalloc:				/* busy is set: nothing can interleave */
	movl	$1, %r13d
	lock xaddq %r13, tramp_pool_next(%rip)
	cmpq	tramp_pool_n(%rip), %r13
	jae	.Lnostack
	shlq	$17, %r13		/* TRAMP_STACK_SHIFT */
	addq	tramp_pool_base(%rip), %r13
	addq	$0x20000, %r13		/* TRAMP_STACK_SIZE: r13 = the top */
	/* Remember it: stand on the new stack to borrow RAX for the TLS offset. */
	movq	%rsp, -8(%r13)
	leaq	-8(%r13), %rsp
	pushq	%rax
	movq	tramp_tls@gottpoff(%rip), %rax
	movq	%r13, %fs:(%rax)
	popq	%rax
	movq	(%rsp), %rsp
	jmp	.Lswitch
.Lnostack:
	movq	tramp_tls@gottpoff(%rip), %r13
	movq	$0, %fs:8(%r13)
	lock incq tramp_nostack(%rip)
	jmp	*(%r12)
.Lbusy:
	lock incq tramp_busy(%rip)
	jmp	*(%r12)
	.size golat_tramp_common, .-golat_tramp_common

/* golat_tramp_resume: the end of runtime.asyncPreempt jumps here (through a
 * trampoline that ran its epilogue), just before its RET takes the goroutine back to
 * the instruction the preemption signal interrupted. If that instruction lies inside
 * a window golat has overwritten (after the window's first byte), the return address
 * is redirected to the instruction's relocated copy in the trampoline: the goroutine
 * resumes in the same code, never in the middle of a jump. Flags are live here
 * (asyncPreempt has just restored them with POPF), so they are saved; the 32 bytes
 * pushed lie in asyncPreempt's frame, just popped (runtime/preempt.go,
 * asyncPreemptStack, guarantees it was there). golat_resume_tab: 65536 {pc, to} pairs,
 * open addressing, keys written last, never removed. */
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
	movq	32(%rsp), %rax		/* where the goroutine resumes */
	movq	golat_resume_tab(%rip), %rdx
	testq	%rdx, %rdx
	jz	.Lrdone
	movabsq	$0x9e3779b97f4a7c15, %rcx
	imulq	%rax, %rcx
	shrq	$48, %rcx		/* RESUME_BITS: 16 */
.Lrprobe:
	movq	%rcx, %r13
	shlq	$4, %r13
	addq	%rdx, %r13
	cmpq	%rax, (%r13)
	je	.Lrfound
	cmpq	$0, (%r13)
	je	.Lrdone
	incq	%rcx
	andq	$0xffff, %rcx
	jmp	.Lrprobe
.Lrfound:
	movq	8(%r13), %r13
	movq	%r13, 32(%rsp)
.Lrdone:
	popq	%rdx
	popq	%rcx
	popq	%rax
	popfq
	jmp	*(%r12)
	.size golat_tramp_resume, .-golat_tramp_resume

	.section .note.GNU-stack,"",@progbits
