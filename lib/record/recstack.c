/* recstack: each thread's recorder stack (and, in the agent, its block), mapped on the
 * thread's first recorded call. Called by golat_tramp_common (tramp.S) on the
 * bootstrap stack, with only the registers C may clobber saved: general registers
 * only (-mgeneral-regs-only), system calls only (sys.h). */
#include "arch.h"
#include "recthread.h"
#include "sys.h"
#include "tramp.h"

#ifdef GOLAT_AGENT
/* One mapping: a guard page, the stack, then the block (struct tramp_thread, zero as
 * a new anonymous page is), whose address is the stack's top, and at the end of the
 * block's page its link (struct block_link). The block goes to fs:0 (m.tls[1]:
 * tramp.h), which golat_tramp_common set to golat_tramp_nobody meanwhile; 0 when no
 * memory, so that the next call tries again.
 *
 * The agent has no thread-exit hook (recthread.h), but the kernel has one: the word a
 * thread named with set_tid_address(2) is set to 0 when the thread exits, after its
 * last instruction in user space (kernel/fork.c, mm_release; Go's clone does not ask
 * for it, runtime/os_linux.go cloneFlags, and never names a word itself). So each
 * block's link holds its thread's id in that word, and a thread's first recorded
 * call takes the block of one that ended, once what that one held has gone back
 * (rec_thread_gone): blocks, stacks and cell pages stay as many as the threads that
 * ever ran at once, not that ran in all. Go exits a thread for each goroutine that
 * ends locked to it (runtime/proc.go, goexit0 -> mexit). */
#define BLOCK 4096
struct block_link {
	struct block_link *next; /* the block made before this one */
	uint32_t live;           /* its thread's id; 0 once it has exited (the kernel's store) */
};
#define LINK(m) ((struct block_link *)((char *)(m) + BLOCK - sizeof(struct block_link)))
_Static_assert(sizeof(struct tramp_thread) <= BLOCK - sizeof(struct block_link), "block");

/* Every block made, newest first. Only tramp_stack_map reads or writes it, under the
 * bootstrap stack's lock (tramp.S); the kernel writes the live words. */
static struct block_link *blocks;

/* A block whose thread has exited, given back and zeroed, or NULL. */
static struct tramp_thread *block_reuse(void)
{
	for (struct block_link *l = blocks; l; l = l->next) {
		if (__atomic_load_n(&l->live, __ATOMIC_ACQUIRE) != 0)
			continue;
		struct tramp_thread *m = (struct tramp_thread *)((char *)l + sizeof(struct block_link) - BLOCK);
		rec_thread_gone(m);
		*m = (struct tramp_thread){ .stack_top = (uint64_t)(uintptr_t)m };
		return m;
	}
	return 0;
}

static struct tramp_thread *block_map(void)
{
	uint64_t len = TRAMP_GUARD + TRAMP_STACK + BLOCK;
	long p = sys_mmap(0, len, SYS_PROT_NONE, SYS_MAP_PRIVATE | SYS_MAP_ANONYMOUS, -1, 0);
	if (sys_failed(p))
		return 0;
	if (sys_mprotect((char *)p + TRAMP_GUARD, TRAMP_STACK + BLOCK, SYS_PROT_READ | SYS_PROT_WRITE) != 0) {
		sys_munmap((void *)p, len);
		return 0;
	}
	struct tramp_thread *m = (struct tramp_thread *)((char *)p + TRAMP_GUARD + TRAMP_STACK);
	m->stack_top = (uint64_t)(uintptr_t)m;
	LINK(m)->next = blocks;
	blocks = LINK(m);
	return m;
}

void tramp_stack_map(void)
{
	struct tramp_thread *m = block_reuse();
	if (!m)
		m = block_map();
	if (m) {
		/* Its id first, then named: from here a 0 can only be the kernel's. */
		LINK(m)->live = (uint32_t)sys_gettid();
		sys_set_tid_address(&LINK(m)->live);
	}
	arch_agent_set_block(m);
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
