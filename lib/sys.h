/* sys: raw x86-64 Linux system calls, for code that must not call libc: the recorder,
 * and stop-the-world (stw_sys.h, built on sys_call6 here).
 *
 * The recorder (lib/record/, the trampoline stubs' C) is built twice from the same
 * sources: into libgolat.so, and into golat-agent.so, which runs inside static Go
 * programs where there is no libc to call (lib/agent/agent.h). So it calls no libc
 * at all, in either build: every wrapper here returns the kernel's answer, a
 * negative errno on failure (no errno variable: it is libc's, and thread-local).
 * The `syscall` instruction clobbers RCX and R11 (the kernel keeps RIP and RFLAGS
 * there) and nothing else; no vector register is touched, so these may run on the
 * recorder's path (-mgeneral-regs-only, only general registers saved). Numbers:
 * arch/x86/entry/syscalls/syscall_64.tbl. */
#ifndef GOLAT_SYS_H
#define GOLAT_SYS_H

#include <stdint.h>

#define SYS_NR_pread64 17
#define SYS_NR_pwrite64 18
#define SYS_NR_mmap 9
#define SYS_NR_mprotect 10
#define SYS_NR_munmap 11
#define SYS_NR_madvise 28
#define SYS_NR_sched_yield 24
#define SYS_NR_getpid 39
#define SYS_NR_close 3
#define SYS_NR_fstat 5
#define SYS_NR_ftruncate 77
#define SYS_NR_gettid 186
#define SYS_NR_set_tid_address 218
#define SYS_NR_clock_gettime 228
#define SYS_NR_openat 257
#define SYS_NR_fallocate 285
#define SYS_NR_process_vm_readv 310

/* The values the recorder passes (the kernel's uapi, as libc's headers give them). */
#define SYS_PROT_NONE 0
#define SYS_PROT_READ 1
#define SYS_PROT_WRITE 2
#define SYS_MAP_SHARED 0x01
#define SYS_MAP_PRIVATE 0x02
#define SYS_MAP_ANONYMOUS 0x20
#define SYS_MADV_POPULATE_WRITE 23
#define SYS_AT_FDCWD (-100)
#define SYS_O_RDONLY 0
#define SYS_O_RDWR 02
#define SYS_O_CLOEXEC 02000000
#define SYS_CLOCK_MONOTONIC 1
#define SYS_EINTR 4
#define SYS_ENOMEM 12
#define SYS_EINVAL 22
#define SYS_ENOSPC 28
#define SYS_EOPNOTSUPP 95

/* A mapping's address from sys_mmap, or a negative errno in the last page. */
static inline int sys_failed(long r)
{
	return (unsigned long)r > -4096ul;
}

static inline long sys_call6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long sys_call3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

/* The new mapping's address, or a negative errno (test with sys_failed). */
static inline long sys_mmap(void *addr, uint64_t len, int prot, int flags, int fd, uint64_t off)
{
	return sys_call6(SYS_NR_mmap, (long)addr, (long)len, prot, flags, fd, (long)off);
}

static inline long sys_munmap(void *addr, uint64_t len)
{
	return sys_call3(SYS_NR_munmap, (long)addr, (long)len, 0);
}

static inline long sys_mprotect(void *addr, uint64_t len, int prot)
{
	return sys_call3(SYS_NR_mprotect, (long)addr, (long)len, prot);
}

static inline long sys_madvise(void *addr, uint64_t len, int advice)
{
	return sys_call3(SYS_NR_madvise, (long)addr, (long)len, advice);
}

static inline long sys_fallocate(int fd, int mode, uint64_t off, uint64_t len)
{
	return sys_call6(SYS_NR_fallocate, fd, mode, (long)off, (long)len, 0, 0);
}

static inline long sys_ftruncate(int fd, uint64_t len)
{
	return sys_call3(SYS_NR_ftruncate, fd, (long)len, 0);
}

static inline long sys_pwrite64(int fd, const void *buf, uint64_t n, uint64_t off)
{
	return sys_call6(SYS_NR_pwrite64, fd, (long)buf, (long)n, (long)off, 0, 0);
}

static inline long sys_pread64(int fd, void *buf, uint64_t n, uint64_t off)
{
	return sys_call6(SYS_NR_pread64, fd, (long)buf, (long)n, (long)off, 0, 0);
}

static inline long sys_openat(int dirfd, const char *path, int flags, int mode)
{
	return sys_call6(SYS_NR_openat, dirfd, (long)path, flags, mode, 0, 0);
}

/* The kernel's struct stat on x86-64 (arch/x86/include/uapi/asm/stat.h): the
 * fields the agent reads. */
struct sys_stat {
	uint64_t dev, ino, nlink;
	uint32_t mode, uid, gid, _pad0;
	uint64_t rdev;
	int64_t size, blksize, blocks;
	uint64_t atime, atime_ns, mtime, mtime_ns, ctime, ctime_ns;
	int64_t _unused[3];
};

static inline long sys_fstat(int fd, struct sys_stat *st)
{
	return sys_call3(SYS_NR_fstat, fd, (long)st, 0);
}

static inline long sys_close(int fd)
{
	return sys_call3(SYS_NR_close, fd, 0, 0);
}

static inline long sys_gettid(void)
{
	return sys_call3(SYS_NR_gettid, 0, 0, 0);
}

/* The word the kernel sets to 0 (and wakes as a futex) when this thread exits
 * (set_tid_address(2)); returns the thread's id. */
static inline long sys_set_tid_address(uint32_t *word)
{
	return sys_call3(SYS_NR_set_tid_address, (long)(uintptr_t)word, 0, 0);
}

static inline long sys_getpid(void)
{
	return sys_call3(SYS_NR_getpid, 0, 0, 0);
}

static inline long sys_sched_yield(void)
{
	return sys_call3(SYS_NR_sched_yield, 0, 0, 0);
}

struct sys_iovec {
	void *base;
	uint64_t len;
};

static inline long sys_process_vm_readv(long pid, const struct sys_iovec *local, uint64_t nlocal,
					const struct sys_iovec *remote, uint64_t nremote)
{
	return sys_call6(SYS_NR_process_vm_readv, pid, (long)local, (long)nlocal, (long)remote, (long)nremote, 0);
}

struct sys_timespec {
	int64_t sec, nsec;
};

/* The system call itself: the recorder calls the vDSO's instead when it has one
 * (vdso.h). */
static inline long sys_clock_gettime(int clk, struct sys_timespec *ts)
{
	return sys_call3(SYS_NR_clock_gettime, clk, (long)ts, 0);
}

#endif
