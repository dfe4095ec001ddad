/* regs, x86-64: a stopped thread's registers through ptrace, for lib/attach (golat
 * attach into a program started without golat; static programs). See arch.h. */
#include "arch.h"

#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

/* The kernel's restart codes (include/linux/errno.h): a system call a signal or a
 * ptrace stop interrupted, seen from outside. */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

#define SYSCALL_LEN 2 /* 0f 05 */

int arch_getregs(pid_t tid, arch_regs *r)
{
	return (int)ptrace(PTRACE_GETREGS, tid, 0, r);
}

int arch_setregs(pid_t tid, const arch_regs *r)
{
	return (int)ptrace(PTRACE_SETREGS, tid, 0, r);
}

arch_regs arch_regs_restart(arch_regs r)
{
	long nr = (long)r.orig_rax, rv = (long)r.rax;
	if (nr < 0)
		return r;
	if (rv == -ERESTARTSYS || rv == -ERESTARTNOINTR || rv == -ERESTARTNOHAND) {
		r.rax = (uint64_t)nr;
		r.rip -= SYSCALL_LEN;
	} else if (rv == -ERESTART_RESTARTBLOCK) {
		r.rax = SYS_restart_syscall;
		r.rip -= SYSCALL_LEN;
	}
	r.orig_rax = (uint64_t)-1;
	return r;
}

void arch_regs_syscall(arch_regs *r, long nr, const uint64_t a[6])
{
	r->rax = (uint64_t)nr;
	r->orig_rax = (uint64_t)-1; /* no restart of the call the thread was in, on golat's RIP */
	r->rdi = a[0];
	r->rsi = a[1];
	r->rdx = a[2];
	r->r10 = a[3];
	r->r8 = a[4];
	r->r9 = a[5];
}

void arch_regs_call(arch_regs *r, uint64_t a0, uint64_t a1)
{
	r->rdi = a0;
	r->rsi = a1;
	r->rax = 0; /* AL: no vector arguments (SysV ABI), were the callee variadic */
	r->orig_rax = (uint64_t)-1;
}

/* `syscall; ret` (runtime.osyield's end) and Go's rt_sigreturn, `mov $15, %rax;
 * syscall` (runtime/sys_linux_amd64.s, runtime.sigreturn__sigaction). */
const uint8_t arch_seq_syscall_ret[ARCH_SEQ_SYSCALL_RET_LEN] = { 0x0f, 0x05, 0xc3 };
const uint8_t arch_seq_go_sigreturn[ARCH_SEQ_GO_SIGRETURN_LEN] = { 0x48, 0xc7, 0xc0, 0x0f, 0, 0, 0,
								   0x0f, 0x05 };

bool arch_seq_retv(const uint8_t *p, unsigned *k)
{
	if (p[0] != 0x48 || p[1] != 0x89 || p[2] != 0x44 || p[3] != 0x24 || p[5] != 0xc3)
		return false;
	*k = p[4];
	return *k == 8 || *k == 16 || *k == 24 || *k == 40;
}
