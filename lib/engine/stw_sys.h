/* stw_sys: the raw system call of code that runs while the world is stopped: stw.c,
 * and the raw readers of proc.c that stw calls then.
 *
 * Inline system calls, returning -errno: no errno, no PLT slot. The handler runs on
 * threads that are not frozen yet while others already are, and the first call
 * through a lazily bound PLT slot runs the dynamic linker's resolver; errno is a libc
 * call (__errno_location) too. x86-64 Linux: the syscall instruction, number in rax,
 * arguments in rdi, rsi, rdx, r10, r8, r9; the kernel clobbers rcx and r11. */
#ifndef GOLAT_STW_SYS_H
#define GOLAT_STW_SYS_H

static inline long stw_sys(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define STW_SYS(nr, a, b, c, d, e, f) \
	stw_sys(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

#endif
