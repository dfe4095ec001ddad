/* inject_frame: the way home of a thread golat runs calls on, written into the target
 * before golat points the thread anywhere, so that the thread gets home whether or not
 * golat is still there to bring it.
 *
 * The way home is the kernel's own: rt_sigreturn, the system call that ends a signal
 * handler, loads every general register, the x87/SSE/AVX state and the signal mask from
 * a frame in user memory (arch/x86/kernel/signal_64.c, rt_sigreturn; struct rt_sigframe
 * in arch/x86/include/asm/sigframe.h), at once. golat writes such a frame, holding the
 * thread's own registers (an interrupted system call set to run again), its own vector
 * state and its own mask, and every place it points the thread at returns into Go's
 * `mov $15, %rax; syscall` (runtime.sigreturn__sigaction, runtime.sigreturn before
 * go1.21) with RSP just above the frame's first word:
 *
 *   a system call: RIP at a `syscall; ret` of the Go text (runtime.osyield's end), RSP
 *     at the frame, whose first word is the address of Go's sigreturn: the call's `ret`
 *     lands there;
 *   a function (dlopen, the agent's entry): on golat's own stack, RSP at a copy of the
 *     frame whose first word is a `mov %rax, K(%rsp); ret` of the Go text and whose
 *     second is Go's sigreturn: the function's return value lands in a word of the
 *     frame whose value does not matter to rt_sigreturn, where golat reads it: uc_link
 *     and uc_stack's sp and size (see uc_stack below), or uc_flags (K = 8, the only K
 *     in a small program's text: go1.19 to go1.27), whose one bit rt_sigreturn reads,
 *     UC_STRICT_RESTORE_SS, only decides whether a bad SS is fixed up, and the SS in
 *     the frame is the thread's own, a good one.
 *
 * Nothing on either way traps: with golat gone (SIGKILL; the kernel detaches its
 * tracees, which run on from their last registers) the thread runs the system call or
 * the function to its end and is home. golat, alive, sees the end as a ptrace stop it
 * asks for anyway (the syscall-exit stop of its system call; the syscall-entry stop of
 * rt_sigreturn), never as a signal.
 *
 * Where the frame lives. The first system call (mmap of golat's stack) needs memory
 * before golat has any: the frame goes below the thread's SP on the stack of the g it
 * runs (g0 in a futex wait, a goroutine, gsignal in a handler), where nothing of the
 * thread's lies (Go has no red zone; golat leaves 256 bytes for C's), when the stack
 * has room down to its stack.lo; else, for a goroutine, below g0.sched.sp, the part of
 * the thread's system stack that systemstack and mcall would use next. g is found from
 * FS (linux/amd64: -8(FS) without cgo; a slot of the executable's TLS block with cgo)
 * and believed only when g.m.g0.m is g.m and SP lies in the stack found.
 *
 * uc_stack: rt_sigreturn calls sigaltstack with it; its ss_flags 3 (SS_ONSTACK |
 * SS_DISABLE) is a mode the kernel refuses (EINVAL, which rt_sigreturn ignores), so the
 * thread's own alternate stack (Go's gsignal) stays as it is. */
#define _GNU_SOURCE
#include "inject_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Go's g and m (src/runtime/runtime2.go), the same from go1.5 to go1.27: g.stack
 * {lo, hi} at 0, g.m at 48, g.sched.sp at 56; m.g0 at 0. */
enum { G_STACK_LO = 0, G_STACK_HI = 8, G_M = 48, G_SCHED_SP = 56, M_G0 = 0 };

/* struct ucontext (arch/x86/include/uapi/asm/ucontext.h) as 38 words: flags, link,
 * uc_stack {sp, flags, size}, struct sigcontext (r8 .. r15, rdi, rsi, rbp, rbx, rdx,
 * rax, rcx, rsp, rip, eflags, cs|gs|fs|ss, err, trapno, oldmask, cr2, fpstate,
 * reserved[8]), uc_sigmask. */
enum { UC_FLAGS = 0, UC_SS_FLAGS = 3, UC_R8 = 5, UC_RIP = 21, UC_EFLAGS = 22, UC_SEGS = 23, UC_OLDMASK = 26,
       UC_FPSTATE = 28, UC_SIGMASK = 37, UC_WORDS = 38 };
#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
#define SW_BYTES 464 /* struct _fpx_sw_bytes in the XSAVE area: magic1, extended_size, xfeatures, xstate_size */

static uint64_t rd(const struct inj_target *t, uint64_t addr, bool *ok)
{
	uint64_t v = 0;
	if (!addr || inject_mem_read(t, addr, &v, 8) != 0)
		*ok = false;
	return v;
}

/* The bytes the XSAVE area of the frame takes (its xstate_size, then MAGIC2). */
static size_t fp_bytes(const struct inj_call *c)
{
	uint32_t magic, size;
	memcpy(&magic, c->xstate + SW_BYTES, 4);
	memcpy(&size, c->xstate + SW_BYTES + 16, 4);
	return magic == FP_XSTATE_MAGIC1 && size <= c->xlen ? size : c->xlen;
}

size_t inject_frame_size(const struct inj_call *c)
{
	return 16 + UC_WORDS * 8 + 64 + fp_bytes(c) + 4;
}

int inject_frame_write(const struct inj_call *c, const arch_regs *home, uint64_t uc)
{
	uint64_t w[UC_WORDS] = { 0 }, fp = (uc + UC_WORDS * 8 + 63) & ~63ull;
	const uint64_t gr[] = { home->r8,  home->r9,  home->r10, home->r11, home->r12, home->r13,
				home->r14, home->r15, home->rdi, home->rsi, home->rbp, home->rbx,
				home->rdx, home->rax, home->rcx, home->rsp, home->rip };
	w[UC_FLAGS] = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	w[UC_SS_FLAGS] = 3; /* a mode sigaltstack refuses: the thread's own stays */
	memcpy(&w[UC_R8], gr, sizeof(gr));
	w[UC_EFLAGS] = home->eflags;
	w[UC_SEGS] = (home->cs & 0xffff) | (home->gs & 0xffff) << 16 | (home->fs & 0xffff) << 32 |
		     (home->ss & 0xffff) << 48;
	w[UC_OLDMASK] = c->mask;
	w[UC_FPSTATE] = fp;
	w[UC_SIGMASK] = c->mask;
	size_t fpn = fp_bytes(c);
	uint32_t magic2 = FP_XSTATE_MAGIC2;
	int rc = inject_mem_write(c->t, uc, w, sizeof(w));
	if (rc == 0)
		rc = inject_mem_write(c->t, fp, c->xstate, fpn);
	if (rc == 0)
		rc = inject_mem_write(c->t, fp + fpn, &magic2, 4);
	return rc;
}

/* The g of the stopped thread (its TLS slot found and checked), or 0. */
static uint64_t thread_g(const struct inj_call *c, uint64_t *g0)
{
	uint64_t fs = ARCH_REGS_TP(c->regs);
	for (uint64_t off = 8; fs && off <= 512; off += 8) {
		bool ok = true;
		uint64_t g = rd(c->t, fs - off, &ok), m = rd(c->t, g + G_M, &ok);
		uint64_t z = rd(c->t, m + M_G0, &ok), zm = rd(c->t, z + G_M, &ok);
		uint64_t lo = rd(c->t, g + G_STACK_LO, &ok), hi = rd(c->t, g + G_STACK_HI, &ok);
		if (ok && zm == m && lo < hi && ARCH_REGS_SP(c->regs) > lo && ARCH_REGS_SP(c->regs) <= hi) {
			*g0 = z;
			return g;
		}
	}
	return 0;
}

int inject_frame_home(struct inj_call *c, char *err, size_t n)
{
	size_t need = inject_frame_size(c) + 256;
	uint64_t g0 = 0, g = thread_g(c, &g0), sp = ARCH_REGS_SP(c->regs), lo = 0, top = 0;
	bool ok = g != 0;
	if (ok) {
		lo = rd(c->t, g + G_STACK_LO, &ok);
		top = sp - 256;
	}
	if (ok && top - need < lo + 1024 && g != g0) { /* a goroutine short of room: its thread's g0 */
		lo = rd(c->t, g0 + G_STACK_LO, &ok);
		top = rd(c->t, g0 + G_SCHED_SP, &ok) - 256;
	}
	if (!ok || top < lo + 1024 + need) {
		snprintf(err, n, "thread %d of pid %d is on no Go stack with %zu bytes free below it: try again",
			 (int)c->tid, (int)c->t->pid, need);
		return -EAGAIN;
	}
	/* The frame's first word at F, the ucontext at F + 8: RSP = F for a system call
	 * (its `ret` pops the first word), F + 8 once home is the next step. */
	uint64_t f = ((top - inject_frame_size(c)) & ~15ull) - 8;
	int rc = inject_frame_write(c, &c->home, f + 8);
	if (rc == 0)
		rc = inject_mem_write(c->t, f, &c->t->sigret_pc, 8);
	if (rc)
		return snprintf(err, n, "writing thread %d's way home: %s", (int)c->tid, strerror(-rc)), rc;
	c->park_sp = f;
	return 0;
}
