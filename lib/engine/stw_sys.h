/* stw_sys: the raw system call of code that runs while the world is stopped: stw.c,
 * and the raw readers of proc.c that stw calls then.
 *
 * Inline system calls, returning -errno: no errno, no PLT slot. The handler runs on
 * threads that are not frozen yet while others already are, and the first call
 * through a lazily bound PLT slot runs the dynamic linker's resolver; errno is a libc
 * call (__errno_location) too. x86-64 Linux: the syscall instruction, number in rax,
 * arguments in rdi, rsi, rdx, r10, r8, r9; the kernel clobbers rcx and r11 (sys.h). */
#ifndef GOLAT_STW_SYS_H
#define GOLAT_STW_SYS_H

#include "sys.h"

#define STW_SYS(nr, a, b, c, d, e, f) \
	sys_call6(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

#endif
