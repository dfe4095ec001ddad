/* inject_call: one thread of the target, taken over by golat, runs system calls and a
 * function call of golat's choosing, then gets back exactly the state it was stopped
 * in: its general registers, its x87/SSE/AVX state (Go keeps X15 zero and may have
 * live vector values where it was stopped; dlopen clobbers them), and its signal mask.
 *
 * Signals. Meanwhile the thread blocks every signal but the synchronous ones
 * (PTRACE_SETSIGMASK: no system call needed). Blocked, a signal stays pending in the
 * kernel with its siginfo and is delivered once the mask is back, or goes to another
 * thread: nothing is lost and no Go handler runs on golat's stack. SIGSEGV, SIGBUS,
 * SIGILL, SIGFPE and SIGTRAP stay open: a fault raised while its signal is blocked
 * makes the kernel reset the process's handler to SIG_DFL (force_sig_info), which
 * would take the signal away from Go for good. Each of those, and any signal pending
 * before the mask took, reaches golat first (signal-delivery-stop): a fault in the call
 * ends it with an error; any other is kept and sent again to the thread just before
 * it is let go.
 *
 * Tracer's death. golat may be killed (SIGKILL) at any instant; the kernel then
 * detaches the thread, which runs on from the registers it has. So from the first
 * change on, the thread's registers always lead home without golat: before any, golat
 * writes the thread's own state as an rt_sigreturn frame on its stack (inject_frame.c)
 * and points the thread at Go's rt_sigreturn with that frame (parked) before it narrows
 * the mask; a system call runs on `syscall; ret` with the frame as its return; a
 * function returns through it (its result left in the frame); the end is rt_sigreturn
 * itself. What golat dies with: signals it had taken from the thread to send again (a
 * signal-delivery-stop: only signals already pending when the thread stopped, since the
 * mask holds back new ones), mappings it made (a stack, a memfd), both harmless.
 *
 * Interrupted system calls. A thread stopped inside a blocking system call (a futex
 * wait) has RAX = -ERESTARTSYS (or another -ERESTART* code) and ORIG_RAX = the call:
 * the kernel restarts it (RIP -= 2, RAX = ORIG_RAX) on the way back to user space,
 * with whatever registers the tracer left. So golat sets ORIG_RAX = -1 whenever it
 * points the thread elsewhere (else the kernel would move golat's RIP back 2 bytes),
 * and at the end does the restart itself on the registers it restores, with ORIG_RAX
 * = -1: the last stop is not always one where the kernel would (a syscall-exit stop
 * is not), and an epoll wait that returned -ERESTARTSYS to Go would kill it ("netpoll
 * failed"). */
#define _GNU_SOURCE
#include "inject_int.h"

#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t bit(int sig)
{
	return 1ull << (sig - 1);
}

/* Every signal blocked but the synchronous ones (see above). */
static uint64_t call_mask(void)
{
	return ~(bit(SIGSEGV) | bit(SIGBUS) | bit(SIGILL) | bit(SIGFPE) | bit(SIGTRAP) | bit(SIGKILL) |
		 bit(SIGSTOP));
}

static int fail(char *err, size_t n, int rc, const char *what, const struct inj_call *c)
{
	snprintf(err, n, "%s on thread %d of pid %d: %s", what, (int)c->tid, (int)c->t->pid, strerror(-rc));
	return rc;
}

static long die_step;

/* GOLAT_TEST_STEPS=FILE: the number of steps, written there at exit (the test's range). */
static void steps_out(void)
{
	FILE *f = fopen(getenv("GOLAT_TEST_STEPS"), "we");
	if (f) {
		fprintf(f, "%ld\n", die_step);
		fclose(f);
	}
}

void inject_die_point(void)
{
	static long at = -1;
	if (at < 0) {
		const char *e = getenv("GOLAT_TEST_DIE_AT");
		at = e ? atol(e) : 0;
		if (getenv("GOLAT_TEST_STEPS"))
			atexit(steps_out);
	}
	if (++die_step == at)
		kill(getpid(), SIGKILL);
}

int inject_call_begin(struct inj_call *c, const struct inj_target *t, const struct inj_thread *th,
		      char *err, size_t n)
{
	memset(c, 0, sizeof(*c));
	c->t = t;
	c->tid = th->tid;
	c->regs = th->regs;
	c->home = arch_regs_restart(th->regs);
	c->framed = th->regs;
	struct iovec iov = { c->xstate, sizeof(c->xstate) };
	if (ptrace(PTRACE_GETREGSET, c->tid, NT_X86_XSTATE, &iov) != 0)
		return fail(err, n, -errno, "PTRACE_GETREGSET(NT_X86_XSTATE)", c);
	c->xlen = iov.iov_len;
	if (ptrace(PTRACE_GETSIGMASK, c->tid, sizeof(c->mask), &c->mask) != 0)
		return fail(err, n, -errno, "PTRACE_GETSIGMASK", c);
	/* No PTRACE_O_TRACECLONE from here on: the thread the library's constructor
	 * starts must not begin its life stopped by golat. TRACESYSGOOD tells the
	 * syscall stops from a SIGTRAP. */
	if (ptrace(PTRACE_SETOPTIONS, c->tid, 0, PTRACE_O_TRACESYSGOOD) != 0)
		return fail(err, n, -errno, "PTRACE_SETOPTIONS", c);
	return inject_frame_home(c, err, n);
}

/* The thread pointed home (Go's rt_sigreturn on the frame below its SP), then its
 * mask narrowed: in this order, so that golat's death between the two leaves it
 * nothing but its way home. */
static int park(struct inj_call *c, char *err, size_t n)
{
	if (c->away)
		return 0;
	arch_regs r = c->regs;
	ARCH_REGS_PC(r) = c->t->sigret_pc;
	ARCH_REGS_SP(r) = c->park_sp + 8;
	ARCH_REGS_SYSNO(r) = (uint64_t)-1; /* no restart of the call the thread was in, on golat's RIP */
	if (arch_setregs(c->tid, &r) != 0)
		return fail(err, n, -errno, "PTRACE_SETREGS", c);
	c->away = true;
	inject_die_point();
	uint64_t m = call_mask();
	if (ptrace(PTRACE_SETSIGMASK, c->tid, sizeof(m), &m) != 0)
		return fail(err, n, -errno, "PTRACE_SETSIGMASK", c);
	inject_die_point();
	return 0;
}

enum until { UNTIL_SYSCALL, UNTIL_SIGRETURN };

/* A signal that is not golat's: kept for the end, or, for a fault of golat's call,
 * the end of the call. */
static int on_signal(struct inj_call *c, int sig, enum until u, char *err, size_t n)
{
	siginfo_t si;
	arch_regs r;
	if (ptrace(PTRACE_GETSIGINFO, c->tid, 0, &si) != 0 || arch_getregs(c->tid, &r) != 0)
		return fail(err, n, -errno, "PTRACE_GETSIGINFO", c);
	(void)u;
	if (si.si_code > 0 && (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP)) {
		snprintf(err, n, "golat's call on thread %d of pid %d faulted (signal %d at pc 0x%llx, "
			 "address 0x%llx): the thread was put back as it was", (int)c->tid, (int)c->t->pid,
			 sig, (unsigned long long)ARCH_REGS_PC(r), (unsigned long long)(uintptr_t)si.si_addr);
		return -EFAULT;
	}
	if (c->nq < INJ_QUEUE)
		c->queue[c->nq++] = si;
	return 0;
}

/* Whether the thread stopped at the entry of Go's rt_sigreturn with RSP at sp: on its way home. */
static bool at_sigreturn(struct inj_call *c, uint64_t sp)
{
	arch_regs r;
	return arch_getregs(c->tid, &r) == 0 && ARCH_REGS_SYSNO(r) == SYS_rt_sigreturn &&
	       ARCH_REGS_PC(r) == c->t->sigret_pc + ARCH_SEQ_GO_SIGRETURN_LEN && ARCH_REGS_SP(r) == sp;
}

/* Resumes the thread with req until the stop u waits for (UNTIL_SIGRETURN: the entry
 * of rt_sigreturn with RSP at sp). 0, or -errno with err set (-ESRCH: the process
 * exited; -ETIMEDOUT: the thread is running still). */
static int resume_until(struct inj_call *c, int req, enum until u, uint64_t sp, int ms, char *err, size_t n)
{
	uint64_t until = inject_now_ns() + (uint64_t)ms * 1000000u;
	for (;;) {
		if (ptrace(req, c->tid, 0, 0) != 0)
			return fail(err, n, -errno, "resuming", c);
		int st;
		uint64_t now = inject_now_ns();
		pid_t k = inject_wait(c->tid, &st, now < until ? (int)((until - now) / 1000000u) + 1 : 1);
		if (k == 0) {
			snprintf(err, n, "golat's call on thread %d of pid %d took more than %d ms", (int)c->tid,
				 (int)c->t->pid, ms);
			return -ETIMEDOUT;
		}
		if (k < 0 || WIFEXITED(st) || WIFSIGNALED(st)) {
			c->dead = true;
			snprintf(err, n, "pid %d exited during the injection", (int)c->t->pid);
			return -ESRCH;
		}
		inject_die_point();
		int event = st >> 16, sig = WSTOPSIG(st);
		if (sig == (SIGTRAP | 0x80)) {
			if (u == UNTIL_SYSCALL || at_sigreturn(c, sp))
				return 0;
			continue;
		}
		if (event == PTRACE_EVENT_STOP) {
			c->group_stop |= sig != SIGTRAP; /* PTRACE_DETACH puts it back in the stop */
			continue;
		}
		if (event)
			continue;
		int rc = on_signal(c, sig, u, err, n);
		if (rc)
			return rc < 0 ? rc : 0;
	}
}

int inject_syscall(struct inj_call *c, long nr, const uint64_t a[6], uint64_t *ret, char *err, size_t n)
{
	int rc = park(c, err, n);
	if (rc)
		return rc;
	arch_regs r = c->regs;
	ARCH_REGS_PC(r) = c->t->sys_pc; /* `syscall; ret`, the ret onto the frame home */
	ARCH_REGS_SP(r) = c->park_sp;
	arch_regs_syscall(&r, nr, a); /* no restart of the call the thread was in, on golat's pc */
	if (arch_setregs(c->tid, &r) != 0)
		return fail(err, n, -errno, "PTRACE_SETREGS", c);
	inject_die_point();
	/* Two syscall stops: its entry, then its exit, where RAX is the result. */
	rc = resume_until(c, PTRACE_SYSCALL, UNTIL_SYSCALL, 0, 5000, err, n);
	if (rc == 0)
		rc = resume_until(c, PTRACE_SYSCALL, UNTIL_SYSCALL, 0, 5000, err, n);
	if (rc == 0 && arch_getregs(c->tid, &r) != 0)
		rc = fail(err, n, -errno, "PTRACE_GETREGS", c);
	if (rc == 0)
		*ret = ARCH_REGS_RET(r);
	return rc;
}

/* A call still running when its time is up: stop the thread where it is (the state is
 * put back all the same; what the call did so far stays done). */
static void interrupt(struct inj_call *c)
{
	int st;
	ptrace(PTRACE_INTERRUPT, c->tid, 0, 0);
	while (inject_wait(c->tid, &st, 1000) > 0 && WIFSTOPPED(st) && (st >> 16) != PTRACE_EVENT_STOP)
		ptrace(PTRACE_CONT, c->tid, 0, 0);
}

int inject_fn(struct inj_call *c, uint64_t fn, uint64_t a0, uint64_t a1, uint64_t stack_top,
	      int timeout_ms, uint64_t *ret, char *err, size_t n)
{
	int rc = park(c, err, n);
	if (rc)
		return rc;
	/* On golat's stack, from RSP up: the `mov %rax, K(%rsp); ret` the function returns
	 * to, Go's rt_sigreturn it returns to next, the frame home (its ucontext at sp + 16,
	 * where rt_sigreturn finds it: RSP - 8). RSP + 8 16-aligned, as after a call. */
	uint64_t sp = ((stack_top - inject_frame_size(c) - 16) & ~15ull) - 8;
	uint64_t words[2] = { c->t->retv_pc, c->t->sigret_pc };
	rc = inject_frame_write(c, &c->home, sp + 16);
	if (rc == 0)
		rc = inject_mem_write(c->t, sp, words, sizeof(words));
	if (rc)
		return fail(err, n, rc, "writing golat's stack", c);
	arch_regs r = c->regs;
	ARCH_REGS_PC(r) = fn;
	ARCH_REGS_SP(r) = sp;
	arch_regs_call(&r, a0, a1);
	if (arch_setregs(c->tid, &r) != 0)
		return fail(err, n, -errno, "PTRACE_SETREGS", c);
	inject_die_point();
	/* Every system call of the function stops (PTRACE_SYSCALL) until rt_sigreturn's
	 * entry on this frame: then the result is at sp + 8 + K, and the exit stop of
	 * rt_sigreturn finds the thread home. */
	rc = resume_until(c, PTRACE_SYSCALL, UNTIL_SIGRETURN, sp + 16, timeout_ms, err, n);
	if (rc == -ETIMEDOUT)
		interrupt(c);
	if (rc == 0 && (rc = inject_mem_read(c->t, sp + 8 + c->t->retv_k, ret, 8)) != 0)
		fail(err, n, rc, "reading the call's result", c);
	if (rc == 0 && (rc = resume_until(c, PTRACE_SYSCALL, UNTIL_SYSCALL, 0, 5000, err, n)) == 0)
		c->away = false;
	return rc;
}

int inject_call_sync(struct inj_call *c)
{
	if (c->dead || memcmp(&c->regs, &c->framed, sizeof(c->regs)) == 0)
		return 0;
	c->home = arch_regs_restart(c->regs);
	int rc = inject_frame_write(c, &c->home, c->park_sp + 8);
	if (rc == 0)
		c->framed = c->regs;
	return rc;
}

int inject_call_restore(struct inj_call *c, char *err, size_t n)
{
	if (c->dead)
		return 0;
	int rc = inject_call_sync(c);
	if (rc)
		fail(err, n, rc, "writing the thread's way home", c);
	if (c->away) {
		/* Home the way golat's death would take it: rt_sigreturn on the frame (its
		 * entry, then its exit stop). */
		arch_regs r = c->regs;
		ARCH_REGS_PC(r) = c->t->sigret_pc;
		ARCH_REGS_SP(r) = c->park_sp + 8;
		ARCH_REGS_SYSNO(r) = (uint64_t)-1;
		if (arch_setregs(c->tid, &r) != 0)
			rc = fail(err, n, -errno, "PTRACE_SETREGS", c);
		inject_die_point();
		if (rc == 0)
			rc = resume_until(c, PTRACE_SYSCALL, UNTIL_SIGRETURN, c->park_sp + 8, 5000, err, n);
		if (rc == 0)
			rc = resume_until(c, PTRACE_SYSCALL, UNTIL_SYSCALL, 0, 5000, err, n);
		if (rc == 0)
			c->away = false;
		if (rc == -ETIMEDOUT)
			interrupt(c);
	}
	if (c->away && !c->dead) { /* it did not get there: everything put back by hand */
		arch_regs r = c->home;
		struct iovec iov = { c->xstate, c->xlen };
		if (arch_setregs(c->tid, &r) != 0 ||
		    ptrace(PTRACE_SETREGSET, c->tid, NT_X86_XSTATE, &iov) != 0 ||
		    ptrace(PTRACE_SETSIGMASK, c->tid, sizeof(c->mask), &c->mask) != 0)
			rc = fail(err, n, -errno, "restoring the thread", c);
	}
	c->away = false;
	if (c->dead)
		return 0;
	/* What came meanwhile, sent again now that the thread is itself: delivered
	 * as soon as it runs (or later, if its own mask blocks it). */
	for (size_t i = 0; i < c->nq; i++)
		if (syscall(SYS_tgkill, c->t->pid, c->tid, c->queue[i].si_signo) == 0)
			c->passed++;
	c->nq = 0;
	return rc;
}

int inject_call_end(struct inj_call *c, char *err, size_t n)
{
	if (c->dead)
		return 0;
	int rc = inject_call_restore(c, err, n);
	if (ptrace(PTRACE_DETACH, c->tid, 0, 0) != 0 && rc == 0)
		rc = fail(err, n, -errno, "PTRACE_DETACH", c);
	return rc;
}
