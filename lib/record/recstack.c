/* recstack: each thread's recorder stack (and, in the agent, its block), mapped on the
 * thread's first recorded call. Called by golat_tramp_common (tramp.S) on the
 * bootstrap stack, with only the registers C may clobber saved: general registers
 * only (-mgeneral-regs-only), system calls only (sys.h). */
#include "recthread.h"
#include "sys.h"
#include "tramp.h"

#ifdef GOLAT_AGENT
/* One mapping: a guard page, the stack, then the block (struct tramp_thread, zero as
 * a new anonymous page is), whose address is the stack's top. The block goes to fs:0
 * (m.tls[1]: tramp.h), which golat_tramp_common set to golat_tramp_nobody meanwhile;
 * 0 when no memory, so that the next call tries again. */
#define BLOCK 4096
_Static_assert(sizeof(struct tramp_thread) <= BLOCK, "block");

void tramp_stack_map(void)
{
	uint64_t len = TRAMP_GUARD + TRAMP_STACK + BLOCK;
	long p = sys_mmap(0, len, SYS_PROT_NONE, SYS_MAP_PRIVATE | SYS_MAP_ANONYMOUS, -1, 0);
	struct tramp_thread *m = 0;
	if (!sys_failed(p)) {
		if (sys_mprotect((char *)p + TRAMP_GUARD, TRAMP_STACK + BLOCK, SYS_PROT_READ | SYS_PROT_WRITE) == 0) {
			m = (struct tramp_thread *)((char *)p + TRAMP_GUARD + TRAMP_STACK);
			m->stack_top = (uint64_t)(uintptr_t)m;
		} else {
			sys_munmap((void *)p, len);
		}
	}
	__asm__ volatile("movq %0, %%fs:0" : : "r"(m) : "memory");
}
#else
/* The stack alone (the block is tramp_tls), a guard page below it: an overflow faults
 * instead of writing over a neighbour. recthread.c gives it back. */
void tramp_stack_map(void)
{
	struct tramp_thread *m = tramp_self();
	long p = sys_mmap(0, TRAMP_STACK + TRAMP_GUARD, SYS_PROT_NONE, SYS_MAP_PRIVATE | SYS_MAP_ANONYMOUS, -1, 0);
	if (sys_failed(p))
		return;
	if (sys_mprotect((char *)p + TRAMP_GUARD, TRAMP_STACK, SYS_PROT_READ | SYS_PROT_WRITE) != 0) {
		sys_munmap((void *)p, TRAMP_STACK + TRAMP_GUARD);
		return;
	}
	m->stack_top = (uint64_t)p + TRAMP_GUARD + TRAMP_STACK;
	rec_thread_watch(m);
}
#endif
