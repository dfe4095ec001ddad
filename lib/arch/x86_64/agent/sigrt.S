/* sigrt: golat_agent_rt_sigaction, where golat redirects runtime.rt_sigaction
 * (runtime/sys_linux_amd64.s, the same in Go 1.19 to 1.27: ABI0, NOSPLIT, frame 0,
 * its arguments at 8(SP)..32(SP), its int32 result at 40(SP)) with a jump written over
 * its entry, so that Go installing a handler later finds golat's still in front
 * (sig.c, agent_rt_sigaction).
 *
 * Go runs it on g0 or a gsignal stack, from nosplit code, with no room promised
 * beyond the return address: so not one byte of Go's stack is used. The C half runs
 * on the agent's own stack (one, under a lock that holds the thread's tid). A thread
 * that finds the lock its own (Go calling sigaction from a signal handler of its own
 * while this thread was in here: a crash path) makes the system call itself, as the
 * original did. Registers: ABI0 callers keep none but SP and BP (the ABIInternal
 * wrapper that calls it reloads R14 and X15). */
	.text
	.globl	golat_agent_rt_sigaction
	.hidden	golat_agent_rt_sigaction
	.type	golat_agent_rt_sigaction, @function
golat_agent_rt_sigaction:
	movl	$186, %eax		/* gettid */
	syscall
	movl	%eax, %r8d
1:	xorl	%eax, %eax
	lock cmpxchgl %r8d, sigrt_lock(%rip)
	je	2f
	cmpl	%eax, %r8d
	je	3f			/* our own: pass through */
	pause
	jmp	1b
2:	movq	%rsp, %r9
	leaq	sigrt_stack_top(%rip), %rsp
	pushq	%r9
	subq	$8, %rsp		/* 16-byte aligned at the call */
	movq	8(%r9), %rdi
	movq	16(%r9), %rsi
	movq	24(%r9), %rdx
	movq	32(%r9), %rcx
	call	agent_rt_sigaction
	addq	$8, %rsp
	popq	%rsp
	movl	$0, sigrt_lock(%rip)	/* a store releases on x86 */
	movl	%eax, 40(%rsp)
	ret
3:	movq	8(%rsp), %rdi		/* runtime.rt_sigaction's own body */
	movq	16(%rsp), %rsi
	movq	24(%rsp), %rdx
	movq	32(%rsp), %r10
	movl	$13, %eax
	syscall
	movl	%eax, 40(%rsp)
	ret
	.size	golat_agent_rt_sigaction, .-golat_agent_rt_sigaction

	.bss
	.balign	16
sigrt_stack:
	.skip	4096
sigrt_stack_top:
	.balign	4
sigrt_lock:
	.skip	4
	.section .note.GNU-stack,"",@progbits
