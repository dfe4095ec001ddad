/* vdso: finding the kernel's clock_gettime in the vDSO without libc, so that the
 * recorder reads CLOCK_MONOTONIC (GOLAT_CLOCK=monotonic, or a TSC that is not
 * invariant) in tens of nanoseconds instead of a system call's hundreds, in
 * libgolat.so and in golat-agent.so alike (neither may ask libc: sys.h). The vDSO is
 * found through AT_SYSINFO_EHDR in /proc/self/auxv and its dynamic symbols read as Go
 * reads them (runtime/vdso_linux.go, vdsoInitFromSysinfoEhdr). Its code is the
 * kernel's, built without vector registers (arch/x86/Makefile: -mno-sse -mno-mmx...),
 * so the recorder may call it with only the general registers saved. */
#ifndef GOLAT_VDSO_H
#define GOLAT_VDSO_H

#include "sys.h"

typedef long (*vdso_clock_fn)(int clk, struct sys_timespec *ts);

/* __vdso_clock_gettime, or NULL when there is no vDSO or it has none. */
vdso_clock_fn vdso_clock_gettime(void);

#endif
